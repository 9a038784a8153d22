"""Scoring tracks against simulator truth: GOSPA and track metrics.

**Time steps.** Scores are taken at the truth's time steps (one truth line per live target
per step, 1 s unless configured). Where the truth skips steps (no live target) the missing
steps are scored as empty, so false tracks there still count; instants before the first
or after the last truth line are not scored. ``step=k`` scores every k-th step only.

**Track estimates.** At a step ``t`` a track's estimate is its latest update at or before
``t``, extrapolated to ``t`` along a straight line in ECEF with its velocity (the chord
differs from a curved path by d^2 / 2R: 1.6 m after 15 s at 300 m/s). A track takes part
when that update is at most ``max_age`` seconds old and its status is not ``deleted``; with
``confirmed_only`` only ``confirmed`` and ``coasting`` tracks take part (a coasting track
is a confirmed track that missed its last look).

**Distance.** Horizontal distance is the straight line between the two points' feet on
the ellipsoid (equal to the geodesic to 1e-9 relative within the cut-off); when the track
has an altitude the vertical difference is added: d = hypot(horizontal, alt_track -
alt_truth). A 2-D track (altitude null) is scored on horizontal distance only.

**GOSPA** (Rahmathullah, Garcia-Fernandez, Svensson, "Generalized optimal sub-pattern
assignment metric", FUSION 2017) between the truth set X and the track set Y of one step,
with cut-off ``c`` (m), order ``p`` and ``alpha`` in (0, 2]::

    d = ( min over assignments  sum_assigned d(x, y)^p
          + c^p * (min(|X|, |Y|) - k) + c^p / alpha * abs(|X| - |Y|) )^(1/p)

where only pairs with d(x, y) < c may be assigned and k is the number assigned. For
``alpha = 2`` this is the usual form  ( sum d^p + c^p / 2 * (missed + false) )^(1/p),
which splits into localisation, missed-target and false-track parts. The optimal
assignment is the same for every alpha (it minimises sum(d^p - c^p)); it is solved with
``scipy.optimize.linear_sum_assignment`` on each connected group of truths and tracks
that lie within ``c`` of each other, single pairs directly.

**Track metrics**, over the scored (step, truth) and (step, track) pairs, using the GOSPA
assignment: mean and RMS position error of assigned pairs; missed-target rate (truth
points with no assigned track); false-track rate (track points with no assigned truth)
and false tracks (track ids never assigned at any scored step, per hour of scored time);
id switches (CLEAR-MOT definition: a target's assigned track id differs from the last
track id it was assigned, even across a gap); coverage (truth points assigned to a
confirmed or coasting track), also over observable truth points only, since a target no
sensor sees cannot be tracked.

**Files.** Both are streamed. Lines may arrive out of time order by up to ``window``
seconds (formats.md says "a few"); later ones are counted as late (truth: dropped; tracks:
still applied if newer than what the track had). A tracks file may be a truth file: a line
with ``target`` and no ``track`` is read as a confirmed track whose id is the target id,
so truth scored against itself gives GOSPA 0, no misses and full coverage.
"""

from .confirm import ConfirmationReport, TargetDelay, confirmation_delays
from .gospa import FloatArray, GospaStep, IntArray, assign, gospa, gospa_from_pairs, gospa_positions
from .report import ScoreReport, StepScores, score_files
from .streams import DEFAULT_MAX_AGE, REORDER_WINDOW, TrackLine, read_tracks

__all__ = [
    "DEFAULT_MAX_AGE",
    "REORDER_WINDOW",
    "FloatArray",
    "IntArray",
    "GospaStep",
    "assign",
    "gospa",
    "gospa_from_pairs",
    "gospa_positions",
    "TrackLine",
    "read_tracks",
    "ScoreReport",
    "StepScores",
    "score_files",
    "ConfirmationReport",
    "TargetDelay",
    "confirmation_delays",
]
