"""The base of the model's immutable value classes.

Why not `@dataclass(frozen=True, slots=True)` (issue 9 asked for dataclasses unless they cost
more than 5 ms of start-up): importing `dataclasses` (which imports `inspect`) and creating
the model's eleven classes, each with generated and `exec`-compiled methods, adds ~11 ms to
every `ctrtui` start, and the engine's ten value classes ~14 ms more to the commands that
build an engine (`python -m benchmarks.stdlib`; figures in benchmarks/RESULTS.md). Plain
classes with `__slots__` and a hand-written `__init__` are compiled once into the `.pyc` and
cost nothing to create. Behaviour is what the dataclasses gave: keyword or positional
construction, immutability, equality and hash over the compared fields, a readable repr,
pickling and copying, and `replace(**changes)` for `dataclasses.replace`."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from typing import Any, Self

__all__ = ["Value", "set_field"]

set_field = object.__setattr__
"""Sets a field of a new value in its `__init__` (the only place a value is written)."""


class Value:
    """Immutable value: subclasses list their fields in `__slots__` (in constructor order)
    and either write an `__init__` that sets them with `set_field` (for classes built in hot
    loops) or use the generic one, with defaults in `_defaults`. `_compare` names the
    fields that take part in `==` and `hash` (default: all)."""

    __slots__ = ()
    _compare: tuple[str, ...] | None = None
    _defaults: dict[str, object] = {}

    def __init__(self, *args: object, **kw: object) -> None:
        fields = self._fields
        name = type(self).__name__
        if len(args) > len(fields):
            raise TypeError(f"{name}() takes {len(fields)} arguments, {len(args)} were given")
        values = dict(zip(fields, args))
        for k, v in kw.items():
            if k in values:
                raise TypeError(f"{name}() got multiple values for argument {k!r}")
            if k not in fields:
                raise TypeError(f"{name}() got an unexpected keyword argument {k!r}")
            values[k] = v
        defaults = self._defaults
        for n in fields:
            if n in values:
                set_field(self, n, values[n])
            elif n in defaults:
                set_field(self, n, defaults[n])
            else:
                raise TypeError(f"{name}() missing required argument: {n!r}")

    def __init_subclass__(cls, **kw: object) -> None:
        super().__init_subclass__(**kw)
        fields: tuple[str, ...] = ()
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            fields += (slots,) if isinstance(slots, str) else tuple(slots)
        cls._fields = fields
        if cls.__dict__.get("_compare") is None:
            cls._compare = fields

    _fields: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is immutable")

    def _key(self) -> tuple[object, ...]:
        return tuple([getattr(self, n) for n in self._compare or ()])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Value) and other.__class__ is self.__class__:
            return self._key() == other._key()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Value) and other.__class__ is self.__class__:
            return self._key() != other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple([getattr(self, n) for n in self._fields]))

    def to_dict(self) -> dict[str, object]:
        """Field name -> value (not recursive)."""
        return {n: getattr(self, n) for n in self._fields}

    def replace(self, **changes: object) -> Self:
        """A copy with some fields changed (what `dataclasses.replace` did)."""
        values = {n: getattr(self, n) for n in self._fields}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values.update(changes)
        return type(self)(**values)
