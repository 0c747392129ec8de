"""The benchmark's real test world: `ctrtui-test-bench-<hex>` cgroups and own processes.

Rules (docs/testing.md, "Real cgroups in tests"; never broken here): cgroups are created only as
`ctrtui-test-bench-<hex>` and only in the freezer and unified hierarchies; only processes
started here are moved; everything is undone in `BenchWorld.cleanup()` (also on Ctrl-C,
SIGTERM or an exception): own processes are moved back to each root, killed and reaped,
then the directories are removed deepest first.

Layout (full size; `--quick` uses smaller numbers):

    freezer:/ctrtui-test-bench-<hex>/g00..g99/c00..c99   10,000 leaves (+ 100 + 1)
    freezer:/ctrtui-test-bench-<hex>/move-a, move-b         the move benchmarks' source/target
    unified:/ctrtui-test-bench-<hex>/g0..g9/c0..c9          100 leaves

A helper python with a few thousand threads has its threads spread over the freezer leaves
(one v1 `tasks` write per thread), and a set of `sleep` processes sits in the v2 leaves
and, in freezer, in `move-a`.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

PREFIX = "ctrtui-test-bench-"
PR_SET_PDEATHSIG = 1


class WorldUnavailable(Exception):
    """Real cgroups cannot be used here; the message says why (for skip reasons)."""


@dataclass(frozen=True)
class WorldSize:
    """How big the real world is."""

    groups: int = 100
    per_group: int = 100
    threads: int = 3000
    procs: int = 1000
    v2_groups: int = 10
    v2_per_group: int = 10

    @property
    def leaves(self) -> int:
        return self.groups * self.per_group


FULL = WorldSize()
QUICK = WorldSize(groups=20, per_group=20, threads=300, procs=100, v2_groups=5, v2_per_group=4)


def find_mounts() -> dict[str, str]:
    """`{'freezer': mountpoint, 'unified': mountpoint}` for those mounted with root `/`."""
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo") as f:
        lines = f.read().splitlines()
    for line in lines:
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 3 or lf[3] != "/":
            continue
        fstype, opts = rf[0], rf[2].split(",")
        mnt = lf[4].replace("\\040", " ")
        if fstype == "cgroup2":
            found.setdefault("unified", mnt)
        elif fstype == "cgroup" and "freezer" in opts and "memory" not in opts:
            found.setdefault("freezer", mnt)
    return found


def check_real() -> dict[str, str]:
    """The mounts to use; raises WorldUnavailable with the reason when they cannot be."""
    if os.geteuid() != 0:
        raise WorldUnavailable("not root: the real world needs euid 0 to make cgroups and move tasks")
    try:
        mounts = find_mounts()
    except OSError as e:
        raise WorldUnavailable(f"cannot read /proc/self/mountinfo: {e}") from None
    for word in ("freezer", "unified"):
        if word not in mounts:
            raise WorldUnavailable(f"the {word} cgroup hierarchy is not mounted (with root /)")
        if not os.access(mounts[word], os.W_OK):
            raise WorldUnavailable(f"the {word} hierarchy at {mounts[word]} is not writable")
    return mounts


def _pdeathsig() -> None:
    """In the child: die with the benchmark, so a killed run leaves no stray process."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_HELPER = (
    "import sys, threading\n"
    "ev = threading.Event()\n"
    "ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(int(sys.argv[1]))]\n"
    "[t.start() for t in ts]\n"
    "print(' '.join(str(t.native_id) for t in ts), flush=True)\n"
    "sys.stdin.read()\n"  # exits when the benchmark closes the pipe (or dies)
)


def _write(path: str, pid: int) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, str(pid).encode())
    finally:
        os.close(fd)


