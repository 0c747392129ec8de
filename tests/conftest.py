"""Fixtures of general use for the whole test suite."""

from __future__ import annotations

import pytest

from tests.realcg import REAL_OK, REAL_WHY, RealWorld


@pytest.fixture
def realworld():
    """A `tests.realcg.RealWorld`: throwaway `ctrtui-test-*` cgroups and own processes on
    the real kernel, all undone after the test. Skips with the reason when real cgroups are
    not usable here (not root, hierarchy not mounted or not writable)."""
    if not REAL_OK:
        pytest.skip(REAL_WHY)
    with RealWorld() as world:
        yield world
