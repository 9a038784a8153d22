"""Warning scores: did each nation hear of a threat before it crossed into its territory?

    score_warnings(truth.jsonl, alerts.jsonl, detections=None) -> WarningReport

From the truth (targets marked ``hostile``) and the alert events of a run:

- **entries**: every time a threat's true position passes from outside a nation's
  territory (land and territorial sea: the shipped borders,
  :mod:`skywarden.airspace.borders`) into it, at the first truth sample inside. A
  threat that starts inside a nation has not entered it.
- **possible lead time** of an entry: entry time minus the threat's first detection
  (from labelled detections, ``skywarden sim --labels``; without them, the first truth
  sample marked ``observable``). Entries the sensors could not see coming (possible lead
  <= 0) are listed but left out of the lead-time floor.
- **lead time**: entry time minus the first warning to that nation about that threat,
  after the threat's previous exit from the nation. An alert event is about the truth
  target nearest to the event's reported position at its time, within ``gate_m``;
  events with no position (sensor alerts) are not about a threat.
- **followed by an open alert** (with the tracks of the same run, ``tracks_path``): an
  alert stands from its first event to its ``ended`` event, and all that time it shows
  its track, wherever the track goes. Each confirmed line of an alert's track while the
  alert stands (not a coasting one: its place is a prediction) is about the truth target
  nearest it (truth samples at the truth time nearest the line's, within ``gate_m``),
  and warns that nation of that target from then on.
  Events are only written when an alert changes level, so a track that moves from one
  drone of a wave to the next (or that was raised a little nearer a neighbour) warns,
  on the map the operators read, of a drone that no event is about. Without the tracks
  only the events count; :attr:`Entry.event_lead_s` keeps the lead from events alone.
- **re-entries**: a threat that left a nation and comes back. Its possible lead counts
  from the exit (or the first detection, if later): nothing could warn of coming back
  before leaving. An alert about that threat for that nation that was open at the exit
  and still open at the re-entry warned it, with a lead from the exit (the nation was
  never without a warning of that threat in between).
- **missed**: an entry with positive possible lead and no alert before it. With labelled
  detections each entry also says how many detections of the threat came before it
  (since its previous exit): a threat seen once before the border gives a tracker nothing
  to predict from (no track is confirmed on one plot), so the report counts the missed
  entries by that number (:meth:`WarningReport.missed_by_detections`).
- **missed, with an alert near**: a missed entry for which the nation did have an alert
  before the entry (after the previous exit) with an event within ``gate_m`` of the threat
  but nearer another target. In a dense wave at the edge of a radar's cover (drones two
  to four kilometres apart, each seen on one scan in three to ten) the tracks hold the
  wave, not each drone, and a track's events fall nearest to one drone and then another:
  the nation was warned of the wave, but no alert is about this drone. Counted apart to tell these from entries
  no alert came near (:meth:`WarningReport.missed_with_alert_near`); the floor still
  counts them missed.
- **not warned by policy**: entries into the nations the deployment does not warn
  (``data/warned-nations.toml``: the states the incursions came from, whose own airspace
  the allied picture does not serve) are listed but neither scored nor missed: no alert
  to them is ever raised, by design.
- **incursion delay**: seconds from the entry to the first ``incursion`` alert for that
  nation about that threat.
- **false alerts**: alerts (distinct alert ids, sensor alerts excluded) whose first event
  is about no threat, per nation, per hour of the truth's time span. They are split by
  what the first event was about: a non-threat truth target (``false_civil``: background
  traffic) or nothing within ``gate_m`` (``false_no_target``: a track of clutter, or one
  whose estimate is far from its target). The split only explains the count; both kinds
  are false alerts.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..airspace.borders import Borders, load_borders
from ..ingest.jsonl import ReadStats, read_detections, read_jsonl, stderr_report
from ..records import AlertEvent, TrackUpdate, Truth

DEFAULT_GATE_M = 5000.0


@dataclass
class Entry:
    """One actual entry of a threat into a nation, and how it was warned."""

    target: str
    nation: str
    time: float
    possible_lead_s: float | None  # None: never detected before the entry
    lead_s: float | None  # None: no alert before the entry
    incursion_delay_s: float | None  # None: no incursion alert after the entry
    # Labelled detections of the threat between its previous exit (or the start) and the
    # entry; None without labelled detections.
    detections_before: int | None = None
    # Seconds before the entry of the first alert event for that nation within gate_m of
    # the threat, nearest it or not (module docstring: missed, with an alert near).
    near_lead_s: float | None = None
    # False for a nation the deployment does not warn (data/warned-nations.toml).
    served: bool = True
    # The lead from alert events alone, not counting the alerts' tracks (module
    # docstring: followed by an open alert); equals lead_s when no tracks were given.
    event_lead_s: float | None = None

    @property
    def seen_before(self) -> bool:
        return self.possible_lead_s is not None and self.possible_lead_s > 0

    @property
    def missed(self) -> bool:
        return self.served and self.seen_before and self.lead_s is None


@dataclass
class WarningReport:
    entries: list[Entry] = field(default_factory=list)
    false_alerts: dict[str, int] = field(default_factory=dict)  # per nation
    false_civil: dict[str, int] = field(default_factory=dict)  # of those: about civil truth
    alerts: int = 0  # distinct alerts about tracks
    hours: float = 0.0
    bad_lines: int = 0
    # True when the alerts' tracks were given: leads count the tracks that standing
    # alerts followed (module docstring); the event-only figures are kept beside.
    followed_tracks: bool = False
    alerts_without_track_lines: int = 0

    @property
    def scored(self) -> list[Entry]:
        """Entries into a nation the deployment warns that the sensors saw coming (the
        floor applies to these)."""
        return [e for e in self.entries if e.served and e.seen_before]

    @property
    def missed(self) -> int:
        return sum(e.missed for e in self.entries)

    @property
    def not_served(self) -> int:
        """Entries into nations the deployment does not warn (listed, not scored)."""
        return sum(not e.served for e in self.entries)

    @property
    def missed_by_events(self) -> int:
        """Scored entries that no alert event was about before the entry (the count of
        missed entries without following the alerts' tracks)."""
        return sum(e.event_lead_s is None for e in self.scored)

    def missed_by_detections(self) -> dict[str, int]:
        """Missed entries by the threat's detections before the entry: '1', '2', '3',
        '4+' ('?' where the detections were not labelled)."""
        out = {"1": 0, "2": 0, "3": 0, "4+": 0}
        for e in self.entries:
            if not e.missed:
                continue
            n = e.detections_before
            key = "?" if n is None else ("4+" if n >= 4 else str(max(n, 1)))
            out[key] = out.get(key, 0) + 1
        return out

    def missed_with_alert_near(self) -> int:
        """Missed entries that had an alert for that nation within gate_m of the threat
        before the entry, about a track nearer another target (module docstring)."""
        return sum(e.missed and e.near_lead_s is not None for e in self.entries)

    def median_lead(self) -> float | None:
        leads = [e.lead_s if e.lead_s is not None else 0.0 for e in self.scored]
        return float(np.median(leads)) if leads else None

    def median_possible(self) -> float | None:
        poss = [e.possible_lead_s for e in self.scored if e.possible_lead_s is not None]
        return float(np.median(poss)) if poss else None

    def median_lead_fraction(self, *, events_only: bool = False) -> float | None:
        """Median over seen entries of lead / possible lead (a missed entry counts 0);
        ``events_only``: the lead from alert events alone."""
        f = [
            min(max((e.event_lead_s if events_only else e.lead_s) or 0.0, 0.0)
                / e.possible_lead_s, 1.0)
            for e in self.scored
            if e.possible_lead_s
        ]
        return float(np.median(f)) if f else None

    def false_alerts_per_nation_hour(self) -> dict[str, float]:
        h = max(self.hours, 1e-9)
        return {n: c / h for n, c in sorted(self.false_alerts.items())}

    def to_json(self) -> str:
        doc = {
            "entries": [asdict(e) | {"missed": e.missed} for e in self.entries],
            "entries_total": len(self.entries),
            "entries_seen_before": len(self.scored),
            "entries_not_warned_by_policy": self.not_served,
            "missed": self.missed,
            "missed_by_detections_before": self.missed_by_detections(),
            "missed_with_alert_near": self.missed_with_alert_near(),
            "median_lead_s": self.median_lead(),
            "median_possible_lead_s": self.median_possible(),
            "median_lead_fraction": self.median_lead_fraction(),
            "followed_tracks": self.followed_tracks,
            "missed_by_events": self.missed_by_events,
            "alerts_without_track_lines": self.alerts_without_track_lines,
            "median_lead_fraction_by_events": self.median_lead_fraction(events_only=True),
            "alerts": self.alerts,
            "false_alerts": self.false_alerts,
            "false_alerts_per_nation_hour": self.false_alerts_per_nation_hour(),
            "false_civil": self.false_civil,
            "hours": self.hours,
            "bad_lines": self.bad_lines,
        }
        return json.dumps(doc, indent=2)

    def table(self) -> str:
        def fmt(v: float | None, unit: str = " s") -> str:
            return "-" if v is None else f"{v:,.0f}{unit}"

        t0 = min((e.time for e in self.entries), default=0.0)
        lines = [
            "threat entries into a nation (time from the first entry)",
            f"{'target':<28} {'nation':<6} {'at':>8} {'possible':>9} {'lead':>9} "
            f"{'incursion':>10}",
        ]
        for e in self.entries:
            lead = ("MISSED" if e.missed else fmt(e.lead_s)) if e.served else "policy"
            lines.append(
                f"{e.target:<28} {e.nation:<6} {fmt(e.time - t0):>8} "
                f"{fmt(e.possible_lead_s):>9} {lead:>9} {fmt(e.incursion_delay_s):>10}"
            )
        frac = self.median_lead_fraction()
        fa = self.false_alerts_per_nation_hour()
        lines += [
            "",
            f"entries                      {len(self.entries):>8}",
            f"  not warned by policy       {self.not_served:>8}",
            f"  seen before the border     {len(self.scored):>8}",
            f"  warned before entry        {len(self.scored) - self.missed:>8}",
            f"  missed                     {self.missed:>8}",
            "    by detections before     "
            + " ".join(f"{k}: {v}" for k, v in self.missed_by_detections().items()),
            f"    with an alert near       {self.missed_with_alert_near():>8}",
            f"median lead time             {fmt(self.median_lead()):>8}",
            f"median possible lead time    {fmt(self.median_possible()):>8}",
            "median lead / possible       "
            + ("       -" if frac is None else f"{100 * frac:>7.0f}%"),
        ]
        if self.followed_tracks:
            ev = self.median_lead_fraction(events_only=True)
            lines += [
                "by alert events alone (not following the alerts' tracks):",
                f"  missed                     {self.missed_by_events:>8}",
                "  median lead / possible     "
                + ("       -" if ev is None else f"{100 * ev:>7.0f}%"),
            ]
            if self.alerts_without_track_lines:
                lines.append(f"alerts whose track had no confirmed line while they stood "
                             f"{self.alerts_without_track_lines:>8} (of {self.alerts}; nearly "
                             f"all: tracks of another run?)")
        lines += [
            f"alerts about tracks          {self.alerts:>8}",
            f"false alerts                 {sum(self.false_alerts.values()):>8}",
            f"  about civil traffic        {sum(self.false_civil.values()):>8}",
            f"  about no target near       "
            f"{sum(self.false_alerts.values()) - sum(self.false_civil.values()):>8}",
            "  worst nation per hour      "
            + (f"{max(fa.values()):>8.2f} ({max(fa, key=fa.__getitem__)})" if fa else "       0"),
            f"bad input lines skipped      {self.bad_lines:>8}",
        ]
        return "\n".join(lines)


def score_warnings(
    truth_path: str | Path,
    alerts_path: str | Path,
    detections_path: str | Path | None = None,
    *,
    tracks_path: str | Path | None = None,
    borders: Borders | None = None,
    gate_m: float = DEFAULT_GATE_M,
    strict: bool = False,
    not_warned: Collection[str] | None = None,
) -> WarningReport:
    """Score the alerts of ``alerts_path`` against the truth; see the module docstring.
    ``tracks_path``: the track lines of the run that raised the alerts (their track ids
    tie them to the alerts); with them an alert also warns of the threat its track
    follows while it stands. ``not_warned``: the nations the run did not warn (default:
    the shipped list, which the replay and the service use)."""
    borders = borders or load_borders()
    if not_warned is None:
        from ..pipeline import load_not_warned

        not_warned = load_not_warned()
    unserved = set(not_warned)
    # Bad alert lines are named here; bad truth and detection lines only counted, since the
    # track scores read those files too and name them once.
    alert_stats = ReadStats(report=stderr_report)
    stats = ReadStats()
    alerts = [
        a for a in read_jsonl(alerts_path, AlertEvent, strict=strict, stats=alert_stats)
    ]
    located = [a for a in alerts if a.lat is not None and a.lon is not None]
    ended_at = {a.alert: a.time for a in alerts if a.event == "ended"}
    follow = None
    if tracks_path is not None:
        follow = _standing_points(tracks_path, located, ended_at, strict=strict, stats=stats)
    # Every truth sample, kept only to place the standing alerts' track lines.
    all_t, all_lat, all_lon, all_k = array("d"), array("d"), array("d"), array("q")
    target_no: dict[str, int] = {}
    # Alerts by truth step (nearest second), to match each to the nearest truth target.
    by_second: dict[int, list[int]] = defaultdict(list)
    for k, a in enumerate(located):
        by_second[round(a.time)].append(k)
    best_d = np.full(len(located), np.inf)
    best_t: list[str | None] = [None] * len(located)
    # Events within gate_m of each (threat, nation), nearest it or not: their times.
    near_events: dict[tuple[str, str], list[float]] = defaultdict(list)

    threat_t: dict[str, list[float]] = defaultdict(list)
    threat_lat: dict[str, list[float]] = defaultdict(list)
    threat_lon: dict[str, list[float]] = defaultdict(list)
    first_observable: dict[str, float] = {}
    t_min, t_max = math.inf, -math.inf
    for tr in read_jsonl(truth_path, Truth, strict=strict, stats=stats):
        t_min, t_max = min(t_min, tr.time), max(t_max, tr.time)
        if follow is not None:
            all_t.append(tr.time)
            all_lat.append(tr.lat)
            all_lon.append(tr.lon)
            all_k.append(target_no.setdefault(tr.target, len(target_no)))
        near = by_second.get(round(tr.time))
        if near:
            for k in near:
                a = located[k]
                d = _near_distance(a.lat, a.lon, tr.lat, tr.lon)
                if d < best_d[k]:
                    best_d[k], best_t[k] = d, tr.target
                if tr.hostile and d <= gate_m and a.event != "ended":
                    near_events[(tr.target, a.nation)].append(a.time)
        if tr.hostile:
            threat_t[tr.target].append(tr.time)
            threat_lat[tr.target].append(tr.lat)
            threat_lon[tr.target].append(tr.lon)
            if tr.observable and tr.target not in first_observable:
                first_observable[tr.target] = tr.time
    about = [t if d <= gate_m else None for t, d in zip(best_t, best_d, strict=True)]

    first_seen: dict[str, float] = {}
    seen_at: dict[str, np.ndarray] = {}  # each threat's detection times, sorted
    if detections_path is not None:
        times_of: dict[str, list[float]] = defaultdict(list)
        for det in read_detections(detections_path, strict=strict, stats=stats):
            if det.target is not None and det.target in threat_t:
                times_of[det.target].append(det.time)
        seen_at = {k: np.sort(np.asarray(v)) for k, v in times_of.items()}
        first_seen = {k: float(v[0]) for k, v in seen_at.items()}
    else:
        first_seen = first_observable

    # Events about each (threat, nation), in time order.
    events: dict[tuple[str, str], list[AlertEvent]] = defaultdict(list)
    for a, target in zip(located, about, strict=True):
        if target is not None and target in threat_t and a.event != "ended":
            events[(target, a.nation)].append(a)
    for v in events.values():
        v.sort(key=lambda a: a.time)
    # Standing alerts' track lines about each (threat, nation): (time, alert id).
    followed: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    if follow is not None and len(all_t):
        names = list(target_no)
        nearest = _nearest_targets(follow, np.frombuffer(all_t), np.frombuffer(all_lat),
                                   np.frombuffer(all_lon), np.frombuffer(all_k, np.int64),
                                   gate_m)
        for i in np.flatnonzero(nearest >= 0):
            target = names[nearest[i]]
            if target in threat_t:
                alert_id, nation = follow.alerts[follow.span[i]]
                followed[(target, nation)].append((float(follow.time[i]), alert_id))
        for v in followed.values():
            v.sort()
    del all_t, all_lat, all_lon, all_k

    report = WarningReport(hours=max(t_max - t_min, 0.0) / 3600.0,
                           bad_lines=alert_stats.bad + stats.bad,
                           followed_tracks=follow is not None,
                           alerts_without_track_lines=0 if follow is None else follow.unseen)
    for target, times in threat_t.items():
        t = np.asarray(times)
        order = np.argsort(t, kind="stable")
        t = t[order]
        nation = borders.nation_at(
            np.asarray(threat_lat[target])[order], np.asarray(threat_lon[target])[order]
        )
        last_exit: dict[str, float] = {}
        for i in range(1, t.size):
            was, now = str(nation[i - 1]), str(nation[i])
            if was == now:
                continue
            if was:
                last_exit[was] = float(t[i])
            if not now:
                continue
            t_entry = float(t[i])
            since = last_exit.get(now, -math.inf)
            about_pair = events.get((target, now), [])
            incursion = [a for a in about_pair
                         if a.time > since and a.time >= t_entry and a.kind == "incursion"]
            warned_by = [(a.time, a.alert) for a in about_pair]
            event_lead = _lead(warned_by, since, t_entry, ended_at)
            lead = event_lead
            if (target, now) in followed:
                lead = _lead(sorted(warned_by + followed[(target, now)]), since, t_entry,
                             ended_at)
            near = [x for x in near_events.get((target, now), []) if since < x <= t_entry]
            seen = first_seen.get(target)
            if seen is not None:
                seen = max(seen, since)
            n_before = None
            if detections_path is not None:
                at = seen_at.get(target, np.zeros(0))
                n_before = int(np.searchsorted(at, t_entry, side="left")
                               - np.searchsorted(at, since, side="left"))
            report.entries.append(
                Entry(
                    target=target,
                    nation=now,
                    time=t_entry,
                    possible_lead_s=None if seen is None else t_entry - seen,
                    lead_s=lead,
                    incursion_delay_s=incursion[0].time - t_entry if incursion else None,
                    detections_before=n_before,
                    near_lead_s=t_entry - min(near) if near else None,
                    served=now not in unserved,
                    event_lead_s=event_lead,
                )
            )
    report.entries.sort(key=lambda e: e.time)

    # False alerts: an alert whose first located event is about no threat.
    first_event: dict[str, tuple[AlertEvent, str | None]] = {}
    for a, target in sorted(zip(located, about, strict=True), key=lambda p: p[0].time):
        first_event.setdefault(a.alert, (a, target))
    report.alerts = len(first_event)
    for a, target in first_event.values():
        if target is None or target not in threat_t:
            report.false_alerts[a.nation] = report.false_alerts.get(a.nation, 0) + 1
            if target is not None:
                report.false_civil[a.nation] = report.false_civil.get(a.nation, 0) + 1
    return report


def _lead(warned_by: list[tuple[float, str]], since: float, t_entry: float,
          ended_at: dict[str, float]) -> float | None:
    """Seconds from the first warning (time, alert id; sorted) of an entry at ``t_entry``
    after the previous exit at ``since`` to the entry; from the exit where an alert that
    warned before the exit still stands at the re-entry (module docstring)."""
    if math.isfinite(since) and any(
        t <= since and ended_at.get(alert, math.inf) > t_entry for t, alert in warned_by
    ):
        return t_entry - since
    first = next((t for t, _ in warned_by if since < t <= t_entry), None)
    return None if first is None else t_entry - first


@dataclass
class _Standing:
    """The track lines shown by standing alerts: one row per (line, alert)."""

    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    span: np.ndarray  # index into alerts
    alerts: list[tuple[str, str]]  # (alert id, nation)

    @property
    def unseen(self) -> int:
        """Alerts with no confirmed line of their track while they stood: a track that
        coasted, or was not updated again, until its alert ended; for nearly all alerts,
        tracks of another run or a tracks file cut short."""
        return len(self.alerts) - np.unique(self.span).size


def _standing_points(tracks_path: str | Path, located: list[AlertEvent],
                     ended_at: dict[str, float], *, strict: bool,
                     stats: ReadStats) -> _Standing:
    """The confirmed lines of each alert's track from the alert's first event to its
    end."""
    first: dict[str, AlertEvent] = {}
    for a in sorted(located, key=lambda a: a.time):
        if a.track is not None:
            first.setdefault(a.alert, a)
    alerts: list[tuple[str, str]] = []
    spans: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for alert_id, a in first.items():
        spans[a.track].append((len(alerts), a.time, ended_at.get(alert_id, math.inf)))
        alerts.append((alert_id, a.nation))
    t, lat, lon, span = array("d"), array("d"), array("d"), array("q")
    for row in read_jsonl(tracks_path, TrackUpdate, strict=strict, stats=stats):
        if row.status != "confirmed":
            continue  # a coasting track's place is a prediction, not where a plot put it
        for k, t0, t1 in spans.get(row.track, ()):
            if t0 <= row.time < t1:
                t.append(row.time)
                lat.append(row.lat)
                lon.append(row.lon)
                span.append(k)
    return _Standing(np.frombuffer(t), np.frombuffer(lat), np.frombuffer(lon),
                     np.frombuffer(span, np.int64), alerts)


def _nearest_targets(pts: _Standing, t: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                     target: np.ndarray, gate_m: float) -> np.ndarray:
    """For each point, the truth target nearest it (index into the target numbers) among
    the samples at the truth time nearest the point's, or -1: none within ``gate_m``, or
    no truth sample within half a truth step of the point's time."""
    out = np.full(pts.time.size, -1, np.int64)
    if not pts.time.size:
        return out
    order = np.argsort(t, kind="stable")
    t, lat, lon, target = t[order], lat[order], lon[order], target[order]
    grid, start = np.unique(t, return_index=True)
    stop = np.append(start[1:], t.size)
    step = float(np.median(np.diff(grid))) if grid.size > 1 else 1.0
    k = np.searchsorted(grid, pts.time).clip(0, grid.size - 1)
    before = (k - 1).clip(0)
    k = np.where(np.abs(grid[before] - pts.time) <= np.abs(grid[k] - pts.time), before, k)
    near_in_time = np.abs(grid[k] - pts.time) <= 0.5 * step + 1e-6
    rad = math.pi / 180.0
    by_k = np.argsort(k, kind="stable")
    ks, first = np.unique(k[by_k], return_index=True)
    for kk, lo_i, hi_i in zip(ks, first, np.append(first[1:], by_k.size), strict=True):
        sel = by_k[lo_i:hi_i]
        sel = sel[near_in_time[sel]]
        if not sel.size:
            continue
        s0, s1 = start[kk], stop[kk]
        # Equirectangular, as _near_distance: the gate is a few km.
        dx = (lon[None, s0:s1] - pts.lon[sel, None]) * np.cos(
            0.5 * (lat[None, s0:s1] + pts.lat[sel, None]) * rad)
        dy = lat[None, s0:s1] - pts.lat[sel, None]
        d = 6371000.0 * rad * np.hypot(dx, dy)
        j = d.argmin(axis=1)
        ok = d[np.arange(sel.size), j] <= gate_m
        out[sel[ok]] = target[s0 + j[ok]]
    return out


def _near_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance (m): within 0.1 % of the geodesic at the few-km scale of
    the matching gate, and cheap enough to call per truth line."""
    k = math.pi / 180.0
    dx = (lon2 - lon1) * k * math.cos(0.5 * (lat1 + lat2) * k)
    dy = (lat2 - lat1) * k
    return 6371000.0 * math.hypot(dx, dy)
