"""Detections in: ``POST /api/v1/detections``, the ingest WebSocket, citizen reports.

A batch is a JSON array of detections or JSON Lines (one per line; chosen by the first
character that is not white space: ``[`` is an array). It is checked whole before any of
it is taken: every detection decodes as the Detection record (types, ranges), carries the
fields its kind needs, names a sensor of the registry, and that sensor belongs to the
caller's nation (an admin may send for any). The first bad one refuses the batch with
its ``index`` (array, from 0) or ``line`` (JSON Lines, from 1), the ``field`` and why;
nothing of it reaches the runtime. An accepted batch is audited (``ingest.batch``: who,
how many, from which sensors, over which times; see :mod:`.ingest_audit`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import RecordError
from ..records import Detection, DetectionBatch
from .auth import Principal
from .errors import ApiError, explain_msgspec
from .schemas import CitizenReport, decode_body
from .service import Service, json_response

__all__ = ["ingest_socket", "parse_detections", "post_detections", "post_report"]

_decoder = msgspec.json.Decoder(Detection)
_array = msgspec.json.Decoder(list[Detection])
_FIELD = re.compile(r"fields? (\w+)")


def _bad(reason_text: str, index: int, lines: bool, field: str | None, reason: str
         ) -> ApiError:
    at = f"line {index + 1}" if lines else f"detection {index}"
    what = f"{at}: field {field}: {reason_text}" if field else f"{at}: {reason_text}"
    return ApiError(400, what + "; nothing of the batch was taken", reason=reason,
                    field=field, line=index + 1 if lines else None,
                    index=None if lines else index)


def parse_detections(body: bytes, max_batch: int) -> tuple[list[Detection], bool]:
    """The detections of a body, checked as records; (detections, was JSON Lines).
    :class:`ApiError` names the first bad one."""
    head = body.lstrip()[:1]
    if not head:
        raise ApiError(400, "empty batch", reason="empty")
    if head == b"[":
        try:
            dets = _array.decode(body)
        except msgspec.DecodeError as exc:
            why, index, field = explain_msgspec(exc)
            if index is None:
                raise ApiError(400, f"body: {why}", reason="bad_json") from exc
            raise _bad(why, index, False, field, "bad_field") from exc
        lines = False
        if len(dets) > max_batch:
            raise ApiError(413, f"{len(dets)} detections: over the limit of {max_batch} "
                           "per batch", reason="too_many")
    else:
        lines = True
        raw = body.split(b"\n")
        if sum(1 for r in raw if r.strip()) > max_batch:
            raise ApiError(413, f"over the limit of {max_batch} detections per batch",
                           reason="too_many")
        dets = []
        for i, line in enumerate(raw):
            if not line.strip():
                continue
            try:
                dets.append(_decoder.decode(line))
            except msgspec.DecodeError as exc:
                why, _, field = explain_msgspec(exc)
                reason = "bad_json" if why.startswith("not valid JSON") else "bad_field"
                raise _bad(why, i, True, field, reason) from exc
    if not dets:  # "[]": nothing to take, as an empty body
        raise ApiError(400, "empty batch", reason="empty")
    numbers = _line_numbers(body) if lines else []
    for k, det in enumerate(dets):
        try:
            det.check()
        except RecordError as exc:
            m = _FIELD.search(str(exc))
            where = numbers[k] if lines else k
            raise _bad(str(exc).split(": ", 1)[-1] if str(exc).startswith("field ")
                       else str(exc), where, lines, m.group(1) if m else None,
                       "bad_field") from exc
    return dets, lines


def _line_numbers(body: bytes) -> list[int]:
    return [i for i, line in enumerate(body.split(b"\n")) if line.strip()]


def registry_of(runtime: Any) -> Any:
    return runtime.registry


def check_sensors(svc: Service, who: Principal, dets: list[Detection], body: bytes,
                  lines: bool) -> tuple[str, ...]:
    """The registry's sensor ids; 400 for an unknown sensor, 403 for another nation's."""
    registry = registry_of(svc.runtime)
    numbers = _line_numbers(body) if lines else None
    admin = who.has("admin")
    owners: dict[str, str | None] = {}
    for k, det in enumerate(dets):
        owner = owners.get(det.sensor, "?")
        if owner == "?":
            sensor = registry.get(det.sensor)
            owner = owners[det.sensor] = sensor.owner if sensor is not None else None
        where = numbers[k] if numbers is not None else k
        if owner is None:
            raise _bad(f"{det.sensor!r} is not in the sensor registry", where, lines,
                       "sensor", "unknown_sensor")
        if not admin and owner != who.nation:
            err = _bad(f"{det.sensor!r} belongs to {owner}, not to "
                       f"{who.nation or 'an organisation without a nation'}", where,
                       lines, "sensor", "not_owner")
            err.status = 403
            raise err
    return tuple(registry.ids)


async def take(svc: Service, who: Principal, body: bytes, via: str) -> int:
    """Check a whole batch, hand it to the runtime, audit it; the count taken."""
    dets, lines = parse_detections(body, svc.settings.max_batch)
    ids = check_sensors(svc, who, dets, body, lines)
    svc.limits.detections(who.token, len(dets))
    await hand_over(svc, who, dets, ids, via)
    return len(dets)


async def hand_over(svc: Service, who: Principal, dets: list[Detection],
                    ids: tuple[str, ...], via: str, extra: dict[str, Any] | None = None
                    ) -> None:
    batch = DetectionBatch.from_records(dets, ids)
    result = svc.runtime.ingest(batch, f"{via}:{who.who}")
    if hasattr(result, "__await__"):
        await result
    svc.metrics.detections.labels(via).inc(len(dets))
    sensors = Counter(d.sensor for d in dets)
    details = {"via": via, "accepted": len(dets), "sensors": dict(sensors),
               "t0": min(d.time for d in dets), "t1": max(d.time for d in dets),
               **(extra or {})}
    await svc.audit.add(who.who, via, details)


async def post_detections(svc: Service, request: Request, who: Principal | None
                          ) -> Response:
    assert who is not None
    body = await svc.extra["read_body"](request)
    n = await take(svc, who, body, "http")
    return json_response({"accepted": n}, status=202)


def report_sensor(svc: Service, who: Principal) -> str:
    """The citizen-report channel for the caller: a ``visual_report`` sensor of its
    nation; else one whose data the caller's nation may see (a report must not vanish
    from the picture of the nation that sent it); else the first of the registry."""
    channels = [s for s in registry_of(svc.runtime) if s.type == "visual_report"]
    if not channels:
        raise ApiError(503, "no visual_report sensor in the registry takes reports",
                       reason="no_channel")
    own = [s for s in channels if s.owner == who.nation]
    shared = [s for s in channels if s.releasable_to(who.nation)]
    return str((own or shared or channels)[0].id)


async def post_report(svc: Service, request: Request, who: Principal | None) -> Response:
    assert who is not None
    report = decode_body(await svc.extra["read_body"](request), CitizenReport)
    now = svc.now()
    if report.time > now + 60.0:
        raise ApiError(400, f"field time: {report.time} is in the future (now {now})",
                       reason="bad_field", field="time")
    seen_sigma = svc.settings.report_sigma_seen_m
    sigma = svc.settings.report_sigma_heard_m if report.heard else seen_sigma
    det = Detection(time=report.time, sensor=report_sensor(svc, who), kind="position",
                    lat=report.lat, lon=report.lon, sigma_h=sigma,
                    class_hint=report.what, received=max(now, report.time))
    svc.limits.detections(who.token, 1)
    ids = tuple(registry_of(svc.runtime).ids)
    await hand_over(svc, who, [det], ids, "report",
                    {"report": msgspec.to_builtins(report)})
    return json_response({"accepted": 1, "sensor": det.sensor}, status=202)


async def ingest_socket(svc: Service, ws: WebSocket) -> None:
    """Each message is a batch; each gets ``{"accepted": n}`` or the error body."""
    from .sockets import open_socket

    who = await open_socket(svc, ws, "operator")
    if who is None:
        return
    gauge = svc.metrics.ws_clients.labels("ingest")
    gauge.inc()
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            data = msg.get("bytes") or (msg.get("text") or "").encode()
            try:
                if len(data) > svc.settings.max_body_bytes:
                    raise ApiError(413, f"message is over the limit of "
                                   f"{svc.settings.max_body_bytes} bytes",
                                   reason="too_large")
                svc.limits.request(who.token)
                n = await take(svc, who, data, "ws")
            except ApiError as exc:
                svc.metrics.rejects.labels(exc.reason).inc()
                body = {**exc.body(), "status": exc.status}
                if "Retry-After" in exc.headers:
                    body["retry_after"] = int(exc.headers["Retry-After"])
                await ws.send_text(msgspec.json.encode(body).decode())
                continue
            await ws.send_text(f'{{"accepted":{n}}}')
    except WebSocketDisconnect:
        pass
    finally:
        gauge.dec()