class BenchWorld:
    """The real test world. Use as a context manager; `cleanup()` always runs on exit.

    After `build()`: `name` (the top cgroup's name), `top` (its path in both hierarchies),
    `helper` (the threaded child), `tids` (its extra threads), `sleeps` (the sleep
    processes), `move_a` / `move_b` (freezer hierarchy paths).
    """

    def __init__(self, size: WorldSize = FULL) -> None:
        self.mounts = check_real()
        self.size = size
        self.name = PREFIX + secrets.token_hex(4)
        self.top = "/" + self.name  # the same path in both hierarchies
        self.move_a = self.top + "/move-a"
        self.move_b = self.top + "/move-b"
        self.helper: subprocess.Popen | None = None
        self.tids: list[int] = []
        self.sleeps: list[subprocess.Popen] = []
        self._made: list[str] = []  # top directories we created
        self._old_handlers: dict[int, object] = {}

    # ------------------------------------------------------------------ paths

    def fs(self, word: str, path: str) -> str:
        """Directory on disk of hierarchy path `path` in `freezer` or `unified`."""
        return self.mounts[word] + ("" if path == "/" else path)

    def procs_file(self, word: str, path: str, name: str = "cgroup.procs") -> str:
        return os.path.join(self.fs(word, path), name)

    @property
    def sleep_pids(self) -> list[int]:
        return [p.pid for p in self.sleeps]

    def cgroup_count(self) -> int:
        s = self.size
        return 1 + s.groups + s.leaves + 2

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> BenchWorld:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.cleanup()
        finally:
            for sig, h in self._old_handlers.items():
                signal.signal(sig, h)  # type: ignore[arg-type]

    @staticmethod
    def _on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    def _mkdir(self, word: str, path: str) -> None:
        d = self.fs(word, path)
        os.mkdir(d)
        if path.count("/") == 1:
            self._made.append(d)

    def _tree(self, word: str, groups: int, per_group: int, fmt: str) -> list[str]:
        """Make the top cgroup in `word` with `groups` children g<i>, each with `per_group`
        children c<j> (numbers formatted with `fmt`); return the leaves' paths."""
        self._mkdir(word, self.top)
        leaves: list[str] = []
        for g in range(groups):
            gp = f"{self.top}/g{g:{fmt}}"
            self._mkdir(word, gp)
            for c in range(per_group):
                leaves.append(f"{gp}/c{c:{fmt}}")
                self._mkdir(word, leaves[-1])
        return leaves

    def build(self) -> None:
        s = self.size
        # freezer: top, two levels, and the two move cgroups; unified: a smaller tree
        leaves = self._tree("freezer", s.groups, s.per_group, "02d")
        self._mkdir("freezer", self.move_a)
        self._mkdir("freezer", self.move_b)
        v2_leaves = self._tree("unified", s.v2_groups, s.v2_per_group, "d")
        # the threaded helper; its threads spread over the freezer leaves (v1 `tasks`)
        self.helper = subprocess.Popen(
            [sys.executable, "-c", _HELPER, str(s.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=_pdeathsig)
        line = self.helper.stdout.readline() if self.helper.stdout else b""
        if not line:
            raise RuntimeError("the threaded helper exited before printing its thread IDs")
        self.tids = [int(x) for x in line.split()]
        for i, tid in enumerate(self.tids):
            _write(self.procs_file("freezer", leaves[i * len(leaves) // len(self.tids)], "tasks"), tid)
        # sleep processes: in v2 leaves, and in freezer:/<top>/move-a
        for i in range(s.procs):
            p = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, preexec_fn=_pdeathsig)
            self.sleeps.append(p)
            _write(self.procs_file("unified", v2_leaves[i * len(v2_leaves) // s.procs]), p.pid)
            _write(self.procs_file("freezer", self.move_a), p.pid)

    def move_sleeps(self, path: str) -> None:
        """Put every sleep into freezer cgroup `path` (raw writes; set-up between runs)."""
        f = self.procs_file("freezer", path)
        for pid in self.sleep_pids:
            _write(f, pid)

    def where(self, pid: int) -> str | None:
        """The freezer cgroup of `pid` from /proc/PID/cgroup."""
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                for line in f:
                    _, ctrls, path = line.rstrip("\n").split(":", 2)
                    if "freezer" in ctrls.split(","):
                        return path
        except OSError:
            return None
        return None

    # ------------------------------------------------------------------ clean-up

    def cleanup(self) -> None:
        """Move own processes back to the roots, kill and reap them, remove the cgroups
        deepest first. Ctrl-C is ignored while this runs so it always gets to its end."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._cleanup()
        finally:
            signal.signal(signal.SIGINT, old)

    def _cleanup(self) -> None:
        procs = ([self.helper] if self.helper else []) + self.sleeps
        roots = [self.procs_file(w, "/") for w in ("freezer", "unified")]
        for p in procs:
            if p.poll() is None:
                for root in roots:
                    try:
                        _write(root, p.pid)
                    except OSError as e:
                        if e.errno != errno.ESRCH:
                            print(f"bench: could not move own PID {p.pid} back to {root}: {e}",
                                  file=sys.stderr)
        for p in procs:
            try:
                if p.poll() is None:
                    p.kill()
                p.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired) as e:
                print(f"bench: could not kill/reap own child {p.pid}: {e}", file=sys.stderr)
            for stream in (p.stdin, p.stdout):
                if stream:
                    try:
                        stream.close()
                    except OSError:
                        pass
        self.helper, self.sleeps = None, []
        for top in self._made:
            self._remove_tree(top)
        self._made.clear()

    @staticmethod
    def _remove_tree(top: str) -> None:
        if not os.path.isdir(top):
            return
        # os.walk bottom-up yields children before their parents: deepest first.
        for dirpath, _, _ in list(os.walk(top, topdown=False)):
            deadline = time.monotonic() + 5
            while True:
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY or time.monotonic() > deadline:
                        print(f"bench: could not remove {dirpath}: {e}", file=sys.stderr)
                        break
                    time.sleep(0.01)  # a killed task is still on its way out
