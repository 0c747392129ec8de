"""ctrtui.sources.procfs: /proc parsing, details, and the (pid, start time) cache.

The cache and parsing tests use a fake /proc tree (the reader's root is injectable); the
last tests read the real /proc of this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ctrtui.model import PF_KTHREAD
from ctrtui.sources.procfs import CLK_TCK, PAGE_SIZE, ProcReader, parse_stat, parse_status, read_task


def stat_line(pid: int, comm: str, state: str = "S", flags: int = 0, utime: int = 0, stime: int = 0,
              threads: int = 1, start: int = 1000, rss: int = 10) -> bytes:
    # fields 3.. of proc(5): state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss
    rest = [state, 1, pid, pid, 0, -1, flags, 0, 0, 0, 0, utime, stime, 0, 0, 20, 0, threads, 0,
            start, 12345, rss] + [0] * 30
    return f"{pid} ({comm}) ".encode() + " ".join(str(x) for x in rest).encode() + b"\n"


def status_text(tgid: int, pid: int, uids=(1000, 1000, 1000)) -> bytes:
    u = "\t".join(str(x) for x in (*uids, uids[1]))
    return (f"Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{tgid}\nNgid:\t0\nPid:\t{pid}\n"
            f"PPid:\t1\nTracerPid:\t0\nUid:\t{u}\nGid:\t0\t0\t0\t0\n").encode()


class FakeProc:
    """A /proc tree in a temporary directory."""

    def __init__(self, root) -> None:
        self.root = root
        (root / "uptime").write_text("100.00 50.00\n")

    def task(self, pid: int, comm: str = "sleep", cmdline: bytes = b"sleep\x00300\x00", tgid: int | None = None,
             uids=(1000, 1000, 1000), **kw) -> None:
        d = self.root / str(pid)
        d.mkdir(exist_ok=True)
        (d / "stat").write_bytes(stat_line(pid, comm, **kw))
        (d / "status").write_bytes(status_text(tgid or pid, pid, uids))
        (d / "cmdline").write_bytes(cmdline)

    def remove(self, pid: int) -> None:
        d = self.root / str(pid)
        for f in d.iterdir():
            f.unlink()
        d.rmdir()


@pytest.fixture
def fake(tmp_path):
    return FakeProc(tmp_path)


@pytest.mark.parametrize("comm", ["sleep", "a b", "x) (y", ") S 1 2", "((", "evil) Z 9 9 9 ("])
def test_parse_stat_splits_at_last_paren(comm):
    c, f = parse_stat(stat_line(42, comm, state="R", flags=PF_KTHREAD, start=777, threads=3))
    assert c == comm
    assert f[0] == b"R"
    assert int(f[6]) == PF_KTHREAD  # field 9
    assert int(f[17]) == 3  # field 20
    assert int(f[19]) == 777  # field 22


def test_parse_status():
    assert parse_status(status_text(10, 12, (0, 65534, 33))) == (10, 0, 65534, 33)


def test_read_task_fake(fake):
    fake.task(12, comm="w (x)", tgid=10, uids=(1, 2, 3), state="D", flags=4, threads=5, start=99)
    info, _ = read_task(12, str(fake.root))
    assert (info.pid, info.tgid, info.comm, info.state) == (12, 10, "w (x)", "D")
    assert (info.uid, info.euid, info.suid) == (1, 2, 3)
    assert (info.start_time, info.flags, info.threads) == (99, 4, 5)
    assert info.is_thread and info.exiting
    assert read_task(13, str(fake.root)) is None


def test_details_fields(fake):
    fake.task(5, cmdline=b"python3\x00-c\x00print(1)\x00", uids=(0, 0, 0), utime=50, stime=50,
              start=0, rss=3)
    d = ProcReader(str(fake.root)).details([5, 6])
    assert set(d) == {5}
    t = d[5]
    assert t.cmdline == "python3 -c print(1)"
    assert t.user == "root"
    assert t.rss == 3 * PAGE_SIZE
    # first sight: lifetime average = 100 ticks over 100 s of uptime
    assert t.cpu_percent == pytest.approx(100.0 * 100 / (100.0 * CLK_TCK), abs=0.1)


def test_unknown_uid_shows_as_number(fake):
    fake.task(5, uids=(4242424, 4242424, 4242424))
    assert ProcReader(str(fake.root)).details([5])[5].user == "4242424"


def test_recycled_pid_never_shows_stale_details(fake):
    r = ProcReader(str(fake.root))
    fake.task(7, comm="old", cmdline=b"old-daemon\x00--flag\x00", start=100, uids=(0, 0, 0))
    assert r.details([7])[7].cmdline == "old-daemon --flag"
    # The task exits and the PID is recycled by another task with the SAME comm
    # (so a comm-only check would keep the old cmdline): start time differs.
    fake.remove(7)
    fake.task(7, comm="old", cmdline=b"new-thing\x00", start=200, uids=(1000, 1000, 1000))
    t = r.details([7])[7]
    assert t.cmdline == "new-thing"
    assert t.start_time == 200
    assert t.uid == 1000


def test_cmdline_cached_until_exec(fake):
    r = ProcReader(str(fake.root))
    fake.task(8, comm="sh", cmdline=b"sh\x00", start=5)
    assert r.details([8])[8].cmdline == "sh"
    (fake.root / "8" / "cmdline").write_bytes(b"changed\x00")  # argv rewritten, comm same
    assert r.details([8])[8].cmdline == "sh"  # cached for the same (pid, start, comm)
    fake.task(8, comm="ls", cmdline=b"ls\x00-l\x00", start=5)  # exec: comm changes
    assert r.details([8])[8].cmdline == "ls -l"


def test_cpu_percent_from_deltas(fake, monkeypatch):
    import ctrtui.sources.procfs as procfs

    clock = iter([1000.0, 1002.0])
    monkeypatch.setattr(procfs.time, "monotonic", lambda: next(clock))
    r = ProcReader(str(fake.root))
    fake.task(9, utime=0, stime=0, start=5)
    r.details([9])
    fake.task(9, utime=CLK_TCK, stime=0, start=5)  # one CPU-second in two seconds
    assert r.details([9])[9].cpu_percent == pytest.approx(50.0)


# ---------------------------------------------------------------- the real /proc


def test_real_self_and_kthreadd():
    r = ProcReader()
    d = r.details([os.getpid(), 2, 0])
    me = d[os.getpid()]
    assert me.tgid == os.getpid() and me.uid == os.getuid() and me.state in "RS"
    assert "python" in me.cmdline or "pytest" in me.cmdline
    assert me.rss > 0 and me.threads >= 1 and me.start_time > 0
    assert 0 not in d
    if 2 in d:  # kthreadd (absent in a PID namespace)
        assert d[2].kthread and d[2].comm == "kthreadd" and d[2].cmdline == ""


def test_real_comm_with_spaces_and_parens_and_threads():
    code = ("import threading, time, sys\n"
            "open('/proc/self/comm', 'w').write('a) (b c')\n"
            "ev = threading.Event()\n"
            "[threading.Thread(target=ev.wait, daemon=True).start() for _ in range(2)]\n"
            "print('up', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        tids = sorted(int(x) for x in os.listdir(f"/proc/{p.pid}/task"))
        d = ProcReader().details(tids)
        lead = d[p.pid]
        assert lead.comm == "a) (b c" and lead.threads == 3 and lead.state in "RS"
        others = [d[t] for t in tids if t != p.pid]
        assert len(others) == 2 and all(o.tgid == p.pid and o.is_thread for o in others)
    finally:
        p.kill()
        p.wait()
        p.stdout.close()


def test_read_single_reads_to_eof_past_its_first_read(tmp_path):
    from ctrtui.sources.procfs import read_bytes, read_single

    for size in (0, 10, 16383, 16384, 16385, 100_000):
        f = tmp_path / f"f{size}"
        f.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
        assert read_single(str(f)) == f.read_bytes() == read_bytes(str(f))
    assert read_single(f"/proc/{os.getpid()}/status").startswith(b"Name:")


def test_pidfd_creds_match_proc_status():
    from ctrtui.sources.procfs import pidfd_creds

    p = subprocess.Popen(["sleep", "60"])
    try:
        fd = os.pidfd_open(p.pid)
        try:
            got = pidfd_creds(fd)
        finally:
            os.close(fd)
        with open(f"/proc/{p.pid}/status", "rb") as f:
            want = parse_status(f.read())
        assert got == want or (got is None and _kernel() < (6, 13))  # older: status is read
    finally:
        p.kill()
        p.wait()


def _kernel() -> tuple[int, int]:
    """(major, minor) of the running kernel (PIDFD_GET_INFO came in 6.13)."""
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a task with distinct real, effective and saved uids")
def test_pidfd_creds_tell_real_effective_and_saved_uid_apart():
    """Each of the three uids read from its own slot (a task whose uids all differ), and a
    pidfd of a reaped task answers None without switching the ioctl off for the next."""
    from ctrtui.sources import procfs

    if _kernel() < (6, 13):
        pytest.skip("PIDFD_GET_INFO needs kernel 6.13")

    gone = subprocess.Popen(["true"])
    dead = os.pidfd_open(gone.pid)
    gone.wait()  # reaped: the pidfd no longer has a task
    # set after exec (an exec makes the saved uid the effective one)
    code = ("import os, sys, time; os.setresgid(4001, 4002, 4003); os.setresuid(3001, 3002, 3003); "
            "print('ready', flush=True); time.sleep(60)")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        assert procfs.pidfd_creds(dead) is None
        fd = os.pidfd_open(p.pid)
        try:
            got = procfs.pidfd_creds(fd)
        finally:
            os.close(fd)
        assert got == (p.pid, 3001, 3002, 3003)
        with open(f"/proc/{p.pid}/status", "rb") as f:
            assert parse_status(f.read()) == got
    finally:
        os.close(dead)
        p.kill()
        p.wait()
