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
from devtools.labguest import VENV
from tests.lab.conftest import ROOT

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


# Runs in the guest: ctrtui's moves into systemd's units (the engine's systemd route), as root,
# with its own XDG dirs; a delegated scope and a service that is not delegated, both
# `ctrtui-test-*` transient units holding their own `sleep`, and a `sleep` of the script's own
# in `/ctrtui-test-<hex>/origin` that it moves; everything stopped and removed in `finally`.
ROUTE = r"""
import json, os, secrets, subprocess, sys, tempfile, time
tag, out = secrets.token_hex(3), {}
xdg = tempfile.mkdtemp(prefix="ctrtui-test-")
env = dict(os.environ, XDG_STATE_HOME=xdg + "/state", XDG_CONFIG_HOME=xdg + "/config", NO_COLOR="1")
ctrtui = os.path.join(os.path.dirname(sys.executable), "ctrtui")
def run(*args):
    p = subprocess.run([ctrtui, *args, "--json"], capture_output=True, text=True, env=env, timeout=300)
    return [p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr[-1500:]]
def cg(pid):
    return open(f"/proc/{pid}/cgroup").read().strip().split("::")[-1]
top = f"/sys/fs/cgroup/ctrtui-test-{tag}"
dscope, service, nscope = (f"ctrtui-test-{tag}-d.scope", f"ctrtui-test-{tag}-s.service",
                           f"ctrtui-test-{tag}-n.scope")
units = []
os.makedirs(top + "/origin")
me = subprocess.Popen(["sleep", "900"])
try:
    with open(top + "/origin/cgroup.procs", "w") as f:
        f.write(str(me.pid))
    units.append(subprocess.Popen(["systemd-run", "--scope", "--quiet", "-p", "Delegate=yes", f"--unit={dscope}",
                                   "sleep", "900"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    subprocess.run(["systemd-run", "--quiet", f"--unit={service}", "sleep", "900"], check=True)
    for _ in range(100):
        if os.path.isdir(f"/sys/fs/cgroup/system.slice/{dscope}"):
            break
        time.sleep(0.1)
    os.mkdir(f"/sys/fs/cgroup/system.slice/{dscope}/sub")
    pid = str(me.pid)
    out["refused"] = run("move", pid, "--to", f"unified:/system.slice/{service}")
    out["kernel"] = run("move", pid, "--to", f"unified:/system.slice/{service}", "--via", "kernel") + [cg(me.pid)]
    out["kernel_undo"] = run("undo") + [cg(me.pid)]
    out["delegated"] = run("move", pid, "--to", f"unified:/system.slice/{dscope}/sub") + [cg(me.pid)]
    journal = [json.loads(l) for l in open(xdg + "/state/ctrtui/journal.jsonl") if '"intent"' in l]
    out["routes"] = [j.get("route", "kernel") for j in journal]
    out["delegated_undo"] = run("undo") + [cg(me.pid)]
    out["slice"] = run("move", pid, "--to", "unified:/system.slice", "--dry-run")
    out["scope"] = run("move", pid, "--scope", nscope, "-p", "CPUWeight=42") + [cg(me.pid)]
    out["weight"] = open(f"/sys/fs/cgroup{cg(me.pid)}/cpu.weight").read().strip()
    journal = [json.loads(l) for l in open(xdg + "/state/ctrtui/journal.jsonl") if '"intent"' in l]
    out["scope_route"] = journal[-1].get("route")
    out["scope_undo"] = run("undo") + [cg(me.pid)]
    for _ in range(50):  # the emptied scope is systemd's to collect
        state = subprocess.run(["systemctl", "is-active", nscope], capture_output=True, text=True).stdout.strip()
        if state != "active":
            break
        time.sleep(0.1)
    out["scope_after_undo"] = state
    out["bad_property"] = run("move", pid, "--scope", nscope, "-p", "Colour=red", "--dry-run")
    out["units"] = [dscope, service, nscope]
finally:
    me.kill(); me.wait()
    subprocess.run(["systemctl", "stop", dscope, service, nscope], capture_output=True)
    for p in units:
        p.wait(30)
    for _ in range(50):
        try:
            os.rmdir(top + "/origin"); os.rmdir(top)
            break
        except OSError:
            time.sleep(0.1)
print(json.dumps(out))
"""


def test_moves_into_systemds_units_take_the_route_systemd_allows(installed):
    """The engine's systemd route (ctrtui/engine/systemdroute.py) against systemd 252: a service
    that is not delegated is refused as systemd refuses it, then written with --via kernel and
    its risk; a delegated scope's subcgroup takes the task through AttachProcessesToUnit,
    journaled with the route; both undone; a slice's own cgroup predicted EBUSY; `move --scope`
    starts a new scope holding the running task with its property, undone, the emptied scope
    left to systemd; a bad property refused in one sentence before systemd is asked."""
    p = installed.ssh([f"{VENV}/bin/python", "-c", ROUTE], timeout=900)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    dscope, service, nscope = out["units"]
    rc, rows, err = out["refused"]
    assert rc == 1 and (rows[0]["outcome"], rows[0]["hook"]) == ("refused", "systemd-route"), (rows, err)
    assert "not delegated" in rows[0]["reason"] and "--via kernel" in rows[0]["advice"], rows
    rc, rows, err, where = out["kernel"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where == f"/system.slice/{service}", (rows, err)
    assert any(f"of {service} kills the task: it now lives and dies with that unit" in r for r in rows[0]["risks"])
    assert "ctrtui: risk:" in err
    rc, rows, err, where = out["kernel_undo"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where.endswith("/origin"), (rows, err)
    rc, rows, err, where = out["delegated"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where == f"/system.slice/{dscope}/sub", (rows, err)
    # the refused batch (nothing written), the service, its undo, the delegated scope
    assert out["routes"] == ["kernel", "kernel", "kernel", "systemd"], out["routes"]
    rc, rows, err, where = out["delegated_undo"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where.endswith("/origin"), (rows, err)
    rc, rows, err = out["slice"]
    assert rc == 1 and (rows[0]["outcome"], rows[0]["errno"]) == ("refused", "EBUSY"), (rows, err)
    rc, rows, err, where = out["scope"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where == f"/system.slice/{nscope}", (rows, err)
    assert any(f"systemctl stop of {nscope} kills the task" in r for r in rows[0]["risks"]), rows
    assert out["weight"] == "42" and out["scope_route"] == "scope", out
    rc, rows, err, where = out["scope_undo"]
    assert rc == 0 and rows[0]["outcome"] == "moved" and where.endswith("/origin"), (rows, err)
    assert out["scope_after_undo"] in ("inactive", "unknown"), out  # emptied: systemd collected it
    rc, rows, err = out["bad_property"]
    assert rc == 2 and rows is None and "Colour" in err and len(err.strip().splitlines()) == 1, err
