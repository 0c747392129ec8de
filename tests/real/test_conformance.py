"""Conformance: the same scenarios on the simulated kernel and on the real one.

Every test takes the `world` fixture and is written once against the small `World` adapter
below (make cgroups, start own processes, write some bytes to a membership file, ask where a
task is). Here `world` is the real kernel (`real`); tests/unit/test_conformance_sim.py runs
the very same test functions with `world` = SimKernel (`sim`), in the fast unit tier. Both
runs must give the same answer: the write's return value or errno name, and where every
task ends up. When they disagree the real kernel is right and SimKernel is fixed.

Real runs follow docs/testing.md ("Real cgroups in tests"): throwaway `ctrtui-test-*` cgroups in freezer, pids, cpu,
cpuset and unified only (tests.realcg.RealWorld), only PIDs this test started are written
(plus kthreadd, PID 2, which the kernel refuses), always cleaned up. Writing `0` (the writer
itself, i.e. pytest) and any decimal with a leading zero are never done on the real kernel.
"""

from __future__ import annotations

import errno
import os
import time

import pytest

from ctrtui.engine import AttachEngine, Policy
from ctrtui.model import CgroupRef
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.simulated import SimKernel
from tests.realcg import LAYOUT, REAL_OK, REAL_WHY, RealWorld, task_state_letter


def ename(code: int) -> str:
    return "EOPNOTSUPP" if code == errno.EOPNOTSUPP else errno.errorcode[code]



GUEST_V2_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")
"""The v2 root's cgroup.controllers of a Debian 12 guest (systemd 252, pure v2, kernel 6.1)."""
GUEST_V2_ENABLED = "+cpuset +cpu +io +memory +pids"
"""What its systemd enables in the root's cgroup.subtree_control."""


MEMBERSHIP = ("tasks", "cgroup.procs", "cgroup.threads")


class PredictedWrites:
    """Dry run == kernel: every write of one PID in plain decimal (how ctrtui itself writes
    one) is planned by the engine first, on the same backend, as the same writer; then the
    kernel's (or SimKernel's) answer must be what the plan said: `refused` with that errno,
    `move` or `already-there` accepted (or refused with an errno a warning of the plan named:
    the rule of an older kernel the backend cannot tell), `vanished` either ESRCH or accepted
    without a move (a zombie). A scenario's own asserts then check the answer itself."""

    def write(self, data: bytes | str, hier: str, path: str, file: str = "cgroup.procs",
              as_uid: int | None = None) -> int | str:
        raw = data.encode() if isinstance(data, str) else data
        if file not in MEMBERSHIP or not raw.isdigit() or raw != str(int(raw)).encode() or raw == b"0":
            return self._write(raw, hier, path, file, as_uid)
        pid = int(raw)
        threads = file != "cgroup.procs"  # v1 tasks and v2 cgroup.threads move one thread
        if as_uid is None:
            v = _plan_one(self, pid, hier, path, threads=threads)
            kind, code, hook, warnings = v.kind, v.errno, v.hook, v.warnings
        else:
            kind, code, hook, warnings = self.predict_as(as_uid, pid, hier, path, threads=threads)
        before = self.where(pid, hier)
        got = self._write(raw, hier, path, file, as_uid)
        said = f"the engine said {kind} {code or ''} ({hook}), the kernel {got} for PID {pid} into {hier}:{path} {file}"
        if kind == "refused":
            assert got == code, said
        elif kind == "vanished":
            assert got == "ESRCH" or (isinstance(got, int) and self.where(pid, hier) == before), said
        else:
            assert isinstance(got, int) or any(f" {got} " in w for w in warnings), said + f"; warnings {warnings}"
        return got


