"""The site configuration (``skywarden serve --config site.toml``), read and checked once.

One TOML file says everything a deployment has: how the service runs (``[service]``),
how its tracker is set (``[tracker]``: its identity rules and allow list, gates...),
its sensors (``[[sensor]]``, the registry's own tables, docs/FORMATS.md), the feeds that
bring their data in (``[[feed]]``), the outputs that carry the picture out
(``[[output]]``: TAK servers, webhooks) and the organisations that use it
(``[[organisation]]``; their tokens are issued with ``skywarden token issue``, never
written here). docs/SITE.md describes every key; ``docs/examples/site.toml`` is a small
national set-up.

Every error names the file, the line of the table it is in, the table and the key, and
says why: ``site.toml:31: feed #2 ('vilnius-adsb'): unknown key 'adress'``. Unknown
keys are errors, so a typo never passes silently. Nothing is started until the whole
file is good.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from ..errors import ConfigError, RegistryError
from ..ingest.sources import check_multicast, parse_address
from ..sensors import SensorRegistry, explain_validation
from ..tomlfile import read_config_text, table_lines
from ..track.config import TrackerConfig, tracker_table
from .organisations import ROLES

__all__ = ["FeedSettings", "OrganisationSettings", "ServiceSettings", "SiteConfig",
           "load_site"]

FEED_TYPES = ("sbs", "beast", "avr", "asterix", "remoteid")
# Which registry sensor types a feed's detections may be attributed to.
FEED_SENSOR_TYPES = {"sbs": ("adsb",), "beast": ("adsb",), "avr": ("adsb",),
                     "remoteid": ("remote_id",)}
OUTPUT_TYPES = ("tak", "webhook", "asterix")
TOP_LEVEL = ("service", "tracker", "sensor", "feed", "output", "organisation")
_NATION = re.compile(r"[A-Z]{3}")
# Tracker settings the service sets itself, so a [tracker] table may not.
SERVICE_SETS = {
    "reorder_lag": "the service sets it from [service] lag (or --lag)",
    "id_prefix": "the service names its tracks itself (T<run>-<serial>)",
    "emit_tentative": "the service takes tentative rows for releasability and hides them",
}


class ServiceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[service]``: the same settings as ``skywarden serve``'s options (a flag given
    on the command line wins over the file). Absent keys take the options' defaults."""

    host: str | None = None
    port: int | None = None
    data: str | None = None
    lag: float | None = None
    max_late: float | None = None
    tick: float | None = None
    assess_period: float | None = None
    keep_history: float | None = None
    keep_alerts: float | None = None
    cap_status: Literal["Actual", "Exercise", "System", "Test", "Draft"] | None = None
    ws_deflate: bool | None = None
    tls_cert: str | None = None
    tls_key: str | None = None


class FeedSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[[feed]]``: where one sensor's (or one ASTERIX stream's) bytes come from.

    ``connect = "HOST:PORT"`` makes a TCP client (receivers serve SBS on 30003, AVR on
    30002, Beast on 30005); ``listen = "HOST:PORT"`` a UDP listener (ASTERIX, Remote ID),
    joining ``group`` when it is a multicast address. ``sensor`` is the registry sensor
    the detections belong to (ASTERIX records name theirs by SAC/SIC instead).
    """

    name: str
    type: Literal["sbs", "beast", "avr", "asterix", "remoteid"]
    sensor: str | None = None
    connect: str | None = None
    listen: str | None = None
    group: str | None = None
    interface: str | None = None
    time: Literal["received", "message"] = "received"
    idle_s: float = 60.0


class OrganisationSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``[[organisation]]``: made in the store at start if missing."""

    id: str
    name: str
    nation: str | None = None
    roles: list[str] = msgspec.field(default_factory=lambda: ["viewer"])


@dataclass(frozen=True)
class OutputEntry:
    """One ``[[output]]``: its type and its settings struct (from :mod:`skywarden.publish`)."""

    type: str
    name: str
    settings: Any


@dataclass(frozen=True)
class SiteConfig:
    path: Path
    service: ServiceSettings
    registry: SensorRegistry | None
    feeds: list[FeedSettings] = field(default_factory=list)
    outputs: list[OutputEntry] = field(default_factory=list)
    organisations: list[OrganisationSettings] = field(default_factory=list)
    # [tracker]: the tracker's settings (None: the defaults), as `skywarden track --config`
    tracker: TrackerConfig | None = None


