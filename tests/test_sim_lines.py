"""The fixed-point JSON line encoder (skywarden.sim.lines)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from skywarden.sim.lines import LineFormat, Num, Text, compact, merge_sorted, text_table


def test_numbers_round_to_fixed_decimals_and_parse_back():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.uniform(-180, 180, 5000), [0.0, -0.0, 1e-9, -1e-9, 179.99999996, -0.00000004]]
    )
    fmt = LineFormat(Num('{"x":', 7, 3), "}\n")
    lines = compact(fmt.rows(x.size, [x])).decode().splitlines()
    assert len(lines) == x.size
    for line, v in zip(lines, x, strict=True):
        text = line[len('{"x":') : -1]
        assert text == f"{round(v, 7):.7f}".replace("-0.0000000", "0.0000000")
        assert json.loads(line)["x"] == pytest.approx(v, abs=5e-8)


def test_integer_columns_are_taken_as_scaled():
    fmt = LineFormat(Num('{"time":', 3, 10), "}\n")
    out = compact(fmt.rows(2, [np.array([1757449800123, 5], dtype=np.int64)]))
    assert out == b'{"time":1757449800.123}\n{"time":0.005}\n'


def test_too_many_digits_and_nan_are_errors():
    fmt = LineFormat(Num('{"a":', 1, 3), "}\n")
    with pytest.raises(ValueError):
        fmt.rows(1, [np.array([1000.0])])
    with pytest.raises(ValueError):
        fmt.rows(1, [np.array([np.nan])])


def test_optional_fields_and_text_tables():
    table = text_table([None, 'a"b', "cc"], ',"id":{}')
    fmt = LineFormat(
        Num('{"v":', 1, 2), Num(',"e":', 2, 2, optional=True), Text(table.shape[1]), "}\n"
    )
    rows = fmt.rows(
        3,
        [
            np.array([1.0, 2.0, 3.0]),
            (np.array([0.5, np.nan, -0.25]), np.array([True, False, True])),
            (table, np.array([0, 1, 2])),
        ],
    )
    lines = [json.loads(x) for x in compact(rows).splitlines()]
    assert lines == [
        {"v": 1.0, "e": 0.5},
        {"v": 2.0, "id": 'a"b'},
        {"v": 3.0, "e": -0.25, "id": "cc"},
    ]


def test_merge_sorted_orders_by_key_stably_across_layouts():
    a = LineFormat(Num('{"t":', 0, 3), ',"a":1}\n')
    b = LineFormat(Num('{"t":', 0, 3), ',"bbbbbb":2}\n')
    ka, kb = np.array([5, 1, 3]), np.array([2, 3, 0])
    data, n = merge_sorted([(ka, a.rows(3, [ka])), (kb, b.rows(3, [kb]))])
    got = [json.loads(x) for x in data.splitlines()]
    assert n == 6
    assert [g["t"] for g in got] == [0, 1, 2, 3, 3, 5]
    assert "a" in got[3] and "bbbbbb" in got[4]  # equal keys keep block order
