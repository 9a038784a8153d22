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
    from .restrictions import Restriction
    from .zones import Zone

TIME_HELP = ("UTC time: ISO 8601 (2025-09-10T20:00Z, or with an offset +02:00), epoch "
             "seconds, 'now', or now plus a duration (+90m, +6h, +3d)")
DESCRIPTION = """\
Airspace zones: what is restricted, where, how high, when and for whom. A zone is an
outline (polygon or circle) between a floor and a ceiling, with a validity (start, end,
daily hours in UTC or sunrise/sunset), the traffic it binds (all, drones,
noncooperative: no transponder/ADS-B/Remote ID, vfr: general aviation) and its owner
nation. Files: GeoJSON (Skywarden's properties, or openAIP's), OpenAir (openAIP,
gliding: AC/AN/AL/AH/DP/DC/DA/DB) and EUROCAE ED-269 UAS geographical zones (JSON).
Temporary restrictions made here are kept in DIR/restrictions.jsonl as a history of
'made' and 'ended' events. Heights: SFC, UNL, FL95, '1500 ft AMSL', '300 m AGL', or
metres AMSL; AGL is taken as AMSL (terrain is not modelled). See docs/AIRSPACE.md."""
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


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from .kinds import APPLIES, ZONE_TYPES  # no shapely: the parser is built every run

    p = sub.add_parser(
        "zones", help="list, check, add and end airspace zones and temporary restrictions",
        description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    zs = p.add_subparsers(dest="zones_command", metavar="ACTION", required=True)

    q = zs.add_parser(
        "list", help="list zones from files, the shipped set and a restriction store",
        description=_para("List zones: those of FILES (default: the zones shipped with "
        "Skywarden), plus the temporary restrictions of --data DIR. With --at, say which "
        "are in force at that time."), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("files", nargs="*", type=Path, metavar="FILE",
                   help="zone files (GeoJSON, OpenAir, ED-269)")
    q.add_argument("--data", type=Path, metavar="DIR", help="restriction store directory")
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
        "DIR. Give the outline as --polygon or --circle; heights, times and the traffic it "
        "binds as below. It is in force from --start (default now) to --end (default: "
        "until ended with 'skywarden zones end')."), epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--data", type=Path, required=True, metavar="DIR",
                   help="restriction store directory (created if missing)")
    q.add_argument("--name", required=True, help="what operators will read in alerts")
    q.add_argument("--id", dest="zone_id", help="zone id (default: TR-0001, TR-0002...)")
    q.add_argument("--type", required=True, choices=ZONE_TYPES, help="kind of zone")
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
        "end", help="end a temporary restriction now (or at --at)",
        description="End a restriction of the store: an 'ended' event is appended, the "
        "restriction's zone ends at that time, and the history keeps both events. Ending "
        "before the start cancels it.")
    q.add_argument("zone_id", metavar="ID")
    q.add_argument("--data", type=Path, required=True, metavar="DIR")
    q.add_argument("--at", metavar="TIME", help=f"end time (default now; {TIME_HELP})")


def _para(text: str) -> str:
    return textwrap.fill(text, 88)


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "check": _check, "add": _add, "end": _end}[args.zones_command](args)


