"""The backend contract in the UI: read-only follows from the backend (the rest of the
contract: tests/unit/test_backend_contract.py)."""

from __future__ import annotations

from ctrtui.sources.demo import demo_world
from ctrtui.sources.simulated import SimKernel


async def test_the_ui_is_read_only_on_a_backend_without_a_writer(pilot_app, tmp_path):
    from devtools.pilot import settle

    class Recording(SimKernel):
        capabilities = frozenset()

    k = demo_world()
    k.__class__ = type("DemoRecording", (Recording,), {})
    async with pilot_app(k) as (app, pilot):
        assert app.read_only_reason == "this backend cannot move tasks"
        await pilot.press("u")
        await settle(pilot)
        assert any("Read-only: this backend cannot move tasks" in n for n in app.notices)
