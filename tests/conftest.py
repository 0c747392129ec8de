"""Fixtures of general use for the whole test suite, and the tiers.

Tiers (docs/testing.md): a test's directory decides its markers. Every test lives in
`tests/unit/` (no marker: the model, the parsers, the engine on the simulated kernel, the
command line on the demo world), `tests/ui/` (marked `ui`: Pilot on the demo world) or
`tests/real/` (marked `real`: it touches the real /sys/fs/cgroup; a real test that also
drives the UI adds `ui` by its own `pytestmark`) or `tests/lab/` (marked `lab`: it boots a
qemu guest, Debian 12 with systemd and pure cgroup v2, and runs ctrtui there). The
collection hook below applies those markers and refuses, as a collection error, a test that
would break the rule, so `pytest tests/unit` and `pytest -m "not real and not ui and not
lab"` select the same tests by construction (tests/unit/test_tiers.py checks it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realcg import REAL_OK, REAL_WHY, RealWorld

TESTS = Path(__file__).resolve().parent
TIERS = {"unit": (), "ui": ("ui",), "real": ("real",), "lab": ("lab",)}


@pytest.fixture
def realworld():
    """A `tests.realcg.RealWorld`: throwaway `ctrtui-test-*` cgroups and own processes on
    the real kernel, all undone after the test. Skips with the reason when real cgroups are
    not usable here (not root, hierarchy not mounted or not writable)."""
    if not REAL_OK:
        pytest.skip(REAL_WHY)
    with RealWorld() as world:
        yield world


def tier_of(path: Path) -> str | None:
    """The tier (`unit`, `ui`, `real`, `lab`) of a test file: the directory under `tests/` (this
    file's directory) it lives in; None when it lives anywhere else."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def tier_problem(item: pytest.Function, tier: str | None) -> str | None:
    """Why `item` may not live in `tier` (a sentence), or None when it may."""
    if tier is None:
        return ("every test lives in a tier: tests/unit/ (no marker), tests/ui/ (Pilot on the demo "
                "world, marked ui), tests/real/ (the real /sys/fs/cgroup, marked real) or tests/lab/ (a qemu "
                "guest, marked lab); move this file there")
    if tier != "lab" and item.get_closest_marker("lab"):
        return "it is marked `lab` outside tests/lab/; move it to a file under tests/lab/"
    if tier != "real":
        if "realworld" in item.fixturenames:
            return ("it uses the `realworld` fixture (the real /sys/fs/cgroup) outside tests/real/; "
                    "move it to a file under tests/real/")
        if item.get_closest_marker("real"):
            return "it is marked `real` outside tests/real/; move it to a file under tests/real/"
        if tier != "ui" and item.get_closest_marker("ui"):
            return "it is marked `ui` outside tests/ui/ and tests/real/; move it to a file under tests/ui/"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """Mark each test function by its tier's directory, or refuse it (a collection error
    naming the test and the rule it breaks)."""
    result = yield
    items = result if isinstance(result, list) else [result]
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        tier = tier_of(item.path)
        problem = tier_problem(item, tier)
        if problem:
            raise collector.CollectError(f"{item.nodeid}: {problem}.")
        for marker in TIERS[tier]:
            item.add_marker(marker)
    return result
