"""Alerts: one per (track, nation or zone), escalating at once and de-escalating slowly.

An alert lives while a situation lasts and changes level with the rows of each
assessment cycle (levels from :mod:`.rules`). Per cycle, with ``L`` the level of the
alert's row (0 when the cycle has no row for it):

- no alert and ``L >= 1``: the alert is **raised** at ``L``, unless the row's track is
  coasting (``status``): its row is a prediction since its last plot, not an
  observation. On mass-attack (with a tracker setting of the time) 28 of 73 false
  alerts were raised by tracks that had just begun to coast, most with a velocity that
  had jumped; without them the same entries were warned, with the same lead. Nor, after
  a coast, until an estimate of the track comes within ``revived_gap_s`` (25 s) of its
  previous one: the plot that ends a long coast was taken in a gate grown with the cube
  of the time since the last plot, where another target's plot or clutter fits as well
  (a cruise missile's track, after the impact, took a drone's plot 50 s later and flew
  on at 470 m/s; tracks of drone streams seen by one radar at 150-250 km took the next
  drone's plot after several missed scans and left at 300-700 m/s). A track seen on
  every other scan (20 s gaps: a target at the edge of cover) is not held back; a second
  long coast starts over. On mass-attack (same tracker and run otherwise): false alerts
  82 -> 32 together with the bearing pairing of track/bearing.py (nearly all of it this
  rule), the same median lead / possible (81 %), and 270 of the 345 seen entries
  warned instead of 272: the two lost had been warned first by such tracks (one radar,
  plots two to five scans apart, 390-440 m/s a minute before, near drones flying
  40-47 m/s);
- ``L`` above the alert's level: **escalated** to ``L`` at once;
- below it: for each lower level ``k`` the alert remembers since when the observed level
  has stayed at or below ``k``; it is **de-escalated** to the lowest ``k >= 1`` that has
  held ``hold_s`` seconds, and **ended** when level 0 has held ``clear_s`` seconds or
  the track is reported gone. A level oscillating around a threshold therefore keeps the
  higher level: no storm of messages.

Acknowledgement (who, when, note) is recorded per alert and kept, with its history, for
the alert's life. An acknowledgement covers the level it was given at and every lower
one: de-escalation keeps the alert acknowledged; escalation above the acknowledged level
makes it unacknowledged again, so a new danger needs a new acknowledgement.

Sensor-down alerts: a watched sensor silent for more than ``silence_factor`` times its
expected period raises a ``sensor_down`` alert for its owner nation, ended when the
sensor reports again.

Events (:class:`~skywarden.records.AlertEvent`, formats.md "Alert event") are emitted
only for raise, escalate, de-escalate, acknowledge and end. The core is pure: time is the
``now`` argument, never the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SkywardenError
from ..records import AlertEvent
from .input import Assessment
from .rules import MAX_LEVEL, Rulebook


class UnknownAlertError(SkywardenError, LookupError):
    """No active alert has this id (never raised, or already ended)."""

    def __init__(self, alert_id: str) -> None:
        self.alert_id = alert_id
        super().__init__(f"alert {alert_id!r} is not active")


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Timing of the state machine; seconds."""

    hold_s: float = 30.0
    clear_s: float = 60.0
    silence_factor: float = 3.0
    sensor_down_level: int = 2
    # After a coast, a track raises no new alert until an estimate of it comes within
    # revived_gap_s of its previous one (module docstring); math.inf turns that off.
    revived_gap_s: float = 25.0

    def __post_init__(self) -> None:
        if not (self.hold_s >= 0 and self.clear_s >= 0 and self.silence_factor > 0):
            raise ValueError("hold_s and clear_s must be >= 0 and silence_factor > 0")
        if not self.revived_gap_s >= 0:
            raise ValueError("revived_gap_s must be >= 0")
        if not 1 <= self.sensor_down_level <= MAX_LEVEL:
            raise ValueError(f"sensor_down_level must be 1-{MAX_LEVEL}")


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    by: str
    time: float
    level: int
    note: str | None = None


