"""An in-memory kernel: cgroup hierarchies, tasks and the attach rules of docs/kernel.md.

`SimKernel` implements the whole `Backend` protocol (kind `demo`) and answers every write
exactly as kernel 6.18 does: same errno, same check order, same silent no-op for a zombie,
same thread-vs-process effect of `tasks` / `cgroup.procs` / `cgroup.threads`, same v1 uid
rule and v2 delegation rule. The conformance suite (tests/real/test_conformance.py) runs the same
scenarios here (tests/unit/test_conformance_sim.py) and on the real kernel.

Builder API (for tests, the demo world and the generator; every call is cheap):

    k = SimKernel()                                    # empty; writer is root (uid 0)
    k.add_hierarchy("freezer", 1, ["freezer"])         # v1; name = comma-joined controllers
    k.add_hierarchy("name=systemd", 1, ["name=systemd"])
    k.add_hierarchy("unified", 2, ["hugetlb", "pids"]) # v2; controllers at its root
    k.mkdir("freezer", "/a")                           # EEXIST / ENOENT like mkdir(2)
    pid = k.spawn("sleep", "sleep 100", uid=1000, threads=3, cgroups={"freezer": "/a"})
    tid = k.add_thread(pid)
    k.exit(pid)            # zombie (state Z) until k.reap(pid) or exit(pid, reap=True)
    k.set_exiting(pid)     # PF_EXITING: still listed, writes succeed but move nothing
    k.recycle(pid, comm="bash")  # old task reaped, a NEW task gets the same PID
    k.set_type("unified", "/p/a", "threaded")
    k.set_subtree_control("unified", "/p", "+pids")
    k.set_cpuset("cpuset", "/a", cpus="", mems="0")
    k.set_freezer("freezer", "/a", "FROZEN")
    k.chown("freezer", "/a", 1000)     # delegate: membership files owned by uid 1000
    k.set_writer(uid=1000, euid=1000, pid=some_pid)   # who writes ('0' means that task)
    k.tick(5.0)                        # advance the clock (start times are in ticks)

`SimKernel(mode_2007=True)` answers v1 writes as the 2007 containers patch (the seed) did,
for teaching: EIO on parse errors, junk after the number ignored, ESRCH for zombies.

Builder calls that the kernel could refuse raise `OSError` with the kernel's errno.
Tasks are kept per hierarchy in `tid -> cgroup` and `cgroup -> set of tids`. Like the kernel,
which keeps its member lists up to date rather than rebuilding them for each read, every
cgroup keeps its snapshot `Container` (sorted arrays) until its members change, and every
hierarchy keeps its last container mapping: a snapshot costs in proportion to the cgroups
whose members changed since the last one (1% of 100,000 tasks moved: ~10 ms), not to the
size of the world. `forget_snapshots()` drops these caches.

`SimKernel` is composed here from the parts in `ctrtui.sources.simkernel` (its objects, the
kernel rules, the state, world building, reading, usage and writing); this module owns its
clocks, the wall clock of snapshots and the monotonic one CPU time accrues on.
"""

from __future__ import annotations

import time

from ctrtui.sources import CGROUP_ADMIN, WRITE
from ctrtui.sources.simkernel.usage import SimUsage
from ctrtui.sources.simkernel.world import SimWorld
from ctrtui.sources.simkernel.writing import (
    SimWriting,
)

__all__ = ["SimKernel"]


def _wall() -> float:
    """Seconds since the epoch, looked up at each call (tests pin this module's `time`)."""
    return time.time()


class SimKernel(SimWorld, SimUsage, SimWriting):
    """The simulated kernel and backend (see the module docstring for the builder API)."""

    kind = "demo"
    capabilities = frozenset({WRITE, CGROUP_ADMIN})
    """It writes (tasks; cgroups: mkdir, rmdir, freeze); it has no batch probes nor one-call
    exit polls (the engine reads each task with `task_state` + `task_cgroup` and asks each
    handle `alive()`)."""

    def __init__(self, pid_max: int = 32768, boot_time: float = 1_700_000_000.0,
                 mode_2007: bool = False, identity: str = "demo") -> None:
        super().__init__(pid_max, boot_time, mode_2007, identity, clock=time.monotonic, wall=_wall)


TYPE_CHECKING = False
if TYPE_CHECKING:
    from ctrtui.sources.base import Backend, CgroupAdmin

    def _keeps_the_contract(k: SimKernel) -> tuple[Backend, CgroupAdmin]:
        """mypy checks here that SimKernel implements what it declares (see base.py)."""
        return k, k
