"""Data blocks, FSPECs and item boundaries: bytes in, item offsets out.

A datagram holds one or more data blocks back to back::

    +---------+-----------------+-----------------------------------------------+
    | CAT (1) | LEN (2, b.e.)   | record | record | ...   (LEN counts all three) |
    +---------+-----------------+-----------------------------------------------+

and a record is an FSPEC followed by the items it names (:mod:`.uap`)::

    FSPEC octet:  b7 b6 b5 b4 b3 b2 b1 | FX      b7 = FRN 1 (8k + 1 in octet k), FX = more

Records carry no length, so a malformed one ends its block: the records before it are
kept, the bytes after it cannot be cut into records. :func:`walk` raises
:class:`Malformed` with the reason; nothing here raises anything else on any input.
"""

from __future__ import annotations

from typing import Any

from .uap import COMPOUND, EXPLICIT, EXTENDED, REPETITIVE, REPETITIVE_FX, Spec, Uap

MAX_FSPEC = 8


class Malformed(ValueError):
    """A record or item that cannot be cut from its bytes; ``reason`` is the count key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fspec_table() -> list[list[tuple[int, ...]]]:
    """``TABLE[k][b]``: the FRNs (1-based) set in FSPEC octet ``k`` when it has value ``b``."""
    table = []
    for k in range(MAX_FSPEC):
        row = []
        for b in range(256):
            row.append(tuple(7 * k + j + 1 for j in range(7) if b & (0x80 >> j)))
        table.append(row)
    return table


FSPEC_FRNS = _fspec_table()


def split_blocks(data: bytes) -> tuple[list[tuple[int, int, int]], str | None]:
    """The data blocks of one datagram as ``(cat, start, end)`` (``start`` just after the
    three header octets), and the reason the rest of the datagram was unusable, if any.

    A LEN below 3 or past the end of the datagram leaves no way to find the next block
    in this datagram; the caller counts one rejected unit and goes on with the next.
    """
    blocks: list[tuple[int, int, int]] = []
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 3:
            return blocks, "data block header truncated"
        length = (data[pos + 1] << 8) | data[pos + 2]
        if length < 3:
            return blocks, "data block LEN below 3"
        if pos + length > n:
            return blocks, "data block truncated (LEN past the end of the datagram)"
        blocks.append((data[pos], pos + 3, pos + length))
        pos += length
    return blocks, None


def _skip(data: bytes, i: int, end: int, spec: Spec, name: str) -> int:
    """Offset just past the variable-length item ``spec`` that starts at ``i``."""
    if spec == EXTENDED:
        while True:
            if i >= end:
                raise Malformed(f"item {name} truncated (extended)")
            b = data[i]
            i += 1
            if not b & 1:
                return i
    if spec == EXPLICIT:
        if i >= end:
            raise Malformed(f"item {name} truncated (explicit)")
        size = data[i]
        if size == 0:
            raise Malformed(f"item {name} has explicit length 0")
        return i + size
    if spec is None:
        raise Malformed("FSPEC sets a spare FRN")
    assert isinstance(spec, tuple)
    shape = spec[0]
    if shape == REPETITIVE:
        if i >= end:
            raise Malformed(f"item {name} truncated (repetitive)")
        return i + 1 + data[i] * int(spec[1])
    if shape == REPETITIVE_FX:
        size = int(spec[1])
        while True:
            i += size
            if i > end:
                raise Malformed(f"item {name} truncated (repetitive)")
            if not data[i - 1] & 1:
                return i
    if shape == COMPOUND:
        _, i = compound(data, i, end, spec, name)
        return i
    raise Malformed(f"item {name} has an unknown shape")  # not reached with our tables


def compound(data: bytes, i: int, end: int, spec: tuple[Any, ...], name: str) -> tuple[
        list[int], int]:
    """Offsets of the subitems of a compound item at ``i`` (0 = absent), and its end."""
    _, fspec_max, subitems = spec
    where = [0] * (7 * fspec_max + 1)
    frns: tuple[int, ...] = ()
    k = 0
    while True:
        if i >= end:
            raise Malformed(f"item {name} truncated in its FSPEC")
        b = data[i]
        i += 1
        frns += FSPEC_FRNS[k][b]
        if not b & 1:
            break
        k += 1
        if k >= fspec_max:
            raise Malformed(f"item {name} FSPEC longer than its subitems")
    count = len(subitems)
    for f in frns:
        if f > count:
            raise Malformed(f"item {name} FSPEC sets an undefined subitem")
        s = subitems[f - 1]
        where[f] = i
        i = i + s if s.__class__ is int and s > 0 else _skip(data, i, end, s, name)
        if i > end:
            raise Malformed(f"item {name} truncated")
    return where, i


def walk(data: bytes, i: int, end: int, uap: Uap) -> tuple[list[int], int]:
    """Offsets of the items of the record at ``i`` by FRN (0 = absent), and its end.

    Raises :class:`Malformed` when the FSPEC or an item runs past ``end`` (the end of the
    data block), the FSPEC is longer than the UAP, or it sets a spare FRN.
    """
    items = uap.items
    where = [0] * len(items)
    frns: tuple[int, ...] = ()
    k = 0
    fspec_max = uap.fspec_max
    table = FSPEC_FRNS
    while True:
        if i >= end:
            raise Malformed("record truncated in its FSPEC")
        b = data[i]
        i += 1
        frns += table[k][b]
        if not b & 1:
            break
        k += 1
        if k >= fspec_max:
            raise Malformed("FSPEC longer than the UAP")
    if not frns:
        raise Malformed("record with an empty FSPEC")
    for f in frns:
        s = items[f]
        where[f] = i
        if s.__class__ is int and s > 0:
            i += s
        else:
            i = _skip(data, i, end, s, f"I{uap.cat:03d}/{uap.names[f] or 'spare'}")
    if i > end:
        raise Malformed("item past the end of the data block")
    return where, i
