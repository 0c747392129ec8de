"""Runs IN the lab guest (as root, with ctrtui importable): what systemd does to a task placed
in one of its units, by hand (a `cgroup.procs` write) or through systemd (AttachProcessesToUnit,
a transient scope), when the unit is stopped, restarted, or systemd reloads. Prints one JSON
object: {"cells": [{"kind", "placed", "action", "outcome", "said"}...], "systemd": VERSION}.

Kinds: `service` (a transient service running `sleep`), `scope` (a transient scope running
`sleep`), `delegated-service` and `delegated-scope` (the same with `Delegate=yes`; the task
goes into a cgroup `ctrtui-test-sub` below the unit's), `slice` (a slice with a service in it;
through systemd the task gets a new scope in the slice), `new-scope` (through systemd only: the
task's own new transient scope, what `systemd-run --scope` makes for a new process). Outcome:
`killed`, `left` (still where it was placed), `not-applicable` (systemctl refused the action,
e.g. a restart of a scope; the task was left), `moved` (alive, elsewhere: `said` names where),
`refused` (the placement was refused: `said` is the errno name or systemd's D-Bus error name;
no action is run).

Only `ctrtui-test-*` units (and the `ctrtui.slice`/`ctrtui-test.slice` parents systemd makes
for the slices), only the `sleep`s this script starts; everything stopped at the end.

    python3 -m tests.lab.systemd_facts [KIND...]
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable

from ctrtui.sources.systemd import Systemd, SystemdError

CG = "/sys/fs/cgroup"
KINDS = ("service", "scope", "delegated-service", "delegated-scope", "slice", "new-scope")
ACTIONS = ("stop", "restart", "daemon-reload")
PLACED = {**{k: ("kernel", "systemd") for k in KINDS[:-1]}, "new-scope": ("systemd",)}


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=check, timeout=120)


def cgroup_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return f.read().strip().split("::", 1)[-1]


def wait_for(cond: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


class Scenario:
    """One kind's units (made by `make`), a victim `sleep`, its placement and one action."""

    def __init__(self, kind: str, sd: Systemd) -> None:
        self.kind, self.sd = kind, sd
        self.base = "ctrtui-test-" + secrets.token_hex(3)
        self.units: list[str] = []  # stopped at the end, last first
        self.anchors: list[subprocess.Popen[bytes]] = []
        self.victim = subprocess.Popen(["sleep", "1000"], start_new_session=True)

    def make(self) -> tuple[str, str, str]:
        """Make the kind's units; (the unit the actions act on, its cgroup, the subcgroup the
        task goes to)."""
        b = self.base
        if self.kind == "new-scope":
            return "", "", ""  # made by the placement
        extra = ["-p", "Delegate=yes"] if self.kind.startswith("delegated") else []
        sub = "ctrtui-test-sub" if extra else ""
        if self.kind.endswith("service"):
            sh("systemd-run", "--quiet", "--collect", *extra, f"--unit={b}.service", "sleep", "infinity")
            cg = self.cg(f"{b}.service")
            if sub:
                os.mkdir(f"{CG}{cg}/{sub}")
            return self._unit(f"{b}.service"), cg, sub
        if self.kind.endswith("scope"):
            self.anchors.append(subprocess.Popen(["systemd-run", "--quiet", "--collect", "--scope", *extra,
                                                  f"--unit={b}.scope", "sleep", "infinity"], start_new_session=True))
            wait_for(lambda: sh("systemctl", "is-active", f"{b}.scope", check=False).stdout.strip() == "active", 30)
            cg = self.cg(f"{b}.scope")
            if sub:
                os.mkdir(f"{CG}{cg}/{sub}")
            return self._unit(f"{b}.scope"), cg, sub
        # a slice, with a service in it
        sh("systemd-run", "--quiet", "--collect", f"--slice={b}", f"--unit={b}-anchor.service", "sleep", "infinity")
        self.units.append(f"{b}-anchor.service")
        return self._unit(f"{b}.slice"), self.cg(f"{b}.slice"), ""

    def _unit(self, unit: str) -> str:
        self.units.append(unit)
        return unit

    def cg(self, unit: str) -> str:
        return sh("systemctl", "show", "-P", "ControlGroup", unit).stdout.strip()

    def place(self, placed: str, unit: str, cg: str, sub: str) -> tuple[str, str, str]:
        """Put the victim there; (the unit to act on, where it is now, "" or why refused)."""
        pid = self.victim.pid
        if placed == "kernel":
            try:
                with open(f"{CG}{cg}/{sub}/cgroup.procs".replace("//", "/"), "w") as f:
                    f.write(str(pid))
            except OSError as e:
                return unit, cgroup_of(pid), errno.errorcode.get(e.errno or 0, str(e.errno))
            return unit, cgroup_of(pid), ""
        try:
            if self.kind not in ("slice", "new-scope"):
                self.sd.attach_processes_to_unit(unit, sub, [pid])
                return unit, cgroup_of(pid), ""
            scope = self._unit(f"{self.base}-v.scope")
            self.sd.start_transient_scope(scope, [pid], slice=unit or None)
            return unit or scope, cgroup_of(pid), ""
        except SystemdError as e:
            return unit, cgroup_of(pid), e.name or e.message or str(e)

    def act(self, action: str, unit: str, where: str) -> dict[str, str]:
        argv = ["systemctl", "daemon-reload"] if action == "daemon-reload" else ["systemctl", action, unit]
        p = sh(*argv, check=False)
        said = p.stderr.strip()[:200] if p.returncode else ""
        gone = wait_for(lambda: self.victim.poll() is not None, 5.0 if action == "stop" else 1.0)
        if gone:
            return {"outcome": "killed", "said": said}
        now = cgroup_of(self.victim.pid)
        if now != where:
            return {"outcome": "moved", "said": f"to {now}"}
        state = sh("systemctl", "show", "-P", "ActiveState", unit, check=False).stdout.strip()
        return {"outcome": "not-applicable" if said else "left", "said": said or f"{unit} is {state}"}

    def close(self) -> None:
        if self.victim.poll() is None:
            self.victim.kill()
        self.victim.wait()
        for unit in reversed(self.units):
            sh("systemctl", "stop", unit, check=False)
        for a in self.anchors:
            if a.poll() is None:
                a.kill()
            a.wait()
        sh("systemctl", "reset-failed", *[u for u in self.units], check=False)


def run(kind: str, placed: str, action: str, sd: Systemd) -> dict[str, str]:
    s = Scenario(kind, sd)
    try:
        unit, cg, sub = s.make()
        unit, where, refused = s.place(placed, unit, cg, sub)
        cell = {"kind": kind, "placed": placed, "action": action}
        if refused:
            return {**cell, "outcome": "refused", "said": refused}
        return {**cell, **s.act(action, unit, where)}
    finally:
        s.close()


def main(kinds: list[str]) -> int:
    sd = Systemd()
    cells = []
    try:
        for kind in kinds or KINDS:
            for placed in PLACED[kind]:
                for action in ACTIONS:
                    cells.append(run(kind, placed, action, sd))
                    if cells[-1]["outcome"] == "refused":
                        break  # the placement does not depend on the action
    finally:
        sh("systemctl", "stop", "ctrtui.slice", check=False)  # the parents systemd made for the slices
    print(json.dumps({"cells": cells, "systemd": sd.version()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
