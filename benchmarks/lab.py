"""Figures of the lab (devtools/labguest.py): a Debian 12 guest with systemd and pure cgroup v2,
booted with qemu. Under TCG (no vmx/svm on this CPU, the usual case here: see the module's
docstring) every figure in the guest is an emulated machine's, ~10-50x slower than the host.

- `lab_ls_vs_systemd_cgls`: in the guest, `ctrtui ls` (installed offline from a wheelhouse
  of this checkout) ÷ `systemd-cgls -a --no-pager`, both whole processes on the guest's own
  systemd tree, alternated by a timing loop that runs in the guest (ssh is not timed).
- `lab_dbus_attach_ms`: in the guest, one `AttachProcessesToUnit` through ctrtui's systemd
  client (ctrtui/sources/systemd.py: one `busctl` run), a running `sleep` moved between two
  cgroups below a `Delegate=yes` scope: the D-Bus round trip per move, median per call.
- `lab_dbus_scope_ms`: one `StartTransientUnit` of a new scope for a running `sleep`, with the
  job waited for (the start and the polls until it is gone: two or more busctl runs), per call.
- `lab_scope_vs_systemd_run`: that scope of a running task (in process, as the engine will
  call it) ÷ `systemd-run --scope --quiet --collect sleep 0` (a whole process: a new task in a
  new scope, what a user types), alternated; the whole-process Python form is in the meta.
- `lab_move_scope_vs_systemd_run`: the whole `ctrtui move PID --scope NAME --json` of a running
  `sleep` (the installed command, with its journal) ÷ that systemd-run, alternated with it.
- `lab_build_cached_s`: finding the cached image (the second CI run on a machine).
- `lab_boot_s`: from starting qemu on a fresh overlay to the guest's sshd answering.
- `lab_build_cold_s` (asked for only: `--only lab_build_cold_s`): a build from nothing
  into a temp cache (mmdebstrap, mkfs.ext4 -d), which is then removed.
- `lab_tier_s` (asked for only: `--only lab_tier_s`): `pytest -m lab tests/lab` as a whole
  process, with the image cached (what the tier adds to CI).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import Skip

KEYS = ("lab_ls_vs_systemd_cgls", "lab_build_cached_s", "lab_boot_s", "lab_dbus_attach_ms", "lab_dbus_scope_ms",
        "lab_scope_vs_systemd_run", "lab_move_scope_vs_systemd_run")
ASKED_KEYS = ("lab_build_cold_s", "lab_tier_s")
ROOT = Path(__file__).resolve().parents[1]

# Runs in the guest: alternate the two commands, print their wall times as JSON.
TIMER = r"""
import json, subprocess, sys, time
runs, a, b = int(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
def once(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
once(a); once(b)
out = {"a": [], "b": []}
for i in range(runs):
    for k, cmd in ((("a", a), ("b", b)) if i % 2 == 0 else (("b", b), ("a", a))):
        out[k].append(once(cmd))
out["python"] = [once([a[0].rsplit("/", 1)[0] + "/python", "-c", "pass"]) for _ in range(runs)]
print(json.dumps(out))
"""

# Runs in the guest with the venv's python: systemd over D-Bus (ctrtui.sources.systemd) beside
# systemd-run. Only ctrtui-test-* units and its own sleeps, all stopped at the end.
SYSTEMD_TIMER = r"""
import json, os, secrets, subprocess, sys, time
from ctrtui.sources.systemd import Systemd
runs, py = int(sys.argv[1]), sys.argv[2]
sd, tag = Systemd(), "ctrtui-test-" + secrets.token_hex(3)
def sh(*a):
    subprocess.run(a, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
anchor = subprocess.Popen(["systemd-run", "--quiet", "--collect", "--scope", "-p", "Delegate=yes",
                           f"--unit={tag}-d.scope", "sleep", "infinity"])
victims, units = [], [f"{tag}-d.scope"]
out = {"attach": [], "scope": [], "systemd_run": [], "scope_process": [], "move_scope": []}
xdg = "/tmp/" + tag  # the command's own XDG dirs (its journal), removed at the end
env = dict(os.environ, XDG_STATE_HOME=xdg + "/state", XDG_CONFIG_HOME=xdg + "/config", NO_COLOR="1")
try:
    while (sd.placement(f"/system.slice/{tag}-d.scope").delegated is not True
           or not os.path.isdir(f"/sys/fs/cgroup/system.slice/{tag}-d.scope")):  # loaded before its cgroup is made
        time.sleep(0.1)
    for sub in ("a", "b"):
        os.mkdir(f"/sys/fs/cgroup/system.slice/{tag}-d.scope/{sub}")
    v = subprocess.Popen(["sleep", "1000"]); victims.append(v)
    for i in range(2 * runs + 1):
        t = time.perf_counter()
        sd.attach_processes_to_unit(f"{tag}-d.scope", "ab"[i % 2], [v.pid])
        if i:  # the first call warms the caches
            out["attach"].append(time.perf_counter() - t)
    def scope():
        v = subprocess.Popen(["sleep", "1000"]); victims.append(v)
        name = f"{tag}-{len(victims)}.scope"; units.append(name)
        t = time.perf_counter()
        sd.start_transient_scope(name, [v.pid])
        return time.perf_counter() - t
    def systemd_run():
        t = time.perf_counter()
        sh("systemd-run", "--scope", "--quiet", "--collect", f"--unit={tag}-r{len(victims)}-{time.time_ns()}.scope",
           "sleep", "0")
        return time.perf_counter() - t
    def scope_process():
        v = subprocess.Popen(["sleep", "1000"]); victims.append(v)
        name = f"{tag}-{len(victims)}.scope"; units.append(name)
        t = time.perf_counter()
        sh(py, "-c", "from ctrtui.sources.systemd import Systemd; "
                     f"Systemd().start_transient_scope({name!r}, [{v.pid}])")
        return time.perf_counter() - t
    def move_scope():
        v = subprocess.Popen(["sleep", "1000"]); victims.append(v)
        name = f"{tag}-{len(victims)}.scope"; units.append(name)
        t = time.perf_counter()
        p = subprocess.run([os.path.join(os.path.dirname(py), "ctrtui"), "move", str(v.pid), "--scope", name, "--json"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env)
        took = time.perf_counter() - t
        assert p.returncode == 0 and json.loads(p.stdout)[0]["outcome"] == "moved", p.stdout + p.stderr
        return took
    scope(); systemd_run(); scope_process(); move_scope()
    for i in range(runs):
        order = ((scope, systemd_run, scope_process, move_scope) if i % 2 == 0
                 else (systemd_run, move_scope, scope_process, scope))
        for f in order:
            out[f.__name__].append(f())
finally:
    for v in victims:
        v.kill(); v.wait()
    anchor.kill(); anchor.wait()
    for u in units:
        sh("systemctl", "stop", u)
    sh("rm", "-rf", xdg)
out["calls"] = sd.calls
print(json.dumps(out))
"""


def _lab():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from devtools import labguest as guest

    if not guest.LAB_OK:
        raise Skip(guest.LAB_WHY)
    return guest


def lab_figures(ctx) -> dict[str, float]:
    """Boot the cached image (built first when missing) and take KEYS."""
    import statistics

    lab = _lab()
    accel = "kvm" if lab.KVM else "tcg"
    t0 = time.perf_counter()
    img = lab.image(log=lambda s: print(f"  lab: {s}", file=sys.stderr, flush=True))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    lab.image()
    cached = time.perf_counter() - t0
    with lab.Guest(img) as g:
        boot = g.boot_seconds
        ctrtui = g.install(ROOT, extras="test")
        g.ssh(f"{ctrtui} ls >/dev/null")  # byte-compile once, as an installed system has
        cgroups = int(g.ssh("find /sys/fs/cgroup -type d | wc -l").stdout)
        p = g.ssh(["python3", "-c", TIMER, str(ctx.runs), json.dumps([ctrtui, "ls"]),
                   json.dumps(["systemd-cgls", "-a", "--no-pager"])], timeout=1800)
        t = json.loads(p.stdout)
        p = g.ssh([ctrtui.rsplit("/", 1)[0] + "/python", "-c", SYSTEMD_TIMER, str(ctx.runs),
                   ctrtui.rsplit("/", 1)[0] + "/python"], timeout=1800)
        sd = json.loads(p.stdout.strip().splitlines()[-1])
    systemd_figures = _systemd_figures(ctx, accel, sd)
    ratio = statistics.median(t["a"]) / statistics.median(t["b"])
    ctx.meta_for("lab_ls_vs_systemd_cgls", accel=accel, guest_cgroups=cgroups,
                 ctrtui_ls_s=[round(x, 4) for x in t["a"]], systemd_cgls_s=[round(x, 4) for x in t["b"]],
                 ctrtui_ls_median_s=round(statistics.median(t["a"]), 4),
                 systemd_cgls_median_s=round(statistics.median(t["b"]), 4),
                 python_pass_median_s=round(statistics.median(t["python"]), 4),
                 note="python_pass: the venv's python -c pass in the guest, the floor of any Python command")
    ctx.meta_for("lab_boot_s", accel=accel, image=str(img), first_image_call_s=round(first, 2))
    return {"lab_ls_vs_systemd_cgls": ratio, "lab_build_cached_s": cached, "lab_boot_s": boot, **systemd_figures}


def _systemd_figures(ctx, accel: str, t: dict) -> dict[str, float]:
    """The systemd keys from SYSTEMD_TIMER's timings (seconds), and their meta."""
    import statistics

    med = {k: statistics.median(t[k]) for k in ("attach", "scope", "systemd_run", "scope_process", "move_scope")}
    note = ("in the guest under TCG when accel is tcg: an emulated machine, many times slower than the host; "
            "each busctl run is a process start there")
    ctx.meta_for("lab_dbus_attach_ms", accel=accel, attach_s=[round(x, 4) for x in t["attach"]],
                 busctl_runs_total=t["calls"], note=note)
    ctx.meta_for("lab_dbus_scope_ms", accel=accel, scope_s=[round(x, 4) for x in t["scope"]], note=note)
    ctx.meta_for("lab_scope_vs_systemd_run", accel=accel, ctrtui_scope_median_s=round(med["scope"], 4),
                 systemd_run_scope_median_s=round(med["systemd_run"], 4),
                 ctrtui_scope_whole_process_median_s=round(med["scope_process"], 4),
                 whole_process_vs_systemd_run=round(med["scope_process"] / med["systemd_run"], 3),
                 note="ctrtui: StartTransientUnit of a running sleep with the job waited for, in process; "
                      "systemd-run --scope sleep 0: a whole process; whole process: python -c of the same call")
    ctx.meta_for("lab_move_scope_vs_systemd_run", accel=accel, move_scope_s=[round(x, 4) for x in t["move_scope"]],
                 systemd_run_scope_median_s=round(med["systemd_run"], 4),
                 note="ctrtui move PID --scope NAME --json, the whole command (interpreter, imports, plan, journal, "
                      "StartTransientUnit with its job waited for, verify) of a running sleep, ÷ systemd-run --scope "
                      "sleep 0 (a new task in a new scope); " + note)
    return {"lab_dbus_attach_ms": med["attach"] * 1000, "lab_dbus_scope_ms": med["scope"] * 1000,
            "lab_scope_vs_systemd_run": med["scope"] / med["systemd_run"],
            "lab_move_scope_vs_systemd_run": med["move_scope"] / med["systemd_run"]}


def lab_build_cold_s(ctx) -> float:
    """A build from nothing, into a temp cache that is removed afterwards."""
    lab = _lab()
    tmp = tempfile.mkdtemp(prefix="ctrtui-lab-cold-", dir=os.path.dirname(lab.CACHE.rstrip("/")) or None)
    try:
        t0 = time.perf_counter()
        lab.image(cache=Path(tmp))
        dt = time.perf_counter() - t0
        size = sum(f.stat().st_blocks * 512 for f in Path(tmp).rglob("*") if f.is_file())
        ctx.meta_for("lab_build_cold_s", accel="kvm" if lab.KVM else "tcg", bytes_on_disk=size)
        return dt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def lab_tier_s(ctx) -> float:
    """`pytest -m lab tests/lab` as a whole process (image cached), its wall time."""
    _lab()
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "lab", "tests/lab"],
                       cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    last = (p.stdout.strip().splitlines() or [""])[-1]
    ctx.meta_for("lab_tier_s", exit=p.returncode, summary=last)
    if p.returncode != 0:
        raise Skip(f"the lab tier failed ({last}); its time is not a figure")
    return dt
