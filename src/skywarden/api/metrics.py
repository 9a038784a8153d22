"""Prometheus metrics of the API, and ``/metrics`` serving them with the runtime's.

The API's own metrics live in their own registry (one per app), so several apps in one
process (tests) do not collide; ``/metrics`` writes the runtime's registry, then this one.

- ``skywarden_http_requests_total{route,method,status}``: requests, by route template
  (``/api/v1/tracks/{id}/history``, never the raw path, so labels stay few);
- ``skywarden_http_request_seconds{route,method}``: latency histogram;
- ``skywarden_api_rejects_total{reason}``: refused requests and ingest batches by reason
  (``bad_field``, ``too_large``, ``rate_limited``, ...);
- ``skywarden_api_detections_total{via}``: detections accepted (``http``, ``ws``,
  ``report``);
- ``skywarden_ws_clients{stream}``: connected WebSocket clients;
- ``skywarden_stream_messages_total{type}``, ``skywarden_stream_dropped_total{type}``:
  stream messages sent, and stale track messages merged away for slow clients (alert
  events are never dropped).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiMetrics", "MetricsMiddleware"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ApiMetrics:
    def __init__(self, runtime_registry: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.runtime_registry = _registry_of(runtime_registry)
        r = self.registry
        self.requests = Counter("skywarden_http_requests", "HTTP requests",
                                ("route", "method", "status"), registry=r)
        self.latency = Histogram("skywarden_http_request_seconds", "HTTP request latency",
                                 ("route", "method"), buckets=_BUCKETS, registry=r)
        self.rejects = Counter("skywarden_api_rejects", "Requests and batches refused",
                               ("reason",), registry=r)
        self.detections = Counter("skywarden_api_detections", "Detections accepted",
                                  ("via",), registry=r)
        self.ws_clients = Gauge("skywarden_ws_clients", "Connected WebSocket clients",
                                ("stream",), registry=r)
        self.stream_messages = Counter("skywarden_stream_messages", "Stream messages sent",
                                       ("type",), registry=r)
        self.stream_dropped = Counter(
            "skywarden_stream_dropped",
            "Stale stream messages merged away for slow clients", ("type",), registry=r)
        for s in ("stream", "ingest"):
            self.ws_clients.labels(s)
        self.stream_dropped.labels("tracks")

    def text(self) -> bytes:
        parts = [generate_latest(self.runtime_registry)] if self.runtime_registry else []
        parts.append(generate_latest(self.registry))
        return b"".join(parts)

    async def endpoint(self, request: Request) -> Response:
        return Response(self.text(), media_type=CONTENT_TYPE_LATEST)


def _registry_of(obj: Any) -> CollectorRegistry | None:
    """The runtime's registry: the object itself, or its ``registry`` attribute."""
    if obj is None:
        return None
    if isinstance(obj, CollectorRegistry):
        return obj
    inner = getattr(obj, "registry", None)
    return inner if isinstance(inner, CollectorRegistry) else None


def _route_label(scope: Scope) -> str:
    """The route template; the web map's files are one label, anything else "other"."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return "other" if scope.get("path", "").startswith("/api/") else "/ (web map)"
    path = getattr(route, "path", None)
    return path if path else "other"


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template; counts refusals by
    the reason the error handler left in the request state."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            label = _route_label(scope)
            method = scope.get("method", "GET")
            m = self.metrics
            m.requests.labels(label, method, str(status[0])).inc()
            m.latency.labels(label, method).observe(time.perf_counter() - start)
            reason = scope.get("state", {}).get("reject_reason")
            if reason is None and status[0] in (404, 405):
                reason = "no_route"
            if reason is not None:
                m.rejects.labels(reason).inc()
