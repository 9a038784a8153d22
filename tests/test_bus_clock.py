"""Clocks that stages take "now" from (skywarden.clock; tested beside the bus that carries
their times)."""

import time

import pytest

from skywarden.clock import Clock, ManualClock, SimClock, WallClock


class FakeWall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_every_clock_is_a_clock():
    for clock in (WallClock(), SimClock(0.0), ManualClock()):
        assert isinstance(clock, Clock)


def test_wall_clock_reads_the_system_time():
    before = time.time()
    now = WallClock().now()
    assert before <= now <= time.time()


def test_sim_clock_runs_at_its_speed_from_its_start():
    wall = FakeWall()
    clock = SimClock(1_757_450_000.0, speed=60.0, source=wall)
    assert clock.now() == 1_757_450_000.0
    wall.t += 2.0
    assert clock.now() == 1_757_450_120.0
    assert clock.wall_delay(1_757_450_180.0) == pytest.approx(1.0)
    assert clock.wall_delay(0.0) == 0.0


def test_sim_clock_speed_changes_without_a_jump():
    wall = FakeWall()
    clock = SimClock(0.0, speed=10.0, source=wall)
    wall.t += 1.0
    clock.set_speed(1.0)
    assert clock.now() == 10.0
    wall.t += 1.0
    assert clock.now() == 11.0 and clock.speed == 1.0
    with pytest.raises(ValueError):
        clock.set_speed(0.0)
    with pytest.raises(ValueError):
        SimClock(0.0, speed=-1.0)


def test_sim_clock_follows_real_time_by_default():
    clock = SimClock(1000.0, speed=100.0)
    time.sleep(0.02)
    assert 1001.0 <= clock.now() < 1100.0


def test_manual_clock_moves_only_forward_when_told():
    clock = ManualClock(50.0)
    assert clock.now() == 50.0
    assert clock.advance(2.5) == 52.5
    assert clock.set(60.0) == 60.0 and clock.now() == 60.0
    with pytest.raises(ValueError):
        clock.advance(-1.0)
    with pytest.raises(ValueError):
        clock.set(59.0)
    assert clock.wall_delay(1e9) == 0.0
