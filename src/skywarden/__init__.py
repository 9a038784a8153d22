"""Skywarden: a common air picture and early-warning system.

Data flows one way: ingest -> track -> assess -> warn -> publish, with the simulator as a
source like any other and scoring at the end. See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
