"""The start-up warm-up reaches every compiled kernel the tracker calls."""

import re
import subprocess
import sys
from pathlib import Path

import skywarden.track

TRACK = Path(skywarden.track.__file__).parent


def test_warm_up_compiles_every_kernel_the_tracker_calls():
    # Every ``kernels.NAME(`` / ``lsap.NAME(`` called from the tracker's Python modules,
    # checked in a fresh process (signatures persist in the process that compiled them).
    called = set()
    for path in TRACK.glob("*.py"):
        if path.name in ("kernels.py", "lsap.py"):
            continue
        called |= set(re.findall(r"\b((?:kernels|lsap)\.[a-z]\w*)\(", path.read_text()))
    assert {"kernels.predict", "kernels.ball_pairs", "lsap.gnn"} <= called
    code = (
        "from skywarden.track import kernels, lsap\n"
        "from skywarden.track.warm import warm_kernels\n"
        "warm_kernels()\n"
        f"for name in {sorted(called)!r}:\n"
        "    mod, fn = name.split('.')\n"
        "    print(name, len(getattr({'kernels': kernels, 'lsap': lsap}[mod], fn).signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    counts = dict(line.split() for line in out if line)
    assert set(counts) == called
    assert all(int(n) >= 1 for n in counts.values()), counts
