"""JSON Lines readers and writers: good lines used, every bad line named and counted."""

import gzip
import json

import pytest

from skywarden.errors import BadLineError
from skywarden.ingest.jsonl import JsonlWriter, ReadStats, read_detections, read_jsonl
from skywarden.records import Detection, TrackUpdate

GOOD = [
    {"time": 1757450000.0, "sensor": "r1", "kind": "polar", "range": 12000.0, "azimuth": 45.0},
    {"time": 1757450001.0, "sensor": "a1", "lat": 52.1, "lon": 23.2, "alt": 300.0, "id": "icao:4CA2D1"},
    {"time": 1757450002.0, "sensor": "ac1", "kind": "bearing", "azimuth": 271.5, "future_field": 3},
]
BAD = {
    "not json at all": "not valid JSON",
    '{"time": 1757450000, "sensor": "r1", "lat": NaN, "lon": 23.0}': "field lat: NaN is not a number",
    '{"time": 1757450000, "sensor": "r1", "lat": 200, "lon": 23.0}': "field lat: Expected float <= 90.0",
    '{"time": 1757450000, "sensor": "r1", "kind": "sonar", "lat": 2, "lon": 3}': "field kind: Invalid enum value 'sonar'",
    '{"time": "yesterday", "sensor": "r1", "lat": 2, "lon": 3}': "field time: Expected float, got str",
    '{"sensor": "r1", "lat": 2, "lon": 3}': "missing field time",
    '{"time": 1757450000, "sensor": "r1", "kind": "polar", "azimuth": 3}': "kind polar needs fields range and azimuth",
    '{"time": 1757450000, "sensor": "r1"}': "kind position needs fields lat and lon",
    '{"time": 1757450000, "sensor": "zz", "lat": 2, "lon": 3}': "field sensor: 'zz' is not in the sensor registry",
    "[1, 2, 3]": "not a JSON object",
    '{"time": 1757450000, "sensor": "r1", "lat": 2, "lon": 3, "alt": 1e999}': "field alt: Number out of range",
}


def _mixed_file(tmp_path, compress=False):
    lines = []
    expected_bad = {}
    for i, good in enumerate(GOOD):
        lines.append(json.dumps(good))
        bad_line, reason = list(BAD.items())[i % len(BAD)]
        lines.append(bad_line)
        expected_bad[len(lines)] = reason
    for bad_line, reason in list(BAD.items())[len(GOOD):]:
        lines.append(bad_line)
        expected_bad[len(lines)] = reason
    lines.append("")  # blank lines are not errors
    path = _write_text(tmp_path / "mixed.jsonl", "\n".join(lines) + "\n", compress)
    return path, expected_bad


def _write_text(path, text, compress):
    """``text`` at ``path``, gzip-compressed (and named .gz) if ``compress``."""
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_every_bad_line_named_and_every_good_line_used(tmp_path, compress):
    path, expected_bad = _mixed_file(tmp_path, compress)
    reports = []
    stats = ReadStats(report=reports.append, report_limit=100)
    dets = list(read_detections(path, stats=stats, sensors={"r1", "a1", "ac1"}))
    assert [d.sensor for d in dets] == ["r1", "a1", "ac1"]
    assert dets[1].id == "icao:4CA2D1" and dets[2].kind == "bearing"
    assert stats.good == 3 and stats.bad == len(BAD)
    assert len(reports) == len(BAD)
    for report, (line, reason) in zip(reports, sorted(expected_bad.items()), strict=True):
        assert report.startswith(f"{path}:{line}: ")
        assert reason in report
    assert sum(stats.reasons.values()) == len(BAD)
    assert f"3 good lines, {len(BAD)} bad lines skipped" in stats.summary()


