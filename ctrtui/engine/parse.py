"""Reading a PID the user typed, stricter than the kernel.

The kernel strips whitespace and reads the rest with `kstrtoint(buf, 0)`: `015616` is octal
(PID 7054), `0x1f` is hexadecimal, `+5` is 5, `0` is the writer itself. A person who types
`015616` means 15616, so ctrtui accepts only canonical decimal (digits, no sign, no leading
zero), surrounded at most by whitespace, and rejects everything else with a sentence before
anything reaches the kernel. `kernel_parse` models the kernel's reading; the tests prove that
whatever `parse_pid` accepts is exactly what the kernel would take.
"""

from __future__ import annotations

import re

from ctrtui.errors import CtrtuiError
from ctrtui.model.value import Value
from ctrtui.text import display

__all__ = ["INT_MAX", "PidParseError", "kernel_parse", "parse_pid", "read_pid_max"]

INT_MAX = 2**31 - 1
WRITE_MAX = 4096
"""The kernel takes at most this many bytes in one membership write (then E2BIG)."""
_ASCII_SPACE = " \t\n\v\f\r"
_KERNEL_SPACE = frozenset(b" \t\n\v\f\r\xa0")  # lib/ctype.c marks 0xA0 as space too
_CANONICAL = re.compile(r"[1-9][0-9]*", re.ASCII)


class _Why(Value):
    """Why a text is not a PID ctrtui will write: errno name, reason, advice."""

    __slots__ = ("errno", "reason", "advice")
    errno: str | None
    reason: str
    advice: str


class PidParseError(CtrtuiError):
    """A PID the user gave that ctrtui will not send to the kernel. `errno` is what the
    kernel would have answered (None when the kernel would have taken it as some other
    PID, e.g. octal), `advice` says what to type instead."""

    def __init__(self, text: str, errno: str | None, reason: str, advice: str) -> None:
        super().__init__(reason)
        self.text = text
        self.errno = errno
        self.reason = reason
        self.advice = advice


def read_pid_max(path: str = "/proc/sys/kernel/pid_max", default: int = 32768) -> int:
    """The system's pid_max (the largest PID + 1 a task can get)."""
    try:
        with open(path, "rb") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return default


def kernel_parse(data: bytes) -> int | None:
    """What the kernel does with `data` written to `cgroup.procs`/`tasks`: the integer it
    takes (0 = the writer itself; above pid_max the lookup then fails with ESRCH), or None
    when the write fails with EINVAL (or E2BIG for more than 4096 bytes).

    A model of `strstrip()` + `kstrtoint(s, 0)` + `pid < 0` (lib/kstrtox.c)."""
    if len(data) > WRITE_MAX:
        return None
    s = data.split(b"\0", 1)[0]  # the kernel sees a C string
    start, end = 0, len(s)
    while end > start and s[end - 1] in _KERNEL_SPACE:
        end -= 1
    while start < end and s[start] in _KERNEL_SPACE:
        start += 1
    s = s[start:end]
    negative = s[:1] == b"-"
    if negative:
        s = s[1:]
    elif s[:1] == b"+":
        s = s[1:]
    if s[:1] == b"0":
        if s[1:2].lower() == b"x" and s[2:3] and s[2:3] in b"0123456789abcdefABCDEF":
            base, s = 16, s[2:]
        else:
            base = 8
    else:
        base = 10
    value, used = 0, 0
    for ch in s:
        c = chr(ch).lower()
        digit = int(c, 16) if c in "0123456789abcdef" else 99
        if digit >= base:
            break
        value = value * base + digit
        used += 1
    if used == 0 or value >= 2**64:
        return None
    rest = s[used:]
    if rest[:1] == b"\n":
        rest = rest[1:]
    if rest:
        return None
    if negative:
        value = -value
    if not -(2**31) <= value <= INT_MAX or value < 0:
        return None
    return value


def _why_not(text: str, pid_max: int) -> _Why | None:
    """None when `text` is a canonical PID in range, else why not."""
    if len(text.encode("utf-8", "surrogatepass")) > WRITE_MAX:
        return _Why("E2BIG", f"'{display(text[:20])}'... is not a PID: it is longer than 4096 bytes.",
                    "Give one PID in decimal, e.g. 1234.")
    core = text.strip(_ASCII_SPACE)
    if not core:
        return _Why("EINVAL", f"'{display(text)}' is not a PID: it is blank.", "Give a PID in decimal, e.g. 1234.")
    if _CANONICAL.fullmatch(core):
        value = int(core)
        if value > INT_MAX:
            return _Why("EINVAL", f"{core} is not a PID: it is larger than {INT_MAX}, the "
                        "largest integer the kernel reads.", f"PIDs on this system are at most {pid_max - 1}.")
        if value >= pid_max:
            return _Why("ESRCH", f"PID {core} is above this system's pid_max ({pid_max}): no task can have it.",
                        f"PIDs on this system are at most {pid_max - 1}; check the number.")
        return None
    kernel = kernel_parse(core.encode("utf-8", "surrogatepass"))
    if kernel == 0:
        return _Why(None, f"'{display(core)}' is not a PID ctrtui will send: to the kernel 0 means 'the writer "
                    "itself', which would move ctrtui's own process.", "Give the PID of the task to move.")
    if core[:1] in "+-":
        rest = core[1:]
        if core[0] == "-" and rest and rest.isascii() and rest.isdigit():
            return _Why("EINVAL", f"'{display(core)}' is not a PID: PIDs are never negative.",
                        "Give a positive PID, e.g. 1234.")
        hint = f" (the kernel would read it as {kernel})" if kernel else ""
        return _Why(None if kernel else "EINVAL", f"'{display(core)}' is not a PID: no sign is allowed{hint}.",
                    f"Write the digits only{', e.g. ' + str(kernel) if kernel else ''}.")
    if core[:1] == "0" and core.isascii() and (core.isdigit() or core[1:2] in "xX"):
        hexa = core[1:2] in "xX"
        style = "hexadecimal" if hexa else "octal"
        meant = core.lstrip("0") or "0"
        if kernel is not None:
            note = f"the kernel would read it as {style}, PID {kernel} -- a different task"
        else:
            note = f"the kernel would read it as {style} and refuse it"
        advice = "Write the PID in decimal without leading zeros" + (f", e.g. {meant}." if meant.isdigit() else ".")
        return _Why(None if kernel is not None else "EINVAL", f"'{display(core)}' is not a PID ctrtui accepts: "
                    f"it has a leading zero, and {note}.", advice)
    return _Why("EINVAL", f"'{display(text)}' is not a PID: only decimal digits are allowed.",
                "Give a PID in decimal, e.g. 1234.")


def parse_pid(item: int | str, pid_max: int | None = None) -> int:
    """The PID in `item` (an int, or text as the user typed it), or PidParseError with a
    sentence. `pid_max` defaults to this system's. Accepts only 1..pid_max-1 written in canonical decimal (surrounding
    whitespace allowed); never returns something the kernel would read differently."""
    if pid_max is None:
        pid_max = read_pid_max()
    if type(item) is int and 0 < item < pid_max:
        return item  # an int's decimal text is canonical: nothing to check
    if isinstance(item, bool) or not isinstance(item, (int, str)):
        raise PidParseError(repr(item), "EINVAL", f"{item!r} is not a PID.", "Give a PID in decimal, e.g. 1234.")
    text = str(item)
    why = _why_not(text, pid_max)
    if why is not None:
        raise PidParseError(text, why.errno, why.reason, why.advice)
    return int(text.strip(_ASCII_SPACE))
