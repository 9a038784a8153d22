"""Organisations and tokens (admin): create an organisation, issue and revoke tokens.

Each is one audit entry written by the store in the same transaction, with the admin's
organisation and token id as who. A new token is in the answer once; only its hash is
kept.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..store import StoreError
from .auth import Principal
from .errors import ApiError
from .schemas import NewOrganisation, NewToken, decode_body
from .service import Service, json_response

__all__ = ["add_organisation", "issue_token", "revoke_token"]


async def add_organisation(svc: Service, request: Request, who: Principal | None
                           ) -> Response:
    assert who is not None
    body = decode_body(await svc.extra["read_body"](request), NewOrganisation)
    try:
        org = await svc.blocking(svc.store.add_organisation, body.id, body.name,
                                 nation=body.nation, roles=list(body.roles), by=who.who)
    except StoreError as exc:
        raise ApiError(409, f"organisation {body.id!r} exists", reason="conflict",
                       field="id") from exc
    return json_response(org, status=201)


async def issue_token(svc: Service, request: Request, who: Principal | None) -> Response:
    assert who is not None
    org = request.path_params["id"]
    body = decode_body(await svc.extra["read_body"](request), NewToken)
    if body.expires is not None and body.expires <= svc.now():
        raise ApiError(400, "field expires: already past", reason="bad_field",
                       field="expires")
    try:
        issued = await svc.blocking(
            svc.store.issue_token, org, roles=None if body.roles is None else list(body.roles),
            expires=body.expires, by=who.who)
    except StoreError as exc:
        raise ApiError(404, f"no organisation {org!r}", reason="not_found",
                       field="id") from exc
    return json_response(issued, status=201)


async def revoke_token(svc: Service, request: Request, who: Principal | None) -> Response:
    assert who is not None
    token_id = request.path_params["id"]
    done = await svc.blocking(svc.store.revoke_token, token_id, by=who.who)
    if not done:
        raise ApiError(404, f"no token {token_id!r} in use", reason="not_found", field="id")
    svc.tokens.forget(token_id)
    return json_response({"revoked": token_id})
