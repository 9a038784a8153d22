"""Benchmark: the live service end to end, against the floor of its issue.

    python bench/bench_service.py [--quick] [--rate 5000] [--seconds 60] [--clients 20]
                                  [--targets 1000] [--lag S] [--tick S]

Floor: detection ingest to track update on a WebSocket client, and to alert event, p99
at most 200 ms at 5,000 detections/s sustained for 60 s, with 20 connected clients.

What runs: ``skywarden serve`` in its own process (uvicorn, the real Runtime and app) on
a free local port, with a registry of four Polish ADS-B receivers. This process, after
making an operator and a viewer token in the store:

- makes a prohibited restriction over Warsaw (``POST /api/v1/restrictions``);
- connects ``--clients`` viewers to ``/api/v1/stream``;
- sends ``--rate`` detections a second over ``/api/v1/ingest`` (one batch every 50 ms)
  for ``--seconds``: ``--targets`` civil aircraft (``icao:`` ids, so neutral: no alerts)
  cruising over Poland, each reporting ``rate / targets`` times a second, plus an
  intruder every 2 s that flies into the restriction (a ``restriction_violation``).
  Every detection is stamped with the wall time at which it is sent.

Measured, on the same machine and clock as the server:

- **track latency**: for every track row a client receives, receive time minus the
  row's ``time`` (the newest detection in it, stamped when sent);
- **alert latency**: for every ``raised`` restriction-violation event a client receives,
  receive time minus the send time of the detection that put the intruder's track inside
  the zone (the first row of that track inside the zone, as the recording client saw it,
  whose previous row one report earlier was outside; alerts without such a pair are
  counted as not measured). For reference, the same from the intruder's first report
  past the zone's edge: its first report is exactly on the edge, so the tracker's
  estimate may still be outside, and the next report is a second later.

Both include the service's deliberate waits: the tracker's reorder lag (``--lag``) and
the tick (``--tick``), by default those of ``skywarden serve``, which bound what the
pipeline can reach whatever the API does.

The viewers decode only the fields they measure (time, track, position, ids), as msgspec
structs: a viewer decoding every field of every row costs more CPU than the server on a
2-core machine and measures its own backlog, not the service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import numpy as np

CODE = "import sys; from skywarden.cli import main; sys.exit(main(sys.argv[1:]))"
RECEIVERS = [("POL-ADS1", 52.2, 21.0), ("POL-ADS2", 53.4, 18.0), ("POL-ADS3", 50.3, 19.0),
             ("POL-ADS4", 51.2, 22.6)]
# The restriction: lon 21.0-21.2, lat 52.0-52.1 (prohibited, over Warsaw).
ZONE = [[21.0, 52.0], [21.2, 52.0], [21.2, 52.1], [21.0, 52.1], [21.0, 52.0]]
BATCH_S = 0.05
M_PER_DEG = 111_320.0


@dataclass
class Results:
    track_lat: list[float] = field(default_factory=list)
    alert_lat: list[float] = field(default_factory=list)  # from the detection that put
    # the track inside the zone
    edge_lat: list[float] = field(default_factory=list)  # from the first report past the edge
    unmeasured: int = 0  # alerts whose track's first inside row this client did not see
    messages: int = 0
    rows: int = 0
    sent: int = 0
    refused: int = 0
    entries: dict[str, float] = field(default_factory=dict)  # intruder id -> entry send time
    track_ids: dict[str, str] = field(default_factory=dict)  # track id -> intruder id
    pending_alerts: list[tuple[str, float]] = field(default_factory=list)
    # intruder track id -> (time of its previous row, previous row inside the zone?)
    last_row: dict[str, tuple[float, bool]] = field(default_factory=dict)
    # intruder track id -> time of its first row inside the zone, when the row before it
    # (one report earlier) was seen outside: the send time of the detection that put it in
    inside_at: dict[str, float] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(data: Path) -> tuple[Path, str, str]:
    """Registry file, operator token, viewer token (made in the store before serving)."""
    from skywarden.store import SqliteStore

    lines = []
    for sid, lat, lon in RECEIVERS:
        lines += ["[[sensor]]", f'id = "{sid}"', 'type = "adsb"', 'owner = "POL"',
                  f"lat = {lat}", f"lon = {lon}", 'releasability = "allies"', ""]
    registry = data / "sensors.toml"
    registry.write_text("\n".join(lines))
    with SqliteStore(data / "skywarden.db") as store:
        store.add_organisation("bench-ops", "Bench operator", nation="POL",
                               roles=["operator"], by="bench")
        store.add_organisation("bench-view", "Bench viewer", nation="LTU",
                               roles=["viewer"], by="bench")
        op = store.issue_token("bench-ops", by="bench").token
        view = store.issue_token("bench-view", by="bench").token
    return registry, op, view


class Traffic:
    """Civil aircraft cruising over Poland, and intruders flying into the zone."""

    def __init__(self, targets: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.lat = rng.uniform(50.5, 53.8, targets)
        self.lon = rng.uniform(15.5, 23.0, targets)
        heading = rng.uniform(0.0, 2 * math.pi, targets)
        speed = rng.uniform(150.0, 250.0, targets)
        self.v_n, self.v_e = speed * np.cos(heading), speed * np.sin(heading)
        self.ids = [f"icao:4{i:05X}" for i in range(targets)]
        self.alt = rng.uniform(3000.0, 11000.0, targets)
        self.next = 0  # round robin over targets

    def positions(self, n: int, elapsed: float) -> list[tuple[float, float, float, str]]:
        idx = (self.next + np.arange(n)) % len(self.ids)
        self.next = int((self.next + n) % len(self.ids))
        lat = self.lat[idx] + self.v_n[idx] * elapsed / M_PER_DEG
        coslat = np.cos(np.radians(self.lat[idx]))
        lon = self.lon[idx] + self.v_e[idx] * elapsed / (M_PER_DEG * coslat)
        return [(float(a), float(o), float(h), self.ids[i])
                for a, o, h, i in zip(lat, lon, self.alt[idx], idx.tolist(), strict=True)]


def _intruders(elapsed: float, seconds: float) -> list[tuple[str, float, float]]:
    """Intruders alive now: one every 2 s from 2 s on, starting 300 m west of the zone at
    52.05 N and flying east at 60 m/s (inside after 5 s, confirmed well before); one
    report a second, for 20 s."""
    out = []
    m_per_deg_lon = M_PER_DEG * math.cos(math.radians(52.05))
    for k in range(int(seconds // 2)):
        age = elapsed - (2.0 + 2.0 * k)
        if 0.0 <= age <= 20.0 and abs(age - round(age)) < BATCH_S / 2:
            lon = 21.0 + (60.0 * round(age) - 300.0) / m_per_deg_lon
            out.append((f"icao:3C{k:04X}", 52.05, lon))
    return out


def _nearest(lat: float, lon: float) -> str:
    return min(RECEIVERS, key=lambda r: (r[1] - lat) ** 2 + (r[2] - lon) ** 2)[0]


async def _feed(url: str, token: str, rate: float, seconds: float, targets: int,
                res: Results) -> None:
    import msgspec
    import websockets

    traffic = Traffic(targets)
    per_batch = rate * BATCH_S
    carry = 0.0
    enc = msgspec.json.Encoder()
    async with websockets.connect(f"{url}/api/v1/ingest?token={token}",
                                  max_size=None) as ws:
        answers = asyncio.create_task(_count_answers(ws, res))
        began = time.monotonic()
        k = 0
        while True:
            due = began + k * BATCH_S
            now = time.monotonic()
            if now - began >= seconds:
                break
            if due > now:
                await asyncio.sleep(due - now)
            elapsed = time.monotonic() - began
            carry += per_batch
            n = int(carry)
            carry -= n
            stamp = time.time()
            dets = [{"time": stamp, "sensor": _nearest(a, o), "kind": "position", "lat": a,
                     "lon": o, "alt": h, "sigma_h": 30.0, "id": ident}
                    for a, o, h, ident in traffic.positions(n, elapsed)]
            for ident, a, o in _intruders(elapsed, seconds):
                dets.append({"time": stamp, "sensor": "POL-ADS1", "kind": "position",
                             "lat": a, "lon": o, "alt": 300.0, "sigma_h": 30.0, "id": ident})
                if o >= 21.0 and ident not in res.entries:
                    res.entries[ident] = stamp
            await ws.send(enc.encode(dets).decode())
            res.sent += len(dets)
            k += 1
        await asyncio.sleep(1.0)
        answers.cancel()


async def _count_answers(ws: object, res: Results) -> None:
    async for msg in ws:  # type: ignore[attr-defined]
        if '"accepted"' not in msg:
            res.refused += 1
            if res.refused <= 3:
                print("refused:", msg[:300], file=sys.stderr)


class _Row(msgspec.Struct):
    """What the bench reads of a track row (msgspec skips the other fields unparsed)."""

    time: float
    track: str
    lat: float = math.nan
    lon: float = math.nan
    ids: list[str] = []


class _Event(msgspec.Struct):
    event: str
    kind: str
    track: str | None = None


class _Message(msgspec.Struct):
    type: str
    tracks: list[_Row] = []
    event: _Event | None = None


async def _client(url: str, token: str, res: Results, stop: asyncio.Event,
                  record: bool) -> None:
    import websockets

    # Only the fields measured (module docstring): a full decode would measure this
    # process's backlog, not the service.
    dec = msgspec.json.Decoder(_Message)
    async with websockets.connect(f"{url}/api/v1/stream?token={token}", max_size=None) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            msg = dec.decode(raw)
            res.messages += 1
            if msg.type == "tracks":
                rows = msg.tracks
                res.rows += len(rows)
                res.track_lat.extend(now - r.time for r in rows)
                if record:
                    for r in rows:
                        if any(i.startswith("icao:3C") for i in r.ids):
                            _note_intruder_row(res, r)
            elif msg.type == "alert" and msg.event is not None:
                ev = msg.event
                if ev.event == "raised" and ev.kind == "restriction_violation":
                    res.pending_alerts.append((ev.track or "", now))


def _in_zone(lat: float, lon: float) -> bool:
    return ZONE[0][0] <= lon <= ZONE[1][0] and ZONE[0][1] <= lat <= ZONE[2][1]


def _note_intruder_row(res: Results, r: _Row) -> None:
    """Track the rows of an intruder's track, to find the one that first put it in the
    zone. Intruders report once a second: a first inside row counts only when this
    client also saw the row one report before it, outside (else the first inside row may
    have been dropped for this client, and a later one would flatter the latency)."""
    res.track_ids[r.track] = next(i for i in r.ids if i.startswith("icao:3C"))
    inside = _in_zone(r.lat, r.lon)
    before = res.last_row.get(r.track)
    if (inside and r.track not in res.inside_at and before is not None and not before[1]
            and 0.5 <= r.time - before[0] <= 1.5):
        res.inside_at[r.track] = r.time
    res.last_row[r.track] = (r.time, inside)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000.0 if values else float("nan")


async def _measure(url: str, op: str, view: str, args: argparse.Namespace) -> Results:
    import httpx

    res = Results()
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as http:
        feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ZONE]},
                   "properties": {"name": "bench exclusion", "type": "prohibited"}}
        r = await http.post("/api/v1/restrictions", json=feature,
                            headers={"Authorization": f"Bearer {op}"})
        r.raise_for_status()
    ws_url = url.replace("http://", "ws://")
    stop = asyncio.Event()
    clients = [asyncio.create_task(_client(ws_url, view, res, stop, i == 0))
               for i in range(args.clients)]
    await asyncio.sleep(1.0)
    await _feed(ws_url, op, args.rate, args.seconds, args.targets, res)
    await asyncio.sleep(max(3.0, 2 * args.tick + args.lag + 2.5))
    stop.set()
    await asyncio.gather(*clients, return_exceptions=True)
    for track, when in res.pending_alerts:
        ident = res.track_ids.get(track)
        if ident in res.entries:
            res.edge_lat.append(when - res.entries[ident])
        if track in res.inside_at:
            res.alert_lat.append(when - res.inside_at[track])
        else:
            res.unmeasured += 1
    return res


def measure(args: argparse.Namespace) -> tuple[Results, dict[str, float]]:
    import httpx

    data = Path(tempfile.mkdtemp(prefix="bench-service-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = None
    try:
        registry, op, view = _prepare(data)
        cmd = [sys.executable, "-c", CODE, "serve", "--sensors", str(registry), "--data",
               str(data), "--port", str(port)]
        cmd += ["--lag", str(args.lag), "--tick", str(args.tick)]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/openapi.json", timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start: " +
                                       (server.stderr.read().decode()[-2000:]
                                        if server.stderr else "")) from None
                time.sleep(0.2)
        res = asyncio.run(_measure(url, op, view, args))
        metrics = httpx.get(f"{url}/metrics", timeout=10.0).text
        extra = {"runtime ingest-to-publish p99 <= s": _hist_p99(
            metrics, "skywarden_ingest_to_publish_seconds"),
            "warning cycle p99 <= s": _hist_p99(metrics, "skywarden_warn_cycle_seconds")}
        for line in metrics.splitlines():
            if line.startswith(("skywarden_stream_dropped_total", "skywarden_api_rejects_total",
                                "skywarden_bus_dropped_messages_total",
                                "skywarden_early_warning_cycles_total")):
                name, value = line.rsplit(" ", 1)
                extra[name] = float(value)
        return res, extra
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data, ignore_errors=True)


def _hist_p99(text: str, name: str) -> float:
    """The smallest bucket bound holding 99 % of a histogram's samples (NaN: none)."""
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((math.inf if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    total = buckets[-1][1]
    return next(le for le, n in buckets if n >= 0.99 * total)


def _args(quick: bool, argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10 s at 1,000/s, 5 clients")
    p.add_argument("--rate", type=float, default=5000.0, help="detections/s")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--lag", type=float, default=None,
                   help="serve --lag (s; default: serve's own)")
    p.add_argument("--tick", type=float, default=None,
                   help="serve --tick (s; default: serve's own)")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv if argv is not None else [])
    if quick or args.quick:
        args.rate, args.seconds, args.clients, args.targets = 1000.0, 10.0, 5, 200
    from skywarden.serve import DEFAULTS

    args.lag = DEFAULTS["lag"] if args.lag is None else args.lag
    args.tick = DEFAULTS["tick"] if args.tick is None else args.tick
    return args


def report(args: argparse.Namespace, res: Results, extra: dict[str, float]) -> str:
    t99, a99 = _pct(res.track_lat, 99), _pct(res.alert_lat, 99)
    verdict = "meets" if t99 <= 200 and a99 <= 200 else "misses"
    lines = [
        "## Live service: ingest to WebSocket (bench/bench_service.py)",
        "",
        f"`python bench/bench_service.py --rate {args.rate:g} --seconds {args.seconds:g} "
        f"--clients {args.clients} --targets {args.targets} --lag {args.lag:g} "
        f"--tick {args.tick:g}`: `skywarden serve` in its own process, detections over "
        "`/api/v1/ingest`, viewers on `/api/v1/stream`.",
        "",
        "| | p50 ms | p95 ms | p99 ms | max ms | samples |",
        "|---|---|---|---|---|---|",
        f"| detection to track row on a client | {_pct(res.track_lat, 50):.0f} "
        f"| {_pct(res.track_lat, 95):.0f} | {t99:.0f} | {_pct(res.track_lat, 100):.0f} "
        f"| {len(res.track_lat):,} |",
        f"| detection putting a track in a zone to alert event on a client "
        f"| {_pct(res.alert_lat, 50):.0f} | {_pct(res.alert_lat, 95):.0f} | {a99:.0f} "
        f"| {_pct(res.alert_lat, 100):.0f} | {len(res.alert_lat):,} |",
        f"| (for reference) first report past the zone's edge to alert event "
        f"| {_pct(res.edge_lat, 50):.0f} | {_pct(res.edge_lat, 95):.0f} "
        f"| {_pct(res.edge_lat, 99):.0f} | {_pct(res.edge_lat, 100):.0f} "
        f"| {len(res.edge_lat):,} |",
        "",
        f"Sent {res.sent:,} detections ({res.sent / args.seconds:,.0f}/s), "
        f"{res.refused} batches refused; clients received {res.messages:,} messages, "
        f"{res.rows:,} track rows; {res.unmeasured} alerts not measured (the recording "
        "client missed the row that put their track inside). "
        f"Floor (p99 <= 200 ms for both): **{verdict}**.",
    ]
    if extra:
        lines += ["", "Server counters at the end: " + ", ".join(
            f"`{k}` {v:g}" for k, v in sorted(extra.items()))]
    return "\n".join(lines) + "\n"


def run(quick: bool = False) -> str:
    args = _args(quick)
    res, extra = measure(args)
    return report(args, res, extra)


def main(argv: list[str] | None = None) -> int:
    args = _args(False, argv if argv is not None else sys.argv[1:])
    res, extra = measure(args)
    print(report(args, res, extra))
    if args.json is not None:
        args.json.write_text(json.dumps({
            "track_ms": {q: _pct(res.track_lat, q) for q in (50, 95, 99, 100)},
            "alert_ms": {q: _pct(res.alert_lat, q) for q in (50, 95, 99, 100)},
            "edge_alert_ms": {q: _pct(res.edge_lat, q) for q in (50, 95, 99, 100)},
            "alerts_unmeasured": res.unmeasured,
            "sent": res.sent, "refused": res.refused, "messages": res.messages,
            "rows": res.rows, "counters": extra}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
