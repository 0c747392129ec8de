"""Where snapshots come from and where writes go (see base.Backend).

The protocol classes of `base` are loaded on first use: they need `typing`, which the
command line's fast paths (`ctrtui hierarchies`, `ls`, `tasks`) do not otherwise import.
"""

from __future__ import annotations

__all__ = ["Backend", "MembershipFile", "TaskHandle", "membership_file", "open_backend"]

_FROM_BASE = ("Backend", "MembershipFile", "TaskHandle", "membership_file")


def __getattr__(name: str):
    if name in _FROM_BASE:
        from ctrtui.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_backend(demo: bool | str = False):
    """The real /sys/fs/cgroup backend, or with `demo` the simulated demo world (a `Backend`);
    `demo="hostile"` is the world of hostile names the escaping is tested on."""
    if demo == "hostile":
        from ctrtui.sources.hostile import hostile_world

        return hostile_world()
    if demo:
        from ctrtui.sources.demo import demo_world

        return demo_world()
    from ctrtui.sources.cgroupfs import CgroupFS

    return CgroupFS()
