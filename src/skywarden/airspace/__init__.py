"""Airspace: national borders, zones and restrictions, tested for many points at once."""

from .borders import Borders, load_borders

__all__ = ["Borders", "load_borders"]
