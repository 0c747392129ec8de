"""systemd on the lab's guest (systemd 252, pure cgroup v2): the D-Bus client
(ctrtui/sources/systemd.py) against the real manager, and the facts that the risk wording per
unit kind follows (ctrtui/sources/systemd_risks.py, docs/systemd.md): for a task placed by hand
and one placed through systemd into a service, a scope, a delegated unit's subtree, a slice and
a new scope, what `systemctl stop`, `restart` and `daemon-reload` do to it.

The scenarios run in the guest, as one script (tests/lab/systemd_facts.py), with ctrtui
installed there; only `ctrtui-test-*` units and the script's own `sleep`s, all stopped
afterwards.
"""

from __future__ import annotations

import json

from ctrtui.sources.systemd_risks import FACTS, REFUSALS, risk_for
from tests.lab.conftest import ROOT
from tests.lab.guest import VENV

SRC = "/root/ctrtui-systemd"

# Runs in the guest: the client against the real manager, every answer shape it meets.
CLIENT = r"""
import json, os, secrets, subprocess, sys
from ctrtui.sources.systemd import Systemd, SystemdError, detect
sd, tag, out = Systemd(), secrets.token_hex(3), {}
out["detect"] = list(detect())
out["version"] = sd.version()
out["init"] = list(sd.placement("/init.scope/x") or ())
p = subprocess.Popen(["sleep", "1000"])
try:
    try:
        sd.attach_processes_to_unit("init.scope", "", [p.pid])
    except SystemdError as e:
        out["refused"] = [e.name, e.message, str(e)]
    scope = f"ctrtui-test-{tag}.scope"
    started = sd.start_transient_scope(scope, [p.pid], properties=["CPUWeight=42", "MemoryMax=64M", "TasksMax=77"])
    cg = open(f"/proc/{p.pid}/cgroup").read().strip().split("::")[-1]
    out["started"] = list(started) + [cg]
    out["files"] = [open(f"/sys/fs/cgroup{cg}/{f}").read().strip() for f in ("cpu.weight", "memory.max", "pids.max")]
    out["placement"] = list(sd.placement(cg) or ())
    out["control_group"] = sd.control_group(scope)
    try:
        sd.start_transient_scope(scope, [p.pid])
    except SystemdError as e:
        out["exists"] = e.name
finally:
    p.kill(); p.wait()
    subprocess.run(["systemctl", "stop", f"ctrtui-test-{tag}.scope"], capture_output=True)
print(json.dumps(out))
"""


def test_the_client_against_systemd_252(installed):
    p = installed.ssh([f"{VENV}/bin/python", "-c", CLIENT], timeout=600)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["detect"] == [True, "unified", "/sys/fs/cgroup", ""]
    assert out["version"].startswith("252")
    assert out["init"] == ["init.scope", "scope", "x", False]
    name, message, sentence = out["refused"]
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert message == "Process migration not available on non-delegated units."
    assert "into init.scope failed: systemd says" in sentence and "Delegate=yes" in sentence
    unit, job, active, sub, cg = out["started"]
    assert unit.startswith("ctrtui-test-") and job.startswith("/org/freedesktop/systemd1/job/")
    assert (active, sub) == ("active", "running") and cg == f"/system.slice/{unit}"
    assert out["files"] == ["42", str(64 << 20), "77"]  # the properties reached the kernel
    assert out["placement"] == [unit, "scope", "", False] and out["control_group"] == cg
    assert out["exists"] == "org.freedesktop.systemd1.UnitExists"


def test_what_stop_restart_and_reload_do_to_placed_tasks_is_the_table(installed):
    g = installed
    g.copy_in(SRC, ROOT, ["tests"])
    p = g.ssh(f"cd {SRC} && {VENV}/bin/python -m tests.lab.systemd_facts", timeout=1800)
    cells = json.loads(p.stdout.strip().splitlines()[-1])["cells"]
    shown = "\n".join(json.dumps(c) for c in cells)
    measured: dict[tuple[str, str], dict[str, str]] = {}
    for c in cells:
        row = measured.setdefault((c["kind"], c["placed"]), {})
        if c["outcome"] == "refused":
            row.update(dict.fromkeys(("stop", "restart", "daemon-reload"), "refused"))
            assert REFUSALS.get((c["kind"], c["placed"])) == c["said"], shown
        else:
            row[c["action"]] = c["outcome"]
    assert measured == FACTS, shown
    # the wording follows the table
    assert "systemctl stop or systemctl restart of web.service kills the task" in risk_for("service", "kernel",
                                                                                           "web.service")
    assert "systemctl restart does not apply to a scope" in risk_for("delegated-scope", "systemd")
    assert "systemctl stop of the slice kills the task" in risk_for("slice", "systemd")
