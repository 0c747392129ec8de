"""What history on a remote host costs (issue 21, item 4), against a real sshd on a loopback
address started here (devtools/sshd.py) and always stopped: `record --host --samples 20`
into the host's own state dir, then each question as a whole `ctrtui` process, `--host`
against the same command reading the same directory locally (`--from`), and
`hierarchies --host` as the cost of reaching the host at all; and the replay's step through
one connection (`ServedRecording.step`, the sample fetched from the host). Medians of
`--runs` runs (default 5); prints the figures, keeps no key of benchmarks/run.py.

    python -m benchmarks.historyhost [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import run_process


def _median_ms(cmd: list[str], env: dict[str, str], runs: int) -> float:
    return 1000 * statistics.median(run_process(cmd, " ".join(cmd[-4:]), env) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.historyhost")
    p.add_argument("--runs", type=int, default=5)
    runs = p.parse_args(argv).runs
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    from devtools.sshd import SSHD_OK, SSHD_WHY, SshLab

    if not SSHD_OK:
        print(f"skipped: {SSHD_WHY}")
        return 0
    ctrtui = ctrtui_command()
    with SshLab() as lab, tempfile.TemporaryDirectory() as state:
        host = lab.start_host()
        env = dict(ENV, CTRTUI_SSH_CONFIG=lab.config, XDG_STATE_HOME=state, XDG_CONFIG_HOME=state)
        t0 = time.perf_counter()
        r = subprocess.run([*ctrtui, "record", "--host", host.name, "--samples", "20", "--interval", "0.05"],
                           env=env, capture_output=True, text=True, check=True)
        print(f"record --host --samples 20 --interval 0.05: {time.perf_counter() - t0:.2f} s ({r.stdout.strip()})")
        d = os.path.join(host.home, ".local", "state", "ctrtui", "history")
        pid = str(os.getpid())
        for name, args in (("where PID", ["where", pid, "--json"]), ("ls --at now", ["ls", "--at", "now"]),
                           ("diff '1 s ago' now", ["diff", "1 s ago", "now"])):
            remote = _median_ms([*ctrtui, *args, "--host", host.name], env, runs)
            local = _median_ms([*ctrtui, *args, "--from", d], env, runs)
            print(f"{name}: --host {remote:.0f} ms, locally on the same directory {local:.0f} ms (medians of {runs})")
        print(f"hierarchies --host (reaching the host at all): "
              f"{_median_ms([*ctrtui, 'hierarchies', '--host', host.name], env, runs):.0f} ms")
        from ctrtui.remote.connect import ConnectOptions, connect
        from ctrtui.remote.service import RemoteService
        from ctrtui.service.servedrecording import ServedRecording

        channel = connect(host.spec, ConnectOptions(timeout=30, ssh_config=lab.config))
        try:
            recorded = ServedRecording(RemoteService(channel))
            steps = []
            while True:
                t = time.perf_counter()
                if not recorded.step(-1):
                    break
                steps.append(time.perf_counter() - t)
            print(f"replay --host, one step back ({len(steps)} steps, {len(recorded.hierarchies())} hierarchies): "
                  f"median {1000 * statistics.median(steps):.1f} ms, max {1000 * max(steps):.1f} ms")
        finally:
            channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
