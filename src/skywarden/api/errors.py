"""API errors: one exception, one JSON shape, one counter of rejects by reason.

Every refusal is ``{"error": what and why, "field": ..., "index": ..., "line": ...}``
with a 4xx status (``field``, ``index`` and ``line`` only where they apply: ``index``
counts from 0 in a JSON array, ``line`` from 1 in JSON Lines). ``reason`` is a short
fixed word used as the metrics label (``skywarden_api_rejects_total{reason=...}``), never
free text, so the label set stays small.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["ApiError", "explain_msgspec", "error_response"]


class ApiError(Exception):
    """A request refused: HTTP ``status``, a readable ``error``, where (field, index,
    line) and a fixed ``reason`` word for counting."""

    def __init__(
        self, status: int, error: str, *, reason: str, field: str | None = None,
        index: int | None = None, line: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.reason = reason
        self.field = field
        self.index = index
        self.line = line
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "reason": self.reason}
        if self.field is not None:
            out["field"] = self.field
        if self.index is not None:
            out["index"] = self.index
        if self.line is not None:
            out["line"] = self.line
        return out


_AT = re.compile(r" - at `\$(?:\[(\d+)\])?\.?([\w.\[\]]*)`$")


def explain_msgspec(exc: Exception) -> tuple[str, int | None, str | None]:
    """(reason text, array index, field) from a msgspec error on a body.

    ``Expected `float` <= 90.0 - at `$[3].lat``` gives ("expected float <= 90.0", 3,
    "lat").
    """
    msg = str(exc)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"not valid JSON ({msg})", None, None
    index = field = None
    m = _AT.search(msg)
    if m:
        msg = msg[: m.start()]
        index = int(m.group(1)) if m.group(1) is not None else None
        field = m.group(2) or None
    missing = re.match(r"Object missing required field `(\w+)`", msg)
    if missing:
        field = f"{field}.{missing.group(1)}" if field else missing.group(1)
        return "missing", index, field
    text = msg.replace("`", "")
    return text[:1].lower() + text[1:], index, field


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The app's handler for :class:`ApiError` (counted by the metrics middleware)."""
    assert isinstance(exc, ApiError)
    request.scope.setdefault("state", {})["reject_reason"] = exc.reason
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
