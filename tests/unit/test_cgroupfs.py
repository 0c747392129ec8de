"""ctrtui.sources.cgroupfs, mounts and pidfd: the parsers (mountinfo, /proc/PID/cgroup) on
fake text, and what needs no cgroup at all. Discovery on this machine and the real kernel:
tests/real/test_cgroupfs_real.py.
"""

from __future__ import annotations

import os
import time

import pytest

from ctrtui.model import Hierarchy
from ctrtui.model.cgstats import PROC_FILES, STATS_FILES
from ctrtui.sources import Backend
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.mounts import cgroup_line, parse_mountinfo, parse_proc_cgroup


@pytest.fixture
def fs() -> CgroupFS:
    return CgroupFS()


# ---------------------------------------------------------------- parse_mountinfo (fake text)

MOUNTINFO = """\
22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
33 31 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
34 31 0:37 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd
35 31 0:34 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer
36 31 0:38 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
50 22 0:34 / /mnt/freezer\\040again rw - cgroup cgroup rw,freezer
51 22 0:40 /kube /mnt/pids rw - cgroup cgroup rw,pids,clone_children
52 22 0:38 /sub /mnt/unified2 rw - cgroup2 cgroup2 rw
53 22 0:41 / /mnt/x rw - cgroup cgroup rw,noprefix,cpuset,release_agent=/bin/true
"""

SELF_CGROUP = """\
12:cpuset:/
9:name=systemd:/user.slice
7:pids:/kube/a
5:freezer:/
4:memory:/m
2:cpu,cpuacct:/
0::/user.slice
"""

CGROUPS = """\
#subsys_name	hierarchy	num_cgroups	enabled
cpuset	12	1	1
cpu	2	1	1
cpuacct	2	1	1
memory	4	3	1
freezer	5	1	1
pids	7	2	1
"""


def test_parse_mountinfo_dedupes_names_and_orders():
    hs = parse_mountinfo(MOUNTINFO, SELF_CGROUP, CGROUPS)
    assert [h.name for h in hs] == ["cpu,cpuacct", "memory", "freezer", "pids", "name=systemd", "cpuset", "unified"]
    by = {h.name: h for h in hs}
    assert [h.hierarchy_id for h in hs] == [2, 4, 5, 7, 9, 12, 0]
    assert by["cpu,cpuacct"].controllers == ("cpu", "cpuacct")
    assert by["name=systemd"].controllers == ("name=systemd",) and by["name=systemd"].version == 1
    # freezer mounted twice (same 0:34): one hierarchy, the first mount kept
    assert by["freezer"].mount == "/sys/fs/cgroup/freezer"
    # mount root (field 4) kept; fs_path maps hierarchy paths under it
    assert by["pids"].root == "/kube" and by["pids"].fs_path("/kube/a") == "/mnt/pids/a"
    # cgroup2 mounted twice: one, the mount of the root wins over the /sub bind mount
    assert by["unified"].version == 2 and by["unified"].mount == "/sys/fs/cgroup/unified"
    assert by["unified"].root == "/"
    # options that are not controllers are not taken for controllers
    assert by["cpuset"].controllers == ("cpuset",)


def test_parse_mountinfo_without_helpers_and_escapes():
    text = ("60 1 0:50 / /mnt/a\\040b rw - cgroup cgroup rw,xattr,name=mine\n"
            "61 1 0:51 / /mnt/c rw - cgroup cgroup rw,cpu,cpuacct\n"
            "62 1 0:52 / /mnt/u rw - cgroup2 none rw\n")
    hs = parse_mountinfo(text)
    assert [(h.name, h.mount, h.hierarchy_id) for h in hs] == [
        ("name=mine", "/mnt/a b", 0), ("cpu,cpuacct", "/mnt/c", 0), ("unified", "/mnt/u", 0)]


def test_parse_mountinfo_prefers_root_mount_of_a_hierarchy():
    text = ("70 1 0:60 /sub /mnt/sub rw - cgroup cgroup rw,freezer\n"
            "71 1 0:60 / /mnt/full rw - cgroup cgroup rw,freezer\n")
    (h,) = parse_mountinfo(text, "5:freezer:/\n")
    assert (h.mount, h.root, h.hierarchy_id) == ("/mnt/full", "/", 5)


def test_parse_proc_cgroup():
    got = parse_proc_cgroup(SELF_CGROUP + "3:net_cls,net_prio:/../outside\n")
    assert got["cpu,cpuacct"] == (2, "/")
    assert got["name=systemd"] == (9, "/user.slice")
    assert got[""] == (0, "/user.slice")
    assert got["net_cls,net_prio"] == (3, "/../outside")


