"""Throwaway real cgroups and own processes for tests that touch the real kernel.

Rules (docs/testing.md, "Real cgroups in tests"; never break): cgroups are created only as `ctrtui-test-<hex>` and only
in the freezer, pids, cpu, cpuset and unified hierarchies; only processes started here are
moved; everything is undone in `RealWorld.__exit__`, even when the test failed.

    from tests.realcg import REAL_OK, REAL_WHY, RealWorld

    with RealWorld() as w:
        cg = w.mkdir("freezer", "a")          # '/ctrtui-test-1a2b3c4d/a'
        p = w.spawn_sleep()
        w.put(p.pid, "freezer", cg)
        assert w.cgroup_of(p.pid, "freezer") == cg

Hierarchies are named by a word: `freezer`, `pids`, `cpu`, `cpuset` (any controller of the
v1 hierarchy it is bound to) or `unified` (v2). Paths are paths inside the hierarchy, as
`/proc/PID/cgroup` shows them; `fs()` turns one into its directory on disk.

This module deliberately does not use ctrtui's own discovery: it is the independent
referee the backend is tested against.
"""

from __future__ import annotations

import errno
import os
import secrets
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

from devtools.cgroupdirs import rmdir_tree

#: The only hierarchies tests may create cgroups in.
ALLOWED = ("freezer", "pids", "cpu", "cpuset", "unified")
#: Controllers whose hierarchy must never be touched, even when co-mounted with an allowed one.
FORBIDDEN_CONTROLLERS = frozenset({"memory"})
PREFIX = "ctrtui-test-"


@dataclass(frozen=True)
class _Mount:
    """One mounted hierarchy as this module sees it."""

    word: str
    version: int
    controllers: tuple[str, ...]
    mount: str
    root: str
    hierarchy_id: int
    options: tuple[str, ...]


def _read(path: str) -> str:
    with open(path, errors="surrogateescape") as f:  # a cgroup name may be any bytes
        return f.read()


def _find_mounts() -> dict[str, _Mount]:
    """The allowed hierarchies that are mounted, by word."""
    try:
        mountinfo = _read("/proc/self/mountinfo")
        cgroups = _read("/proc/cgroups")
    except OSError:
        return {}
    ids: dict[str, int] = {}
    for line in cgroups.splitlines():
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) >= 2:
            ids[parts[0]] = int(parts[1])
    found: dict[str, _Mount] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 6 or len(rf) < 3:
            continue
        fstype, super_opts = rf[0], rf[2].split(",")
        mount_opts = tuple(lf[5].split(","))
        root, mnt = lf[3], lf[4].replace("\\040", " ")
        if fstype == "cgroup2":
            if "unified" not in found:
                found["unified"] = _Mount("unified", 2, (), mnt, root, 0, mount_opts)
            continue
        if fstype != "cgroup":
            continue
        ctrls = tuple(o for o in super_opts if o in ids or o.startswith("name="))
        if FORBIDDEN_CONTROLLERS & set(ctrls):
            continue
        for word in ALLOWED:
            if word in ctrls and word not in found:
                found[word] = _Mount(word, 1, ctrls, mnt, root, ids.get(word, 0), mount_opts)
    return found


def _layout(mounts: dict[str, _Mount]) -> str:
    """`v2` when cgroup v2 is the only hierarchy (mounted at /sys/fs/cgroup, no v1 one of the
    allowed words: a systemd host in its default set-up, e.g. the lab's guest), else `hybrid`
    (v1 hierarchies beside v2, as on the CI machine)."""
    unified = mounts.get("unified")
    if unified is not None and unified.mount == "/sys/fs/cgroup" and all(
            m.version == 2 for m in mounts.values()):
        return "v2"
    return "hybrid"


def _v2_enabled(mounts: dict[str, _Mount]) -> frozenset[str]:
    """The controllers the v2 hierarchy's root enables for its children (its
    `cgroup.subtree_control`)."""
    unified = mounts.get("unified")
    try:
        return frozenset(_read(unified.mount + "/cgroup.subtree_control").split()) if unified else frozenset()
    except OSError:
        return frozenset()


