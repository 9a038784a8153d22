"""Read zone files of any supported format, and the shipped zones.

:func:`load_zones` picks the reader from the content: a JSON object with
``"type": "FeatureCollection"`` is GeoJSON (:mod:`.geojson`); a JSON object with
``features`` or ``UASZoneList`` whose items carry ``identifier`` is EUROCAE ED-269
(:mod:`.ed269`); text whose first record is ``AC``/``AN`` is OpenAir (:mod:`.openair`).

Strict reading (the default) raises :class:`~skywarden.errors.ZoneError` at the first bad
feature or line, naming the file, the feature (index and id or name) or the line, and the
reason. Lenient reading (``strict=False``) skips bad features, keeps the good ones and
counts the bad ones by reason in :class:`~.zoneload.ZoneLoad`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..errors import ZoneError
from .ed269 import read_ed269
from .geojson import read_geojson
from .openair import read_openair
from .zoneload import ZoneLoad
from .zones import Zone

SHIPPED_DIR = ("data", "zones")


def detect_format(text: str) -> str:
    """``geojson``, ``ed269`` or ``openair`` from a file's content (ValueError if none)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if isinstance(doc, dict):
            items = doc.get("UASZoneList", doc.get("features"))
            if isinstance(items, list) and items and isinstance(items[0], dict):
                first = items[0]
                props = first.get("properties") if first.get("type") == "Feature" else first
                if isinstance(props, dict) and "identifier" in props:
                    return "ed269"
            if doc.get("type") == "FeatureCollection" or "UASZoneList" in doc:
                return "ed269" if "UASZoneList" in doc else "geojson"
        raise ValueError("JSON but neither a GeoJSON FeatureCollection nor ED-269 "
                         "('features' of UAS zones with an 'identifier')")
    for line in stripped.splitlines():
        record = line.strip()
        if not record or record.startswith("*"):
            continue
        if re.match(r"^(AC|AN|AL|AH|AY|AI)\s", record, re.IGNORECASE):
            return "openair"
        break
    raise ValueError("not a zone file: neither JSON (GeoJSON, ED-269) nor OpenAir "
                     "(records AC, AN, AL, AH, DP...)")


def load_zones(
    path: str | Path,
    *,
    strict: bool = True,
    owner: str = "",
    report: Callable[[str], None] | None = None,
) -> ZoneLoad:
    """Read a zone file (GeoJSON, OpenAir or ED-269, detected from its content).

    ``owner``: alpha-3 nation given to zones whose file names none (OpenAir never does).
    ``report`` is called with each bad feature's message in lenient mode.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")  # OpenAir files are often Latin-1
    except OSError as exc:
        raise ZoneError(str(path), "", f"cannot read it ({exc.strerror or exc})") from exc
    return load_text(text, str(path), strict=strict, owner=owner, report=report)


def load_text(
    text: str,
    name: str,
    *,
    strict: bool = True,
    owner: str = "",
    report: Callable[[str], None] | None = None,
    kind: str | None = None,
) -> ZoneLoad:
    """Like :func:`load_zones` for text in hand; ``name`` is used in messages."""
    try:
        kind = kind or detect_format(text)
    except ValueError as exc:
        raise ZoneError(name, "", str(exc)) from None
    result = ZoneLoad(name, strict=strict, report=report)
    if kind == "geojson":
        read_geojson(text, result, owner=owner)
    elif kind == "ed269":
        read_ed269(text, result, owner=owner)
    elif kind == "openair":
        read_openair(text, result, owner=owner)
    else:
        raise ValueError(f"unknown zone format {kind!r}")
    return result


def shipped_files() -> list[str]:
    """Names of the zone files shipped in ``skywarden/data/zones``."""
    folder = resources.files("skywarden").joinpath(*SHIPPED_DIR)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".geojson"))


@functools.cache
def load_shipped_zones() -> tuple[Zone, ...]:
    """Every shipped zone (docs/AIRSPACE.md lists them with their sources)."""
    zones: list[Zone] = []
    folder = resources.files("skywarden").joinpath(*SHIPPED_DIR)
    for name in shipped_files():
        text = folder.joinpath(name).read_text(encoding="utf-8")
        zones.extend(load_text(text, f"skywarden/data/zones/{name}", kind="geojson").zones)
    return tuple(zones)
