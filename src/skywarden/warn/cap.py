"""Public warnings as OASIS CAP 1.2 messages (Common Alerting Protocol), and a feed.

An alert "calls for a public warning" while its level's playbook holds a
``public_warning`` action. :class:`CapIssuer` follows each alert and issues:

- ``Alert`` when it first reaches such a level;
- ``Update`` when its level changes while it still calls for one;
- ``Cancel`` when it de-escalates to a level that does not, or ends.

Each Update and Cancel lists in ``<references>`` every earlier message of the same
thread as ``sender,identifier,sent``; all of them carry the alert id in
``<incidents>``. A thread closed by a Cancel is not reopened: a new escalation starts a
new thread with a new ``Alert``.

Mapping (docs/WARNING.md, "CAP mapping"):

- severity from the level: 4 Extreme, 3 Severe, 2 Moderate, 1 Minor;
- urgency: inside, or entry predicted within 10 min: Immediate; within 60 min: Expected;
  later: Future; no prediction: Unknown; Cancel: Past;
- certainty: inside: Observed; probability >= 0.5: Likely; >= 0.1: Possible; below:
  Unlikely; not known: Unknown;
- responseType: Shelter when urgency is Immediate, else Prepare; Cancel: AllClear.

Times are written with a numeric offset (``2025-09-09T23:30:00+02:00``); UTC is written
``-00:00`` as CAP 1.2 (3.3.2) requires. The schema ships with the tests
(tests/data/cap/CAP-v1.2.xsd), which validate Alert, Update and Cancel messages.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo

from shapely.geometry.base import BaseGeometry

from ..records import AlertEvent
from .alerts import Alert
from .area import Ring, path_area, ring_text
from .rules import Rulebook

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
SEVERITY = {1: "Minor", 2: "Moderate", 3: "Severe", 4: "Extreme"}
ET.register_namespace("cap", CAP_NS)
_UNSAFE = re.compile(r"[\s,<&]+")


@dataclass(frozen=True, slots=True)
class CapSettings:
    """Who sends, and how. ``sender`` must hold no spaces, commas, '<' or '&'."""

    sender: str
    status: str = "Actual"
    sender_name: str = "Skywarden air-surveillance early warning"
    language: str = "en"
    tz: tzinfo = UTC
    expires_s: float = 3600.0
    categories: tuple[str, ...] = ("Safety", "Security")
    note: str | None = None
    web: str | None = None
    contact: str | None = None

    def __post_init__(self) -> None:
        if not self.sender or _UNSAFE.search(self.sender):
            raise ValueError(f"CAP sender {self.sender!r}: no spaces, commas, '<' or '&'")
        if self.status not in STATUSES:
            raise ValueError(f"CAP status {self.status!r} is not one of {', '.join(STATUSES)}")


@dataclass(frozen=True, slots=True)
class CapArea:
    """``desc`` names the area (regions where known); polygons are closed lat,lon rings;
    circles are (lat, lon, radius km)."""

    desc: str
    polygons: tuple[Ring, ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CapInfo:
    event: str
    urgency: str
    severity: str
    certainty: str
    response: str
    headline: str
    description: str
    instruction: str
    area: CapArea
    expires: float | None = None
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CapMessage:
    identifier: str
    sender: str
    sent: str
    time: float
    status: str
    msg_type: str
    alert_id: str
    nation: str
    references: tuple[str, ...] = ()
    info: CapInfo | None = None
    xml: bytes = field(default=b"", repr=False)

    @property
    def reference(self) -> str:
        """This message as another message's reference: ``sender,identifier,sent``."""
        return f"{self.sender},{self.identifier},{self.sent}"


def format_time(t: float, tz: tzinfo = UTC) -> str:
    """CAP date-time: seconds, numeric offset, UTC as ``-00:00``."""
    text = datetime.fromtimestamp(math.floor(t), tz).isoformat(timespec="seconds")
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def severity(level: int) -> str:
    return SEVERITY.get(level, "Unknown")


def urgency(inside: bool, eta: float, now: float) -> str:
    if inside:
        return "Immediate"
    if not math.isfinite(eta):
        return "Unknown"
    lead = eta - now
    return "Immediate" if lead <= 600 else "Expected" if lead <= 3600 else "Future"


def certainty(inside: bool, probability: float) -> str:
    if inside:
        return "Observed"
    if not math.isfinite(probability):
        return "Unknown"
    return "Likely" if probability >= 0.5 else "Possible" if probability >= 0.1 else "Unlikely"


def cap_xml(msg: CapMessage, settings: CapSettings) -> bytes:
    """The message as CAP 1.2 XML (UTF-8, with declaration)."""
    q = _q(CAP_NS)
    root = ET.Element(q("alert"))
    _text(root, q("identifier"), msg.identifier)
    _text(root, q("sender"), msg.sender)
    _text(root, q("sent"), msg.sent)
    _text(root, q("status"), msg.status)
    _text(root, q("msgType"), msg.msg_type)
    _text(root, q("scope"), "Public")
    if settings.note:
        _text(root, q("note"), settings.note)
    if msg.references:
        _text(root, q("references"), " ".join(msg.references))
    _text(root, q("incidents"), _safe(msg.alert_id))
    if msg.info is not None:
        _info(root, msg.info, settings, q)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True, default_namespace=CAP_NS)


