"""JSON read with bounds: the command line across several hosts (ctrtui.cli.hosts) reads back
each host's `--json` rows, printed here by the command run against that host's service, to
draw one table or one array. `loads(text)` is the value, or ValueError with a sentence: text
that is not JSON (NaN and Infinity included), more than MAX_CONTAINERS lists and objects
(counted before parsing: an empty list costs 64 bytes for its 3 on the wire), nesting deeper
than MAX_DEPTH, or a number beyond 64 bits. Never RecursionError, never a number that would
overflow whatever formats it.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_CONTAINERS", "MAX_DEPTH", "MAX_INT", "loads", "problem"]

MAX_DEPTH = 8
"""How deep it may nest (a listing is a list of objects, whose fields hold at most a list or
an object of plain values)."""
MAX_CONTAINERS = 262144
"""The most lists and objects it may hold (counted as `[` and `{`, also inside texts)."""
MAX_INT = 2 ** 63
"""Its integers lie in -MAX_INT < x < MAX_INT; its floats are finite and below that too."""


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def problem(value: Any) -> str | None:
    """Why a parsed value cannot be taken as it is (too deep, a number no ctrtui prints), or
    None. Iterative: a deep value cannot make it raise RecursionError."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (list, dict)):
            if depth >= MAX_DEPTH:
                return f"it nests deeper than {MAX_DEPTH} levels"
            stack.extend((x, depth + 1) for x in (v.values() if isinstance(v, dict) else v))
        elif type(v) is int and not -MAX_INT < v < MAX_INT:
            return "it holds an integer beyond 64 bits"
        elif type(v) is float and not (math.isfinite(v) and -MAX_INT < v < MAX_INT):
            return "it holds a number beyond 64 bits"
    return None


def loads(text: str) -> Any:
    """The JSON value of `text`, within the bounds above; ValueError saying why not."""
    if text.count("[") + text.count("{") > MAX_CONTAINERS:
        raise ValueError(f"its JSON holds more than {MAX_CONTAINERS} lists and objects")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ValueError("it is not JSON, or JSON nested too deep to read") from None
    why = problem(value)
    if why is not None:
        raise ValueError(f"its JSON cannot be taken as it is: {why}")
    return value
