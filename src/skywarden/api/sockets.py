"""Opening a WebSocket: who is it, and the refusal a browser can read.

A browser cannot read the HTTP status of a refused WebSocket handshake, so a refusal is
made after accepting: one JSON message ``{"type": "error", "error", "reason",
"status"}``, then a close with code 4000 + the HTTP status (4401 no or bad token, 4403
role too low, 4429 rate limited).
"""

from __future__ import annotations

import msgspec
from starlette.websockets import WebSocket

from .auth import Principal
from .errors import ApiError
from .service import Service

__all__ = ["open_socket", "refuse"]


async def refuse(ws: WebSocket, exc: ApiError, svc: Service) -> None:
    svc.metrics.rejects.labels(exc.reason).inc()
    await ws.send_text(msgspec.json.encode(
        {"type": "error", **exc.body(), "status": exc.status}).decode())
    await ws.close(code=4000 + exc.status, reason=exc.reason)


async def open_socket(svc: Service, ws: WebSocket, role: str) -> Principal | None:
    """Accept ``ws`` and return its caller, or refuse it (and return None)."""
    await ws.accept()
    try:
        who = await svc.tokens.require(ws, role)
        assert who is not None
        svc.limits.request(who.token)
    except ApiError as exc:
        await refuse(ws, exc, svc)
        return None
    return who
