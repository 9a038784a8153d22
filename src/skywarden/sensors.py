"""The sensor registry: which sensors exist, where, whose, and how good.

Loaded from TOML (an array of tables ``[[sensor]]``, formats.md "Sensor registry") and
validated once at load. Unknown keys are errors, so a typo like ``sigma_azimut`` cannot pass
silently; a radar, acoustic sensor or any sited sensor without ``lat``/``lon`` is an error,
because polar and bearing measurements mean nothing without their origin.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import tomli_w

from .errors import RegistryError
from .tomlfile import TomlError, read_toml

# CAT021 editions a ground station may send (ingest.asterix.uap.CAT021_EDITIONS, kept
# here as names so that loading a registry imports no decoder).
CAT021_EDITIONS = ("0.23", "0.24", "0.25", "0.26", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")
SENSOR_TYPES = ("radar", "adsb", "remote_id", "acoustic", "visual_report", "track_feed")
# Types whose measurements are relative to a site (polar, bearing) or whose coverage is.
SITED_TYPES = ("radar", "acoustic", "adsb", "remote_id")
RELEASABILITY_WORDS = ("national", "allies", "public")


class Sensor(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """One sensor of the registry. Units: degrees, metres, seconds."""

    id: str
    type: str
    owner: str
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    max_range: float | None = None
    scan_period: float | None = None
    sigma_range: float | None = None
    sigma_azimuth: float | None = None
    sigma_elevation: float | None = None
    sigma_h: float | None = None
    sigma_v: float | None = None
    pd: float | None = None
    clutter_per_scan: float | None = None
    releasability: str = "allies"
    # Extensions: a human name, and for the simulator the radar's reference performance.
    name: str | None = None
    # ASTERIX data source identifier (System Area Code, System Identification Code): how
    # CAT048/062/021 records name the radar or tracker that sent them.
    sac: int | None = None
    sic: int | None = None
    # The CAT021 edition an ADS-B ground station sends ("0.23" to "0.26", or "2.2" to
    # "2.7"; default 2.x): records do not say, and 0.2x lays its items out otherwise.
    cat021_edition: str | None = None
    # A radar that classifies its plots (micro-Doppler: rotor blades, wing beats, jet
    # engine modulation): the probability that a plot's class hint names the target's true
    # class. The simulator writes the hints; absent: the radar gives none.
    classifier_accuracy: float | None = None

    @property
    def sited(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def mark(self) -> str:
        """Its releasability as a row's mark: ``national`` becomes the owner, a list
        gains the owner (who always sees its own sensor's data)."""
        rel = self.releasability
        if rel in ("allies", "public"):
            return rel
        if rel == "national":
            return self.owner
        return ",".join(sorted(nations_of(rel) | {self.owner}))

    def releasable_to(self, nation: str | None) -> bool:
        """Whether data of this sensor may be shown to ``nation`` (ISO alpha-3; None: a
        viewer without a nation, who sees public data only)."""
        return visible(self.mark, nation)


NONE = "none"  # a mark that no one may see (two nations' national-only data combined)


def nations_of(text: str) -> set[str]:
    """The nations of a comma list (``"LTU, POL"`` -> {"LTU", "POL"})."""
    return {c.strip() for c in text.split(",") if c.strip()}


def visible(releasability: str | None, nation: str | None) -> bool:
    """Whether data marked ``releasability`` (a sensor's :attr:`Sensor.mark`, or a
    track's or alert's combined mark) may go to a viewer of ``nation``.

    ``nation`` None is a viewer without a nation (anonymous, or an organisation with no
    nation): it sees only ``public`` data. A row with no mark (None) is treated as
    ``allies``: the service marks every row it publishes, so only foreign data lacks one.
    """
    rel = "allies" if releasability is None else releasability
    if rel == "public":
        return True
    if nation is None or rel == NONE:
        return False
    if rel == "allies":
        return True
    return nation in nations_of(rel)


_NUMERIC_RULES: dict[str, tuple[float, float]] = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "alt": (-500.0, 100000.0),
    "max_range": (1.0, 5.0e6),
    "scan_period": (1.0e-3, 3600.0),
    "sigma_range": (1.0e-3, 1.0e5),
    "sigma_azimuth": (1.0e-5, 180.0),
    "sigma_elevation": (1.0e-5, 90.0),
    "sigma_h": (1.0e-3, 1.0e5),
    "sigma_v": (1.0e-3, 1.0e5),
    "pd": (0.0, 1.0),
    "clutter_per_scan": (0.0, 1.0e6),
    "classifier_accuracy": (0.0, 1.0),
}


