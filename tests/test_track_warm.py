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
    # The kernels of filter.update, filter.innovate and measure.innovation run inside
    # kernels.update_rounds and kernels.gate_pairs in the tracker; only the oracle calls
    # them from Python.
    called -= {"kernels.update", "kernels.innovation_stats", "kernels.innovation"}
    counts = signatures_after("from skywarden.track.warm import warm_kernels; warm_kernels()",
                              called, "skywarden.track")
    assert set(counts) == called
    assert all(n >= 1 for n in counts.values()), counts


def test_warm_up_compiles_the_kernels_of_measurements_table_and_output():
    # Kernels defined in the modules that use them (not called as kernels.NAME).
    local = {"measure.congruence", "measure._average_copies", "output._enu_columns",
             "output._distinct_sensors", "table._fresh_rows", "table._marked",
             "tracker._first_report_times"}
    counts = signatures_after("from skywarden.track.warm import warm_kernels; warm_kernels()",
                              local, "skywarden.track")
    assert set(counts) == local
    assert all(n >= 1 for n in counts.values()), counts


def signatures_after(setup: str, kernels: set[str], package: str) -> dict[str, int]:
    """Run ``setup`` in a fresh process (signatures persist in the process that compiled
    them), then count the compiled signatures of each ``module.function`` of
    ``package`` in ``kernels``."""
    code = (
        f"import importlib\n{setup}\n"
        f"for name in {sorted(kernels)!r}:\n"
        "    mod, fn = name.split('.')\n"
        f"    f = getattr(importlib.import_module('{package}.' + mod), fn)\n"
        "    print(name, len(f.signatures))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    return {name: int(n) for name, n in (line.split() for line in out if line)}
