"""`skywarden demo`: the whole chain on one scenario, sim -> track -> assess -> warn -> score.

It is the first thing a newcomer runs, so it prints what happened in operator's words:
what was simulated, what the sensors reported, what the tracker made of it, which alerts
the nations received and when, and how close all that is to the truth.
"""

from __future__ import annotations

import time
from pathlib import Path


def run_demo(scenario_name: str, out: Path, *, seed: int | None = None, plot: bool = False) -> int:
    from .ingest.jsonl import stderr_report
    from .pipeline import Pipeline, default_engine
    from .replay import replay
    from .score import score_files
    from .score.warnings import score_warnings
    from .sensors import SensorRegistry
    from .sim.runner import run_scenario
    from .sim.scenario import load_scenario

    out = Path(out)
    scenario = load_scenario(scenario_name)
    print(f"== Scenario {scenario.name}: {scenario.title}")
    t0 = time.perf_counter()
    # Labels (which target each detection came from) let the scores say when each
    # threat was first seen; the tracker never reads them.
    sim = run_scenario(scenario, out, seed=seed, labels=True)
    print(sim)
    print(f"   simulated in {time.perf_counter() - t0:.1f} s -> {out}/")

    print("\n== Tracking, assessment and warning (replay of the sensor reports)")
    t0 = time.perf_counter()
    engine = default_engine(cap_status="Exercise", audit_path=str(out / "audit.jsonl"))
    pipeline = Pipeline(SensorRegistry.load(out / "sensors.toml"), engine=engine)
    (out / "audit.jsonl").unlink(missing_ok=True)
    summary = replay(
        out / "detections.jsonl", out / "sensors.toml", pipeline=pipeline,
        alerts_out=out / "alerts.jsonl", tracks_out=out / "tracks.jsonl",
        cap_dir=out / "cap", report=stderr_report,
    )  # fmt: skip
    print(summary)
    print(f"   done in {time.perf_counter() - t0:.1f} s -> {out}/tracks.jsonl, alerts.jsonl, "
          "cap/, audit.jsonl")

    print("\n== Alert timeline: alerts that reached level 2 (warning) or higher")
    print("   (every event is in alerts.jsonl; `skywarden replay` prints them all)")
    print(summary.timeline(limit=80, min_level=2, kinds=("predicted_entry", "incursion",
                                                         "restriction_violation")))

    print("\n== Tracks against the truth")
    report = score_files(out / "truth.jsonl", out / "tracks.jsonl")
    print(report.table())

    print("\n== Warnings against the truth")
    warn = score_warnings(out / "truth.jsonl", out / "alerts.jsonl", out / "detections.jsonl",
                          tracks_path=out / "tracks.jsonl")
    print(warn.table())
    if plot:
        from .plot import plot as draw

        draw(out / "truth.jsonl", out / "tracks.jsonl", out / "tracks.png")
        print(f"\nplot: {out}/tracks.png")
    return 0
