"""Figures of ctrtui on remote hosts (issue 11), against real sshd servers on loopback
addresses 127.0.0.x started here (devtools/sshd.py) and always stopped: nothing but loopback is
contacted, nothing under `~/.ssh` is read or written.

- `remote_ls_10k_ratio`: `ctrtui ls freezer:TOP --host H` ÷ `ctrtui ls freezer:TOP` on the
  bench world's 10k-cgroup freezer tree, whole processes alternated. The host's `python3`
  (the system's) has no ctrtui, so every run bootstraps the agent over the channel; the
  meta also has the same with the host running the installed ctrtui (`--remote-python` the
  venv's python: no bundle).
- `fleet_50_hosts_s`: `ctrtui hierarchies --hosts FILE` across 50 sshd on 50 loopback
  addresses (the default pool of `--jobs`), the median wall time (quick: 10 hosts).
- `refresh_bytes_*`: what a refresh of a host's 10k-cgroup tree costs on the wire (below).
- `hostile_flood_rss_mb`, `hostile_bomb_rss_mb`: the peak RSS of ctrtui against a malicious
  host (issue 16), played by a fake ssh (devtools/hostile_ssh.py, no network): one that floods
  while the bundle is being sent, one whose snapshot answer is a zlib bomb (`hostile_rss`).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import Skip, alternate, process_timer, run_process
from benchmarks.world import BenchWorld

REFRESH_KEYS = ("refresh_bytes_full_10k", "refresh_bytes_unchanged_10k", "refresh_bytes_churn_10k",
                "refresh_churn_vs_full")
FLEET_KEYS = ("fleet_50_hosts_s",)
LS_KEYS = ("remote_ls_10k_ratio",)
HOSTILE_KEYS = ("hostile_flood_rss_mb", "hostile_bomb_rss_mb")


def _root() -> str:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    return root


def _lab():
    """An `SshLab` (devtools/sshd.py), or Skip with the reason sshd cannot run here."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from devtools.sshd import SSHD_OK, SSHD_WHY, SshLab

    if not SSHD_OK:
        raise Skip(SSHD_WHY)
    return SshLab()


def _env(lab) -> dict[str, str]:
    return dict(ENV, CTRTUI_SSH_CONFIG=lab.config)


def remote_ls_10k_ratio(ctx, world: BenchWorld) -> float:
    target = f"freezer:{world.top}"
    with _lab() as lab:
        host = lab.start_host()
        env = _env(lab)
        remote = ctrtui_command() + ["ls", target, "--host", host.name]
        pair = alternate(process_timer(remote, "ctrtui ls --host", env),
                         process_timer(ctrtui_command() + ["ls", target], "ctrtui ls", ENV), ctx.runs)
        installed = alternate(process_timer(remote + ["--remote-python", sys.executable], "ctrtui ls --host", env),
                              process_timer(ctrtui_command() + ["ls", target], "ctrtui ls", ENV), ctx.runs)
        ctx.meta_for("remote_ls_10k_ratio", pair.meta("remote_ls", "local_ls"),
                     installed=installed.meta("remote_ls_installed", "local_ls"),
                     installed_ratio=round(installed.ratio, 4), cgroups=world.cgroup_count(),
                     note="whole processes, stdout to /dev/null, one sshd on 127.0.0.x; the host's python3 has "
                          "no ctrtui, so each remote run sends the agent (the bundle) over ssh; 'installed' runs "
                          "the venv's python (ctrtui installed there: no bundle)")
        return pair.ratio


def fleet_50_hosts_s(ctx) -> float:
    count = 10 if ctx.quick else 50
    runs = 1 if ctx.quick else ctx.runs
    with _lab() as lab:
        started = time.perf_counter()
        hosts = [lab.start_host() for _ in range(count)]
        start_s = time.perf_counter() - started
        hosts_file = os.path.join(lab.dir, "hosts")
        with open(hosts_file, "w") as f:
            f.writelines(h.name + "\n" for h in hosts)
        cmd = ctrtui_command() + ["hierarchies", "--hosts", hosts_file]
        env = _env(lab)
        run_process(cmd, "ctrtui hierarchies --hosts", env)  # warm-up (bytecode of this side)
        samples = [run_process(cmd, "ctrtui hierarchies --hosts", env) for _ in range(runs)]
        running = sum(1 for h in hosts if h.running)
    if running != count:
        raise Skip(f"only {running} of {count} test sshd were still running at the end")
    ctx.meta_for("fleet_50_hosts_s", hosts=count, runs_s=[round(x, 4) for x in samples],
                 median_s=round(statistics.median(samples), 4), sshd_start_s=round(start_s, 3),
                 note="whole process `ctrtui hierarchies --hosts FILE` (default --jobs), each host an sshd on "
                      "its own 127.0.0.x; every host bootstraps the agent (the bundle); all sshd stopped after")
    return statistics.median(samples)

def _bytes(channel: object) -> int:
    return int(channel.bytes_sent) + int(channel.bytes_received)  # type: ignore[attr-defined]