@dataclass(slots=True)
class Alert:
    """One active alert and the last row seen for it."""

    id: str
    kind: str
    nation: str
    level: int
    raised: float
    changed: float
    track: str | None = None
    target_kind: str = "nation"
    target_id: str = ""
    zone_type: str = ""
    sensor: str | None = None
    time: float = math.nan
    lat: float = math.nan
    lon: float = math.nan
    alt: float = math.nan
    vel_e: float = math.nan
    vel_n: float = math.nan
    eta: float = math.nan
    probability: float = math.nan
    cls: str = "unknown"
    identity: str = "unknown"
    inside: bool = False
    # since[k]: start of the current run of observations at or below level k (None: none)
    since: list[float | None] = field(default_factory=lambda: [None] * (MAX_LEVEL + 1))
    acks: list[Acknowledgement] = field(default_factory=list)

    @property
    def zone(self) -> str | None:
        return self.target_id if self.target_kind == "zone" else None

    @property
    def acknowledged(self) -> bool:
        """An acknowledgement covers its level and the levels below it."""
        return bool(self.acks) and self.acks[-1].level >= self.level

    def observe_row(self, a: Assessment, i: int) -> None:
        self.time = float(a.time[i])
        self.lat, self.lon, self.alt = float(a.lat[i]), float(a.lon[i]), float(a.alt[i])
        self.vel_e, self.vel_n = float(a.vel_e[i]), float(a.vel_n[i])
        eta_s = float(a.eta_s[i])
        self.eta = self.time + eta_s if math.isfinite(eta_s) else math.nan
        self.probability = float(a.probability[i])
        self.cls, self.identity = str(a.cls[i]), str(a.identity[i])
        self.inside = bool(a.inside[i])
        self.kind = _kind(self.target_kind, self.inside)


@dataclass(slots=True)
class SensorWatch:
    sensor: str
    nation: str
    period_s: float
    last_seen: float


def _kind(target_kind: str, inside: bool) -> str:
    if not inside:
        return "predicted_entry"
    return "incursion" if target_kind == "nation" else "restriction_violation"


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