class SimWorld(PredictedWrites):
    """The World adapter over a SimKernel. Layout `hybrid` is this machine's allowed
    hierarchies (v1 freezer, pids, cpu, cpuset; v2 `unified` without controllers); `v2` is
    a pure v2 guest like Debian 12 (only `unified`, with GUEST_V2_CONTROLLERS, the root
    enabling GUEST_V2_ENABLED, cpuset's attach check of a kernel before 6.6). A scenario
    asking for what its layout lacks skips."""

    kind = "sim"

    def __init__(self, layout: str = "hybrid") -> None:
        self.layout = layout
        k = self.backend = SimKernel()
        if layout == "v2":
            k.add_hierarchy("unified", 2, GUEST_V2_CONTROLLERS)
            k.set_subtree_control("unified", "/", GUEST_V2_ENABLED)
            k.cpuset_setscheduler_check = True  # its kernel, 6.1, predates 6.6
        else:
            for name in ("cpu", "cpuset", "freezer", "pids"):
                k.add_hierarchy(name, 1, [name])
            k.add_hierarchy("unified", 2, ["hugetlb"])
        k.spawn("systemd", "/sbin/init", pid=1)
        k.spawn("kthreadd", kthread=True, pid=2)
        k.set_last_pid(1000)
        k.set_writer(0, 0, pid=k.spawn("pytest"))
        self.top_name = "ctrtui-test-sim"
        self._tops: set[str] = set()

    def top(self, hier: str) -> str:
        path = "/" + self.top_name
        if self.layout == "v2" and hier != "unified":
            pytest.skip(f"the simulated pure-v2 layout has no {hier} hierarchy")
        if hier not in self._tops:
            self._tops.add(hier)
            self._make(hier, path, False)
        return path

    def _make(self, hier: str, path: str, cpuset_empty: bool) -> None:
        k = self.backend
        if k.cgroup_state(hier, path) is not None:
            return
        k.mkdir(hier, path)
        if hier == "cpuset" and not cpuset_empty:
            parent = k.cgroup_state(hier, path.rsplit("/", 1)[0] or "/")
            k.set_cpuset(hier, path, parent.cpuset_cpus, parent.cpuset_mems)

    def mkdir(self, hier: str, rel: str = "", cpuset_empty: bool = False) -> str:
        path = self.top(hier)
        parts = [p for p in rel.split("/") if p]
        for i, part in enumerate(parts):
            path += "/" + part
            self._make(hier, path, cpuset_empty and i == len(parts) - 1)
        return path

    def rmdir(self, hier: str, path: str) -> None:
        self.backend.rmdir(hier, path)

    def spawn_sleep(self) -> int:
        return self.backend.spawn("sleep", "sleep 300")

    def spawn_threads(self, n: int) -> list[int]:
        pid = self.backend.spawn("python3", threads=n + 1)
        return list(self.backend.thread_ids(pid))

    def spawn_as(self, uid: int) -> int:
        return self.backend.spawn("sleep", "sleep 300", uid=uid)

    def spawn_zombie(self) -> int:
        pid = self.backend.spawn("true")
        self.backend.exit(pid)
        return pid

    def put(self, pid: int, hier: str, path: str, file: str = "cgroup.procs") -> None:
        self.backend.write_pid(hier, path, file, str(pid).encode())

    def where(self, pid: int, hier: str) -> str | None:
        cg = self.backend.task_cgroups(pid)
        return None if cg is None else cg[hier]

    def _write(self, data: bytes, hier: str, path: str, file: str, as_uid: int | None) -> int | str:
        k = self.backend
        if as_uid is not None:
            k.set_writer(as_uid, as_uid)
        try:
            return k.write_pid(hier, path, file, data)
        except OSError as e:
            return ename(e.errno)
        finally:
            k.set_writer(0, 0)

    def kill(self, pid: int) -> None:
        """The process dies and stays a zombie (its parent does not reap it yet)."""
        self.backend.exit(pid)

    def need_v2_controllers(self, *names: str) -> None:
        """Skip unless the v2 root enables `names` for its children (so a test cgroup may)."""
        root = self.backend.cgroup_state("unified", "/")
        missing = [n for n in names if root is None or n not in root.subtree_control]
        if missing:
            pytest.skip(f"the simulated {self.layout} layout's v2 root enables no {', '.join(missing)} "
                        "(the pure-v2 layout runs this)")

    def subtree_control(self, path: str, change: str) -> int | str:
        try:
            self.backend.set_subtree_control("unified", path, change)
            return len(change)
        except OSError as e:
            return ename(e.errno)

    def cpuset_asks_the_scheduler(self) -> bool:
        """Whether this kernel's cpuset attach check asks security_task_setscheduler (before 6.6)."""
        return self.backend.cpuset_setscheduler_check

    def need_cpus(self, n: int) -> None:
        if self.backend.ncpus < n:
            pytest.skip(f"the simulated machine has {self.backend.ncpus} CPUs, this needs {n}")

    def cpuset_v2(self, path: str, name: str, value: str) -> int | str:
        """Write v2 `cpuset.cpus` or `cpuset.cpus.partition` of a cgroup."""
        try:
            if name == "cpuset.cpus":
                self.backend.set_cpuset("unified", path, cpus=value)
            else:
                self.backend.set_partition("unified", path, value)
            return len(value)
        except OSError as e:
            return ename(e.errno)

    def set_type(self, hier: str, path: str) -> int | str:
        try:
            self.backend.set_type(hier, path, "threaded")
            return 8
        except OSError as e:
            return ename(e.errno)

    def chown(self, hier: str, path: str, uid: int) -> None:
        self.backend.chown(hier, path, uid)

    def set_freezer(self, hier: str, path: str, state: str) -> None:
        self.backend.set_freezer(hier, path, state)

    def set_pids_max(self, hier: str, path: str, value: int) -> None:
        self.backend.set_pids_max(hier, path, value)

    def set_cpuset(self, hier: str, path: str, cpus: str | None = None, mems: str | None = None) -> None:
        self.backend.set_cpuset(hier, path, cpus=cpus, mems=mems)

    def freeze_v2(self, path: str, frozen: bool) -> None:
        self.backend.set_freeze("unified", path, frozen)

    def spawn_ids(self, ruid: int, euid: int, suid: int) -> int:
        return self.backend.spawn("ids", "python3", uid=ruid, euid=euid, suid=suid)

    def write_as_ids(self, data: str, hier: str, path: str, file: str, ids: tuple[int, int, int]) -> int | str:
        """Write as a writer with real, effective and saved uid `ids` (the simulated writer
        has only uid and euid: the kernel judges the euid)."""
        k = self.backend
        k.set_writer(ids[0], ids[1])
        try:
            return k.write_pid(hier, path, file, data.encode())
        except OSError as e:
            return ename(e.errno)
        finally:
            k.set_writer(0, 0)

    def predict_as(self, uid: int, pid: int, hier: str, path: str,
                   threads: bool = False) -> tuple[str, str | None, str | None, tuple[str, ...]]:
        """The engine's verdict (kind, errno, hook, warnings) on moving `pid` to `path`, for a
        writer with that uid (what it may write judged as for that writer)."""
        self.backend.set_writer(uid, uid)
        try:
            v = _plan_one(self, pid, hier, path, threads=threads)
        finally:
            self.backend.set_writer(0, 0)
        return v.kind, v.errno, v.hook, tuple(v.warnings)

    def state(self, pid: int) -> str | None:
        t = self.backend.task_state(pid)
        return None if t is None else t.state

    def free_pid(self) -> int:
        pid = self.backend.pid_max - 1
        while self.backend.task_state(pid) is not None:
            pid -= 1
        return pid


