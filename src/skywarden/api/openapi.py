"""The OpenAPI 3.1 document, made from :data:`~.routes.ENDPOINTS` and the records.

Schemas come from :func:`msgspec.json.schema_components` of the very structs that decode
and encode the bodies, so the spec and the validation are one declaration. WebSockets,
which OpenAPI does not describe, are listed as ``GET`` operations marked
``x-websocket: true``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec

from .. import __version__
from ..records import Detection
from .routes import ENDPOINTS, RECORDS, SOCKETS, Endpoint, Param
from .schemas import Error

__all__ = ["openapi"]

REF = "#/components/schemas/{name}"
_STATUS_TEXT = {400: "Bad request: what, where (field, index or line) and why",
                401: "No token, or not a valid one", 403: "Role too low",
                404: "Not found", 409: "Conflict with the current state",
                413: "Body or batch over the limit", 429: "Rate limit (see Retry-After)",
                503: "Not available"}
_PATH_PARAM = re.compile(r"\{(\w+)\}")


def _types(ep: Endpoint) -> list[Any]:
    out = []
    for t in (ep.body, ep.response):
        if isinstance(t, tuple):
            t = t[1]
        if t is not None and not isinstance(t, str):
            out.append(t)
    return out


def _param(p: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": p.type}
    if p.pattern is not None:
        schema["pattern"] = p.pattern
    return {"name": p.name, "in": p.where, "required": p.required or p.where == "path",
            "description": p.description, "schema": schema}


@functools.cache
def openapi() -> dict[str, Any]:
    types: list[Any] = [Error, *RECORDS]
    for ep in ENDPOINTS:
        for t in _types(ep):
            if t not in types:
                types.append(t)
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    schema_of = dict(zip(map(repr, types), schemas, strict=True))

    def content(t: Any, default_media: str = "application/json") -> dict[str, Any]:
        if isinstance(t, tuple):
            media, what = t
            if isinstance(what, str):
                # GeoJSON is always an object (a Feature or a FeatureCollection)
                kind = {"type": "object"} if media.endswith("geo+json") else {}
                return {media: {"schema": {**kind, "description": what}}}
            return {media: {"schema": schema_of[repr(what)]}}
        return {default_media: {"schema": schema_of[repr(t)]}}

    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        op: dict[str, Any] = {
            "summary": ep.summary, "tags": [ep.tag],
            "operationId": f"{ep.method.lower()}_{ep.handler.__name__}",
            "parameters": [_param(p) for p in ep.params],
            "responses": {str(ep.status): {"description": "OK"}},
            "x-role": ep.role or "none",
        }
        if ep.response is not None:
            op["responses"][str(ep.status)]["content"] = content(ep.response)
        if ep.body is not None:
            op["requestBody"] = {"required": ep.body_required, "content": content(ep.body)}
            if ep.path.endswith("/detections"):
                op["requestBody"]["content"]["application/json"] = {
                    "schema": schema_of[repr(list[Detection])]}
        errors = set(ep.errors) | {400}
        if ep.role is not None:
            op["security"] = [{"bearer": []}]
            op["description"] = f"Role: {ep.role} or above."
            errors |= {401, 403, 429}
        for code in sorted(errors):
            op["responses"][str(code)] = {
                "description": _STATUS_TEXT[code],
                "content": {"application/json": {"schema": {"$ref": REF.format(name="Error")}}}}
        paths.setdefault(ep.path, {})[ep.method.lower()] = op
    for sock in SOCKETS:
        paths[sock.path] = {"get": {
            "summary": sock.summary, "tags": ["WebSockets"], "x-websocket": True,
            "x-role": sock.role, "description": f"WebSocket. Role: {sock.role} or above. "
            "docs/API.md describes the messages.",
            "parameters": [_param(p) for p in sock.params],
            "responses": {"101": {"description": "Switching protocols"},
                          "426": {"description": "Not a WebSocket upgrade"}}}}
    paths["/metrics"] = {"get": {"summary": "Prometheus metrics", "tags": ["service"],
                                 "x-role": "none",
                                 "responses": {"200": {"description": "Prometheus text"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Skywarden live service", "version": __version__,
                 "description": "Common air picture and early warning: tracks, alerts, "
                 "airspace, ingest. Errors are {error, reason, field, index, line}."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
