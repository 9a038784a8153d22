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
into a table of the tracks' masks.

That table holds the tracks the tracker has now, by serial (ascending: serials only
grow, so a new track is appended). Ended tracks leave it (:meth:`Releasability.forget`
for the deleted ones the picture reports, :meth:`Releasability.keep_only` for the
tentative ones the tracker drops without a word, most of them clutter: some 20,000 an
hour on the demo night). Indexing by serial alone grew by every track ever made, and
each tick copied the whole of it: a service up for weeks would have slowed down tick by
tick. A serial the table does not hold (a track that has ended) has no mark: its alert
events keep their alert's last one rather than become visible to anyone.

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
        # (serials ascending, their masks (n, words)): replaced whole when rows come or go,
        # so a reader on another thread always sees a matching pair
        self._table: tuple[np.ndarray, np.ndarray] = (
            np.zeros(0, np.int64), np.zeros((0, self.words), np.uint64))
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

    def _ensure(self, serials: np.ndarray) -> None:
        """Give every serial of ``serials`` a row (``public``: nothing folded yet)."""
        known, masks = self._table
        serials = np.unique(np.asarray(serials, dtype=np.int64))
        if not serials.size:
            return
        if known.size:
            pos = np.minimum(np.searchsorted(known, serials), known.size - 1)
            new = serials[known[pos] != serials]
        else:
            new = serials
        if not new.size:
            return
        if not known.size or new[0] > known[-1]:  # the usual case: new tracks, appended
            rows = np.concatenate([known, new])
            grown = np.concatenate([masks, np.tile(self._all, (new.size, 1))])
        else:  # a serial below the newest (never by the tracker; kept correct anyway)
            rows = np.union1d(known, new)
            grown = np.tile(self._all, (rows.size, 1))
            grown[np.searchsorted(rows, known)] = masks
        self._table = (rows, grown)

    def _index(self, serials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``serials`` in the table, and which of them it holds."""
        known, _ = self._table
        serials = np.asarray(serials, dtype=np.int64).reshape(-1)
        if not known.size:
            return np.zeros(serials.size, np.intp), np.zeros(serials.size, bool)
        pos = np.minimum(np.searchsorted(known, serials), known.size - 1)
        return pos, known[pos] == serials

    def tracks(self) -> int:
        """How many tracks the table holds."""
        return int(self._table[0].size)

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
        self._ensure(batch.serial)
        if not batch.sensor_flat.size:
            return
        counts = np.diff(batch.sensor_ptr)
        row, _ = self._index(np.repeat(batch.serial, counts))
        masks = self._masks_for(tuple(batch.sensor_names))[batch.sensor_flat]
        track = self._table[1]
        for w in range(self.words):
            col = np.ascontiguousarray(track[:, w])
            np.bitwise_and.at(col, row, masks[:, w])
            track[:, w] = col

    def merge(self, survivor: int, absorbed: int, sensors: list[str]) -> None:
        """Two tracks became one: the survivor may be shown only where the absorbed
        track (and the sensors of its last window, given here) could be. Sticky as ever."""
        self._ensure(np.array([survivor, absorbed]))
        (s_row, a_row), _ = self._index(np.array([survivor, absorbed]))
        track = self._table[1]
        row = track[a_row].copy()
        for name in sensors:
            row &= self.by_sensor.get(name, np.zeros(self.words, dtype=np.uint64))
        track[s_row] &= row

    def rows_of(self, serials: np.ndarray) -> np.ndarray:
        """The (n, words) masks of tracks by serial (empty, ``none``, for a serial the
        table does not hold). Reads only, so other threads may call it (a mark one tick
        old at worst)."""
        known, masks = self._table  # one read: a matching pair
        serials = np.asarray(serials, dtype=np.int64).reshape(-1)
        out = np.zeros((serials.size, self.words), dtype=np.uint64)
        if known.size:
            pos = np.minimum(np.searchsorted(known, serials), known.size - 1)
            held = known[pos] == serials
            out[held] = masks[pos[held]]
        return out

    def mark_of(self, serial: int) -> str | None:
        """One track's releasability text, or None when the table does not hold it (the
        track has ended)."""
        known, masks = self._table  # one read: a matching pair (called from any thread)
        if not known.size:
            return None
        pos = min(int(np.searchsorted(known, serial)), known.size - 1)
        return self.decode(masks[pos].copy()) if known[pos] == serial else None

    def of_serials(self, serials: np.ndarray) -> list[str]:
        """The releasability text of each track serial (``none`` for one the table
        does not hold)."""
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
        """Ended tracks leave the table (serials are never reused)."""
        known, masks = self._table
        if known.size:
            keep = ~np.isin(known, np.asarray(serials, dtype=np.int64))
            if not keep.all():
                self._table = (known[keep], masks[keep])

    def keep_only(self, serials: np.ndarray) -> None:
        """Only the tracks ``serials`` stay (the tracker's live ones, and those of the
        rows being published): the others ended, many as tentative tracks the tracker
        dropped without reporting them."""
        known, masks = self._table
        if known.size:
            keep = np.isin(known, np.asarray(serials, dtype=np.int64))
            if not keep.all():
                self._table = (known[keep], masks[keep])


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

    # Every this many steps, the tracks the tracker dropped leave the releasability table.
    PRUNE_EVERY = 100

    def __init__(self, tracker: object, release: Releasability, *, hide_tentative: bool
                 ) -> None:
        self.inner = tracker
        self.release = release
        self.hide_tentative = hide_tentative
        self._tentative = STATUS_OUT.index("tentative")
        self._steps = 0
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
        self._steps += 1
        table = getattr(self.inner, "table", None)
        if table is not None and self._steps % self.PRUNE_EVERY == 0:
            # the rows being returned keep theirs: a deletion is published with its mark
            self.release.keep_only(np.concatenate([table.serial[table.active()], rows.serial]))
        if not self.hide_tentative or not len(rows):
            return rows
        keep = np.flatnonzero(rows.status != self._tentative)
        if keep.size == len(rows):
            return rows
        return take_rows(rows, keep)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)
