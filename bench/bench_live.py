"""Benchmark: the live runtime alone (no HTTP), detection ingest to track row on the bus.

    python bench/bench_live.py [--rate 5000] [--seconds 30] [--targets 1000]
                               [--lag 0.05] [--tick 0.05]

What runs: a :class:`skywarden.live.Runtime` on the wall clock with its threads (tracking
tick, warning cycle, store writer) in a temporary data directory, four Polish ADS-B
receivers in the registry. A feeder thread ingests ``--rate`` detections a second, one
batch every 50 ms, from ``--targets`` aircraft cruising over Poland (each detection
stamped with the wall time it is sent); a subscriber thread takes every ``tracks.*``
message. Measured:

- **bus latency**: for every track row received, receive time minus the row's ``time``
  (its newest detection's send time): what an API client would see, minus the API;
- the runtime's own ``skywarden_ingest_to_publish_seconds`` histogram (p99 bucket);
- tick and warning-cycle durations (p50, p99 of the histograms).

The floor of the live service's issue is ingest to WebSocket p99 <= 200 ms at 5,000
detections/s; this isolates the runtime's share of it. The reorder lag and the tick are
deliberate waits: latency is at least ``lag`` and on average half a tick more.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from skywarden.live import Runtime, RuntimeSettings
from skywarden.records import Detection, DetectionBatch
from skywarden.sensors import SensorRegistry
from timing import hist_quantile

RECEIVERS = [("POL-ADS1", 52.2, 21.0), ("POL-ADS2", 53.4, 18.0), ("POL-ADS3", 50.3, 19.0),
             ("POL-ADS4", 51.2, 22.6)]
BATCH_S = 0.05
M_PER_DEG = 111_320.0


def _registry() -> SensorRegistry:
    return SensorRegistry.from_dicts([
        dict(id=s, type="adsb", owner="POL", lat=a, lon=o, releasability="allies")
        for s, a, o in RECEIVERS])


def _quantiles(values: np.ndarray) -> str:
    if not values.size:
        return "no samples"
    p50, p95, p99 = np.percentile(values, [50, 95, 99]) * 1e3
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, max " \
           f"{values.max() * 1e3:.0f} ms ({values.size:,} samples)"


def measure(rate: float, seconds: float, targets: int, lag: float, tick: float) -> str:
    rng = np.random.default_rng(7)
    lat0, lon0 = rng.uniform(50.5, 53.8, targets), rng.uniform(15.5, 23.0, targets)
    heading = rng.uniform(0, 2 * math.pi, targets)
    speed = rng.uniform(150, 250, targets)
    v_n, v_e = speed * np.cos(heading), speed * np.sin(heading)
    alt = rng.uniform(3000, 11000, targets)
    ids = [f"icao:4{i:05X}" for i in range(targets)]
    site = np.array([[a, o] for _, a, o in RECEIVERS])
    registry = _registry()
    data = Path(tempfile.mkdtemp(prefix="bench-live-"))
    rt = Runtime(registry, RuntimeSettings(data_dir=data, reorder_lag=lag, tick_s=tick))
    rx: list[np.ndarray] = []
    stop = threading.Event()
    sub = rt.bus.subscribe("tracks.*", overflow="drop_oldest", maxsize=100_000)

    def listen() -> None:
        while not stop.is_set():
            try:
                d = sub.get_blocking(0.2)
            except TimeoutError:
                continue
            now = time.time()
            rx.append(now - np.array([u.time for u in d.message]))

    per_batch = int(rate * BATCH_S)
    sent = 0
    listener = threading.Thread(target=listen, daemon=True)
    try:
        rt.start()
        listener.start()
        began = time.time()
        k = 0
        nxt = 0
        while time.time() - began < seconds:
            idx = (nxt + np.arange(per_batch)) % targets
            nxt = int((nxt + per_batch) % targets)
            now = time.time()
            el = now - began
            lat = lat0[idx] + v_n[idx] * el / M_PER_DEG
            lon = lon0[idx] + v_e[idx] * el / (M_PER_DEG * np.cos(np.radians(lat0[idx])))
            near = np.argmin((site[:, 0][None] - lat[:, None]) ** 2 +
                             (site[:, 1][None] - lon[:, None]) ** 2, axis=1)
            dets = [Detection(time=now, sensor=RECEIVERS[s][0], kind="position", lat=a, lon=o,
                              alt=h, id=ids[i])
                    for a, o, h, s, i in zip(lat.tolist(), lon.tolist(), alt[idx].tolist(),
                                             near.tolist(), idx.tolist(), strict=True)]
            rt.ingest(DetectionBatch.from_records(dets, registry.ids), "bench")
            sent += len(dets)
            k += 1
            delay = began + k * BATCH_S - time.time()
            if delay > 0:
                time.sleep(delay)
        time.sleep(max(1.0, 3 * lag))
    finally:
        stop.set()
        listener.join(timeout=2)
        rt.close()
        shutil.rmtree(data, ignore_errors=True)
    lat_all = np.concatenate(rx) if rx else np.zeros(0)
    m = rt.metrics
    lines = [
        "## Live runtime: ingest to track row on the bus (bench/bench_live.py)",
        "",
        f"`python bench/bench_live.py --rate {rate:g} --seconds {seconds:g} --targets "
        f"{targets} --lag {lag:g} --tick {tick:g}`: sent {sent:,} detections "
        f"({sent / seconds:,.0f}/s).",
        "",
        f"- detection to track row on the bus: {_quantiles(lat_all)}",
        f"- runtime ingest-to-publish histogram: p99 <= "
        f"{hist_quantile(m.latency, 0.99) * 1e3:.0f} ms",
        f"- tick: p50 <= {hist_quantile(m.tick, 0.5) * 1e3:.1f} ms, p99 <= "
        f"{hist_quantile(m.tick, 0.99) * 1e3:.0f} ms; warning cycle: p50 <= "
        f"{hist_quantile(m.warn_cycle, 0.5) * 1e3:.0f} ms (own thread)",
        f"- live tracks at the end: {len(rt.picture()):,}",
    ]
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    """For bench/run_all.py: the floor's load (5,000/s, 1,000 aircraft) with the lag and
    tick it needs; ``quick``: 5 s at 1,000/s."""
    if quick:
        return measure(1000.0, 5.0, 200, 0.05, 0.05)
    return measure(5000.0, 30.0, 1000, 0.05, 0.05)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=5000.0)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--lag", type=float, default=0.05)
    p.add_argument("--tick", type=float, default=0.05)
    args = p.parse_args(argv)
    print(measure(args.rate, args.seconds, args.targets, args.lag, args.tick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
