"""Track: fuse detections of every kind from many sensors into tracks.

Public surface::

    Tracker(registry, config=None).step(batch, now) -> TrackBatch   # .updates() -> records
    Tracker.flush() -> TrackBatch
    TrackerConfig(...)                                             # every tunable
    track_file(detections, sensors, out, *, strict=False, progress=None, config=None)
        -> TrackSummary

The steps (predict, gate, associate, update, initiate, delete) live in their own modules:
motion, measure, filter, associate, lifecycle, bearing, classify; the table of tracks in
table; windows and the reorder buffer in window.
"""

from .config import TrackerConfig
from .output import TrackBatch, TrackerStats
from .run import TrackSummary, track_file
from .tracker import Tracker

__all__ = ["TrackBatch", "TrackSummary", "Tracker", "TrackerConfig", "TrackerStats", "track_file"]
