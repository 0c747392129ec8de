"""Guards that a hand-made mutation pass found unguarded by any test: each test here fails
when its guard is taken out of the code.

- the PID-reuse guard compares the live task's identity (pidfs inode) with the plan's;
- a retried undo moves only what is still to be undone;
- moving a thread of PID 1 (thread mode, v1) is a risk asked about, like PID 1 itself;
- membership files are read to their end whatever one read(2) returns.
"""

from __future__ import annotations

import itertools
import os

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.engine.risk import assess
from ctrtui.model import CgroupRef
from ctrtui.sources import TASK_PROBES
from ctrtui.sources.simkernel.writing import SimTaskHandle
from ctrtui.sources.simulated import SimKernel


def ref(text: str) -> CgroupRef:
    return CgroupRef.parse(text)


def where(k, pid, hier):
    return (k.task_cgroups(pid) or {}).get(hier)


# ----------------------------------------------------------------------------- pidfs identity


class PidfsHandle(SimTaskHandle):
    """A simulated pidfd on a kernel with pidfs: its identity is the task's own inode."""

    def __init__(self, task, ino: int) -> None:
        super().__init__(task)
        self.ino = ino

    def identity(self) -> tuple[int, int] | None:
        return None if self._task is None else (7, self.ino)


class PidfsKernel(SimKernel):
    """SimKernel with pidfs inodes (one per task, never reused) and the TASK_PROBES
    capability, as the real kernel 6.9+: plans carry (device, inode, start time)."""

    capabilities = SimKernel.capabilities | {TASK_PROBES}

    def __init__(self) -> None:
        super().__init__()
        self._inodes: dict[int, tuple[object, int]] = {}  # pid -> (the task object, its inode)
        self._next = itertools.count(1000)

    def _ino(self, pid: int) -> int:
        task = self.tasks[pid]
        got = self._inodes.get(pid)
        if got is None or got[0] is not task:
            got = self._inodes[pid] = (task, next(self._next))
        return got[1]

    def open_task(self, pid: int, thread: bool = False) -> PidfsHandle:
        base = super().open_task(pid, thread)
        return PidfsHandle(self.tasks[pid], self._ino(pid)) if base else base

    def task_probe(self, pid: int, hierarchy: str):
        info = self.task_state(pid)
        if info is None:
            return None
        return info, self.task_cgroup(pid, hierarchy), (7, self._ino(pid), info.start_time)

    def task_probes(self, pids, hierarchy: str, keep: bool = False):
        out = {}
        for pid in pids:
            got = self.task_probe(pid, hierarchy)
            out[pid] = None if got is None else (*got, None)  # no handle kept: apply opens its own
        return out


@pytest.fixture
def pk() -> PidfsKernel:
    k = PidfsKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    return k


def test_a_pid_reused_within_the_same_tick_is_found_by_its_pidfs_inode(pk):
    """Same PID, same start tick (the kernel's tick resolution allows it), another task:
    only the pidfs inode tells them apart. The batch says vanished (pid-reuse) and writes
    nothing."""
    pk.spawn("init")
    p = pk.spawn("victim")
    e = AttachEngine(pk, policy=Policy(), load_entry_points=False)
    plan = e.plan([p], ref("freezer:/a"))
    v = plan.verdicts[0]
    assert v.kind == "move" and v.identity is not None and v.identity[1] == pk._ino(p)
    pk.recycle(p, comm="intruder", same_start_time=True)
    assert pk.task_state(p).start_time == v.start_time and pk._ino(p) != v.identity[1]
    writes: list[tuple] = []
    real = pk.open_membership
    pk.open_membership = lambda *a, **kw: (writes.append(a), real(*a, **kw))[1]  # type: ignore[method-assign]
    o = e.apply(plan).outcomes[0]
    assert (o.outcome, o.errno, o.hook) == ("vanished", "ESRCH", "pid-reuse"), o
    assert writes == [] and where(pk, p, "freezer") == "/"
    assert "another task" in o.reason and str(p) in o.reason


def test_the_same_task_with_its_pidfs_inode_moves(pk):
    """The control: nothing recycled, the identity matches, the task moves."""
    pk.spawn("init")
    p = pk.spawn("fine")
    e = AttachEngine(pk, policy=Policy(), load_entry_points=False)
    o = e.apply(e.plan([p], ref("freezer:/a"))).outcomes[0]
    assert o.outcome == "moved" and where(pk, p, "freezer") == "/a"