class RealWorldAdapter(PredictedWrites):
    """The same World adapter over tests.realcg.RealWorld (set-up, referee) and CgroupFS
    (the writes under test)."""

    kind = "real"
    layout = LAYOUT

    def __init__(self, rw: RealWorld) -> None:
        self.rw = rw
        self.backend = CgroupFS()
        self._frozen: list[str] = []
        self._frozen_v2: list[str] = []

    def top(self, hier: str) -> str:
        return self.rw.top(hier)

    def mkdir(self, hier: str, rel: str = "", cpuset_empty: bool = False) -> str:
        return self.rw.mkdir(hier, rel, cpuset_empty=cpuset_empty)

    def rmdir(self, hier: str, path: str) -> None:
        os.rmdir(self.rw.fs(hier, path))

    def spawn_sleep(self) -> int:
        return self.rw.spawn_sleep().pid

    def spawn_threads(self, n: int) -> list[int]:
        return self.rw.spawn_threads(n)[1]

    def spawn_as(self, uid: int) -> int:
        return self.rw.spawn_as(uid, uid).pid

    def spawn_zombie(self) -> int:
        return self.rw.spawn_zombie()

    def put(self, pid: int, hier: str, path: str, file: str = "cgroup.procs") -> None:
        self.rw.put(pid, hier, path, file)

    def where(self, pid: int, hier: str) -> str | None:
        return self.rw.cgroup_of(pid, hier)

    def _write(self, data: bytes, hier: str, path: str, file: str, as_uid: int | None) -> int | str:
        if as_uid is None:
            try:
                return self.backend.write_pid(hier, path, file, data)
            except OSError as e:
                return ename(e.errno)
        return _write_as(self.rw.fs(hier, path) + "/" + file, data, as_uid)

    def kill(self, pid: int) -> None:
        """The process dies and stays a zombie (Popen has not waited for it yet)."""
        os.kill(pid, 9)
        deadline = time.monotonic() + 5   # the leader shows Z before its threads are gone
        while time.monotonic() < deadline and (
                task_state_letter(pid) != "Z" or os.listdir(f"/proc/{pid}/task") != [str(pid)]):
            time.sleep(0.005)

    def need_v2_controllers(self, *names: str) -> None:
        """Skip unless the v2 root enables `names` for its children; the root is not ours,
        so it is never changed here."""
        try:
            with open(self.rw.fs("unified", "/") + "/cgroup.subtree_control") as f:
                enabled = f.read().split()
        except OSError as e:
            pytest.skip(f"cannot read the v2 root's cgroup.subtree_control ({ename(e.errno or 0)})")
        missing = [n for n in names if n not in enabled]
        if missing:
            pytest.skip(f"the v2 root here enables no {', '.join(missing)} for its children (on a hybrid "
                        "host those controllers are bound to v1); the pure-v2 guest and the simulator run this")

    def subtree_control(self, path: str, change: str) -> int | str:
        try:
            return _raw_write(self.rw.fs("unified", path) + "/cgroup.subtree_control", change.encode())
        except OSError as e:
            return ename(e.errno)

    def cpuset_asks_the_scheduler(self) -> bool:
        """Whether this kernel's cpuset attach check asks security_task_setscheduler: before
        6.6 (the test reads the version; ctrtui itself does not predict it on a real kernel)."""
        release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
        return release < (6, 6)

    def need_cpus(self, n: int) -> None:
        try:
            with open(self.rw.fs("unified", "/") + "/cpuset.cpus.effective") as f:
                text = f.read().strip()
        except OSError:
            pytest.skip("the v2 root has no cpuset.cpus.effective here")
        count = sum(int(b) - int(a) + 1 for a, _, b in (p.partition("-") if "-" in p else (p, "", p)
                                                        for p in text.split(",") if p))
        if count < n:
            pytest.skip(f"the v2 root has {count} CPUs, this needs {n}")

    def cpuset_v2(self, path: str, name: str, value: str) -> int | str:
        """Write v2 `cpuset.cpus` or `cpuset.cpus.partition` of one of our cgroups (a
        partition's CPUs go back to the root when the test removes it)."""
        f = self.rw.fs("unified", path) + "/" + name
        try:
            n = _raw_write(f, value.encode())
        except OSError as e:
            return ename(e.errno)
        if name == "cpuset.cpus.partition":
            with open(f) as fh:
                state = fh.read().strip()
            if state != value:  # the kernel accepts the write and marks it invalid
                return state
        return n

    def set_type(self, hier: str, path: str) -> int | str:
        try:
            return _raw_write(self.rw.fs(hier, path) + "/cgroup.type", b"threaded")
        except OSError as e:
            return ename(e.errno)

    def chown(self, hier: str, path: str, uid: int) -> None:
        d = self.rw.fs(hier, path)
        os.chown(d, uid, -1)
        for name in ("tasks", "cgroup.procs", "cgroup.threads"):
            if os.path.exists(d + "/" + name):
                os.chown(d + "/" + name, uid, -1)

    def set_freezer(self, hier: str, path: str, state: str) -> None:
        f = self.rw.fs(hier, path) + "/freezer.state"
        _raw_write(f, state.encode())
        if state == "FROZEN":
            self._frozen.append(f)
        deadline = time.monotonic() + 5
        while open(f).read().strip() != state and time.monotonic() < deadline:
            time.sleep(0.01)

    def thaw_all(self) -> None:
        for f in self._frozen_v2:
            try:
                _raw_write(f, b"0")
            except OSError:
                pass
        for f in self._frozen:
            try:
                _raw_write(f, b"THAWED")
            except OSError:
                pass

    def set_pids_max(self, hier: str, path: str, value: int) -> None:
        _raw_write(self.rw.fs(hier, path) + "/pids.max", str(value).encode())

    def set_cpuset(self, hier: str, path: str, cpus: str | None = None, mems: str | None = None) -> None:
        d = self.rw.fs(hier, path)
        for key, value in (("cpus", cpus), ("mems", mems)):
            if value is not None:
                name = "cpuset." + key if os.path.exists(f"{d}/cpuset.{key}") else key
                _raw_write(f"{d}/{name}", value.encode() or b"\n")

    def freeze_v2(self, path: str, frozen: bool) -> None:
        f = self.rw.fs("unified", path) + "/cgroup.freeze"
        if frozen:
            self._frozen_v2.append(f)
        _raw_write(f, b"1" if frozen else b"0")

    def spawn_ids(self, ruid: int, euid: int, suid: int) -> int:
        return self.rw.spawn_ids(ruid, euid, suid).pid

    def write_as_ids(self, data: str, hier: str, path: str, file: str, ids: tuple[int, int, int]) -> int | str:
        return _write_as(self.rw.fs(hier, path) + "/" + file, data.encode(), ids[1], ids)

    def predict_as(self, uid: int, pid: int, hier: str, path: str,
                   threads: bool = False) -> tuple[str, str | None, str | None, tuple[str, ...]]:
        """The engine's verdict (kind, errno, hook, warnings) on moving `pid` to `path`, planned
        in a forked child that dropped to `uid` (so the backend judges access as that user)."""
        r, w = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                os.close(r)
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                try:
                    v = _plan_one(RealWorldAdapter(self.rw), pid, hier, path, threads=threads)
                    out = "\0".join((v.kind, str(v.errno), str(v.hook), *v.warnings))
                except Exception as e:  # noqa: BLE001 - reported to the parent
                    out = f"error {type(e).__name__}: {e}"
                os.write(w, out.encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            got = f.read().decode()
        os.waitpid(child, 0)
        assert not got.startswith("error "), got
        kind, code, hook, *warnings = got.split("\0")
        return kind, None if code == "None" else code, None if hook == "None" else hook, tuple(warnings)

    def state(self, pid: int) -> str | None:
        return task_state_letter(pid)

    def free_pid(self) -> int:
        pid_max = int(open("/proc/sys/kernel/pid_max").read())
        pid = pid_max - 1
        while os.path.exists(f"/proc/{pid}"):
            pid -= 1
        return pid


def _raw_write(path: str, data: bytes) -> int:
    fd = os.open(path, os.O_WRONLY)
    try:
        return os.write(fd, data)
    finally:
        os.close(fd)


def _write_as(path: str, data: bytes, uid: int, ids: tuple[int, int, int] | None = None) -> int | str:
    """Open and write from a forked child that first dropped to `uid` (or to the real,
    effective and saved uids `ids`; the kernel judges permission with the credentials of
    whoever opened the file)."""
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(*(ids or (uid, uid, uid)))
            try:
                fd = os.open(path, os.O_WRONLY)
                try:
                    out = str(os.write(fd, data))
                finally:
                    os.close(fd)
            except OSError as e:
                out = ename(e.errno)
            os.write(w, out.encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(child, 0)
    return int(out) if out.isdigit() else out


@pytest.fixture(params=["real"])
def world(request):
    """The World adapter over the kernel, in ctrtui-test-* cgroups (`real`). The same scenarios
    run on SimKernel (`sim`) in the unit tier: tests/unit/test_conformance_sim.py."""
    if not REAL_OK:
        pytest.skip(REAL_WHY)
    with RealWorld() as rw:
        adapter = RealWorldAdapter(rw)
        try:
            yield adapter
        finally:
            adapter.thaw_all()


# ================================================================ parsing and lookup


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("freezer", "cgroup.procs"),
                                       ("unified", "cgroup.procs")])
def test_valid_pid_moves_and_already_there(world, hier, file):
    cg = world.mkdir(hier, "a")
    p = world.spawn_sleep()
    assert world.write(str(p), hier, cg, file) == len(str(p))
    assert world.where(p, hier) == cg
    assert world.write(str(p), hier, cg, file) == len(str(p))
    assert world.where(p, hier) == cg


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
@pytest.mark.parametrize("text", ["abc", "-1", "123abc", " ", "\n", "2147483648", "08", "0x",
                                  "1.5", "--1"])
def test_bad_input_einval(world, hier, file, text):
    cg = world.mkdir(hier, "a")
    assert world.write(text, hier, cg, file) == "EINVAL"


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_zero_byte_write(world, hier, file):
    cg = world.mkdir(hier, "a")
    assert world.write(b"", hier, cg, file) == 0


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_no_such_pid_and_beyond_pid_max(world, hier, file):
    cg = world.mkdir(hier, "a")
    for pid in (world.free_pid(), 32768, 99999, 2147483647):
        assert world.write(str(pid), hier, cg, file) == "ESRCH", pid


@pytest.mark.parametrize("fmt", [" {pid} \n", "\t{pid}\n", "+{pid}", "0{pid:o}", "0x{pid:x}",
                                 "0X{pid:X}", "{pid}\0junk", "\xa0{pid}"])
