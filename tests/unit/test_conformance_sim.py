"""Conformance on the simulated kernel: every scenario of tests/real/test_conformance.py, run
with its `world` fixture as SimKernel (`sim`) instead of the real kernel (`real`).

The scenarios are written once, there; this module collects the same test functions (same
names, same parameters) and gives them the simulated world, so the fast unit tier proves
SimKernel's answers and the real tier proves that the kernel gives the same ones.
"""

from __future__ import annotations

import pytest

from tests.real import test_conformance as scenarios


@pytest.fixture(params=["sim", "sim-v2"])
def world(request):
    """The World adapter over a SimKernel laid out like this machine's allowed hierarchies
    (`sim`), or like a pure v2 guest with controllers (`sim-v2`: scenarios that need a v1
    hierarchy skip there, those that need v2 controllers skip on `sim`)."""
    yield scenarios.SimWorld("v2" if request.param == "sim-v2" else "hybrid")


globals().update({name: fn for name, fn in vars(scenarios).items() if name.startswith("test_") and callable(fn)})
