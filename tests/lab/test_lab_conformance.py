"""Conformance, third world: tests/real/test_conformance.py's scenarios on the guest's real
kernel (pure cgroup v2 with controllers, systemd as PID 1), beside the simulated kernel
(tests/unit/test_conformance_sim.py) and this machine's hybrid one (tests/real/).

This checkout's tests/ is copied into the guest and the module runs there as root, with
ctrtui installed from the wheelhouse; tests/realcg.py sees the pure v2 layout, so v1
scenarios (and the v1 parameter of those written for both versions) skip there, saying so,
and the v2 ones run: at least 40 of them. Every scenario that runs must pass: a failure means the
simulated kernel (and so ctrtui's predictions) is wrong on such a host.
"""

from __future__ import annotations

import re

from devtools.labguest import VENV
from tests.lab.conftest import ROOT

SRC = "/root/ctrtui-src"


def test_conformance_scenarios_pass_on_the_guests_pure_v2_kernel(installed):
    g = installed
    g.copy_in(SRC, ROOT, ["tests", "devtools", "pyproject.toml"])
    # The scenarios start their processes where pytest runs, and expect it to be the root
    # cgroup (as on the CI machine); an ssh session lands in logind's session scope, a
    # systemd unit. So the shell (this test's own) moves itself to the root first.
    p = g.ssh(f"cd {SRC} && echo $$ > /sys/fs/cgroup/cgroup.procs && exec env XDG_STATE_HOME={SRC}/.state "
              f"XDG_CONFIG_HOME={SRC}/.config {VENV}/bin/python -m pytest -q -p no:cacheprovider -rfEs "
              "--tb=short tests/real/test_conformance.py", check=False, timeout=1800)
    out = p.stdout + p.stderr
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M)
    assert p.returncode == 0 and not failed, (
        f"in the guest, {len(failed)} conformance scenario(s) failed ({summary}):\n  " + "\n  ".join(failed)
        + "\n\n" + out[-12000:])
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 40, f"too few scenarios ran in the guest: {summary}\n{out[-6000:]}"
    # the v1 scenarios skipped, and said why
    assert "pure cgroup v2" in out, out[-6000:]
