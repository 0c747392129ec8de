"""Fixtures of the UI tier (tests/ui/): the Pilot opening every test shares."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from devtools.waiting import open_app


@pytest.fixture
def pilot_app(tmp_path: Path) -> Callable[..., AbstractAsyncContextManager[tuple[Any, Any]]]:
    """`devtools.waiting.open_app` with this test's `tmp_path` (the journal's directory):

        async with pilot_app(world, hierarchy="freezer") as (app, pilot):

    runs the app headless at `devtools.pilot.SIZE` (or `size=`) on the backend, or runs
    `app=` as given, and yields once its first snapshot is drawn (or `ready(app)` holds)."""
    return partial(open_app, tmp_path=tmp_path)
