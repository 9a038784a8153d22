"""Timing helpers shared by the benchmarks (bench/ is on sys.path when they run)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any


def best_cpu(fn: Callable[[], object], reps: int) -> float:
    """The least CPU time of this process over ``reps`` calls of ``fn``. Items per
    CPU-second is the rate per core, and stays meaningful on a machine shared with
    other jobs (wall time there is not)."""
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def hist_quantile(hist: Any, q: float) -> float:
    """Upper bound of the bucket holding quantile ``q`` of a prometheus Histogram."""
    samples = [s for m in hist.collect() for s in m.samples if s.name.endswith("_bucket")]
    total = samples[-1].value
    if not total:
        return math.nan
    for s in samples:
        if s.value >= q * total:
            return float(s.labels["le"])
    return math.inf


def warm_kernels() -> None:
    """Compile the tracker's numba kernels (track/kernels.py) into their cache before
    anything is timed: the first run after an install or an edit compiles them (seconds),
    later processes load them. A tiny scenario is tracked in a child process for it."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        out = Path(tmp)
        for args in (["sim", "scale", "--targets", "20", "--duration", "30", "-o", tmp],
                     ["track", str(out / "detections.jsonl"), "--sensors",
                      str(out / "sensors.toml"), "-o", str(out / "tracks.jsonl"),
                      "--no-progress"]):
            subprocess.run([sys.executable, "-m", "skywarden.cli", *args], check=True,
                           capture_output=True)
