"""Releasability: sensors' rules combined by intersection, sticky per track, as text."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.live import NONE, Releasability, visible, visible_mask
from skywarden.sensors import Sensor
from skywarden.track.output import TrackBatch


def sensor(sid: str, owner: str, rel: str) -> Sensor:
    return Sensor(id=sid, type="track_feed", owner=owner, releasability=rel)


SENSORS = [
    sensor("pub", "POL", "public"),
    sensor("all", "LTU", "allies"),
    sensor("pl-nat", "POL", "national"),
    sensor("lt-nat", "LTU", "national"),
    sensor("pl-lt", "POL", "LTU"),  # a list: the owner is always included
    sensor("lt-lv", "LTU", "LVA,POL"),
]


@pytest.mark.parametrize(
    ("pairs", "expect"),
    [
        ([("public", "POL")], "public"),
        ([("public", "POL"), ("allies", "LTU")], "allies"),
        ([("allies", "LTU"), ("national", "POL")], "POL"),
        ([("LTU", "POL")], "LTU,POL"),
        ([("LTU", "POL"), ("LVA,POL", "LTU")], "LTU,POL"),
        ([("national", "POL"), ("national", "LTU")], NONE),
        ([], "public"),
    ],
)
def test_combine_is_the_intersection_in_the_sensors_grammar(pairs, expect):
    assert Releasability(SENSORS).combine(*pairs) == expect


@pytest.mark.parametrize(
    ("mark", "nation", "seen"),
    [
        ("public", None, True), ("public", "DEU", True),
        ("allies", "DEU", True), ("allies", None, False),
        ("LTU,POL", "POL", True), ("LTU,POL", "LVA", False), ("LTU,POL", None, False),
        ("none", "POL", False), (None, "POL", True), (None, None, False),
    ],
)
def test_visible(mark, nation, seen):
    assert visible(mark, nation) is seen


def test_visible_mask_matches_visible_row_by_row():
    marks = ["public", "allies", "POL", "LTU,POL", "none", None, "POL"]
    for nation in (None, "POL", "LTU", "DEU"):
        got = visible_mask(marks, nation)
        assert got.dtype == bool
        assert got.tolist() == [visible(m, nation) for m in marks]
    assert visible_mask([], "POL").shape == (0,)


def rows(serials: list[int], sensors_per_row: list[list[str]], names: tuple[str, ...]
         ) -> TrackBatch:
    n = len(serials)
    z = np.zeros(n)
    counts = [len(s) for s in sensors_per_row]
    flat = [names.index(s) for row in sensors_per_row for s in row]
    return TrackBatch(
        time=z, serial=np.array(serials, np.int64), lat=z, lon=z, alt=z, vel=np.zeros((n, 3)),
        sigma_h=z, sigma_v=z, status=np.zeros(n, np.int8), cls=np.zeros(n, np.int8),
        cls_conf=z, identity=np.zeros(n, np.int8), ids=np.empty(n, object),
        sensor_ptr=np.r_[0, np.cumsum(counts)].astype(np.int64),
        sensor_flat=np.array(flat, np.int32), spoof=np.zeros(n, bool), prefix="T",
        sensor_names=names)


def test_tracks_fold_every_contribution_and_keep_it():
    rel = Releasability(SENSORS)
    names = tuple(s.id for s in SENSORS)
    rel.fold(rows([1, 2, 3, 7], [["pub"], ["all"], ["pub", "pl-lt"], []], names))
    # 7 has no sensor yet (AND over nothing: public); 99 is no track the table holds
    assert rel.of_serials(np.array([1, 2, 3, 7, 99])) == [
        "public", "allies", "LTU,POL", "public", NONE]
    assert rel.mark_of(7) == "public" and rel.mark_of(99) is None
    # track 2 is seen by a national Polish sensor once: Polish eyes only, for good
    rel.fold(rows([2], [["pl-nat"]], names))
    rel.fold(rows([2, 2], [["all"], ["pub"]], names))
    assert rel.of_serials(np.array([2])) == ["POL"]
    # two nations' national sensors: nobody may see it
    rel.fold(rows([3, 3], [["pl-nat"], ["lt-nat"]], names))
    assert rel.of_serials(np.array([3])) == [NONE]
    # a sensor the registry does not know makes its tracks releasable to nobody
    rel.fold(rows([1], [["stranger"]], ("stranger",)))
    assert rel.of_serials(np.array([1])) == [NONE]


def test_many_nations_use_several_words():
    many = [sensor(f"s{i}", code, "national") for i, code in enumerate(
        f"{chr(65 + i // 26)}{chr(65 + i % 26)}X" for i in range(100))]
    rel = Releasability(many)
    assert rel.words == 2
    names = tuple(s.id for s in many)
    rel.fold(rows([5], [["s99"]], names))
    assert rel.of_serials(np.array([5])) == [many[99].owner]
    assert rel.of_sensor("s70") == many[70].owner


def test_hidden_tentative_rows_leave_every_other_column_whole():
    from skywarden.live.marks import take_rows

    names = tuple(s.id for s in SENSORS)
    b = rows([1, 2, 3], [["pub"], ["all", "pl-nat"], ["lt-nat"]], names)
    b.sigma_vel = np.array([1.0, 2.0, 3.0])
    got = take_rows(b, np.array([2, 1]))
    assert got.serial.tolist() == [3, 2]
    assert got.sigma_vel.tolist() == [3.0, 2.0]
    assert got.sensors == [["lt-nat"], ["all", "pl-nat"]]
    assert got.prefix == "T" and got.sensor_names == names


def test_a_merge_hands_the_absorbed_tracks_releasability_to_the_survivor():
    rel = Releasability(SENSORS)
    names = tuple(s.id for s in SENSORS)
    rel.fold(rows([1, 2], [["all"], ["pl-nat"]], names))
    assert rel.of_serials(np.array([1, 2])) == ["allies", "POL"]
    rel.merge(1, 2, [])
    assert rel.of_serials(np.array([1])) == ["POL"]  # never shown to allies again
    # the absorbed track's last window, which no emitted row carried, counts too
    rel.fold(rows([3, 4], [["pub"], ["pub"]], names))
    rel.merge(3, 4, ["lt-nat"])
    assert rel.of_serials(np.array([3])) == ["LTU"]


def test_the_tap_folds_the_trackers_merges():
    from skywarden.live.release import ReleasabilityTap
    from skywarden.track.tracker import Merge

    names = tuple(s.id for s in SENSORS)

    class Inner:  # isolates the tap: a tracker that reports one merge
        class sensors:
            ids = names

        merges: list = []

        def take_merges(self):
            got, self.merges = self.merges, []
            return got

        def step(self, batch, now):
            self.merges = [Merge(1, 2, np.array([names.index("lt-nat")], np.int32))]
            return rows([1, 2], [["all"], ["pub"]], names)

    rel = Releasability(SENSORS)
    tap = ReleasabilityTap(Inner(), rel, hide_tentative=False)
    tap.step(None, 0.0)
    assert rel.of_serials(np.array([1])) == ["LTU"]


def test_ended_tracks_leave_the_table_and_are_never_shown_to_anyone_after():
    """A deleted track's serial, or a tentative one the tracker dropped, leaves the table
    (it no longer grows with every track ever made) and reads as no mark at all, never as
    public: an alert event about a track that has ended keeps its alert's last mark."""
    rel = Releasability(SENSORS)
    names = tuple(s.id for s in SENSORS)
    rel.fold(rows([1, 2, 3], [["pl-nat"], ["all"], ["pub"]], names))
    rel.forget(np.array([1]))
    assert rel.mark_of(1) is None and rel.of_serials(np.array([1])) == [NONE]
    assert rel.of_serials(np.array([2, 3])) == ["allies", "public"]
    rel.keep_only(np.array([3]))
    assert rel.tracks() == 1 and rel.mark_of(2) is None and rel.mark_of(3) == "public"
    # new tracks are appended after the kept ones; an older serial still finds its row
    rel.fold(rows([10, 11], [["lt-nat"], ["all"]], names))
    rel.fold(rows([3], [["pl-lt"]], names))
    assert rel.of_serials(np.array([11, 3, 10])) == ["allies", "LTU,POL", "LTU"]


