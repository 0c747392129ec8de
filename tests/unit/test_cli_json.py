"""The command line's JSON text (`ctrtui.cli.common.json_text`) is exactly what
`json.dumps(obj, indent=1)` prints, for the rows the commands print and for anything else."""

from __future__ import annotations

import enum
import json
import random

from ctrtui.cli.common import json_text

_FLOATS = [0.1, -0.0, 1e300, float("nan"), float("inf"), float("-inf"), 3.0, 1765000000.123456]


def _value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randrange(-10**20, 10**20)
    if kind == 3:
        return rng.choice(_FLOATS)
    if kind in (4, 5):
        chars = [0x01, 0x22, 0x5C, 0x25, 0x5B, 0x5D, 0x7B, 0xE9, 0x1F600, 0xD800, 0x2028]
        return "".join(chr(rng.choice(chars + [rng.randrange(0x20, 0x7F)])) for _ in range(rng.randrange(6)))
    if kind == 6:
        return {str(rng.randrange(100)) + "%s": _value(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 7:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return tuple(_value(rng, depth + 1) for _ in range(rng.randrange(3)))


def test_any_value_is_printed_as_json_dumps_with_indent_1() -> None:
    rng = random.Random(19)
    for _ in range(3000):
        v = _value(rng, 0)
        assert json_text(v) == json.dumps(v, indent=1)


def test_rows_of_one_shape_nested_or_not_are_printed_as_json_dumps() -> None:
    rng = random.Random(21)
    for _ in range(1500):
        words = ["pid", "cgroup", "%s", "%", "\x01", "é", "a]\x01[b"]
        keys = [rng.choice(words) + str(i) for i in range(rng.randrange(1, 5))]
        rows = [{k: _value(rng, 3 if rng.random() < 0.9 else 0) for k in keys} for _ in range(rng.randrange(5))]
        v = rng.choice([rows, {"rows": rows, "more": [rows, 1]}, [rows, rows], (rows,)])
        assert json_text(v) == json.dumps(v, indent=1)


def test_rows_of_different_shapes_and_odd_values_are_printed_as_json_dumps() -> None:
    class Kind(enum.IntEnum):
        ONE = 1

    cases: list[object] = [
        [{"a": 1, "b": 2}, {"b": 2, "a": 1}],
        [{"a": 1}, {"a": 1, "b": 2}],
        [{"a": Kind.ONE}, {"a": 2}],
        [{1: "x"}, {1: "y"}],
        {1: 2, None: [Kind.ONE]},
        [{"a": []}, {"a": {}}],
        [{"a": [1]}, {"a": {"b": 1}}],
        [{}, {}],
        [],
        {},
    ]
    for v in cases:
        assert json_text(v) == json.dumps(v, indent=1)
