"""Alerts: the stored list (highest level first) and acknowledgement.

A caller sees an alert only when its newest event is releasable to the caller's nation.
Acknowledging needs operator, and an alert is acknowledged by the nation it warns (an
admin may acknowledge any): another nation's operators see it but do not act for it.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from ..live.errors import AlertEndedError
from ..store import StoredAlert
from ..warn.alerts import UnknownAlertError
from .auth import Principal, may_see
from .errors import ApiError
from .query import query_bool
from .schemas import AckBody, decode_body
from .service import Service, json_response

__all__ = ["acknowledge", "list_alerts"]

_NATION = re.compile(r"[A-Z]{3}")
MAX_LISTED = 1000


def _shown(alert: StoredAlert, who: Principal | None) -> bool:
    return may_see(alert.last.releasability, who.nation if who else None)


async def list_alerts(svc: Service, request: Request, who: Principal | None) -> Response:
    open_only = query_bool(request, "open", True)
    nation = request.query_params.get("nation") or None
    if nation is not None and not _NATION.fullmatch(nation):
        raise ApiError(400, f"nation: an ISO alpha-3 code in capitals, not {nation[:20]!r}",
                       reason="bad_param", field="nation")
    if open_only:
        alerts = await svc.blocking(svc.store.open_alerts, nation)
    else:
        alerts = await svc.blocking(svc.store.recent_alerts, nation, MAX_LISTED)
    shown = [a for a in alerts if _shown(a, who)]
    shown.sort(key=lambda a: (-a.level, -a.changed, a.alert))
    return json_response(shown)


async def acknowledge(svc: Service, request: Request, who: Principal | None) -> Response:
    assert who is not None
    alert_id = request.path_params["id"]
    body = decode_body(await svc.extra["read_body"](request), AckBody)
    alert = await svc.blocking(svc.store.alert, alert_id)
    if alert is None or not _shown(alert, who):
        raise ApiError(404, f"no alert {alert_id!r}", reason="not_found", field="id")
    if alert.ended is not None:
        raise ApiError(409, f"alert {alert_id!r} ended at {alert.ended}; nothing to "
                       "acknowledge", reason="ended", field="id")
    if alert.nation != who.nation and not who.has("admin"):
        raise ApiError(403, f"alert {alert_id!r} warns {alert.nation}; it is acknowledged "
                       "by that nation's operators", reason="forbidden", field="id")
    try:
        await svc.blocking(svc.runtime.acknowledge, alert_id, who.who, body.note)
    except AlertEndedError as exc:
        raise ApiError(409, str(exc), reason="ended", field="id") from exc
    except UnknownAlertError as exc:
        raise ApiError(404, f"no open alert {alert_id!r}", reason="not_found",
                       field="id") from exc
    after = await svc.blocking(svc.store.alert, alert_id)
    return json_response(after if after is not None else alert)
