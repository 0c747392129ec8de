"""Fixtures of the lab tier: one guest for the whole session (tests/lab/guest.py), and
ctrtui installed in it offline from a wheelhouse of this checkout."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devtools.labguest import LAB_OK, LAB_WHY, Guest, LabError, image

ROOT = Path(__file__).resolve().parents[2]
#: What the lab tier cost, in seconds, by step: printed at the end of the session.
COSTS: dict[str, float] = {}


@pytest.fixture(scope="session")
def guest():
    """The booted guest (`devtools.labguest.Guest`), built first when the cache lacks the
    image; stopped (qemu killed, its overlay removed) at the end of the session. Skips only
    where the lab cannot run (LAB_WHY); a failed build or boot is an error."""
    if not LAB_OK:
        pytest.skip(LAB_WHY)
    start = time.monotonic()
    try:
        img = image(log=lambda s: print(f"\nlab: {s}", file=sys.stderr))
    except LabError as e:
        pytest.fail(f"the lab image could not be built: {e}", pytrace=False)
    COSTS["image (built or cached)"] = time.monotonic() - start
    try:
        g = Guest(img)
    except LabError as e:
        pytest.fail(f"the lab guest did not boot: {e}", pytrace=False)
    COSTS["boot to ssh"] = g.boot_seconds
    try:
        yield g
    finally:
        g.close()


@pytest.fixture(scope="session")
def installed(guest):
    """The guest with this checkout installed (with the test extra) in the venv
    `devtools.labguest.VENV`, offline from a wheelhouse built here. Returns the guest."""
    start = time.monotonic()
    try:
        guest.install(ROOT)
    except LabError as e:
        pytest.fail(str(e), pytrace=False)
    COSTS["wheelhouse and install"] = time.monotonic() - start
    return guest


@pytest.fixture
def state(guest):
    """A fresh XDG_STATE_HOME/XDG_CONFIG_HOME in the guest (its journal) and one on this
    host (for ctrtui run here with --host), both removed afterwards."""
    name = "ctrtui-lab-" + secrets.token_hex(4)
    guest.ssh(f"mkdir -p /root/{name}/state /root/{name}/config")
    with tempfile.TemporaryDirectory(prefix="ctrtui-lab-xdg-") as local:
        yield {"guest": f"/root/{name}", "local": local}
    guest.ssh(f"rm -rf /root/{name}", check=False)


def pytest_terminal_summary(terminalreporter):
    if COSTS:
        terminalreporter.write_line("lab tier costs (TCG unless the CPU has vmx/svm): " + ", ".join(
            f"{k} {v:.1f} s" for k, v in COSTS.items()))


def local_env(xdg: str) -> dict[str, str]:
    return dict(os.environ, XDG_STATE_HOME=xdg + "/state", XDG_CONFIG_HOME=xdg + "/config", NO_COLOR="1")
