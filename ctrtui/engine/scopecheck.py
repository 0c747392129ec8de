"""What a new transient scope (`move --scope NAME [--slice SLICE] [-p PROP=VALUE]...`) needs
before systemd is asked, checked the way systemd checks it, each failure one sentence
(`CtrtuiError`): systemd is PID 1 and manages a hierarchy (the backend declares
`SYSTEMD_UNITS`), the scope's and the slice's names are unit names systemd accepts, every
property is one it takes (systemd_props.parse_properties). `scope_target` then says where the
scope's cgroup will be: the slice's cgroup (systemd nests slices by the dashes of their
names; system.slice when none is given, systemd's default for root) and the scope's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ctrtui.engine.values import ScopeRequest
from ctrtui.errors import CtrtuiError
from ctrtui.model import Hierarchy
from ctrtui.model.systemd import slice_path
from ctrtui.sources.base import systemd_units
from ctrtui.sources.systemd import valid_unit_name
from ctrtui.sources.systemd_props import PropertyError, parse_properties
from ctrtui.text import display

__all__ = ["DEFAULT_SLICE", "check_request", "scope_target"]

#: Where systemd puts a transient scope of root's when no slice is given.
DEFAULT_SLICE = "system.slice"


def scope_target(backend: Any, scope: ScopeRequest, hierarchy: Callable[[str], Hierarchy]) -> tuple[Hierarchy, str]:
    """(the hierarchy systemd manages, the cgroup path the new scope will have), or
    CtrtuiError saying what systemd would refuse and what to do."""
    units = systemd_units(backend)
    if units is None:
        raise CtrtuiError("a new scope needs systemd as PID 1 managing the cgroup hierarchy, and this host has none "
                          "(or ctrtui cannot tell): move the tasks into a cgroup with --to instead.")
    check_request(scope)
    h = hierarchy(units.systemd_hierarchy())
    return h, slice_path(scope.slice or DEFAULT_SLICE).rstrip("/") + "/" + scope.name


def check_request(scope: ScopeRequest) -> None:
    """CtrtuiError, one sentence, when systemd would not take `scope`'s name, slice or a
    property (what `scope_target` checks of the request itself; the UI checks as you type)."""
    if not valid_unit_name(scope.name, ".scope"):
        raise CtrtuiError(f"{display(scope.name)!r} is not a scope name systemd accepts: letters, digits and "
                          ":_.\\@- only, ending in .scope (e.g. batch-jobs.scope).")
    if scope.slice is not None and not valid_unit_name(scope.slice, ".slice"):
        raise CtrtuiError(f"{display(scope.slice)!r} is not a slice name systemd accepts (it ends in .slice, e.g. "
                          "batch.slice).")
    try:
        parse_properties(list(scope.properties))
    except PropertyError as e:
        raise CtrtuiError(str(e)) from None
