"""Checked access to one TOML table, with errors that name the file, table and key.

Every getter raises :class:`~skywarden.errors.ScenarioError` with the message
``FILE: TABLE: key 'k': why``, so a scenario author can fix a typo without reading code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..errors import ScenarioError

REQUIRED: Any = object()


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class Table:
    """A TOML table whose keys must all be in ``allowed``."""

    def __init__(self, data: object, where: str, allowed: Iterable[str]) -> None:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: expected a table, got {type(data).__name__}")
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise ScenarioError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")
        self.data: dict[str, Any] = data
        self.where = where

    def error(self, key: str, why: str) -> ScenarioError:
        return ScenarioError(f"{self.where}: key {key!r}: {why}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = REQUIRED) -> Any:
        if key not in self.data:
            if default is REQUIRED:
                raise ScenarioError(f"{self.where}: missing key {key!r}")
            return default
        return self.data[key]

    def num(
        self,
        key: str,
        default: Any = REQUIRED,
        lo: float = -math.inf,
        hi: float = math.inf,
        positive: bool = False,
    ) -> Any:
        """A finite number in [lo, hi] (and > 0 if ``positive``), or ``default`` if absent."""
        if key not in self.data and default is not REQUIRED:
            return default
        return self.check_num(key, self.raw(key), lo, hi, positive)

    def check_num(
        self,
        key: str,
        v: object,
        lo: float = -math.inf,
        hi: float = math.inf,
        positive: bool = False,
    ) -> float:
        if not _is_number(v) or not math.isfinite(v):  # type: ignore[arg-type]
            raise self.error(key, f"expected a number, got {v!r}")
        v = float(v)  # type: ignore[arg-type]
        if positive and v <= 0:
            raise self.error(key, f"must be > 0, got {v:g}")
        if not lo <= v <= hi:
            raise self.error(key, f"{v:g} is outside [{lo:g}, {hi:g}]")
        return v

    def integer(self, key: str, default: Any = REQUIRED, lo: int = 0, hi: int = 10**9) -> Any:
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if not isinstance(v, int) or isinstance(v, bool):
            raise self.error(key, f"expected an integer, got {v!r}")
        if not lo <= v <= hi:
            raise self.error(key, f"{v} is outside [{lo}, {hi}]")
        return v

    def text(self, key: str, default: Any = REQUIRED, choices: Iterable[str] | None = None) -> Any:
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if not isinstance(v, str):
            raise self.error(key, f"expected a string, got {v!r}")
        if choices is not None:
            choices = tuple(choices)
            if v not in choices:
                raise self.error(key, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def flag(self, key: str, default: Any = REQUIRED) -> Any:
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {v!r}")
        return v

    def interval(
        self, key: str, default: Any = REQUIRED, lo: float = -math.inf, hi: float = math.inf
    ) -> Any:
        """``[a, b]`` with lo <= a <= b <= hi; a single number ``x`` means ``[x, x]``."""
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if _is_number(v):
            x = self.check_num(key, v, lo, hi)
            return (x, x)
        if not isinstance(v, list) or len(v) != 2:
            raise self.error(key, f"expected [low, high], got {v!r}")
        a, b = (self.check_num(key, x, lo, hi) for x in v)
        if a > b:
            raise self.error(key, f"low {a:g} is above high {b:g}")
        return (a, b)

    def point(
        self, key: str, v: object, need_alt: bool = False
    ) -> tuple[float, float, float | None]:
        """``[lat, lon]`` or ``[lat, lon, alt]`` (degrees, metres MSL)."""
        if not isinstance(v, list) or len(v) not in (2, 3) or not all(_is_number(x) for x in v):
            raise self.error(key, f"expected [lat, lon] or [lat, lon, alt], got {v!r}")
        lat = self.check_num(key, v[0], -90.0, 90.0)
        lon = self.check_num(key, v[1], -180.0, 180.0)
        alt = self.check_num(key, v[2], -500.0, 1.0e5) if len(v) == 3 else None
        if need_alt and alt is None:
            raise self.error(key, f"point {v!r} needs an altitude")
        return (lat, lon, alt)

    def points(self, key: str, default: Any = REQUIRED, least: int = 1) -> Any:
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if not isinstance(v, list) or len(v) < least:
            raise self.error(key, f"expected a list of at least {least} [lat, lon] points")
        return tuple(self.point(key, p) for p in v)

    def strings(self, key: str, default: Any = REQUIRED) -> Any:
        if key not in self.data and default is not REQUIRED:
            return default
        v = self.raw(key)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.error(key, f"expected a list of strings, got {v!r}")
        return tuple(v)
