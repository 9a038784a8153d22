"""Temporary restrictions: zones declared at run time (a closure after an incursion, a
drone ban over an event).

They are kept in one place, the store of the data directory (``skywarden.db``,
:mod:`skywarden.store`), audited with who made and ended them. The API (through the live
runtime) and ``skywarden zones add|end|list --data DIR`` read and write them there with
:mod:`skywarden.live.restrictions`, which checks an operator's restriction alike for
both; a running service takes up those made or ended by another process within a few
seconds (:meth:`skywarden.live.Runtime.poll_restrictions`). This module holds what the
light command-line parser needs without loading shapely.

Earlier versions kept the command line's restrictions in ``DIR/restrictions.jsonl``,
which the service never read. That file is no longer read either: the zones command
warns when it finds one (its restrictions are not in force; make them again with
``skywarden zones add``).
"""

from __future__ import annotations

__all__ = ["LEGACY_FILE", "RESTRICTING_TYPES"]

# The zone types a restriction may have: those that restrict (not ``airport``, ``other``).
RESTRICTING_TYPES: tuple[str, ...] = (
    "prohibited", "restricted", "danger", "border_buffer", "critical_site")
LEGACY_FILE = "restrictions.jsonl"
