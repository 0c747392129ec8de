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
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import Skip, alternate, process_timer, run_process
from benchmarks.world import BenchWorld

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
