"""Which systemd unit owns a cgroup: the one classifier the engine's hooks, the risk
assessment, the systemd client (ctrtui/sources/systemd.py) and the tree all ask. Pure
functions on paths, no I/O, stdlib only (it travels with the sources).

systemd names the cgroup of each unit after the unit: `cron.service`, `session-3.scope`,
`user-1000.slice` (escaped by cg_escape: a `_` before a name that starts with `_` or `.`
or reads as a kernel file). A cgroup whose name ends in a unit suffix is that unit's
cgroup; a cgroup below it (a delegated subtree) belongs to the same unit. Whether the unit
is delegated is systemd's to say (its `Delegate` property), not the path's.
"""

from __future__ import annotations

__all__ = ["UNIT_KINDS", "UNIT_SUFFIXES", "slice_path", "systemd_unit", "unit_kind", "unit_place"]

#: The systemd unit kinds the tree marks, as the suffix of the cgroup's name.
UNIT_KINDS = ("service", "scope", "slice")
#: Unit kinds that own a cgroup, by suffix (a socket, mount or swap has one while its
#: command runs); their D-Bus interface is `org.freedesktop.systemd1.<Kind>`.
UNIT_SUFFIXES = {".service": "Service", ".scope": "Scope", ".slice": "Slice", ".socket": "Socket",
                 ".mount": "Mount", ".swap": "Swap"}


def _cg_unescape(name: str) -> str:
    """A cgroup directory name back to the unit name systemd escaped it from (cg_escape puts
    `_` before a name that starts with `_` or `.`, or reads as a kernel file)."""
    return name[1:] if name.startswith("_") else name


def unit_place(path: str) -> tuple[str, str, str] | None:
    """(unit, kind, subcgroup) of the nearest unit at or above the cgroup `path` (relative to
    systemd's hierarchy root): `/system.slice/x.scope/a/b` -> (`x.scope`, `scope`, `a/b`).
    None when no component names a unit (the root, or a cgroup made by hand at the top)."""
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts) - 1, -1, -1):
        name = _cg_unescape(parts[i])
        for suffix in UNIT_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                return name, suffix[1:], "/".join(parts[i + 1:])
    return None


def unit_kind(path: str) -> str | None:
    """The unit kind (`service`, `scope`, `slice`, `socket`, `mount`, `swap`) of the cgroup
    at `path` (or of a bare cgroup name) when its own name is a unit's, else None. Only the
    last component counts: `/system.slice/web` is not a unit."""
    found = unit_place(path.rsplit("/", 1)[-1])
    return found[1] if found is not None else None


def systemd_unit(path: str) -> str | None:
    """The deepest systemd unit in a cgroup path (`/system.slice/cron.service/x` ->
    `cron.service`), or None when no component of the path is a unit."""
    found = unit_place(path)
    return found[0] if found is not None else None


def slice_path(slice: str) -> str:
    """The cgroup of a slice unit, as systemd nests slices by the dashes of their names:
    `a-b.slice` -> `/a.slice/a-b.slice`; `-.slice` (the root slice) -> `/`."""
    stem = slice[:-len(".slice")] if slice.endswith(".slice") else slice
    if stem in ("", "-"):
        return "/"
    parts = stem.split("-")
    return "".join("/" + "-".join(parts[:i + 1]) + ".slice" for i in range(len(parts)))
