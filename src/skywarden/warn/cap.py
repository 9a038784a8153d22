"""Public warnings as OASIS CAP 1.2 messages (Common Alerting Protocol), and a feed.

An alert "calls for a public warning" while its level's playbook holds a
``public_warning`` action. :class:`CapIssuer` keeps threads of messages, one per public
warning: per region the alerts' corridors cover (with a region map), else per alert. A
thread issues:

- ``Alert`` when its first alert joins (an alert reaches a public level with the region
  in its corridor);
- ``Update`` when its level, urgency or certainty changes (the most pressing of its
  alerts': an alert escalates, a nearer or surer one joins, the worst one leaves);
- ``Cancel`` (all clear) when its last alert leaves (de-escalates below a public level,
  ends, or no longer covers the region).

Each Update and Cancel lists in ``<references>`` every earlier message of the same
thread as ``sender,identifier,sent``; ``<incidents>`` lists every alert the thread has
warned of. A thread closed by a Cancel is not reopened: a new warning starts a new thread
with a new ``Alert``.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo

from shapely.geometry.base import BaseGeometry

from ..records import AlertEvent
from .alerts import Alert
from .area import Ring, path_area, ring_text
from .regions import RegionMap
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
    alert_id: str  # the thread: the alert's id, or NATION/REGION for a region's warning
    nation: str
    references: tuple[str, ...] = ()
    info: CapInfo | None = None
    xml: bytes = field(default=b"", repr=False)
    # The alerts the thread has warned of (CAP ``incidents``); empty: ``alert_id`` alone.
    incidents: tuple[str, ...] = ()

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
    _text(root, q("incidents"), " ".join(_safe(a) for a in msg.incidents or (msg.alert_id,)))
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


@dataclass(slots=True)
class Share:
    """What an alert's latest public event said: its part in the threads it warns in."""

    level: int
    inside: bool
    eta: float
    probability: float
    cls: str
    identity: str
    track: str | None
    lat: float
    lon: float
    alt: float

    @classmethod
    def of(cls, alert: Alert, level: int) -> Share:
        return cls(level, alert.inside, alert.eta, alert.probability, alert.cls,
                   alert.identity, alert.track, alert.lat, alert.lon, alert.alt)


@dataclass(slots=True)
class Thread:
    """One public warning: its messages so far, its area, and the alerts it warns of.

    ``key`` is ``NATION/REGION`` for a region's warning (``region`` set; its area is the
    region's outline and holds still), else the id of the one alert it warns of (its area
    follows that alert's corridor)."""

    key: str
    nation: str
    area: CapArea
    region: str | None = None
    messages: list[CapMessage] = field(default_factory=list)
    shares: dict[str, Share] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)  # every alert it has warned of
    said: tuple[int, str, str] | None = None  # level, urgency, certainty last sent
    empty_since: float | None = None  # when its last alert left (the all clear waits)


# Urgency and certainty of a thread: the most pressing among its alerts.
_URGENCY_RANK = ("Immediate", "Expected", "Future", "Unknown")
_CERTAINTY_RANK = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
# Threats a region's warning describes one by one (the rest are counted).
DESCRIBED = 5


