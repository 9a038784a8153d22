"""User Application Profiles: the layout of every item of CAT048, CAT062 and CAT021.

A record is an FSPEC (field specification: one bit per item, in UAP order, seven per
octet; the low bit of each octet, FX, says another FSPEC octet follows) and then the
items it names, back to back, with no lengths in between. So to reach the one item we
need, we must know the length of every item before it, including the ones we never read.
Each item is one of five shapes:

    fixed      n octets                               an ``int``: n
    extended   octets while the low bit (FX) is 1     ``EXTENDED``
    repetitive a count octet, then count x n octets   ``(REPETITIVE, n)``
    rep. FX    n-octet elements while their FX is 1   ``(REPETITIVE_FX, n)``
    explicit   a length octet (counting itself)       ``EXPLICIT`` (SP and RE fields)
    compound   its own FSPEC, then its subitems       ``(COMPOUND, max FSPEC octets, subitems)``

``None`` marks a spare FRN (an FSPEC bit no item may set). The tables are written out
here rather than built from libasterix at import (importing its generated module takes
about 1.4 s); tests/test_ingest_asterix.py derives them from libasterix and checks every
item of every supported edition against these tables.

Editions: the sizes below are the same in CAT048 1.27 to 1.32, CAT062 1.16 to 1.21 and
CAT021 2.2 to 2.7; later editions only add extension octets to extended items (I048/020,
I062/080, I021/040, I021/090), and an extended item here may have any number of them.
CAT021 0.23 to 0.26 (still sent by many ADS-B ground stations) is another UAP altogether,
with three layouts (:data:`CAT021_V023`, :data:`CAT021_V024`, :data:`CAT021_V026`); a
record does not say its edition, so the sensor registry does, per ground station
(``cat021_edition``, :data:`CAT021_EDITIONS`). CAT021 2.1 differs from 2.2 in one item
(its I271 second octet has no FX bit) and is not decoded.
"""

from __future__ import annotations

from typing import Any

from ... import sensors

EXTENDED = -1
EXPLICIT = -2
REPETITIVE = "rep"
REPETITIVE_FX = "repfx"
COMPOUND = "comp"

Spec = int | tuple[Any, ...] | None


class Uap:
    """One category's UAP: ``items[frn]`` is the shape of the item at FRN ``frn`` (1-based;
    index 0 unused) and ``names[frn]`` its name; FSPEC longer than ``fspec_max`` octets is
    malformed."""

    __slots__ = ("cat", "fspec_max", "items", "names", "frn")

    def __init__(self, cat: int, fspec_max: int, table: list[tuple[str, Spec]]) -> None:
        self.cat = cat
        self.fspec_max = fspec_max
        # padded to every bit the longest FSPEC can set, so the walk never indexes past it
        size = 7 * fspec_max + 1
        self.items: list[Spec] = [None] * size
        self.names: list[str] = [""] * size
        self.frn: dict[str, int] = {}
        for frn, (name, spec) in enumerate(table, start=1):
            self.items[frn] = spec
            self.names[frn] = name
            if name != "spare":
                self.frn[name] = frn


CAT048 = Uap(48, 4, [
    ("010", 2), ("140", 3), ("020", EXTENDED), ("040", 4), ("070", 2), ("090", 2),
    ("130", (COMPOUND, 1, (1, 1, 1, 1, 1, 1, 1))),
    ("220", 3), ("240", 6), ("250", (REPETITIVE, 8)), ("161", 2), ("042", 4), ("200", 4),
    ("170", EXTENDED),
    ("210", 4), ("030", (REPETITIVE_FX, 1)), ("080", 2), ("100", 4), ("110", 2),
    ("120", (COMPOUND, 1, (2, (REPETITIVE, 6)))),
    ("230", 2),
    ("260", 7), ("055", 1), ("050", 2), ("065", 1), ("060", 2), ("SP", EXPLICIT),
    ("RE", EXPLICIT),
])

# I062/380 aircraft derived data: 28 subitems (ADR and ID are the ones we read).
I062_380 = (COMPOUND, 4, (
    3, 6, 2, 2, 2, 2, 2, EXTENDED, (REPETITIVE, 15), 2, 2, 7, 2, 2,
    2, 2, 2, 2, 1, 8, 1, 6, 2, 1, (REPETITIVE, 8), 2, 2, 2,
))

