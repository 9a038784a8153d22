"""A recorded feed replayed at 10x real time into the live service: does it keep up, and
is anything lost?

The recording is the simulator's ``scale`` scenario (``--targets`` aircraft, drones and
helicopters over central Europe, 12 radars, 4 ADS-B receivers, 10 minutes), written as
the bytes real sensors send:

- each radar's plots as ASTERIX CAT048 data blocks (encoded with libasterix, the radar
  named by SAC/SIC), one UDP datagram per radar per quarter second;
- each ADS-B receiver's reports as SBS-1 lines (``MSG,4`` velocity, ``MSG,3`` position),
  served on a TCP port per receiver, as readsb serves port 30003.

A player process sends them at ``--speed`` (10) times their recorded pace to the same
feed objects ``skywarden serve --config`` runs (a UDP listener for the ASTERIX, a TCP
client per receiver), into a Runtime whose clock runs at that speed from the recording's
start. Measured: units sent and received per feed (loss), detections decoded and taken
in, detections dropped as too late or on a full queue, ingest-to-publish latency (wall),
and the service's CPU use.

    .venv/bin/python bench/bench_feed.py [--speed 10] [--targets 1000] [--duration 600]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import resource
import shutil
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from skywarden.clock import SimClock
from skywarden.ingest.jsonl import read_detections
from skywarden.live import Runtime, RuntimeSettings
from skywarden.live.feeds import start_feeds
from skywarden.live.site import FeedSettings
from skywarden.sensors import SensorRegistry
from timing import hist_quantile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "feed"
SAC = 10
DATAGRAM_S = 0.25  # a radar sends what it saw in the last quarter second
FT = 0.3048
KT = 0.514444


# -- the recording -----------------------------------------------------------------------

def _sim(targets: int, duration: int, folder: Path) -> None:
    from skywarden.cli import main as cli

    if (folder / "detections.jsonl").is_file():
        return
    code = cli(["sim", "scale", "--targets", str(targets), "--duration", str(duration),
                "-o", str(folder)])
    if code:
        raise SystemExit(f"simulation failed ({code})")


def _registry(folder: Path) -> SensorRegistry:
    """The simulation's registry with a SAC/SIC for each radar."""
    base = SensorRegistry.load(folder / "sensors.toml")
    out = []
    for i, s in enumerate(base, 1):
        out.append(msgspec.structs.replace(s, sac=SAC, sic=i) if s.type == "radar" else s)
    return SensorRegistry(out, str(folder / "sensors.toml"))


def _sbs(det) -> bytes:  # type: ignore[no-untyped-def]
    ts = time.gmtime(det.time)
    stamp = time.strftime("%Y/%m/%d,%H:%M:%S", ts) + f".{int(det.time % 1 * 1000):03d}"
    icao = det.id.split(":", 1)[1]
    head = f"MSG,{{}},1,1,{icao},1,{stamp},{stamp}"
    lines = []
    if det.vel_e is not None:
        gs = math.hypot(det.vel_e, det.vel_n) / KT
        trk = math.degrees(math.atan2(det.vel_e, det.vel_n)) % 360
        vr = (det.vel_u or 0.0) / FT * 60
        lines.append(head.format(4) + f",,,{gs:.1f},{trk:.1f},,,{vr:.0f},,,,,0")
    alt = f"{det.alt / FT:.0f}" if det.alt is not None else ""
    lines.append(head.format(3) + f",,{alt},,,{det.lat:.5f},{det.lon:.5f},,,0,,0,0")
    return ("\r\n".join(lines) + "\r\n").encode()


