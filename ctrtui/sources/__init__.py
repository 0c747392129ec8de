"""Where snapshots come from and where writes go (see base.Backend)."""

from __future__ import annotations

from ctrtui.sources.base import Backend, MembershipFile, TaskHandle, membership_file

__all__ = ["Backend", "MembershipFile", "TaskHandle", "membership_file", "open_backend"]


def open_backend(demo: bool = False) -> Backend:
    """The real /sys/fs/cgroup backend, or with `demo` the simulated demo world."""
    if demo:
        from ctrtui.sources.demo import demo_world

        return demo_world()
    from ctrtui.sources.cgroupfs import CgroupFS

    return CgroupFS()
