"""Assessment: every track against the nations and zones, now and over the horizon.

``Assessor(borders, zones).assess(tracks, now)`` returns the warning stage's input
(:class:`skywarden.warn.input.Assessment`). How it works: docs/ASSESSMENT.md.
"""

from .assess import Assessor, AssessStats
from .columns import TrackColumns
from .raster import NationRaster

__all__ = ["AssessStats", "Assessor", "NationRaster", "TrackColumns"]
