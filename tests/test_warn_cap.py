"""CAP 1.2 public warnings: valid against the official schema for Alert, Update and
Cancel, with correct references, times, areas and mappings."""

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
import xmlschema
from shapely.geometry import Polygon, box

from skywarden.warn import (
    AlertConfig,
    Assessment,
    AuditLog,
    CapArea,
    CapIssuer,
    CapSettings,
    Places,
    Rulebook,
    WarningEngine,
    cap_feed,
    circle_area,
    load_rulebook,
    parse_rules,
    path_area,
    rings,
    verify,
)
from skywarden.warn.area import ring_text
from skywarden.warn.cap import CAP_NS, certainty, format_time, severity, urgency

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd")
NS = {"cap": CAP_NS}
T0 = 1757453400.0  # 2025-09-09 21:30:00 UTC
SETTINGS = CapSettings(
    sender="warn@skywarden.example",
    status="Exercise",
    tz=ZoneInfo("Europe/Warsaw"),
    note="Exercise: simulated scenario",
)


def probability_rules():
    levels = [
        {
            "level": k,
            "when": [{"probability_min": 0.2 * k}],
            "actions": [{"do": "notify_atc"}]
            + (
                [{"do": "public_warning", "regions": ["Lubelskie"], "instruction": "Stay indoors."}]
                if k >= 3
                else []
            ),
        }
        for k in range(1, 5)
    ]
    return Rulebook({"default": parse_rules({"nation": "default", "level": levels})})


def row(t, p, **kw):
    base = dict(
        track_id="T12",
        time=t,
        lat=51.6,
        lon=23.7,
        alt=300.0,
        cls="drone",
        identity="unknown",
        target_id="POL",
        probability=p,
        eta_s=420.0,
        vel_e=-30.0,
        vel_n=5.0,
    )
    base.update(kw)
    return Assessment.from_rows([base])


def lifecycle(book=None, audit=None):
    """Level 2 -> 3 (Alert) -> 4 (Update) -> 2 (Cancel) -> 3 (a new Alert) -> ended."""
    book = book or probability_rules()
    engine = WarningEngine(
        book, AlertConfig(hold_s=10, clear_s=20), cap=CapIssuer(SETTINGS, book), audit=audit
    )
    series = [0.5] * 5 + [0.7] * 5 + [0.9] * 5 + [0.5] * 15 + [0.7] * 5 + [0.0] * 30
    out = []
    for k, p in enumerate(series):
        out.append(engine.step(row(T0 + k, p), T0 + k))
    return engine, [m for o in out for m in o.cap], [e for o in out for e in o.events]


def test_alert_update_cancel_validate_against_the_official_schema():
    _, msgs, _ = lifecycle()
    assert [m.msg_type for m in msgs] == ["Alert", "Update", "Cancel", "Alert", "Cancel"]
    for m in msgs:
        SCHEMA.validate(m.xml)  # raises on any violation
        root = ET.fromstring(m.xml)
        assert root.tag == f"{{{CAP_NS}}}alert"
        assert root.findtext("cap:msgType", namespaces=NS) == m.msg_type
        assert root.findtext("cap:status", namespaces=NS) == "Exercise"
        assert root.findtext("cap:scope", namespaces=NS) == "Public"
        assert root.findtext("cap:incidents", namespaces=NS) == m.alert_id


def test_references_list_every_earlier_message_of_the_thread():
    _, msgs, _ = lifecycle()
    alert, update, cancel, alert2, cancel2 = msgs
    assert alert.references == ()
    assert update.references == (alert.reference,)
    assert cancel.references == (alert.reference, update.reference)
    assert alert2.references == ()  # a closed thread is not reopened
    assert cancel2.references == (alert2.reference,)
    text = ET.fromstring(cancel.xml).findtext("cap:references", namespaces=NS)
    assert text == f"{alert.reference} {update.reference}"
    sender, ident, sent = alert.reference.split(",")
    assert (sender, ident, sent) == (alert.sender, alert.identifier, alert.sent)
    assert len({m.identifier for m in msgs}) == len(msgs)


