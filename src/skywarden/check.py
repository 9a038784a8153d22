"""`skywarden check FILE`: validate an input file and report every problem found.

A TOML file is a sensor registry (``[[sensor]]``) or a scenario (``[scenario]``); anything
else is JSON Lines of detections, tracks or truth (guessed from the first good line's
fields unless told). Every bad line is reported as ``file:line: reason``.
"""

from __future__ import annotations

import stat
from pathlib import Path

import msgspec

from .errors import ConfigError
from .ingest.jsonl import ReadStats, read_jsonl, stderr_report
from .ingest.timespikes import read_recording
from .records import TrackUpdate, Truth
from .sensors import SensorRegistry
from .tomlfile import read_toml


def _guess_kind(path: Path) -> str:
    from .ingest.jsonl import _numbered_lines, _open_binary

    with _open_binary(path) as fh:
        for _, raw in _numbered_lines(fh, str(path)):
            if not isinstance(raw, bytes):
                break  # a compressed file cut short: the reading proper names the break
            try:
                obj = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                continue
            if isinstance(obj, dict):
                if "track" in obj:
                    return "tracks"
                if "target" in obj and "sensor" not in obj:
                    return "truth"
                return "detections"
    return "detections"


def _read_once(path: Path) -> bool:
    """Whether ``path`` is a stream (a pipe, /dev/stdin, a terminal), not a file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # the reading names what is wrong with it
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def check_file(path: Path, *, kind: str | None = None, sensors: Path | None = None) -> int:
    """Print what is wrong with ``path``; return 0 when it is all good, 1 otherwise."""
    if path.suffix == ".toml":
        doc = read_toml(path)
        if "scenario" in doc:
            from .sim.scenario import load_scenario

            scenario = load_scenario(path)
            print(f"{path}: valid scenario {scenario.name!r}")
        else:
            registry = SensorRegistry.load(path)
            print(f"{path}: valid sensor registry, {len(registry)} sensors")
        return 0
    if kind is None:
        if _read_once(path):
            # Guessing would take the stream's first lines away from the check proper.
            raise ConfigError(f"{path}: a pipe or terminal can be read only once: say what "
                              "it holds with --as detections, tracks or truth")
        kind = _guess_kind(path)
    stats = ReadStats(report=stderr_report, report_limit=10**9)
    if kind == "detections":
        registry = SensorRegistry.load(sensors) if sensors else None
        # as track and replay read it: the time spikes they drop are reported too
        for _ in read_recording(path, stats, sensors=registry):
            pass
    else:
        for _ in read_jsonl(path, TrackUpdate if kind == "tracks" else Truth, stats=stats):
            pass
    print(f"{path} ({kind}): {stats.summary()}")
    return 0 if stats.bad == 0 else 1
