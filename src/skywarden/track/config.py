"""Tracker settings: one frozen dataclass, validated once at construction.

Units are SI: seconds, metres, m/s, m^2/s^3 for process noise. Every number here is a
default that the simulator's scenarios were tuned against; a deployment overrides them
from TOML with :meth:`TrackerConfig.from_dict` (unknown keys are errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError

# Per sensor type: default revisit (s) when the registry gives no scan_period.
DEFAULT_SCAN_PERIOD = {
    "radar": 10.0,
    "adsb": 1.0,
    "remote_id": 1.0,
    "acoustic": 2.0,
    "visual_report": 600.0,
    "track_feed": 5.0,
}
# Per sensor type: default 1-sigma horizontal / vertical position error (m) for `position`
# detections that carry none and whose sensor gives none.
DEFAULT_SIGMA_H = {
    "radar": 300.0,
    "adsb": 50.0,
    "remote_id": 15.0,
    "acoustic": 500.0,
    "visual_report": 2000.0,
    "track_feed": 300.0,
}
DEFAULT_SIGMA_V = {
    "radar": 300.0,
    "adsb": 30.0,
    "remote_id": 15.0,
    "acoustic": 500.0,
    "visual_report": 1000.0,
    "track_feed": 300.0,
}
# Sensor types whose detections are cooperative (the target reports itself).
COOPERATIVE_TYPES = ("adsb", "remote_id")


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Every tunable of the tracker, with the defaults used on the shipped scenarios."""

    # Motion: nearly-constant velocity, white acceleration noise (m^2/s^3).
    q_horizontal: float = 30.0
    q_vertical: float = 3.0
    # Adaptive process noise (manoeuvres): the scale rises by `q_boost` when a track's
    # averaged normalised innovation exceeds `nis_manoeuvre` per degree of freedom, up to
    # `q_scale_max`, and decays back by `q_decay` per update otherwise.
    q_boost: float = 4.0
    q_scale_max: float = 100.0
    # ... but never above q_scale_max (q_precise_reach / r)^2, at least q_noisy_scale_max,
    # with r the horizontal 1-sigma reach of the plot that updated the track (m). The
    # boost lets the gate follow a manoeuvre; when a plot is known only to about a
    # kilometre (a radar at 200 km, 0.25 deg in azimuth) a manoeuvre hides in the noise,
    # and the boost turns the noise, and swaps between neighbouring targets, into
    # velocity. On mass-attack drone streams (drones 2-4 km apart) seen by one radar at
    # 150-250 km, tracks left at 300-700 m/s as "aircraft" (so no class bound held them)
    # and warned nations all over Europe. Whole run, with the kinematic gate below and
    # no new alerts from coasting tracks (warn/alerts.py): 251 false alerts -> 71. A plain
    # cap of 8 everywhere (and q_miss_scale 4) gave 45, but cost manoeuvre-mix (radars
    # near their targets, 0.15 deg) GOSPA 2,080 -> 3,396 m; with this bound it is 2,032.
    q_precise_reach: float = 250.0
    q_noisy_scale_max: float = 4.0
    q_decay: float = 0.7
    nis_manoeuvre: float = 2.0
    nis_memory: float = 0.5
    # ... but nis_manoeuvre_precise where the plot's horizontal 1-sigma reach is within
    # nis_precise_reach (m): such a plot shows a turn soon. On manoeuvre-mix (aircraft
    # turning at 3-6 deg/s under radars of 0.15 deg; plots of 70-350 m, 5-95 %) a track
    # lost its aircraft at the turn and started again, up to four times in one turn,
    # before the mean reached 2: at 1.5 GOSPA 1,750 -> 1,668 m, id switches 32 -> 23
    # (1.3: 1,642 m, 11; bound at 250 m: 1,731 m). 1.5 for every plot did as much there
    # but cost mass-attack (drone plots of 120-770 m, half beyond 400 m) 3 more missed
    # entries (70 of 286) and 4 more false alerts (14, 1.0 per nation-hour); with the
    # bound its warnings are as before (219 warned, 10 false alerts). scale 200 / 2,000
    # targets: 3,318 -> 3,328 and 11,808 -> 11,816 m; poland-2025-09 992 -> 994 m, its
    # warnings as before.
    nis_manoeuvre_precise: float = 1.5
    nis_precise_reach: float = 400.0
    # Turn-rate estimate (motion.estimate_turn_rate): smoothing time (s, 0 = pure NCV),
    # the least ground speed (m/s) whose heading is trusted, the largest rate (deg/s).
    turn_memory: float = 25.0
    turn_min_speed: float = 15.0
    turn_max_rate: float = 12.0
    # Scale of the acceleration density after a confirmed track misses an update (also
    # bounded by the reach cap above).
    q_miss_scale: float = 16.0
    # Gating: chi-square probability of the validation gate.
    gate_probability: float = 0.9995
    # Kinematic gate: a plot is not associated with a track whose class is settled (at
    # least this many hits, class confidence at least this) when the update would make
    # the track faster than that class flies (classify.CLASS_SPEED_LIMIT: drone 117,
    # helicopter 155 m/s). A coasting track's gate grows with the time since its last
    # plot; without this a drone's track took the plot of the next drone of a stream or
    # of clutter and left at 300-700 m/s (mass-attack).
    speed_gate_hits: int = 5
    speed_gate_confidence: float = 0.4
    # ... and, whatever its class, when the update would make a confirmed radar track
    # (no cooperative id, at least speed_gate_hits hits) faster than speed_jump_ratio
    # times its mean ground speed over its last updates plus speed_jump_margin (m/s): a
    # drone that has flown at 85 m/s is not at 300 m/s a scan later, but a coasting
    # track whose wide gate took another target's plot is. Such tracks, classed as
    # aircraft by the speed they jumped to, escaped the class gate above and warned
    # nations 500 km away (mass-attack: Estonia, Latvia and Lithuania, from over Belarus).
    speed_jump_ratio: float = 2.0
    speed_jump_margin: float = 50.0
    # Cost added to tentative tracks so that confirmed tracks win contested detections.
    tentative_penalty: float = 8.0
    # Batching: detections are processed in windows of this length (s); each track is
    # still predicted to each detection's own time.
    window: float = 1.0
    # Threads that share a large window's gate and update rounds (share.py): 0 is one per
    # core, at most 4; 1 runs everything in the caller. The tracks do not depend on it.
    threads: int = 0
    # Out-of-order detections up to this lag (s) are re-sorted before processing; later
    # ones are applied as out-of-sequence measurements, back to `max_oosm_age`.
    reorder_lag: float = 10.0
    max_oosm_age: float = 600.0
    # Initiation: one-point initiation with this velocity uncertainty (1 sigma, m/s).
    init_sigma_speed: float = 150.0
    init_sigma_vspeed: float = 15.0
    # Altitude assumed for detections without one (2-D radars, 2-D reports), and its sigma.
    assumed_alt: float = 1000.0
    assumed_alt_sigma: float = 3000.0
    # Above this vertical 1-sigma (m) the output altitude is null (unknown).
    alt_max_sigma: float = 300.0
    # Highest speed any target is thought to fly (m/s): bounds gating searches and kills
    # tentative tracks whose velocity is implausible.
    max_speed: float = 700.0
    # Confirmation, a sequential probability ratio test on the track score (lifecycle.py):
    # at least this many hits (2: one plot never tells a target from clutter) ...
    confirm_hits: int = 2
    confirm_hits_cooperative: int = 2
    # ... and a score (sum of log-likelihood ratios target/clutter, less the looks that
    # found nothing) of at least this. Was 30 with 3 hits, which kept a drone at the edge
    # of a long-range radar tentative for minutes (median 24 scans on poland-2025-09). At
    # 14 a radar plot that falls where predicted (+8 to +12) makes a drone confirm on its
    # third plot; from ~22,000 tentative tracks an hour (poland-2025-09) clutter alone
    # then gives about 0.4 confirmed tracks an hour. Replaying that run's tentative
    # tracks, 12 would pass 3 times, 10 about 8 times as many clutter tracks, and even
    # 10 would confirm only 2 of its 19 incursion drones within two scans.
    confirm_score: float = 14.0
    # A tentative track dies after this many revisit periods without a hit. Was 2.5: a
    # drone at the edge of cover (Pd 0.2-0.5 a scan) is seen every third or fourth scan,
    # and each gap killed its track, which restarted from nothing; 4.5 bridged those. On
    # mass-attack, Shaheds 120-190 km from a long-range radar came in plots 10-70 s
    # apart, and at 4.5 (45 s) many a young track died before its third plot: with 6 and
    # 7 the seen entries missed fall from 81 to 72 and 67 (of 286; by alert events alone
    # 99 -> 92 -> 94, lead / possible 57 % -> 73 % -> 75 %), false alerts 5 -> 8 -> 10
    # (at most 0.8 per nation-hour, UKR); 9 gave 71 and 11. A track of one plot dies
    # sooner on its score (six looks that found nothing, lifecycle.sprt_score): the longer
    # life is for tracks whose plots agreed. On poland-2025-09 (at 7) the warnings and
    # GOSPA are unchanged (27 of 27, 991 m), false alerts 2 -> 5 (at most 0.12 per
    # nation-hour); at the airport the gulls' false alerts rise 55 -> 62 (6 and 7 alike).
    tentative_max_gap_scans: float = 7.0
    # ... or at once when its score, less ln(1 - miss_pd) for each revisit that found
    # nothing, falls below this (the SPRT's lower threshold).
    tentative_min_score: float = -4.0
    # A tentative track this close (m, horizontally, beyond the gate) to a confirmed track
    # is taken for that target's plots (lifecycle.explained): a track missing a turning
    # fighter's plots lags it by several hundred metres, and a 2-D plot of a high target
    # placed at the assumed altitude is off in ground range by as much. Without it such
    # plots built a second, false track beside the first (most of the false tracks on
    # poland-2025-09); a new target within it waits until it is clear.
    confirm_clearance: float = 1000.0
    # Two tracks that took plots of one radar in the same window, further apart than
    # confirm_clearance, are two targets (a radar reports a target once a scan), however
    # wide the gates (lifecycle.explained). Off by default: on mass-attack (measured
    # with tentative_max_gap_scans 4.5) it warned 14 more of the 286 seen entries (67
    # missed against 81; median lead / possible by alert events alone 74 % against
    # 57 %; false alerts 6 against 5), but at the
    # airport the gulls, real birds further apart than the clearance, kept more tracks
    # and raised 95 false alerts against 56, and the drones' public warnings were lost
    # (with the bird rule read from class hints, identity_rules.toml: 88 against 55).
    same_scan_split: bool = False
    # Probability of detection assumed for the looks of a tentative track that found
    # nothing (lifecycle.sprt_score). Lower than a radar's nominal Pd on purpose: a new
    # target is most often first seen at the edge of cover, where Pd is about a half.
    miss_pd: float = 0.5
    # A confirmed track coasts after this many revisit periods without a hit ...
    coast_after_scans: float = 1.6
    # ... and is deleted after this long without a hit (s), or this many revisit periods,
    # whichever is longer.
    delete_after: float = 60.0
    delete_after_scans: float = 3.0
    # A confirmed track that coasts is lost until the plots it gets again outweigh the
    # looks that found nothing, each costing ln(1 - lost_pd); it is deleted when that
    # score since the loss falls below lost_min_score (lifecycle.lost_score). A look comes
    # as often as the track's plots came, at least once a revisit. On the manoeuvre mix
    # (aircraft turning at 6 deg/s under six radars) tracks that lost their target lived
    # for minutes on clutter and kept the target's new track waiting beside them: -6
    # takes mean GOSPA from 2,344 to 1,977 m there; -4 gains a little more but cuts the
    # tracks of the 200-target scale run into pieces (27 id switches against 3).
    lost_pd: float = 0.5
    lost_min_score: float = -6.0
    # Coasting tracks are reported at most this often (s); 0 = only on status changes.
    coast_report_period: float = 0.0
    # Emit lines for tentative tracks too (off: tentative tracks are mostly clutter).
    emit_tentative: bool = False
    # Track merging: tracks whose joint position-velocity test passes this many checks
    # in a row, `merge_period` seconds apart, become one.
    merge_period: float = 5.0
    merge_probability: float = 0.99
    merge_checks: int = 2
    # Measurement defaults (when neither the detection nor the registry gives one).
    sigma_range: float = 100.0
    sigma_azimuth: float = 0.5
    sigma_elevation: float = 1.0
    sigma_bearing: float = 5.0
    sigma_velocity: float = 3.0
    # Bearing-only initiation: bearings of different sensors within this time span (s)
    # are triangulated; rays must cross at this angle (deg) or more.
    bearing_span: float = 4.0
    bearing_min_crossing: float = 15.0
    bearing_assumed_height: float = 300.0
    # Spoof check: a cooperative report this far outside the gate (chi-square probability)
    # of a track that radar also supports, this many times in a row, flags the track.
    # Radar supports a track that it updated within radar_support_age seconds and on at
    # least radar_support_hits plots; a report far from a track it does not support moves
    # the track to the report instead.
    spoof_probability: float = 0.999999
    spoof_count: int = 2
    radar_support_age: float = 30.0
    radar_support_hits: int = 3
    # Identity rules file (None: the shipped identity_rules.toml): a deployment's own
    # allow list of friendly ids and its rules. In a settings file or a site file, a
    # relative path is relative to that file.
    identity_rules: str | None = None
    # Track id prefix.
    id_prefix: str = "T"
    scan_period: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCAN_PERIOD))

    def __post_init__(self) -> None:
        positive = (
            "q_horizontal",
            "q_vertical",
            "window",
            "init_sigma_speed",
            "init_sigma_vspeed",
            "assumed_alt_sigma",
            "max_speed",
            "delete_after",
            "merge_period",
            "sigma_range",
            "sigma_azimuth",
            "sigma_elevation",
            "sigma_bearing",
            "sigma_velocity",
            "bearing_span",
            "q_boost",
            "q_scale_max",
            "q_precise_reach",
            "q_noisy_scale_max",
            "nis_manoeuvre",
            "nis_manoeuvre_precise",
            "nis_precise_reach",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(f"tracker setting {name} = {getattr(self, name)} must be > 0")
        for name in ("gate_probability", "merge_probability", "spoof_probability"):
            if not 0.5 < getattr(self, name) < 1.0:
                raise ConfigError(f"tracker setting {name} must lie in (0.5, 1)")
        if self.confirm_clearance < 0:
            raise ConfigError("tracker setting confirm_clearance must be >= 0")
        if not 0.0 <= self.miss_pd < 1.0 or not 0.0 <= self.lost_pd < 1.0:
            raise ConfigError("tracker settings miss_pd and lost_pd must lie in [0, 1)")
        if not self.lost_min_score < 0:
            raise ConfigError("tracker setting lost_min_score must be < 0")
        if self.reorder_lag < 0 or self.max_oosm_age < 0:
            raise ConfigError("tracker settings reorder_lag and max_oosm_age must be >= 0")
        if self.speed_jump_ratio < 1 or self.speed_jump_margin < 0:
            raise ConfigError("tracker settings speed_jump_ratio must be >= 1 and "
                              "speed_jump_margin >= 0")
        if not (isinstance(self.threads, int) and self.threads >= 0):
            raise ConfigError(f"tracker setting threads = {self.threads!r} must be a whole "
                              "number >= 0 (0: one per core)")
        if self.radar_support_hits < 1:
            raise ConfigError("tracker setting radar_support_hits must be >= 1")
        if self.confirm_hits < 1 or self.confirm_hits_cooperative < 1:
            raise ConfigError("tracker settings confirm_hits* must be >= 1")
        if not 0 < self.q_decay <= 1 or not 0 <= self.nis_memory < 1:
            raise ConfigError("tracker settings q_decay in (0, 1], nis_memory in [0, 1)")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrackerConfig:
        """Settings from a mapping (a TOML table); unknown keys are a :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(
                f"unknown tracker setting(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        defaults = cls()
        checked = {k: _setting(k, v, getattr(defaults, k)) for k, v in values.items()}
        return replace(defaults, **checked)


def tracker_table(table: Any, where: str, base: Path | None = None) -> TrackerConfig:
    """A ``[tracker]`` table (of a tracker settings file or a site file) as settings;
    ``identity_rules`` relative to ``base`` (the file's folder). Errors start with
    ``where`` (``file:line: [tracker]``)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of tracker settings")
    values = dict(table)
    rules = values.get("identity_rules")
    if isinstance(rules, str) and base is not None:
        values["identity_rules"] = str(base / rules)
    try:
        return TrackerConfig.from_dict(values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_tracker_file(path: str | Path) -> TrackerConfig:
    """A tracker settings file: TOML holding one ``[tracker]`` table."""
    from ..tomlfile import read_config_text, table_lines

    path = Path(path)
    text, doc = read_config_text(path)
    if set(doc) - {"tracker"}:
        # A misspelt [tracker] would otherwise leave every setting at its default.
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(set(doc) - {'tracker'}))} "
                          "(a tracker settings file holds [tracker])")
    line = (table_lines(text, "tracker") or [1])[0]
    return tracker_table(doc.get("tracker", {}), f"{path}:{line}: [tracker]", path.parent)


def _setting(name: str, value: Any, default: Any) -> Any:
    """``value`` of setting ``name`` as its default's kind, or a :class:`ConfigError`
    naming it: TOML writes inf and nan, and '2' in quotes, which the range checks of
    ``__post_init__`` would let through or fail on with Python's own words."""
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"tracker setting {name} = {value!r}: not a table of sensor "
                              "type = seconds")
        return {k: _setting(f"{name}.{k}", v, 0.0) for k, v in value.items()}
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"tracker setting {name} = {value!r}: not true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"tracker setting {name} = {value!r}: not an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"tracker setting {name} = {value!r}: not a number")
        if not math.isfinite(value):
            raise ConfigError(f"tracker setting {name} = {value}: not a finite number")
        return float(value)
    if not isinstance(value, str):  # the strings, and identity_rules (a path, None unset)
        raise ConfigError(f"tracker setting {name} = {value!r}: not a string")
    return value