CAT062 = Uap(62, 5, [
    ("010", 2), ("spare", None), ("015", 1), ("070", 3), ("105", 8), ("100", 6), ("185", 4),
    ("210", 2), ("060", 2), ("245", 7), ("380", I062_380), ("040", 2), ("080", EXTENDED),
    ("290", (COMPOUND, 2, (1, 1, 1, 1, 2, 1, 1, 1, 1, 1))),
    ("200", 1),
    ("295", (COMPOUND, 5, (1,) * 31)),
    ("136", 2), ("130", 2), ("135", 2), ("220", 2),
    ("390", (COMPOUND, 3, (
        2, 7, 4, 1, 4, 1, 4, 4, 3, 2, 2, (REPETITIVE, 4), 6, 1, 7, 7, 2, 7,
    ))),
    ("270", EXTENDED), ("300", 1),
    ("110", (COMPOUND, 1, (1, 4, 6, 2, 2, 1, 1))),
    ("120", 2), ("510", (REPETITIVE_FX, 3)),
    ("500", (COMPOUND, 2, (4, 2, 4, 1, 1, 2, 2, 1))),
    ("340", (COMPOUND, 1, (2, 4, 2, 2, 2, 1))),
    ("spare", None), ("spare", None), ("spare", None), ("spare", None), ("spare", None),
    ("RE", EXPLICIT), ("SP", EXPLICIT),
])

CAT021 = Uap(21, 7, [
    ("010", 2), ("040", EXTENDED), ("161", 2), ("015", 1), ("071", 3), ("130", 6),
    ("131", 8), ("072", 3), ("150", 2), ("151", 2), ("080", 3), ("073", 3), ("074", 4),
    ("075", 3), ("076", 4), ("140", 2), ("090", EXTENDED), ("210", 1), ("070", 2),
    ("230", 2), ("145", 2), ("152", 2), ("200", 1), ("155", 2), ("157", 2), ("160", 4),
    ("165", 2), ("077", 3), ("170", 6), ("020", 1),
    ("220", (COMPOUND, 1, (2, 2, 2, 1))),
    ("146", 2), ("148", 2),
    ("110", (COMPOUND, 1, (EXTENDED, (REPETITIVE, 15)))),
    ("016", 1), ("008", 1), ("271", EXTENDED), ("132", 1), ("250", (REPETITIVE, 8)),
    ("260", 7), ("400", 1),
    ("295", (COMPOUND, 4, (1,) * 23)),
    ("spare", None), ("spare", None), ("spare", None), ("spare", None), ("spare", None),
    ("RE", EXPLICIT), ("SP", EXPLICIT),
])


def _cat021_v02(position: int, since_026: bool) -> Uap:
    """The CAT021 0.2x UAP: I130 of ``position`` octets (6 in 0.23, 8 from 0.24 on);
    0.26 adds I070 and I131 (signal amplitude) at FRN 27 and 28."""
    table: list[tuple[str, Spec]] = [
        ("010", 2), ("040", 2), ("030", 3), ("130", position), ("080", 3), ("140", 2),
        ("090", 2), ("210", 1), ("230", 2), ("145", 2), ("150", 2), ("151", 2), ("152", 2),
        ("155", 2), ("157", 2), ("160", 4), ("165", EXTENDED), ("170", 6), ("095", 1),
        ("032", 1), ("200", 1), ("020", 1),
        ("220", (COMPOUND, 1, (2, 2, 2, 1))),
        ("146", 2), ("148", 2),
        ("110", (COMPOUND, 1, (EXTENDED, (REPETITIVE, 15)))),
    ]
    table += [("070", 2), ("131", 1)] if since_026 else [("spare", None)] * 2
    table += [("spare", None)] * 5 + [("RE", EXPLICIT), ("SP", EXPLICIT)]
    return Uap(21, 5, table)


CAT021_V023 = _cat021_v02(6, since_026=False)
CAT021_V024 = _cat021_v02(8, since_026=False)  # 0.24 and 0.25
CAT021_V026 = _cat021_v02(8, since_026=True)

UAPS = {48: CAT048, 62: CAT062, 21: CAT021}
# CAT021 editions a sensor may name (registry ``cat021_edition``, whose names these are),
# and their UAPs: the 2.x ones share CAT021.
_OLD_CAT021 = {"0.23": CAT021_V023, "0.24": CAT021_V024, "0.25": CAT021_V024,
               "0.26": CAT021_V026}
CAT021_EDITIONS: dict[str, Uap] = {name: _OLD_CAT021.get(name, CAT021)
                                   for name in sensors.CAT021_EDITIONS}
