"""Graduated response: per-nation rules that turn assessment rows into alert levels.

A rules file (TOML, one per nation, ``data/response/POL.toml``...; ``default.toml`` for
nations without their own) lists levels 1-4, each with conditions and a playbook::

    nation = "POL"
    name = "Poland"

    [[level]]
    level = 2
    name = "warning"

    [[level.when]]              # any of the clauses of a level...
    class = ["drone", "missile"]
    identity = ["suspect", "hostile"]
    eta_max_s = 900             # ...each holding all of its conditions
    probability_min = 0.5

    [[level.actions]]
    do = "notify_atc"
    units = ["PAZP Warszawa ACC (EPWW)"]

Conditions of a clause (all optional; an empty clause holds for every row):

========================  ============================================================
``target_kind``           list of ``nation``, ``zone``
``class``                 list of classes (aircraft, helicopter, drone, missile, ...)
``identity``              list of APP-6 identities (pending ... hostile)
``zone_type``             list of zone types (prohibited, restricted, danger, ...);
                          a nation row has none, so this condition implies a zone
``inside``                true or false
``cooperative``           true or false
``eta_max_s``             predicted entry within this many seconds (no prediction fails)
``probability_min``       probability of entry at least this (0-1)
``distance_max_m``        at most this far from the boundary, metres
``class_confidence_min``  the tracker's confidence in the class at least this (0-1);
                          a row that carries none fails it
========================  ============================================================

The level of a row is the highest level with a clause that holds, 0 when none does:
each clause costs a few numpy operations over all rows of a nation at once.

Playbook actions (``do``) and their parameters (each also takes a free-text ``note``):
``notify_atc`` (units), ``close_sector`` (sectors), ``public_warning`` (regions,
instruction), ``inform_neighbour`` (nations), ``request_air_policing`` (unit).

Files are validated at load: unknown keys, wrong types, out-of-range values, duplicate
levels and unknown actions are :class:`RulesError`, naming file, table path, key and reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..records import TARGET_CLASSES
from ..tomlfile import TomlError, read_toml
from .input import IDENTITIES, TARGET_KINDS, ZONE_TYPES, Assessment

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "response"
DEFAULT = "default"
MAX_LEVEL = 4
LEVEL_NAMES = ("clear", "watch", "warning", "incursion", "critical")

# Action name -> {parameter: kind}; kinds: "strs" (list of strings), "nations" (list of
# ISO alpha-3 codes), "str".
ACTIONS: dict[str, dict[str, str]] = {
    "notify_atc": {"units": "strs"},
    "close_sector": {"sectors": "strs"},
    "public_warning": {"regions": "strs", "instruction": "str"},
    "inform_neighbour": {"nations": "nations"},
    "request_air_policing": {"unit": "str"},
}
_LIST_CONDITIONS: dict[str, tuple[str, ...]] = {
    "target_kind": TARGET_KINDS,
    "class": TARGET_CLASSES,
    "identity": IDENTITIES,
    "zone_type": ZONE_TYPES,
}
_BOOL_CONDITIONS = ("inside", "cooperative")
# key -> (lowest, highest) allowed
_NUMBER_CONDITIONS: dict[str, tuple[float, float]] = {
    "eta_max_s": (0.0, 86400.0),
    "probability_min": (0.0, 1.0),
    "distance_max_m": (0.0, 5.0e6),
    "class_confidence_min": (0.0, 1.0),
}
_COLUMN = {
    "target_kind": "target_kind",
    "class": "cls",
    "identity": "identity",
    "zone_type": "zone_type",
    "inside": "inside",
    "cooperative": "cooperative",
}


class RulesError(ConfigError):
    """A graduated-response rules file is invalid.

    ``path`` the file, ``where`` the table path (``level[2].when[0]``), ``key`` the key
    ('' when the table as a whole is wrong), ``reason`` what is wrong.
    """

    def __init__(self, path: str, where: str, key: str, reason: str) -> None:
        self.path = path
        self.where = where
        self.key = key
        self.reason = reason
        parts = [path, where, f"key {key!r}" if key else "", reason]
        super().__init__(": ".join(p for p in parts if p))


@dataclass(frozen=True, slots=True)
class Clause:
    """All-of conditions; ``None`` means the condition is not used."""

    target_kind: tuple[str, ...] | None = None
    cls: tuple[str, ...] | None = None
    identity: tuple[str, ...] | None = None
    zone_type: tuple[str, ...] | None = None
    inside: bool | None = None
    cooperative: bool | None = None
    eta_max_s: float | None = None
    probability_min: float | None = None
    distance_max_m: float | None = None
    class_confidence_min: float | None = None

    def holds(self, a: Assessment) -> np.ndarray:
        """Boolean per row of ``a``."""
        ok = np.ones(len(a), dtype=bool)
        for key in ("target_kind", "cls", "identity", "zone_type"):
            allowed = getattr(self, key)
            if allowed is not None:
                ok &= np.isin(getattr(a, key), allowed)
        if self.inside is not None:
            ok &= a.inside == self.inside
        if self.cooperative is not None:
            ok &= a.cooperative == self.cooperative
        if self.eta_max_s is not None:
            ok &= a.eta_s <= self.eta_max_s  # NaN (no predicted entry) compares False
        if self.probability_min is not None:
            ok &= a.probability >= self.probability_min
        if self.distance_max_m is not None:
            ok &= a.distance_m <= self.distance_max_m
        if self.class_confidence_min is not None:
            ok &= a.class_confidence >= self.class_confidence_min  # NaN (none given): False
        return ok


@dataclass(frozen=True, slots=True)
class Action:
    """One playbook action: its name and parameters (lists as tuples)."""

    do: str
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

    def __str__(self) -> str:
        return self.do


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a nation's graduated response."""

    level: int
    name: str
    when: tuple[Clause, ...] = ()
    actions: tuple[Action, ...] = ()

    def action(self, do: str) -> Action | None:
        return next((a for a in self.actions if a.do == do), None)

    @property
    def public_warning(self) -> Action | None:
        return self.action("public_warning")

    @property
    def action_names(self) -> list[str]:
        return [a.do for a in self.actions]