class CapIssuer:
    """Follows alert events and issues the CAP messages of public warnings.

    ``on_event`` takes each event with the :class:`Alert` it is about (``None`` once the
    alert has ended) and, optionally, the area to warn; without one the area is a corridor
    around the track's predicted path (:func:`~.area.path_area`), clipped to the nation's
    territory where ``within`` gives it.

    Threads. With a :class:`~.regions.RegionMap` (``regions``), a nation's public warning
    goes out per region, as civil protection issues them: the corridor's regions each get
    one thread (their outline as the area), which every alert whose corridor covers that
    region joins and leaves. A thread's ``Alert`` goes out when its first alert joins, an
    ``Update`` when its level, urgency or certainty changes (the most pressing of its
    alerts'), and its ``Cancel`` (all clear) when its last alert leaves: a mass attack
    over one region is one warning that escalates, not one per drone. An alert whose area
    is given, a zone's alert, one whose playbook names its own regions, and one whose
    corridor covers no region the map knows warn in a thread of their own, with the
    corridor (or the given area) as the area.
    """

    def __init__(
        self,
        settings: CapSettings,
        rulebook: Rulebook,
        *,
        horizon_s: float = 1800.0,
        half_width_m: float = 15000.0,
        within: Callable[[str], BaseGeometry | None] | None = None,
        regions: RegionMap | None = None,
        refresh_s: float = 30.0,
        all_clear_s: float = 300.0,
    ) -> None:
        self.settings = settings
        self.rulebook = rulebook
        self.horizon_s = horizon_s
        self.half_width_m = half_width_m
        self.within = within  # a nation's territory, to clip its corridor to (None: none)
        self.regions = regions
        self.threads: dict[str, Thread] = {}
        self.issued: list[CapMessage] = []
        self.refresh_s = refresh_s
        self.all_clear_s = all_clear_s
        self._joined: dict[str, set[str]] = {}  # alert id -> keys of the threads it is in
        self._placed: dict[str, float] = {}  # alert id -> when its threads were last found
        self._given: set[str] = set()  # alerts not to move: area given, or restored

    def calls_for_warning(self, nation: str, level: int) -> bool:
        return level >= 1 and self.rulebook.level(nation, level).public_warning is not None

    def on_event(
        self, event: AlertEvent, alert: Alert | None = None, area: CapArea | None = None
    ) -> list[CapMessage]:
        """The messages this event causes (none, or one per thread it changes)."""
        if event.event == "acknowledged":
            return []
        public = (alert is not None and event.event != "ended"
                  and self.calls_for_warning(event.nation, event.level))
        if alert is None or not public:
            return self._place(event.alert, event.nation, event.level, None, {}, event.time)
        if area is not None:
            self._given.add(event.alert)
        else:
            self._given.discard(event.alert)
        areas = self._areas(event.alert, event.nation, event.level, alert, area)
        return self._place(event.alert, event.nation, event.level, alert, areas, event.time)

    def refresh(self, alerts: Mapping[str, Alert], now: float) -> list[CapMessage]:
        """Move the alerts of public warnings on with their tracks, each at most every
        ``refresh_s``: an alert keeps its level (no event) while its track flies on, so
        the regions ahead of it join its warning and those behind it are given the all
        clear. Alerts whose area a caller gave, and alerts restored after a restart
        (their tracks are the previous run's), stay where they are until their next
        event. Region warnings without alerts for ``all_clear_s`` are given their all
        clear."""
        out: list[CapMessage] = []
        for thread in list(self.threads.values()):
            wait = self.all_clear_s if thread.region is not None else 0.0
            if thread.empty_since is not None and now - thread.empty_since >= wait:
                out += self._close(thread, now, 0)
        for alert_id in sorted(self._joined):
            alert = alerts.get(alert_id)
            if (alert is None or alert_id in self._given
                    or now - self._placed.get(alert_id, -math.inf) < self.refresh_s):
                continue
            areas = self._areas(alert_id, alert.nation, alert.level, alert, None)
            out += self._place(alert_id, alert.nation, alert.level, alert, areas, now)
        return out

    def _place(self, alert_id: str, nation: str, level: int, alert: Alert | None,
               areas: dict[str, tuple[CapArea, str | None]], now: float) -> list[CapMessage]:
        """Put the alert in the threads of ``areas`` (none: in no thread) at ``level``;
        the messages the threads it joins, leaves or changes call for."""
        out: list[CapMessage] = []
        for key in sorted(self._joined.pop(alert_id, set()) - areas.keys()):
            thread = self.threads.get(key)
            if thread is not None:
                thread.shares.pop(alert_id, None)
                out += self._changed(thread, now, level)
        if alert is not None:
            for key, (where, region) in areas.items():
                thread = self.threads.get(key)
                if thread is None:
                    thread = self.threads[key] = Thread(key, nation, where, region)
                elif region is None:
                    thread.area = where
                thread.shares[alert_id] = Share.of(alert, level)
                if alert_id not in thread.incidents:
                    thread.incidents.append(alert_id)
                out += self._changed(thread, now, level)
        if areas:
            self._joined[alert_id] = set(areas)
            self._placed[alert_id] = now
        else:
            self._placed.pop(alert_id, None)
            self._given.discard(alert_id)
        return out

    def active(self, nation: str | None = None) -> list[CapMessage]:
        """The latest message of every open thread (what a feed shows now)."""
        return [t.messages[-1] for t in self.threads.values()
                if t.messages and (nation is None or t.nation == nation)]

    def restore(self, nation: str, key: str, messages: list[CapMessage], alerts: list[Alert],
                region: str | None = None, said: tuple[int, str, str] | None = None) -> None:
        """Take up a thread issued before a restart: its key (``NATION/REGION`` or the
        alert id), its messages in order, the open alerts it warns of (each at its level;
        none: its all clear goes out at the next :meth:`refresh`), its region and what
        its last message said (level, urgency, certainty; an Update goes out only when
        that changes)."""
        where = (self._region_area(nation, region) if region is not None
                 else CapArea(desc=self._nation_name(nation)))
        thread = Thread(key, nation, where, region, list(messages), said=said)
        if not alerts:
            thread.empty_since = messages[-1].time - self.all_clear_s
        for a in alerts:
            thread.shares[a.id] = Share.of(a, a.level)
            thread.incidents.append(a.id)
            self._joined.setdefault(a.id, set()).add(key)
            # its track is the previous run's: no new row will move it, so it stays in
            # the threads it was in until its next event
            self._given.add(a.id)
        self.threads[key] = thread

    def default_area(self, nation: str, level: int, alert: Alert) -> CapArea:
        """The alert's own area: the corridor of its predicted path (clipped to the
        nation), named by its playbook's regions, else by the zone or the nation."""
        pw = self.rulebook.level(nation, level).public_warning
        regions = list(pw.get("regions", ())) if pw is not None else []
        name = self._nation_name(nation)
        desc = (
            ", ".join(regions)
            if regions
            else (f"zone {alert.target_id} ({name})" if alert.zone else name)
        )
        return CapArea(desc=desc, polygons=self._corridor(nation, alert))

    def _areas(self, alert_id: str, nation: str, level: int, alert: Alert,
               area: CapArea | None) -> dict[str, tuple[CapArea, str | None]]:
        """The threads the alert warns in now: key -> (area, region or None)."""
        if area is not None:
            return {alert_id: (area, None)}
        pw = self.rulebook.level(nation, level).public_warning
        own = pw is not None and bool(pw.get("regions"))
        if self.regions is not None and not alert.zone and not own:
            names = self.regions.covered(nation, list(self._corridor(nation, alert)))
            if names:
                return {f"{nation}/{n}": (self._region_area(nation, n), n) for n in names}
        return {alert_id: (self.default_area(nation, level, alert), None)}

    def _corridor(self, nation: str, alert: Alert) -> tuple[Ring, ...]:
        clip = None if alert.zone or self.within is None else self.within(nation)
        return tuple(path_area(alert.lat, alert.lon, alert.vel_e, alert.vel_n,
                               self.horizon_s, self.half_width_m, within=clip))

    def _region_area(self, nation: str, region: str) -> CapArea:
        outline = self.regions.outline(nation, region) if self.regions is not None else []
        return CapArea(desc=f"{region} ({self._nation_name(nation)})", polygons=tuple(outline))

    def _nation_name(self, nation: str) -> str:
        if self.regions is not None and nation in self.regions.borders.codes:
            return self.regions.borders.name(nation)
        rules = self.rulebook.for_nation(nation)
        return rules.name if rules.nation == nation else nation

    def _changed(self, thread: Thread, now: float, level: int) -> list[CapMessage]:
        """The message a change of the thread's alerts calls for, if any (``level``: the
        level of the alert that changed)."""
        if not thread.shares:
            if thread.region is None or self.all_clear_s <= 0:
                return self._close(thread, now, level)
            # a region's all clear waits: the next threat of a wave is often minutes away
            if thread.empty_since is None:
                thread.empty_since = now
            return []
        thread.empty_since = None
        said = _said(thread, now)
        if thread.messages and said == thread.said:
            return []
        thread.said = said
        info = self._info(thread, now, said)
        return [self._issue(thread, now, "Update" if thread.messages else "Alert", info)]

    def _close(self, thread: Thread, now: float, level: int) -> list[CapMessage]:
        """End the thread: its Cancel (all clear), if it ever issued a message."""
        del self.threads[thread.key]
        if not thread.messages:
            return []
        info = self._all_clear(thread, now, level, thread.messages[-1].info)
        return [self._issue(thread, now, "Cancel", info)]

    def _issue(self, thread: Thread, now: float, msg_type: str,
               info: CapInfo | None) -> CapMessage:
        sent = format_time(now, self.settings.tz)
        stamp = datetime.fromtimestamp(math.floor(now), UTC).strftime("%Y%m%dT%H%M%SZ")
        stem = thread.region if thread.region is not None else thread.key
        ident = _safe(f"{thread.nation}.{stem}.{stamp}.{len(thread.messages) + 1}")
        msg = CapMessage(
            identifier=ident,
            sender=self.settings.sender,
            sent=sent,
            time=now,
            status=self.settings.status,
            msg_type=msg_type,
            alert_id=thread.key,
            nation=thread.nation,
            references=tuple(m.reference for m in thread.messages),
            info=info,
            incidents=tuple(thread.incidents),
        )
        msg = replace(msg, xml=cap_xml(msg, self.settings))
        thread.messages.append(msg)
        self.issued.append(msg)
        return msg

    def _info(self, thread: Thread, now: float, said: tuple[int, str, str]) -> CapInfo:
        level, urg, cert = said
        shares = sorted(thread.shares.items(),
                        key=lambda kv: (-kv[1].level, not kv[1].inside, _soonest(kv[1].eta)))
        _, top = shares[0]
        lvl = self.rulebook.level(thread.nation, level)
        pw = lvl.public_warning
        where = thread.area.desc
        what = _what(top) if len(shares) == 1 else f"{len(shares)} air threats"
        etas = [s.eta for _, s in shares if not s.inside and math.isfinite(s.eta)]
        if any(s.inside for _, s in shares):
            headline = f"{lvl.name.capitalize()}: {what} over {where}"
        elif etas:
            mins = max(0, round((min(etas) - now) / 60))
            headline = f"{lvl.name.capitalize()}: {what} expected over {where} in {mins} min"
        else:
            headline = f"{lvl.name.capitalize()}: {what} near {where}"
        parts = [self._describe(s) for _, s in shares[:DESCRIBED]]
        if len(shares) > DESCRIBED:
            parts.append(f"{len(shares) - DESCRIBED} more are tracked.")
        desc = " ".join(parts) + f" Alert level {level} ({lvl.name})."
        return CapInfo(
            event=f"Air threat: {_class_name(top)}",
            urgency=urg,
            severity=severity(level),
            certainty=cert,
            response="Shelter" if urg == "Immediate" else "Prepare",
            headline=headline,
            description=desc,
            instruction=pw.get("instruction", "") if pw is not None else "",
            area=thread.area,
            expires=now + self.settings.expires_s,
            parameters=(
                *(("skywarden:alert", a) for a, _ in shares),
                ("skywarden:level", str(level)),
                *((("skywarden:track", top.track),) if len(shares) == 1 and top.track else ()),
                *((("skywarden:region", thread.region),) if thread.region else ()),
            ),
        )

    def _describe(self, s: Share) -> str:
        alt = f", altitude about {s.alt:.0f} m" if math.isfinite(s.alt) else ""
        text = f"A {_what(s)} ({s.identity}) is tracked at {_latlon(s.lat, s.lon)}{alt}."
        if not s.inside and math.isfinite(s.eta):
            text += (f" Predicted to enter at {format_time(s.eta, self.settings.tz)}"
                     f" (probability {s.probability:.0%}).")
        return text

    def _all_clear(self, thread: Thread, now: float, level: int,
                   last: CapInfo | None) -> CapInfo:
        """The Cancel's info: the last message's area (a thread taken up after a restart
        has only its own: the region's outline, or the nation's name)."""
        area = thread.area if last is None else last.area
        return CapInfo(
            event="Air threat" if last is None else last.event,
            urgency="Past",
            severity="Minor",
            certainty="Observed",
            response="AllClear",
            headline=f"All clear: {area.desc}",
            description=f"The warning for {area.desc} is withdrawn.",
            instruction="Resume normal activity; report fallen objects to the police.",
            area=area,
            expires=now + self.settings.expires_s,
            parameters=(
                *(("skywarden:alert", a) for a in thread.incidents),
                # the level the warning fell to: the alert's, or none left in the region
                ("skywarden:level", "0" if thread.region else str(level)),
                *((("skywarden:region", thread.region),) if thread.region else ()),
            ),
        )


def _said(thread: Thread, now: float) -> tuple[int, str, str]:
    """What a thread's warning says: the highest level of its alerts, the most pressing
    urgency and the surest certainty among them."""
    shares = thread.shares.values()
    return (max(s.level for s in shares),
            min((urgency(s.inside, s.eta, now) for s in shares), key=_URGENCY_RANK.index),
            min((certainty(s.inside, s.probability) for s in shares),
                key=_CERTAINTY_RANK.index))


def _class_name(s: Share) -> str:
    return s.cls if s.cls != "unknown" else "air object"


def _what(s: Share) -> str:
    cls = _class_name(s)
    return f"unidentified {cls}" if s.identity in ("pending", "unknown") else cls


def _soonest(eta: float) -> float:
    return eta if math.isfinite(eta) else math.inf


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