class _Where:
    """Builds ``file:line: table #i ('name')`` prefixes for one table kind."""

    def __init__(self, path: Path, text: str, table: str) -> None:
        self.path, self.table = path, table
        self.lines = table_lines(text, table)

    def __call__(self, i: int, ident: object = None) -> str:
        line = self.lines[i] if i < len(self.lines) else None
        at = f"{self.path}:{line}" if line else str(self.path)
        name = f" ({ident!r})" if isinstance(ident, str) else ""
        return f"{at}: {self.table} #{i + 1}{name}"


def _unique(value: str, seen: set[str], key: str, where: str) -> None:
    """Names and ids identify feeds, outputs and organisations: never empty, never twice."""
    if not value or value in seen:
        raise ConfigError(f"{where}: key {key!r}: {'empty' if not value else 'used twice'}")
    seen.add(value)


def _convert(table: object, kind: type, where: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    try:
        return msgspec.convert(table, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{where}: {explain_validation(exc, kind.__struct_fields__)}") from None


def load_site(path: str | Path) -> SiteConfig:
    """Read and check ``path``; :class:`ConfigError` naming file:line, table and key."""
    path = Path(path)
    text, doc = read_config_text(path)
    extra = sorted(set(doc) - set(TOP_LEVEL))
    if extra:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(extra)} "
                          f"(allowed: {', '.join(TOP_LEVEL)})")
    for key in ("sensor", "feed", "output", "organisation"):
        if key in doc and not isinstance(doc[key], list):
            raise ConfigError(f"{path}:{(table_lines(text, key) or [0])[0]}: '{key}' must be "
                              f"an array of tables: write [[{key}]]")
    service = _convert(doc.get("service", {}), ServiceSettings,
                       f"{path}:{(table_lines(text, 'service') or [1])[0]}: [service]")
    _check_service(service, f"{path}: [service]")
    tracker = None
    if "tracker" in doc:
        where = f"{path}:{(table_lines(text, 'tracker') or [1])[0]}: [tracker]"
        tracker = tracker_table(doc["tracker"], where, path.parent)
        for key, why in SERVICE_SETS.items():
            if key in doc["tracker"]:  # the service would override it without a word
                raise ConfigError(f"{where}: key {key!r}: {why}")
        _check_identity_rules(tracker, where)
    registry = None
    if "sensor" in doc:
        try:
            registry = SensorRegistry.from_dicts(doc["sensor"], str(path))
        except RegistryError as exc:
            raise ConfigError(_registry_line(str(exc), path, text)) from None
    feeds = _feeds(doc.get("feed", []), registry, _Where(path, text, "feed"))
    outputs = _outputs(doc.get("output", []), _Where(path, text, "output"))
    orgs = _organisations(doc.get("organisation", []), _Where(path, text, "organisation"))
    return SiteConfig(path, service, registry, feeds, outputs, orgs, tracker=tracker)


def _check_identity_rules(tracker: TrackerConfig, where: str) -> None:
    """Read the identity rules file now: a mistake there is the site's, said before start."""
    from ..track.classify import IdentityRules

    if tracker.identity_rules is not None:
        try:
            IdentityRules.load(tracker.identity_rules)
        except ConfigError as exc:
            raise ConfigError(f"{where}: key 'identity_rules': {exc}") from None


def _registry_line(message: str, path: Path, text: str) -> str:
    """The registry says ``PATH: sensor #3 (...)``: add the line of that table."""
    m = re.match(rf"{re.escape(str(path))}: sensor #(\d+)", message)
    lines = table_lines(text, "sensor")
    if m and int(m.group(1)) - 1 < len(lines):
        return message.replace(f"{path}:", f"{path}:{lines[int(m.group(1)) - 1]}:", 1)
    return message


def _check_service(s: ServiceSettings, where: str) -> None:
    if s.port is not None and not 1 <= s.port <= 65535:
        raise ConfigError(f"{where}: key 'port' = {s.port} is not a TCP port (1-65535)")
    for key in ("lag", "max_late", "tick", "assess_period", "keep_history", "keep_alerts"):
        value = getattr(s, key)
        if value is not None and value < 0:
            raise ConfigError(f"{where}: key {key!r} = {value} must not be negative")


def _feeds(tables: list[Any], registry: SensorRegistry | None,
           where: _Where) -> list[FeedSettings]:
    feeds: list[FeedSettings] = []
    names: set[str] = set()
    for i, table in enumerate(tables):
        w = where(i, table.get("name") if isinstance(table, dict) else None)
        f: FeedSettings = _convert(table, FeedSettings, w)
        _unique(f.name, names, "name", w)
        _check_feed(f, registry, w)
        feeds.append(f)
    return feeds


