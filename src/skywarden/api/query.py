"""Query parameters: parsed once, refused with the parameter's name and why."""

from __future__ import annotations

import math

from starlette.requests import Request

from .errors import ApiError

__all__ = ["BBox", "in_bbox", "parse_bbox", "query_bool", "query_float"]

BBox = tuple[float, float, float, float]


def parse_bbox(value: object, field: str = "bbox") -> BBox | None:
    """``w,s,e,n`` (text or a list of four numbers) in degrees; None when absent.
    ``w > e`` is a box across the 180th meridian."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parts: list[object] = list(value.split(","))
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ApiError(400, f"{field}: four numbers w,s,e,n", reason="bad_param", field=field)
    if len(parts) != 4:
        raise ApiError(400, f"{field}: four numbers w,s,e,n, not {len(parts)}",
                       reason="bad_param", field=field)
    try:
        w, s, e, n = (float(p) for p in parts)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"{field}: four numbers w,s,e,n", reason="bad_param",
                       field=field) from exc
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise ApiError(400, f"{field}: numbers must be finite", reason="bad_param",
                       field=field)
    if not (-90 <= s <= n <= 90):
        raise ApiError(400, f"{field}: need -90 <= south <= north <= 90", reason="bad_param",
                       field=field)
    if not (-180 <= w <= 180 and -180 <= e <= 180):
        raise ApiError(400, f"{field}: longitudes within -180..180", reason="bad_param",
                       field=field)
    return (w, s, e, n)


def in_bbox(lat: float, lon: float, box: BBox | None) -> bool:
    if box is None:
        return True
    w, s, e, n = box
    if not s <= lat <= n:
        return False
    if lon > 180.0:
        lon -= 360.0
    return w <= lon <= e if w <= e else (lon >= w or lon <= e)


def query_float(request: Request, name: str, default: float | None = None) -> float | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise ApiError(400, f"{name}: a number (epoch seconds), not {text[:40]!r}",
                       reason="bad_param", field=name) from exc
    if not math.isfinite(value):
        raise ApiError(400, f"{name}: must be finite", reason="bad_param", field=name)
    return value


def query_bool(request: Request, name: str, default: bool) -> bool:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ApiError(400, f"{name}: true or false, not {text[:40]!r}", reason="bad_param",
                   field=name)