def _check() -> tuple[bool, str, dict[str, _Mount]]:
    if os.geteuid() != 0:
        return False, "real-cgroup tests need root (euid 0) to create cgroups and move tasks", {}
    mounts = _find_mounts()
    # on a pure v2 host only the unified hierarchy is needed (v1 scenarios skip, saying so)
    for word in ("unified",) if _layout(mounts) == "v2" else ALLOWED:
        m = mounts.get(word)
        if m is None:
            return False, f"the {word} cgroup hierarchy is not mounted", mounts
        if "ro" in m.options or not os.access(m.mount, os.W_OK):
            return False, f"the {word} cgroup hierarchy at {m.mount} is not writable", mounts
    return True, "", mounts


REAL_OK, REAL_WHY, _MOUNTS = _check()
"""True when real-cgroup tests can run; else REAL_WHY says why they skip."""
LAYOUT = _layout(_MOUNTS)
"""`v2` (pure cgroup v2, no v1 hierarchy) or `hybrid`: see `_layout`."""
V2_ENABLED = _v2_enabled(_MOUNTS)
"""The controllers the v2 root enables below it (`cgroup.subtree_control`): none on the CI
machine's hybrid layout; cpu, cpuset, io, memory and pids on the lab's systemd guest."""


class RealCgroupError(Exception):
    """A test asked RealWorld for something the rules forbid (e.g. the memory hierarchy)."""


