"""Benchmark: the tracker, file to file, on simulator output, with its score.

    python bench/bench_track.py [--quick]

For each case: simulate (not timed), then time `skywarden track` as a whole command
(reading detections, tracking, writing tracks) and score the result against the truth.
This is the tracker's own measurement; the comparison with Stone Soup and the oracle
bound belongs to the tracker benchmark of bench/ still to come.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODE = (
    "import resource, sys; from skywarden.cli import main; rc = main(sys.argv[1:]); "
    "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(rc)"
)


def _cli(*args: str) -> tuple[float, str, float]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - began
    peak = int(done.stderr.rsplit("PEAK", 1)[1].split()[0]) / 1024.0
    return wall, done.stdout, peak


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))


def run(quick: bool = False) -> str:
    cases = (
        [["scale", "--targets", "200", "--duration", "120"]]
        if quick
        else [
            ["scale", "--targets", "200", "--duration", "300"],
            ["scale", "--targets", "2000", "--duration", "120"],
            ["scale", "--targets", "10000", "--duration", "120"],
            ["poland-2025-09"],
        ]
    )
    rows = []
    for case in cases:
        out = Path(tempfile.mkdtemp(prefix="bench-track-"))
        try:
            _cli("sim", *case, "-o", str(out))
            dets = _lines(out / "detections.jsonl")
            wall, _, peak = _cli("track", str(out / "detections.jsonl"), "--sensors",
                                 str(out / "sensors.toml"), "-o", str(out / "tracks.jsonl"),
                                 "--no-progress")
            _, text, _ = _cli("score", str(out / "truth.jsonl"), str(out / "tracks.jsonl"),
                              "--json")
            s = json.loads(text)
            rows.append(
                f"| `{' '.join(case)}` | {dets:,} | {wall:.1f} | {dets / wall:,.0f} | {peak:,.0f} "
                f"| {s['gospa_mean']:,.0f} | {100 * s['missed_target_rate']:.1f} % "
                f"| {s['false_tracks_per_hour']:.1f} | {s['id_switches']} "
                f"| {100 * s['coverage_observable']:.1f} % |"
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return (
        "## Tracker (file to file)\n\n"
        "Each row: `skywarden sim CASE -o DIR` (not timed), then `skywarden track "
        "DIR/detections.jsonl --sensors DIR/sensors.toml -o DIR/tracks.jsonl` timed as a whole "
        "command (one run), then `skywarden score` with c = 1000 m, p = 2, alpha = 2 on "
        "confirmed and coasting tracks. Rerun: `python bench/run_all.py --only bench_track`.\n\n"
        "| scenario | detections | wall s | detections/s | peak RSS MiB | GOSPA mean m | "
        "missed | false tracks/h | id switches | coverage of observable |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Not yet at the tracker issue's floors (200,000 detections/s at 10,000 targets; "
        "drones confirmed within two scans): the cost is dominated by fixed per-window numpy "
        "overhead, not by the number of detections."
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
