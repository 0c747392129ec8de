"""Idle cost of the TUI (issue 12): `ctrtui --read-only` left alone in a pseudo-terminal,
with `htop -d 20` left alone beside it in the same window of time.

Both run in their own pty at 140x40 (a thread drains what they draw), are given time to
settle (first snapshot, first paint), then their CPU time is read from /proc/PID/stat
(utime + stime, every thread of the process) at the start and end of each window. The
figure is that CPU time over the window's wall time, in % of one core; the ratio divides
ctrtui's median by htop's. CPU time of the process is what is measured, so other load on
the machine (other test suites) changes it little; wall time only sets the window.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import statistics
import struct
import tempfile
import termios
import threading
import time

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import Skip

SMALL_KEYS = ("idle_small_pct", "idle_small_vs_htop", "idle_small_rss_mb")
BIG_KEYS = ("idle_10k_pct", "idle_10k_vs_htop", "idle_10k_rss_mb")
COLS, ROWS = 140, 40
TICK = os.sysconf("SC_CLK_TCK")


class PtyProcess:
    """A program in a pseudo-terminal of its own (COLS x ROWS), its output drained."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = os.forkpty()
        if pid == 0:  # child: the pty is its controlling terminal and stdio
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        self.out = 0
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.out += len(data)

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def stop(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            for _ in range(50):
                if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                    break
                time.sleep(0.02)
            else:
                continue
            break
        try:
            os.close(self.fd)
        except OSError:
            pass


def windows(procs: list[PtyProcess], count: int, seconds: float) -> list[list[float]]:
    """% of one core of each process over `count` consecutive windows of `seconds`."""
    out: list[list[float]] = [[] for _ in procs]
    for _ in range(count):
        t0 = time.monotonic()
        c0 = [p.cpu_seconds() for p in procs]
        time.sleep(seconds)
        c1 = [p.cpu_seconds() for p in procs]
        wall = time.monotonic() - t0
        for i in range(len(procs)):
            out[i].append(100.0 * (c1[i] - c0[i]) / wall)
    return out


def measure(ctx, keys: tuple[str, str, str], where: str) -> dict[str, float | None]:
    """ctrtui and htop side by side; returns {pct, vs_htop, rss_mb} under `keys`."""
    settle, count, seconds = (3.0, 2, 1.5) if ctx.quick else (8.0, 3, 10.0)
    htop = shutil.which("htop")
    home = tempfile.mkdtemp(prefix="ctrtui-bench-idle-")
    env = dict(ENV, TERM="xterm-256color", HOME=home, XDG_STATE_HOME=home, XDG_CONFIG_HOME=home,
               COLUMNS=str(COLS), LINES=str(ROWS))
    env.pop("TEXTUAL", None)
    procs: list[PtyProcess] = []
    try:
        ui = PtyProcess(ctrtui_command() + ["--read-only"], env)
        procs.append(ui)
        if htop:
            procs.append(PtyProcess([htop, "-d", "20"], env))
        time.sleep(settle)
        if not ui.alive():
            raise RuntimeError("ctrtui exited during the settle time")
        pcts = windows(procs, count, seconds)
        rss = ui.rss_mb()
        pct = statistics.median(pcts[0])
        result: dict[str, float | None] = {keys[0]: pct, keys[2]: rss}
        meta = {"ctrtui_pct_windows": [round(x, 3) for x in pcts[0]], "window_s": seconds,
                "windows": count, "settle_s": settle, "tree": where, "ctrtui_rss_mb": round(rss, 1),
                "terminal": f"{COLS}x{ROWS}", "ctrtui_bytes_drawn": ui.out,
                "note": "CPU time (utime+stime) of each process over wall time; median of the windows"}
        if htop:
            hp = statistics.median(pcts[1])
            meta.update(htop_pct_windows=[round(x, 3) for x in pcts[1]], htop_rss_mb=round(procs[1].rss_mb(), 1))
            # htop's CPU time is counted in clock ticks (10 ms): over a short window it can be
            # 0; the ratio then divides by one tick's worth, so it stays finite (and low).
            floor = 100.0 / TICK / (seconds * count)
            result[keys[1]] = pct / max(hp, floor)
            meta["htop_pct"] = hp
        else:
            ctx.skipped[keys[1]] = "htop is not installed (Debian: apt-get install htop)"
        for k in keys:
            ctx.meta_for(k, meta)
        return result
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(home, ignore_errors=True)


def idle_small(ctx) -> dict[str, float | None]:
    """The machine's own hierarchies (before the bench world exists)."""
    if os.geteuid() != 0 or not os.path.isdir("/sys/fs/cgroup"):
        raise Skip("needs root and /sys/fs/cgroup (the TUI reads the real hierarchies)")
    return measure(ctx, SMALL_KEYS, "the machine's own hierarchies")


def idle_big(ctx, world) -> dict[str, float | None]:
    """The bench world's freezer tree (10k cgroups; the quick world is smaller)."""
    return measure(ctx, BIG_KEYS, f"bench world: {world.cgroup_count()} freezer cgroups")
