"""Subjects: dotted names with NATS semantics, and the names the pipeline uses.

A subject is tokens joined by dots (``tracks.POL``). A token is not empty and holds no
space, ``.``, ``*`` or ``>``. A subscription pattern may use two wildcards, each a whole
token, as NATS does:

- ``*`` matches exactly one token: ``tracks.*`` matches ``tracks.POL``, not
  ``tracks.POL.N52E023`` nor ``tracks``;
- ``>`` matches one or more tokens and only ends a pattern: ``alerts.>`` matches
  ``alerts.POL`` and ``alerts.POL.4``, not ``alerts``; ``>`` alone matches everything.

A publish subject has no wildcards. (NATS lets ``*`` and ``>`` stand inside a longer token
as plain characters; here that is an error, so a typo cannot pass as a literal.)

Subjects used by the pipeline, built by the helpers below so that the scheme lives here:

=========================  ================================================================
``det.<cell>``             detection batches by sector (the grid cell of the sensor site),
                           so a tracker worker can own sectors: ``det.N52E023``, ``det.>``
``tracks.<nation>``        track update batches by the nation whose airspace the tracks
                           are over (``XXX`` over no nation): ``tracks.POL``, ``tracks.*``
``alerts.<nation>``        alert events for the nation warned: ``alerts.LTU``, ``alerts.>``
``audit``                  audit entries
``sensors.<sensor>``       sensor status
=========================  ================================================================

A sector is a grid cell of whole degrees named by its south-west corner: ``N52E023`` is
52-53 N, 23-24 E (:func:`grid_cell`). It needs no library and reads at a glance; a later
node may use H3 cells with the same subject shape.
"""

from __future__ import annotations

import math
import re

from .errors import SubjectError

__all__ = [
    "alerts",
    "audit",
    "check_pattern",
    "check_subject",
    "detections",
    "grid_cell",
    "matches",
    "safe_token",
    "sensors",
    "tracks",
]

_TOKEN = re.compile(r"[^\s.*>]+")
_UNSAFE = re.compile(r"[\s.*>]+")
_NATION = re.compile(r"[A-Z]{3}")


def check_subject(subject: str) -> tuple[str, ...]:
    """The tokens of a publish subject; :class:`SubjectError` if it is not one."""
    if not isinstance(subject, str) or not subject:
        raise SubjectError(subject, "a subject is a non-empty string")
    tokens = tuple(subject.split("."))
    for token in tokens:
        if not _TOKEN.fullmatch(token):
            raise SubjectError(subject, _why(token, wildcards=False))
    return tokens


def check_pattern(pattern: str) -> tuple[str, ...]:
    """The tokens of a subscription pattern; :class:`SubjectError` if it is not one."""
    if not isinstance(pattern, str) or not pattern:
        raise SubjectError(pattern, "a pattern is a non-empty string")
    tokens = tuple(pattern.split("."))
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        if token == "*" or (token == ">" and i == last):
            continue
        if token == ">":
            raise SubjectError(pattern, "'>' may only be the last token")
        if not _TOKEN.fullmatch(token):
            raise SubjectError(pattern, _why(token, wildcards=True))
    return tokens


def _why(token: str, *, wildcards: bool) -> str:
    if not token:
        return "empty token (two dots, or a dot at an end)"
    if "*" in token or ">" in token:
        if wildcards:
            return f"token {token!r}: a wildcard must be a whole token"
        return f"token {token!r}: wildcards are for subscriptions, not for publishing"
    return f"token {token!r} holds white space"


def tokens_match(pattern: tuple[str, ...], subject: tuple[str, ...]) -> bool:
    """Whether checked pattern tokens match checked subject tokens (NATS rules)."""
    n = len(pattern)
    if pattern[-1] == ">":
        n -= 1
        if len(subject) <= n:
            return False
    elif len(subject) != n:
        return False
    for i in range(n):
        p = pattern[i]
        if p != "*" and p != subject[i]:
            return False
    return True


def matches(pattern: str, subject: str) -> bool:
    """Whether ``pattern`` (with wildcards) matches the publish subject ``subject``."""
    return tokens_match(check_pattern(pattern), check_subject(subject))


def safe_token(text: str) -> str:
    """``text`` made into one token: runs of space, ``.``, ``*``, ``>`` become ``_``."""
    token = _UNSAFE.sub("_", str(text))
    return token or "_"


def grid_cell(lat: float, lon: float, size_deg: int = 1) -> str:
    """The sector holding (lat, lon): a ``size_deg`` whole-degree cell named by its
    south-west corner, ``N52E023``; longitudes wrap to [-180, 180), the pole row is the
    last row below it."""
    if not isinstance(size_deg, int) or not 1 <= size_deg <= 90:
        raise ValueError(f"size_deg must be a whole number of degrees 1-90, not {size_deg!r}")
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90.0 <= lat <= 90.0:
        raise ValueError(f"not a position: lat {lat!r}, lon {lon!r}")
    lon = (lon + 180.0) % 360.0 - 180.0
    south = min(math.floor(lat / size_deg) * size_deg, 90 - size_deg)
    west = math.floor(lon / size_deg) * size_deg
    ns = "N" if south >= 0 else "S"
    ew = "E" if west >= 0 else "W"
    return f"{ns}{abs(south):02d}{ew}{abs(west):03d}"


def _nation(code: str) -> str:
    if not _NATION.fullmatch(code or ""):
        raise SubjectError(str(code), "a nation is an ISO 3166-1 alpha-3 code in capitals")
    return code


def _one_token(text: str, what: str) -> str:
    if len(check_subject(text)) != 1:
        raise SubjectError(text, f"a {what} is one token (no dots)")
    return text


def detections(cell: str) -> str:
    """``det.<cell>``: detection batches of one sector (a :func:`grid_cell` name)."""
    return "det." + _one_token(cell, "cell")


def tracks(nation: str) -> str:
    """``tracks.<nation>``: track update batches over one nation (``XXX``: none)."""
    return "tracks." + _nation(nation)


def alerts(nation: str) -> str:
    """``alerts.<nation>``: alert events for one nation."""
    return "alerts." + _nation(nation)


def audit() -> str:
    """``audit``: audit entries."""
    return "audit"


def sensors(sensor: str) -> str:
    """``sensors.<sensor>``: status of one sensor (its id made a safe token)."""
    return "sensors." + safe_token(sensor)
