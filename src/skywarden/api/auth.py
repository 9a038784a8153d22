"""Who is asking, what they may do, and what they may see.

- **Tokens** arrive as ``Authorization: Bearer <token>`` or, for a browser's WebSocket
  (which cannot set headers), ``?token=<token>``. The store checks them against a salted
  scrypt hash (about 20 ms), so a good result is remembered for ``cache_s`` seconds
  (keyed by a SHA-256 of the token, never the token itself); a token revoked through
  this API is forgotten at once, one revoked elsewhere within ``cache_s``.
- **Roles** are ordered: viewer < operator < admin; a role includes those below it.
- **Releasability** (docs/API.md): a row marked ``public`` goes to everyone, ``allies``
  to every organisation with a nation, ``POL,LTU`` to those nations only, ``none`` to
  nobody; the rule is the runtime's own (:mod:`skywarden.live.release`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from ..live.release import visible
from .errors import ApiError

__all__ = ["ROLES", "Principal", "TokenCheck", "bearer", "may_see"]

ROLES = ("viewer", "operator", "admin")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="skywarden"'}
_LEVEL = {r: i + 1 for i, r in enumerate(ROLES)}


@dataclass(frozen=True, slots=True)
class Principal:
    """The organisation behind a request, by one of its tokens."""

    organisation: str
    nation: str | None
    roles: tuple[str, ...]
    token: str  # the token's public id

    @property
    def level(self) -> int:
        return max((_LEVEL.get(r, 0) for r in self.roles), default=0)

    def has(self, role: str) -> bool:
        return self.level >= _LEVEL[role]

    @property
    def who(self) -> str:
        """How this caller is named in the audit log and on acknowledgements."""
        return f"{self.organisation}/{self.token}"


def _nations(mark: str) -> frozenset[str]:
    return frozenset(n.strip() for n in mark.split(",") if n.strip())


def may_see(releasability: str | None, nation: str | None) -> bool:
    """Whether a row marked ``releasability`` may go to a caller of ``nation`` (None:
    an organisation without a nation, or nobody signed in). One rule for the whole
    service: the runtime's (:func:`skywarden.live.release.visible`)."""
    return visible(releasability, nation)


def bearer(conn: HTTPConnection) -> str | None:
    """The token a request or WebSocket carries, or None."""
    header = conn.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""
    return conn.query_params.get("token")


class TokenCheck:
    """Token to :class:`Principal`, through the store, with a short memory."""

    def __init__(self, store: Any, clock: Any, *, cache_s: float = 30.0) -> None:
        self.store = store
        self.clock = clock
        self.cache_s = cache_s
        self._cache: dict[bytes, tuple[float, Principal, float | None]] = {}

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    async def principal(self, token: str | None) -> Principal | None:
        if not token:
            return None
        key = self._key(token)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            if hit[2] is None or hit[2] > self.clock.now():
                return hit[1]
            self._cache.pop(key, None)
            return None
        grant = await asyncio.to_thread(self.store.check_token, token)
        if grant is None:
            self._cache.pop(key, None)
            return None
        who = Principal(grant.organisation, grant.nation, tuple(grant.roles), grant.id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self.cache_s, who, grant.expires)
        return who

    def forget(self, token_id: str) -> None:
        """Drop remembered results of one token (after it is revoked)."""
        for key in [k for k, v in self._cache.items() if v[1].token == token_id]:
            self._cache.pop(key, None)

    async def require(self, conn: HTTPConnection, role: str | None) -> Principal | None:
        """The caller, checked to hold ``role`` (None: anyone, signed in or not).

        401 when a role is needed and the token is missing or not valid; 403 when the
        role is too low.
        """
        token = bearer(conn)
        if role is None:
            return await self.principal(token) if token else None
        if token is None:
            raise ApiError(401, "a token is needed: Authorization: Bearer <token>",
                           reason="no_token", headers=_CHALLENGE)
        who = await self.principal(token)
        if who is None:
            raise ApiError(401, "the token is not valid (unknown, revoked or expired)",
                           reason="bad_token", headers=_CHALLENGE)
        if not who.has(role):
            raise ApiError(403, f"role {role} is needed; this token has "
                           f"{', '.join(who.roles) or 'no role'}", reason="forbidden")
        return who
