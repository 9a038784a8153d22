"""Limits on what one caller may send: body size, and rate per token.

The rate is a token bucket per API token (per remote address for calls without one):
``rate`` units a second, up to ``burst`` saved. A request costs one unit of the request
bucket; an ingest batch also costs one unit per detection of the detection bucket, so a
few large batches and many small ones are held to the same detection rate. A refusal is
429 with ``Retry-After`` (whole seconds until the bucket holds enough again).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from .errors import ApiError

__all__ = ["Bucket", "RateLimits", "read_body"]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes (before
    reading it all when Content-Length says so)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"body of {int(declared)} bytes is over the limit of {limit}",
                       reason="too_large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"body is over the limit of {limit} bytes",
                           reason="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(slots=True)
class Bucket:
    rate: float  # units per second
    burst: float  # most units saved
    level: float = 0.0
    stamp: float = 0.0

    def take(self, n: float, now: float) -> float:
        """Take ``n`` units: 0.0 if taken, else the seconds to wait (nothing taken).

        A cost above ``burst`` is allowed from a full bucket (it goes negative), so one
        big batch is not refused for ever; the caller then waits for it to refill.
        """
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level >= min(n, self.burst):
            self.level -= n
            return 0.0
        return (min(n, self.burst) - self.level) / self.rate


@dataclass
class RateLimits:
    """Buckets per caller key: requests, and detections for ingest."""

    requests_per_s: float = 50.0
    requests_burst: float = 200.0
    detections_per_s: float = 20_000.0
    detections_burst: float = 100_000.0
    clock: Callable[[], float] = time.monotonic
    _requests: dict[str, Bucket] = field(default_factory=dict)
    _detections: dict[str, Bucket] = field(default_factory=dict)

    def _bucket(self, table: dict[str, Bucket], key: str, rate: float, burst: float
                ) -> Bucket:
        b = table.get(key)
        if b is None:
            if len(table) > 100_000:
                table.clear()
            b = table[key] = Bucket(rate, burst, burst, self.clock())
        return b

    def request(self, key: str) -> None:
        """Count one request of ``key``; 429 when over the rate."""
        b = self._bucket(self._requests, key, self.requests_per_s, self.requests_burst)
        wait = b.take(1.0, self.clock())
        if wait:
            raise _too_many(wait, f"more than {self.requests_per_s:g} requests/s")

    def detections(self, key: str, n: int) -> None:
        """Count ``n`` detections of ``key``; 429 when over the rate."""
        b = self._bucket(self._detections, key, self.detections_per_s,
                         self.detections_burst)
        wait = b.take(float(n), self.clock())
        if wait:
            raise _too_many(wait, f"more than {self.detections_per_s:g} detections/s")


def _too_many(wait: float, what: str) -> ApiError:
    after = max(1, math.ceil(wait))
    return ApiError(429, f"rate limit: {what} for this token; retry in {after} s",
                    reason="rate_limited", headers={"Retry-After": str(after)})
