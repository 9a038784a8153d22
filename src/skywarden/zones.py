"""``skywarden zones``: list, check, add and end airspace zones and restrictions.

Only argparse is imported at module level: ``skywarden --help`` stays fast.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .airspace.zones import Zone
    from .store import SqliteStore, StoredRestriction

TIME_HELP = ("UTC time: ISO 8601 (2025-09-10T20:00Z, or with an offset +02:00), epoch "
             "seconds, 'now', or now plus or minus a duration (+90m, +6h, +3d; in the past "
             "with '=': --start=-30m)")
DESCRIPTION = """\
Airspace zones: what is restricted, where, how high, when and for whom. A zone is an
outline (polygon or circle) between a floor and a ceiling, with a validity (start, end,
daily hours in UTC or sunrise/sunset), the traffic it binds (all, drones,
noncooperative: no transponder/ADS-B/Remote ID, vfr: general aviation) and its owner
nation. Files: GeoJSON (Skywarden's properties, or openAIP's), OpenAir (openAIP,
gliding: AC/AN/AL/AH/DP/DC/DA/DB) and EUROCAE ED-269 UAS geographical zones (JSON).
Temporary restrictions made here are kept in the store of the data directory
(DIR/skywarden.db), with the service's: a service running on DIR takes them up within a
few seconds, and they are audited with who made them (cli:<login name>). Heights: SFC,
UNL, FL95, '1500 ft AMSL', '300 m AGL', or metres AMSL; AGL is taken as AMSL (terrain is
not modelled). See docs/AIRSPACE.md."""
EXAMPLES = """\
examples:
  skywarden zones list                              the shipped zones (EP R129, Latvia...)
  skywarden zones list --at 2025-09-10T22:00Z       ... and which are in force then
  skywarden zones check my-airspace.txt             read an OpenAir file, name bad ones
  skywarden zones add --data var --name "Closure Rzeszow" --type restricted \\
      --circle 50.110,22.019,15000 --ceiling FL95 --applies all --owner POL --end +6h
  skywarden zones add --data var --name "Drone ban" --type border_buffer \\
      --polygon '54.0,23.5;53.0,23.9;53.0,23.2' --ceiling FL95 --applies drones \\
      --daily SS-SR --start 2025-09-10T20:00Z --end 2025-12-09T22:59Z --owner POL
  skywarden zones end TR-0001 --data var            end it now (the history is kept)"""
DB = "skywarden.db"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .airspace.kinds import APPLIES  # no shapely: the parser is built every run
    from .airspace.restrictions import RESTRICTING_TYPES

    p = sub.add_parser(
        "zones", help="list, check, add and end airspace zones and temporary restrictions",
        description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    zs = p.add_subparsers(dest="zones_command", metavar="ACTION", required=True)

    q = zs.add_parser(
        "list", help="list zones from files, the shipped set and a restriction store",
        description=_para("List zones: those of FILES (default: the zones shipped with "
        "Skywarden), plus the temporary restrictions in the store of --data DIR (made "
        "here or through the service's API; ended ones are listed as ended). With --at, "
        "say which are in force at that time."), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("files", nargs="*", type=Path, metavar="FILE",
                   help="zone files (GeoJSON, OpenAir, ED-269)")
    q.add_argument("--data", type=Path, metavar="DIR",
                   help="the service's data directory (its store, skywarden.db)")
    q.add_argument("--shipped", action="store_true",
                   help="also list the shipped zones when FILES are given")
    q.add_argument("--at", metavar="TIME", help=f"mark the zones in force at TIME ({TIME_HELP})")
    q.add_argument("--active", action="store_true",
                   help="only the zones in force at --at (default: now)")

    q = zs.add_parser(
        "check", help="read zone files and report every bad feature or line",
        description="Read zone files leniently and report each bad feature (GeoJSON, "
        "ED-269: index and id or name) or line (OpenAir) with the reason, then the counts "
        "by reason. Exit status 1 when anything was bad.")
    q.add_argument("files", nargs="+", type=Path, metavar="FILE")
    q.add_argument("--owner", default="", metavar="ISO3",
                   help="nation for zones whose file names none (OpenAir never does)")

    q = zs.add_parser(
        "add", help="make a temporary restriction and store it",
        description=_para("Make a temporary restriction (a zone) in the store of --data "
        "DIR (skywarden.db), checked as the API checks one, audited with cli:<login "
        "name>; a service running on DIR takes it up within a few seconds. Give the "
        "outline as --polygon or --circle; heights, times and the traffic it binds as "
        "below. It is in force from --start (default now) to --end (default: until ended "
        "with 'skywarden zones end')."), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--data", type=Path, required=True, metavar="DIR",
                   help="the service's data directory (its store is made if missing)")
    q.add_argument("--name", required=True, help="what operators will read in alerts")
    q.add_argument("--id", dest="zone_id", help="zone id (default: TR-0001, TR-0002...)")
    q.add_argument("--type", required=True, choices=RESTRICTING_TYPES, help="kind of zone")
    shape = q.add_mutually_exclusive_group(required=True)
    shape.add_argument("--polygon", metavar="'LAT,LON;LAT,LON;...'",
                       help="outline corners in degrees (3 or more; edges are geodesics)")
    shape.add_argument("--circle", metavar="LAT,LON,RADIUS_M",
                       help="centre in degrees and radius in metres (on the geodesic)")
    q.add_argument("--floor", default="SFC", help="lower limit (default SFC)")
    q.add_argument("--ceiling", default="UNL", help="upper limit, e.g. FL95 (default UNL)")
    q.add_argument("--start", default="now", metavar="TIME", help=f"default now; {TIME_HELP}")
    q.add_argument("--end", metavar="TIME", help="default: open until ended")
    q.add_argument("--daily", action="append", default=[], metavar="WINDOW",
                   help="daily hours in UTC, repeatable: 'SR-SS', 'SS-SR', "
                   "'MON-FRI 06:00-18:00', '22:00-04:00' (default: all day)")
    q.add_argument("--applies", default="all", choices=APPLIES,
                   help="traffic it binds (default all)")
    q.add_argument("--owner", default="", metavar="ISO3", help="declaring nation, e.g. POL")
    q.add_argument("--source", default="", help="NOTAM number, order, URL...")
    q.add_argument("--remarks", default="", help="free text for operators")

    q = zs.add_parser(
        "end", help="end a temporary restriction now",
        description="End a restriction in force in the store of --data DIR now, audited "
        "with cli:<login name>; a service running on DIR takes it out of assessment "
        "within a few seconds. The store keeps it, marked ended.")
    q.add_argument("zone_id", metavar="ID")
    q.add_argument("--data", type=Path, required=True, metavar="DIR",
                   help="the service's data directory")


def _para(text: str) -> str:
    return textwrap.fill(text, 88)


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "check": _check, "add": _add, "end": _end}[args.zones_command](args)


def cli_time(text: str, now: float | None = None) -> float:
    """A time from the command line: :func:`.schedule.parse_time`, 'now', '+6h' or
    '-30m' (argparse takes a value that starts with '-' only as ``--start=-30m``)."""
    from .airspace.schedule import parse_time

    now = time.time() if now is None else now
    text = text.strip()
    if text.lower() == "now":
        return now
    m = re.fullmatch(r"([+-])(\d+(?:\.\d+)?)\s*([smhd])", text.lower())
    if m:
        step = float(m[2]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[3]]
        return now + step if m[1] == "+" else now - step
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ValueError(f"{exc}, 'now', or now plus or minus a duration (+6h, -30m)"
                         ) from None


def _list(args: argparse.Namespace) -> int:
    from .airspace.load import load_shipped_zones, load_zones
    from .airspace.zoneset import ZoneSet

    zones: list[Zone] = []
    if not args.files or args.shipped:
        zones.extend(load_shipped_zones())
    for path in args.files:
        zones.extend(load_zones(path).zones)
    stored: dict[str, StoredRestriction] = {}
    if args.data:
        _warn_legacy(args.data)
        if (args.data / DB).is_file():
            store = _store(args.data)
            try:
                stored = {r.zone: r for r in store.restrictions(active_only=False)}
            finally:
                store.close()
        else:
            print(f"note: {args.data / DB} does not exist: no restrictions", file=sys.stderr)
        zones.extend(_stored_zones(stored.values()))
    try:
        at = cli_time(args.at) if args.at else (time.time() if args.active else None)
    except ValueError as exc:
        raise _refused("--at", str(getattr(exc, "reason", exc))) from None
    zone_set = ZoneSet(zones)
    active = None
    if at is not None:
        active = zone_set.active(at)
        for i, z in enumerate(zone_set):  # an ended restriction is in force no longer
            r = stored.get(z.id)
            if r is not None and r.ended is not None:
                active[i] = False
    rows = []
    for i, z in enumerate(zone_set):
        if args.active and active is not None and not active[i]:
            continue
        rows.append(_row(z, None if active is None else bool(active[i]), stored.get(z.id)))
    head = ["id", "type", "applies", "owner", "floor", "ceiling", "from", "to", "daily"]
    if active is not None:
        head.append("in force")
    head.append("name")
    _table(head, rows)
    when = "" if at is None else f", {int(active.sum())} in force at {_fmt(at)}"  # type: ignore[union-attr]
    print(f"{len(zone_set)} zones{when}")
    return 0


def _stored_zones(stored: Iterable[StoredRestriction]) -> list[Zone]:
    from .airspace.geojson import feature_to_zone
    from .errors import ZoneError

    zones = []
    for r in stored:
        try:
            zones.append(feature_to_zone(r.body))
        except (ZoneError, ValueError) as exc:
            print(f"warning: restriction {r.zone} cannot be read back: {exc}", file=sys.stderr)
    return zones


def _row(z: Zone, on: bool | None, r: StoredRestriction | None) -> list[str]:
    row = [z.id, z.type, z.applies, z.owner or "-", str(z.floor), str(z.ceiling),
           _fmt(z.start) or "-", _fmt(z.end) or "-",
           ", ".join(str(w) for w in z.daily) or "-"]
    if on is not None:
        row.append("yes" if on else "no")
    name = z.name
    if r is not None:
        name += f" (restriction by {r.created_by}" + (
            f", ended {_fmt(r.ended)} by {r.ended_by})" if r.ended is not None else ")")
    row.append(name)
    return row


def _fmt(t: float | None) -> str:
    from .airspace.schedule import format_time

    return format_time(t)


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _check(args: argparse.Namespace) -> int:
    from collections import Counter

    from .airspace.load import load_zones

    bad = 0
    for path in args.files:
        result = load_zones(path, strict=False, owner=args.owner,
                            report=lambda m: print(m, file=sys.stderr))
        kinds = Counter(z.type for z in result.zones)
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(result.summary() + (f" ({detail})" if detail else ""))
        bad += result.bad
    return 1 if bad else 0


# Where a refusal of the restriction check (live/restrictions.py) points: its option.
_OPTIONS = {"properties.floor": "--floor", "properties.ceiling": "--ceiling",
            "properties.start": "--start", "properties.end": "--end",
            "properties.type": "--type", "properties.applies": "--applies",
            "properties.owner": "--owner", "properties.daily": "--daily",
            "properties.id": "--id", "properties.name": "--name"}


def _refused(option: str, reason: str) -> Exception:
    from .errors import ZoneError

    name = option.lstrip("-")
    if reason.startswith(f"{name}: "):  # the loader's 'ceiling: ...' once is enough
        reason = reason[len(name) + 2:]
    return ZoneError("", f"option {option}", reason)


def _add(args: argparse.Namespace) -> int:
    from .airspace.load import load_shipped_zones
    from .live.errors import RestrictionError
    from .live.restrictions import make_restriction

    now = time.time()
    shape = "--circle" if args.circle else "--polygon"
    geometry: dict[str, object]
    props: dict[str, object] = {}
    try:
        if args.circle:
            parts = args.circle.split(",")
            if len(parts) != 3:
                raise ValueError("wants LAT,LON,RADIUS_M")
            lat, lon, radius = (float(v) for v in parts)
            geometry = {"type": "Point", "coordinates": [lon, lat]}
            props["radius_m"] = radius
        else:
            points = [[float(v) for v in p.split(",")] for p in args.polygon.split(";")
                      if p.strip()]
            if any(len(p) != 2 for p in points):
                raise ValueError("wants 'LAT,LON;LAT,LON;...'")
            if len({tuple(p) for p in points}) < 3:
                raise ValueError("an outline needs at least 3 different corners")
            ring = [[lon, lat] for lat, lon in points]
            if ring and ring[0] != ring[-1]:
                ring.append(ring[0])
            geometry = {"type": "Polygon", "coordinates": [ring]}
    except ValueError as exc:
        raise _refused(shape, str(exc)) from None
    for option, key in (("--start", "start"), ("--end", "end")):
        text = getattr(args, key)
        if text is None:
            continue
        try:
            props[key] = cli_time(text, now)
        except ValueError as exc:
            raise _refused(option, str(getattr(exc, "reason", exc))) from None
    props.update(name=args.name, type=args.type, floor=args.floor, ceiling=args.ceiling,
                 applies=args.applies, owner=args.owner.upper())
    if args.daily:
        props["daily"] = list(args.daily)
    if args.zone_id:
        props["id"] = args.zone_id
    for key in ("source", "remarks"):
        if getattr(args, key):
            props[key] = getattr(args, key)
    feature = {"type": "Feature", "properties": props, "geometry": geometry}
    _warn_legacy(args.data)
    reserved = {z.id for z in load_shipped_zones()}  # the service's standing zones
    store = _store(args.data)
    try:
        made = make_restriction(store, feature, _actor(), now=now, reserved=reserved)
    except RestrictionError as exc:
        option = shape if exc.where in ("geometry", "feature") else \
            _OPTIONS.get(exc.where, exc.where)
        raise _refused(option, exc.reason) from None
    finally:
        store.close()
    from .airspace.geojson import feature_to_zone

    zone = feature_to_zone(made.body)
    print(f"made {zone.id}: {zone.name}, {zone.type} for {zone.applies}, "
          f"{zone.floor} to {zone.ceiling}, from {_fmt(zone.start)} "
          f"{'until ended' if zone.end is None else 'to ' + _fmt(zone.end)}"
          + (f", daily {', '.join(map(str, zone.daily))}" if zone.daily else "")
          + f" ({args.data / DB}, by {made.created_by})")
    return 0


def _end(args: argparse.Namespace) -> int:
    from .live.restrictions import end_restriction

    _warn_legacy(args.data)
    if not (args.data / DB).is_file():
        from .errors import ConfigError

        raise ConfigError(f"{args.data / DB} does not exist: no restrictions to end")
    store = _store(args.data)
    try:
        r = end_restriction(store, args.zone_id, _actor())
    finally:
        store.close()
    print(f"ended {r.zone} at {_fmt(r.ended)} ({args.data / DB}, by {r.ended_by}); "
          "a service on this directory takes it out of assessment within seconds")
    return 0


def _store(data: Path) -> SqliteStore:
    from .store import SqliteStore

    return SqliteStore(data / DB)


def _actor() -> str:
    """Who runs the command, for the audit log: ``cli:<login name>``."""
    import getpass

    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):
        login = "unknown"
    return f"cli:{login or 'unknown'}"


def _warn_legacy(data: Path) -> None:
    from .airspace.restrictions import LEGACY_FILE

    old = data / LEGACY_FILE
    if old.is_file():
        print(f"warning: {old} is the file store of an earlier version and is no longer "
              f"read: its restrictions are not in force (make them again with 'skywarden "
              f"zones add --data {data}'; restrictions are kept in {data / DB})",
              file=sys.stderr)