def _check_feed(f: FeedSettings, registry: SensorRegistry | None, w: str) -> None:
    if (f.connect is None) == (f.listen is None):
        raise ConfigError(f"{w}: give exactly one of 'connect' (a TCP receiver, HOST:PORT) "
                          "and 'listen' (UDP, HOST:PORT)")
    try:
        if f.connect is not None:
            parse_address(f.connect, "key 'connect'")
        else:
            parse_address(f.listen or "", "key 'listen'")
        if f.group is not None:
            check_multicast(f.group)
    except ValueError as exc:
        raise ConfigError(f"{w}: {exc}") from None
    if f.group is not None and f.listen is None:
        raise ConfigError(f"{w}: key 'group' (multicast) needs 'listen' (UDP)")
    if f.type in ("sbs", "beast", "avr") and f.connect is None:
        raise ConfigError(f"{w}: a {f.type} feed is read from a receiver's TCP port: give "
                          "'connect' (e.g. 30005 for Beast, 30003 for SBS, 30002 for AVR)")
    if f.type == "asterix" and f.listen is None:
        raise ConfigError(f"{w}: an asterix feed arrives over UDP: give 'listen' (and "
                          "'group' for multicast)")
    if not f.idle_s > 0:
        raise ConfigError(f"{w}: key 'idle_s' must be > 0")
    if f.type == "asterix":
        if f.sensor is not None:
            raise ConfigError(f"{w}: an asterix feed names its sensors by SAC/SIC: drop "
                              "'sensor' and give the registry's radars 'sac' and 'sic'")
        if registry is None or not any(s.sac is not None for s in registry):
            raise ConfigError(f"{w}: no [[sensor]] has 'sac' and 'sic', so no ASTERIX "
                              "record could be attributed to a sensor")
        return
    if f.sensor is None:
        raise ConfigError(f"{w}: missing key 'sensor' (the registry sensor it feeds)")
    sensor = registry.get(f.sensor) if registry is not None else None
    if sensor is None:
        raise ConfigError(f"{w}: key 'sensor': {f.sensor!r} is not a [[sensor]] of this file")
    allowed = FEED_SENSOR_TYPES[f.type]
    if sensor.type not in allowed:
        raise ConfigError(f"{w}: key 'sensor': {f.sensor!r} is a {sensor.type} sensor; a "
                          f"{f.type} feed needs a {' or '.join(allowed)} sensor")


def _outputs(tables: list[Any], where: _Where) -> list[OutputEntry]:
    out: list[OutputEntry] = []
    names: set[str] = set()
    for i, table in enumerate(tables):
        w = where(i, table.get("name") if isinstance(table, dict) else None)
        if not isinstance(table, dict):
            raise ConfigError(f"{w}: expected a table")
        rest = dict(table)
        kind = rest.pop("type", None)
        if kind not in OUTPUT_TYPES:
            raise ConfigError(f"{w}: key 'type' = {kind!r} is not one of "
                              f"{', '.join(OUTPUT_TYPES)}")
        struct = _output_struct(kind)
        settings = _convert(rest, struct, w)
        try:
            settings.check()
        except ValueError as exc:
            raise ConfigError(f"{w}: {exc}") from None
        _unique(settings.name, names, "name", w)
        out.append(OutputEntry(kind, settings.name, settings))
    return out


def _output_struct(kind: str) -> type:
    if kind == "tak":
        from ..publish.tak import TakSettings

        return TakSettings
    if kind == "asterix":
        from ..publish.asterix_out import Cat062Settings

        return Cat062Settings
    from ..publish.webhook import WebhookSettings

    return WebhookSettings


def _organisations(tables: list[Any], where: _Where) -> list[OrganisationSettings]:
    out: list[OrganisationSettings] = []
    ids: set[str] = set()
    for i, table in enumerate(tables):
        w = where(i, table.get("id") if isinstance(table, dict) else None)
        org: OrganisationSettings = _convert(table, OrganisationSettings, w)
        _unique(org.id, ids, "id", w)
        if org.nation is not None and not _NATION.fullmatch(org.nation):
            raise ConfigError(f"{w}: key 'nation' = {org.nation!r} is not an ISO alpha-3 "
                              "code like POL")
        bad = [r for r in org.roles if r not in ROLES]
        if bad or not org.roles:
            raise ConfigError(f"{w}: key 'roles': {', '.join(bad) or '(none)'}: each is one "
                              f"of {', '.join(ROLES)}")
        out.append(org)
    return out