@pytest.mark.parametrize("block", [64, 200, 1 << 18])
@pytest.mark.parametrize("compress", [False, True])
def test_blocks_of_any_size_give_the_same_records_and_line_numbers(tmp_path, monkeypatch,
                                                                    block, compress):
    """The reader decodes blocks of whole lines in one call and reads a block line by line
    where one of its lines is bad, blank or has a CR. Over many blocks (a block smaller
    than one line included), the records, the bad lines' numbers and reasons are those of
    a line-by-line reading."""
    import skywarden.ingest.jsonl as jsonl

    monkeypatch.setattr(jsonl, "BLOCK_BYTES", block)
    lines, expected_bad, expected_good = [], {}, []
    bad = list(BAD.items())
    # Lines that decode but fail the detection's check, each after a blank line: found in
    # a block decoded in one call, they are numbered from its records.
    checked = [(line, reason) for line, reason in bad if "needs" in reason or "zz" in line]
    for i in range(300):
        good = dict(GOOD[i % len(GOOD)], time=1757450000.0 + i)
        if i % 37 == 5:
            lines.append("")  # blank
        if i % 53 == 7:
            line, reason = bad[i % len(bad)]
            lines.append(line)
            expected_bad[len(lines)] = reason
        if i % 41 == 11:
            line, reason = checked[i % len(checked)]
            lines += ["", line]
            expected_bad[len(lines)] = reason
        lines.append(json.dumps(good) + ("\r" if i % 71 == 3 else ""))
        expected_good.append(good["time"])
    # The last line has no newline.
    path = _write_text(tmp_path / "blocks.jsonl", "\n".join(lines), compress)
    reports = []
    stats = ReadStats(report=reports.append, report_limit=1000)
    dets = list(read_detections(path, stats=stats, sensors={"r1", "a1", "ac1"}))
    assert [d.time for d in dets] == expected_good
    assert stats.good == 300 and stats.bad == len(expected_bad)
    for report, (line, reason) in zip(reports, sorted(expected_bad.items()), strict=True):
        assert report.startswith(f"{path}:{line}: ") and reason in report


