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


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            n += chunk.count(b"\n")
    return n


if __name__ == "__main__":
    raise SystemExit(main())