@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_accepted_spellings(world, fmt, hier, file):
    """Every spelling parses to the same own PID (octal and hex written from the PID)."""
    cg = world.mkdir(hier, "a")
    p = world.spawn_sleep()
    data = fmt.format(pid=p).encode("latin-1")
    assert world.write(data, hier, cg, file) == len(data)
    assert world.where(p, hier) == cg


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_two_pids_einval_neither_moved(world, hier, file):
    cg = world.mkdir(hier, "a")
    p, q = world.spawn_sleep(), world.spawn_sleep()
    for sep in (" ", "\n", ","):
        assert world.write(f"{p}{sep}{q}", hier, cg, file) == "EINVAL"
    assert world.where(p, hier) == world.where(q, hier) == "/"


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_write_size_limit(world, hier, file):
    cg = world.mkdir(hier, "a")
    p = world.spawn_sleep()
    pid = str(p).encode()
    assert world.write(b" " * (4097 - len(pid)) + pid, hier, cg, file) == "E2BIG"
    assert world.where(p, hier) == "/"
    assert world.write(b" " * (4096 - len(pid)) + pid, hier, cg, file) == 4096
    assert world.where(p, hier) == cg


ALL_FILES = [("freezer", "tasks"), ("freezer", "cgroup.procs"), ("unified", "cgroup.procs")]


@pytest.mark.parametrize("hier,file", ALL_FILES)
def test_zombie_success_not_moved(world, hier, file):
    z = world.spawn_zombie()
    assert world.state(z) == "Z"
    cg = world.mkdir(hier, "a")
    assert world.write(str(z), hier, cg, file) == len(str(z))
    assert world.where(z, hier) == "/"
    snap = world.backend.snapshot([hier])
    assert snap[hier].find(z, threads=True) == []


@pytest.mark.parametrize("hier,file", ALL_FILES)
def test_kthreadd_refused(world, hier, file):
    assert world.write("2", hier, world.mkdir(hier, "a"), file) == "EINVAL"
    assert world.where(2, hier) == "/"


# ================================================================ removed target


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_removed_target(world, hier, file):
    cg = world.mkdir(hier, "gone")
    p = world.spawn_sleep()
    wf = world.backend.open_membership(hier, cg, file, write=True)
    rf = world.backend.open_membership(hier, cg, file, write=False)
    try:
        world.rmdir(hier, cg)
        results = []
        for data in (str(p).encode(), b"abc", b"", b" " * 5000):
            try:
                results.append(wf.write(data))
            except OSError as e:
                results.append(ename(e.errno))
        assert results == ["ENODEV", "ENODEV", "ENODEV", "E2BIG"]
        with pytest.raises(OSError) as e:
            rf.read()
        assert e.value.errno == errno.ENODEV
    finally:
        wf.close()
        rf.close()
    assert world.write(str(p), hier, cg, file) == "ENOENT"
    assert world.where(p, hier) == "/"


# ================================================================ threads and processes


def test_v1_tasks_vs_procs_with_threads(world):
    a, b = world.mkdir("freezer", "a"), world.mkdir("freezer", "b")
    tids = world.spawn_threads(3)
    leader, t1, t2, t3 = tids
    assert world.write(str(t1), "freezer", a, "tasks") > 0
    assert [world.where(t, "freezer") for t in tids] == ["/", a, "/", "/"]
    snap = world.backend.snapshot(["freezer"], subtree=world.top("freezer"))["freezer"]
    assert list(snap[a].threads) == [t1] and list(snap[a].procs) == [leader]
    f = world.backend.open_membership("freezer", a, "cgroup.procs", write=False)
    try:
        assert f.read() == b"%d\n" % leader
    finally:
        f.close()
    assert world.write(str(t2), "freezer", b, "cgroup.procs") > 0     # a non-leader TID
    assert {world.where(t, "freezer") for t in tids} == {b}


def test_v2_procs_moves_process(world):
    a = world.mkdir("unified", "a")
    tids = world.spawn_threads(2)
    assert world.write(str(tids[2]), "unified", a, "cgroup.procs") > 0
    assert {world.where(t, "unified") for t in tids} == {a}


def test_v2_threads_outside_threaded_subtree(world):
    a = world.mkdir("unified", "a")
    tids = world.spawn_threads(2)
    assert world.write(str(tids[1]), "unified", a, "cgroup.threads") == "EOPNOTSUPP"
    assert world.where(tids[1], "unified") == "/"


def test_v2_threaded_subtree_and_domain_invalid(world):
    p = world.mkdir("unified", "P")
    a, b, c = world.mkdir("unified", "P/A"), world.mkdir("unified", "P/B"), world.mkdir("unified", "P/B/C")
    assert world.set_type("unified", a) == 8
    types = [world.backend.cgroup_state("unified", x).cgroup_type for x in (p, a, b, c)]
    assert types == ["domain threaded", "threaded", "domain invalid", "domain invalid"]
    d = world.mkdir("unified", "P/A/D")
    assert world.backend.cgroup_state("unified", d).cgroup_type == "domain invalid"
    assert world.set_type("unified", d) == 8
    tids = world.spawn_threads(2)
    leader, t1, t2 = tids
    for target in (b, c):
        v = _predict(world, leader, f"unified:{target}")
        assert (v.kind, v.errno, v.hook) == ("refused", "EOPNOTSUPP", "v2-destination"), v
        assert world.write(str(leader), "unified", target) == "EOPNOTSUPP"
    assert _predict(world, leader, f"unified:{a}").kind == "move"
    assert world.write(str(leader), "unified", a, "cgroup.procs") > 0      # whole process
    assert {world.where(t, "unified") for t in tids} == {a}
    f = world.backend.open_membership("unified", a, "cgroup.procs", write=False)
    try:
        with pytest.raises(OSError) as e:
            f.read()
        assert e.value.errno == errno.EOPNOTSUPP
    finally:
        f.close()
    for t, target in ((t1, p), (t2, d)):                                   # same domain
        assert _predict(world, t, f"unified:{target}", threads=True).kind == "move"
        assert world.write(str(t), "unified", target, "cgroup.threads") > 0
    assert [world.where(t, "unified") for t in tids] == [a, p, d]
    v = _predict(world, t1, "unified:/", threads=True)
    assert (v.kind, v.errno, v.hook) == ("refused", "EOPNOTSUPP", "v2-destination"), v
    assert world.write(str(t1), "unified", "/", "cgroup.threads") == "EOPNOTSUPP"
    snap = world.backend.snapshot(["unified"], subtree=p)["unified"]
    shape = {x: (list(c_.threads), list(c_.procs)) for x, c_ in snap.containers.items()}
    assert shape == {p: ([t1], [leader]), a: ([leader], [leader]), d: ([t2], [leader]),
                     b: ([], []), c: ([], [])}
    # a populated cgroup cannot become threaded
    e_ = world.mkdir("unified", "E")
    q = world.spawn_sleep()
    world.put(q, "unified", e_)
    assert world.set_type("unified", e_) == "EOPNOTSUPP"


def _predict(world, pid: int, target: str, threads: bool = False):
    """The engine's plan for one PID (its built-in hooks on the world's backend, no write)."""
    e = AttachEngine(world.backend, policy=Policy(), load_entry_points=False)
    return e.plan([pid], CgroupRef.parse(target), threads=threads).verdicts[0]


