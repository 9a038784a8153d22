"""The app: routes, middleware and the life of the stream fan-out, wired top to bottom.

    app = create_app(runtime)            # uvicorn.run(app, ...) in `skywarden serve`

Under one origin: REST and WebSockets under ``/api/v1/`` (:mod:`.routes` lists them),
``/metrics``, ``/openapi.json``, ``/docs``, and the web map (``skywarden/web/``) at
``/``. While the app runs (lifespan) two tasks run beside the requests: the stream
fan-out on the runtime's bus, and the writer of ingest audit entries.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .auth import TokenCheck
from .docs_page import docs_page
from .errors import ApiError, error_response
from .ingest_audit import IngestAudit
from .limits import RateLimits, read_body
from .metrics import ApiMetrics, MetricsMiddleware
from .openapi import openapi
from .routes import routes
from .service import ApiSettings, Service
from .stream import Hub

__all__ = ["create_app"]


def _web_dir(settings: ApiSettings) -> Path | None:
    if settings.web_dir is not None:
        path = Path(settings.web_dir)
    else:
        path = Path(str(resources.files("skywarden").joinpath("web")))
    return path if (path / "index.html").is_file() else None


async def _no_map(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>Skywarden</title><p>No web map is installed. "
                        "The API is described at <a href='/docs'>/docs</a>.</p>")


def create_app(runtime: Any, settings: ApiSettings | None = None) -> Starlette:
    """The ASGI app serving ``runtime`` (a :class:`skywarden.live.Runtime`)."""
    settings = settings or ApiSettings()
    metrics = ApiMetrics(getattr(runtime, "metrics", None))
    svc = Service(
        runtime=runtime, settings=settings,
        tokens=TokenCheck(runtime.store, runtime.clock, cache_s=settings.token_cache_s),
        limits=RateLimits(settings.requests_per_s, settings.requests_burst,
                          settings.detections_per_s, settings.detections_burst),
        metrics=metrics,
    )
    svc.hub = Hub(getattr(runtime, "bus", None), metrics, runtime.clock)
    svc.audit = IngestAudit(runtime.store)

    async def body(request: Request) -> bytes:
        return await read_body(request, settings.max_body_bytes)

    svc.extra["read_body"] = body

    async def spec(request: Request) -> Response:
        return JSONResponse(openapi())

    table: list[BaseRoute] = [
        *routes(svc),
        Route("/metrics", metrics.endpoint),
        Route("/openapi.json", spec),
        Route("/docs", docs_page),
    ]
    web = _web_dir(settings)
    if web is not None:
        # The map's files gzipped for clients that take them (2 MB, most of it the
        # vendored map and symbol libraries, is 0.5 MB gzipped), compressed as they are
        # asked for; browsers revalidate them after (ETag), so each is sent once. The API's
        # own answers are not: the live picture would be compressed on every poll.
        static = GZipMiddleware(StaticFiles(directory=web, html=True), minimum_size=1024,
                                compresslevel=6)
        table.append(Mount("/", static, name="web"))
    else:
        table.append(Route("/", _no_map))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if svc.hub.bus is not None:
            svc.hub.start()
        svc.audit.start()
        try:
            yield
        finally:
            await svc.hub.stop()
            await svc.audit.stop()

    app = Starlette(
        routes=table,
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
        exception_handlers={ApiError: error_response},
        lifespan=lifespan,
    )
    app.state.service = svc
    return app