class AlertState:
    """All active alerts, the sensors watched, and the serial numbers of alert ids.

    Alert ids are ``TRACK:TARGET:N`` and ``sensor:SENSOR:N``, N counting the alerts the
    same pair has had, so an id is never reused.
    """

    def __init__(self, rulebook: Rulebook, config: AlertConfig | None = None) -> None:
        self.rulebook = rulebook
        self.config = config or AlertConfig()
        self.alerts: dict[str, Alert] = {}
        self.sensors: dict[str, SensorWatch] = {}
        self._by_key: dict[tuple[str, str, str], str] = {}
        self._serial: dict[str, int] = {}
        # Tracks seen coasting and not yet re-established (see _note_coasts), and the
        # time of each track's last estimate seen (not coasting).
        self._held: set[str] = set()
        self._fresh: dict[str, float] = {}

    # -- the cycle ---------------------------------------------------------------------

    def step(
        self,
        assessment: Assessment,
        now: float,
        *,
        sensors_seen: Mapping[str, float] | None = None,
        gone_tracks: Iterable[str] = (),
        only_tracks: Collection[str] | None = None,
    ) -> list[AlertEvent]:
        """Events of one cycle: ``assessment`` rows at time ``now`` (epoch s).

        ``sensors_seen`` maps a sensor id to the time of its latest report (only sensors
        that reported need appear); ``gone_tracks`` are tracks the tracker has deleted:
        their alerts end at once.

        ``only_tracks``: a partial cycle that assessed these tracks only (the live
        service's entries between periods). Their alerts move as in a full cycle (an
        alert of theirs with no row is observed at level 0); alerts of other tracks, and
        the sensor watch, are left for the next full cycle (their absence from the rows
        means nothing).
        """
        events: list[AlertEvent] = []
        gone = set(gone_tracks)
        if gone:
            for alert in [a for a in self.alerts.values() if a.track in gone]:
                events.append(self._end(alert, now))
            self._held -= gone
            for track in gone:
                self._fresh.pop(track, None)
        self._note_coasts(assessment.track_id, assessment.time, assessment.status)
        levels = self.rulebook.evaluate(assessment) if len(assessment) else np.zeros(0, np.int8)
        interest = levels >= 1
        tracks = {a.track for a in self.alerts.values() if a.track is not None}
        if tracks:
            # rows of an active alert's (track, target), found without a Python loop
            cand = np.flatnonzero(~interest & np.isin(assessment.track_id, list(tracks)))
            if cand.size:
                sep = "\x1f"
                joined = np.char.add(
                    np.char.add(
                        np.char.add(assessment.track_id[cand], sep),
                        np.char.add(assessment.target_kind[cand], sep),
                    ),
                    assessment.target_id[cand],
                )
                active = [sep.join(k) for k in self._by_key if k[1] != "sensor"]
                interest[cand[np.isin(joined, active)]] = True
        rows: dict[tuple[str, str, str], tuple[int, int]] = {}
        index = np.flatnonzero(interest)
        track_ids = assessment.track_id[index].tolist()
        kinds = assessment.target_kind[index].tolist()
        targets = assessment.target_id[index].tolist()
        for i, level, key in zip(
            index.tolist(),
            levels[index].tolist(),
            zip(track_ids, kinds, targets, strict=True),
            strict=True,
        ):
            if key not in rows or level > rows[key][1]:
                rows[key] = (i, level)
        coasting = assessment.status == "coasting"
        for key, (i, level) in rows.items():
            if key[0] in gone:
                continue
            alert_id = self._by_key.get(key)
            if alert_id is None:
                # A coasting track's row is the track's prediction since its last plot,
                # not an observation: it keeps the alerts it has but raises none until
                # a sensor sees the target again (docs/WARNING.md, "Alerts").
                if level >= 1 and not coasting[i] and key[0] not in self._held:
                    events.append(self._raise_track(key, assessment, i, level, now))
                continue
            alert = self.alerts[alert_id]
            alert.observe_row(assessment, i)
            events.extend(self._observe(alert, level, now))
        for key, alert_id in list(self._by_key.items()):
            if (key[1] != "sensor" and key not in rows
                    and (only_tracks is None or key[0] in only_tracks)):
                events.extend(self._observe(self.alerts[alert_id], 0, now))
        if only_tracks is None:
            events.extend(self._step_sensors(sensors_seen or {}, now))
        return events

    def _note_coasts(self, track: np.ndarray, time: np.ndarray, status: np.ndarray) -> None:
        """Follow tracks through coasts (rows of one cycle: track ids, estimate times,
        statuses): a track seen coasting is held back from raising new alerts until an
        estimate of it comes within ``revived_gap_s`` of its previous one (module
        docstring)."""
        if not track.size:
            return
        coasting = status == "coasting"
        fresh = np.flatnonzero(~coasting)
        ids, first = np.unique(track[fresh], return_index=True)
        at = time[fresh[first]]
        if self._held:
            gap = self.config.revived_gap_s
            mine = np.flatnonzero(np.isin(ids, list(self._held)))
            for t, now in zip(ids[mine].tolist(), at[mine].tolist(), strict=True):
                last = self._fresh.get(t, -math.inf)
                # a new estimate (not the same row assessed again), soon after the last
                if last < now <= last + gap:
                    self._held.discard(t)
        self._fresh.update(zip(ids.tolist(), at.tolist(), strict=True))
        if coasting.any():
            self._held.update(np.unique(track[coasting]).tolist())

    def _observe(self, alert: Alert, level: int, now: float) -> list[AlertEvent]:
        since = alert.since
        for k in range(MAX_LEVEL + 1):
            if k < level:
                since[k] = None
            elif since[k] is None:
                since[k] = now
        if level > alert.level:
            return [self._change(alert, level, "escalated", now)]
        if level == alert.level:
            return []
        for k in range(alert.level):
            start = since[k]
            need = self.config.clear_s if k == 0 else self.config.hold_s
            if start is not None and now - start >= need:
                if k == 0:
                    return [self._end(alert, now)]
                return [self._change(alert, k, "deescalated", now)]
        return []

    # -- acknowledgement ---------------------------------------------------------------

    def acknowledge(
        self, alert_id: str, by: str, now: float, note: str | None = None
    ) -> AlertEvent:
        """Record that ``by`` acknowledged the alert at its current level at ``now``."""
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise UnknownAlertError(alert_id)
        if not by or not by.strip():
            raise ValueError("an acknowledgement needs the name of who gives it")
        alert.acks.append(Acknowledgement(by=by, time=now, level=alert.level, note=note))
        return self._event(alert, "acknowledged", now, by=by, note=note)

    # -- restart -----------------------------------------------------------------------

    def restore(self, alert: Alert, now: float) -> None:
        """Take back an alert that was open when the service stopped (from the store).

        The alert keeps its id, level, times and acknowledgements; no event is emitted
        (nothing changed). Its de-escalation clock starts again at ``now``: the levels
        below it need their full hold time from the restart on, so a restart never
        lowers or ends an alert by itself. The id's serial number is remembered, so new
        alerts of the same (track, target) pair never reuse it. ``target_kind`` is
        ``nation``, ``zone`` or ``sensor`` (with ``target_id`` the nation, zone or
        sensor id). Restoring an id that is already active is a ValueError.
        """
        if alert.id in self.alerts:
            raise ValueError(f"alert {alert.id!r} is already active")
        if alert.target_kind not in ("nation", "zone", "sensor") or not alert.target_id:
            raise ValueError(f"alert {alert.id!r}: target_kind {alert.target_kind!r} and "
                             f"target_id {alert.target_id!r} do not name a target")
        if not 1 <= alert.level <= MAX_LEVEL:
            raise ValueError(f"alert {alert.id!r}: level {alert.level} is not 1-{MAX_LEVEL}")
        key = (alert.track or "", alert.target_kind, alert.target_id)
        if key in self._by_key:
            raise ValueError(f"alert {alert.id!r}: {key} already has alert "
                             f"{self._by_key[key]!r}")
        # Every level's run starts now: the alert keeps its level for hold_s at least and
        # ends clear_s after the restart at the earliest; a row at its level resets the
        # lower runs, as for any alert.
        alert.since = [now] * (MAX_LEVEL + 1)
        self.alerts[alert.id] = alert
        self._by_key[key] = alert.id
        self.note_serial(alert.id)

    def note_serial(self, alert_id: str) -> None:
        """Remember that ``alert_id`` (``STEM:N``) was used, so no new alert takes it."""
        stem, _, n = alert_id.rpartition(":")
        if stem and n.isdigit():
            self._serial[stem] = max(self._serial.get(stem, 0), int(n))

    # -- sensors -----------------------------------------------------------------------

    def watch_sensor(self, sensor: str, period_s: float, nation: str, now: float) -> None:
        """Expect a report from ``sensor`` every ``period_s`` seconds from ``now`` on."""
        if not period_s > 0:
            raise ValueError(f"sensor {sensor!r}: expected period must be > 0 s")
        old = self.sensors.get(sensor)
        last = old.last_seen if old is not None else now
        self.sensors[sensor] = SensorWatch(sensor, nation, float(period_s), last)

    def watch_registry(self, registry: Iterable[Any], now: float) -> None:
        """Watch every sensor of a registry that states its ``scan_period``."""
        for s in registry:
            if s.scan_period:
                self.watch_sensor(s.id, s.scan_period, s.owner, now)

    def _step_sensors(self, seen: Mapping[str, float], now: float) -> list[AlertEvent]:
        events = []
        for w in self.sensors.values():
            t = seen.get(w.sensor)
            if t is not None and t > w.last_seen:
                w.last_seen = float(t)
            silent = now - w.last_seen > self.config.silence_factor * w.period_s
            key = ("", "sensor", w.sensor)
            alert_id = self._by_key.get(key)
            if silent and alert_id is None:
                events.append(self._raise_sensor(w, now))
            elif not silent and alert_id is not None:
                events.append(self._end(self.alerts[alert_id], now))
        return events

    # -- changes -----------------------------------------------------------------------

    def _new_id(self, stem: str) -> str:
        n = self._serial.get(stem, 0) + 1
        self._serial[stem] = n
        return f"{stem}:{n}"

    def _raise_track(
        self, key: tuple[str, str, str], a: Assessment, i: int, level: int, now: float
    ) -> AlertEvent:
        track, target_kind, target_id = key
        alert = Alert(
            id=self._new_id(f"{track}:{target_id}"),
            kind="predicted_entry",
            nation=str(a.target_owner[i]),
            level=level,
            raised=now,
            changed=now,
            track=track,
            target_kind=target_kind,
            target_id=target_id,
            zone_type=str(a.zone_type[i]),
        )
        alert.observe_row(a, i)
        for k in range(level, MAX_LEVEL + 1):
            alert.since[k] = now
        self.alerts[alert.id] = alert
        self._by_key[key] = alert.id
        return self._event(alert, "raised", now)

    def _raise_sensor(self, w: SensorWatch, now: float) -> AlertEvent:
        level = self.config.sensor_down_level
        alert = Alert(
            id=self._new_id(f"sensor:{w.sensor}"),
            kind="sensor_down",
            nation=w.nation,
            level=level,
            raised=now,
            changed=now,
            target_kind="sensor",
            target_id=w.sensor,
            sensor=w.sensor,
            time=w.last_seen,
        )
        self.alerts[alert.id] = alert
        self._by_key[("", "sensor", w.sensor)] = alert.id
        return self._event(alert, "raised", now)

    def _change(self, alert: Alert, level: int, event: str, now: float) -> AlertEvent:
        alert.level = level
        alert.changed = now
        return self._event(alert, event, now)

    def _end(self, alert: Alert, now: float) -> AlertEvent:
        alert.level = 0
        alert.changed = now
        del self.alerts[alert.id]
        key = (alert.track or "", alert.target_kind, alert.target_id)
        self._by_key.pop(key, None)
        return self._event(alert, "ended", now)

    def _event(
        self,
        alert: Alert,
        event: str,
        now: float,
        by: str | None = None,
        note: str | None = None,
    ) -> AlertEvent:
        lvl = self.rulebook.level(alert.nation, alert.level)
        track_alert = alert.track is not None
        return AlertEvent(
            time=now,
            alert=alert.id,
            event=event,  # type: ignore[arg-type]
            level=alert.level,
            kind=alert.kind,
            nation=alert.nation,
            track=alert.track,
            lat=_num(alert.lat) if track_alert else None,
            lon=_num(alert.lon) if track_alert else None,
            alt=_num(alert.alt) if track_alert else None,
            zone=alert.zone,
            eta=_num(alert.eta) if alert.kind == "predicted_entry" else None,
            probability=_num(alert.probability) if track_alert else None,
            actions=lvl.action_names if track_alert else [],
            level_name=lvl.name,
            by=by,
            note=note,
            sensor=alert.sensor,
            zone_type=alert.zone_type or None,
        )


def step(
    state: AlertState,
    assessment: Assessment,
    now: float,
    *,
    sensors_seen: Mapping[str, float] | None = None,
    gone_tracks: Iterable[str] = (),
    only_tracks: Collection[str] | None = None,
) -> list[AlertEvent]:
    """One cycle of ``state`` (see :meth:`AlertState.step`)."""
    return state.step(assessment, now, sensors_seen=sensors_seen, gone_tracks=gone_tracks,
                      only_tracks=only_tracks)
