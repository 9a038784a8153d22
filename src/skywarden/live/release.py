"""Releasability: who may see a track or an alert, from the sensors behind it.

Every sensor states whose eyes its data is for (``sensors.toml`` ``releasability``):
``public`` (everyone, the public CAP feeds and anonymous views too), ``allies`` (every
organisation with a nation), ``national`` (its owner only) or a comma list of nations
(``POL,LTU``; the owner always included). A track carries the releasability of *every*
sensor that has ever contributed to it, combined by intersection and sticky for the
track's life: a track once seen by a national-only Polish radar is Polish-only until it
ends, whatever sees it later. An alert about a track carries the track's; a sensor-down
alert carries its sensor's.

Why bitmasks: a combination is an intersection of sets of nations, and the set "every
nation" must stay open-ended (a new ally needs no renumbering). Each set is a row of
bits: bit 0 ``public``, bit 1 "any nation not listed below" (set for ``allies`` and
``public``), then one bit per nation named in the registry (owners and lists). Then
intersection is AND, ``public`` is all ones (the identity of AND), and per tick one
``np.bitwise_and.at`` over the tracker's sensor lists (CSR) folds every contribution
into an array indexed by track serial.

The result is written back in the same grammar: ``public``, ``allies``, a comma list in
alphabetical order (``LTU,POL``), or ``none`` when the intersection is empty (seen by two
nations' national-only sensors: nobody may be shown it).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..sensors import NONE, RELEASABILITY_WORDS, Sensor, SensorRegistry, nations_of, visible
from ..track.output import STATUS_OUT, TrackBatch, take_rows

__all__ = ["NONE", "Releasability", "ReleasabilityTap", "visible", "visible_mask"]

_PUBLIC_BIT = 0
_ANY_BIT = 1  # nations not named in the registry (and every named one: see _encode)


def visible_mask(releasabilities: Iterable[str | None], nation: str | None) -> np.ndarray:
    """:func:`visible` for many rows at once: a boolean array, one per row (each
    distinct mark is parsed once)."""
    rels = list(releasabilities)
    if not rels:
        return np.zeros(0, dtype=bool)
    seen: dict[str | None, bool] = {}
    out = np.empty(len(rels), dtype=bool)
    for i, rel in enumerate(rels):
        ok = seen.get(rel)
        if ok is None:
            ok = seen[rel] = visible(rel, nation)
        out[i] = ok
    return out


class Releasability:
    """Sticky per-track releasability for one registry (see the module docstring).

    :meth:`fold` takes each tracker output batch (rows with their contributing sensors)
    and ANDs the sensors' masks into each track's; :meth:`of_serials` reads the marks of
    tracks back as strings. Not thread-safe: the pipeline worker owns it.
    """

    def __init__(self, registry: SensorRegistry | Iterable[Sensor]) -> None:
        sensors = list(registry)
        named: set[str] = set()
        for s in sensors:
            named.add(s.owner)
            if s.releasability not in RELEASABILITY_WORDS:
                named |= nations_of(s.releasability)
        self.nations: tuple[str, ...] = tuple(sorted(named))
        self._bit = {n: 2 + i for i, n in enumerate(self.nations)}
        self.words = (2 + len(self.nations) + 63) // 64
        self._all = np.full(self.words, np.iinfo(np.uint64).max, dtype=np.uint64)
        self.by_sensor: dict[str, np.ndarray] = {
            s.id: self.encode(s.releasability, s.owner) for s in sensors
        }
        self._track = np.tile(self._all, (0, 1))  # (serials, words); grown on demand
        self._names_key: tuple[str, ...] | None = None
        self._names_masks = np.zeros((0, self.words), dtype=np.uint64)
        self._text: dict[bytes, str] = {}

    # -- sets as bits ----------------------------------------------------------------------

    def encode(self, releasability: str, owner: str) -> np.ndarray:
        """The bit row of one sensor's releasability (its owner always included)."""
        if releasability == "public":
            return self._all.copy()
        row = np.zeros(self.words, dtype=np.uint64)
        if releasability == "allies":
            row[:] = self._all
            row[0] &= ~np.uint64(1 << _PUBLIC_BIT)
            return row
        nations = {owner} if releasability == "national" else nations_of(releasability) | {owner}
        for n in nations:
            b = self._bit[n]
            row[b // 64] |= np.uint64(1 << (b % 64))
        return row

    def decode(self, row: np.ndarray) -> str:
        """A bit row back in the sensors' grammar (``none`` for the empty set)."""
        key = row.tobytes()
        text = self._text.get(key)
        if text is None:
            bits = np.unpackbits(row.view(np.uint8), bitorder="little")
            if bits[_PUBLIC_BIT] and bits[_ANY_BIT]:
                text = "public"
            elif bits[_ANY_BIT]:
                text = "allies"
            else:
                names = [n for n in self.nations if bits[self._bit[n]]]
                text = ",".join(names) if names else NONE
            self._text[key] = text
        return text

    def combine(self, *releasabilities: tuple[str, str]) -> str:
        """The intersection of several (releasability, owner) pairs, as text."""
        row = self._all.copy()
        for rel, owner in releasabilities:
            row &= self.encode(rel, owner)
        return self.decode(row)

    # -- tracks ----------------------------------------------------------------------------

    def _grow(self, serial_max: int) -> None:
        n = self._track.shape[0]
        if serial_max < n:
            return
        size = max(serial_max + 1, 2 * n, 1024)
        grown = np.tile(self._all, (size, 1))
        grown[:n] = self._track
        self._track = grown

    def _masks_for(self, names: tuple[str, ...]) -> np.ndarray:
        if names != self._names_key:
            # A sensor the registry does not know is treated as national to nobody: its
            # data is releasable to no one until it is registered.
            empty = np.zeros(self.words, dtype=np.uint64)
            self._names_masks = np.array(
                [self.by_sensor.get(n, empty) for n in names], dtype=np.uint64
            ).reshape(len(names), self.words)
            self._names_key = names
        return self._names_masks

    def fold(self, batch: TrackBatch) -> None:
        """AND each row's contributing sensors into its track's mask (sticky). Only the
        tracking thread calls this; it alone grows or writes the table."""
        if not len(batch):
            return
        self._grow(int(batch.serial.max()))
        if not batch.sensor_flat.size:
            return
        counts = np.diff(batch.sensor_ptr)
        serial_flat = np.repeat(batch.serial, counts)
        masks = self._masks_for(tuple(batch.sensor_names))[batch.sensor_flat]
        track = self._track
        for w in range(self.words):
            col = np.ascontiguousarray(track[:, w])
            np.bitwise_and.at(col, serial_flat, masks[:, w])
            track[:, w] = col

    def merge(self, survivor: int, absorbed: int, sensors: list[str]) -> None:
        """Two tracks became one: the survivor may be shown only where the absorbed
        track (and the sensors of its last window, given here) could be. Sticky as ever."""
        self._grow(max(survivor, absorbed))
        row = self._track[absorbed].copy()
        for name in sensors:
            row &= self.by_sensor.get(name, np.zeros(self.words, dtype=np.uint64))
        self._track[survivor] &= row

    def rows_of(self, serials: np.ndarray) -> np.ndarray:
        """The (n, words) masks of tracks by serial (``public`` for unseen serials).
        Reads only, so other threads may call it (a mark one tick old at worst)."""
        serials = np.asarray(serials, dtype=np.int64).reshape(-1)
        track = self._track
        out = np.tile(self._all, (serials.size, 1))
        known = serials < track.shape[0]
        out[known] = track[serials[known]]
        return out

    def of_serials(self, serials: np.ndarray) -> list[str]:
        """The releasability text of each track serial."""
        rows = self.rows_of(serials)
        if not len(rows):
            return []
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        texts = [self.decode(u) for u in uniq]
        return [texts[i] for i in inverse.reshape(-1).tolist()]

    def of_sensor(self, sensor: str) -> str:
        """One sensor's releasability as text (``none`` for an unknown sensor)."""
        row = self.by_sensor.get(sensor)
        return NONE if row is None else self.decode(row)

    def forget(self, serials: np.ndarray) -> None:
        """Reset ended tracks' masks (serials are never reused; this only tidies)."""
        serials = np.asarray(serials, dtype=np.int64)
        serials = serials[serials < self._track.shape[0]]
        self._track[serials] = self._all


class ReleasabilityTap:
    """Stands in for the pipeline's tracker: every row the tracker emits, tentative ones
    included, is folded into the tracks' releasability before the pipeline sees it.

    Why: a track's first plots are taken while it is tentative, and the tracker does not
    emit tentative rows by default, so their sensors would be missed (a track started by
    a national radar and confirmed by an allied one would look releasable to allies). The
    live runtime therefore runs the tracker with ``emit_tentative`` on, folds every row
    here, and hands the pipeline only the rows it would have had with it off
    (``hide_tentative``), so the picture and the warnings are those of the file pipeline.
    Everything else is the tracker's own (attribute access is passed through).
    """

    def __init__(self, tracker: object, release: Releasability, *, hide_tentative: bool
                 ) -> None:
        self.inner = tracker
        self.release = release
        self.hide_tentative = hide_tentative
        self._tentative = STATUS_OUT.index("tentative")
        tracker.take_merges()  # type: ignore[attr-defined]  # start recording merges

    def step(self, batch: object, now: float) -> TrackBatch:
        return self._tap(self.inner.step(batch, now))  # type: ignore[attr-defined]

    def flush(self) -> TrackBatch:
        return self._tap(self.inner.flush())  # type: ignore[attr-defined]

    def _tap(self, rows: TrackBatch) -> TrackBatch:
        self.release.fold(rows)
        # A merge hands the absorbed track's data to the survivor: its releasability too.
        names = self.inner.sensors.ids  # type: ignore[attr-defined]
        for m in self.inner.take_merges():  # type: ignore[attr-defined]
            self.release.merge(m.survivor, m.absorbed, [names[i] for i in m.sensors.tolist()])
        if not self.hide_tentative or not len(rows):
            return rows
        keep = np.flatnonzero(rows.status != self._tentative)
        if keep.size == len(rows):
            return rows
        return take_rows(rows, keep)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)