def _info(root: ET.Element, info: CapInfo, settings: CapSettings, q: Callable[[str], str]) -> None:
    el = ET.SubElement(root, q("info"))
    _text(el, q("language"), settings.language)
    for cat in settings.categories:
        _text(el, q("category"), cat)
    _text(el, q("event"), info.event)
    _text(el, q("responseType"), info.response)
    _text(el, q("urgency"), info.urgency)
    _text(el, q("severity"), info.severity)
    _text(el, q("certainty"), info.certainty)
    if info.expires is not None:
        _text(el, q("expires"), format_time(info.expires, settings.tz))
    _text(el, q("senderName"), settings.sender_name)
    _text(el, q("headline"), info.headline)
    _text(el, q("description"), info.description)
    if info.instruction:
        _text(el, q("instruction"), info.instruction)
    if settings.web:
        _text(el, q("web"), settings.web)
    if settings.contact:
        _text(el, q("contact"), settings.contact)
    for name, value in info.parameters:
        p = ET.SubElement(el, q("parameter"))
        _text(p, q("valueName"), name)
        _text(p, q("value"), value)
    area = ET.SubElement(el, q("area"))
    _text(area, q("areaDesc"), info.area.desc)
    for ring in info.area.polygons:
        _text(area, q("polygon"), ring_text(ring))
    for lat, lon, radius_km in info.area.circles:
        _text(area, q("circle"), f"{lat:.5f},{lon:.5f} {radius_km:.3f}")


def _q(ns: str) -> Callable[[str], str]:
    """Qualified tag names in namespace ``ns``."""
    return lambda tag: f"{{{ns}}}{tag}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = text
    return el


def _latlon(lat: float, lon: float) -> str:
    return f"{abs(lat):.3f} {'N' if lat >= 0 else 'S'} {abs(lon):.3f} {'E' if lon >= 0 else 'W'}"


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