def test_sent_times_carry_the_offset_and_utc_is_minus_zero():
    _, msgs, _ = lifecycle()
    assert msgs[0].sent == "2025-09-09T23:30:05+02:00"  # T0 + 5 s, Warsaw summer time
    assert format_time(T0) == "2025-09-09T21:30:00-00:00"
    assert format_time(T0 + 0.9) == "2025-09-09T21:30:00-00:00"


def test_info_mapping_and_area():
    _, msgs, _ = lifecycle()
    info = ET.fromstring(msgs[0].xml).find("cap:info", NS)
    get = lambda tag: info.findtext(f"cap:{tag}", namespaces=NS)  # noqa: E731
    assert [c.text for c in info.findall("cap:category", NS)] == ["Safety", "Security"]
    assert get("severity") == "Severe"  # level 3
    assert get("urgency") == "Immediate"  # entry in 7 min
    assert get("certainty") == "Likely"  # p 0.7
    assert get("responseType") == "Shelter"
    assert get("instruction") == "Stay indoors."
    assert "unidentified drone expected over Lubelskie in 7 min" in get("headline")
    area = info.find("cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "Lubelskie"
    pts = [
        tuple(map(float, p.split(","))) for p in area.findtext("cap:polygon", namespaces=NS).split()
    ]
    assert len(pts) >= 4 and pts[0] == pts[-1]
    poly = Polygon([(lon, lat) for lat, lon in pts])
    assert poly.is_valid and poly.contains(Polygon(box(23.69, 51.59, 23.71, 51.61)))
    update = ET.fromstring(msgs[1].xml).find("cap:info", NS)
    assert update.findtext("cap:severity", namespaces=NS) == "Extreme"
    cancel = ET.fromstring(msgs[2].xml).find("cap:info", NS)
    assert cancel.findtext("cap:responseType", namespaces=NS) == "AllClear"
    assert cancel.findtext("cap:urgency", namespaces=NS) == "Past"


def test_mapping_functions():
    assert [severity(k) for k in (1, 2, 3, 4)] == ["Minor", "Moderate", "Severe", "Extreme"]
    assert urgency(True, math.nan, T0) == "Immediate"
    assert urgency(False, T0 + 600, T0) == "Immediate"
    assert urgency(False, T0 + 601, T0) == "Expected"
    assert urgency(False, T0 + 3601, T0) == "Future"
    assert urgency(False, math.nan, T0) == "Unknown"
    assert certainty(True, 0.0) == "Observed"
    assert [certainty(False, p) for p in (0.5, 0.1, 0.05)] == ["Likely", "Possible", "Unlikely"]
    assert certainty(False, math.nan) == "Unknown"


def test_caller_area_zone_polygon_and_circle_validate():
    book = probability_rules()
    issuer = CapIssuer(SETTINGS, book)
    engine = WarningEngine(
        book,
        cap=issuer,
        area=lambda e, a: CapArea(
            desc="Warsaw Chopin airport (EPWA)",
            polygons=tuple(rings(box(20.9, 52.12, 21.0, 52.2))),
            circles=((52.166, 20.967, 5.0),),
        ),
    )
    out = engine.step(row(T0, 0.9, inside=True), T0)
    (msg,) = out.cap
    SCHEMA.validate(msg.xml)
    area = ET.fromstring(msg.xml).find("cap:info/cap:area", NS)
    assert area.findtext("cap:circle", namespaces=NS) == "52.16600,20.96700 5.000"
    assert area.findtext("cap:areaDesc", namespaces=NS) == "Warsaw Chopin airport (EPWA)"


def test_polygon_rules_are_enforced():
    ring = circle_area(52.0, 21.0, 5000.0)
    assert ring[0] == ring[-1] and len(ring) == 25
    with pytest.raises(ValueError, match="closed"):
        ring_text(ring[:-1])
    with pytest.raises(ValueError, match="at least 4 points"):
        ring_text([(1.0, 1.0), (1.0, 2.0), (1.0, 1.0)])


def test_path_area_is_clipped_to_the_nation_and_simplified():
    nation = box(22.0, 50.0, 24.0, 54.0)  # lon/lat
    area = path_area(51.6, 23.9, 30.0, 0.0, horizon_s=1800, half_width_m=10000, within=nation)
    assert len(area) == 1
    lats = np.array([p[0] for p in area[0]])
    lons = np.array([p[1] for p in area[0]])
    assert lons.max() <= 24.0 + 1e-9  # clipped at the border
    assert lons.min() < 23.9 and lats.max() > 51.65
    big = Polygon(
        [(22 + 2 * math.cos(a), 52 + math.sin(a)) for a in np.linspace(0, 2 * math.pi, 2000)]
    )
    (r,) = rings(big, max_points=50)
    assert 4 <= len(r) <= 50 and r[0] == r[-1]
    # unknown velocity: a circle around the track
    (c,) = path_area(51.6, 23.0, math.nan, math.nan, half_width_m=5000)
    assert Polygon([(lo, la) for la, lo in c]).contains(Polygon(box(22.99, 51.59, 23.01, 51.61)))


def test_region_map_partitions_a_nation_into_its_regions():
    """Drawn from places: four towns of two regions cut Poland in two along the line
    halfway between them; the parts cover the land exactly once."""
    from skywarden.airspace import load_borders
    from skywarden.warn.regions import RegionMap

    places = Places(
        lat=np.array([51.25, 52.23, 51.6, 53.1, 53.9]),
        lon=np.array([22.57, 21.01, 23.2, 23.2, 27.5]),
        region=np.array(["Lubelskie", "Mazowieckie", "Lubelskie", "Mazowieckie", "Minsk"]),
        country=np.array(["PL", "PL", "PL", "PL", "BY"]),
    )
    borders = load_borders()
    regions = RegionMap(places, borders)
    parts = regions.regions("POL")
    assert sorted(parts) == ["Lubelskie", "Mazowieckie"]
    land = borders.geometry("POL")
    assert abs(sum(g.area for g in parts.values()) - land.area) < 1e-6 * land.area
    assert parts["Lubelskie"].intersection(parts["Mazowieckie"]).area < 1e-9
    assert parts["Lubelskie"].contains(shapely.Point(22.57, 51.25))
    assert parts["Mazowieckie"].contains(shapely.Point(21.01, 52.23))
    # a corridor near Lublin covers Lubelskie only; one across the drawn line both
    assert regions.covered("POL", [circle_area(51.3, 22.6, 20000.0)]) == ["Lubelskie"]
    assert regions.covered("POL", [circle_area(52.2, 22.3, 60000.0)]) == [
        "Lubelskie", "Mazowieckie"]
    assert regions.covered("LTU", [circle_area(55.0, 24.0, 20000.0)]) == []  # no places
    (ring,) = regions.outline("POL", "Lubelskie")
    assert ring[0] == ring[-1] and 4 <= len(ring) <= 64
    assert regions.outline("POL", "Podlaskie") == []


def test_shipped_region_map_holds_the_real_regions():
    from skywarden.airspace import load_borders
    from skywarden.warn.area import shipped_places
    from skywarden.warn.regions import RegionMap

    regions = RegionMap(shipped_places(), load_borders())
    pol = regions.regions("POL")
    assert len(pol) == 16  # the voivodeships
    assert pol["Lublin Voivodeship"].contains(shapely.Point(22.57, 51.25))  # Lublin
    assert pol["Masovian Voivodeship"].contains(shapely.Point(21.01, 52.23))  # Warsaw
    assert regions.regions("UKR")["Kyiv City"].contains(shapely.Point(30.52, 50.45))


def test_no_public_warning_below_its_level_and_none_for_acknowledgements():
    book = probability_rules()
    issuer = CapIssuer(SETTINGS, book)
    engine = WarningEngine(book, cap=issuer)
    assert engine.step(row(T0, 0.5), T0).cap == []
    engine.step(row(T0 + 1, 0.7), T0 + 1)
    engine.acknowledge("T12:POL:1", "duty officer", T0 + 2)
    assert [m.msg_type for m in issuer.issued] == ["Alert"]
    assert [m.msg_type for m in issuer.active("POL")] == ["Alert"]


def test_shipped_polish_rules_warn_the_public_on_incursion():
    book = load_rulebook()
    engine = WarningEngine(book, AlertConfig(hold_s=30, clear_s=60), cap=CapIssuer(SETTINGS, book))
    msgs, events = [], []
    for k in range(200):
        t = T0 + k
        if k < 50:
            a = row(t, 0.8, identity="suspect", eta_s=600.0 - k)
        elif k < 120:
            a = row(t, 1.0, identity="suspect", inside=True, eta_s=math.nan)
        else:
            a = Assessment.empty()
        out = engine.step(a, t)
        msgs += out.cap
        events += out.events
    assert [(e.event, e.level, e.kind) for e in events] == [
        ("raised", 2, "predicted_entry"),
        ("escalated", 3, "incursion"),
        ("deescalated", 1, "incursion"),
        ("ended", 0, "incursion"),
    ]
    assert [m.msg_type for m in msgs] == ["Alert", "Cancel"]
    for m in msgs:
        SCHEMA.validate(m.xml)
    assert "call 112" in ET.fromstring(msgs[0].xml).findtext(
        "cap:info/cap:instruction", namespaces=NS
    )


def test_engine_audits_events_and_cap_messages(tmp_path):
    with AuditLog(tmp_path / "audit.jsonl") as log:
        _, msgs, events = lifecycle(audit=log)
    result = verify(tmp_path / "audit.jsonl")
    assert result.entries == len(events) + len(msgs)
    text = (tmp_path / "audit.jsonl").read_text()
    assert text.count('"action":"cap_alert"') == 2 and text.count('"action":"cap_cancel"') == 2


def test_atom_feed_embeds_the_messages():
    _, msgs, _ = lifecycle()
    feed = cap_feed(
        msgs[:2],
        SETTINGS,
        feed_id="urn:skywarden:feed:POL",
        title="Public air warnings, Poland",
        updated=T0 + 20,
    )
    root = ET.fromstring(feed)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", atom)
    assert len(entries) == 2
    assert root.findtext("a:updated", namespaces=atom) == "2025-09-09T21:30:20Z"
    for entry, msg in zip(entries, msgs, strict=False):
        alert = entry.find("a:content", atom).find("cap:alert", NS)
        SCHEMA.validate(ET.tostring(alert))
        assert alert.findtext("cap:identifier", namespaces=NS) == msg.identifier


def test_settings_are_checked():
    with pytest.raises(ValueError, match="sender"):
        CapSettings(sender="warn desk, Warsaw")
    with pytest.raises(ValueError, match="status"):
        CapSettings(sender="x", status="Real")


def drones(t, *tracks, **kw):
    """Suspect drones inside Poland: (track id, lat, lon) each, flying west."""
    rows = drones_rows(t, *tracks, **kw)
    return Assessment.from_rows(rows) if rows else Assessment.empty()


def drones_rows(t, *tracks, **kw):
    rows = []
    for track, lat, lon in tracks:
        base = dict(track_id=track, time=t, lat=lat, lon=lon, alt=300.0, cls="drone",
                    identity="suspect", target_id="POL", probability=1.0, inside=True,
                    eta_s=math.nan, vel_e=-45.0, vel_n=0.0)
        base.update(kw)
        rows.append(base)
    return rows


def test_default_engine_warns_per_region():
    """The shipped pipeline warns per region: two drones over Lublin Voivodeship are one
    public warning (the region's outline, both alerts its incidents), escalated when one
    is found to be a missile, withdrawn when the last leaves; nothing for Belarus."""
    from skywarden.pipeline import default_engine

    engine = default_engine(cap_status="Exercise")
    # near Lublin, velocity unknown: each warns a 15 km circle, all in the voivodeship
    a, b = ("T1", 51.25, 22.50), ("T2", 51.20, 22.65)
    still = dict(vel_e=math.nan, vel_n=math.nan)
    msgs = []
    for k in range(900):
        t = T0 + k
        if k < 60:
            rows = drones(t, a, **still)
        elif k < 120:
            rows = drones(t, a, b, **still)
        elif k < 180:
            rows = Assessment.from_rows([*drones_rows(t, a, **still),
                                         *drones_rows(t, b, cls="missile",
                                                      class_confidence=0.8, **still)])
        else:
            rows = drones(t)
        msgs += engine.step(rows, t).cap
    assert [m.msg_type for m in msgs] == ["Alert", "Update", "Cancel"], [
        (m.msg_type, m.info.headline if m.info else None) for m in msgs]
    alert, update, cancel = msgs
    for m in msgs:
        SCHEMA.validate(m.xml)
        assert m.alert_id == "POL/Lublin Voivodeship"
    area = ET.fromstring(alert.xml).find("cap:info/cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "Lublin Voivodeship (Poland)"
    pts = [tuple(map(float, p.split(","))) for p in
           area.findtext("cap:polygon", namespaces=NS).split()]
    outline = Polygon([(lon, lat) for lat, lon in pts])
    assert outline.contains(shapely.Point(22.57, 51.25))  # Lublin
    assert not outline.contains(shapely.Point(21.01, 52.23))  # not Warsaw
    # the second drone joined the warning without a message; the missile escalated it
    assert ET.fromstring(alert.xml).findtext("cap:info/cap:severity", namespaces=NS) == "Severe"
    info = ET.fromstring(update.xml).find("cap:info", NS)
    assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
    headline = info.findtext("cap:headline", namespaces=NS)
    assert headline == "Critical: 2 air threats over Lublin Voivodeship (Poland)"
    incidents = ET.fromstring(update.xml).findtext("cap:incidents", namespaces=NS).split()
    assert sorted(incidents) == ["T1:POL:1", "T2:POL:1"]
    assert update.references == (alert.reference,)
    assert cancel.references == (alert.reference, update.reference)
    assert ET.fromstring(cancel.xml).findtext("cap:info/cap:responseType",
                                              namespaces=NS) == "AllClear"
    assert engine.cap.threads == {} and engine.cap.active("POL") == []


def test_an_alert_warns_every_region_its_corridor_covers_and_leaves_them():
    """A drone flying west from near Lublin: its 30-minute corridor reaches into a
    second voivodeship, so two regions are warned; once it turns back east, the region
    it no longer threatens gets its all clear while the other stays warned."""
    from skywarden.pipeline import default_engine

    engine = default_engine(cap_status="Exercise")
    msgs = []
    for k in range(450):
        t = T0 + k
        ve = -45.0 if k < 50 else 45.0
        msgs += engine.step(drones(t, ("T1", 51.25, 22.3), vel_e=ve), t).cap
    opened = [m for m in msgs if m.msg_type == "Alert"]
    assert len(opened) >= 2
    assert "POL/Lublin Voivodeship" in {m.alert_id for m in opened}
    closed = {m.alert_id for m in msgs if m.msg_type == "Cancel"}
    assert closed and "POL/Lublin Voivodeship" not in closed
    assert {m.alert_id for m in engine.cap.active("POL")} == (
        {m.alert_id for m in opened} - closed)
    for m in msgs:
        SCHEMA.validate(m.xml)


def test_zone_alerts_and_playbook_regions_keep_a_thread_of_their_own():
    """An alert with its own area (a zone) warns in a thread of its own even where a
    region map is known, and so does one whose playbook names its regions."""
    from skywarden.airspace import load_borders
    from skywarden.warn.area import shipped_places
    from skywarden.warn.regions import RegionMap

    book = probability_rules()  # its public warnings name "Lubelskie" themselves
    issuer = CapIssuer(SETTINGS, book, regions=RegionMap(shipped_places(), load_borders()))
    engine = WarningEngine(book, cap=issuer)
    out = engine.step(row(T0, 0.7), T0)
    (msg,) = out.cap
    assert msg.alert_id == "T12:POL:1"
    assert ET.fromstring(msg.xml).findtext("cap:info/cap:area/cap:areaDesc",
                                           namespaces=NS) == "Lubelskie"


def test_a_region_is_given_its_all_clear_only_after_a_quiet_spell():
    """Drones of one wave two minutes apart keep their region's warning on (no all clear
    and new Alert for each); the all clear comes all_clear_s after the last has gone."""
    from skywarden.pipeline import default_engine

    engine = default_engine(cap_status="Exercise")
    still = dict(vel_e=math.nan, vel_n=math.nan)
    msgs = []
    for k in range(1200):
        t = T0 + k
        if k < 60:
            rows = drones(t, ("T1", 51.25, 22.50), **still)
        elif 180 <= k < 240:  # the next drone, two minutes after the first was lost
            rows = drones(t, ("T2", 51.20, 22.65), **still)
        else:
            rows = drones(t)
        msgs += [(k, m) for m in engine.step(rows, t).cap]
    assert [m.msg_type for _, m in msgs] == ["Alert", "Cancel"]
    (k_alert, alert), (k_cancel, cancel) = msgs
    assert cancel.references == (alert.reference,)
    assert sorted(cancel.incidents) == ["T1:POL:1", "T2:POL:1"]
    assert k_cancel >= 240 + engine.cap.all_clear_s


def test_a_restored_warning_whose_alerts_ended_meanwhile_gets_its_all_clear():
    from skywarden.pipeline import default_engine

    first = default_engine(cap_status="Exercise")
    still = dict(vel_e=math.nan, vel_n=math.nan)
    opened = first.step(drones(T0, ("T1", 51.25, 22.50), **still), T0).cap
    opened += first.step(drones(T0 + 40, ("T1", 51.25, 22.50), **still), T0 + 40).cap
    (alert,) = opened
    second = default_engine(cap_status="Exercise")  # after a restart; T1's alert is over
    second.cap.restore("POL", alert.alert_id, [alert], [], region="Lublin Voivodeship")
    assert second.cap.active("POL") == [alert]
    (cancel,) = second.step(Assessment.empty(), T0 + 600).cap
    assert cancel.msg_type == "Cancel" and cancel.references == (alert.reference,)
    SCHEMA.validate(cancel.xml)
    area = ET.fromstring(cancel.xml).find("cap:info/cap:area", NS)
    assert area.findtext("cap:areaDesc", namespaces=NS) == "Lublin Voivodeship (Poland)"
    assert area.find("cap:polygon", NS) is not None  # the region's outline
    assert second.cap.active("POL") == []


def test_a_restart_takes_up_the_latest_warning_of_a_region(tmp_path):
    """The CAP files of a region hold every warning it had; after a restart only the one
    still in force is taken up, and its all clear references its own messages only."""
    import re

    from skywarden.live.restore import restore_cap_threads
    from skywarden.pipeline import default_engine

    engine = default_engine(cap_status="Exercise")
    still = dict(vel_e=math.nan, vel_n=math.nan)
    msgs = []
    for k in range(1000):  # a drone, the all clear, a second drone
        t = T0 + k
        here = k < 60 or 900 <= k < 960
        msgs += engine.step(drones(t, ("T1" if k < 60 else "T2", 51.25, 22.5), **still)
                            if here else drones(t), t).cap
    assert [m.msg_type for m in msgs] == ["Alert", "Cancel", "Alert"]
    folder = tmp_path / "POL"
    folder.mkdir()
    for m in msgs:  # named as the service's store writer names them
        (folder / f"{re.sub(r'[^A-Za-z0-9._-]', '_', m.identifier)}.xml").write_bytes(m.xml)
    after = default_engine(cap_status="Exercise")
    assert restore_cap_threads(after.cap, tmp_path, []) == (1, [])
    (cancel,) = after.step(Assessment.empty(), T0 + 2000).cap
    assert cancel.msg_type == "Cancel" and cancel.references == (msgs[2].reference,)
