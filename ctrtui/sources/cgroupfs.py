"""The real backend: cgroup hierarchies under /sys/fs/cgroup (v1, v2 and hybrid).

Discovery reads `/proc/self/mountinfo` (docs/kernel.md, "Finding the hierarchies"): every
`cgroup` (v1) and `cgroup2` mount, deduplicated by the `major:minor` field (a hierarchy
mounted twice is one hierarchy; the mount whose root is `/` wins). A v1 hierarchy's
controllers come from the super options (`rw,cpu,cpuacct`, `rw,name=systemd`) and its name
and ID from `/proc/self/cgroup`, matched by the set of controllers (this works for named
hierarchies too, which `/proc/cgroups` does not list). v2 is named `unified`; its
controllers are its root's `cgroup.controllers`. Order: v1 by hierarchy ID, then v2.

Snapshots walk each hierarchy with `os.scandir` and read every membership file to EOF with
raw `os.open`/`os.read`/`os.close`, parsing bytes straight into `array('i')`. Kernel facts
this relies on (kernel/cgroup/cgroup-v1.c, fs/seq_file.c):
- v1 `tasks` and `cgroup.procs` are sorted and unique even across several read() calls
  (the pidlist is resumed by PID value), so they are not sorted again;
- v2 `cgroup.procs`/`cgroup.threads` are unsorted and may repeat a task that moved out and
  back during the read, so they are sorted and deduplicated;
- a seq_file read fills one page-sized buffer and stops early only at EOF or when the next
  record does not fit, so a first read() returning much less than a page has reached EOF
  and the extra read() that would return b"" is skipped (one syscall fewer per file).
"""

from __future__ import annotations

import errno
import os
import select
import signal
import stat
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import TypeVar

from ctrtui.model import (
    EMPTY,
    CgroupState,
    Container,
    Creds,
    Hierarchy,
    HierarchySnapshot,
    Snapshot,
    TaskInfo,
    contains,
    find_hierarchy,
    is_ancestor,
    sorted_pids,
)
from ctrtui.sources import CGROUP_ADMIN, POLL_EXITS, TASK_PROBES, WRITE
from ctrtui.sources.procfs import (
    ProcReader,
    parse_stat,
    parse_status,
    pidfd_creds,
    read_bytes,
    read_rest,
    read_single,
    read_task,
    task_info,
)

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ctrtui.sources.base import Backend, CgroupAdmin, ExitPoller, Probe, ProbeHeld, TaskHandle, TaskProber


MEMBERSHIP_FILES = ("tasks", "cgroup.procs", "cgroup.threads")

#: mount/super options of a v1 cgroup mount that are not controllers.
_V1_OPTIONS = frozenset({
    "rw", "ro", "none", "all", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
    "favordynmods", "nofavordynmods",
})

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_O_WRONLY = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)

# A first read() shorter than this has met EOF (see the module docstring); longer ones
# are followed by more reads until one returns b"".
_SHORT_READ = 2048
_READ_SIZE = 65536