def test_v2_threaded_controllers_only_with_populated_or_empty_children(world):
    """P enables only threaded controllers (+cpu +pids). With a populated domain child P
    cannot become a thread root, so no internal processes applies: EBUSY (seen on a Debian
    12 guest). With only empty children the move succeeds and makes P a thread root: P turns
    `domain threaded`, its child `domain invalid`, which then takes no task (EOPNOTSUPP).
    The engine predicts the EBUSY, and warns of the type change before the move."""
    world.need_v2_controllers("cpu", "pids")
    top = world.top("unified")
    assert world.subtree_control(top, "+cpu +pids") == len("+cpu +pids")
    p, c = world.mkdir("unified", "P"), world.mkdir("unified", "P/C")
    assert world.subtree_control(p, "+cpu +pids") == len("+cpu +pids")
    q, r = world.spawn_sleep(), world.spawn_sleep()
    world.put(q, "unified", c)
    v = _predict(world, r, f"unified:{p}")
    assert (v.kind, v.errno, v.hook) == ("refused", "EBUSY", "v2-destination"), v
    assert c in v.reason
    assert world.write(str(r), "unified", p) == "EBUSY"
    assert world.where(r, "unified") == "/"
    # the child empty: predicted with a warning, then the kernel turns the types
    world.put(q, "unified", "/")
    assert [world.backend.cgroup_state("unified", x).cgroup_type for x in (p, c)] == ["domain", "domain"]
    v = _predict(world, r, f"unified:{p}")
    assert v.kind == "move", v
    assert any("domain invalid" in w and c in w for w in v.warnings), v.warnings
    assert world.write(str(r), "unified", p) == len(str(r))
    assert world.where(r, "unified") == p
    assert [world.backend.cgroup_state("unified", x).cgroup_type for x in (p, c)] == [
        "domain threaded", "domain invalid"]
    v = _predict(world, q, f"unified:{c}")
    assert (v.kind, v.errno, v.hook) == ("refused", "EOPNOTSUPP", "v2-destination"), v
    assert world.write(str(q), "unified", c) == "EOPNOTSUPP"
    assert world.where(q, "unified") == "/"


def test_v2_no_internal_process_with_domain_controllers(world):
    """P enables a domain controller (+io) for its children: cgroup v2 allows no process in
    it, with or without a child (EBUSY), predicted; its leaf child takes the task."""
    world.need_v2_controllers("io")
    top = world.top("unified")
    assert world.subtree_control(top, "+io") == len("+io")
    p = world.mkdir("unified", "P")
    assert world.subtree_control(p, "+io") == len("+io")
    r = world.spawn_sleep()
    for child in (None, "P/C"):
        if child:
            world.mkdir("unified", child)
        v = _predict(world, r, f"unified:{p}")
        assert (v.kind, v.errno, v.hook) == ("refused", "EBUSY", "v2-destination"), v
        assert world.write(str(r), "unified", p) == "EBUSY"
        assert world.where(r, "unified") == "/"
    assert world.backend.cgroup_state("unified", p).cgroup_type == "domain"
    c = p + "/C"
    assert _predict(world, r, f"unified:{c}").kind == "move"
    assert world.write(str(r), "unified", c) == len(str(r))
    assert world.where(r, "unified") == c
    assert world.subtree_control(c, "+io") == "EBUSY"  # C holds a task: no internal processes


def test_v2_stats_of_every_enabled_controller(world):
    """A cgroup whose parent enables cpu, io, memory and pids shows each controller's stats
    files (beside the core ones), with its one task counted."""
    world.need_v2_controllers("cpu", "io", "memory", "pids")
    top = world.top("unified")
    assert world.subtree_control(top, "+cpu +io +memory +pids") == len("+cpu +io +memory +pids")
    cg = world.mkdir("unified", "a")
    r = world.spawn_sleep()
    world.put(r, "unified", cg)
    b = world.backend
    psi = b.psi if world.kind == "sim" else os.path.isfile("/proc/pressure/cpu")
    own_psi = {"cpu.pressure", "memory.pressure", "io.pressure"} if psi else set()
    stats = b.cgroup_stats("unified", cg)
    assert set(stats) == {"cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze",
                          "cpu.stat", "pids.current", "pids.max", "memory.current", "memory.swap.current",
                          "io.stat"} | own_psi, sorted(stats)
    assert (stats["pids.current"], stats["pids.max"]) == ("1", "max")
    assert int(stats["memory.current"]) > 0 and int(stats["memory.swap.current"]) >= 0
    assert stats["cgroup.events"].splitlines()[0] == "populated 1"
    assert b.cgroup_state("unified", top).subtree_control == ("cpu", "io", "memory", "pids")


def test_v2_cpuset_partition_without_cpus_enospc(world):
    """A v2 cpuset partition whose CPUs all went to a child partition has no effective CPU
    left and takes no task: ENOSPC, predicted by the cpuset hook; its child partition
    takes it. Needs a v2 root enabling cpuset and two CPUs (CPU 1 is lent to the test's
    partitions and goes back when they are removed)."""
    world.need_v2_controllers("cpuset")
    world.need_cpus(2)
    top = world.top("unified")  # a partition root holding CPU 1 (the root keeps the others)
    assert world.cpuset_v2(top, "cpuset.cpus", "1") == 1
    assert world.cpuset_v2(top, "cpuset.cpus.partition", "root") == 4
    assert world.subtree_control(top, "+cpuset") == len("+cpuset")
    c = world.mkdir("unified", "C")  # its child partition takes CPU 1: none is left to the top
    assert world.cpuset_v2(c, "cpuset.cpus", "1") == 1
    assert world.cpuset_v2(c, "cpuset.cpus.partition", "root") == 4
    assert world.backend.cgroup_state("unified", top).cpuset_cpus == ""
    assert world.backend.cgroup_state("unified", c).cpuset_cpus == "1"
    r = world.spawn_sleep()
    v = _predict(world, r, f"unified:{top}")
    assert (v.kind, v.errno, v.hook) == ("refused", "ENOSPC", "cpuset"), v
    assert world.write(str(r), "unified", top) == "ENOSPC"
    assert world.where(r, "unified") == "/"
    assert _predict(world, r, f"unified:{c}").kind == "move"
    assert world.write(str(r), "unified", c) == len(str(r))
    assert world.where(r, "unified") == c


def test_v2_cpuset_move_of_a_root_task_by_a_delegated_writer(world):
    """v2 checks no uid: a writer owning the common ancestor may move a root task between
    two cpusets of its subtree -- but before 6.6 cpuset's attach check also asks the
    scheduler's permission, which an unprivileged writer lacks for a root task: EPERM."""
    world.need_v2_controllers("cpuset")
    top = world.top("unified")
    assert world.subtree_control(top, "+cpuset") == len("+cpuset")
    d = world.mkdir("unified", "d")
    x, y = world.mkdir("unified", "d/x"), world.mkdir("unified", "d/y")
    assert world.subtree_control(d, "+cpuset") == len("+cpuset")
    for cg in (d, x, y):
        world.chown("unified", cg, 65534)
    r = world.spawn_sleep()
    world.put(r, "unified", x)
    kind, code, hook, warnings = world.predict_as(65534, r, "unified", y)
    rule = world.backend.cpuset_setscheduler_check  # the real backend cannot tell: None
    if rule is None:  # predicted with a warning that names the EPERM of older kernels
        assert kind == "move" and any("EPERM" in w and "6.6" in w for w in warnings), (kind, warnings)
    else:
        assert (kind, code, hook) == (("refused", "EPERM", "cpuset") if rule else ("move", None, None))
    got = world.write(str(r), "unified", y, as_uid=65534)
    if world.cpuset_asks_the_scheduler():
        assert (got, world.where(r, "unified")) == ("EPERM", x)
    else:
        assert (got, world.where(r, "unified")) == (len(str(r)), y)


