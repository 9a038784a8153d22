"""The warning thread's queue: whole-picture cycles that queue up while it is busy are
merged into the newest; partial cycles (entries between periods) queued before it are
covered by it, and those after it are merged into one partial cycle of the newest row of
each of their tracks, never into a whole-picture cycle, never lost."""

import numpy as np

from skywarden.bus import LocalBus
from skywarden.live.metrics import Metrics
from skywarden.live.warning import WarningJob, WarningWorker
from skywarden.track.output import TrackBatch
from skywarden.warn import AlertConfig, AlertState, Assessment
from skywarden.warn.engine import WarningEngine
from skywarden.warn.rules import load_rulebook


class RecordingAssessor:
    """Isolates the queue: answers no rows, notes what it was asked to assess."""

    def __init__(self):
        self.calls = []

    def assess(self, snapshot, at):
        self.calls.append((snapshot, at))
        return Assessment.empty()


class RecordingEngine(WarningEngine):
    def __init__(self):
        super().__init__(AlertState(load_rulebook(), AlertConfig()))
        self.only = []
        self.gone = []

    def step(self, assessment, now, *, sensors_seen=None, gone_tracks=(), only_tracks=None):
        self.only.append(only_tracks)
        self.gone.append(list(gone_tracks))
        return super().step(assessment, now, sensors_seen=sensors_seen,
                            gone_tracks=gone_tracks, only_tracks=only_tracks)


def rows(serials, times):
    """Track rows of the given serials at the given times (all else zero)."""
    n = len(serials)
    z = np.zeros(n)
    return TrackBatch(
        time=np.array(times, float), serial=np.array(serials, np.int64), lat=z, lon=z,
        alt=z, vel=np.zeros((n, 3)), sigma_h=z, sigma_v=z, status=np.zeros(n, np.int8),
        cls=np.zeros(n, np.int8), cls_conf=z, identity=np.zeros(n, np.int8),
        ids=np.empty(n, object), sensor_ptr=np.zeros(n + 1, np.int64),
        sensor_flat=np.zeros(0, np.int32), spoof=np.zeros(n, bool), prefix="T")


def worker():
    assessor, engine = RecordingAssessor(), RecordingEngine()
    published = []
    w = WarningWorker(assessor, engine, np.array([], dtype=str),
                      lambda events, cap: published.append(events), Metrics(LocalBus()))
    return w, assessor, engine


def test_whole_picture_cycles_merge_into_the_newest_with_every_gone_track():
    w, assessor, engine = worker()
    for k, gone in enumerate([["T1"], [], ["T2"]]):
        w.submit(WarningJob(f"picture-{k}", 100.0 + k, {}, gone))
    assert w.run_pending() == 1
    assert assessor.calls == [("picture-2", 102.0)]
    assert engine.gone == [["T1", "T2"]] and engine.only == [None]


def test_partial_cycles_after_the_newest_whole_one_merge_into_one():
    w, assessor, engine = worker()
    w.submit(WarningJob(rows([7], [100.0]), 100.0, {}, [], frozenset({"T7"})))  # covered
    w.submit(WarningJob("picture", 100.5, {}, ["T3"]))
    w.submit(WarningJob(rows([8], [101.0]), 101.0, {}, [], frozenset({"T8"})))
    w.submit(WarningJob(rows([9, 8], [101.2, 101.2]), 101.2, {}, [], frozenset({"T9", "T8"})))
    assert w.run_pending() == 2
    assert [c[1] for c in assessor.calls] == [100.5, 101.2]
    assert assessor.calls[0][0] == "picture"
    merged = assessor.calls[1][0]
    # one row per track, the newest: T8's row of 101.2, not 101.0
    got = sorted(zip(merged.serial.tolist(), merged.time.tolist(), strict=True))
    assert got == [(8, 101.2), (9, 101.2)]
    assert engine.only == [None, frozenset({"T8", "T9"})]
    assert engine.gone == [["T3"], []]


def test_partial_cycles_alone_merge_and_keep_the_last_assessment():
    w, assessor, engine = worker()
    w.submit(WarningJob("picture", 100.0, {}, []))
    w.run_pending()
    whole = w.last
    w.submit(WarningJob(rows([8], [101.0]), 101.0, {}, [], frozenset({"T8"})))
    w.submit(WarningJob(rows([9], [101.2]), 101.2, {}, [], frozenset({"T9"})))
    assert w.run_pending() == 1
    assert engine.only[1:] == [frozenset({"T8", "T9"})]
    assert sorted(assessor.calls[1][0].serial.tolist()) == [8, 9]
    assert w.last is whole  # the API's last assessment stays the whole picture's
