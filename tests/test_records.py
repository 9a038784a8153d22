"""DetectionBatch columns from records."""

from __future__ import annotations

import numpy as np
import pytest

from skywarden.errors import RecordError
from skywarden.records import DETECTION_KINDS, KIND_CODE, Detection, DetectionBatch

FLOATS = ("lat", "lon", "alt", "sigma_h", "sigma_v", "range", "azimuth", "elevation",
          "sigma_range", "sigma_azimuth", "sigma_elevation", "vel_e", "vel_n", "vel_u")


def _detections(n: int, seed: int) -> list[Detection]:
    """Records whose float fields are, per field, always given, never given, or given
    now and then (most batches hold all three kinds of column)."""
    rng = np.random.default_rng(seed)
    given = {f: rng.choice([0.0, 0.5, 1.0]) for f in FLOATS}
    given["lat"], given["range"] = 1.0, 0.0  # one column of each kind whatever the seed
    given["vel_e"] = 0.5
    out = []
    for i in range(n):
        values = {f: float(rng.uniform(1.0, 80.0)) for f in FLOATS if rng.random() < given[f]}
        out.append(Detection(
            time=1.7e9 + i, sensor=str(rng.choice(["r1", "r2", "adsb"])),
            kind=str(rng.choice(DETECTION_KINDS)),  # type: ignore[arg-type]
            id=str(rng.choice(["", "icao:4CA2D1"])) or None,
            class_hint=rng.choice([None, "drone", "bird"]), **values))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_from_records_gives_each_field_as_a_column(seed):
    dets = _detections(500, seed)
    b = DetectionBatch.from_records(dets, ["adsb", "r1", "r2"])
    for f in FLOATS:
        expected = np.array([np.nan if getattr(d, f) is None else getattr(d, f) for d in dets])
        np.testing.assert_array_equal(getattr(b, f), expected, err_msg=f)
        assert getattr(b, f).dtype == np.float64
    np.testing.assert_array_equal(b.time, [d.time for d in dets])
    assert b.sensor.tolist() == [["adsb", "r1", "r2"].index(d.sensor) for d in dets]
    assert b.kind.tolist() == [KIND_CODE[d.kind] for d in dets]
    assert b.ids.tolist() == [d.id or "" for d in dets]
    assert b.class_hint.tolist() == [d.class_hint or "" for d in dets]
    kinds = {f: np.isnan(getattr(b, f)).mean() for f in FLOATS}
    assert kinds["lat"] == 0.0 and kinds["range"] == 1.0 and 0.0 < kinds["vel_e"] < 1.0


def test_from_records_of_nothing_and_of_an_unknown_sensor():
    empty = DetectionBatch.from_records([], ["r1"])
    assert len(empty) == 0 and empty.lat.shape == (0,) and empty.ids.shape == (0,)
    with pytest.raises(RecordError, match="'r9' is not in the registry"):
        DetectionBatch.from_records([Detection(time=1.0, sensor="r9", lat=1.0, lon=2.0)],
                                    ["r1"])
