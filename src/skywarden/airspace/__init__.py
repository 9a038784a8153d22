"""Airspace: national borders, zones and restrictions, tested for many points at once.

- :mod:`.borders`: national airspace (Natural Earth land and territorial sea), the
  nation below a point, distance to a border;
- :mod:`.zones`: the :class:`Zone` record (outline, floor, ceiling, schedule,
  applicability, owner, type) and vertical limits;
- :mod:`.zoneset`: :class:`ZoneSet`, all zones as columns, vectorized containment and
  distance to an outline;
- :mod:`.load` with :mod:`.geojson`, :mod:`.openair`, :mod:`.ed269`: zone files;
- :mod:`.restrictions`: the zone types a temporary restriction may have (restrictions
  themselves are kept in the data directory's store: :mod:`skywarden.live.restrictions`,
  made with ``skywarden zones``, :mod:`skywarden.zones`);
- :mod:`.schedule`: validity and daily windows (clock times, sunrise and sunset).

The names below are imported on first use (shapely, pyproj and scipy take most of a
second to load), so ``skywarden --help`` and the light submodules stay fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .borders import Borders, load_borders, load_land
    from .kinds import APPLIES, ZONE_TYPES
    from .load import load_shipped_zones, load_text, load_zones
    from .restrictions import RESTRICTING_TYPES
    from .schedule import DailyWindow, parse_time, parse_window
    from .zoneload import ZoneLoad
    from .zones import Limit, Zone, parse_limit
    from .zoneset import Hits, ZoneSet

_WHERE = {
    "APPLIES": "kinds", "ZONE_TYPES": "kinds",
    "Borders": "borders", "load_borders": "borders", "load_land": "borders",
    "ZoneLoad": "zoneload", "load_shipped_zones": "load", "load_text": "load", "load_zones": "load",
    "RESTRICTING_TYPES": "restrictions",
    "DailyWindow": "schedule", "parse_time": "schedule", "parse_window": "schedule",
    "Limit": "zones", "Zone": "zones", "parse_limit": "zones",
    "Hits": "zoneset", "ZoneSet": "zoneset",
}

__all__ = [
    "APPLIES",
    "Borders",
    "DailyWindow",
    "Hits",
    "Limit",
    "RESTRICTING_TYPES",
    "ZONE_TYPES",
    "Zone",
    "ZoneLoad",
    "ZoneSet",
    "load_borders",
    "load_land",
    "load_shipped_zones",
    "load_text",
    "load_zones",
    "parse_limit",
    "parse_time",
    "parse_window",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