# ================================================================ permission


@pytest.mark.parametrize("hier,file", [("freezer", "tasks"), ("unified", "cgroup.procs")])
def test_file_not_writable_eacces(world, hier, file):
    cg = world.mkdir(hier, "a")
    mine = world.spawn_as(65534)
    assert world.write(str(mine), hier, cg, file, as_uid=65534) == "EACCES"
    assert world.where(mine, hier) == "/"


def test_v1_uid_rule(world):
    cg = world.mkdir("freezer", "a")
    world.chown("freezer", cg, 65534)
    root_task, mine = world.spawn_sleep(), world.spawn_as(65534)
    assert world.write(str(root_task), "freezer", cg, "tasks", as_uid=65534) == "EACCES"
    assert world.write(str(mine), "freezer", cg, "tasks", as_uid=65534) == len(str(mine))
    assert (world.where(root_task, "freezer"), world.where(mine, "freezer")) == ("/", cg)


def test_v2_delegation_common_ancestor(world):
    top = world.mkdir("unified", "d")
    x, y = world.mkdir("unified", "d/x"), world.mkdir("unified", "d/y")
    root_task = world.spawn_sleep()
    world.put(root_task, "unified", x)
    world.chown("unified", x, 65534)
    world.chown("unified", y, 65534)
    assert world.write(str(root_task), "unified", y, as_uid=65534) == "EACCES"   # d is root's
    world.chown("unified", top, 65534)
    assert world.write(str(root_task), "unified", y, as_uid=65534) == len(str(root_task))
    assert world.where(root_task, "unified") == y                              # no uid check
    outside = world.spawn_as(65534)
    assert world.write(str(outside), "unified", y, as_uid=65534) == "EACCES"   # ancestor: root


def test_v2_delegation_containment_for_a_non_root_user(world):
    """A user owning a subtree (d, its children x and y, cgroup.procs included) moves its own
    task between two of its cgroups; a move to z, a cgroup it owns too but whose common
    ancestor with y is root's, is refused EACCES. The engine, asked as that user, predicts
    both."""
    uid = 65534
    d = world.mkdir("unified", "d")
    x, y, z = world.mkdir("unified", "d/x"), world.mkdir("unified", "d/y"), world.mkdir("unified", "z")
    for cg in (d, x, y, z):
        world.chown("unified", cg, uid)
    mine = world.spawn_as(uid)
    world.put(mine, "unified", x)
    assert world.predict_as(uid, mine, "unified", y)[:3] == ("move", None, None)
    assert world.write(str(mine), "unified", y, as_uid=uid) == len(str(mine))
    assert world.where(mine, "unified") == y
    assert world.predict_as(uid, mine, "unified", z)[:3] == ("refused", "EACCES", "v2-delegation")
    assert world.write(str(mine), "unified", z, as_uid=uid) == "EACCES"
    assert world.where(mine, "unified") == y


@pytest.mark.parametrize("hier,files", [("freezer", {"tasks", "cgroup.procs"}),
                                        ("unified", {"cgroup.procs", "cgroup.threads"})])
def test_writable_in_cgroup_state(world, hier, files):
    cg = world.mkdir(hier, "a")
    assert files <= world.backend.cgroup_state(hier, cg).writable


# ================================================================ subsystems


def test_empty_cpuset_enospc(world):
    cg = world.mkdir("cpuset", "empty", cpuset_empty=True)
    st = world.backend.cgroup_state("cpuset", cg)
    assert (st.cpuset_cpus, st.cpuset_mems) == ("", "")
    tids = world.spawn_threads(2)
    assert world.write(str(tids[0]), "cpuset", cg, "cgroup.procs") == "ENOSPC"
    assert world.write(str(tids[1]), "cpuset", cg, "tasks") == "ENOSPC"
    assert {world.where(t, "cpuset") for t in tids} == {"/"}
    ok = world.mkdir("cpuset", "ok")
    assert world.write(str(tids[0]), "cpuset", ok, "cgroup.procs") > 0


def _plan_one(world, pid: int, hier: str, path: str, writer_euid: int | None = None, threads: bool = False):
    """The engine's verdict on `world.backend` (all built-in hooks), optionally as if a
    writer with that euid asked (the facts of the task are the backend's own)."""
    from ctrtui.engine import AttachEngine, Policy
    from ctrtui.model import CgroupRef

    backend = world.backend if writer_euid is None else _AsWriter(world.backend, writer_euid)
    e = AttachEngine(backend, policy=Policy(), load_entry_points=False)
    return e.plan([pid], CgroupRef(hier, path), threads=threads).verdicts[0]


class _AsWriter:
    """A backend that reports another writer (for the hooks' view only; nothing is written)."""

    def __init__(self, backend, euid: int) -> None:
        self._b, self._euid = backend, euid

    def __getattr__(self, name):
        return getattr(self._b, name)

    def writer(self):
        from ctrtui.model import Creds

        return Creds(self._euid, self._euid)


@pytest.mark.parametrize("empty", ["cpus", "mems"])
def test_cpuset_with_only_cpus_or_only_mems_empty_enospc(world, empty):
    """Either one empty is enough for the cpuset controller to refuse (can_attach); the
    engine's hook predicts it."""
    cg = world.mkdir("cpuset", f"only-{empty}", cpuset_empty=True)
    top = world.backend.cgroup_state("cpuset", world.top("cpuset"))
    full = {"cpus": top.cpuset_cpus, "mems": top.cpuset_mems}
    assert all(full.values())
    world.set_cpuset("cpuset", cg, **{k: v for k, v in full.items() if k != empty})
    st = world.backend.cgroup_state("cpuset", cg)
    assert (st.cpuset_cpus == "", st.cpuset_mems == "") == (empty == "cpus", empty == "mems")
    p = world.spawn_sleep()
    v = _plan_one(world, p, "cpuset", cg)
    assert (v.kind, v.errno, v.hook) == ("refused", "ENOSPC", "cpuset") and f"cpuset.{empty}" in v.reason
    assert world.write(str(p), "cpuset", cg, "cgroup.procs") == "ENOSPC"
    assert world.write(str(p), "cpuset", cg, "tasks") == "ENOSPC"
    assert world.where(p, "cpuset") != cg


@pytest.mark.parametrize("task_ids,ok", [
    ((65533, 65533, 65534), True),    # only the task's saved uid is the writer's euid
    ((65534, 65533, 65533), True),    # only its real uid
    ((65533, 65534, 65533), False),   # only its effective uid: the kernel does not look at it
])
def test_v1_uid_rule_real_and_saved_uid_of_the_task(world, task_ids, ok):
    """cgroup1_procs_write: a non-root writer may move a task whose real or saved uid is the
    writer's euid. The engine reads the three uids and predicts the same."""
    cg = world.mkdir("freezer", "uids")
    world.chown("freezer", cg, 65534)
    p = world.spawn_ids(*task_ids)
    before = world.where(p, "freezer")
    v = _plan_one(world, p, "freezer", cg, writer_euid=65534)
    got = world.write_as_ids(str(p), "freezer", cg, "tasks", (65534, 65534, 65534))
    if ok:
        assert v.kind == "move" and got == len(str(p)) and world.where(p, "freezer") == cg
    else:
        assert (v.kind, v.errno, v.hook) == ("refused", "EACCES", "v1-permission") and got == "EACCES"
        assert world.where(p, "freezer") == before


