"""The checks of the agent's requests: each argument's type and range (PIDs aside, which
the host's pid_max bounds: ctrtui/agent/ops.py), cgroup paths absolute and without `.`/`..`,
hierarchy names, lists bounded, unknown arguments refused; and `OpError`, the error answer a
failed check (or a refusal) becomes. Every check raises `OpError("bad-request", sentence)`.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Check = Callable[[str, Any], Any]

__all__ = ["MAX_ITEMS", "MAX_PATH", "OpError", "args", "bad", "bool_", "float_", "int_", "kind", "list_",
           "optional", "path", "str_", "word"]

MAX_PATH = 16384
"""The longest cgroup path or `HIERARCHY:/path` text accepted (characters)."""
MAX_ITEMS = 1_000_000
"""The longest list accepted (PIDs, paths, hierarchy names)."""


class OpError(Exception):
    """A request answered with `{"ok": false}`: `kind` (`bad-request`, `read-only`,
    `not-found`, `os-error`, `internal`), a sentence, the errno name when there is one."""

    def __init__(self, kind: str, message: str, errno: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.errno = errno


def bad(message: str) -> OpError:
    return OpError("bad-request", message)


# ----------------------------------------------------------------------------- checks


def bool_(name: str, v: Any) -> bool:
    if type(v) is not bool:
        raise bad(f"'{name}' must be true or false, not {kind(v)}")
    return v


def int_(lo: int, hi: int) -> Check:
    def check(name: str, v: Any) -> int:
        if type(v) is not int:
            raise bad(f"'{name}' must be an integer, not {kind(v)}")
        if not lo <= v <= hi:
            raise bad(f"'{name}' must be between {lo} and {hi}, not {v}")
        return v
    return check


def float_(lo: float, hi: float) -> Check:
    def check(name: str, v: Any) -> float:
        if type(v) not in (int, float) or not math.isfinite(v):
            raise bad(f"'{name}' must be a number, not {kind(v)}")
        if not lo < v <= hi:
            raise bad(f"'{name}' must be above {lo} and at most {hi}, not {v}")
        return float(v)
    return check


def str_(name: str, v: Any, limit: int = MAX_PATH) -> str:
    if not isinstance(v, str):
        raise bad(f"'{name}' must be a string, not {kind(v)}")
    if len(v) > limit:
        raise bad(f"'{name}' is longer than {limit} characters")
    if "\0" in v:
        raise bad(f"'{name}' holds a NUL character")
    return v


def word(name: str, v: Any) -> str:
    """A hierarchy name or controller (`freezer`, `cpu,cpuacct`, `name=systemd`, `unified`)."""
    word = str_(name, v, 255)
    if not word or "/" in word or any(ord(c) < 32 for c in word):
        from ctrtui.text import display

        raise bad(f"'{name}' is not a hierarchy name: '{display(word)}'")
    return word


def path(name: str, v: Any) -> str:
    """A cgroup path inside a hierarchy: absolute, no `.` or `..` component."""
    path = str_(name, v)
    if not path.startswith("/") or any(p in (".", "..") for p in path.split("/")):
        from ctrtui.text import display

        raise bad(f"'{name}' must be an absolute cgroup path without '.' or '..', not '{display(path)}'")
    return path


def optional(check: Check) -> Check:
    def opt(name: str, v: Any) -> Any:
        return None if v is None else check(name, v)
    return opt


def list_(check: Check, limit: int = MAX_ITEMS) -> Check:
    def many(name: str, v: Any) -> list[Any]:
        if not isinstance(v, list):
            raise bad(f"'{name}' must be a list, not {kind(v)}")
        if len(v) > limit:
            raise bad(f"'{name}' has more than {limit} items")
        return [check(f"{name}[{i}]", x) for i, x in enumerate(v)]
    return many


def kind(v: Any) -> str:
    return {type(None): "null", bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def args(op: str, given: Any, spec: dict[str, Check], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """`given` (a request's arguments) checked against `spec` (name -> check): unknown names
    refused, required present."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise bad(f"the arguments of '{op}' must be an object, not {kind(given)}")
    unknown = sorted(set(given) - set(spec))
    if unknown:
        from ctrtui.text import display

        known = ", ".join(sorted(spec)) or "none"
        raise bad(f"'{op}' takes no argument '{display(unknown[0])}' (it takes: {known})")
    missing = [n for n in required if n not in given]
    if missing:
        raise bad(f"'{op}' needs the argument '{missing[0]}'")
    return {k: spec[k](k, v) for k, v in given.items()}
