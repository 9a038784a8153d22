"""Who am I, what time is it (the service's clock), and which sensors are up."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .auth import Principal
from .service import Service, json_response

__all__ = ["feeds", "me", "outputs", "sensors", "time_now"]


async def me(svc: Service, request: Request, who: Principal | None) -> Response:
    assert who is not None
    return json_response({"organisation": who.organisation, "nation": who.nation,
                          "roles": list(who.roles), "token": who.token})


async def time_now(svc: Service, request: Request, who: Principal | None) -> Response:
    return json_response(svc.runtime.time_info())


async def sensors(svc: Service, request: Request, who: Principal | None) -> Response:
    """Only sensors releasable to the caller (the runtime applies the rule)."""
    return json_response(svc.runtime.sensors(who.nation if who else None))


async def feeds(svc: Service, request: Request, who: Principal | None) -> Response:
    """The site's feeds (addresses are internal: operators and admins only)."""
    return json_response(svc.runtime.feed_stats())


async def outputs(svc: Service, request: Request, who: Principal | None) -> Response:
    """The site's outputs (TAK, webhooks) and their counters (admins only)."""
    return json_response(svc.runtime.output_stats())