def record(folder: Path, registry: SensorRegistry) -> dict[str, object]:
    """Write the radar datagrams (``cat048.bin``: time, length, bytes) and one SBS file
    per receiver (``sbs-<id>.bin``: time, length, lines); cached."""
    import asterix.generated as gen

    cat048 = gen.Cat_048_1_32
    done = folder / "recorded.json"
    if done.is_file():
        return msgspec.json.decode(done.read_bytes())
    open_blocks: dict[str, tuple[float, list]] = {}
    sbs: dict[str, list[tuple[float, bytes]]] = {}
    grams: list[tuple[float, bytes]] = []
    records = 0
    t0 = None

    def flush(sensor: str) -> None:
        start, recs = open_blocks.pop(sensor)
        last = start + DATAGRAM_S
        grams.append((last, cat048.create(recs).unparse().to_bytes()))

    for det in read_detections(folder / "detections.jsonl"):
        t0 = det.time if t0 is None else t0
        s = registry[det.sensor]
        if s.type == "radar" and det.kind == "polar":
            tod = det.time % 86400.0
            rec = cat048.cv_record.create({
                "010": (("SAC", s.sac), ("SIC", s.sic)),
                "140": (tod, "s"),
                "020": (1 << 4,),  # TYP 1: a primary radar plot (7 bits; FX is separate)
                "040": (("RHO", (min(det.range / 1852.0, 255.99), "NM")),
                        ("THETA", (det.azimuth % 360.0, "°"))),
            })
            if s.id in open_blocks and det.time >= open_blocks[s.id][0] + DATAGRAM_S:
                flush(s.id)
            open_blocks.setdefault(s.id, (det.time, []))[1].append(rec)
            records += 1
        elif s.type == "adsb" and det.id:
            sbs.setdefault(s.id, []).append((det.time, _sbs(det)))
    for sensor in list(open_blocks):
        flush(sensor)
    grams.sort(key=lambda g: g[0])
    _write(folder / "cat048.bin", grams)
    lines = {}
    for sensor, rows in sbs.items():
        _write(folder / f"sbs-{sensor}.bin", rows)
        lines[sensor] = sum(r.count(b"\n") for _, r in rows)
    meta = {"t0": t0, "records": records, "datagrams": len(grams), "sbs_lines": lines,
            "end": max(g[0] for g in grams)}
    done.write_bytes(msgspec.json.encode(meta))
    return meta


def _write(path: Path, rows: list[tuple[float, bytes]]) -> None:
    with path.open("wb") as fh:
        for t, b in rows:
            fh.write(struct.pack("<dI", t, len(b)) + b)


def _read(path: Path) -> list[tuple[float, bytes]]:
    data = path.read_bytes()
    out, i = [], 0
    while i < len(data):
        t, n = struct.unpack_from("<dI", data, i)
        out.append((t, data[i + 12:i + 12 + n]))
        i += 12 + n
    return out


# -- the player (another process, as the sensors are other machines) ----------------------