class CapIssuer:
    """Follows alert events and issues the CAP messages of public warnings.

    ``on_event`` takes each event with the :class:`Alert` it is about (``None`` once the
    alert has ended) and, optionally, the area to warn; without one the area is a corridor
    around the track's predicted path (see :func:`~.area.path_area`), clipped to the
    nation's territory where ``within`` gives it, and named by the playbook's regions,
    else by ``describe`` (the regions it covers), else by the nation or zone.
    """

    def __init__(
        self,
        settings: CapSettings,
        rulebook: Rulebook,
        *,
        horizon_s: float = 1800.0,
        half_width_m: float = 15000.0,
        within: Callable[[str], BaseGeometry | None] | None = None,
        describe: Callable[[list[Ring], str], str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.rulebook = rulebook
        self.horizon_s = horizon_s
        self.half_width_m = half_width_m
        self.within = within  # a nation's territory, to clip its corridor to (None: none)
        self.describe = describe  # the regions a nation's area covers, named (None: none)
        self.threads: dict[str, list[CapMessage]] = {}
        self.issued: list[CapMessage] = []

    def calls_for_warning(self, nation: str, level: int) -> bool:
        return level >= 1 and self.rulebook.level(nation, level).public_warning is not None

    def on_event(
        self, event: AlertEvent, alert: Alert | None = None, area: CapArea | None = None
    ) -> CapMessage | None:
        if event.event == "acknowledged":
            return None
        thread = self.threads.get(event.alert)
        public = event.event != "ended" and self.calls_for_warning(event.nation, event.level)
        if public and alert is not None:
            info = self._info(event, alert, area or self.default_area(event, alert))
            return self._issue(event, "Update" if thread else "Alert", info)
        if thread and not public:
            last = thread[-1].info
            info = None if last is None else self._all_clear(event, last)
            return self._issue(event, "Cancel", info)
        return None

    def active(self, nation: str | None = None) -> list[CapMessage]:
        """The latest message of every open thread (what a feed shows now)."""
        return [t[-1] for t in self.threads.values() if nation is None or t[-1].nation == nation]

    def default_area(self, event: AlertEvent, alert: Alert) -> CapArea:
        pw = self.rulebook.level(event.nation, event.level).public_warning
        regions = list(pw.get("regions", ())) if pw is not None else []
        nation = self.rulebook.for_nation(event.nation)
        name = nation.name if nation.nation == event.nation else event.nation
        desc = (
            ", ".join(regions)
            if regions
            else (f"zone {alert.target_id} ({name})" if alert.zone else name)
        )
        clip = None if alert.zone or self.within is None else self.within(event.nation)
        polygons = tuple(
            path_area(
                alert.lat, alert.lon, alert.vel_e, alert.vel_n, self.horizon_s,
                self.half_width_m, within=clip,
            )
        )
        if polygons and not alert.zone and not regions and self.describe is not None:
            desc = self.describe(list(polygons), event.nation) or desc
        return CapArea(desc=desc, polygons=polygons)

    def _issue(self, event: AlertEvent, msg_type: str, info: CapInfo | None) -> CapMessage:
        thread = self.threads.setdefault(event.alert, [])
        sent = format_time(event.time, self.settings.tz)
        stamp = datetime.fromtimestamp(math.floor(event.time), UTC).strftime("%Y%m%dT%H%M%SZ")
        ident = _safe(f"{event.nation}.{event.alert}.{stamp}.{len(thread) + 1}")
        msg = CapMessage(
            identifier=ident,
            sender=self.settings.sender,
            sent=sent,
            time=event.time,
            status=self.settings.status,
            msg_type=msg_type,
            alert_id=event.alert,
            nation=event.nation,
            references=tuple(m.reference for m in thread),
            info=info,
        )
        msg = replace(msg, xml=cap_xml(msg, self.settings))
        if msg_type == "Cancel":
            del self.threads[event.alert]
        else:
            thread.append(msg)
        self.issued.append(msg)
        return msg

    def _info(self, event: AlertEvent, alert: Alert, area: CapArea) -> CapInfo:
        now = event.time
        lvl = self.rulebook.level(event.nation, event.level)
        pw = lvl.public_warning
        urg = urgency(alert.inside, alert.eta, now)
        cls = alert.cls if alert.cls != "unknown" else "air object"
        what = f"unidentified {cls}" if alert.identity in ("pending", "unknown") else cls
        where = area.desc
        if alert.inside:
            headline = f"{lvl.name.capitalize()}: {what} over {where}"
        elif math.isfinite(alert.eta):
            mins = max(0, round((alert.eta - now) / 60))
            headline = f"{lvl.name.capitalize()}: {what} expected over {where} in {mins} min"
        else:
            headline = f"{lvl.name.capitalize()}: {what} near {where}"
        alt = f", altitude about {alert.alt:.0f} m" if math.isfinite(alert.alt) else ""
        desc = f"A {what} ({alert.identity}) is tracked at {_latlon(alert.lat, alert.lon)}{alt}."
        if not alert.inside and math.isfinite(alert.eta):
            desc += (
                f" Predicted to enter at {format_time(alert.eta, self.settings.tz)}"
                f" (probability {alert.probability:.0%})."
            )
        desc += f" Alert level {event.level} ({lvl.name})."
        instruction = pw.get("instruction", "") if pw is not None else ""
        return CapInfo(
            event=f"Air threat: {cls}",
            urgency=urg,
            severity=severity(event.level),
            certainty=certainty(alert.inside, alert.probability),
            response="Shelter" if urg == "Immediate" else "Prepare",
            headline=headline,
            description=desc,
            instruction=instruction,
            area=area,
            expires=now + self.settings.expires_s,
            parameters=(
                ("skywarden:alert", event.alert),
                ("skywarden:level", str(event.level)),
                *((("skywarden:track", alert.track),) if alert.track else ()),
            ),
        )

    def _all_clear(self, event: AlertEvent, last: CapInfo) -> CapInfo:
        return replace(
            last,
            urgency="Past",
            severity="Minor",
            certainty="Observed",
            response="AllClear",
            headline=f"All clear: {last.area.desc}",
            description=f"The warning for {last.area.desc} is withdrawn.",
            instruction="Resume normal activity; report fallen objects to the police.",
            expires=event.time + self.settings.expires_s,
            parameters=(("skywarden:alert", event.alert), ("skywarden:level", str(event.level))),
        )


def cap_feed(
    messages: list[CapMessage],
    settings: CapSettings,
    *,
    feed_id: str,
    title: str,
    updated: float,
) -> bytes:
    """An Atom feed with one entry per message, each embedding its CAP ``alert``."""
    # Atom tags are written unqualified under a literal default xmlns (ElementTree's
    # default_namespace cannot hold the unqualified attribute "type"); CAP keeps "cap:".
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    _text(root, "id", feed_id)
    _text(root, "title", title)
    _text(root, "updated", format_time(updated, UTC)[:-6] + "Z")
    author = ET.SubElement(root, "author")
    _text(author, "name", settings.sender_name)
    for msg in messages:
        entry = ET.SubElement(root, "entry")
        _text(entry, "id", f"urn:cap:{msg.sender}:{msg.identifier}")
        head = msg.info.headline if msg.info else f"{msg.msg_type} {msg.identifier}"
        _text(entry, "title", head)
        _text(entry, "updated", format_time(msg.time, UTC)[:-6] + "Z")
        content = ET.SubElement(entry, "content", {"type": "application/cap+xml"})
        content.append(ET.fromstring(msg.xml))
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
