"""The simulated kernel playing a systemd host: `SystemdSimKernel` is a `SimKernel` that
declares `SYSTEMD_UNITS`, so unit and UI tests run the systemd route without the lab's guest.

What it plays is what the lab measured (ctrtui/sources/systemd_risks.py, docs/systemd.md):
systemd manages the hierarchies named by `play_systemd`; a unit owns the cgroups at and below
its own (named after it); only the units named delegated take running tasks through
`attach_to_unit` (AttachProcessesToUnit), others are refused with systemd's own message. The
move itself is the kernel's (a `cgroup.procs` write, with the kernel's errnos), as systemd does.

    k = SystemdSimKernel()
    ...                                  # the builder calls of SimKernel
    k.play_systemd(("unified",), delegated=("user@1000.service",))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ctrtui.model.systemd import slice_path, unit_place
from ctrtui.sources import CGROUP_ADMIN, SYSTEMD_UNITS, WRITE
from ctrtui.sources.simulated import SimKernel
from ctrtui.sources.systemd import ADVICE, Placement, SystemdError
from ctrtui.sources.systemd_props import parse_properties
from ctrtui.text import display

__all__ = ["SystemdSimKernel"]

_NOT_DELEGATED = "Process migration not available on non-delegated units."
_INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
_EXISTS = "org.freedesktop.systemd1.UnitExists"


class SystemdSimKernel(SimKernel):
    """A SimKernel on which systemd is PID 1 and manages `managed` hierarchies, with the
    units in `delegated` delegated (`Delegate=yes`)."""

    capabilities = frozenset({WRITE, CGROUP_ADMIN, SYSTEMD_UNITS})

    def __init__(self, pid_max: int = 32768, boot_time: float = 1_700_000_000.0,
                 mode_2007: bool = False, identity: str = "demo") -> None:
        super().__init__(pid_max, boot_time, mode_2007, identity)
        self.managed: frozenset[str] = frozenset()
        self.delegated: frozenset[str] = frozenset()
        self.attach_calls = 0  # AttachProcessesToUnit calls answered (tests count the route)
        self.scope_calls = 0  # StartTransientUnit calls answered

    def play_systemd(self, managed: Iterable[str] = ("unified",), delegated: Iterable[str] = ()) -> None:
        """systemd manages the hierarchies `managed`; the units `delegated` are delegated."""
        self.managed = frozenset(managed)
        self.delegated = frozenset(delegated)

    def unit_placement(self, hierarchy: str, path: str) -> Placement | None:
        if hierarchy not in self.managed:
            return None
        found = unit_place(path)
        if found is None:
            return None
        unit, kind, sub = found
        return Placement(unit, kind, sub, unit in self.delegated)

    def attach_to_unit(self, hierarchy: str, path: str, pids: Sequence[int]) -> None:
        self.attach_calls += 1
        place = self.unit_placement(hierarchy, path)
        what = f"the move of PIDs {', '.join(map(str, pids))} into {display(path)}"
        if place is None:
            raise SystemdError(f"{what[:1].upper()}{what[1:]} failed: no systemd unit owns {display(path)}; "
                               "write the cgroup directly (--via kernel).", "org.freedesktop.systemd1.NoSuchUnit",
                               "no unit")
        if not place.delegated:
            raise SystemdError(f"{what[:1].upper()}{what[1:]} failed: systemd says \"{_NOT_DELEGATED.rstrip('.')}\" "
                               f"({_INVALID_ARGS}). To do: {ADVICE['non-delegated']}.", _INVALID_ARGS, _NOT_DELEGATED)
        for pid in pids:
            self.write_pid(hierarchy, path, "cgroup.procs", str(pid).encode())

    def systemd_hierarchy(self) -> str:
        return "unified" if "unified" in self.managed else min(self.managed, default="unified")

    def start_scope(self, name: str, pids: Sequence[int], slice: str | None, properties: Sequence[str]) -> str:
        """As systemd: the properties checked, a name taken refused (UnitExists), the slice's
        cgroups made as needed, then each PID written into the scope's cgroup."""
        self.scope_calls += 1
        parse_properties(list(properties))
        h = self.systemd_hierarchy()
        path = slice_path(slice or "system.slice").rstrip("/") + "/" + name
        if self.cgroup_state(h, path) is not None:
            raise SystemdError(f"A new scope {display(name)} failed: systemd says \"Unit {display(name)} already "
                               f"exists\" (org.freedesktop.systemd1.UnitExists). To do: {ADVICE[_EXISTS]}.",
                               _EXISTS, f"Unit {name} already exists.")
        self.makedirs(h, path)
        for pid in pids:
            self.write_pid(h, path, "cgroup.procs", str(pid).encode())
        return path


TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctrtui.sources.base import Backend, SystemdUnits

    def _keeps_the_contract(k: SystemdSimKernel) -> tuple[Backend, SystemdUnits]:
        """mypy checks here that SystemdSimKernel implements what it declares (see base.py)."""
        return k, k
