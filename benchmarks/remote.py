"""Figures of ctrtui on remote hosts (issue 11), against real sshd servers on loopback
addresses 127.0.0.x started here (tests/sshd.py) and always stopped: nothing but loopback is
contacted, nothing under `~/.ssh` is read or written.

- `remote_ls_10k_ratio`: `ctrtui ls freezer:TOP --host H` ÷ `ctrtui ls freezer:TOP` on the
  bench world's 10k-cgroup freezer tree, whole processes alternated. The host's `python3`
  (the system's) has no ctrtui, so every run bootstraps the agent over the channel; the
  meta also has the same with the host running the installed ctrtui (`--remote-python` the
  venv's python: no bundle).
- `fleet_50_hosts_s`: `ctrtui hierarchies --hosts FILE` across 50 sshd on 50 loopback
  addresses (the default pool of `--jobs`), the median wall time (quick: 10 hosts).
- `refresh_bytes_*`: what a refresh of a host's 10k-cgroup tree costs on the wire (below).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import Skip, alternate, process_timer, run_process
from benchmarks.world import BenchWorld

REFRESH_KEYS = ("refresh_bytes_full_10k", "refresh_bytes_unchanged_10k", "refresh_bytes_churn_10k",
                "refresh_churn_vs_full")
FLEET_KEYS = ("fleet_50_hosts_s",)
LS_KEYS = ("remote_ls_10k_ratio",)


def _lab():
    """An `SshLab` (tests/sshd.py), or Skip with the reason sshd cannot run here."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.sshd import SSHD_OK, SSHD_WHY, SshLab

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
    from ctrtui.agent.stub import STUB
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.errors import HostError
    from ctrtui.remote.reader import RemoteReader

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
