"""The warning thread's queue: whole-picture cycles that queue up while it is busy are
merged into the newest, and partial cycles (entries between periods) are kept in order
after it, never merged into a whole-picture cycle or lost."""

import numpy as np

from skywarden.bus import LocalBus
from skywarden.live.metrics import Metrics
from skywarden.live.warning import WarningJob, WarningWorker
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


def test_partial_cycles_after_the_newest_whole_one_run_in_order():
    w, assessor, engine = worker()
    w.submit(WarningJob("entry-T7", 100.0, {}, [], frozenset({"T7"})))  # covered by the next
    w.submit(WarningJob("picture", 100.5, {}, ["T3"]))
    w.submit(WarningJob("entry-T8", 101.0, {}, [], frozenset({"T8"})))
    w.submit(WarningJob("entry-T9", 101.2, {}, [], frozenset({"T9"})))
    assert w.run_pending() == 3
    assert [c[0] for c in assessor.calls] == ["picture", "entry-T8", "entry-T9"]
    assert engine.only == [None, frozenset({"T8"}), frozenset({"T9"})]
    assert engine.gone == [["T3"], [], []]


def test_partial_cycles_alone_all_run_and_keep_the_last_assessment():
    w, assessor, engine = worker()
    w.submit(WarningJob("picture", 100.0, {}, []))
    w.run_pending()
    whole = w.last
    w.submit(WarningJob("entry-T8", 101.0, {}, [], frozenset({"T8"})))
    w.submit(WarningJob("entry-T9", 101.2, {}, [], frozenset({"T9"})))
    assert w.run_pending() == 2
    assert engine.only[1:] == [frozenset({"T8"}), frozenset({"T9"})]
    assert w.last is whole  # the API's last assessment stays the whole picture's
