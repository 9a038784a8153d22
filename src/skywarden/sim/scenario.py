"""Load and validate scenario files (docs/SCENARIO-FORMAT.md) into :class:`Scenario`.

Everything is checked once, here: unknown keys, types, ranges, references (a loiter at a
waypoint the route does not have), duplicate ids. Errors are
:class:`~skywarden.errors.ScenarioError` naming the file, the table and the key, e.g.
``mass-attack.toml: [[target]] #3 ('gerbera-01'): unknown key 'sped' (allowed: ...)``.

Shipped scenarios live in ``skywarden/sim/scenarios/NAME.toml`` and are found by name.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .. import geo
from ..errors import ConfigError, ScenarioError
from ..records import TARGET_CLASSES
from ..sensors import Sensor, SensorRegistry
from ..tomlfile import TomlError, parse_toml
from . import scale as scale_mod
from .model import (
    DEFAULT_CLASSES,
    AcousticModel,
    ClassParams,
    Loiter,
    Scenario,
    SensorModels,
    TargetGroup,
    TargetSpec,
    Traffic,
    VisualModel,
)
from .schema import Table

TOP_LEVEL = (
    "scenario",
    "class",
    "sensor_model",
    "sensor",
    "sensor_line",
    "target",
    "target_group",
    "traffic",
    "scale",
)
SCENARIO_KEYS = (
    "name",
    "title",
    "description",
    "start",
    "duration",
    "truth_step",
    "seed",
    "sources",
)
TARGET_KEYS = (
    "id",
    "class",
    "hostile",
    "coop_id",
    "callsign",
    "start",
    "speed",
    "alt",
    "turn_rate",
    "climb_rate",
    "rcs",
    "route",
    "loiter",
    "end",
)
GROUP_KEYS = ("prefix", "count", "interval", "jitter_m", "jitter_last", "speed_jitter") + tuple(
    k for k in TARGET_KEYS if k != "id"
)
TRAFFIC_KEYS = ("prefix", "count", "endpoints", "cruise_alt", "speed", "class", "coop_id", "start")
LINE_KEYS = ("prefix", "from", "to", "count") + tuple(
    k for k in Sensor.__struct_fields__ if k not in ("id", "lat", "lon")
)
ENDS = ("vanish", "land", "hold")
AUTO_IDS = ("auto-icao", "auto-rid")
OVERRIDES = ("duration", "targets", "sensors")
_PACKAGE_DIR = "scenarios"


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    """A shipped scenario as ``skywarden sim --list`` shows it."""

    name: str
    title: str
    description: str


def _shipped() -> dict[str, Any]:
    folder = resources.files("skywarden.sim").joinpath(_PACKAGE_DIR)
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name[: -len(".toml")]] = entry
    return dict(sorted(found.items()))


def list_scenarios() -> list[ScenarioInfo]:
    """The shipped scenarios, by name; a file that cannot be read says so in its title."""
    out = []
    for name, entry in _shipped().items():
        try:
            head = parse_toml(entry.read_text(encoding="utf-8"), name).get("scenario", {})
            title = str(head.get("title", name))
            description = str(head.get("description", ""))
        except (OSError, TomlError) as exc:
            title, description = f"(unreadable: {exc})", ""
        out.append(ScenarioInfo(name, title, description))
    return out


def load_scenario(name_or_path: str | os.PathLike[str], **overrides: Any) -> Scenario:
    """Load a shipped scenario by name, or a scenario file by path.

    ``overrides`` (``None`` values are ignored, so a CLI can pass its options through):
    ``duration`` (s, any scenario); ``targets`` and ``sensors`` (generated scenarios with a
    ``[scale]`` table only: number of targets, number of radars).
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    for key in given:
        if key not in OVERRIDES:
            raise ScenarioError(f"unknown override {key!r} (allowed: {', '.join(OVERRIDES)})")
    text, source = _read(name_or_path)
    try:
        doc = parse_toml(text, source)
    except TomlError as exc:
        raise ScenarioError(str(exc)) from exc
    return parse_scenario(doc, source, **given)


