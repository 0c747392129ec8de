"""Which cgroups belong to systemd units: the one classifier the engine's hooks, the risk
assessment and the tree all ask (no I/O).

systemd names the cgroup of each unit after the unit: `cron.service`, `session-3.scope`,
`user-1000.slice`. A cgroup whose name ends in one of those suffixes is a unit's cgroup,
and systemd may move tasks back into (or out of) it.
"""

from __future__ import annotations

__all__ = ["UNIT_KINDS", "unit_kind", "systemd_unit"]

#: The systemd unit kinds that own a cgroup, as the suffix of the cgroup's name.
UNIT_KINDS = ("service", "scope", "slice")
_SUFFIXES = tuple("." + k for k in UNIT_KINDS)


def unit_kind(path: str) -> str | None:
    """The unit kind (`service`, `scope`, `slice`) of the cgroup at `path` (or of a bare
    cgroup name) when its own name is a unit's, else None. Only the last component counts:
    `/system.slice/web` is not a unit."""
    if path.endswith(_SUFFIXES):  # the last component's suffix is the path's
        return path[path.rindex(".") + 1:]
    return None


def systemd_unit(path: str) -> str | None:
    """The deepest systemd unit in a cgroup path (`/system.slice/cron.service/x` ->
    `cron.service`), or None when no component of the path is a unit."""
    for part in reversed(path.split("/")):
        if part.endswith(_SUFFIXES):
            return part
    return None