# ----------------------------------------------------------------------------- a retried undo


def test_a_retried_undo_moves_only_what_is_left_to_undo(tmp_path):
    """The first undo put p back and was refused for q; the user then moved p elsewhere.
    The retry reports only q and leaves p where the user put it."""
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    for path in ("/a", "/b", "/elsewhere"):
        k.mkdir("freezer", path)
    p, q = k.spawn("p"), k.spawn("q")
    k.place(p, "freezer", "/a")
    k.place(q, "freezer", "/b")
    e = AttachEngine(k, policy=Policy(), journal=Journal(str(tmp_path / "j.jsonl")), load_entry_points=False)
    batch = e.apply(e.plan([p, q], ref("freezer:/")))
    assert batch.ok
    k.rmdir("freezer", "/b")  # q's old cgroup is gone: its undo is refused
    first = e.undo()
    by_pid = {o.pid: o for o in first.outcomes}
    assert by_pid[p].outcome == "moved" and by_pid[q].outcome == "refused"
    k.mkdir("freezer", "/b")  # the cause is fixed ...
    k.place(p, "freezer", "/elsewhere")  # ... and the user put p somewhere else meanwhile
    retry = e.undo()
    assert [o.pid for o in retry.outcomes] == [q], retry.outcomes
    assert retry.outcomes[0].outcome == "moved" and where(k, q, "freezer") == "/b"
    assert where(k, p, "freezer") == "/elsewhere"
    assert e.undo() is None


# ----------------------------------------------------------------------------- a thread of PID 1


def test_moving_a_thread_of_pid_1_is_asked_about_like_pid_1(tmp_path):
    k = SimKernel()
    k.add_hierarchy("pids", 1, ["pids"])
    k.mkdir("pids", "/a")
    init = k.spawn("systemd", pid=1, threads=2)
    thread = next(t for t in k.thread_ids(init) if t != init)
    e = AttachEngine(k, policy=Policy(), load_entry_points=False)
    plan = e.plan([thread], ref("pids:/a"), threads=True)
    assert plan.verdicts[0].kind == "move"
    risks = assess(plan, k.snapshot(), k)
    assert any("PID 1" in r for r in risks), risks
    other = k.spawn("worker", threads=2)  # the control: a thread of another process is no such risk
    t2 = next(t for t in k.thread_ids(other) if t != other)
    plan = e.plan([t2], ref("pids:/a"), threads=True)
    assert not any("PID 1" in r for r in assess(plan, k.snapshot(), k))


# ----------------------------------------------------------------------------- read to the end


def test_membership_files_are_read_to_their_end_whatever_one_read_returns(tmp_path, monkeypatch):
    """A cgroup with 1,200 processes, its files read with os.read capped at 4,096 bytes (a
    page, as the kernel's seq_file gives): every process is listed (the walk and the
    per-cgroup read alike)."""
    from ctrtui.sources import cgroupfs, procfs
    from ctrtui.sources.cgroupfs import CgroupFS

    mount = tmp_path / "freezer"
    big = mount / "big"
    big.mkdir(parents=True)
    pids = list(range(100_000, 101_200))
    text = "".join(f"{p}\n" for p in pids)
    assert len(text) > 2 * 4096
    for d in (mount, big):
        for name in ("tasks", "cgroup.procs"):
            (d / name).write_text(text if d == big else "")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"30 25 0:26 / {mount} rw,nosuid - cgroup cgroup rw,freezer\n")
    fs = CgroupFS(mountinfo=str(mountinfo), proc=str(tmp_path / "proc"))
    real_read = os.read
    sizes: list[int] = []

    def capped(fd: int, n: int) -> bytes:
        sizes.append(n)
        return real_read(fd, min(n, 4096))

    monkeypatch.setattr(os, "read", capped)
    monkeypatch.setattr(cgroupfs.os, "read", capped)
    monkeypatch.setattr(procfs.os, "read", capped)
    snap = fs.snapshot(["freezer"])["freezer"]
    assert list(snap.members("/big")) == pids and list(snap.members("/big", threads=True)) == pids
    got = fs.read_cgroups("freezer", ["/big"])["/big"]
    assert list(got.threads) == pids and list(got.procs) == pids
    assert sizes and max(sizes) > 4096  # it asked for more than it got, and went on reading