def test_the_tap_prunes_the_tracks_the_tracker_dropped():
    from skywarden.live.release import ReleasabilityTap

    names = tuple(s.id for s in SENSORS)

    class Table:  # live slots: serials 5 and 6
        serial = np.array([5, 6, 7])
        status = np.array([1, 2, 0])

        def active(self):
            return np.flatnonzero(self.status != 0)

    class Inner:
        table = Table()

        class sensors:
            ids = names

        def __init__(self):
            self.serial = 0

        def take_merges(self):
            return []

        def step(self, batch, now):
            self.serial += 1  # a new tentative track every step, dropped at once
            return rows([self.serial + 100, 5], [["pub"], ["all"]], names)

    rel = Releasability(SENSORS)
    tap = ReleasabilityTap(Inner(), rel, hide_tentative=False)
    for _ in range(ReleasabilityTap.PRUNE_EVERY - 1):
        tap.step(None, 0.0)
    assert rel.tracks() == ReleasabilityTap.PRUNE_EVERY  # 99 dropped tracks, and 5
    tap.step(None, 0.0)
    # the live tracks and the rows of this step stay
    assert rel.tracks() == 2 and rel.mark_of(5) == "allies"
    assert rel.mark_of(100 + ReleasabilityTap.PRUNE_EVERY) == "public"
