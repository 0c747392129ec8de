"""The real cgroup backend on a host where systemd is PID 1 and manages the hierarchy:
`SystemdCgroupFS` is a `CgroupFS` that declares `SYSTEMD_UNITS`, answering which unit owns a
cgroup and whether it is delegated from systemd itself (the `Delegate` property, over
busctl: ctrtui/sources/systemd.py) and moving tasks into a delegated unit through
`AttachProcessesToUnit`. `local_backend()` opens it where `detect()` says systemd manages
a hierarchy, else a plain `CgroupFS`.

Stdlib only: it travels with the sources (an agent on a systemd host needs nothing but
systemd and python3).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ctrtui.model.systemd import unit_place
from ctrtui.sources import CGROUP_ADMIN, POLL_EXITS, SYSTEMD_UNITS, TASK_PROBES, WRITE
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.systemd import Detection, Placement, Systemd, SystemdError, detect
from ctrtui.text import display

__all__ = ["DELEGATE_TTL", "SystemdCgroupFS", "local_backend"]

#: How long a unit's `Delegate` answer is reused (seconds): a plan asks once per batch, and
#: the terminal UI's previews ask again as the cursor moves; a unit's delegation changes only
#: with a daemon-reload.
DELEGATE_TTL = 5.0


class SystemdCgroupFS(CgroupFS):
    """`CgroupFS` on a systemd host: `detection` says which hierarchy systemd manages
    (`unified` or `name=systemd`); `systemd` is the D-Bus client (a `Systemd` by default)."""

    capabilities = frozenset({WRITE, TASK_PROBES, POLL_EXITS, CGROUP_ADMIN, SYSTEMD_UNITS})

    def __init__(self, detection: Detection, mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc",
                 systemd: Systemd | None = None) -> None:
        super().__init__(mountinfo, proc)
        self.detection = detection
        self.systemd = systemd if systemd is not None else Systemd()
        self._delegate: dict[str, tuple[float, bool]] = {}  # unit -> (when asked, Delegate)

    def unit_placement(self, hierarchy: str, path: str) -> Placement | None:
        if not self.detection.manages or hierarchy != self.detection.hierarchy:
            return None
        found = unit_place(path)
        if found is None:
            return None
        unit, kind, sub = found
        now = time.monotonic()
        cached = self._delegate.get(unit)
        if cached is not None and now - cached[0] < DELEGATE_TTL:
            return Placement(unit, kind, sub, cached[1])
        place = self.systemd.placement(path)
        if place is None:
            return None
        self._delegate[unit] = (now, place.delegated)
        return place

    def attach_to_unit(self, hierarchy: str, path: str, pids: Sequence[int]) -> None:
        place = self.unit_placement(hierarchy, path)
        if place is None:
            raise SystemdError(f"No systemd unit owns {display(hierarchy)}:{display(path)}, so systemd cannot move "
                               "tasks there; write the cgroup directly (--via kernel).")
        self._delegate.pop(place.unit, None)  # the next question asks systemd again
        self.systemd.attach_processes_to_unit(place.unit, place.subcgroup, pids)

    def systemd_hierarchy(self) -> str:
        return self.detection.hierarchy

    def start_scope(self, name: str, pids: Sequence[int], slice: str | None, properties: Sequence[str]) -> str:
        self.systemd.start_transient_scope(name, pids, slice=slice, properties=list(properties))
        return self.systemd.control_group(name)


def local_backend(mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc", run: str = "/run") -> CgroupFS:
    """This machine's cgroups: a `SystemdCgroupFS` where systemd is PID 1 and manages a
    hierarchy (`detect`), else a `CgroupFS`."""
    found = detect(proc, run)
    if found.manages:
        return SystemdCgroupFS(found, mountinfo, proc)
    return CgroupFS(mountinfo, proc)


TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctrtui.sources.base import Backend, SystemdUnits

    def _keeps_the_contract(b: SystemdCgroupFS) -> tuple[Backend, SystemdUnits]:
        """mypy checks here that SystemdCgroupFS implements what it declares (see base.py)."""
        return b, b
