"""Fixtures of the live runtime's tests: one prepared assessor shared by all (building
its rasters takes seconds), and runtimes on a hand-driven clock in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from skywarden.assess import Assessor
from skywarden.clock import ManualClock
from skywarden.live import Runtime, RuntimeSettings

from .scene import T0, sensors


@pytest.fixture(scope="session")
def assessor() -> Assessor:
    a = Assessor(zones=None, threads=1)
    a.prepare()
    return a


@pytest.fixture
def make_runtime(tmp_path: Path, assessor: Assessor):
    """``make_runtime(registry=None, data=tmp_path/"data", clock=None, **settings)``:
    a Runtime with no standing zones, closed at the end of the test."""
    made: list[Runtime] = []

    def make(registry=None, data: Path | None = None, clock=None, zones=(),
             tracker_config=None, **settings):
        rt = Runtime(
            registry or sensors(),
            RuntimeSettings(data_dir=data or tmp_path / "data", **{"reorder_lag": 0.5,
                                                                   **settings}),
            clock=clock or ManualClock(T0), assessor=assessor, zones=zones,
            tracker_config=tracker_config,
        )
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
