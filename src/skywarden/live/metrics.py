"""The live service's Prometheus metrics, in a registry of its own.

A registry per :class:`~skywarden.live.runtime.Runtime` (not the process-wide default),
so tests and several runtimes in one process never share or collide. ``/metrics`` serves
``prometheus_client.generate_latest(runtime.metrics.registry)``.

Bus drops are read from the bus's own counters when scraped (a collector), so they can
never disagree with what the bus did.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ..bus import Bus

__all__ = ["LATENCY_BUCKETS", "Metrics"]

# Seconds: fine below the 200 ms objective, coarse above it.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
                   0.75, 1.0, 2.0, 5.0, 10.0)
TICK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class _BusDrops(Collector):
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    def collect(self) -> Iterator[CounterMetricFamily]:
        counters = self.bus.counters()
        msgs = CounterMetricFamily(
            "skywarden_bus_dropped_messages", "Messages dropped by full drop_oldest queues",
            labels=["subject"])
        recs = CounterMetricFamily(
            "skywarden_bus_dropped_records",
            "Records (detections, track rows) in the dropped messages", labels=["subject"])
        for subject, n in sorted(counters.dropped.items()):
            msgs.add_metric([subject], n)
        for subject, n in sorted(counters.dropped_records.items()):
            recs.add_metric([subject], n)
        yield msgs
        yield recs


class _Attached(Collector):
    """Feeds and outputs attached after start: their own stats, read when scraped."""

    def __init__(self) -> None:
        self.feeds: list[Any] = []
        self.outputs: Any = None

    def collect(self) -> Iterator[Any]:
        units = CounterMetricFamily(
            "skywarden_feed_units", "Feed input units (lines, frames, records) by outcome",
            labels=["feed", "outcome"])
        failures = CounterMetricFamily(
            "skywarden_feed_failures", "Feed connection failures and losses",
            labels=["feed"])
        received = CounterMetricFamily("skywarden_feed_bytes", "Bytes received by a feed",
                                       labels=["feed"])
        up = GaugeMetricFamily("skywarden_feed_connected",
                               "1 when the feed is connected (TCP) or bound (UDP)",
                               labels=["feed"])
        for feed in self.feeds:
            st = feed.stats()
            for outcome, n in sorted(st["outcomes"].items()):
                units.add_metric([st["name"], outcome], n)
            failures.add_metric([st["name"]], st["failures"])
            received.add_metric([st["name"]], st["bytes"])
            up.add_metric([st["name"]], 1.0 if st["connected"] else 0.0)
        yield from (units, failures, received, up)
        if self.outputs is None:
            return
        sent = CounterMetricFamily("skywarden_output_messages",
                                   "Messages handed to outputs, by output and fate",
                                   labels=["output", "fate"])
        for name, st in sorted(self.outputs.stats().get("outputs", {}).items()):
            for fate in ("sent", "dropped", "failed", "filtered"):
                if isinstance(st.get(fate), int):
                    sent.add_metric([name, fate], st[fate])
        yield sent


class Metrics:
    """Every metric of the service (names as exported, ``skywarden_`` first)."""

    def __init__(self, bus: Bus) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.ingested = Counter("skywarden_ingest_detections", "Detections taken in, by source",
                                ["source"], registry=r)
        self.rejected = Counter("skywarden_rejected_detections",
                                "Detections refused, by reason", ["reason"], registry=r)
        self.late = Counter("skywarden_late_detections",
                            "Detections that arrived after their moment was processed, by "
                            "fate (used out of sequence, or dropped)", ["fate"], registry=r)
        self.live_tracks = Gauge("skywarden_live_tracks", "Tracks in the live picture",
                                 registry=r)
        self.open_alerts = Gauge("skywarden_open_alerts", "Open alerts by level", ["level"],
                                 registry=r)
        self.tick = Histogram("skywarden_tick_seconds",
                              "Wall time of one pipeline tick (track, assess, warn, publish)",
                              buckets=TICK_BUCKETS, registry=r)
        self.latency = Histogram(
            "skywarden_ingest_to_publish_seconds",
            "Wall time from ingest of a detection batch to the publication of the track "
            "rows it updated", buckets=LATENCY_BUCKETS, registry=r)
        self.warn_cycle = Histogram(
            "skywarden_warn_cycle_seconds",
            "Wall time of one assessment and warning cycle (its own thread)",
            buckets=TICK_BUCKETS, registry=r)
        self.store_errors = Counter("skywarden_store_write_errors",
                                    "Store writes that failed, by what", ["what"], registry=r)
        self.early_cycles = Counter(
            "skywarden_early_warning_cycles",
            "Partial assessment cycles run at once, of the tracks that had just entered "
            "a nation or zone",
            registry=r)
        self.alert_stalls = Counter("skywarden_alert_publish_stalls",
                                    "Times an alert waited for room on a full queue",
                                    registry=r)
        r.register(_BusDrops(bus))
        self.attached = _Attached()
        r.register(self.attached)
        for level in range(1, 5):
            self.open_alerts.labels(str(level)).set(0)

    def set_open_alerts(self, levels: list[int]) -> None:
        counts = {str(k): 0 for k in range(1, 5)}
        for lv in levels:
            if str(lv) in counts:
                counts[str(lv)] += 1
        for k, n in counts.items():
            self.open_alerts.labels(k).set(n)
