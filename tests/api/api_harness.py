"""Helpers of the API tests: sensors, tokens, hand-built detections, and the scenes the
tests share (two tracks of different releasability; two sensor-down alerts).

The runtime's threads are not started: tests drive the pipeline with ``runtime.tick()``
and the store writer with ``runtime.flush()``, so every step is deterministic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from skywarden.clock import ManualClock
from skywarden.live.runtime import Runtime
from skywarden.records import Detection, DetectionBatch

T0 = 1_757_000_000.0

SENSORS = [
    # Cooperative feeds confirm a track in two reports; one Polish-only, one for allies.
    {"id": "POL-ADSB", "type": "adsb", "owner": "POL", "lat": 52.2, "lon": 21.0,
     "releasability": "national"},
    {"id": "LTU-ADSB", "type": "adsb", "owner": "LTU", "lat": 54.9, "lon": 23.9,
     "releasability": "allies"},
    # Radars: silent radars raise sensor-down alerts marked as the radar is.
    {"id": "POL-R1", "type": "radar", "owner": "POL", "lat": 52.2, "lon": 21.0,
     "scan_period": 4.0, "releasability": "national", "max_range": 250000.0},
    {"id": "LTU-R1", "type": "radar", "owner": "LTU", "lat": 54.9, "lon": 23.9,
     "scan_period": 4.0, "releasability": "allies", "max_range": 250000.0},
    {"id": "POL-CIT", "type": "visual_report", "owner": "POL", "releasability": "public"},
]


@dataclass
class Service:
    """The server under test, with tokens per organisation."""

    runtime: Runtime
    clock: ManualClock
    url: str
    app: Any = None
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def ws_url(self, path: str, who: str | None, query: str = "") -> str:
        token = f"token={self.tokens[who]}" if who else ""
        params = "&".join(p for p in (token, query) if p)
        return self.url.replace("http://", "ws://") + path + (f"?{params}" if params else "")

    def step(self, to: float) -> None:
        """Move the clock to ``T0 + to`` and run one pipeline tick, then the writer."""
        self.clock.set(T0 + to)
        self.runtime.tick()
        self.runtime.flush()


def audited(svc: Service, action: str, at_least: int = 1, timeout: float = 5.0
            ) -> list[Any]:
    """The store's audit entries of ``action``, once at least ``at_least`` are there
    (ingest entries are written just after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in svc.runtime.store.audit_entries() if e.action == action]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def adsb(sensor: str, t: float, lat: float, lon: float, ident: str) -> Detection:
    return Detection(time=T0 + t, sensor=sensor, kind="position", lat=lat, lon=lon, alt=800.0,
                     sigma_h=30.0, id=ident)


def feed(svc: Service, dets_by_step: list[list[Detection]], period: float = 4.0,
         start: float = 0.0) -> None:
    """Ingest straight into the runtime, one tick per step (setup, not under test)."""
    ids = svc.runtime.registry.ids
    for k, dets in enumerate(dets_by_step):
        svc.runtime.ingest(DetectionBatch.from_records(dets, ids), "test")
        svc.step(start + k * period + 1.0)


def two_tracks(svc: Service) -> None:
    """A Polish-only track (national feed) and an allied track (Lithuanian feed)."""
    feed(svc, [[adsb("POL-ADSB", 4 * k, 52.3, 21.1 + 0.002 * k, "48AE01"),
                adsb("LTU-ADSB", 4 * k, 54.5, 23.5 + 0.002 * k, "4B1801")]
               for k in range(4)])


def sensor_alerts(svc: Service, start: float = 0.0) -> None:
    """Both radars heard once at ``start``, then silent: a Polish-only and an allied
    sensor-down alert."""
    dets = [Detection(time=T0 + start + 1, sensor=s, kind="position", lat=lat, lon=lon,
                      sigma_h=50.0)
            for s, lat, lon in (("POL-R1", 52.4, 21.2), ("LTU-R1", 54.6, 23.6))]
    svc.runtime.ingest(DetectionBatch.from_records(dets, svc.runtime.registry.ids), "test")
    for t in (2, 60, 70):
        svc.step(start + t)