def _check(sensor: Sensor, where: str) -> None:
    if sensor.type not in SENSOR_TYPES:
        raise RegistryError(
            f"{where}: type {sensor.type!r} is not one of {', '.join(SENSOR_TYPES)}"
        )
    if len(sensor.owner) != 3 or not sensor.owner.isalpha() or not sensor.owner.isupper():
        raise RegistryError(f"{where}: owner {sensor.owner!r} is not an ISO 3166-1 alpha-3 code")
    for key, (lo, hi) in _NUMERIC_RULES.items():
        value = getattr(sensor, key)
        if value is not None and (not math.isfinite(value) or not lo <= value <= hi):
            raise RegistryError(f"{where}: {key} = {value} is outside [{lo:g}, {hi:g}]")
    if sensor.type in SITED_TYPES and not sensor.sited:
        raise RegistryError(f"{where}: a {sensor.type} sensor needs its site: lat and lon")
    for key in ("sac", "sic"):
        value = getattr(sensor, key)
        if value is not None and not 0 <= value <= 255:
            raise RegistryError(f"{where}: {key} = {value} is outside [0, 255]")
    if (sensor.sac is None) != (sensor.sic is None):
        raise RegistryError(f"{where}: sac and sic come together")
    if sensor.cat021_edition is not None:
        if sensor.cat021_edition not in CAT021_EDITIONS:
            raise RegistryError(f"{where}: cat021_edition {sensor.cat021_edition!r} is not "
                                f"one of {', '.join(CAT021_EDITIONS)}")
        if sensor.sac is None:
            raise RegistryError(f"{where}: cat021_edition needs the station's sac and sic")
    if (sensor.lat is None) != (sensor.lon is None):
        raise RegistryError(f"{where}: lat and lon come together")
    rel = sensor.releasability
    if rel not in RELEASABILITY_WORDS:
        codes = [c.strip() for c in rel.split(",")]
        if not all(len(c) == 3 and c.isalpha() and c.isupper() for c in codes):
            raise RegistryError(
                f"{where}: releasability {rel!r} is not national, allies, public "
                "or a comma list of ISO alpha-3 codes"
            )


class SensorRegistry:
    """Sensors by id, in file order (the order gives each sensor its integer index)."""

    def __init__(self, sensors: Iterable[Sensor], source: str = "<registry>") -> None:
        self.source = source
        self._sensors: dict[str, Sensor] = {}
        for i, s in enumerate(sensors):
            where = f"{source}: sensor #{i + 1} ({s.id!r})"
            if not s.id:
                raise RegistryError(f"{where}: empty id")
            if s.id in self._sensors:
                raise RegistryError(f"{where}: duplicate id")
            _check(s, where)
            self._sensors[s.id] = s
        self.ids: tuple[str, ...] = tuple(self._sensors)
        self.index: dict[str, int] = {sid: i for i, sid in enumerate(self.ids)}

    def __getitem__(self, sensor_id: str) -> Sensor:
        return self._sensors[sensor_id]

    def __contains__(self, sensor_id: object) -> bool:
        return sensor_id in self._sensors

    def __iter__(self) -> Iterator[Sensor]:
        return iter(self._sensors.values())

    def __len__(self) -> int:
        return len(self._sensors)

    def get(self, sensor_id: str) -> Sensor | None:
        return self._sensors.get(sensor_id)

    @classmethod
    def from_dicts(cls, tables: list[dict[str, Any]], source: str = "<registry>") -> SensorRegistry:
        sensors = []
        for i, table in enumerate(tables):
            ident = table.get("id", "?") if isinstance(table, dict) else "?"
            where = f"{source}: sensor #{i + 1} ({ident!r})"
            try:
                sensors.append(msgspec.convert(table, Sensor, strict=False))
            except msgspec.ValidationError as exc:
                raise RegistryError(f"{where}: {explain_validation(exc, Sensor.__struct_fields__)}") from exc
        return cls(sensors, source)

    @classmethod
    def load(cls, path: str | Path) -> SensorRegistry:
        path = Path(path)
        try:
            doc = read_toml(path)
        except OSError as exc:
            raise RegistryError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except TomlError as exc:
            raise RegistryError(str(exc)) from exc
        extra = set(doc) - {"sensor"}
        if extra:
            raise RegistryError(
                f"{path}: unknown top-level key(s) {', '.join(sorted(extra))}; "
                "a registry holds only [[sensor]] tables"
            )
        tables = doc.get("sensor", [])
        if not isinstance(tables, list):
            raise RegistryError(f"{path}: 'sensor' must be an array of tables [[sensor]]")
        if not tables:
            # Every report is refused against an empty registry: say so at load.
            raise RegistryError(f"{path}: no [[sensor]] tables; a registry lists the sensors "
                                "whose reports are taken (docs/FORMATS.md)")
        return cls.from_dicts(tables, str(path))

    def to_toml(self) -> str:
        """The registry as TOML, one ``[[sensor]]`` table per sensor, in registry order."""
        return "\n".join(f"[[sensor]]\n{tomli_w.dumps(msgspec.to_builtins(s))}" for s in self)

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(self.to_toml(), encoding="utf-8")


def explain_validation(exc: msgspec.ValidationError, allowed: tuple[str, ...]) -> str:
    """msgspec's message in the words of a TOML file: 'unknown key x (allowed: ...)',
    'missing required key y', 'key z: Expected float, got str'."""
    msg = str(exc)
    if msg.startswith("Object contains unknown field"):
        key = msg.split("`")[1]
        return f"unknown key {key!r} (allowed: {', '.join(allowed)})"
    if msg.startswith("Object missing required field"):
        return f"missing required key {msg.split('`')[1]!r}"
    if " - at `$." in msg:
        what, at = msg.rsplit(" - at `$.", 1)
        return f"key {at.rstrip('`')!r}: {what.replace('`', '')}"
    return msg