@pytest.mark.parametrize("hid,name,want", [
    (12, "cpuset", "/"), (9, "name=systemd", "/user.slice"), (7, "pids", "/kube/a"),
    (2, "cpu,cpuacct", "/"), (3, "net_cls", None), (1, "x", None),
])
def test_cgroup_line_reads_only_its_hierarchy(hid, name, want):
    data = SELF_CGROUP.encode()
    h = Hierarchy(name, 1, tuple(name.split(",")), "/m", "/", hid)
    assert cgroup_line(data, h) == want
    assert cgroup_line(data, Hierarchy("unified", 2, (), "/u")) == "/user.slice"
    # last line without a newline, a path with colons, spaces and an outside-namespace path
    odd = b"12:cpuset:/a:b c\n0::/../out"
    assert cgroup_line(odd, Hierarchy("cpuset", 1, ("cpuset",), "/m", "/", 12)) == "/a:b c"
    assert cgroup_line(odd, Hierarchy("unified", 2, (), "/u")) == "/../out"
    # a v1 hierarchy whose ID is unknown (0) is found by its controllers
    assert cgroup_line(data, Hierarchy("name=systemd", 1, ("name=systemd",), "/m", "/", 0)) == "/user.slice"


def test_parse_mountinfo_odd_lines_fallbacks_and_order():
    """Lines that are not cgroup mounts are skipped (not the end of the list); a hierarchy
    that /proc/self/cgroup does not list gets its ID from /proc/cgroups; only controllers
    /proc/cgroups knows count when it is given; unknown IDs sort last; escapes decoded."""
    text = ("10 1 0:5 / /proc rw - proc proc rw\n"
            "11 1 0:6 / /x rw no-separator-here\n"
            "12 1 0:7 / /y rw - \n"
            "13 1 0:8 - cgroup cgroup rw,cpu\n"
            "14 1 0:9 / /z rw - cgroup cgroup\n"
            "15 1 0:10 / /w rw - cgroup cgroup rw,xattr\n"
            "20 1 0:40 / /mnt/blk rw - cgroup cgroup rw,blkio,weird_opt\n"
            "21 1 0:41 / /mnt/cc rw - cgroup cgroup rw,cpu,cpuacct\n"
            "22 1 0:42 / /mnt/named rw - cgroup cgroup rw,name=mine\n"
            "23 1 0:43 / /mnt/u\\011v\\012w\\134x rw - cgroup2 cgroup2 rw,nsdelegate\n")
    cgroups = ("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
               "junk\n"
               "blkio 8\n"                 # two fields are enough
               "cpu\t2\t1\t1\ncpuacct\t2\t1\t1\n")
    hs = parse_mountinfo(text, "2:cpu,cpuacct:/\n", cgroups)
    assert [(h.name, h.hierarchy_id, h.controllers) for h in hs] == [
        ("cpu,cpuacct", 2, ("cpu", "cpuacct")), ("blkio", 8, ("blkio",)),
        ("name=mine", 0, ("name=mine",)), ("unified", 0, ())]
    assert hs[-1].mount == "/mnt/u\tv\nw\\x" and hs[-1].controllers == ()
    # no /proc/cgroups: options that are not controllers (listed, or key=value) are dropped
    (h,) = parse_mountinfo("20 1 0:40 / /m rw - cgroup cgroup rw,release_agent=/bin/x,cpuset,noprefix\n")
    assert (h.name, h.controllers, h.hierarchy_id) == ("cpuset", ("cpuset",), 0)
    # several controllers matched as a set against /proc/self/cgroup, whatever their order
    (h,) = parse_mountinfo("21 1 0:41 / /m rw - cgroup cgroup rw,cpuacct,cpu\n", "2:cpu,cpuacct:/\n")
    assert (h.name, h.hierarchy_id) == ("cpu,cpuacct", 2)


def test_parse_proc_cgroup_and_cgroup_line_edges():
    got = parse_proc_cgroup("12:cpuset:/a:b c\n5:nosep\njunk:a:/b\n0::/\n")
    assert got == {"cpuset": (12, "/a:b c"), "": (0, "/")}
    # v2 on the first line; bytes that are not UTF-8 are kept (surrogateescape: the path can
    # be opened again and is shown escaped), never an error
    data = b"0::/first\n4:name=x:/p\xffq\n"
    assert cgroup_line(data, Hierarchy("unified", 2, (), "/u")) == "/first"
    assert cgroup_line(data, Hierarchy("name=x", 1, ("name=x",), "/m", "/", 4)) == "/p\udcffq"
    assert cgroup_line(data, Hierarchy("name=x", 1, ("name=x",), "/m", "/", 0)) == "/p\udcffq"
    # a hierarchy with an unknown ID that the file does not list
    assert cgroup_line(data, Hierarchy("name=absent", 1, ("name=absent",), "/m", "/", 0)) is None