class RealWorld:
    """Throwaway `ctrtui-test-<hex>` cgroups and own processes, undone on exit.

    Use as a context manager. The top cgroup is made lazily in each hierarchy asked for.
    Every process started here is registered; on exit each is moved back to the root of
    every hierarchy a top was made in, killed and reaped, then every directory under the
    tops is removed deepest first.
    """

    def __init__(self) -> None:
        if not REAL_OK:
            raise RealCgroupError(REAL_WHY)
        self.name = PREFIX + secrets.token_hex(4)
        self._tops: dict[str, str] = {}  # word -> hierarchy path of the top
        self._procs: list[subprocess.Popen] = []

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> RealWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # ------------------------------------------------------------------ hierarchies

    def _mount(self, hier: str) -> _Mount:
        if hier not in ALLOWED:
            for m in _MOUNTS.values():
                if hier in m.controllers or hier == ",".join(m.controllers):
                    return m
            raise RealCgroupError(
                f"tests may only create cgroups in {', '.join(ALLOWED)}; {hier!r} is not allowed")
        if hier not in _MOUNTS and LAYOUT == "v2":
            import pytest  # only a test asks for a v1 hierarchy on a pure v2 host
            pytest.skip(f"this host has pure cgroup v2 (no v1 {hier} hierarchy): a v1 scenario")
        return _MOUNTS[hier]

    def hierarchy_id(self, hier: str) -> int:
        """The hierarchy's ID as `/proc/PID/cgroup` shows it (0 for unified)."""
        return self._mount(hier).hierarchy_id

    def mount(self, hier: str) -> str:
        """Where the hierarchy is mounted."""
        return self._mount(hier).mount

    def fs(self, hier: str, path: str) -> str:
        """Directory on disk of the cgroup `path` (a path inside the hierarchy)."""
        m = self._mount(hier)
        rel = path
        if m.root != "/":
            if path == m.root or path.startswith(m.root + "/"):
                rel = path[len(m.root):] or "/"
        return m.mount if rel == "/" else m.mount + rel

    def root(self, hier: str) -> str:
        """Hierarchy path of the mount's root (normally `/`)."""
        return self._mount(hier).root

    def top(self, hier: str) -> str:
        """Hierarchy path of this world's top cgroup in `hier`, created on first use."""
        m = self._mount(hier)
        if m.word not in self._tops:
            path = ("" if m.root == "/" else m.root) + "/" + self.name
            self._tops[m.word] = path
            self._make(m, path, cpuset_empty=False)
        return self._tops[m.word]

    def mkdir(self, hier: str, rel: str = "", cpuset_empty: bool = False) -> str:
        """Create `top/rel` (and any missing level between) and return its hierarchy path.

        In cpuset the new cgroups get the parent's `cpuset.cpus`/`mems` copied, unless
        `cpuset_empty` (then the last level is left with empty cpus and mems). Idempotent.
        """
        m = self._mount(hier)
        path = self.top(hier)
        parts = [p for p in rel.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise RealCgroupError(f"bad relative cgroup path {rel!r}")
        for i, part in enumerate(parts):
            path = path + "/" + part
            self._make(m, path, cpuset_empty=cpuset_empty and i == len(parts) - 1)
        return path

    def _make(self, m: _Mount, path: str, cpuset_empty: bool) -> None:
        d = self.fs(m.word, path)
        try:
            os.mkdir(d)
        except FileExistsError:
            return
        if "cpuset" in m.controllers and not cpuset_empty:
            parent = os.path.dirname(d)
            for key in ("cpus", "mems"):
                name = "cpuset." + key if os.path.exists(os.path.join(d, "cpuset." + key)) else key
                value = _read(os.path.join(parent, name)).strip()
                self._write(os.path.join(d, name), value.encode() or b"\n")

    @staticmethod
    def _write(file: str, data: bytes) -> None:
        fd = os.open(file, os.O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def put(self, pid: int, hier: str, path: str, file: str = "cgroup.procs") -> None:
        """Write `pid` to the membership `file` of cgroup `path` (raw, for test set-up).
        Only a PID of this world's own processes or their threads may be put."""
        if not self._owns(pid):
            raise RealCgroupError(f"PID {pid} was not started by this RealWorld; tests move only their own tasks")
        self.top(hier)  # registers the hierarchy for clean-up
        self._write(os.path.join(self.fs(hier, path), file), str(pid).encode())

    def _owns(self, pid: int) -> bool:
        for p in self._procs:
            if p.pid == pid or os.path.exists(f"/proc/{p.pid}/task/{pid}"):
                return True
        return False

    def cgroup_of(self, pid: int, hier: str) -> str | None:
        """The task's cgroup path in `hier` from `/proc/PID/cgroup` (matched on the
        hierarchy ID; v2 is the `0::` line). None when the task is gone."""
        m = self._mount(hier)
        try:
            text = _read(f"/proc/{pid}/cgroup")
        except (FileNotFoundError, ProcessLookupError):
            return None
        for line in text.splitlines():
            hid, _, rest = line.partition(":")
            ctrls, _, path = rest.partition(":")
            if m.version == 2:
                if hid == "0" and ctrls == "":
                    return path
            elif int(hid) == m.hierarchy_id:
                return path
        return None

    # ------------------------------------------------------------------ processes

    def _popen(self, args: list[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        p = subprocess.Popen(args, **kw)
        self._procs.append(p)
        return p

    def spawn_sleep(self, seconds: float = 300) -> subprocess.Popen:
        """A `sleep` child, registered for clean-up."""
        return self._popen(["sleep", str(seconds)])

    def spawn_threads(self, n: int, comm: str | None = None) -> tuple[subprocess.Popen, list[int]]:
        """A child python with `n` extra sleeping threads. Returns (Popen, tids) where
        `tids[0]` is the leader (== pid) and `tids[1:]` the n extra threads, once all are up.
        With `comm`, the child first writes it to /proc/self/comm (max 15 bytes)."""
        code = (
            "import os, sys, threading, time\n"
            "comm = sys.argv[2]\n"
            "if comm:\n"
            "    open('/proc/self/comm', 'w').write(comm)\n"
            "ev = threading.Event()\n"
            "ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(int(sys.argv[1]))]\n"
            "[t.start() for t in ts]\n"
            "print(' '.join(str(x) for x in [os.getpid()] + [t.native_id for t in ts]), flush=True)\n"
            "time.sleep(3600)\n"
        )
        p = self._popen([sys.executable, "-c", code, str(n), comm or ""], stdout=subprocess.PIPE)
        line = p.stdout.readline()
        if not line:
            raise RealCgroupError("the threaded child exited before printing its thread IDs")
        return p, [int(x) for x in line.split()]

    def spawn_as(self, uid: int = 65534, gid: int = 65534, seconds: float = 300) -> subprocess.Popen:
        """A `sleep` running with uid, euid and suid (and gids) set to `uid`/`gid`."""

        def drop() -> None:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)

        return self._popen(["sleep", str(seconds)], preexec_fn=drop)

    def spawn_ids(self, ruid: int, euid: int, suid: int, gid: int = 65534) -> subprocess.Popen:
        """A child python that set its real, effective and saved uid with setresuid(2) itself
        and then sleeps (no exec after it: execve would copy the euid into the saved uid).
        Returns once the ids are set."""
        code = (
            "import os, sys, time\n"
            "os.setgroups([]); os.setresgid(*[int(sys.argv[4])] * 3)\n"
            "os.setresuid(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))\n"
            "print(*os.getresuid(), flush=True)\n"
            "time.sleep(3600)\n"
        )
        p = self._popen([sys.executable, "-c", code, str(ruid), str(euid), str(suid), str(gid)],
                        stdout=subprocess.PIPE)
        line = p.stdout.readline()
        if [int(x) for x in line.split()] != [ruid, euid, suid]:
            raise RealCgroupError(f"the child could not set its uids to {ruid, euid, suid}: {line!r}")
        return p

    def spawn_zombie(self) -> int:
        """A child that has exited and is not reaped (state Z) until clean-up. Returns its PID."""
        p = self._popen(["true"])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if task_state_letter(p.pid) == "Z":
                return p.pid
            time.sleep(0.005)
        raise RealCgroupError(f"child {p.pid} did not become a zombie")

    # ------------------------------------------------------------------ clean-up

    def cleanup(self) -> None:
        """Move own processes back to the roots, kill and reap them, remove the cgroups.
        Safe to call twice. Problems are reported as warnings, never raised, so the
        clean-up always runs to its end."""
        words = list(self._tops)
        for p in self._procs:
            if p.poll() is None or task_state_letter(p.pid) == "Z":
                for word in words:
                    self._evacuate(word, p.pid)
        for p in self._procs:
            try:
                if p.poll() is None:
                    p.kill()
                p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired) as e:
                warnings.warn(f"realcg: could not kill/reap own child {p.pid}: {e}", stacklevel=2)
            if p.stdout:
                p.stdout.close()
        self._procs.clear()
        for word in words:
            self._remove_tree(word)
        self._tops.clear()

    def _evacuate(self, word: str, pid: int) -> None:
        root = os.path.join(self.fs(word, self.root(word)), "cgroup.procs")
        try:
            self._write(root, str(pid).encode())
        except OSError as e:
            if e.errno != errno.ESRCH:
                warnings.warn(f"realcg: could not move own PID {pid} back to the {word} root: {e}", stacklevel=2)

    def _members(self, d: str) -> set[int]:
        pids: set[int] = set()
        for name in ("cgroup.procs", "cgroup.threads", "tasks"):
            try:
                pids.update(int(x) for x in _read(os.path.join(d, name)).split())
            except OSError:
                pass
        return pids

    def _remove_tree(self, word: str) -> None:
        def evacuate(d: str) -> None:
            # Something a test put there is still inside: only tasks tests moved can be in a
            # ctrtui-test cgroup, so send them back to the root.
            for pid in self._members(d):
                self._evacuate(word, pid)

        for d, e in rmdir_tree(self.fs(word, self._tops[word]), wait=2, busy=evacuate):
            warnings.warn(f"realcg: could not remove {d}: {e}", stacklevel=2)


def task_state_letter(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (None when the PID is gone)."""
    try:
        text = _read(f"/proc/{pid}/stat")
    except OSError:
        return None
    return text[text.rfind(")") + 2]
