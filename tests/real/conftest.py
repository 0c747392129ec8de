"""Fixtures of the real tier that more than one file uses."""

from __future__ import annotations

import pytest

from devtools.sshd import SSHD_OK, SSHD_WHY, SshLab


@pytest.fixture(scope="session")
def sshlab():
    """A `devtools.sshd.SshLab` for the whole session: a client identity and config; tests
    start their sshd "hosts" with `sshlab.start_host()` (or use `sshhost`). Every sshd is
    stopped, and checked gone, at the end of the session. Skips when sshd cannot run here."""
    if not SSHD_OK:
        pytest.skip(SSHD_WHY)
    with SshLab() as lab:
        yield lab


@pytest.fixture(scope="session")
def sshhost(sshlab):
    """One running sshd host (`devtools.sshd.SshHost`) shared by the session's tests; a test
    that stops or breaks its host starts its own with `sshlab.start_host()`."""
    return sshlab.start_host()