def test_fake_mountinfo_file_is_injectable(tmp_path):
    mi = tmp_path / "mountinfo"
    mi.write_text("60 1 0:50 / /nonexistent/u rw - cgroup2 cgroup2 rw\n")
    hs = CgroupFS(mountinfo=str(mi)).hierarchies()
    assert [(h.name, h.version, h.controllers) for h in hs] == [("unified", 2, ())]


# ---------------------------------------------------------------- no cgroup touched


def test_backend_protocol(fs):
    assert isinstance(fs, Backend) and fs.kind == "real"


def test_writer_creds(fs):
    c = fs.writer()
    assert (c.uid, c.euid) == (os.getuid(), os.geteuid())


def test_stats_of_fake_files_pressure_swap_and_the_roots_proc_figures(tmp_path):
    """cgroup_stats on a fake v2 and v1 mount and a fake /proc: pressure and swap files of a
    cgroup, and the machine's /proc files (only the lines used) for each root only."""
    u, f, proc = tmp_path / "u", tmp_path / "f", tmp_path / "proc"
    psi = "some avg10=1.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=2"
    (u / "a").mkdir(parents=True)
    (f / "b").mkdir(parents=True)
    (proc / "pressure").mkdir(parents=True)
    for d in (u, u / "a"):
        for res in ("cpu", "memory", "io"):
            (d / f"{res}.pressure").write_text(psi + "\n")
        (d / "cpu.stat").write_text("usage_usec 5\n")
    (u / "a" / "memory.swap.current").write_text("4096\n")
    # the controllers v2 offers (the root's cgroup.controllers): only their files are opened
    (u / "cgroup.controllers").write_text("cpu io memory pids\n")
    (f / "b" / "freezer.state").write_text("THAWED\n")
    (proc / "meminfo").write_text("MemTotal: 100 kB\nMemFree: 1 kB\nMemAvailable: 40 kB\nBuffers: 1 kB\n"
                                  "SwapTotal: 8 kB\nSwapFree: 8 kB\n")
    (proc / "loadavg").write_text("0.00 0.01 0.05 1/77 123\n")
    (proc / "stat").write_text("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 99\n")
    for res in ("cpu", "memory", "io"):
        (proc / "pressure" / res).write_text(psi.replace("1.00", "7.00") + "\n")
    mi = tmp_path / "mountinfo"
    mi.write_text(f"60 1 0:50 / {u} rw - cgroup2 cgroup2 rw\n61 1 0:51 / {f} rw - cgroup cgroup rw,freezer\n")
    fs = CgroupFS(mountinfo=str(mi), proc=str(proc))
    machine = {"/proc/meminfo": "MemTotal: 100 kB\nMemAvailable: 40 kB\nSwapTotal: 8 kB\nSwapFree: 8 kB",
               "/proc/loadavg": "0.00 0.01 0.05 1/77 123", "/proc/stat": "cpu  1 2 3 4 5 6 7 8 9 10"}
    assert fs.cgroup_stats("unified", "/a") == {
        "cpu.stat": "usage_usec 5", "memory.swap.current": "4096",
        "cpu.pressure": psi, "memory.pressure": psi, "io.pressure": psi}
    root = fs.cgroup_stats("unified", "/")
    assert root == {"cpu.stat": "usage_usec 5", "cpu.pressure": psi, "memory.pressure": psi,
                    "io.pressure": psi, **machine}            # its own pressure files, not /proc's
    assert fs.cgroup_stats("freezer", "/b") == {"freezer.state": "THAWED"}
    v1 = fs.cgroup_stats("freezer", "/")
    assert v1 == {**machine, **{f"/proc/pressure/{r}": psi.replace("1.00", "7.00") for r in ("cpu", "memory", "io")}}
    assert fs.cgroup_stats("freezer", "/gone") == {}
    # what a host's agent may answer (remote/reader.py checks) holds every file read here
    assert {*CgroupFS._STATS_V2, *CgroupFS._STATS_V1, *PROC_FILES} <= STATS_FILES
    # a controller v2 does not offer here has no files to open: memory's are not even tried
    (u / "cgroup.controllers").write_text("cpu io\n")
    assert "memory.swap.current" not in CgroupFS(mountinfo=str(mi), proc=str(proc)).cgroup_stats("unified", "/a")


class _OwnThread:
    """A thread of this process that waits until told to end (its TID: `tid`)."""

    def __init__(self) -> None:
        import threading

        self._ready, self._done = threading.Event(), threading.Event()
        self.tid = 0
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        self._ready.wait()

    def _run(self) -> None:
        import threading

        self.tid = threading.get_native_id()
        self._ready.set()
        self._done.wait()

    def end(self) -> None:
        self._done.set()
        self._t.join()


