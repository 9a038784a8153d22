"""Tracks: the live picture, one track's history, a history window, a GeoJSON snapshot.

Every row passes :func:`~.auth.may_see` for the caller's nation before it leaves.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..records import TrackUpdate
from .auth import Principal, may_see
from .errors import ApiError
from .query import BBox, in_bbox, parse_bbox, query_float
from .service import Service, json_response

__all__ = ["history_window", "live_tracks", "snapshot_geojson", "track_history", "visible"]


def visible(rows: list[TrackUpdate], nation: str | None, box: BBox | None
            ) -> list[TrackUpdate]:
    """Rows the caller may see, inside the box."""
    return [r for r in rows
            if may_see(r.releasability, nation) and in_bbox(r.lat, r.lon, box)]


def _nation(who: Principal | None) -> str | None:
    return who.nation if who is not None else None


async def live_tracks(svc: Service, request: Request, who: Principal | None) -> Response:
    box = parse_bbox(request.query_params.get("bbox"))
    rows = visible(list(svc.runtime.picture()), _nation(who), box)
    return json_response({"time": svc.now(), "tracks": rows})


async def track_history(svc: Service, request: Request, who: Principal | None) -> Response:
    track = request.path_params["id"]
    since = query_float(request, "since", float("-inf"))
    until = query_float(request, "until", float("inf"))
    rows = await svc.blocking(svc.store.track_history, track, since, until)
    shown = [r for r in rows if may_see(r.releasability, _nation(who))]
    if not shown:
        # The same answer for unknown and not releasable: existence is not disclosed.
        raise ApiError(404, f"no stored rows of track {track!r} for you in that window",
                       reason="not_found", field="id")
    return json_response(shown)


async def history_window(svc: Service, request: Request, who: Principal | None) -> Response:
    s = svc.settings
    until = query_float(request, "until", svc.now())
    since = query_float(request, "since")
    if since is None:
        raise ApiError(400, "since: needed (epoch seconds)", reason="bad_param",
                       field="since")
    assert until is not None
    if until < since:
        raise ApiError(400, "until: before since", reason="bad_param", field="until")
    if until - since > s.history_max_s:
        raise ApiError(400, f"window of {until - since:.0f} s is over the limit of "
                       f"{s.history_max_s:.0f} s", reason="too_large", field="until")
    box = parse_bbox(request.query_params.get("bbox")) or (-180.0, -90.0, 180.0, 90.0)
    w, south, e, n = box
    rows = await svc.blocking(lambda: svc.store.tracks_in(
        since, until, south=south, west=w, north=n, east=e, limit=s.history_max_rows + 1))
    if len(rows) > s.history_max_rows:
        raise ApiError(400, f"the window holds more than {s.history_max_rows} rows; "
                       "narrow the time or the box", reason="too_large", field="since")
    return json_response([r for r in rows if may_see(r.releasability, _nation(who))])


def point_feature(r: TrackUpdate) -> dict[str, Any]:
    props: dict[str, Any] = {
        "track": r.track, "time": r.time, "alt": r.alt, "vel_e": r.vel_e,
        "vel_n": r.vel_n, "vel_u": r.vel_u, "status": r.status, "class": r.cls,
        "identity": r.identity, "ids": r.ids, "sensors": r.sensors, "flags": r.flags,
        "releasability": r.releasability,
    }
    if r.next_entry is not None:
        props["next_entry"] = r.next_entry
    return {"type": "Feature", "id": r.track,
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": props}


async def snapshot_geojson(svc: Service, request: Request, who: Principal | None
                           ) -> Response:
    box = parse_bbox(request.query_params.get("bbox"))
    rows = visible(list(svc.runtime.picture()), _nation(who), box)
    body = {"type": "FeatureCollection", "time": svc.now(),
            "features": [point_feature(r) for r in rows]}
    out = json_response(body)
    out.media_type = "application/geo+json"
    out.headers["content-type"] = "application/geo+json"
    return out
