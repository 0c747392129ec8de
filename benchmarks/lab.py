"""Figures of the lab (devtools/labguest.py): a Debian 12 guest with systemd and pure cgroup v2,
booted with qemu. Under TCG (no vmx/svm on this CPU, the usual case here: see the module's
docstring) every figure in the guest is an emulated machine's, ~10-50x slower than the host.

- `lab_ls_vs_systemd_cgls`: in the guest, `ctrtui ls` (installed offline from a wheelhouse
  of this checkout) ÷ `systemd-cgls -a --no-pager`, both whole processes on the guest's own
  systemd tree, alternated by a timing loop that runs in the guest (ssh is not timed).
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

KEYS = ("lab_ls_vs_systemd_cgls", "lab_build_cached_s", "lab_boot_s")
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
    ratio = statistics.median(t["a"]) / statistics.median(t["b"])
    ctx.meta_for("lab_ls_vs_systemd_cgls", accel=accel, guest_cgroups=cgroups,
                 ctrtui_ls_s=[round(x, 4) for x in t["a"]], systemd_cgls_s=[round(x, 4) for x in t["b"]],
                 ctrtui_ls_median_s=round(statistics.median(t["a"]), 4),
                 systemd_cgls_median_s=round(statistics.median(t["b"]), 4),
                 python_pass_median_s=round(statistics.median(t["python"]), 4),
                 note="python_pass: the venv's python -c pass in the guest, the floor of any Python command")
    ctx.meta_for("lab_boot_s", accel=accel, image=str(img), first_image_call_s=round(first, 2))
    return {"lab_ls_vs_systemd_cgls": ratio, "lab_build_cached_s": cached, "lab_boot_s": boot}


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