_GONE = (errno.ENOENT, errno.ENODEV, errno.ESRCH)


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (`\\040`)."""
    if "\\" not in field:
        return field
    return (field.replace("\\040", " ").replace("\\011", "\t")
            .replace("\\012", "\n").replace("\\134", "\\"))


def parse_proc_cgroup(text: str) -> dict[str, tuple[int, str]]:
    """`/proc/PID/cgroup` -> {controllers field: (hierarchy id, path)}; the v2 line
    `0::/path` has the key "" (empty controllers)."""
    out: dict[str, tuple[int, str]] = {}
    for line in text.splitlines():
        hid, _, rest = line.partition(":")
        ctrls, sep, path = rest.partition(":")
        if sep and hid.isdigit():
            out[ctrls] = (int(hid), path)
    return out


def parse_mountinfo(text: str, self_cgroup: str = "", cgroups: str = "") -> list[Hierarchy]:
    """Every cgroup hierarchy mounted according to the mountinfo `text`.

    `self_cgroup` is the text of `/proc/self/cgroup` (gives the v1 names and IDs);
    `cgroups` the text of `/proc/cgroups` (IDs by controller, and the controller names;
    used when a hierarchy is missing from `self_cgroup`). v2 controllers are left empty
    here (the caller reads `cgroup.controllers`). Order: v1 by hierarchy ID (unknown IDs
    last, in mount order), then v2.
    """
    known: set[str] = set()
    ids_by_ctrl: dict[str, int] = {}
    for line in cgroups.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#") and parts[1].isdigit():
            known.add(parts[0])
            ids_by_ctrl[parts[0]] = int(parts[1])
    by_set = {frozenset(k.split(",")): (k, hid) for k, (hid, _) in parse_proc_cgroup(self_cgroup).items() if k}

    chosen: dict[str, tuple[int, Hierarchy]] = {}  # major:minor -> (mount order, hierarchy)
    for n, line in enumerate(text.splitlines()):
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 1 or rf[0] not in ("cgroup", "cgroup2"):
            continue
        devno, root, mount = lf[2], _unescape(lf[3]), _unescape(lf[4])
        if rf[0] == "cgroup2":
            h = Hierarchy("unified", 2, (), mount, root, 0)
        else:
            opts = rf[2].split(",") if len(rf) >= 3 else []
            ctrls = [o for o in opts if o.startswith("name=")
                     or (o in known if known else (o not in _V1_OPTIONS and "=" not in o))]
            if not ctrls:
                continue
            name, hid = by_set.get(frozenset(ctrls), (None, 0))
            if name is None:
                subsys = [c for c in ctrls if not c.startswith("name=")]
                named = [c for c in ctrls if c.startswith("name=")]
                name = ",".join(subsys + named)
                hid = ids_by_ctrl.get(subsys[0], 0) if subsys else 0
            h = Hierarchy(name, 1, tuple(name.split(",")), mount, root, hid)
        old = chosen.get(devno)
        if old is None or (old[1].root != "/" and root == "/"):
            chosen[devno] = (n, h)
    found = [h for _, h in sorted(chosen.values(), key=lambda x: x[0])]
    v1 = [h for h in found if h.version == 1]
    v1.sort(key=lambda h: (h.hierarchy_id == 0, h.hierarchy_id))
    return v1 + [h for h in found if h.version == 2]


def _find_ns_root(mount: str, depth: int, own: str, version: int) -> str | None:
    """The directory `depth` levels below `mount` whose cgroup `own` (a path relative to it)
    lists this process; None when none does (or more than one could, which cannot be)."""
    me = os.getpid()
    level = [mount]
    for _ in range(depth):
        below: list[str] = []
        for d in level:
            try:
                with os.scandir(d) as it:
                    below.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
        level = below
    rel = "" if own == "/" else own
    files = ("cgroup.procs", "cgroup.threads") if version == 2 else ("tasks",)
    found = []
    for d in level:
        for name in files:
            text = _read_text(d + rel + "/" + name)
            if text is not None:
                if str(me) in text.split():
                    found.append(d)
                break
    return found[0] if len(found) == 1 else None


def _read_text(path: str) -> str | None:
    try:
        return read_bytes(path).decode("utf-8", "replace").strip()
    except OSError:
        return None


_PIDFS: list[bool] = []


def _pidfs() -> bool:
    """True when pidfds carry a per-task inode (pidfs, Linux 6.9+): checked once, by
    comparing the pidfd inodes of this process and of PID 1."""
    if not _PIDFS:
        ok = False
        if os.getpid() != 1:
            try:
                a, b = os.pidfd_open(os.getpid()), os.pidfd_open(1)
            except OSError:
                pass
            else:
                try:
                    sa, sb = os.fstat(a), os.fstat(b)
                    ok = sa.st_dev == sb.st_dev and sa.st_ino != sb.st_ino
                finally:
                    os.close(a)
                    os.close(b)
        _PIDFS.append(ok)
    return _PIDFS[0]


def cgroup_line(data: bytes, h: Hierarchy) -> str | None:
    """The path of hierarchy `h` in the bytes of a `/proc/PID/cgroup`, looking only at its
    line (`ID:controllers:path`, v2 `0::path`); None when there is no such line. A v1
    hierarchy whose ID is unknown (0) is found by its controllers."""
    if h.version == 2:
        prefix = b"0::"
    elif h.hierarchy_id:
        prefix = b"%d:" % h.hierarchy_id
    else:
        return parse_proc_cgroup(data.decode("utf-8", "surrogateescape")).get(h.name, (0, None))[1]
    if data.startswith(prefix):
        i = 0
    else:
        i = data.find(b"\n" + prefix)
        if i < 0:
            return None
        i += 1
    start = i + 3 if h.version == 2 else data.index(b":", i + len(prefix)) + 1
    end = data.find(b"\n", start)
    return data[start:end if end >= 0 else len(data)].decode("utf-8", "surrogateescape")


class _HeldFd:
    """What both handles share: the pidfd they hold (`fd`, None once closed), closed once,
    at the latest when the handle is collected."""

    fd: int | None

    def _fd_reaped(self) -> bool:
        """True once the task the pidfd holds is reaped (closed: True). One
        pidfd_send_signal(2) of signal 0."""
        if self.fd is None:
            return True
        try:
            signal.pidfd_send_signal(self.fd, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # exists, but not ours to signal
        return False

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


_H = TypeVar("_H", bound=_HeldFd)


class PidfdHandle(_HeldFd):
    """A task held by a pidfd: it cannot follow a recycled PID.

    A PID is freed only when its task is reaped, and a pidfd notices the reap; so a handle
    that still answers `alive()` after a write proves the write hit this very task.
    """

    def __init__(self, pid: int, fd: int, proc: str = "/proc", guard: str = "pidfd") -> None:
        self.pid = pid
        self.fd: int | None = fd
        self._proc = proc
        self.guard = guard
        """How the task is held, as reports name it: `pidfd`, or `pidfd-thread` (PIDFD_THREAD)."""

    def _reaped(self) -> bool:
        """True once the task is reaped (its PID may already belong to another task)."""
        return self._fd_reaped()

    def reaped(self) -> bool:
        """True once the task is reaped: its PID is free (or another task's). One
        pidfd_send_signal(2) of signal 0."""
        return self._reaped()

    def start_time(self) -> int | None:
        """Start time (ticks) of the held task; None once it is reaped. Read first and
        checked after: a task not reaped after the read was not reaped during it, so the
        /proc entry read was its own."""
        try:
            stat = read_bytes(f"{self._proc}/{self.pid}/stat")
        except OSError:
            return None
        if self._reaped():
            return None
        return int(parse_stat(stat)[1][19])

    def alive(self) -> bool:
        """True while the held task has not exited (a zombie has exited)."""
        if self._reaped() or self.exited():
            return False
        try:
            stat = read_bytes(f"{self._proc}/{self.pid}/stat")
        except OSError:
            return False
        return parse_stat(stat)[1][0] not in (b"Z", b"X")

    def exited(self) -> bool:
        """True once the held task has exited (a zombie, or reaped): one poll(2) of the
        pidfd, which reports POLLIN then. A thread-group leader that exited while other
        threads still run is not reported (its group has not exited)."""
        if self.fd is None:
            return True
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        return bool(p.poll(0))

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the pidfd when the kernel has pidfs (Linux 6.9+): every pidfd
        of one task shares that inode, and a task started later never gets it again (on
        64-bit the number is unique for the life of the system), so equal identities prove
        two pidfds, opened at different times, hold the same task -- without reading the
        start time from /proc again. None on older kernels (all pidfds share one inode)."""
        if self.fd is None or not _pidfs():
            return None
        st = os.fstat(self.fd)
        return st.st_dev, st.st_ino



class ThreadGuard(_HeldFd):
    """A non-leader thread held without PIDFD_THREAD (kernels before 6.9): the pidfd of its
    thread group, so the group -- and with it every /proc/TGID/task entry -- cannot be
    another's, plus the thread's start time from /proc/TGID/task/TID/stat, read when opened
    and again at every question. A TID is freed as soon as its thread exits, so another
    thread may get it; one of the same group with the very same start tick would not be
    told apart (a pidfd-thread guard would), which the report says by naming the guard."""

    guard = "tgid-pidfd+starttime"

    def __init__(self, tid: int, tgid: int, fd: int, proc: str = "/proc") -> None:
        self.pid = tid
        self.tgid = tgid
        self.fd: int | None = fd
        self._proc = proc
        self._start: int | None = None
        try:
            fields = self._fields()
        except BaseException:
            self.close()
            raise
        if fields is None:
            self.close()
            raise OSError(errno.ESRCH, f"thread {tid} is not a thread of process {tgid} (it exited)")
        self._start = int(fields[19])

    def _group_reaped(self) -> bool:
        return self._fd_reaped()

    def _fields(self) -> list[bytes] | None:
        """The thread's stat fields, None when it is gone (or the group was reaped meanwhile)."""
        try:
            stat = read_bytes(f"{self._proc}/{self.tgid}/task/{self.pid}/stat")
        except OSError:
            return None
        if self._group_reaped():
            return None
        return parse_stat(stat)[1]

    def _same(self) -> list[bytes] | None:
        f = self._fields()
        return f if f is not None and int(f[19]) == self._start else None

    def start_time(self) -> int | None:
        """The start time of the thread now holding the TID in the group (another than the
        one opened when it differs); None once it is gone."""
        f = self._fields()
        return None if f is None else int(f[19])

    def alive(self) -> bool:
        f = self._same()
        return f is not None and f[0] not in (b"Z", b"X")

    def exited(self) -> bool:
        return not self.alive()

    def reaped(self) -> bool:
        """True once the thread is gone (its TID may already be another's)."""
        return self._same() is None

    _reaped = reaped

    def identity(self) -> tuple[int, int] | None:
        return None



def _probe_pidfd_thread() -> bool:
    """Can this kernel open a pidfd on a thread (PIDFD_THREAD, Linux 6.9+)? Asked of a thread
    of our own: EINVAL (an unknown flag) means no."""
    import threading

    ready, done = threading.Event(), threading.Event()
    tids: list[int] = []

    def wait() -> None:
        tids.append(threading.get_native_id())
        ready.set()
        done.wait()

    t = threading.Thread(target=wait, name="ctrtui-pidfd-probe", daemon=True)
    t.start()
    try:
        ready.wait()
        try:
            fd = os.pidfd_open(tids[0], os.O_EXCL)
        except OSError:
            return False  # EINVAL: the kernel does not know the flag
        os.close(fd)
        return True
    finally:
        done.set()
        t.join()


class FdMembership:
    """An open membership file (a raw fd: permission was judged at open by the kernel)."""

    def __init__(self, path: str, write: bool) -> None:
        self.path = path
        self.fd: int | None = os.open(path, _O_WRONLY if write else _O_RDONLY)

    def _fd(self) -> int:
        if self.fd is None:
            raise OSError(errno.EBADF, "membership file is closed", self.path)
        return self.fd

    def write(self, data: bytes) -> int:
        """One unbuffered write; OSError carries the kernel's errno."""
        return os.write(self._fd(), data)

    def read(self) -> bytes:
        """Everything from the current position to EOF."""
        return read_rest(self._fd())

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)

    def __enter__(self) -> FdMembership:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CgroupFS:
    """The Backend over the real cgroup filesystems (see the module docstring).

    Paths are injectable for tests: `mountinfo` is read for discovery and `proc` is the
    procfs root for task facts. Hierarchy names accepted by every method are the names
    of `hierarchies()` or any one controller of them (`Hierarchy.matches`); an unknown
    name raises KeyError.
    """

    kind = "real"
    identity = "local"
    capabilities = frozenset({WRITE, TASK_PROBES, POLL_EXITS, CGROUP_ADMIN})

    def __init__(self, mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc") -> None:
        self.mountinfo = mountinfo
        self.proc = proc
        self._hier: tuple[Hierarchy, ...] | None = None
        self._details = ProcReader(proc)
        self._ns_roots: dict[tuple[str, str], str | None] = {}  # (mount, root) -> our namespace's root dir

    @property
    def pid_max(self) -> int:
        """`/proc/sys/kernel/pid_max` (32768 when it cannot be read: the kernel's default)."""
        try:
            value = int(read_bytes(f"{self.proc}/sys/kernel/pid_max"))
        except (OSError, ValueError):
            return 32768
        return value if value > 0 else 32768

    # ---------------------------------------------------------------- discovery

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        """Every mounted hierarchy, discovered afresh (cheap: three small reads)."""
        text = read_bytes(self.mountinfo).decode("utf-8", "replace")
        self_cg = _read_text(f"{self.proc}/self/cgroup") or ""
        cgroups = _read_text(f"{self.proc}/cgroups") or ""
        found = []
        for h in parse_mountinfo(text, self_cg, cgroups):
            if h.root.startswith("/.."):
                h = self._in_namespace(h, self_cg)
            if h.version == 2:
                ctrls = _read_text(h.mount + "/cgroup.controllers")
                h = h.replace(controllers=tuple(ctrls.split()) if ctrls else ())
            found.append(h)
        self._hier = tuple(found)
        return self._hier

    def _in_namespace(self, h: Hierarchy, self_cgroup: str) -> Hierarchy:
        """A hierarchy mounted above the root of our cgroup namespace: mountinfo gives its
        root relative to that root (`/../..`: two levels up), and every path we read
        (/proc/PID/cgroup) is relative to it. The namespace's root is the directory that
        many levels below the mount in which our own cgroup lists us; the hierarchy is then
        taken as mounted there, at root `/`. Unresolved (the mount is not above us only, or
        we are not found) it is left as it is."""
        parts = h.root.split("/")[1:]
        if not parts or any(p != ".." for p in parts):
            return h
        key = (h.mount, h.root)
        if key not in self._ns_roots:
            mine = parse_proc_cgroup(self_cgroup)
            own = (mine.get("") if h.version == 2 else next(
                (v for k, v in mine.items() if k and set(k.split(",")) == set(h.controllers)), None))
            self._ns_roots[key] = None if own is None else _find_ns_root(h.mount, len(parts), own[1], h.version)
        where = self._ns_roots[key]
        return h if where is None else h.replace(mount=where, root="/")

    def ns_delegate(self, hierarchy: str) -> bool:
        """Whether the v2 hierarchy is mounted with `nsdelegate` (a cgroup namespace is then
        a delegation boundary: a task outside it cannot be moved, ENOENT)."""
        if self.hierarchy(hierarchy).version != 2:
            return False
        for line in read_bytes(self.mountinfo).decode("utf-8", "replace").splitlines():
            _, sep, right = line.partition(" - ")
            rf = right.split()
            if sep and len(rf) >= 3 and rf[0] == "cgroup2":
                return "nsdelegate" in rf[2].split(",")
        return False

    def _known(self) -> tuple[Hierarchy, ...]:
        return self._hier if self._hier is not None else self.hierarchies()

    def hierarchy(self, word: str) -> Hierarchy:
        """The hierarchy named `word` (its name or one of its controllers); KeyError if none."""
        for refresh in (False, True):
            h: Hierarchy | None = find_hierarchy(self.hierarchies() if refresh else self._known(), word)
            if h is not None:
                return h
        raise KeyError(f"no cgroup hierarchy named {word!r} is mounted")

    @staticmethod
    def _check_path(path: str) -> None:
        if not path.startswith("/") or "/../" in path + "/" or "/./" in path + "/":
            raise ValueError(f"{path!r} is not a cgroup path (absolute, without . or ..)")

    # ---------------------------------------------------------------- snapshot

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None, *,
                 procs: bool = True) -> Snapshot:
        """A new snapshot of the hierarchies named (default: all), optionally only the
        cgroup `subtree` and below in each. A hierarchy without that subtree is included
        with no cgroups. `procs=False` (not in the Backend protocol) leaves `cgroup.procs`
        unread and every Container's `procs` empty: half the files, for callers that show
        only threads (`ctrtui ls` without --json)."""
        all_h = self.hierarchies()
        if names is None:
            chosen = list(all_h)
        else:
            chosen = []
            for word in names:
                h = self.hierarchy(word)
                if h not in chosen:
                    chosen.append(h)
        if subtree is not None:
            self._check_path(subtree)
        taken = time.time()
        snaps = tuple(self._walk(h, subtree if subtree is not None else h.root, procs) for h in chosen)
        return Snapshot(snaps, taken, self.kind)

    def _walk(self, h: Hierarchy, start: str, want_procs: bool = True) -> HierarchySnapshot:
        """Read one hierarchy's tree from `start` down (the hot loop: kept flat on purpose,
        no helper calls per file; see benchmarks and the module docstring)."""
        v1 = h.version == 1
        tname = "/tasks" if v1 else "/cgroup.threads"
        out: dict[str, Container] = {}  # filled in depth-first pre-order
        derived: set[str] = set()  # v2 threaded cgroups whose procs were derived
        vanished: set[str] = set()
        # a path outside the mount's root is not on disk
        stack = [(start, h.fs_path(start))] if is_ancestor(h.root, start) else []
        scandir, osopen, osread, osclose = os.scandir, os.open, os.read, os.close
        rd, size, short, empty = _O_RDONLY, _READ_SIZE, _SHORT_READ, EMPTY
        pop, push = stack.pop, stack.extend
        while stack:
            path, d = pop()
            try:
                with scandir(d) as it:
                    kids = [e.name for e in it if e.is_dir(follow_symlinks=False)]
                fd = osopen(d + tname, rd)
                try:
                    tdata = osread(fd, size)
                    if len(tdata) >= short:
                        tdata = read_rest(fd, tdata)
                finally:
                    osclose(fd)
                if want_procs:
                    fd = osopen(d + "/cgroup.procs", rd)
                    try:
                        pdata = osread(fd, size)
                        if len(pdata) >= short:
                            pdata = read_rest(fd, pdata)
                    except OSError as e:
                        if e.errno != errno.EOPNOTSUPP:
                            raise
                        pdata = None  # a v2 threaded cgroup: derived below
                    finally:
                        osclose(fd)
                else:
                    pdata = b""
            except OSError as e:
                if e.errno != errno.ENAMETOOLONG:
                    if e.errno in _GONE:
                        vanished.add(path)  # removed during the walk
                        continue
                    raise
                deep = _read_deep(d, tname, want_procs)  # deeper than PATH_MAX: through directory fds
                if deep is None:
                    vanished.add(path)
                    continue
                kids, tdata, pdata = deep
            if v1:
                threads = array("i", map(int, tdata.split())) if tdata else empty
                procs = array("i", map(int, pdata.split())) if pdata else empty
            else:
                threads = array("i", sorted(set(map(int, tdata.split())))) if tdata else empty
                if pdata is None:
                    procs = self._tgids(threads)
                    derived.add(path)
                else:
                    procs = array("i", sorted(set(map(int, pdata.split())))) if pdata else empty
            if kids:
                kids.sort()
                prefix = path if path != "/" else ""
                children = tuple([prefix + "/" + k for k in kids])
                push(zip(reversed(children), [d + "/" + k for k in reversed(kids)]))
            else:
                children = ()
            out[path] = Container(path, children, threads, procs)
        if vanished:
            # Children that vanished during the walk are dropped from their parent's list.
            for p, c in out.items():
                if not vanished.isdisjoint(c.children):
                    out[p] = c.replace(children=tuple(ch for ch in c.children if ch not in vanished))
        self._reconcile(h, out, derived)
        return HierarchySnapshot(h, MappingProxyType(out))

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        """Each named cgroup alone: its child list (one scandir) and its members (`tasks`
        or `cgroup.threads`, and `cgroup.procs`), None for one that is gone. Two or three
        files per cgroup, however big the tree below it: what the UI re-reads at each tick
        for the cgroups on screen, instead of walking the whole hierarchy."""
        h = self.hierarchy(hierarchy)
        v1 = h.version == 1
        tname = "/tasks" if v1 else "/cgroup.threads"
        out: dict[str, Container | None] = {}
        for path in paths:
            self._check_path(path)
            if not is_ancestor(h.root, path):
                out[path] = None
                continue
            d = h.fs_path(path)
            try:
                with os.scandir(d) as it:
                    kids = sorted(e.name for e in it if e.is_dir(follow_symlinks=False))
                tdata = _read_members(d + tname)
                try:
                    pdata: bytes | None = _read_members(d + "/cgroup.procs")
                except OSError as e:
                    if e.errno != errno.EOPNOTSUPP:
                        raise
                    pdata = None  # a v2 threaded cgroup: derived from its threads
            except OSError as e:
                if e.errno != errno.ENAMETOOLONG:
                    if e.errno in _GONE:
                        out[path] = None
                        continue
                    raise
                deep = _read_deep(d, tname, True)  # deeper than PATH_MAX: through directory fds
                if deep is None:
                    out[path] = None
                    continue
                kids, tdata, pdata = deep
                kids.sort()
            if v1:
                threads = array("i", map(int, tdata.split())) if tdata else EMPTY
                procs = array("i", map(int, pdata.split())) if pdata else EMPTY
            else:
                threads = array("i", sorted(set(map(int, tdata.split())))) if tdata else EMPTY
                procs = (self._tgids(threads) if pdata is None
                         else array("i", sorted(set(map(int, pdata.split())))) if pdata else EMPTY)
            prefix = path if path != "/" else ""
            out[path] = Container(path, tuple(prefix + "/" + k for k in kids), threads, procs)
        return out

    def _tgid(self, tid: int) -> int | None:
        try:
            tgid = parse_status(read_single(f"{self.proc}/{tid}/status"))[0]
        except OSError:
            return None
        return tgid if tgid >= 0 else None

    def _tgids(self, threads: array[int]) -> array[int]:
        """Processes of a v2 threaded cgroup (whose cgroup.procs cannot be read): the
        TGIDs of its threads, as v1 would list them (a TGID is listed where any of its
        threads is)."""
        return sorted_pids({tgid for tgid in map(self._tgid, threads) if tgid is not None})

    def _reconcile(self, h: Hierarchy, out: dict[str, Container], derived: set[str]) -> None:
        """A TID listed in two cgroups moved during the walk: keep it only where
        /proc/TID/cgroup says it is now (drop it when it is gone). Same for a v2 TGID
        listed in two `cgroup.procs`. v1 procs (and the derived procs of v2 threaded
        cgroups) legitimately repeat a TGID whose threads are spread, so there only the
        TGIDs left without any of their threads are dropped. Updates `out` in place.

        A task that moved from a cgroup not yet read into one already read is in neither
        list; it shows up in the next snapshot (finding it would need every task of the
        machine listed, which costs more than the walk)."""
        containers = list(out.values())
        dup_t = _duplicates([c.threads for c in containers])
        dup_p = (_duplicates([c.procs for c in containers if c.path not in derived])
                 if h.version == 2 else set())
        if not dup_t and not dup_p:
            return
        where = {pid: self._where(h, pid) for pid in dup_t | dup_p}
        for c in containers:
            threads, procs = c.threads, c.procs
            drop_t = {t for t in dup_t if where[t] != c.path and contains(threads, t)}
            if drop_t:
                threads = array("i", (t for t in threads if t not in drop_t))
                if h.version == 1 or c.path in derived:
                    procs = self._procs_left(procs, threads, drop_t)
            drop_p = {p for p in dup_p if where[p] != c.path and contains(procs, p)
                      and c.path not in derived}
            if drop_p:
                procs = array("i", (p for p in procs if p not in drop_p))
            if threads is not c.threads or procs is not c.procs:
                out[c.path] = Container(c.path, c.children, threads, procs)

    def _where(self, h: Hierarchy, pid: int) -> str | None:
        cg = self.task_cgroups(pid)
        return None if cg is None else cg.get(h.name)

    def _procs_left(self, procs: array[int], threads: array[int], dropped: set[int]) -> array[int]:
        """v1: drop the TGID of each dropped thread unless another of its threads is still here."""
        gone = set()
        for t in dropped:
            g = self._tgid(t)
            if g is None or not contains(procs, g):
                continue
            if not any(contains(threads, x) for x in self.thread_ids(g)):
                gone.add(g)
        return array("i", (p for p in procs if p not in gone)) if gone else procs

    # ---------------------------------------------------------------- cgroups

    def _dir(self, hierarchy: str, path: str) -> tuple[Hierarchy, str]:
        self._check_path(path)
        h = self.hierarchy(hierarchy)
        return h, h.fs_path(path)

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """Fresh facts about one cgroup; None when it does not exist. `writable` is judged
        with access(2) on the EFFECTIVE ids (`effective_ids=True`), as the kernel judges
        the open; a v2 threaded cgroup's `cgroup.procs` counts as writable when its mode
        allows (the kernel still refuses to read it)."""
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            return None
        with _reachable(d) as at:
            if at is None:
                return None
            try:
                return self._state(h, path, at, os.stat(at))
            except OSError:
                return None

    @staticmethod
    def _state(h: Hierarchy, path: str, d: str, st: os.stat_result) -> CgroupState | None:
        if not stat.S_ISDIR(st.st_mode):
            return None
        writable = frozenset(
            f for f in MEMBERSHIP_FILES
            if os.path.exists(d + "/" + f) and os.access(d + "/" + f, os.W_OK, effective_ids=True))
        if h.version == 2:
            sub = _read_text(d + "/cgroup.subtree_control")
            return CgroupState(
                h.name, path, 2,
                cgroup_type=_read_text(d + "/cgroup.type"),
                cpuset_cpus=_read_text(d + "/cpuset.cpus.effective"),  # None without the cpuset controller
                subtree_control=tuple(sub.split()) if sub else (),
                freezer_state=_v2_frozen(d),
                writable=writable,
                self_frozen=_flag(d + "/cgroup.freeze"),
                cgroup_id=st.st_ino,
            )
        cpus = mems = freezer = None
        if "cpuset" in h.controllers:
            cpus = _first(d, ("cpuset.cpus", "cpus"))
            mems = _first(d, ("cpuset.mems", "mems"))
        self_frozen = None
        if "freezer" in h.controllers:
            freezer = _read_text(d + "/freezer.state")
            self_frozen = _flag(d + "/freezer.self_freezing")
        return CgroupState(h.name, path, 1, cpuset_cpus=cpus, cpuset_mems=mems,
                           freezer_state=freezer, writable=writable, self_frozen=self_frozen, cgroup_id=st.st_ino)

    _STATS_V2 = ("cgroup.type", "cgroup.subtree_control", "cgroup.events", "cgroup.freeze",
                 "pids.current", "pids.max", "memory.current", "cpu.stat", "io.stat",
                 "memory.swap.current", "cpu.pressure", "memory.pressure", "io.pressure")
    _STATS_V1 = ("freezer.state", "cpuset.cpus", "cpuset.mems", "pids.current", "pids.max",
                 "cpuacct.usage", "memory.usage_in_bytes", "blkio.throttle.io_service_bytes")
    """Only ever read (opened O_RDONLY by `_read_text`): the memory hierarchy included."""

    def cgroup_stats(self, hierarchy: str, path: str) -> dict[str, str]:
        """The stats files that exist and can be read, name -> stripped text; {} when the
        cgroup does not exist. The root's have the machine's /proc figures too."""
        h, d = self._dir(hierarchy, path)
        out: dict[str, str] = {}
        if not is_ancestor(h.root, path):
            return out
        with _reachable(d) as at:
            if at is None:
                return out
            for name in self._STATS_V2 if h.version == 2 else self._STATS_V1:
                text = _read_text(at + "/" + name)
                if text is not None:
                    out[name] = text
        if path == "/" and os.path.isdir(d):
            self._machine_stats(out)
        return out

    _MEMINFO = ("MemTotal:", "MemAvailable:", "SwapTotal:", "SwapFree:")

    def _machine_stats(self, out: dict[str, str]) -> None:
        """The root's figures as systemd-cgtop takes them, from the machine's /proc files
        (named as in `model.cgstats.PROC_FILES`; only the lines used are kept)."""
        meminfo = _read_text(self.proc + "/meminfo")
        if meminfo is not None:
            out["/proc/meminfo"] = "\n".join(
                line for line in meminfo.splitlines() if line.startswith(self._MEMINFO))
        loadavg = _read_text(self.proc + "/loadavg")
        if loadavg is not None:
            out["/proc/loadavg"] = loadavg
        stat = _read_text(self.proc + "/stat")
        if stat is not None:
            out["/proc/stat"] = stat.split("\n", 1)[0]
        for res in ("cpu", "memory", "io"):
            if res + ".pressure" not in out:
                text = _read_text(f"{self.proc}/pressure/{res}")
                if text is not None:
                    out["/proc/pressure/" + res] = text

    # ---------------------------------------------------------------- tasks

    def task_state(self, pid: int) -> TaskInfo | None:
        """Cheap facts from /proc/PID/stat and status; None when there is no such task."""
        got = read_task(pid, self.proc)
        return None if got is None else got[0]

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """Details (cmdline, user, cpu%, rss) for the PIDs that exist (procfs.ProcReader)."""
        return self._details.details(pids)

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        """Hierarchy name -> path from /proc/PID/cgroup (v1 matched by hierarchy ID, so
        the names are those of `hierarchies()`; v2 is `unified`). None when there is no
        such task."""
        data = self._proc_cgroup(pid)
        if data is None:
            return None
        by_id = {h.hierarchy_id: h.name for h in self._known() if h.version == 1}
        out: dict[str, str] = {}
        for ctrls, (hid, path) in parse_proc_cgroup(data.decode("utf-8", "surrogateescape")).items():
            if hid == 0 and ctrls == "":
                out["unified"] = path
            else:
                out[by_id.get(hid, ctrls)] = path
        return out

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        """The task's cgroup in one hierarchy (`task_cgroups(pid)[hierarchy]`, parsing only
        that line); None when there is no such task."""
        data = self._proc_cgroup(pid)
        return None if data is None else cgroup_line(data, self.hierarchy(hierarchy))

    def _proc_cgroup(self, pid: int) -> bytes | None:
        """The bytes of /proc/PID/cgroup; None when there is no such task."""
        try:
            return read_single(f"{self.proc}/{pid}/cgroup")
        except OSError as e:
            if e.errno in _GONE or e.errno == errno.ENOTDIR:
                return None
            raise

    def task_probe(self, pid: int, hierarchy: str) -> Probe | None:
        """What the engine's plan needs of one task, read consistently: `(facts, its cgroup
        in `hierarchy`, identity)`; None when there is no such task.

        A pidfd is opened first and checked after the reads: a task not reaped then was not
        reaped during them, so every read was its own (a PID recycled meanwhile is read
        afresh). `identity` is `(pidfd device, inode, start time)` on pidfs kernels, else
        None: the engine's apply compares it with the pidfd it opens for the write instead of
        reading the start time again. The uids and TGID come from one PIDFD_GET_INFO ioctl
        where the kernel has it (6.13+), else from `/proc/PID/status`."""
        h = self.hierarchy(hierarchy)
        base = f"{self.proc}/{pid}/"
        for _ in range(3):
            try:
                handle = self.open_task(pid)
            except OSError as e:
                if e.errno == errno.ESRCH:
                    return None
                break  # cannot hold it: read without the guard below
            try:
                try:
                    stat = read_single(base + "stat")
                    ids = pidfd_creds(handle.fd) if type(handle) is PidfdHandle and handle.fd is not None else None
                    if ids is None or ids[0] <= 0:
                        ids = parse_status(read_single(base + "status"))
                    where = cgroup_line(read_single(base + "cgroup"), h)
                except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
                    if handle._reaped():
                        continue  # it is gone: try the PID again (a newcomer may hold it)
                    break
                if handle._reaped():
                    continue  # reaped during the reads: they may belong to a newcomer
                ident = handle.identity()
            finally:
                handle.close()
            info, _ = task_info(pid, stat, ids)
            return info, where, (None if ident is None else (*ident, info.start_time))
        plain = self.task_state(pid)
        if plain is None:
            return None
        return plain, self.task_cgroup(pid, h.name), None

    def task_probes(self, pids: Iterable[int], hierarchy: str, keep: bool = False) -> dict[int, ProbeHeld | None]:
        """`task_probe` for many PIDs at once: pid -> `(facts, cgroup in hierarchy,
        identity, handle)`, or None for a task that does not exist.

        Each task is held by a pidfd while its files are read, and the pidfds are checked
        once for the whole batch afterwards (one poll(2)): a task that has not exited then
        was not reaped during its reads, so they were its own; one that has exited is
        looked at again alone (`task_probe`). With `keep`, `handle` is the open
        `PidfdHandle` of the task the facts belong to, for the caller to close (the engine
        writes under it: no second pidfd_open); else None."""
        h = self.hierarchy(hierarchy)
        proc, line = self.proc, cgroup_line
        got: dict[int, ProbeHeld | None] = {}
        held: list[tuple[int, int, bytes, tuple[int, int, int, int], str | None]] = []
        info_works = True
        try:
            for pid in pids:
                if pid in got or pid <= 0:
                    got.setdefault(pid, None)
                    continue
                try:
                    fd = os.pidfd_open(pid)
                except OSError as e:
                    if e.errno == errno.ESRCH:
                        got[pid] = None
                        continue
                    got[pid] = self._probe_alone(pid, h.name, keep)  # e.g. a non-leader TID
                    continue
                base = f"{proc}/{pid}/"
                try:
                    stat = read_single(base + "stat")
                    ids = pidfd_creds(fd) if info_works else None
                    if ids is None or ids[0] <= 0:
                        info_works = False
                        ids = parse_status(read_single(base + "status"))
                    where = line(read_single(base + "cgroup"), h)
                except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
                    os.close(fd)
                    got[pid] = self._probe_alone(pid, h.name, keep)  # it went: look again, alone
                    continue
                except BaseException:
                    os.close(fd)
                    raise
                got[pid] = None  # keeps the order of first sight; filled below
                held.append((pid, fd, stat, ids, where))
            exited = _poll_exited([fd for _, fd, _, _, _ in held])
            pidfs = _pidfs()
            while held:
                pid, fd, stat, ids, where = held.pop()
                handle = PidfdHandle(pid, fd, proc)
                if fd in exited and handle._reaped():
                    handle.close()  # reaped during the reads: they may belong to a newcomer
                    got[pid] = self._probe_alone(pid, h.name, keep)
                    continue
                info, _ = task_info(pid, stat, ids)
                ident = None
                if pidfs:
                    st = os.fstat(fd)
                    ident = (st.st_dev, st.st_ino, info.start_time)
                if not keep:
                    handle.close()
                got[pid] = (info, where, ident, handle if keep else None)
        finally:
            for _, fd, _, _, _ in held:
                os.close(fd)
        return got

    def _probe_alone(self, pid: int, hierarchy: str, keep: bool) -> ProbeHeld | None:
        got = self.task_probe(pid, hierarchy)
        return None if got is None else (*got, None)

    def tasks_exited(self, handles: Sequence[TaskHandle]) -> list[bool]:
        """For each handle: has its task exited (a zombie, or reaped)? One poll(2) of all
        the pidfds (`PidfdHandle.exited` for each, in one system call); a handle that is
        not this backend's pidfd answers for itself (`exited()`)."""
        fds = [hd.fd for hd in handles if type(hd) is PidfdHandle and hd.fd is not None]
        exited = _poll_exited(fds)
        return [(hd.fd is None or hd.fd in exited) if type(hd) is PidfdHandle else hd.exited() for hd in handles]

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        """TIDs of the thread group, sorted; () when it is gone."""
        try:
            return tuple(sorted(int(x) for x in os.listdir(f"{self.proc}/{tgid}/task")))
        except OSError:
            return ()

    def open_task(self, pid: int, thread: bool = False) -> PidfdHandle | ThreadGuard:
        """A pidfd on the task; `thread` asks for PIDFD_THREAD (`os.O_EXCL`, kernel 6.9+),
        needed for a non-leader TID (tried automatically when a plain pidfd_open of a TID
        is refused: EINVAL on older kernels, ENOENT on 6.x). A kernel without PIDFD_THREAD
        (probed once: `thread_pidfds`) holds a thread by a `ThreadGuard` instead. Raises
        OSError(ESRCH) when there is no such task."""
        if pid <= 0:
            raise OSError(errno.ESRCH, f"no task with PID {pid}")
        if thread and not self.thread_pidfds():
            return self._open_thread(pid)
        try:
            fd = os.pidfd_open(pid, os.O_EXCL if thread else 0)
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOENT) or thread:
                raise
            if not self.thread_pidfds():
                return self._open_thread(pid)
            fd = os.pidfd_open(pid, os.O_EXCL)
            thread = True
        return PidfdHandle(pid, fd, self.proc, "pidfd-thread" if thread else "pidfd")

    cpuset_setscheduler_check: bool | None = None
    """Whether cpuset's attach check also asks security_task_setscheduler (kernels before 6.6:
    EPERM for a root task moved by a writer without CAP_SYS_NICE). None: unknown -- no safe
    probe exists (it would take moving a privileged task as an unprivileged writer), so the
    engine does not predict it here and the kernel's answer stands."""

    pidfd_thread: bool | None = None
    """Whether the kernel opens pidfds on threads (PIDFD_THREAD): probed once, on first need
    (`thread_pidfds`); tests set it to force either guard."""

    def thread_pidfds(self) -> bool:
        if self.pidfd_thread is None:
            self.pidfd_thread = _probe_pidfd_thread()
        return self.pidfd_thread

    def _open_thread(self, tid: int) -> PidfdHandle | ThreadGuard:
        """Hold thread `tid` without PIDFD_THREAD: its group's pidfd and its start time
        (a leader gets its own plain pidfd). ESRCH when there is no such thread."""
        try:
            tgid = parse_status(read_bytes(f"{self.proc}/{tid}/status"))[0]
        except (OSError, ValueError):
            raise OSError(errno.ESRCH, f"no task with PID {tid}") from None
        if tgid == tid or tgid <= 0:
            return PidfdHandle(tid, os.pidfd_open(tid, 0), self.proc)
        return ThreadGuard(tid, tgid, os.pidfd_open(tgid, 0), self.proc)

    # ---------------------------------------------------------------- writes

    def _member_path(self, hierarchy: str, path: str, filename: str) -> str:
        if filename not in MEMBERSHIP_FILES:
            raise ValueError(f"{filename!r} is not a membership file ({', '.join(MEMBERSHIP_FILES)})")
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            raise FileNotFoundError(errno.ENOENT, f"{h.name}:{path} lies outside the mounted part of the hierarchy")
        return d + "/" + filename

    def open_membership(self, hierarchy: str, path: str, filename: str, write: bool = True) -> FdMembership:
        """Open `tasks`/`cgroup.procs`/`cgroup.threads` of the cgroup (ENOENT, EACCES at open)."""
        return FdMembership(self._member_path(hierarchy, path, filename), write)

    def write_pid(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        """Open, one unbuffered os.write of `data`, close; OSError carries the kernel's errno."""
        fd = os.open(self._member_path(hierarchy, path, filename), _O_WRONLY)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)

    def _admin_dir(self, hierarchy: str, path: str) -> str:
        h, d = self._dir(hierarchy, path)
        if not is_ancestor(h.root, path):
            raise FileNotFoundError(errno.ENOENT, f"{h.name}:{path} lies outside the mounted part of the hierarchy")
        return d

    def make_cgroup(self, hierarchy: str, path: str) -> None:
        """mkdir(2): the kernel's errnos (EEXIST, EINVAL for a newline, ENOENT, ENAMETOOLONG)."""
        os.mkdir(self._admin_dir(hierarchy, path))

    def remove_cgroup(self, hierarchy: str, path: str) -> None:
        """rmdir(2): EBUSY while the cgroup holds tasks or children (and for the root)."""
        if path == "/":
            raise OSError(errno.EBUSY, "the root cgroup cannot be removed")
        os.rmdir(self._admin_dir(hierarchy, path))

    def set_frozen(self, hierarchy: str, path: str, frozen: bool) -> None:
        """One write to v1 `freezer.state` (FROZEN/THAWED) or v2 `cgroup.freeze` (1/0);
        ENOENT where there is no such file (the root, a v1 hierarchy without freezer)."""
        h = self.hierarchy(hierarchy)
        d = self._admin_dir(hierarchy, path)
        if h.version == 2:
            name, data = "cgroup.freeze", b"1" if frozen else b"0"
        else:
            name, data = "freezer.state", b"FROZEN" if frozen else b"THAWED"
        if h.version == 1 and "freezer" not in h.controllers:
            raise FileNotFoundError(errno.ENOENT, f"{h.name} has no freezer controller: no {name}")
        fd = os.open(d + "/" + name, _O_WRONLY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def writer(self) -> Creds:
        """The process's own credentials (writes are made by this process)."""
        return Creds(os.getuid(), os.geteuid())

    def write_access(self) -> str | None:
        """`not root` unless this process's effective uid is 0: ctrtui moves tasks as root
        (a delegated subtree a user owns is still moved with `ctrtui move`, where the
        kernel judges each write)."""
        return None if self.writer().euid == 0 else "not root"


def _poll_exited(fds: Sequence[int]) -> set[int]:
    """The pidfds among `fds` whose task has exited (POLLIN), in one poll(2)."""
    if not fds:
        return set()
    p = select.poll()
    for fd in fds:
        p.register(fd, select.POLLIN)
    return {fd for fd, ev in p.poll(0) if ev}


def _flag(path: str) -> bool | None:
    """A file holding 0 or 1 (`cgroup.freeze`, `freezer.self_freezing`): True for 1; None
    when it cannot be read (the root has no such file)."""
    text = _read_text(path)
    return None if text is None else text == "1"


def _v2_frozen(d: str) -> str | None:
    """v2 freezer state of cgroup directory `d`: "1" when it is frozen -- its own
    `cgroup.freeze` is 1, or `cgroup.events` says `frozen 1` (an ancestor froze it) --, else
    its `cgroup.freeze` ("0"); None when there is no such file (the root)."""
    own = _read_text(d + "/cgroup.freeze")
    if own is None or own == "1":
        return own
    events = _read_text(d + "/cgroup.events") or ""
    return "1" if "\nfrozen 1" in "\n" + events else own


def _too_long(d: str) -> bool:
    """Whether a path to a file in directory `d` may exceed PATH_MAX (4096 bytes with its
    NUL; the longest file name read there has 31 bytes)."""
    return len(os.fsencode(d)) + 33 >= 4096


_DEEP_CHUNK = 3072
"""Bytes of path `_open_deep` resolves per openat(2): well below PATH_MAX (4096)."""


@contextmanager
def _reachable(d: str) -> Iterator[str | None]:
    """A path by which the files of directory `d` can be opened: `d` itself, or, for a
    cgroup deeper than PATH_MAX, `/proc/self/fd/N` of a directory fd opened on it (closed
    on leaving); None when that directory cannot be opened (it is gone)."""
    if not _too_long(d):
        yield d
        return
    try:
        dfd = _open_deep(d)
    except OSError:
        yield None
        return
    try:
        yield f"/proc/self/fd/{dfd}"
    finally:
        os.close(dfd)


def _open_deep(d: str) -> int:
    """A read-only fd of the directory `d`, whose path may be longer than PATH_MAX (anyone
    with a delegated subtree can make one with mkdirat): opened a few components at a time,
    each relative to the last (O_PATH on the way)."""
    parts = [p for p in d.split("/") if p]
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        i = 0
        while i < len(parts):
            chunk, size = [parts[i]], len(os.fsencode(parts[i]))
            i += 1
            while i < len(parts) and size + 1 + len(os.fsencode(parts[i])) <= _DEEP_CHUNK:
                chunk.append(parts[i])
                size += 1 + len(os.fsencode(parts[i]))
                i += 1
            nfd = os.open("/".join(chunk), os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = nfd
        nfd = os.open(".", _O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    finally:
        os.close(fd)
    return nfd


def _read_deep(d: str, tname: str, want_procs: bool) -> tuple[list[str], bytes, bytes | None] | None:
    """What the walk reads of one cgroup (child names, threads file, `cgroup.procs` or None
    where it cannot be read: a v2 threaded cgroup; b"" when not wanted), for a directory
    whose path is longer than PATH_MAX: through a directory fd. None when it is gone."""
    try:
        dfd = _open_deep(d)
        try:
            with os.scandir(dfd) as it:
                kids = [e.name for e in it if e.is_dir(follow_symlinks=False)]
            tdata = _read_members(tname.lstrip("/"), dfd)
            pdata: bytes | None = b""
            if want_procs:
                try:
                    pdata = _read_members("cgroup.procs", dfd)
                except OSError as e:
                    if e.errno != errno.EOPNOTSUPP:
                        raise
                    pdata = None
        finally:
            os.close(dfd)
    except OSError as e:
        if e.errno in _GONE:
            return None
        raise
    return kids, tdata, pdata


def _read_members(path: str, dir_fd: int | None = None) -> bytes:
    """A membership file, read as the walk reads it (a first read shorter than
    `_SHORT_READ` has met EOF); `path` relative to `dir_fd` when given."""
    fd = os.open(path, _O_RDONLY, dir_fd=dir_fd)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) >= _SHORT_READ:
            data = read_rest(fd, data)
    finally:
        os.close(fd)
    return data


def _duplicates(lists: list[array[int]]) -> set[int]:
    """The PIDs found in more than one of `lists` (first a cheap count: usually none)."""
    seen: set[int] = set()
    for a in lists:
        seen.update(a)
    if len(seen) == sum(map(len, lists)):
        return set()
    seen.clear()
    dup: set[int] = set()
    for a in lists:
        dup.update(seen.intersection(a))
        seen.update(a)
    return dup


def _first(d: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        text = _read_text(d + "/" + name)
        if text is not None:
            return text
    return None


if TYPE_CHECKING:
    def _keeps_the_contract(fs: CgroupFS) -> tuple[Backend, TaskProber, ExitPoller, CgroupAdmin]:
        """mypy checks here that CgroupFS implements what it declares (see base.py)."""
        return fs, fs, fs, fs
