"""File edge, classification, identity rules, settings and the public surface."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

import skywarden.track as track
from skywarden.errors import ConfigError
from skywarden.ingest.jsonl import JsonlWriter
from skywarden.records import TARGET_CLASSES, TrackUpdate
from skywarden.track import TrackerConfig, track_file
from skywarden.track.classify import IdentityRules, kinematic_membership
from skywarden.track.synthetic import Mover, Scene, adsb_reports, radar_plots, registry

LAT0, LON0 = 52.0, 21.0
RADAR = dict(
    id="r1",
    type="radar",
    owner="POL",
    lat=LAT0,
    lon=LON0,
    alt=100.0,
    max_range=250000,
    scan_period=10,
    sigma_range=50,
    sigma_azimuth=0.2,
    sigma_elevation=0.3,
    clutter_per_scan=3.0,
)
ADSB = dict(id="a1", type="adsb", owner="POL", lat=LAT0, lon=LON0, alt=100.0)


def test_public_surface():
    assert sorted(track.__all__) == sorted(
        ["TrackBatch", "TrackSummary", "Tracker", "TrackerConfig", "TrackerStats", "track_file"]
    )
    for name in track.__all__:
        assert hasattr(track, name)


def test_track_file_writes_shared_format_and_a_summary(tmp_path):
    rng = np.random.default_rng(1)
    reg = registry(RADAR, ADSB)
    scene = Scene(
        LAT0,
        LON0,
        [
            Mover("drone", (15000.0, -5000.0, 300.0), (-20.0, 40.0, 0.0)),
            Mover("liner", (-60000.0, 0.0, 10500.0), (230.0, 0.0, 0.0), icao="icao:4CA2D1"),
        ],
    )
    dets = radar_plots(scene, reg["r1"], 0, 400, rng, clutter=3.0)
    dets += adsb_reports(scene, reg["a1"], 0, 400, rng)
    dets.sort(key=lambda d: d.time)
    reg.dump(tmp_path / "sensors.toml")
    with JsonlWriter(tmp_path / "det.jsonl") as w:
        for d in dets:
            w.write(d)
    with (tmp_path / "det.jsonl").open("a") as fh:  # bad lines are counted, not fatal
        fh.write('{"time": "soon", "sensor": "r1"}\n{"time": 5, "sensor": "nope"}\nnot json\n')
    seen = []
    summary = track_file(
        tmp_path / "det.jsonl",
        tmp_path / "sensors.toml",
        tmp_path / "tracks.jsonl",
        progress=lambda n, t: seen.append(n),
    )
    assert summary.lines_bad == 3 and summary.detections == len(dets)
    assert summary.used + sum(summary.rejected.values()) == summary.detections
    assert summary.tracks_confirmed == 2 and summary.tracks_output == 2
    text = str(summary)
    assert "tracks confirmed" in text and "detections/s" in text
    lines = (tmp_path / "tracks.jsonl").read_bytes().splitlines()
    assert len(lines) == summary.lines_written > 100
    rows = [msgspec.json.decode(line, type=TrackUpdate) for line in lines]
    raw = msgspec.json.decode(lines[-1])
    assert {"time", "track", "lat", "lon", "status"} <= set(raw)
    by = {}
    for r in rows:
        by.setdefault(r.track, []).append(r)
    liner = next(v for v in by.values() if v[-1].ids == ["icao:4CA2D1"])
    drone = next(v for v in by.values() if not v[-1].ids)
    assert liner[-1].cls == "aircraft" and liner[-1].identity == "neutral"
    assert liner[-1].alt == pytest.approx(10500 + 300, abs=300)  # tangent-plane truth
    assert drone[-1].cls == "drone" and drone[-1].identity == "suspect"
    assert drone[-1].class_confidence is not None and drone[-1].class_confidence > 0.3
    times = [r.time for r in rows]
    # Written in time order, give or take one window (lines of a window share its end).
    assert np.diff(times).min() >= -TrackerConfig().window


def test_kinematic_membership_orders_the_obvious_cases():
    k = kinematic_membership(
        np.array([45.0, 230.0, 5.0, 280.0]), np.array([300.0, 11000.0, 20000.0, 100.0])
    )
    from skywarden.records import TARGET_CLASSES

    best = [TARGET_CLASSES[i] for i in np.argmax(k, axis=1)]
    assert best == ["drone", "aircraft", "balloon", "missile"]


def test_identity_rules_reject_typos_and_unknown_identities(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rule]]\nname = "x"\nspeeed = 3\nidentity = "friend"\n')
    with pytest.raises(ConfigError, match="speeed"):
        IdentityRules.load(bad)
    bad.write_text('[[rule]]\nidentity = "enemy"\n')
    with pytest.raises(ConfigError, match="enemy"):
        IdentityRules.load(bad)
    rules = IdentityRules.load()
    assert rules.allow_listed(["icao:48d123"]) and not rules.allow_listed(["icao:4ca2d1"])


def test_allow_list_follows_a_tracks_ids_as_they_change():
    """The allow-list answer is kept per track until its ids change: an id joining,
    or moving to another track, is seen at the next update."""
    from skywarden.track.classify import IDENTITIES
    from skywarden.track.table import CONFIRMED, TrackTable

    rules = IdentityRules.load()
    tab = TrackTable(16)
    slots = tab.allocate(2)
    tab.status[slots] = CONFIRMED
    tab.hits[slots] = 20
    speed, alt = np.full(2, 200.0), np.full(2, 9000.0)

    def identities():
        rules.apply(tab, slots, speed, alt)
        return [IDENTITIES[i] for i in tab.identity[slots]]

    tab.attach_id(int(slots[0]), "icao:4ca2d1")  # civil
    assert identities()[0] == "neutral"
    tab.attach_id(int(slots[0]), "icao:48d123")  # a listed military address joins
    assert identities()[0] == "friend"
    tab.attach_id(int(slots[1]), "icao:48d123")  # and moves to the other track
    assert identities() == ["neutral", "friend"]


@pytest.mark.parametrize("every", [1, 3])
def test_a_bird_is_neutral_only_when_a_classifier_says_so(every):
    """A gull's speed and height alone leave its class uncertain (a slow drone flies so
    too): it stays unknown and is warned of. Class hints from a classifying radar, nine
    in ten right, make it a bird with confidence, and neutral: also when the radar sees
    it on one update in three and the others (another radar's) bring no hint."""
    from skywarden.track.classify import IDENTITIES, update_class
    from skywarden.track.table import CONFIRMED, TrackTable

    rules = IdentityRules.load()
    rng = np.random.default_rng(3)
    tab = TrackTable(16)
    slots = tab.allocate(2)
    tab.status[slots] = CONFIRMED
    bird, drone = TARGET_CLASSES.index("bird"), TARGET_CLASSES.index("drone")
    speed, alt = np.array([12.0, 12.0]), np.array([40.0, 40.0])
    seen = set()
    for k in range(120):
        tab.hits[slots] += 1
        tab.t[slots] += 1.0
        said = (bird if rng.random() < 0.9 else drone) if k % every == 0 else -1
        update_class(tab, slots, speed, alt, np.array([said, -1]))
        rules.apply(tab, slots, speed, alt)
        # never unknown again from its fifth update (pending before) or its third hint
        # (two, faded a little, are not yet the two min_hints asks), the later
        if k >= max(5, 2 * every):
            seen.add(IDENTITIES[tab.identity[slots[0]]])
    assert [TARGET_CLASSES[c] for c in tab.cls[slots]] == ["bird", "bird"]
    assert tab.cls_conf[slots[0]] >= 0.8 and tab.cls_conf[slots[1]] < 0.75
    assert seen == {"neutral"}
    assert IDENTITIES[tab.identity[slots[1]]] == "unknown"


def test_class_hints_are_forgotten_with_time():
    """A single hint (a citizen's "drone" on a radar track) fades within minutes."""
    from skywarden.track.classify import HINT_MEMORY_S, W_HINT, update_class
    from skywarden.track.table import TrackTable

    tab = TrackTable(16)
    slot = tab.allocate(1)
    drone = TARGET_CLASSES.index("drone")
    update_class(tab, slot, np.array([30.0]), np.array([500.0]), np.array([drone]))
    assert tab.cls_hint[slot[0], drone] == W_HINT
    tab.t[slot] += HINT_MEMORY_S
    update_class(tab, slot, np.array([30.0]), np.array([500.0]), np.array([-1]))
    assert tab.cls_hint[slot[0], drone] == pytest.approx(W_HINT / np.e, rel=1e-6)


def test_a_birds_identity_holds_while_its_hints_waver():
    """hold_hint_share: neutral is given when seven in ten of a classifier's hints say
    bird and kept down to half, so a gull's track does not flicker between neutral and
    unknown (each flick a new alert); "unknown" hints (clutter's) count for nothing, and
    the class confidence, diluted by sensors that give no hints, is not read."""
    from skywarden.track.classify import IDENTITIES, W_HINT
    from skywarden.track.table import CONFIRMED, TrackTable

    rules = IdentityRules.load()
    tab = TrackTable(16)
    slots = tab.allocate(2)
    tab.status[slots] = CONFIRMED
    tab.hits[slots] = 30
    tab.cls[slots] = TARGET_CLASSES.index("bird")
    tab.cls_conf[slots] = 0.4
    bird, drone = TARGET_CLASSES.index("bird"), TARGET_CLASSES.index("drone")
    unknown = TARGET_CLASSES.index("unknown")
    speed, alt = np.full(2, 12.0), np.full(2, 40.0)
    seen = []
    for first, second in ((0.8, 0.6), (0.6, 0.6), (0.45, 0.8), (0.6, 0.7)):
        tab.cls_hint[slots] = 0.0
        tab.cls_hint[slots, bird] = 5 * W_HINT * np.array([first, second])
        tab.cls_hint[slots, drone] = 5 * W_HINT * (1 - np.array([first, second]))
        tab.cls_hint[slots, unknown] = 10 * W_HINT
        rules.apply(tab, slots, speed, alt)
        seen.append(tuple(IDENTITIES[i] for i in tab.identity[slots]))
    assert seen == [("neutral", "unknown"), ("neutral", "unknown"),
                    ("unknown", "neutral"), ("unknown", "neutral")]
    # too few hints to start with; many "unknown" ones do not dilute three of a bird
    tab.identity[slots] = IDENTITIES.index("unknown")
    tab.cls_hint[slots] = 0.0
    tab.cls_hint[slots, bird] = W_HINT * np.array([1.9, 3.0])
    tab.cls_hint[slots, unknown] = W_HINT * np.array([0.0, 20.0])
    rules.apply(tab, slots, speed, alt)
    assert [IDENTITIES[i] for i in tab.identity[slots]] == ["unknown", "neutral"]


@pytest.mark.parametrize("keys, needle", [
    ("hold_class_confidence = 0.5", "needs a min_class_confidence"),
    ("min_class_confidence = 0.4\nhold_class_confidence = 0.5", "needs a min_class_confidence"),
    ('min_class_confidence = "high"', "not a number 0-1"),
    ("min_class_confidence = 1.5", "not a number 0-1"),
    ('min_speed = "abc"', r"min_speed = 'abc' is not a number"),
    ("max_hits = true", "max_hits = True is not a number"),
    ("hold_hint_share = 0.5", "needs a min_hint_share"),
    ("min_hint_share = 0.4\nhold_hint_share = 0.5", "needs a min_hint_share"),
    ("min_hint_share = -0.1", "min_hint_share = -0.1 is not a number 0-1"),
    ('min_hints = "three"', "min_hints = 'three' is not a number"),
    ('hint_class = ["gull"]', "hint_class: unknown class 'gull'"),
    ('hint_class = "bird"', "hint_class must be a list"),
])
def test_identity_rules_reject_bad_confidences(tmp_path, keys, needle):
    bad = tmp_path / "rules.toml"
    bad.write_text(f'[[rule]]\nname = "b"\nclass = ["bird"]\n{keys}\nidentity = "neutral"\n')
    with pytest.raises(ConfigError, match=needle):
        IdentityRules.load(bad)


def test_config_rejects_unknown_and_invalid_settings():
    with pytest.raises(ConfigError, match="q_horizontl"):
        TrackerConfig.from_dict({"q_horizontl": 3.0})
    with pytest.raises(ConfigError):
        TrackerConfig(window=0.0)
    with pytest.raises(ConfigError, match="nis_manoeuvre_precise = 0.0 must be > 0"):
        TrackerConfig(nis_manoeuvre_precise=0.0)
    assert TrackerConfig.from_dict({"q_horizontal": 10.0}).q_horizontal == 10.0


@pytest.mark.parametrize("values, needle", [
    ({"q_horizontal": float("inf")}, "q_horizontal = inf: not a finite number"),
    ({"delete_after": float("nan")}, "delete_after = nan: not a finite number"),
    ({"confirm_hits": "2"}, "confirm_hits = '2': not an integer"),
    ({"confirm_hits": 2.5}, "confirm_hits = 2.5: not an integer"),
    ({"window": "1"}, "window = '1': not a number"),
    ({"emit_tentative": 1}, "emit_tentative = 1: not true or false"),
    ({"id_prefix": 7}, "id_prefix = 7: not a string"),
    ({"scan_period": 0}, "scan_period = 0: not a table of sensor type = seconds"),
    ({"scan_period": {"radar": float("inf")}}, "scan_period.radar = inf: not a finite number"),
])
def test_config_names_a_value_of_the_wrong_kind(values, needle):
    with pytest.raises(ConfigError) as info:
        TrackerConfig.from_dict(values)
    assert needle in str(info.value)


def test_config_takes_integers_for_reals_and_scan_periods_by_type():
    config = TrackerConfig.from_dict({"q_horizontal": 10, "scan_period": {"radar": 4}})
    assert config.q_horizontal == 10.0 and config.scan_period["radar"] == 4.0


def test_a_silent_track_is_pending_for_its_first_hits_then_judged():
    # Shipped rules: a confirmed track without a cooperative id stays "pending" for its
    # first five hits (a transponder may not be heard yet), then a drone is "suspect";
    # a cooperative track is judged at once.
    from skywarden.track.classify import CLASS_CODE, IDENTITIES
    from skywarden.track.table import CONFIRMED, COOP_ICAO, TrackTable

    rules = IdentityRules.load()
    table = TrackTable(16)
    slots = table.allocate(3)
    table.status[slots] = CONFIRMED
    table.cls[slots] = CLASS_CODE["drone"]
    table.cls_conf[slots] = 0.9
    table.hits[slots] = [3, 6, 3]
    table.coop[slots[2]] = COOP_ICAO
    rules.apply(table, slots, np.full(3, 45.0), np.full(3, 300.0))
    got = [IDENTITIES[k] for k in table.identity[slots].tolist()]
    assert got == ["pending", "suspect", "neutral"]
