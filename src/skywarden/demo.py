"""`skywarden demo`: the whole chain on one scenario, sim -> track -> score.

It is the first thing a newcomer runs, so it prints what happened in operator's words:
what was simulated, what the sensors reported, what the tracker made of it and how close
that is to the truth.
"""

from __future__ import annotations

import time
from pathlib import Path


def run_demo(scenario_name: str, out: Path, *, seed: int | None = None, plot: bool = False) -> int:
    from .score import score_files
    from .sim.runner import run_scenario
    from .sim.scenario import load_scenario
    from .track.run import track_file

    out = Path(out)
    scenario = load_scenario(scenario_name)
    print(f"== Scenario {scenario.name}: {scenario.title}")
    t0 = time.perf_counter()
    sim = run_scenario(scenario, out, seed=seed)
    print(sim)
    print(f"   simulated in {time.perf_counter() - t0:.1f} s -> {out}/")

    print("\n== Tracking")
    t0 = time.perf_counter()
    summary = track_file(out / "detections.jsonl", out / "sensors.toml", out / "tracks.jsonl")
    print(summary)
    print(f"   tracked in {time.perf_counter() - t0:.1f} s -> {out}/tracks.jsonl")

    print("\n== Score against the truth")
    report = score_files(out / "truth.jsonl", out / "tracks.jsonl")
    print(report.table())
    if plot:
        from .plot import plot as draw

        draw(out / "truth.jsonl", out / "tracks.jsonl", out / "tracks.png")
        print(f"\nplot: {out}/tracks.png")
    return 0
