"""``GET /api/v1/stream``: hello, the visible picture, then deltas and alert events.

The client may send ``{"bbox": [w, s, e, n]}`` (or ``null`` for everything) at any time;
it then receives the picture inside the new box and ``ended`` for what left it. A bad
message is answered ``{"type": "error", ...}`` and the stream goes on.
"""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from .auth import may_see
from .errors import ApiError
from .query import parse_bbox
from .schemas import BBoxMessage
from .service import Service
from .sockets import open_socket, refuse
from .stream import Mailbox

__all__ = ["stream_socket"]

_bbox_decoder = msgspec.json.Decoder(BBoxMessage)


async def _reader(svc: Service, ws: WebSocket, box: Mailbox) -> None:
    """Box changes from the client, until it goes."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text") or message.get("bytes") or b""
        try:
            svc.limits.request(box.token)
            msg = _bbox_decoder.decode(text)
            box.bbox = parse_bbox(msg.bbox)
        except msgspec.DecodeError as exc:
            svc.metrics.rejects.labels("bad_message").inc()
            err = {"type": "error", "error": f"send {{\"bbox\": [w, s, e, n]}}: {exc}",
                   "reason": "bad_message", "field": "bbox"}
            await ws.send_text(msgspec.json.encode(err).decode())
            continue
        except ApiError as exc:
            svc.metrics.rejects.labels(exc.reason).inc()
            await ws.send_text(msgspec.json.encode({"type": "error", **exc.body()}).decode())
            continue
        box.refile(list(svc.runtime.picture()), svc.now())


async def stream_socket(svc: Service, ws: WebSocket) -> None:
    who = await open_socket(svc, ws, "viewer")
    if who is None:
        return
    try:
        bbox = parse_bbox(ws.query_params.get("bbox"))
    except ApiError as exc:
        await refuse(ws, exc, svc)
        return
    hub = svc.hub
    box = Mailbox(who.nation, bbox, svc.settings.stream_alert_backlog)
    box.token = who.token
    hello = {"type": "hello", "time": svc.now(), "organisation": who.organisation,
             "nation": who.nation, "roles": list(who.roles)}
    await ws.send_text(msgspec.json.encode(hello).decode())
    box.refile(list(svc.runtime.picture()), svc.now())
    # The open alerts this nation may see now, which the client lists over REST: if one
    # narrows later (its track takes in data of a sensor this nation may not see), the
    # client must be told to drop it, as for the alerts it is sent here.
    opened = await svc.blocking(svc.store.open_alerts, None)
    box.alerts_shown.update(a.alert for a in opened
                            if may_see(a.last.releasability, who.nation))
    hub.clients.add(box)
    gauge = svc.metrics.ws_clients.labels("stream")
    gauge.inc()
    sent = svc.metrics.stream_messages
    reader = asyncio.get_running_loop().create_task(_reader(svc, ws, box))
    try:
        while not reader.done():
            waiter = asyncio.ensure_future(box.wake.wait())
            await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            box.wake.clear()
            if box.overflowed:
                await ws.close(code=1013, reason="too far behind; reload /api/v1/alerts")
                break
            while box.alerts:
                await ws.send_text(box.alerts.popleft().decode())
                sent.labels("alert").inc()
            message = box.take_tracks(svc.now())
            if message is not None:
                # one line per message: a large tick comes as several (Mailbox.take_tracks)
                for part in message.split(b"\n"):
                    await ws.send_text(part.decode())
                    sent.labels("tracks").inc()
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.clients.discard(box)
        gauge.dec()
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