def test_v1_uid_rule_ignores_the_writers_saved_uid(world):
    """The writer's saved uid does not count either: only its euid (from the open)."""
    cg = world.mkdir("freezer", "writer-suid")
    world.chown("freezer", cg, 65533)
    p = world.spawn_as(65534)
    before = world.where(p, "freezer")
    assert world.write_as_ids(str(p), "freezer", cg, "tasks", (65533, 65533, 65534)) == "EACCES"
    assert world.where(p, "freezer") == before != cg
    world.chown("freezer", cg, 65534)  # the control: the same task, a writer whose euid is its uid
    assert world.write_as_ids(str(p), "freezer", cg, "tasks", (65533, 65534, 65533)) == len(str(p))
    assert world.where(p, "freezer") == cg
    v = _plan_one(world, p, "freezer", before, writer_euid=65533)
    assert (v.kind, v.errno, v.hook) == ("refused", "EACCES", "v1-permission")


def test_frozen_v2_cgroup_and_its_children(world):
    """v2 freezer: cgroup.freeze=1 freezes the cgroup and its descendants; the state says
    so for both (own cgroup.freeze, or cgroup.events `frozen 1`) and the engine warns."""
    cold = world.mkdir("unified", "cold")
    inner = world.mkdir("unified", "cold/inner")
    p = world.spawn_sleep()
    assert world.backend.cgroup_state("unified", inner).freezer_state == "0"
    world.freeze_v2(cold, True)
    deadline = time.monotonic() + 5
    while (world.backend.cgroup_state("unified", inner).freezer_state != "1"
           and time.monotonic() < deadline):
        time.sleep(0.01)
    for path in (cold, inner):
        assert world.backend.cgroup_state("unified", path).freezer_state == "1"
        v = _plan_one(world, p, "unified", path)
        assert v.kind == "move" and any("frozen" in w and "thawed" in w for w in v.warnings), v.warnings
    assert world.backend.cgroup_stats("unified", inner)["cgroup.freeze"] == "0"
    world.freeze_v2(cold, False)
    deadline = time.monotonic() + 5
    while (world.backend.cgroup_state("unified", inner).freezer_state != "0"
           and time.monotonic() < deadline):
        time.sleep(0.01)
    assert world.backend.cgroup_state("unified", inner).freezer_state == "0"
    assert not _plan_one(world, p, "unified", inner).warnings


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_own_freeze_setting_and_identity(world, hier):
    """A child of a frozen cgroup is frozen but not by its own setting (v2 `cgroup.freeze`,
    v1 `freezer.self_freezing`); a cgroup removed and made again under the same name has
    another identity (its directory's inode)."""
    b = world.backend
    cold = world.mkdir(hier, "own")
    inner = world.mkdir(hier, "own/inner")
    assert (b.cgroup_state(hier, cold).self_frozen, b.cgroup_state(hier, inner).self_frozen) == (False, False)
    b.set_frozen(hier, cold, True)
    try:
        deadline = time.monotonic() + 5
        while b.cgroup_state(hier, inner).freezer_state not in ("1", "FROZEN") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b.cgroup_state(hier, inner).freezer_state in ("1", "FROZEN")
        assert (b.cgroup_state(hier, cold).self_frozen, b.cgroup_state(hier, inner).self_frozen) == (True, False)
    finally:
        b.set_frozen(hier, cold, False)
    first = b.cgroup_state(hier, inner).cgroup_id
    assert isinstance(first, int) and first != b.cgroup_state(hier, cold).cgroup_id
    world.rmdir(hier, inner)
    again = world.mkdir(hier, "own/inner")
    assert again == inner and b.cgroup_state(hier, inner).cgroup_id not in (None, first)
    assert b.cgroup_state(hier, "/").self_frozen is None


@pytest.mark.parametrize("hier,file,frozen", [("freezer", "tasks", "FROZEN"), ("unified", "cgroup.procs", "1")])
def test_frozen_freezer_accepts(world, hier, file, frozen):
    """A move into a frozen cgroup (v1 freezer.state FROZEN, v2 cgroup.freeze 1) and out of
    it again is accepted; the engine predicts both moves, warning of the frozen target."""
    cold, warm = world.mkdir(hier, "cold"), world.mkdir(hier, "warm")
    if hier == "unified":
        world.freeze_v2(cold, True)
    else:
        world.set_freezer(hier, cold, frozen)
    assert world.backend.cgroup_state(hier, cold).freezer_state == frozen
    p = world.spawn_sleep()
    v = _plan_one(world, p, hier, cold)
    assert v.kind == "move" and any("thawed" in w for w in v.warnings), v
    assert world.write(str(p), hier, cold, file) == len(str(p))
    assert world.where(p, hier) == cold
    v = _plan_one(world, p, hier, warm)
    assert v.kind == "move" and not any("thawed" in w for w in v.warnings), v
    assert world.write(str(p), hier, warm, file) == len(str(p))
    assert world.where(p, hier) == warm
    deadline = time.monotonic() + 5
    while world.state(p) != "S" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert world.state(p) == "S"


@pytest.mark.parametrize("hier", ["pids", "unified"])
def test_pids_max_does_not_refuse_attach(world, hier):
    if hier == "unified":  # v2: the top enables pids for its children
        world.need_v2_controllers("pids")
        assert world.subtree_control(world.top(hier), "+pids") == len("+pids")
    cg = world.mkdir(hier, "full")
    world.set_pids_max(hier, cg, 0)
    p = world.spawn_sleep()
    assert _plan_one(world, p, hier, cg).kind == "move"
    assert world.write(str(p), hier, cg, "cgroup.procs") == len(str(p))
    assert world.where(p, hier) == cg
    assert world.backend.cgroup_stats(hier, cg)["pids.max"] == "0"


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_stats_shapes(world, hier):
    if hier == "freezer":
        fz = world.mkdir("freezer", "a")
        assert set(world.backend.cgroup_stats("freezer", fz)) == {"freezer.state"}
        return
    un = world.mkdir("unified", "a")
    un_stats = world.backend.cgroup_stats("unified", un)
    assert {"cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze",
            "cpu.stat"} <= set(un_stats)
    assert un_stats["cgroup.type"] == "domain" and un_stats["cgroup.freeze"] == "0"
    assert un_stats["cgroup.events"].splitlines()[0] == "populated 0"


# ================================================================ task handles and task facts


def test_task_handle_and_facts(world):
    tids = world.spawn_threads(2)
    leader, t1 = tids[0], tids[1]
    b = world.backend
    assert b.thread_ids(leader) == tuple(tids)
    assert b.task_state(t1).tgid == leader and b.task_state(t1).is_thread
    assert b.task_state(leader).threads == 3
    with b.open_task(t1, thread=True) as h:
        assert h.alive() and h.start_time() == b.task_state(t1).start_time
    h = b.open_task(leader)
    try:
        assert h.alive()
        world.kill(leader)
        assert not h.alive()                    # a zombie counts as exited
        assert h.start_time() is not None       # ... but is not reaped yet
        assert b.task_state(leader).state == "Z"
        assert b.thread_ids(leader) == (leader,)       # the zombie leader only
        assert b.task_cgroups(leader)["unified"] == "/"
    finally:
        h.close()
    with pytest.raises(OSError) as e:
        b.open_task(world.free_pid())
    assert e.value.errno == errno.ESRCH
    assert b.task_cgroups(world.free_pid()) is None