def play(folder: str, udp_port: int, sbs_ports: dict[str, int], t0: float, go_at: float,
         speed: float, ready) -> None:  # type: ignore[no-untyped-def]
    import threading

    def paced(rows: list[tuple[float, bytes]], send) -> None:  # type: ignore[no-untyped-def]
        for t, b in rows:
            wait = go_at + (t - t0) / speed - time.time()
            if wait > 0:
                time.sleep(wait)
            send(b)

    def serve_sbs(srv: socket.socket, rows: list[tuple[float, bytes]]) -> None:
        conn, _ = srv.accept()
        with conn:
            paced(rows, conn.sendall)
            time.sleep(2.0)

    threads = []
    servers = {}
    for sensor in sbs_ports:
        servers[sensor] = socket.create_server(("127.0.0.1", sbs_ports[sensor]))
    ready.set()
    for sensor, srv in servers.items():
        rows = _read(Path(folder) / f"sbs-{sensor}.bin")
        th = threading.Thread(target=serve_sbs, args=(srv, rows), daemon=True)
        th.start()
        threads.append(th)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        grams = _read(Path(folder) / "cat048.bin")
        paced(grams, lambda b: udp.sendto(b, ("127.0.0.1", udp_port)))
    for th in threads:
        th.join()


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(speed: float, targets: int, duration: int) -> str:
    import logging

    # The receivers' ends closing at the end of the recording are expected here.
    logging.getLogger("skywarden.ingest").setLevel(logging.ERROR)
    folder = OUT / f"scale-{targets}-{duration}"
    folder.mkdir(parents=True, exist_ok=True)
    _sim(targets, duration, folder)
    registry = _registry(folder)
    meta = record(folder, registry)
    t0, end = float(meta["t0"]), float(meta["end"])  # type: ignore[arg-type]
    udp_port = _free_port(socket.SOCK_DGRAM)
    sbs_ports = {s: _free_port() for s in meta["sbs_lines"]}  # type: ignore[union-attr]
    feeds = [FeedSettings(name="radars", type="asterix", listen=f"127.0.0.1:{udp_port}")]
    feeds += [FeedSettings(name=s, type="sbs", sensor=s, connect=f"127.0.0.1:{p}",
                           time="message") for s, p in sbs_ports.items()]
    data = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    lead = 3.0
    go_at = time.time() + lead + 2.0
    player = ctx.Process(target=play, args=(str(folder), udp_port, sbs_ports, t0, go_at,
                                            speed, ready), daemon=True)
    player.start()
    ready.wait(30)
    clock = SimClock(t0 - (go_at - time.time()) * speed, speed=speed)
    # the service's own defaults, the lag and the late limit scaled as serve --speed does
    dflt = RuntimeSettings()
    rt = Runtime(registry, RuntimeSettings(data_dir=data, reorder_lag=dflt.reorder_lag * speed,
                                           max_late_s=dflt.max_late_s * speed,
                                           tick_s=dflt.tick_s),
                 clock=clock)
    running = []
    try:
        rt.start()
        running = start_feeds(feeds, registry, rt.ingest_records, now=clock.now)
        rt.attach_feeds(running)
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        wall0 = time.time()
        player.join(timeout=(end - t0) / speed + 60)
        time.sleep(2.0)
        wall = time.time() - wall0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        stats = {f.name: f.stats() for f in running}
        counters = rt.bus.counters()
        m = rt.metrics
        late = {s.labels["fate"]: s.value for mf in m.late.collect() for s in mf.samples
                if s.name.endswith("_total")}
        ingested = sum(s.value for mf in m.ingested.collect() for s in mf.samples
                       if s.name.endswith("_total"))
        live = len(rt.picture())
        clock_lag = clock.now() - rt.picture_time()
    finally:
        for f in running:
            f.stop()
        rt.close()
        shutil.rmtree(data, ignore_errors=True)
        if player.is_alive():
            player.kill()
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    radar = stats["radars"]
    sbs_sent = sum(meta["sbs_lines"].values())  # type: ignore[union-attr]
    sbs_got = sum(st["units"] for n, st in stats.items() if n != "radars")
    decoded = sum(st["detections"] for st in stats.values())
    dropped_late = int(late.get("dropped", 0))
    lost = (int(meta["records"]) - radar["units"]) + (sbs_sent - sbs_got)  # type: ignore[call-overload]
    rec_s = (end - t0)
    rows = [
        ("radar CAT048 records", f"{meta['records']:,}", f"{radar['units']:,}",
         f"{radar['detections']:,}", f"{radar['rejected']:,}"),
        ("ADS-B SBS lines (4 receivers)", f"{sbs_sent:,}", f"{sbs_got:,}",
         f"{decoded - radar['detections']:,}",
         f"{sum(st['rejected'] for n, st in stats.items() if n != 'radars'):,}"),
    ]
    verdict = ("kept up with no loss" if lost == 0 and dropped_late == 0
               and counters.total_dropped == 0 and radar["rejected"] == 0
               else "did NOT keep up without loss")
    lines = [
        "## A recorded feed replayed at 10x real time (bench/bench_feed.py)",
        "",
        f"`python bench/bench_feed.py --speed {speed:g} --targets {targets} --duration "
        f"{duration}`: the `scale` scenario's {rec_s:,.0f} s recording ({meta['datagrams']:,} "
        f"CAT048 datagrams from 12 radars over UDP, SBS from 4 receivers over TCP) played "
        f"at {speed:g}x in {wall:,.0f} s of wall time into the live runtime and the feeds "
        "`serve --config` runs. Floor: keeps up with no loss.",
        "",
        "| feed | units sent | units received | detections | rejected |",
        "|---|---:|---:|---:|---:|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        f"- **{verdict}**: {lost:,} units lost between player and feeds; "
        f"{int(ingested):,} detections taken in ({int(ingested) / wall:,.0f}/s of wall "
        f"time), {dropped_late:,} dropped as too late, "
        f"{int(late.get('used', 0)):,} used out of sequence, {counters.total_dropped:,} "
        "bus messages dropped",
        f"- ingest to publish (wall): p50 <= {hist_quantile(m.latency, 0.5) * 1e3:.0f} ms, "
        f"p99 <= {hist_quantile(m.latency, 0.99) * 1e3:.0f} ms; tick p99 <= "
        f"{hist_quantile(m.tick, 0.99) * 1e3:.0f} ms; the picture {clock_lag / speed:.1f} s "
        f"(wall) behind the clock at the end; {live:,} live tracks",
        f"- the service process used {cpu:,.0f} CPU-s in {wall:,.0f} s "
        f"({cpu / wall:.2f} cores of {os.cpu_count()})",
    ]
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    if quick:
        return measure(10.0, 200, 120)
    return measure(10.0, 1000, 600)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speed", type=float, default=10.0)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--duration", type=int, default=600)
    args = p.parse_args(argv)
    print(measure(args.speed, args.targets, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