@dataclass(frozen=True, slots=True)
class NationRules:
    """The levels of one nation (or of ``default``), indexed 0..4."""

    nation: str
    name: str
    levels: tuple[Level, ...]  # always 5 entries; a level not in the file has no clauses
    source: str = ""

    def level(self, n: int) -> Level:
        return self.levels[n]

    def evaluate(self, a: Assessment) -> np.ndarray:
        """Level (int8) per row: the highest level with a clause that holds, else 0."""
        out = np.zeros(len(a), dtype=np.int8)
        for lvl in self.levels[1:]:
            for clause in lvl.when:
                out[clause.holds(a) & (out < lvl.level)] = lvl.level
        return out


class Rulebook:
    """Rules of several nations, with the ``default`` rules for the others."""

    def __init__(self, rules: Mapping[str, NationRules]) -> None:
        if DEFAULT not in rules:
            raise RulesError("", "", "", "a rulebook needs default rules (default.toml)")
        self.rules = dict(rules)

    def for_nation(self, nation: str) -> NationRules:
        return self.rules.get(nation) or self.rules[DEFAULT]

    def level(self, nation: str, n: int) -> Level:
        return self.for_nation(nation).level(n)

    def evaluate(self, a: Assessment) -> np.ndarray:
        """Level (int8) per row, each row judged by the rules of its ``target_owner``."""
        out = np.zeros(len(a), dtype=np.int8)
        owners = np.unique(a.target_owner)
        if owners.size == 1:
            return self.for_nation(str(owners[0])).evaluate(a)
        for owner in owners:
            rows = np.flatnonzero(a.target_owner == owner)
            out[rows] = self.for_nation(str(owner)).evaluate(a.take(rows))
        return out


def load_rulebook(directory: str | Path | None = None) -> Rulebook:
    """Every ``*.toml`` of ``directory`` (default: the shipped ``data/response``)."""
    directory = Path(directory) if directory is not None else RULES_DIR
    if not directory.is_dir():
        raise RulesError(str(directory), "", "", "a file, not a folder of rules files"
                         if directory.exists() else "no such folder")
    files = sorted(directory.glob("*.toml"))
    rules = {}
    for path in files:
        r = load_rules(path)
        rules[r.nation] = r
    if DEFAULT not in rules:
        raise RulesError(str(directory), "", "", "no default.toml (rules for other nations)")
    return Rulebook(rules)


def load_rules(path: str | Path) -> NationRules:
    path = Path(path)
    try:
        doc = read_toml(path)
    except OSError as exc:
        raise RulesError(str(path), "", "", f"cannot read: {exc.strerror or exc}") from exc
    except TomlError as exc:
        raise RulesError(str(path), "", "", exc.reason) from exc
    rules = parse_rules(doc, str(path))
    if rules.nation != path.stem:
        raise RulesError(
            str(path),
            "",
            "nation",
            f"{rules.nation!r} does not match the file name (expected {path.stem!r})",
        )
    return rules


