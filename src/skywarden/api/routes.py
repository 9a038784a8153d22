"""Every endpoint, described once: method, path, role, summary, what it reads and writes.

The app's routes and the OpenAPI document are both made from :data:`ENDPOINTS`, so the
published spec cannot drift from what is served. Each handler is
``async (service, request, caller) -> Response``; the wrapper made here checks the role
(401/403), counts the call against the caller's rate (429), and turns an
:class:`~.errors.ApiError` into its JSON answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..records import AlertEvent, Detection, TrackUpdate
from ..store import IssuedToken, Organisation, StoredAlert, StoredRestriction
from . import admin, airspace, alerts, ingest, system, tracks
from .auth import Principal
from .errors import ApiError
from .schemas import (
    Accepted,
    AckBody,
    CitizenReport,
    FeedState,
    Me,
    NewOrganisation,
    NewToken,
    Sensor,
    TimeInfo,
    Tracks,
)
from .service import Service
from .stream_socket import stream_socket

__all__ = ["ENDPOINTS", "SOCKETS", "Endpoint", "Param", "Socket", "routes"]

Handler = Callable[[Service, Request, Principal | None], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: str  # "query" or "path"
    description: str
    type: str = "string"
    required: bool = False
    pattern: str | None = None  # a string's form (JSON Schema pattern)


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    role: str | None  # None: no token needed
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    body: Any = None  # a type, or a (media type, schema) pair
    body_required: bool = True  # False: a missing body means every field's default
    response: Any = None  # a type, list[type], or (media type, description)
    status: int = 200
    tag: str = "service"
    errors: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Socket:
    path: str
    role: str
    summary: str
    handler: Callable[[Service, WebSocket], Awaitable[None]]
    params: tuple[Param, ...] = field(default=())


_NUMBER = r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*"
BBOX = Param("bbox", "query", "w,s,e,n in degrees (w > e crosses 180); empty: no box",
             pattern=f"^({_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER})?$")
NATION = r"^[A-Z]{3}$"
SINCE = Param("since", "query", "epoch seconds", "number")
UNTIL = Param("until", "query", "epoch seconds (default now)", "number")
ID = Param("id", "path", "identifier", required=True)
GEOJSON = ("application/geo+json", "GeoJSON FeatureCollection")

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/api/v1/me", "viewer", "The caller's organisation, nation and roles",
             system.me, response=Me),
    Endpoint("GET", "/api/v1/time", "viewer", "The service clock (scenario time in a demo)",
             system.time_now, response=TimeInfo),
    Endpoint("GET", "/api/v1/tracks", "viewer", "The live picture, releasable rows only",
             tracks.live_tracks, (BBOX,), response=Tracks, tag="tracks"),
    Endpoint("GET", "/api/v1/tracks/{id}/history", "viewer", "One track's stored rows",
             tracks.track_history, (ID, SINCE, UNTIL), response=list[TrackUpdate],
             tag="tracks", errors=(404,)),
    Endpoint("GET", "/api/v1/history", "viewer",
             "Stored rows in a window (at most 24 h and 200,000 rows)",
             tracks.history_window, (Param("since", "query", "epoch seconds", "number",
                                           True), UNTIL, BBOX),
             response=list[TrackUpdate], tag="tracks"),
    Endpoint("GET", "/api/v1/snapshot.geojson", "viewer", "The live picture as GeoJSON points",
             tracks.snapshot_geojson, (BBOX,), response=GEOJSON, tag="tracks"),
    Endpoint("GET", "/api/v1/alerts", "viewer", "Stored alerts, highest level first",
             alerts.list_alerts,
             (Param("open", "query", "only open alerts (default true)", "boolean"),
              Param("nation", "query", "only alerts for this nation (ISO alpha-3; empty: "
                    "all the caller may see)", pattern=r"^([A-Z]{3})?$")),
             response=list[StoredAlert], tag="alerts"),
    Endpoint("POST", "/api/v1/alerts/{id}/ack", "operator",
             "Acknowledge an alert of the caller's nation", alerts.acknowledge, (ID,),
             body=AckBody, response=StoredAlert, tag="alerts", errors=(404, 409)),
    Endpoint("GET", "/api/v1/zones", "viewer", "Shipped zones and restrictions in force",
             airspace.zones, response=GEOJSON, tag="airspace"),
    Endpoint("GET", "/api/v1/restrictions", "viewer", "Stored restrictions",
             airspace.list_restrictions,
             (Param("all", "query", "ended ones too (default false)", "boolean"),),
             response=list[StoredRestriction], tag="airspace"),
    Endpoint("POST", "/api/v1/restrictions", "operator",
             "Make a restriction (a GeoJSON Feature); in force for assessment at once",
             airspace.make_restriction,
             body=("application/geo+json", "GeoJSON Feature: Polygon; properties name, "
                   "type, floor, ceiling, units (m or FL), start, end, applies_to"),
             response=StoredRestriction, status=201, tag="airspace", errors=(409,)),
    Endpoint("DELETE", "/api/v1/restrictions/{id}", "operator", "End a restriction",
             airspace.end_restriction, (ID,), response=StoredRestriction, tag="airspace",
             errors=(404,)),
    Endpoint("GET", "/api/v1/sensors", "viewer", "Sensors releasable to the caller, with health",
             system.sensors, response=list[Sensor]),
    Endpoint("GET", "/api/v1/feeds", "operator",
             "The site's feeds (site.toml): connection state and decode counts by outcome",
             system.feeds, response=list[FeedState]),
    Endpoint("GET", "/api/v1/outputs", "admin",
             "The site's outputs (TAK, webhooks): counters and last errors",
             system.outputs, response=("application/json", "counters by output")),
    Endpoint("GET", "/api/v1/cap/{nation}.xml", None,
             "CAP 1.2 feed (Atom) of a nation's public warnings", airspace.cap_feed,
             (Param("nation", "path", "ISO alpha-3", required=True, pattern=NATION),),
             response=("application/atom+xml", "Atom feed of CAP 1.2 alerts"), tag="alerts",
             errors=(404,)),
    Endpoint("GET", "/api/v1/borders.geojson", None, "Country borders for the base map",
             airspace.borders, response=GEOJSON, tag="airspace"),
    Endpoint("GET", "/api/v1/airspace.geojson", None,
             "Nations' airspace (land and territorial sea): what a track enters",
             airspace.national_airspace, response=GEOJSON, tag="airspace"),
    Endpoint("POST", "/api/v1/detections", "operator",
             "Detections in: JSON Lines or a JSON array; accepted whole or refused whole",
             ingest.post_detections,
             body=("application/x-ndjson", list[Detection]), response=Accepted, status=202,
             tag="ingest", errors=(413, 429)),
    Endpoint("POST", "/api/v1/reports", "viewer",
             "A citizen report; becomes a position detection of a visual_report sensor",
             ingest.post_report, body=CitizenReport, response=Accepted, status=202,
             tag="ingest", errors=(429, 503)),
    Endpoint("POST", "/api/v1/organisations", "admin", "Make an organisation",
             admin.add_organisation, body=NewOrganisation, response=Organisation,
             status=201, tag="admin", errors=(409,)),
    Endpoint("POST", "/api/v1/organisations/{id}/tokens", "admin",
             "Issue a token (shown once; only its hash is kept)", admin.issue_token, (ID,),
             body=NewToken, body_required=False, response=IssuedToken, status=201,
             tag="admin", errors=(404,)),
    Endpoint("DELETE", "/api/v1/tokens/{id}", "admin", "Revoke a token by its id",
             admin.revoke_token, (ID,), response=("application/json", '{"revoked": id}'),
             tag="admin", errors=(404,)),
)

SOCKETS: tuple[Socket, ...] = (
    Socket("/api/v1/stream", "viewer",
           "Live stream: hello, tracks deltas per tick, alert events (AlertEvent); send "
           '{"bbox": [w,s,e,n]} to change the box', stream_socket,
           (Param("token", "query", "API token (browsers cannot set headers)"), BBOX)),
    Socket("/api/v1/ingest", "operator",
           'Detections in: each message a batch, each answered {"accepted": n} or an error',
           ingest.ingest_socket, (Param("token", "query", "API token"),)),
)

# Records the spec names (its components).
RECORDS: tuple[Any, ...] = (Detection, TrackUpdate, AlertEvent)


def _wrap(ep: Endpoint, svc: Service) -> Callable[[Request], Awaitable[Response]]:
    # The query parameters the endpoint takes, and the token (which may come that way).
    known = sorted(p.name for p in ep.params if p.where == "query")
    takes = f"it takes {', '.join(known)}" if known else "it takes none"

    async def endpoint(request: Request) -> Response:
        try:
            who = await svc.tokens.require(request, ep.role)
            key = who.token if who is not None else \
                f"ip:{request.client.host if request.client else '?'}"
            svc.limits.request(key)
            unknown = sorted(set(request.query_params) - {*known, "token"})
            if unknown:
                # A misspelt or imagined filter (?limit=10) would silently be ignored.
                raise ApiError(400, f"{unknown[0]}: not a parameter of {ep.method} "
                               f"{ep.path} ({takes}; /docs describes them)",
                               reason="bad_param", field=unknown[0])
            return await ep.handler(svc, request, who)
        except ApiError as exc:
            request.scope.setdefault("state", {})["reject_reason"] = exc.reason
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    endpoint.__name__ = ep.handler.__name__
    return endpoint


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _error(request: Request, status: int, why: str, reason: str, headers: dict[str, str]
           ) -> JSONResponse:
    """An API error answer, counted by its reason like every refusal."""
    request.scope.setdefault("state", {})["reject_reason"] = reason
    return JSONResponse(ApiError(status, why, reason=reason).body(), status_code=status,
                        headers=headers)


def _other_methods(path: str, allowed: list[str]) -> Route:
    """The path's answer to the methods it does not serve: OPTIONS lists the ones it
    does (204, ``Allow``), any other is a 405 that lists them too (without this the web
    map's static files answered, with their own GET and HEAD)."""
    allow = ", ".join(sorted({*allowed, *(("HEAD",) if "GET" in allowed else ()),
                              "OPTIONS"}))

    async def answer(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return _error(request, 405, f"{request.method} is not served on {path}: {allow}",
                      "method_not_allowed", {"Allow": allow})

    return Route(path, answer, methods=[m for m in _METHODS if m not in allowed])


async def _upgrade_required(request: Request) -> Response:
    return _error(request, 426,
                  f"{request.url.path} is a WebSocket: connect with Upgrade: websocket",
                  "upgrade_required", {"Upgrade": "websocket", "Connection": "Upgrade"})


async def _no_such_endpoint(request: Request) -> Response:
    return _error(request, 404, f"no endpoint {request.url.path} (the API is described at /docs)",
                  "no_route", {})


def routes(svc: Service) -> list[Route | WebSocketRoute]:
    """The API's routes: every endpoint and socket, each path's answer to other methods,
    and a JSON 404 for any other path under /api/ (which the web map's files must not
    answer)."""
    out: list[Route | WebSocketRoute] = [
        Route(ep.path, _wrap(ep, svc), methods=[ep.method]) for ep in ENDPOINTS
    ]
    served: dict[str, list[str]] = {}
    for ep in ENDPOINTS:
        served.setdefault(ep.path, []).append(ep.method)
    out += [_other_methods(path, methods) for path, methods in served.items()]
    for sock in SOCKETS:
        handler = sock.handler

        async def ws_endpoint(ws: WebSocket, handler: Any = handler) -> None:
            await handler(svc, ws)

        out.append(WebSocketRoute(sock.path, ws_endpoint))
        out.append(Route(sock.path, _upgrade_required, methods=list(_METHODS)))
    out.append(Route("/api/{rest:path}", _no_such_endpoint, methods=list(_METHODS)))
    return out