def _read(name_or_path: str | os.PathLike[str]) -> tuple[str, str]:
    text_name = os.fspath(name_or_path)
    shipped = _shipped()
    looks_like_path = text_name.endswith(".toml") or os.sep in text_name or "/" in text_name
    if not looks_like_path and text_name in shipped:
        entry = shipped[text_name]
        return entry.read_text(encoding="utf-8"), f"{_PACKAGE_DIR}/{text_name}.toml"
    path = Path(text_name)
    if not path.exists():
        raise ScenarioError(
            f"{text_name}: no such scenario file, and no shipped scenario of that name "
            f"(shipped: {', '.join(shipped) or 'none'})"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc


def parse_scenario(doc: dict[str, Any], source: str = "<scenario>", **overrides: Any) -> Scenario:
    """Validate a decoded TOML document. ``overrides`` as for :func:`load_scenario`."""
    Table(doc, source, TOP_LEVEL)
    if "scenario" not in doc:
        raise ScenarioError(f"{source}: missing table [scenario]")
    head = Table(doc["scenario"], f"{source}: [scenario]", SCENARIO_KEYS)
    duration = overrides.get("duration")
    duration = float(duration) if duration is not None else head.num("duration", positive=True)
    if not (math.isfinite(duration) and duration > 0):  # --duration inf would never end
        raise ScenarioError(f"{source}: duration must be a finite number > 0 s, "
                            f"got {duration:g}")
    truth_step = head.num("truth_step", 1.0, hi=duration, positive=True)
    classes = _classes(doc.get("class", {}), source)
    scale_params = None
    sensor_tables = _sensor_tables(doc, source)
    if "scale" in doc:
        scale_params = scale_mod.parse_params(
            doc["scale"],
            f"{source}: [scale]",
            targets=overrides.get("targets"),
            sensors=overrides.get("sensors"),
        )
        sensor_tables += scale_mod.sensor_tables(scale_params)
    elif "targets" in overrides or "sensors" in overrides:
        raise ScenarioError(
            f"{source}: targets and sensors overrides need a generated scenario ([scale])"
        )
    try:
        sensors = SensorRegistry.from_dicts(sensor_tables, source)
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from exc
    targets = tuple(
        _target(Table(t, _where(source, "target", i, t), TARGET_KEYS), classes, with_id=True)
        for i, t in enumerate(_array(doc, "target", source))
    )
    groups = tuple(
        _group(t, i, source, classes) for i, t in enumerate(_array(doc, "target_group", source))
    )
    traffic = tuple(
        _traffic(t, i, source, duration) for i, t in enumerate(_array(doc, "traffic", source))
    )
    _check_ids(targets, groups, traffic, source)
    sources = head.strings("sources", ())
    return Scenario(
        name=head.text("name", Path(source).stem),
        title=head.text("title", head.text("name", Path(source).stem)),
        description=head.text("description", ""),
        start=_start(head),
        duration=duration,
        truth_step=truth_step,
        seed=head.integer("seed", 0, hi=2**63 - 1),
        sources=sources,
        classes=classes,
        models=_models(doc.get("sensor_model", {}), source),
        sensors=sensors,
        targets=targets,
        groups=groups,
        traffic=traffic,
        scale=scale_params,
        source=source,
    )


def _where(source: str, kind: str, i: int, table: object) -> str:
    ident = ""
    if isinstance(table, dict):
        name = table.get("id", table.get("prefix"))
        ident = f" ({name!r})" if name is not None else ""
    return f"{source}: [[{kind}]] #{i + 1}{ident}"


def _array(doc: dict[str, Any], key: str, source: str) -> list[Any]:
    v = doc.get(key, [])
    if not isinstance(v, list):
        raise ScenarioError(f"{source}: '{key}' must be an array of tables [[{key}]]")
    return v


def _start(head: Table) -> float:
    v = head.raw("start")
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            raise head.error("start", "needs a UTC offset, e.g. 2025-09-09T20:30:00Z")
        return round(v.timestamp(), 3)
    if isinstance(v, int | float) and not isinstance(v, bool):
        return round(head.check_num("start", v, 0.0, 7.0e9), 3)
    raise head.error("start", f"expected an offset date-time (or epoch seconds), got {v!r}")


def _classes(tables: object, source: str) -> dict[str, ClassParams]:
    top = Table(tables, f"{source}: [class]", TARGET_CLASSES)
    classes = dict(DEFAULT_CLASSES)
    for name, data in top.data.items():
        t = Table(data, f"{source}: [class.{name}]", ("rcs", "turn_rate", "climb_rate", "speed"))
        base = classes[name]
        classes[name] = ClassParams(
            rcs=t.num("rcs", base.rcs, positive=True),
            turn_rate=t.num("turn_rate", base.turn_rate, hi=180.0, positive=True),
            climb_rate=t.num("climb_rate", base.climb_rate, hi=2000.0, positive=True),
            speed=t.num("speed", base.speed, hi=5000.0, positive=True),
        )
    return classes


def _models(tables: object, source: str) -> SensorModels:
    top = Table(
        tables, f"{source}: [sensor_model]", ("visual_report", "acoustic", "adsb", "remote_id")
    )
    where = f"{source}: [sensor_model.%s]"
    vis = Table(
        top.data.get("visual_report", {}),
        where % "visual_report",
        ("reports_per_target_hour", "max_alt", "delay", "sigma_h", "area", "class_correct"),
    )
    d = VisualModel()
    area = vis.points("area", None, least=3)
    visual = VisualModel(
        reports_per_target_hour=vis.num(
            "reports_per_target_hour", d.reports_per_target_hour, 0.0, 1e4
        ),
        max_alt=vis.num("max_alt", d.max_alt),
        delay=vis.interval("delay", d.delay, 0.0, 86400.0),
        sigma_h=vis.interval("sigma_h", d.sigma_h, 0.001, 1e6),
        area=tuple((p[0], p[1]) for p in area) if area else None,
        class_correct=vis.num("class_correct", d.class_correct, 0.0, 1.0),
    )
    ac = Table(top.data.get("acoustic", {}), where % "acoustic", ("max_alt", "classes"))
    classes = ac.strings("classes", AcousticModel().classes)
    for c in classes:
        if c not in TARGET_CLASSES:
            raise ac.error("classes", f"{c!r} is not one of {', '.join(TARGET_CLASSES)}")
    periods = {}
    for kind in ("adsb", "remote_id"):
        t = Table(top.data.get(kind, {}), where % kind, ("report_period",))
        periods[kind] = t.num("report_period", 1.0, hi=3600.0, positive=True)
    return SensorModels(
        visual_report=visual,
        acoustic=AcousticModel(max_alt=ac.num("max_alt", AcousticModel().max_alt), classes=classes),
        adsb_period=periods["adsb"],
        remote_id_period=periods["remote_id"],
    )


def _sensor_tables(doc: dict[str, Any], source: str) -> list[dict[str, Any]]:
    tables = list(_array(doc, "sensor", source))
    for i, data in enumerate(_array(doc, "sensor_line", source)):
        t = Table(data, _where(source, "sensor_line", i, data), LINE_KEYS)
        prefix = t.text("prefix")
        count = t.integer("count", lo=1, hi=100000)
        a = t.point("from", t.raw("from"))
        b = t.point("to", t.raw("to"))
        if count == 1:
            lats, lons = [a[0]], [a[1]]
        else:
            lats, lons = geo.great_circle(a[0], a[1], b[0], b[1], count)
        width = max(2, len(str(count)))
        common = {k: v for k, v in data.items() if k not in ("prefix", "from", "to", "count")}
        for j in range(count):
            sensor = {"id": f"{prefix}-{j + 1:0{width}d}", **common}
            sensor["lat"], sensor["lon"] = round(float(lats[j]), 7), round(float(lons[j]), 7)
            tables.append(sensor)
    return tables


def _coop(t: Table, allow_auto: bool = True) -> str | None:
    v = t.text("coop_id", None)
    if v is None or (allow_auto and v in AUTO_IDS):
        return v
    kind, _, value = v.partition(":")
    if kind == "icao" and len(value) == 6 and all(c in "0123456789abcdefABCDEF" for c in value):
        return f"icao:{value.upper()}"
    if kind == "rid" and 1 <= len(value) <= 40 and value.isalnum():
        return v
    raise t.error(
        "coop_id", f"{v!r} is not icao:XXXXXX (6 hex digits), rid:SERIAL, auto-icao or auto-rid"
    )


def _target(t: Table, classes: dict[str, ClassParams], with_id: bool, tid: str = "") -> TargetSpec:
    route = t.points("route")
    loiters = []
    raw_loiter = t.raw("loiter", [])
    if not isinstance(raw_loiter, list):
        raise t.error("loiter", "expected a list of {at, duration, radius} tables")
    for j, item in enumerate(raw_loiter):
        lt = Table(item, f"{t.where}: loiter #{j + 1}", ("at", "duration", "radius"))
        at = lt.integer("at", hi=len(route) - 1)
        loiters.append(
            Loiter(at, lt.num("duration", positive=True), lt.num("radius", 1000.0, positive=True))
        )
    callsign = t.text("callsign", None)
    if callsign is not None and not (1 <= len(callsign) <= 8 and callsign.isalnum()):
        raise t.error("callsign", f"{callsign!r} is not 1-8 letters and digits")
    return TargetSpec(
        id=t.text("id") if with_id else tid,
        cls=t.text("class", choices=tuple(classes)),
        route=route,
        start=t.num("start", 0.0),
        speed=t.num("speed", None, hi=5000.0, positive=True),
        alt=t.num("alt", None, -500.0, 1.0e5),
        turn_rate=t.num("turn_rate", None, hi=180.0, positive=True),
        climb_rate=t.num("climb_rate", None, hi=2000.0, positive=True),
        rcs=t.num("rcs", None, positive=True),
        hostile=t.flag("hostile", False),
        coop_id=_coop(t),
        callsign=callsign,
        loiter=tuple(loiters),
        end=t.text("end", "vanish", choices=ENDS),
    )


def _group(data: object, i: int, source: str, classes: dict[str, ClassParams]) -> TargetGroup:
    t = Table(data, _where(source, "target_group", i, data), GROUP_KEYS)
    return TargetGroup(
        prefix=t.text("prefix"),
        count=t.integer("count", lo=1, hi=10**7),
        interval=t.num("interval", 0.0, lo=0.0),
        jitter_m=t.num("jitter_m", 0.0, lo=0.0, hi=1.0e6),
        jitter_last=t.flag("jitter_last", False),
        speed_jitter=t.num("speed_jitter", 0.0, lo=0.0, hi=0.99),
        template=_target(t, classes, with_id=False, tid=t.text("prefix")),
    )


def _traffic(data: object, i: int, source: str, duration: float) -> Traffic:
    t = Table(data, _where(source, "traffic", i, data), TRAFFIC_KEYS)
    coop = t.text("coop_id", "auto-icao")
    if coop not in AUTO_IDS + ("none",):
        raise t.error("coop_id", f"{coop!r} is not auto-icao, auto-rid or none")
    cls = t.text("class", "aircraft", choices=TARGET_CLASSES)
    return Traffic(
        prefix=t.text("prefix"),
        count=t.integer("count", lo=0, hi=10**7),
        endpoints=t.points("endpoints", least=2),
        cruise_alt=t.interval("cruise_alt", (9000.0, 12000.0), -500.0, 1.0e5),
        speed=t.interval("speed", (200.0, 240.0), 0.1, 5000.0),
        cls=cls,
        coop_id=None if coop == "none" else coop,
        start=t.interval("start", (0.0, duration)),
    )


def _check_ids(targets, groups, traffic, source: str) -> None:
    seen: dict[str, str] = {}
    for t in targets:
        if t.id in seen:
            raise ScenarioError(f"{source}: [[target]] id {t.id!r} is used twice")
        seen[t.id] = "target"
    prefixes: dict[str, str] = {}
    for kind, items in (("target_group", groups), ("traffic", traffic)):
        for g in items:
            if g.prefix in prefixes:
                raise ScenarioError(f"{source}: [[{kind}]] prefix {g.prefix!r} is used twice")
            prefixes[g.prefix] = kind
    for tid in seen:
        head, _, tail = tid.rpartition("-")
        if head in prefixes and tail.isdigit():
            raise ScenarioError(
                f"{source}: [[target]] id {tid!r} collides with the ids of prefix {head!r}"
            )
