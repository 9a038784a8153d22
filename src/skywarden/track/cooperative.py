"""Cooperative identities: direct association by id, and the spoof check.

Associate: a detection carrying a cooperative id (``icao:``, ``rid:``) that a track
already holds goes to that track without competing in the GNN: the transponder says
which aircraft it is. The id becomes the track's on the first report the GNN gives it,
so an ADS-B report joins the radar track of the same aircraft, and from then on one
track carries both (tracker._associate_update).

Spoof check: a cooperative report is tested against the track's own prediction,

    d^2 = r^T S^-1 r  >  chi2_dof(P_spoof)          (far outside any plausible gate)

and when the track is also held by radar (a non-cooperative plot within
``radar_support_age`` seconds), the report is not used and counts a strike;
``spoof_count`` strikes in a row flag the track (identity rules may then call it
suspect). A report far from an ADS-B-only track, with no radar to contradict it, is a
jump (a track re-acquired after a gap): the track restarts from it.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np

from . import kernels
from .config import TrackerConfig
from .filter import chi2_table
from .lifecycle import seed_state
from .measure import IS_COOPERATIVE, Measurements
from .table import TrackTable


def held_pairs(
    table: TrackTable, m: Measurements, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(slot, row) of the rows whose id a track holds."""
    with_id = rows[m.coop_bits[rows] > 0]  # the rows with an id (integers, not strings)
    # map calls dict.get in C: no Python frame per row.
    s = np.fromiter(map(table.id_map.get, m.ids[with_id].tolist(), repeat(-1)), np.int64,
                    with_id.size)
    held = s >= 0
    return s[held], with_id[held].astype(np.int64)


def spoof_check(
    table: TrackTable,
    m: Measurements,
    s: np.ndarray,
    j: np.ndarray,
    d2: np.ndarray,
    cfg: TrackerConfig,
) -> tuple[np.ndarray, int, np.ndarray]:
    """Apply the spoof check to pairs (s, j) with gate distances d2.

    Returns which pairs may update their track, how many tracks were newly flagged, and
    which pairs jumped: a far report on a track radar does not hold, whose track is
    started again at the report here (the pair's innovation, formed against the old
    state, no longer holds for it).
    """
    # Radar holds the track: recent plots, and enough of them to be a target, not one
    # plot of clutter whose young track took the aircraft's first report in its wide gate
    # (two departures at Copenhagen were flagged so, a kilometre from their reports).
    strike, jump, newly = kernels.spoof_strikes(
        s, j, d2, chi2_table(cfg.spoof_probability), m.dof, m.time, m.stype, IS_COOPERATIVE,
        table.t_radar, table.radar_hits, table.spoof_strikes, table.spoof,
        float(cfg.radar_support_age), int(cfg.radar_support_hits), int(cfg.spoof_count))
    if jump.any():
        x, P = seed_state(m, j[jump], cfg)
        table.x[s[jump]], table.P[s[jump]] = x, P
        table.t[s[jump]] = m.time[j[jump]]
    return ~strike, newly, jump