def cli_time(text: str, now: float | None = None) -> float:
    """A time from the command line: :func:`.schedule.parse_time`, 'now' or '+6h'."""
    from .schedule import parse_time

    now = time.time() if now is None else now
    text = text.strip()
    if text.lower() == "now":
        return now
    m = re.fullmatch(r"\+(\d+(?:\.\d+)?)\s*([smhd])", text.lower())
    if m:
        return now + float(m[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
    return parse_time(text)


def _list(args: argparse.Namespace) -> int:
    from .load import load_shipped_zones, load_zones
    from .restrictions import RestrictionStore
    from .zoneset import ZoneSet

    zones: list[Zone] = []
    if not args.files or args.shipped:
        zones.extend(load_shipped_zones())
    for path in args.files:
        zones.extend(load_zones(path).zones)
    ended: dict[str, Restriction] = {}
    if args.data:
        store = RestrictionStore(args.data)
        for r in store.restrictions():
            ended[r.zone.id] = r
        for err in store.errors:
            print(f"warning: {err}", file=sys.stderr)
        zones.extend(r.zone for r in ended.values() if not r.cancelled)
    at = cli_time(args.at) if args.at else (time.time() if args.active else None)
    zone_set = ZoneSet(zones)
    active = zone_set.active(at) if at is not None else None
    rows = []
    for i, z in enumerate(zone_set):
        if args.active and active is not None and not active[i]:
            continue
        rows.append(_row(z, None if active is None else bool(active[i]), ended.get(z.id)))
    head = ["id", "type", "applies", "owner", "floor", "ceiling", "from", "to", "daily"]
    if active is not None:
        head.append("in force")
    head.append("name")
    _table(head, rows)
    when = "" if at is None else f", {int(active.sum())} in force at {_fmt(at)}"  # type: ignore[union-attr]
    print(f"{len(zone_set)} zones{when}")
    return 0


def _row(z: Zone, on: bool | None, r: Restriction | None) -> list[str]:
    row = [z.id, z.type, z.applies, z.owner or "-", str(z.floor), str(z.ceiling),
           _fmt(z.start) or "-", _fmt(z.end) or "-",
           ", ".join(str(w) for w in z.daily) or "-"]
    if on is not None:
        row.append("yes" if on else "no")
    name = z.name + (f" (ended {_fmt(r.ended)})" if r is not None and r.ended else "")
    row.append(name)
    return row


def _fmt(t: float | None) -> str:
    from .schedule import format_time

    return format_time(t)


def _table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _check(args: argparse.Namespace) -> int:
    from collections import Counter

    from .load import load_zones

    bad = 0
    for path in args.files:
        result = load_zones(path, strict=False, owner=args.owner,
                            report=lambda m: print(m, file=sys.stderr))
        kinds = Counter(z.type for z in result.zones)
        detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(result.summary() + (f" ({detail})" if detail else ""))
        bad += result.bad
    return 1 if bad else 0


def _add(args: argparse.Namespace) -> int:
    from . import geometry
    from .restrictions import RestrictionStore
    from .schedule import parse_window
    from .zones import Zone, parse_limit

    now = time.time()
    try:
        circle = None
        if args.circle:
            lat, lon, radius = (float(v) for v in args.circle.split(","))
            geom = geometry.circle(lat, lon, radius)
            circle = (lat, lon, radius)
        else:
            points = [tuple(float(v) for v in p.split(",")) for p in args.polygon.split(";")
                      if p.strip()]
            if any(len(p) != 2 for p in points):
                raise ValueError("--polygon wants 'lat,lon;lat,lon;...'")
            geom = geometry.polygon([points])  # type: ignore[list-item]
        floor, ceiling = parse_limit(args.floor), parse_limit(args.ceiling)
        start = cli_time(args.start, now)
        end = cli_time(args.end, now) if args.end else None
        daily = tuple(parse_window(w) for w in args.daily)
    except ValueError as exc:
        from ..errors import ZoneError

        raise ZoneError("", "zones add", str(exc)) from None
    store = RestrictionStore(args.data)
    zone = Zone(id=args.zone_id or store.next_id(), name=args.name, type=args.type,
                geometry=geom, floor=floor, ceiling=ceiling, applies=args.applies,
                owner=args.owner.upper(), start=start, end=end, daily=daily,
                source=args.source, remarks=args.remarks, circle=circle)
    store.make(zone)
    print(f"made {zone.id}: {zone.name}, {zone.type} for {zone.applies}, "
          f"{zone.floor} to {zone.ceiling}, from {_fmt(start)} "
          f"{'until ended' if end is None else 'to ' + _fmt(end)}"
          + (f", daily {', '.join(map(str, daily))}" if daily else "")
          + f" ({store.path})")
    return 0


def _end(args: argparse.Namespace) -> int:
    from .restrictions import RestrictionStore

    store = RestrictionStore(args.data)
    at = cli_time(args.at) if args.at else None
    r = store.end(args.zone_id, at)
    state = "cancelled (ended before it started)" if r.cancelled else \
        f"in force until {_fmt(r.zone.end)}"
    print(f"ended {r.zone.id} at {_fmt(r.ended)}: {state} ({store.path})")
    return 0
