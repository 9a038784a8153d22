"""Detection batches on the bus: the message, and the column work around it.

Detections travel from ``Runtime.ingest`` to the pipeline worker as one
:class:`DetectionsMessage` per sector (``det.<cell>``), each holding a
:class:`~skywarden.records.DetectionBatch` (numpy columns). The local bus hands the object
over without encoding; a network bus would encode the columns (a msgpack map of arrays)
in its codec, and nothing here or in the stages would change.

Batches from different sources may name their sensors in different orders; they are
re-indexed to the registry's order when they come in, so the worker can join them with
one concatenation per column.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import msgspec
import numpy as np

from ..bus import subjects
from ..errors import RecordError
from ..records import DetectionBatch
from ..sensors import SensorRegistry

__all__ = ["DetectionsMessage", "by_sector", "concat", "take", "to_registry"]

_COLUMNS = tuple(f.name for f in fields(DetectionBatch) if f.name != "sensor_ids")


class DetectionsMessage(msgspec.Struct, frozen=True):
    """Detections of one sector from one source, as published on ``det.<cell>``.

    ``batch`` is a :class:`DetectionBatch` (typed ``Any``: msgspec does not know numpy);
    ``received`` is the monotonic wall time of ingest, for the latency histogram.
    """

    batch: Any
    source: str
    received: float


def take(batch: DetectionBatch, index: np.ndarray) -> DetectionBatch:
    """Rows ``index`` (integers or booleans) of a batch."""
    cols = {k: getattr(batch, k)[index] for k in _COLUMNS}
    return DetectionBatch(**cols, sensor_ids=batch.sensor_ids)


def concat(batches: list[DetectionBatch]) -> DetectionBatch | None:
    """One batch from several that share ``sensor_ids`` (None for none)."""
    batches = [b for b in batches if len(b)]
    if not batches:
        return None
    if len(batches) == 1:
        return batches[0]
    cols = {k: np.concatenate([getattr(b, k) for b in batches]) for k in _COLUMNS}
    return DetectionBatch(**cols, sensor_ids=batches[0].sensor_ids)


def to_registry(batch: DetectionBatch, registry: SensorRegistry) -> DetectionBatch:
    """The batch with ``sensor`` indexing the registry's ids; a sensor the registry does
    not hold is a :class:`RecordError` naming it (nothing of the batch is taken)."""
    if tuple(batch.sensor_ids) == registry.ids:
        return batch
    lut = np.array([registry.index.get(s, -1) for s in batch.sensor_ids], dtype=np.int32)
    if len(batch):
        used = np.unique(batch.sensor)
        bad = [batch.sensor_ids[i] for i in used.tolist() if i >= len(lut) or lut[i] < 0]
        if bad:
            raise RecordError(
                f"field sensor: {bad[0]!r} is not in the sensor registry "
                f"({registry.source}); register it in sensors.toml first"
            )
    cols: dict[str, Any] = {k: getattr(batch, k) for k in _COLUMNS}
    cols["sensor"] = lut[batch.sensor] if len(batch) else batch.sensor.astype(np.int32)
    return DetectionBatch(**cols, sensor_ids=registry.ids)


class Sectors:
    """The sector (``det.<cell>`` token) of each registry sensor, computed once.

    A sited sensor's sector is the grid cell of its site, so a tracker worker that owns
    a sector receives every plot of its radars; an unsited one (citizen reports, track
    feeds) goes by the reported position, ``unsited`` when it has none.
    """

    def __init__(self, registry: SensorRegistry) -> None:
        self.cells = np.array(
            [subjects.grid_cell(s.lat, s.lon) if s.sited else "" for s in registry],  # type: ignore[arg-type]
            dtype="<U16",
        )


def by_sector(batch: DetectionBatch, sectors: Sectors) -> list[tuple[str, DetectionBatch]]:
    """The batch split by sector, as (cell, rows) in order of first appearance."""
    if not len(batch):
        return []
    cells = sectors.cells[batch.sensor]
    unsited = np.flatnonzero(cells == "")
    for i in unsited.tolist():
        lat, lon = float(batch.lat[i]), float(batch.lon[i])
        ok = math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
        cells[i] = subjects.grid_cell(lat, lon) if ok else "unsited"
    if (cells == cells[0]).all():
        return [(str(cells[0]), batch)]
    names, first, inverse = np.unique(cells, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [
        (str(names[k]), take(batch, np.flatnonzero(inverse == k)))
        for k in np.argsort(first).tolist()
    ]