def refresh_bytes(ctx: object, world: object) -> dict[str, float]:
    """What a refresh costs on the wire to a remote host (issue 11): the bytes a `RemoteReader`
    snapshot refresh moves through the agent's channel, for a 10,000-cgroup freezer tree that does
    not change and for one that churns between refreshes.

    The agent runs as it does on a host (`PYTHON -c STUB`, the same protocol and bundle logic), here
    as a local subprocess: the figures are the protocol's own bytes (requests and answers, both
    directions, as `AgentChannel.bytes_sent/bytes_received` count them), which ssh then carries with
    its own small per-packet overhead. The first refresh is whole (`full`); every later one is a delta
    against the snapshot the agent last sent. Churn: between two refreshes the world's own sleep
    processes (100 of them) move to other leaves with raw writes, so every refresh carries 100
    departures and 100 arrivals in the tree.
    """
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.errors import HostError
    from ctrtui.remote.reader import RemoteReader
    from ctrtui.remote.stub import STUB

    try:
        channel = AgentChannel.open([sys.executable, "-c", STUB], name="bench", timeout=60)
    except HostError as e:
        raise Skip(f"the agent did not start: {e}") from None
    runs = 3 if getattr(ctx, "quick", False) else 10
    leaves = [f"{world.top}/g{g:02d}/c{c:02d}"  # type: ignore[attr-defined]
              for g in range(world.size.groups) for c in range(world.size.per_group)]  # type: ignore[attr-defined]
    rng = random.Random(11)
    try:
        reader = RemoteReader(channel)
        names = ["freezer"]
        before = _bytes(channel)
        first = reader.snapshot(names)
        full = _bytes(channel) - before
        cgroups = sum(1 for _ in first["freezer"].walk())
        unchanged: list[int] = []
        for _ in range(runs):
            before = _bytes(channel)
            reader.snapshot(names)
            unchanged.append(_bytes(channel) - before)
        churn: list[int] = []
        for _ in range(runs):
            for pid in world.sleep_pids:  # type: ignore[attr-defined]
                leaf = rng.choice(leaves)
                with open(world.procs_file("freezer", leaf), "w") as f:  # type: ignore[attr-defined]
                    f.write(str(pid))
            before = _bytes(channel)
            reader.snapshot(names)
            churn.append(_bytes(channel) - before)
        if reader.full_snapshots != 1:
            raise RuntimeError(f"expected one whole snapshot and deltas after it, got {reader.full_snapshots} whole")
    finally:
        channel.close()
    med_u, med_c = statistics.median(unchanged), statistics.median(churn)
    ctx.meta_for("refresh_bytes_full_10k", cgroups=cgroups,  # type: ignore[attr-defined]
                 unchanged=unchanged, churn=churn, moved_per_refresh=len(world.sleep_pids))  # type: ignore[attr-defined]
    return {"refresh_bytes_full_10k": full, "refresh_bytes_unchanged_10k": med_u,
            "refresh_bytes_churn_10k": med_c, "refresh_churn_vs_full": med_c / full}


_BOMB = """
from ctrtui.remote import HostError, RemoteReader
from ctrtui.remote.connect import ConnectOptions, connect
from ctrtui.remote.ssh import parse_host
ch = connect(parse_host("bomb"), ConnectOptions(timeout=%r))
try:
    RemoteReader(ch).snapshot()
except HostError as e:
    raise SystemExit(str(e))
finally:
    ch.close()
"""


def _peak(cmd: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, int, str]:
    """Run `cmd`: (peak RSS in MB, wall seconds, exit status, last stderr line). The peak is
    wait4's ru_maxrss: the child's own, or that of a child of its that it waited for (the
    fake ssh, which streams and stays small), never this process's."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    assert proc.stderr is not None
    killer = threading.Timer(timeout * 3 + 30, proc.kill)  # a backstop: the command has its own timeout
    killer.start()
    try:
        said = proc.stderr.read()  # until the child ends (and closes it)
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    lines = said.decode(errors="replace").strip().splitlines()
    return usage.ru_maxrss / 1024, wall, proc.returncode, lines[-1] if lines else ""


def hostile_rss(ctx) -> dict[str, float]:
    """Peak RSS (MB) of ctrtui against a malicious host (issue 16; target: under 128 MB and
    the command ends within its timeout), the worst of `runs` runs each:

    - `hostile_flood_rss_mb`: `ctrtui hierarchies --host flood --timeout 10`, the host asking
      for the bundle, then never reading and writing to stdout without end (it cost about
      1 GiB in seconds before the channel's buffer had one cap in every path);
    - `hostile_bomb_rss_mb`: a child Python that connects to `--host bomb` and asks a
      `RemoteReader` for a snapshot, as the UI does on every refresh: the answer is 1.4 MB of
      base64 whose zlib stream unpacks to 1 GiB (1.5 GiB RSS before the wire reader unpacked
      only what the header announces). `ctrtui hierarchies --host` itself reads no snapshot.

    The host is devtools/hostile_ssh.py behind `CTRTUI_SSH` (no network, no sshd)."""
    import tempfile

    _root()
    from devtools.agentfakes import fake_ssh

    timeout = 10.0
    runs = 1 if getattr(ctx, "quick", False) else 3
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ctrtui-bench-hostile-") as d:
        from pathlib import Path

        env = dict(ENV, CTRTUI_SSH=fake_ssh(Path(d)), XDG_STATE_HOME=os.path.join(d, "state"),
                   XDG_CONFIG_HOME=os.path.join(d, "config"))
        cases = {
            "hostile_flood_rss_mb": ctrtui_command() + ["hierarchies", "--host", "flood", "--timeout", str(timeout)],
            "hostile_bomb_rss_mb": [sys.executable, "-c", _BOMB % timeout],
        }
        for key, cmd in cases.items():
            peaks, walls, said = [], [], ""
            for _ in range(runs):
                peak, wall, code, said = _peak(cmd, env, timeout)
                if code == 0:
                    raise RuntimeError(f"{key}: the hostile host was not refused ({said})")
                peaks.append(peak)
                walls.append(wall)
            out[key] = max(peaks)
            ctx.meta_for(key, peaks_mb=[round(p, 1) for p in peaks], wall_s=[round(w, 2) for w in walls],
                         timeout_s=timeout, ended_within_timeout=max(walls) < timeout, said=said[:300],
                         note="peak RSS of the child (wait4 ru_maxrss), the worst of the runs")
    return out
