"""Benchmark: the simulator's scale floor.

    python bench/bench_sim.py                       # scale, 10,000 targets, 600 s
    python bench/bench_sim.py --targets 30000 --duration 120
    python bench/bench_sim.py --cli                 # time `skywarden sim scale ...` instead

Floor (issue): ``skywarden sim scale --targets 10000 --duration 600 -o out`` finishes in
under 60 s on a 2-core machine, files written. The run happens in a child process, so the
wall time includes start-up and imports, and the peak RSS is the run's alone. Prints wall
time, lines and bytes written, throughput and peak RSS; ``--json`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR_S = 60.0


def child(args: argparse.Namespace) -> None:
    """Run the scenario in this process and print its summary as JSON."""
    from skywarden.sim import load_scenario, run_scenario

    scenario = load_scenario(
        "scale", targets=args.targets, duration=args.duration, sensors=args.sensors
    )
    s = run_scenario(scenario, args.out, seed=args.seed)
    print(
        json.dumps(
            {
                "truth_lines": s.truth_lines,
                "detections": s.detections,
                "by_type": s.detections_by_type,
                "run_s": s.wall_seconds,
            }
        )
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", type=int, default=10000)
    p.add_argument("--duration", type=float, default=600.0)
    p.add_argument("--sensors", type=int, default=None, help="radars (default: scale.toml)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=None, help="output folder (default: a temporary one)")
    p.add_argument("--cli", action="store_true", help="run `skywarden sim` as a command")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return 0
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-sim-"))
    if args.cli:
        cmd = [
            "skywarden",
            "sim",
            "scale",
            "--targets",
            str(args.targets),
            "--duration",
            str(args.duration),
            "--seed",
            str(args.seed),
            "-o",
            str(out),
        ]
        if args.sensors is not None:
            cmd += ["--sensors", str(args.sensors)]
    else:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--targets",
            str(args.targets),
            "--duration",
            str(args.duration),
            "--seed",
            str(args.seed),
            "--out",
            str(out),
        ]
        if args.sensors is not None:
            cmd += ["--sensors", str(args.sensors)]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    sizes = {f.name: f.stat().st_size for f in out.iterdir() if f.is_file()}
    lines = {name: _count_lines(out / name) for name in ("truth.jsonl", "detections.jsonl")}
    if not args.out:
        shutil.rmtree(out)
    result = {
        "command": f"scale --targets {args.targets} --duration {args.duration:g} --seed {args.seed}"
        + (f" --sensors {args.sensors}" if args.sensors is not None else ""),
        "via": "cli" if args.cli else "run_scenario in a child process",
        "wall_s": round(wall, 2),
        "truth_lines": lines["truth.jsonl"],
        "detection_lines": lines["detections.jsonl"],
        "bytes": sum(sizes.values()),
        "lines_per_s": round(sum(lines.values()) / wall),
        "peak_rss_mib": round(peak_mib),
        "cpus": os.cpu_count(),
        "floor_s": FLOOR_S,
        "passes": wall < FLOOR_S,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"skywarden sim {result['command']}")
        print(
            f"  wall time     {result['wall_s']:.2f} s (floor {FLOOR_S:g} s: "
            f"{'PASS' if result['passes'] else 'FAIL'}), {result['cpus']} CPUs"
        )
        print(f"  truth lines   {result['truth_lines']:,}")
        print(f"  detections    {result['detection_lines']:,}")
        print(f"  bytes written {result['bytes'] / 2**20:,.0f} MiB")
        print(f"  throughput    {result['lines_per_s']:,} lines/s")
        print(f"  peak RSS      {result['peak_rss_mib']:,} MiB")
    return 0 if result["passes"] else 1


def _time_cli(args: list[str]) -> tuple[float, int, int, float]:
    """Run ``skywarden sim ARGS -o TMP``; return wall s, truth lines, detection lines, peak MiB."""
    out = Path(tempfile.mkdtemp(prefix="bench-sim-"))
    try:
        # The child reports its own peak RSS: RUSAGE_CHILDREN would give the largest so far.
        code = (
            "import resource, sys; from skywarden.cli import main; rc = main(sys.argv[1:]); "
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
            "sys.exit(rc)"
        )
        cmd = [sys.executable, "-c", code, "sim", *args, "-o", str(out)]
        began = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - began
        peak = int(done.stderr.rsplit("PEAK", 1)[1].split()[0]) / 1024.0
        return (wall, _count_lines(out / "truth.jsonl"), _count_lines(out / "detections.jsonl"),
                peak)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run(quick: bool = False) -> str:
    """Markdown section for docs/PERFORMANCE.md (bench/run_all.py)."""
    import statistics

    cases = (
        [["scale", "--targets", "1000", "--duration", "120"]]
        if quick
        else [
            ["scale", "--targets", "10000", "--duration", "600"],
            ["scale", "--targets", "30000", "--duration", "120"],
            ["poland-2025-09"],
            ["mass-attack"],
        ]
    )
    repeats = 1 if quick else 3
    rows = []
    for case in cases:
        runs = [_time_cli(case) for _ in range(repeats if case[0] == "scale" else 1)]
        walls = [r[0] for r in runs]
        _, truth, dets, _ = runs[0]
        peak = max(r[3] for r in runs)
        rows.append(
            f"| `skywarden sim {' '.join(case)}` | {statistics.median(walls):.1f} "
            f"({min(walls):.1f}-{max(walls):.1f}, n={len(walls)}) | {truth:,} | {dets:,} "
            f"| {(truth + dets) / statistics.median(walls):,.0f} | {peak:,.0f} |"
        )
    return (
        "## Simulator\n\n"
        "Floor: `skywarden sim scale --targets 10000 --duration 600 -o out` in under "
        f"{FLOOR_S:g} s on a 2-core machine, files written. Each row is the whole command "
        "(start-up, simulation, writing truth.jsonl, detections.jsonl and sensors.toml); "
        "wall time is the median of the runs, peak RSS the largest seen. "
        "Rerun: `python bench/run_all.py --only bench_sim` or `python bench/bench_sim.py`.\n\n"
        "| command | wall s (min-max, runs) | truth lines | detection lines | lines/s | "
        "peak RSS MiB |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            n += chunk.count(b"\n")
    return n


if __name__ == "__main__":
    raise SystemExit(main())