def test_a_truncated_compressed_file_keeps_the_lines_before_the_break(tmp_path, monkeypatch):
    import skywarden.ingest.jsonl as jsonl

    monkeypatch.setattr(jsonl, "BLOCK_BYTES", 4096)
    lines = [json.dumps(dict(GOOD[0], time=1757450000.0 + i)) for i in range(5000)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    reports = []
    stats = ReadStats(report=reports.append)
    dets = list(read_detections(path, stats=stats))
    assert 1000 < len(dets) < 5000
    assert [d.time for d in dets] == [1757450000.0 + i for i in range(len(dets))]
    assert stats.bad == 1 and "truncated" in reports[0]
    assert reports[0].startswith(f"{path}:{len(dets) + 1}: ")


def test_strict_stops_at_first_bad_line(tmp_path):
    path, expected_bad = _mixed_file(tmp_path)
    with pytest.raises(BadLineError) as info:
        list(read_detections(path, strict=True))
    first = min(expected_bad)
    assert info.value.line == first
    assert info.value.where == f"{path}:{first}"


def test_report_limit_counts_the_rest(tmp_path):
    path = tmp_path / "junk.jsonl"
    path.write_text("junk\n" * 50)
    reports = []
    stats = ReadStats(report=reports.append, report_limit=5)
    assert list(read_detections(path, stats=stats)) == []
    assert stats.bad == 50
    assert len(reports) == 6  # five lines and the note that the rest are only counted


def test_writer_round_trip_and_class_field_name(tmp_path):
    path = tmp_path / "tracks.jsonl"
    upd = TrackUpdate(time=1.5, track="T1", lat=52.0, lon=23.0, alt=500.0, cls="drone",
                      status="confirmed", ids=["icao:ABC123"], sensors=["r1"])
    with JsonlWriter(path) as w:
        w.write(upd)
        w.write(upd)
    assert w.count == 2
    first = json.loads(path.read_text().splitlines()[0])
    assert first["class"] == "drone" and "cls" not in first
    assert list(read_jsonl(path, TrackUpdate)) == [upd, upd]


def test_writer_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("previous\n")
    with pytest.raises(RuntimeError), JsonlWriter(path) as w:
        w.write(Detection(time=1.0, sensor="r1", lat=1.0, lon=2.0))
        raise RuntimeError("disk on fire")
    assert path.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_reader_memory_is_bounded(tmp_path):
    """Reading a file much larger than the limit keeps peak Python memory small."""
    import tracemalloc

    path = tmp_path / "big.jsonl"
    line = json.dumps(GOOD[1]) + "\n"
    path.write_text(line * 200_000)  # about 20 MB of text, 200k records
    tracemalloc.start()
    count = sum(1 for _ in read_detections(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert peak < 4_000_000, f"peak {peak} bytes: the reader is not streaming"


def test_writer_refuses_a_folder_at_once_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        JsonlWriter(target)
    assert info.value.filename == str(target)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_writer_removes_its_temporary_file_when_the_rename_fails(tmp_path):
    target = tmp_path / "out"
    w = JsonlWriter(target)
    w.write(Detection(time=1.0, sensor="r1", lat=1.0, lon=2.0))
    target.mkdir()  # made while the writer ran: the rename into place fails
    with pytest.raises(IsADirectoryError):
        w.close()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_truncated_gzip_file_keeps_its_good_lines_and_names_the_break(tmp_path):
    """An interrupted copy of a .gz file: what was read is used, the break is a bad line."""
    whole = gzip.compress("".join(json.dumps(GOOD[1] | {"time": 1757450000.0 + k}) + "\n"
                                  for k in range(5000)).encode())
    path = tmp_path / "dets.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    reports: list[str] = []
    stats = ReadStats(report=reports.append)
    got = list(read_detections(path, stats=stats))
    assert 0 < len(got) < 5000 and stats.good == len(got)
    assert stats.bad == 1
    assert reports == [f"{path}:{len(got) + 1}: compressed file ends early (truncated); "
                       "the lines before were read"]
    with pytest.raises(BadLineError, match="compressed file ends early"):
        list(read_detections(path, strict=True))


def test_a_gz_name_on_a_plain_file_is_no_obstacle(tmp_path):
    """The content decides, not the name: 'Not a gzipped file' without a file name was all
    a plain file called .gz got."""
    path = tmp_path / "dets.jsonl.gz"
    path.write_text(json.dumps(GOOD[1]) + "\n")
    stats = ReadStats()
    assert len(list(read_detections(path, stats=stats))) == 1 and stats.bad == 0


def test_gzip_content_is_read_whatever_the_file_is_called(tmp_path):
    path = tmp_path / "dets.jsonl"
    path.write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in GOOD).encode()))
    stats = ReadStats()
    assert len(list(read_detections(path, stats=stats))) == len(GOOD) and stats.bad == 0


@pytest.mark.parametrize("compressed", [False, True])
def test_a_pipe_is_read_whole_plain_or_gzip(tmp_path, compressed):
    """`zcat big.jsonl.gz | skywarden track /dev/stdin`: telling gzip from plain must not
    take bytes out of a stream that cannot be read twice."""
    import os
    import threading

    text = "".join(json.dumps(GOOD[1] | {"time": 1757450000.0 + k}) + "\n" for k in range(300))
    data = gzip.compress(text.encode()) if compressed else text.encode()
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as fh:
            fh.write(data)

    got: list[Detection] = []
    stats = ReadStats()

    def read() -> None:
        got.extend(read_detections(fifo, stats=stats))

    # Daemon threads and a bounded wait: a reader that opens the pipe twice would block
    # for ever on the second open, and must fail the test, not hang the suite.
    threads = [threading.Thread(target=f, daemon=True) for f in (write, read)]
    for t in threads:
        t.start()
    threads[1].join(timeout=20)
    assert not threads[1].is_alive(), "the reader never finished: the pipe was opened twice"
    assert len(got) == 300 and stats.bad == 0
    assert [d.time for d in got] == [1757450000.0 + k for k in range(300)]
