"""The zone vocabulary, importable without shapely (the command line builds on it).

Meanings: :mod:`.zones` (module docstring) and docs/AIRSPACE.md.
"""

ZONE_TYPES: tuple[str, ...] = (
    "prohibited", "restricted", "danger", "border_buffer", "critical_site", "airport", "other",
)
APPLIES: tuple[str, ...] = ("all", "drones", "noncooperative", "vfr")
