"""The live service's runtime (``skywarden serve``): the pipeline run live in one process.

- :mod:`.runtime`: :class:`Runtime`, clock + bus + store + pipeline, the API's base;
- :mod:`.worker`: the pipeline worker thread and its tick;
- :mod:`.writer`: the store writer, a bus consumer;
- :mod:`.release`: releasability of tracks and alerts (:func:`visible`);
- :mod:`.marks`: newest row per track, next predicted entry;
- :mod:`.restrictions`: restrictions made at run time, checked;
- :mod:`.restore`: what a restart takes back;
- :mod:`.metrics`: the Prometheus registry; :mod:`.settings`: the settings;
- :mod:`.demo`: the demo feed; :mod:`.organisations`: demo organisations and tokens.

:mod:`skywarden.serve` starts it with the API app; docs/SERVICE.md says how to operate
it; docs/API.md is the contract with the API.
"""

from .errors import AlertEndedError, RestrictionError, UnknownRestrictionError
from .release import NONE, Releasability, visible, visible_mask
from .runtime import Runtime
from .settings import Retention, RuntimeSettings

__all__ = [
    "AlertEndedError",
    "NONE",
    "Releasability",
    "RestrictionError",
    "Retention",
    "Runtime",
    "RuntimeSettings",
    "UnknownRestrictionError",
    "visible",
    "visible_mask",
]
