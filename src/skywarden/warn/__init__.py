"""The warning stage: graduated response per nation, alerts, audit and public warnings.

- :mod:`.input`: the assessment rows the stage reads (numpy columns);
- :mod:`.rules`: per-nation rules files (TOML) -> level per row, playbooks;
- :mod:`.alerts`: the alert state machine (hysteresis, acknowledgement, sensor-down);
- :mod:`.audit`: the append-only, hash-chained audit log;
- :mod:`.cap`, :mod:`.area`: CAP 1.2 messages, their areas, an Atom feed;
- :mod:`.engine`: all of them wired for a pipeline.

docs/WARNING.md describes the contract and the choices.
"""

from .alerts import (
    Acknowledgement,
    Alert,
    AlertConfig,
    AlertState,
    UnknownAlertError,
    step,
)
from .area import Places, circle_area, path_area, rings
from .audit import AuditError, AuditLog, verify
from .cap import CapArea, CapIssuer, CapMessage, CapSettings, cap_feed, cap_xml
from .engine import WarningEngine, WarningOutput
from .input import Assessment
from .rules import Rulebook, RulesError, load_rulebook, load_rules, parse_rules

__all__ = [
    "Acknowledgement",
    "Alert",
    "AlertConfig",
    "AlertState",
    "Assessment",
    "AuditError",
    "AuditLog",
    "CapArea",
    "CapIssuer",
    "CapMessage",
    "CapSettings",
    "Places",
    "Rulebook",
    "RulesError",
    "UnknownAlertError",
    "WarningEngine",
    "WarningOutput",
    "cap_feed",
    "cap_xml",
    "circle_area",
    "load_rulebook",
    "load_rules",
    "parse_rules",
    "path_area",
    "rings",
    "step",
    "verify",
]