def parse_rules(doc: Mapping[str, Any], source: str = "<rules>") -> NationRules:
    """Validated rules from a parsed TOML document."""
    _keys(doc, {"nation", "name", "description", "level"}, source, "")
    nation = doc.get("nation")
    if not isinstance(nation, str) or not (nation == DEFAULT or _is_iso3(nation)):
        raise RulesError(
            source, "", "nation", f"{nation!r} is not an ISO 3166-1 alpha-3 code or 'default'"
        )
    name = _str(doc.get("name", nation), source, "", "name")
    _str(doc.get("description", ""), source, "", "description")
    tables = doc.get("level", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RulesError(source, "", "level", "must be an array of tables [[level]]")
    levels: dict[int, Level] = {}
    for i, table in enumerate(tables):
        lvl = _parse_level(table, source, f"level[{i}]")
        if lvl.level in levels:
            raise RulesError(source, f"level[{i}]", "level", f"level {lvl.level} is defined twice")
        levels[lvl.level] = lvl
    full = tuple(levels.get(n, Level(n, LEVEL_NAMES[n])) for n in range(MAX_LEVEL + 1))
    return NationRules(nation=nation, name=name, levels=full, source=source)


def _parse_level(table: Mapping[str, Any], source: str, where: str) -> Level:
    _keys(table, {"level", "name", "when", "actions"}, source, where)
    n = table.get("level")
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_LEVEL:
        raise RulesError(source, where, "level", f"{n!r} is not an integer 0-{MAX_LEVEL}")
    name = _str(table.get("name", LEVEL_NAMES[n]), source, where, "name")
    if not name:
        raise RulesError(source, where, "name", "empty")
    where = f"{where} ({name})"
    when = table.get("when", [])
    actions = table.get("actions", [])
    for key, value in (("when", when), ("actions", actions)):
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise RulesError(source, where, key, "must be an array of tables")
    if n == 0 and (when or actions):
        raise RulesError(
            source,
            where,
            "when" if when else "actions",
            "level 0 is the absence of an alert: it takes only a name",
        )
    if n > 0 and not when:
        raise RulesError(source, where, "when", "a level 1-4 needs at least one clause")
    clauses = tuple(_parse_clause(c, source, f"{where}.when[{j}]") for j, c in enumerate(when))
    acts = tuple(_parse_action(a, source, f"{where}.actions[{j}]") for j, a in enumerate(actions))
    return Level(level=n, name=name, when=clauses, actions=acts)


def _parse_clause(table: Mapping[str, Any], source: str, where: str) -> Clause:
    allowed = set(_LIST_CONDITIONS) | set(_BOOL_CONDITIONS) | set(_NUMBER_CONDITIONS)
    _keys(table, allowed, source, where)
    kw: dict[str, Any] = {}
    for key, choices in _LIST_CONDITIONS.items():
        if key in table:
            values = table[key]
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) for v in values)
            ):
                raise RulesError(source, where, key, "must be a non-empty list of strings")
            for v in values:
                if v not in choices:
                    raise RulesError(
                        source, where, key, f"{v!r} is not one of {', '.join(choices)}"
                    )
            kw["cls" if key == "class" else key] = tuple(values)
    for key in _BOOL_CONDITIONS:
        if key in table:
            if not isinstance(table[key], bool):
                raise RulesError(source, where, key, f"{table[key]!r} is not true or false")
            kw[key] = table[key]
    for key, (lo, hi) in _NUMBER_CONDITIONS.items():
        if key in table:
            v = table[key]
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not (math.isfinite(v) and lo <= v <= hi)
            ):
                raise RulesError(source, where, key, f"{v!r} is not a number in [{lo:g}, {hi:g}]")
            kw[key] = float(v)
    return Clause(**kw)


def _parse_action(table: Mapping[str, Any], source: str, where: str) -> Action:
    do = table.get("do")
    if do not in ACTIONS:
        raise RulesError(source, where, "do", f"{do!r} is not one of {', '.join(ACTIONS)}")
    spec = ACTIONS[do]
    _keys(table, {"do", "note", *spec}, source, f"{where} ({do})")
    params: list[tuple[str, Any]] = []
    for key, value in table.items():
        if key == "do":
            continue
        kind = spec.get(key, "str")
        if kind == "str":
            params.append((key, _str(value, source, where, key)))
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise RulesError(source, where, key, "must be a list of non-empty strings")
        if kind == "nations":
            for v in value:
                if not _is_iso3(v):
                    raise RulesError(source, where, key, f"{v!r} is not an ISO 3166-1 alpha-3 code")
        params.append((key, tuple(value)))
    return Action(do=do, params=tuple(params))


def _keys(table: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise RulesError(
                source, where, key, f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )


def _str(value: Any, source: str, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise RulesError(source, where, key, f"{value!r} is not a string")
    return value


def _is_iso3(code: str) -> bool:
    return len(code) == 3 and code.isalpha() and code.isupper()
