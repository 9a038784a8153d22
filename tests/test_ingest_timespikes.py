"""Detections stamped far ahead of the stream around them are dropped; real gaps and late
reports pass (ingest/timespikes.py)."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from skywarden.errors import BadLineError
from skywarden.ingest.jsonl import ReadStats, read_detections
from skywarden.ingest.timespikes import MIN_RUN, SPIKE, drop_time_spikes
from skywarden.records import Detection


def _file(tmp_path, times: list[float]):
    path = tmp_path / "d.jsonl"
    enc = msgspec.json.Encoder()
    path.write_bytes(b"".join(
        enc.encode(Detection(time=t, sensor="r1", kind="polar", range=1e4 + i, azimuth=1.0))
        + b"\n" for i, t in enumerate(times)))
    return path


def _run(tmp_path, times, strict=False):
    path = _file(tmp_path, times)
    messages: list[str] = []
    stats = ReadStats(report=messages.append)
    kept = list(drop_time_spikes(read_detections(path, stats=stats), stats, str(path),
                                 strict=strict))
    return [d.time for d in kept], stats, messages


def test_a_detection_stamped_an_hour_ahead_is_dropped_with_its_line(tmp_path):
    times = [float(t) for t in range(100)]
    times.insert(50, 3650.0)  # line 51
    kept, stats, messages = _run(tmp_path, times)
    assert kept == [float(t) for t in range(100)]
    assert (stats.good, stats.bad) == (100, 1)
    assert stats.reasons == {SPIKE: 1}
    assert len(messages) == 1 and ":51: " + SPIKE in messages[0]
    assert "3,601 s after the newest detection before it" in messages[0]


def test_a_short_run_ahead_is_dropped_whole(tmp_path):
    times = [float(t) for t in range(100)]
    times[40:40] = [9000.0, 9000.5, 9001.0]
    kept, stats, _ = _run(tmp_path, times)
    assert kept == [float(t) for t in range(100)] and stats.bad == 3


def test_a_file_that_starts_with_a_spike_loses_the_spike_only(tmp_path):
    kept, stats, messages = _run(tmp_path, [7.3e9] + [float(t) for t in range(40)])
    assert kept == [float(t) for t in range(40)] and stats.bad == 1
    assert ":1: " in messages[0] and "the file's first lines" in messages[0]


def test_a_real_gap_late_reports_and_a_short_tail_pass(tmp_path):
    before = [float(t) for t in range(30)]
    after = [3600.0 + t for t in range(MIN_RUN + 4)]
    late = [after[-1] - 300.0]  # a report that arrived five minutes late
    tail = [9000.0, 9001.0]  # ahead, but nothing comes after it
    times = before + after + late + tail
    kept, stats, _ = _run(tmp_path, times)
    assert kept == times and stats.bad == 0


def test_strict_raises_on_a_spike(tmp_path):
    with pytest.raises(BadLineError, match=SPIKE) as info:
        _run(tmp_path, [0.0, 1.0, 5000.0, 2.0, 3.0], strict=True)
    assert info.value.line == 3


def test_track_file_uses_every_detection_around_a_spike(tmp_path):
    """End to end: a drone's plots with one stamped two hours ahead in the middle. Without
    the check the run's time jumps there and every later plot is refused as too late;
    with it the tracks are those of the file without that line."""
    from skywarden.track.run import track_file
    from skywarden.track.synthetic import Mover, Scene, radar_plots, registry

    reg_doc = dict(id="r1", type="radar", owner="POL", lat=52.0, lon=21.0, alt=100.0,
                   max_range=250000, scan_period=10, sigma_range=50, sigma_azimuth=0.2,
                   sigma_elevation=0.3)
    reg = registry(reg_doc)
    sensors = tmp_path / "sensors.toml"
    sensors.write_text("[[sensor]]\n" + "".join(
        f"{k} = {v!r}\n".replace("'", '"') for k, v in reg_doc.items()))
    rng = np.random.default_rng(3)
    scene = Scene(52.0, 21.0, [Mover("d", (20000.0, 0.0, 300.0), (0.0, 40.0, 0.0))])
    plots = sorted(radar_plots(scene, reg["r1"], 0, 600, rng), key=lambda d: d.time)
    enc = msgspec.json.Encoder()
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"".join(enc.encode(d) + b"\n" for d in plots))
    spiked = tmp_path / "spiked.jsonl"
    bad = msgspec.structs.replace(plots[20], time=plots[20].time + 7200.0)
    spiked.write_bytes(b"".join(enc.encode(d) + b"\n" for d in plots[:21] + [bad] + plots[21:]))
    a = track_file(clean, sensors, tmp_path / "a.jsonl")
    b = track_file(spiked, sensors, tmp_path / "b.jsonl")
    assert (b.lines_good, b.lines_bad) == (len(plots), 1)
    assert b.detections == a.detections == len(plots)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert a.tracks_confirmed >= 1