@pytest.mark.parametrize("hier", ["cpu", "cpuset", "freezer", "pids", "unified"])
def test_state_and_stats_keys(world, hier):
    """The same stats files and cgroup facts for a fresh cgroup and for the root (which has
    the machine's /proc figures too, pressure from its own files on v2)."""
    b = world.backend
    cg = world.mkdir(hier, "a")
    psi = b.psi if world.kind == "sim" else os.path.isfile("/proc/pressure/cpu")
    own_psi = {"cpu.pressure", "memory.pressure", "io.pressure"} if psi else set()
    machine = {"/proc/meminfo", "/proc/loadavg", "/proc/stat"}
    proc_psi = {"/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io"} if psi else set()
    # what the v2 root enables for its children: nothing on a hybrid host, systemd's choice on a pure v2 one
    root_ctl = b.cgroup_state("unified", "/").subtree_control
    for path in ("/", cg):
        st = b.cgroup_state(hier, path)
        facts = (st.version, st.cgroup_type, st.subtree_control, st.freezer_state, st.writable)
        expect = {
            ("unified", "/"): (2, None, root_ctl, None, {"cgroup.procs", "cgroup.threads"}),
            ("unified", cg): (2, "domain", (), "0", {"cgroup.procs", "cgroup.threads"}),
            ("freezer", "/"): (1, None, (), None, {"tasks", "cgroup.procs"}),
            ("freezer", cg): (1, None, (), "THAWED", {"tasks", "cgroup.procs"}),
        }.get((hier, path), (1, None, (), None, {"tasks", "cgroup.procs"}))
        assert facts == expect, path
        keys = set(b.cgroup_stats(hier, path))
        expect_keys = {
            ("unified", "/"): {"cgroup.subtree_control", "cpu.stat"} | own_psi | machine
            | ({"io.stat"} & keys if "io" in root_ctl else set()),
            ("unified", cg): {"cgroup.type", "cgroup.subtree_control", "cgroup.events",
                              "cgroup.freeze", "cpu.stat"} | own_psi,
            ("freezer", cg): {"freezer.state"},
            ("cpuset", "/"): {"cpuset.cpus", "cpuset.mems"} | machine | proc_psi,
            ("cpuset", cg): {"cpuset.cpus", "cpuset.mems"},
            ("pids", cg): {"pids.current", "pids.max"},
        }.get((hier, path), machine | proc_psi if path == "/" else set())
        assert keys == expect_keys, path
    assert b.cgroup_state(hier, cg + "/nope") is None
    assert b.cgroup_stats(hier, cg + "/nope") == {}


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_read_cgroups_matches_the_snapshot(world, hier):
    """`read_cgroups` (the UI's per-tick read) gives each cgroup as a snapshot holds it:
    child list and members, without walking below; None for a cgroup that is gone."""
    a = world.mkdir(hier, "a")
    world.mkdir(hier, "a/z")
    world.mkdir(hier, "a/b")
    b = world.mkdir(hier, "b")
    tids = world.spawn_threads(2)
    leader, t1, t2 = tids
    assert world.write(str(leader), hier, a) > 0
    top = world.top(hier)
    snap = world.backend.snapshot([hier], subtree=top)[hier]
    read = world.backend.read_cgroups(hier, [a, b, top, a + "/gone"])
    assert set(read) == {a, b, top, a + "/gone"} and read[a + "/gone"] is None
    for p in (a, b, top):
        c, s = read[p], snap[p]
        assert c is not None and c.path == p
        assert c.children == s.children, p
        assert list(c.threads) == list(s.threads) and list(c.procs) == list(s.procs), p
    assert read[a].children == (a + "/b", a + "/z") and sorted(read[a].threads) == sorted(tids)
    assert list(read[a].procs) == [leader] and len(read[b].threads) == 0


# ----------------------------------------------------------------------------- cgroup admin


def _admin(call, *args) -> str:
    try:
        call(*args)
        return "ok"
    except OSError as e:
        return ename(e.errno)


@pytest.mark.parametrize("hier", ["freezer", "pids", "unified"])
def test_mkdir_and_rmdir_errnos(world, hier):
    """mkdir/rmdir through the backend's CgroupAdmin give the kernel's errnos: EEXIST for a
    taken name (a cgroup, an interface file), EINVAL for a newline, ENOENT for a missing
    parent, EBUSY for a cgroup with a child or a task, ENAMETOOLONG at PATH_MAX."""
    b = world.backend
    top = world.top(hier)
    assert _admin(b.make_cgroup, hier, top + "/new") == "ok"
    assert b.cgroup_state(hier, top + "/new") is not None
    assert _admin(b.make_cgroup, hier, top + "/new") == "EEXIST"
    assert _admin(b.make_cgroup, hier, top + "/cgroup.procs") == "EEXIST"
    assert _admin(b.make_cgroup, hier, top + "/tasks") == ("ok" if hier == "unified" else "EEXIST")
    assert _admin(b.make_cgroup, hier, top + "/a\nb") == "EINVAL"
    assert _admin(b.make_cgroup, hier, top + "/missing/child") == "ENOENT"
    assert _admin(b.make_cgroup, hier, top + "/" + "x" * 300) == "ok"  # kernfs takes names past NAME_MAX
    assert _admin(b.make_cgroup, hier, top + "/" + "y" * 4095) == "ENAMETOOLONG"
    assert _admin(b.make_cgroup, hier, top + "/new/child") == "ok"
    assert _admin(b.remove_cgroup, hier, top + "/new") == "EBUSY"  # a child
    assert _admin(b.remove_cgroup, hier, top + "/new/child") == "ok"
    p = world.spawn_sleep()
    world.put(p, hier, top + "/new")
    assert _admin(b.remove_cgroup, hier, top + "/new") == "EBUSY"  # a task
    world.put(p, hier, top)
    assert _admin(b.remove_cgroup, hier, top + "/new") == "ok"
    assert b.cgroup_state(hier, top + "/new") is None
    assert _admin(b.remove_cgroup, hier, top + "/new") == "ENOENT"
    assert _admin(b.remove_cgroup, hier, "/") == "EBUSY"
    assert _admin(b.remove_cgroup, hier, top + "/" + "x" * 300) == "ok"


@pytest.mark.parametrize("hier, frozen, thawed", [("freezer", "FROZEN", "THAWED"), ("unified", "1", "0")])
def test_freeze_and_thaw(world, hier, frozen, thawed):
    """set_frozen writes v1 freezer.state FROZEN/THAWED or v2 cgroup.freeze 1/0; a task
    inside stops (state D or S, not running); the root and a v1 hierarchy without the
    freezer have no such file (ENOENT). Always thawed at the end (the fixture too)."""
    b = world.backend
    cg = world.mkdir(hier, "ice")
    p = world.spawn_sleep()
    world.put(p, hier, cg)
    try:
        assert _admin(b.set_frozen, hier, cg, True) == "ok"
        deadline = time.monotonic() + 5
        while b.cgroup_state(hier, cg).freezer_state != frozen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b.cgroup_state(hier, cg).freezer_state == frozen
        assert _admin(b.set_frozen, hier, cg, True) == "ok"  # again: nothing changes
    finally:
        assert _admin(b.set_frozen, hier, cg, False) == "ok"
    assert b.cgroup_state(hier, cg).freezer_state == thawed
    assert _admin(b.set_frozen, hier, "/", True) == "ENOENT"
    if world.layout != "v2":  # a v1 hierarchy without the freezer (a pure v2 host has none)
        assert _admin(b.set_frozen, "pids", world.top("pids"), True) == "ENOENT"
