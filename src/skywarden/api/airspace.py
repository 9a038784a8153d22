"""Airspace: zones (shipped and restrictions in force), restrictions, borders, CAP feeds.

A new restriction is a GeoJSON Feature; the runtime reads it with the zone loader (so
anything accepted here the assessor can use), names a refused field, and stores it
audited with the caller as who. The caller's nation is the restriction's owner.
"""

from __future__ import annotations

import functools
import gzip
import re
from importlib import resources

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from ..airspace.borders import DATA_FILE, LAND_FILE
from ..errors import RecordError
from ..live.errors import RestrictionError, UnknownRestrictionError
from .auth import Principal
from .errors import ApiError
from .query import query_bool
from .service import Service, json_response

__all__ = ["borders", "cap_feed", "end_restriction", "list_restrictions", "make_restriction",
           "zones"]

_NATION = re.compile(r"[A-Z]{3}")


async def zones(svc: Service, request: Request, who: Principal | None) -> Response:
    """Shipped zones, then the restrictions in force, as one FeatureCollection."""
    out = json_response(await svc.blocking(svc.runtime.zones_geojson))
    out.headers["content-type"] = "application/geo+json"
    return out


async def list_restrictions(svc: Service, request: Request, who: Principal | None
                            ) -> Response:
    every = query_bool(request, "all", False)
    return json_response(await svc.blocking(svc.store.restrictions, active_only=not every))


async def make_restriction(svc: Service, request: Request, who: Principal | None
                           ) -> Response:
    assert who is not None
    body = await svc.extra["read_body"](request)
    try:
        feature = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"body: not valid JSON ({exc})", reason="bad_json") from exc
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ApiError(400, 'body: a GeoJSON Feature ({"type": "Feature", ...})',
                       reason="bad_field", field="type")
    try:
        made = await svc.blocking(svc.runtime.add_restriction, feature, who.who,
                                  owner=who.nation or "")
    except RestrictionError as exc:
        taken = "taken" in exc.reason
        raise ApiError(409 if taken else 400, f"{exc.where}: {exc.reason}",
                       reason="conflict" if taken else "bad_field", field=exc.where) from exc
    return json_response(made, status=201)


async def end_restriction(svc: Service, request: Request, who: Principal | None
                          ) -> Response:
    assert who is not None
    zone_id = request.path_params["id"]
    try:
        ended = await svc.blocking(svc.runtime.end_restriction, zone_id, who.who)
    except UnknownRestrictionError as exc:
        raise ApiError(404, str(exc), reason="not_found", field="id") from exc
    return json_response(ended)


@functools.cache
def _shipped(name: str) -> bytes:
    """A shipped GeoJSON file's bytes, read once."""
    return resources.files("skywarden").joinpath("data", name).read_bytes()


@functools.cache
def _shipped_gzip(name: str) -> bytes:
    """The same, gzipped once (a third of the size)."""
    return gzip.compress(_shipped(name), compresslevel=9, mtime=0)


def _geojson(request: Request, name: str) -> Response:
    """A shipped GeoJSON file, gzipped when the client takes it: each is about 0.9 MB,
    0.3 MB gzipped, and the map loads two on start."""
    compressed = "gzip" in request.headers.get("accept-encoding", "").lower()
    headers = {"Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if compressed:
        headers["Content-Encoding"] = "gzip"
    body = _shipped_gzip(name) if compressed else _shipped(name)
    return Response(body, media_type="application/geo+json",
                    headers=headers)


async def borders(svc: Service, request: Request, who: Principal | None) -> Response:
    """The land (coastlines and land borders), for drawing the base map."""
    return _geojson(request, LAND_FILE)


async def national_airspace(svc: Service, request: Request, who: Principal | None
                            ) -> Response:
    """The nations' airspace as assessed (land and territorial sea)."""
    return _geojson(request, DATA_FILE)


async def cap_feed(svc: Service, request: Request, who: Principal | None) -> Response:
    nation = request.path_params["nation"]
    if not _NATION.fullmatch(nation):
        raise ApiError(404, f"nation: an ISO alpha-3 code in capitals, not {nation[:20]!r}",
                       reason="not_found", field="nation")
    try:
        xml = await svc.blocking(svc.runtime.cap_feed, nation)
    except RecordError as exc:
        raise ApiError(503, str(exc), reason="no_cap") from exc
    return Response(xml, media_type="application/atom+xml")
