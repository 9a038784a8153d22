"""What every handler works with: the runtime, the token check, limits and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from starlette.responses import Response

from .auth import TokenCheck
from .limits import RateLimits
from .metrics import ApiMetrics

__all__ = ["ApiSettings", "Service", "json_response"]

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Limits and knobs of the API (docs/API.md states the defaults)."""

    max_body_bytes: int = 5 * 1024 * 1024
    max_batch: int = 50_000
    requests_per_s: float = 50.0
    requests_burst: float = 200.0
    detections_per_s: float = 20_000.0
    detections_burst: float = 100_000.0
    history_max_s: float = 24 * 3600.0
    history_max_rows: int = 200_000
    token_cache_s: float = 30.0
    # Stream: unsent track updates merged per client before the oldest count as dropped,
    # and alert events a client may fall behind by before it is disconnected (1013) and
    # must reload /api/v1/alerts (events are never silently dropped).
    stream_alert_backlog: int = 10_000
    # Position error given to a citizen report (m): seen, or only heard.
    report_sigma_seen_m: float = 1000.0
    report_sigma_heard_m: float = 3000.0
    web_dir: str | None = None  # None: the package's web/ folder, when it exists


@dataclass
class Service:
    runtime: Any
    settings: ApiSettings
    tokens: TokenCheck
    limits: RateLimits
    metrics: ApiMetrics
    hub: Any = None  # the stream fan-out (stream.Hub), made by the app
    audit: Any = None  # the ingest audit writer (ingest_audit.IngestAudit)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def store(self) -> Any:
        return self.runtime.store

    def now(self) -> float:
        return float(self.runtime.clock.now())

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call (the store, the runtime's locked parts) off the loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    """JSON via msgspec (records, structs and builtins alike)."""
    return Response(_encoder.encode(content), status_code=status, headers=headers,
                    media_type="application/json")