def _before_6_9(monkeypatch) -> None:
    """pidfd_open as a kernel without PIDFD_THREAD answers: the flag is EINVAL, and a plain
    pidfd_open of a non-leader TID is EINVAL too (ENOENT on 6.x before 6.9)."""
    import errno as _errno
    import os as _os

    real = _os.pidfd_open

    def pidfd_open(pid: int, flags: int = 0) -> int:
        if flags & _os.O_EXCL or (pid != _os.getpid() and _os.path.exists(f"/proc/{_os.getpid()}/task/{pid}")):
            raise OSError(_errno.EINVAL, "Invalid argument")
        return real(pid, flags)

    monkeypatch.setattr(_os, "pidfd_open", pidfd_open)


def test_thread_guard_without_pidfd_thread(monkeypatch):
    """Before 6.9 a thread cannot get a pidfd: the probe says so (EINVAL on a thread of our
    own), and a thread is held by its group's pidfd plus its start time instead of being
    refused; it reports the thread gone once it exits."""
    from ctrtui.sources.cgroupfs import CgroupFS
    from ctrtui.sources.pidfd import PidfdHandle, ThreadGuard, probe_pidfd_thread

    t = _OwnThread()
    try:
        _before_6_9(monkeypatch)
        assert probe_pidfd_thread() is False
        b = CgroupFS()
        assert b.thread_pidfds() is False
        for thread in (True, False):  # thread mode, and a non-leader TID named as a process
            with b.open_task(t.tid, thread=thread) as h:
                assert isinstance(h, ThreadGuard) and h.guard == "tgid-pidfd+starttime"
                with open(f"/proc/{os.getpid()}/task/{t.tid}/stat") as f:
                    stat = f.read()
                assert h.start_time() == int(stat[stat.rfind(")") + 2:].split()[19])
                assert h.alive() and not h.exited() and not h.reaped() and h.identity() is None
        with b.open_task(os.getpid(), thread=True) as h:  # the leader keeps its own pidfd
            assert type(h) is PidfdHandle and h.guard == "pidfd"
        h = b.open_task(t.tid, thread=True)
    finally:
        t.end()
    try:
        deadline = time.monotonic() + 5
        while h.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not h.alive() and h.exited() and h.reaped() and h.start_time() is None
    finally:
        h.close()


def test_pidfd_thread_probe_on_this_kernel():
    """On 6.9+ (this project's machines run 6.18) the probe finds PIDFD_THREAD and a thread
    gets a pidfd of its own."""
    from ctrtui.sources.cgroupfs import CgroupFS
    from ctrtui.sources.pidfd import PidfdHandle

    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    if release < (6, 9):
        pytest.skip(f"kernel {os.uname().release} has no PIDFD_THREAD (6.9+)")
    b = CgroupFS()
    t = _OwnThread()
    try:
        assert b.thread_pidfds() is True
        with b.open_task(t.tid, thread=True) as h:
            assert type(h) is PidfdHandle and h.guard == "pidfd-thread" and h.alive()
    finally:
        t.end()


def test_a_mount_above_our_cgroup_namespace_is_resolved(tmp_path):
    """mountinfo root `/../..`: the mount shows the hierarchy two levels above our cgroup
    namespace's root; CgroupFS takes the directory two levels down whose cgroup (ours,
    relative to it) lists this process as the namespace's root. Fake files, no cgroup read."""
    mnt = tmp_path / "cgroup"
    for d in ("system.slice/a.service", "user.slice/ns/inner", "user.slice/other/inner"):
        (mnt / d).mkdir(parents=True)
    (mnt / "system.slice/a.service/cgroup.procs").write_text("1\n")
    (mnt / "user.slice/other/inner/cgroup.procs").write_text("7\n")
    (mnt / "user.slice/ns/inner/cgroup.procs").write_text(f"3\n{os.getpid()}\n")
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self/cgroup").write_text("0::/inner\n")
    (proc / "cgroups").write_text("")
    info = tmp_path / "mountinfo"
    info.write_text(f"41 31 0:38 /../.. {mnt} rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n")
    (h,) = CgroupFS(str(info), str(proc)).hierarchies()
    assert (h.name, h.mount, h.root) == ("unified", str(mnt / "user.slice/ns"), "/")
    assert h.fs_path("/inner") == str(mnt / "user.slice/ns/inner")
    # not found (we are listed nowhere): left as mountinfo says
    (mnt / "user.slice/ns/inner/cgroup.procs").write_text("3\n")
    (h,) = CgroupFS(str(info), str(proc)).hierarchies()
    assert (h.mount, h.root) == (str(mnt), "/../..")
