"""Restart: what the service takes back from its data directory when it starts.

- **Open alerts** go back into the warning engine's state with their ids, levels, times
  and acknowledgements (:meth:`AlertState.restore`); their de-escalation clocks start
  again, so a restart never ends an alert by itself. An alert about a track of the
  previous run keeps its marks; the new run's tracker gives the aircraft a new track id,
  so the old alert sees no more rows and ends ``clear_s`` later, as for a lost track.
- **Sensor-down alerts** keep counting the sensor's silence from when it was last heard.
- **CAP threads**: the public warnings still open (read back from ``DATA/cap/``), per
  region or per alert, with the restored alerts they warn of, so their next message
  updates or cancels them, with references, and the CAP feeds list them again.
- **Restrictions** in force are handed back to the assessor.
- **The run number** (``DATA/run``, one line) goes up by one per start and is part of the
  track ids (``T<run>-<n>``), so a track id, and the alert ids made from it, are never
  reused across restarts.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..records import AlertEvent
from ..store import StoredAlert
from ..warn.alerts import Acknowledgement, Alert, AlertState
from ..warn.cap import CAP_NS, CapIssuer, CapMessage

__all__ = ["next_run", "restore_alerts", "restore_cap_threads"]


def next_run(data_dir: Path) -> int:
    """Increment and return the run counter of ``data_dir`` (written atomically)."""
    path = Path(data_dir) / "run"
    try:
        run = int(path.read_text(encoding="ascii").strip() or 0)
    except FileNotFoundError:
        run = 0
    except ValueError as exc:
        raise ValueError(f"{path}: not a run number ({exc})") from exc
    run += 1
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{run}\n", encoding="ascii")
    os.replace(tmp, path)
    return run


def _alert(stored: StoredAlert) -> Alert:
    last: AlertEvent = stored.last
    if stored.kind == "sensor_down":
        target_kind, target_id = "sensor", last.sensor or stored.alert.split(":")[1]
    elif stored.zone:
        target_kind, target_id = "zone", stored.zone
    else:
        target_kind, target_id = "nation", stored.nation
    nan = math.nan
    return Alert(
        id=stored.alert, kind=stored.kind, nation=stored.nation, level=stored.level,
        raised=stored.raised, changed=stored.changed, track=stored.track,
        target_kind=target_kind, target_id=target_id, zone_type=last.zone_type or "",
        sensor=last.sensor,
        time=last.time if stored.kind != "sensor_down" else stored.raised,
        lat=nan if last.lat is None else last.lat, lon=nan if last.lon is None else last.lon,
        alt=nan if last.alt is None else last.alt,
        eta=nan if last.eta is None else last.eta,
        probability=nan if last.probability is None else last.probability,
        inside=stored.kind != "predicted_entry",
        acks=[Acknowledgement(by=a.by, time=a.time, level=a.level, note=a.note)
              for a in stored.acks],
    )


def restore_alerts(
    state: AlertState, stored: list[StoredAlert], now: float, periods: Mapping[str, float]
) -> tuple[int, dict[str, str], list[str]]:
    """Put the stored open alerts back into ``state``. ``periods``: each sensor's
    expected period (s), for the sensor-down watch. Returns (how many were restored,
    each one's last releasability mark by alert id, problems met: one line per alert
    that could not be restored, which is then left as stored)."""
    restored, marks, problems = 0, {}, []
    for s in stored:
        if s.ended is not None or s.level < 1:
            continue
        try:
            alert = _alert(s)
            state.restore(alert, now)
        except (ValueError, IndexError) as exc:
            problems.append(f"alert {s.alert!r}: {exc}")
            continue
        if alert.target_kind == "sensor" and alert.sensor:
            # Keep counting the silence from before the restart: it began no later than
            # the alert was raised (the event does not carry the last report's time).
            period = periods.get(alert.sensor)
            if period:
                state.watch_sensor(alert.sensor, period, alert.nation, now)
                state.sensors[alert.sensor].last_seen = float(s.raised)
        if s.last.releasability is not None:
            marks[s.alert] = s.last.releasability
        restored += 1
    return restored, marks, problems


def _cap_message(path: Path) -> tuple[CapMessage, str | None, tuple[int, str, str] | None]:
    """A CAP file this service wrote, the region its thread warns (None: none), and
    what it said: (level, urgency, certainty), None for a message without them."""
    root = ET.fromstring(path.read_bytes())

    def text(tag: str, at: ET.Element = root) -> str:
        node = at.find(f"{{{CAP_NS}}}{tag}")
        return "" if node is None or node.text is None else node.text

    sent = text("sent")
    stamp = datetime.fromisoformat(sent.replace("-00:00", "+00:00")).timestamp()
    refs = tuple(text("references").split()) if text("references") else ()
    params = {text("valueName", p): text("value", p)
              for p in root.iter(f"{{{CAP_NS}}}parameter")}
    info = root.find(f"{{{CAP_NS}}}info")
    level = params.get("skywarden:level", "")
    said = None if info is None or not level.isdigit() else (
        int(level), text("urgency", info), text("certainty", info))
    msg = CapMessage(identifier=text("identifier"), sender=text("sender"), sent=sent,
                     time=stamp, status=text("status"), msg_type=text("msgType"),
                     alert_id="", nation="", references=refs, info=None,
                     xml=path.read_bytes(), incidents=tuple(text("incidents").split()))
    return msg, params.get("skywarden:region"), said


def _thread_files(cap_dir: Path) -> dict[tuple[str, str], list[Path]]:
    """The CAP files of each thread's latest run under ``cap_dir``, in the order issued.
    A file is named by its identifier, ``NATION.THREAD.STAMP.SEQ`` (warn/cap.py)."""
    threads: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in sorted(Path(cap_dir).glob("*/*.xml")):
        parts = path.stem.split(".")
        if len(parts) >= 4 and parts[-1].isdigit():
            threads[(parts[0], ".".join(parts[1:-2]))].append(path)
    for key, paths in threads.items():
        paths.sort(key=lambda p: (p.stem.split(".")[-2], int(p.stem.split(".")[-1])))
        # a region (or an alert) warned again after an all clear starts a new thread,
        # numbered from 1: only the latest thread can still be open
        firsts = [i for i, p in enumerate(paths) if p.stem.endswith(".1")]
        threads[key] = paths[firsts[-1]:] if firsts else paths
    return threads


def restore_cap_threads(issuer: CapIssuer, cap_dir: Path, stored: list[StoredAlert]
                        ) -> tuple[int, list[str]]:
    """Rebuild the issuer's open threads from the CAP files the store writer kept
    (``cap_dir/<NATION>/<identifier>.xml``). A thread whose last message is a Cancel is
    over; one none of whose alerts (``<incidents>``) is still open gets its all clear on
    the next cycle. Only each thread's last file is read unless the thread is rebuilt.
    Returns (threads rebuilt, problems: one line per file that could not be read)."""
    open_alerts = {s.alert: s for s in stored if s.ended is None}
    rebuilt, problems = 0, []
    for (nation, _), paths in _thread_files(cap_dir).items():
        try:
            last, region, said = _cap_message(paths[-1])
        except (ET.ParseError, ValueError, OSError) as exc:
            problems.append(f"{paths[-1]}: not a CAP message this service wrote ({exc})")
            continue
        if last.msg_type == "Cancel" or not last.incidents:
            continue
        alerts = [_alert(open_alerts[a]) for a in last.incidents if a in open_alerts]
        thread = []
        for path in paths[:-1]:
            try:
                thread.append(_cap_message(path)[0])
            except (ET.ParseError, ValueError, OSError) as exc:
                problems.append(f"{path}: not a CAP message this service wrote ({exc})")
        # a warning whose alerts ended while the service was down is taken up too: its
        # all clear goes out on the first cycle
        key = f"{nation}/{region}" if region is not None else last.incidents[0]
        thread = [replace(m, alert_id=key, nation=nation) for m in [*thread, last]]
        issuer.restore(nation, key, thread, alerts if region is not None else alerts[:1],
                       region, said)
        rebuilt += 1
    return rebuilt, problems
