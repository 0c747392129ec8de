"""The unit properties a new transient scope may be given (`PROP=VALUE`, as `systemd-run -p`
takes them), and how each is turned into the D-Bus type and value that `StartTransientUnit`
expects (stdlib only: this module travels to hosts with the sources).

Only the properties in `PROPERTIES` are accepted: each has a D-Bus signature and a parser
that checks the value the way systemd would, so a bad value is refused here with one
sentence instead of by systemd halfway through a move. Sizes take systemd's suffixes
(K, M, G, T: powers of 1024) and `infinity`; `CPUQuota=` is a percentage of one CPU, sent as
`CPUQuotaPerSecUSec`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from ctrtui.text import display

__all__ = ["PROPERTIES", "PropertyError", "UnitProperty", "parse_properties", "parse_property"]

#: systemd's "no limit" for the 64-bit sizes and counts (CGROUP_LIMIT_MAX, UINT64_MAX).
INFINITY = 2**64 - 1
_SIZE_SUFFIX = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_TRUE = ("1", "yes", "true", "on")
_FALSE = ("0", "no", "false", "off")
_MAX_TEXT = 256


class PropertyError(ValueError):
    """A `PROP=VALUE` that cannot be sent: unknown property, or a value systemd would refuse.
    The message is one sentence naming the property (escaped) and what it accepts."""


class UnitProperty(NamedTuple):
    """One property as sent: its D-Bus name, signature and the busctl arguments of its value."""

    name: str
    signature: str
    args: tuple[str, ...]


def _size(name: str, text: str) -> tuple[str, ...]:
    t = text.strip()
    if t == "infinity":
        return (str(INFINITY),)
    num, unit = t, ""
    if t[-1:].upper() in ("B", "K", "M", "G", "T"):
        num, unit = t[:-1], t[-1:].upper()
    try:
        value = float(num) if "." in num else int(num)
    except ValueError:
        value = -1
    if not num or value < 0 or num.strip() != num:
        raise PropertyError(f"{name}= takes a size in bytes with an optional K, M, G or T suffix, or "
                            f"'infinity' (e.g. {name}=512M), not '{display(text)}'.")
    return (str(int(value * _SIZE_SUFFIX[unit])),)


def _weight(name: str, text: str) -> tuple[str, ...]:
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise PropertyError(f"{name}= takes a weight from 1 to 10000 (100 is the default), not '{display(text)}'.")
    return (str(int(text)),)


def _tasks(name: str, text: str) -> tuple[str, ...]:
    if text == "infinity":
        return (str(INFINITY),)
    if not text.isdigit() or int(text) >= INFINITY:
        raise PropertyError(f"{name}= takes a number of tasks or 'infinity', not '{display(text)}'.")
    return (str(int(text)),)


def _quota(name: str, text: str) -> tuple[str, ...]:
    num = text[:-1]
    if not text.endswith("%") or not num.isdigit() or int(num) < 1:
        raise PropertyError(f"{name}= takes a percentage of one CPU (e.g. {name}=50%, or 200% for two CPUs), "
                            f"not '{display(text)}'.")
    return (str(int(num) * 10_000),)  # microseconds of CPU per second


def _bool(name: str, text: str) -> tuple[str, ...]:
    low = text.lower()
    if low not in _TRUE + _FALSE:
        raise PropertyError(f"{name}= takes yes or no, not '{display(text)}'.")
    return ("true" if low in _TRUE else "false",)


def _description(name: str, text: str) -> tuple[str, ...]:
    if len(text) > _MAX_TEXT or not text.isprintable():
        raise PropertyError(f"{name}= takes printable text of at most {_MAX_TEXT} characters.")
    return (text,)


def _collect(name: str, text: str) -> tuple[str, ...]:
    if text not in ("inactive", "inactive-or-failed"):
        raise PropertyError(f"{name}= takes 'inactive' or 'inactive-or-failed', not '{display(text)}'.")
    return (text,)


_Parser = Callable[[str, str], "tuple[str, ...]"]

#: What `-p PROP=VALUE` accepts: name -> (D-Bus name, signature, parser).
PROPERTIES: dict[str, tuple[str, str, _Parser]] = {
    "CPUWeight": ("CPUWeight", "t", _weight),
    "StartupCPUWeight": ("StartupCPUWeight", "t", _weight),
    "CPUQuota": ("CPUQuotaPerSecUSec", "t", _quota),
    "IOWeight": ("IOWeight", "t", _weight),
    "StartupIOWeight": ("StartupIOWeight", "t", _weight),
    "MemoryMin": ("MemoryMin", "t", _size),
    "MemoryLow": ("MemoryLow", "t", _size),
    "MemoryHigh": ("MemoryHigh", "t", _size),
    "MemoryMax": ("MemoryMax", "t", _size),
    "MemorySwapMax": ("MemorySwapMax", "t", _size),
    "TasksMax": ("TasksMax", "t", _tasks),
    "CPUAccounting": ("CPUAccounting", "b", _bool),
    "MemoryAccounting": ("MemoryAccounting", "b", _bool),
    "IOAccounting": ("IOAccounting", "b", _bool),
    "TasksAccounting": ("TasksAccounting", "b", _bool),
    "Delegate": ("Delegate", "b", _bool),
    "Description": ("Description", "s", _description),
    "CollectMode": ("CollectMode", "s", _collect),
}


def parse_property(text: str) -> UnitProperty:
    """`CPUWeight=50` -> UnitProperty("CPUWeight", "t", ("50",)). Raises PropertyError (one
    sentence) for text without `=`, a property not in PROPERTIES, or a value it refuses."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise PropertyError(f"'{display(text)}' is not PROPERTY=VALUE (e.g. CPUWeight=50 or MemoryMax=1G).")
    known = PROPERTIES.get(name)
    if known is None:
        raise PropertyError(f"'{display(name)}' is not a property ctrtui sets on a scope; it takes "
                            f"{', '.join(PROPERTIES)}.")
    dbus_name, signature, parse = known
    return UnitProperty(dbus_name, signature, parse(name, value.strip()))


def parse_properties(texts: list[str] | tuple[str, ...]) -> list[UnitProperty]:
    """Each of `texts` parsed (see parse_property); a property given twice keeps the last
    value, as systemd-run does."""
    out: dict[str, UnitProperty] = {}
    for text in texts:
        prop = parse_property(text)
        out[prop.name] = prop
    return list(out.values())
