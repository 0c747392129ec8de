"""`ctrtui replay --host` (ctrtui/ui/replay.py on a `ServedRecording`): the replay UI on a
host's recording, the host answering each sample through the agent's protocol (an `Agent`
in-process, tests/unit/test_history_remote.py's channel): the steps show what the host
recorded with the diff highlight, the batches are on the time bar, a time typed is read on the
host, writes are refused as in a local replay, a host that goes is one sentence, and the tree's
columns show the figures the host recorded (`history_figures`)."""

from __future__ import annotations

import time

import pytest

from ctrtui.agent.ops import Agent
from ctrtui.remote import HostError
from ctrtui.remote.service import RemoteService
from ctrtui.service.servedrecording import ServedRecording
from ctrtui.ui.replay import RECORDING, ReplayApp
from ctrtui.ui.screens.jumptime import JumpTime
from ctrtui.ui.widgets.timebar import TimeBar
from devtools.pilot import goto
from devtools.waiting import wait_for
from tests.hostfakes import AgentChannel
from tests.ui.test_replay import (
    BATCH_SAMPLE,
    OTHER_SAMPLE,
    SAMPLES,
    _at,
    _members,
    _record,
    recorded_columns_follow_a_step,
)
from tests.unit.test_history import T0, small_world

pytestmark = pytest.mark.ui


async def test_replay_of_a_hosts_recording_steps_jumps_and_shows_its_batches(pilot_app, tmp_path):
    d, pids, batch = _record(tmp_path)
    channel = AgentChannel(Agent(small_world()))
    recorded = ServedRecording(RemoteService(channel), d, at=time.strftime(  # type: ignore[arg-type]
        "%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 5 * BATCH_SAMPLE + 1)), identity="ssh://beta")
    app = ReplayApp(recorded, hierarchy="unified")
    app.animation_level = "none"
    async with pilot_app(app=app) as (app, pilot):
        await wait_for(pilot, _at(app, BATCH_SAMPLE), "the sample of --at, read on the host")
        assert app.query_one(TimeBar).state.batches == (T0 + 5 * BATCH_SAMPLE - 2,)
        await goto(pilot, "/b")
        assert pids["mover"] in _members(app)
        app.tree.focus()
        asked = len(channel.ops)
        await pilot.press("comma")
        await wait_for(pilot, _at(app, BATCH_SAMPLE - 1), "the sample before the batch")
        await wait_for(pilot, lambda: pids["mover"] not in _members(app), "mover gone from /b")
        assert pids["mover"] in app.tasks.gone and "history_sample" in channel.ops[asked:]
        await pilot.press("greater_than_sign")
        await wait_for(pilot, _at(app, BATCH_SAMPLE), "the sample after the batch")
        assert batch in app.notices[-1]
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, JumpTime), "the jump dialog")
        await pilot.press(*time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 5 * OTHER_SAMPLE)), "enter")
        await wait_for(pilot, _at(app, OTHER_SAMPLE), "the sample at the time typed")
        await goto(pilot, "/c")
        assert pids["other"] in _members(app)
        app.tasks.focus()
        assert app.tasks.select_pid(pids["other"])
        before, sent = len(app.notices), len(channel.ops)
        await pilot.press("m")  # a move: refused here, nothing asked of the host
        await wait_for(pilot, lambda: len(app.notices) > before, "the refusal of a move")
        assert app.notices[-1].startswith(f"Read-only: {RECORDING}, so ")
        assert not any(op in ("plan", "apply") for op in channel.ops[sent:])
        await pilot.press("T")  # a relative TIME: back from the sample shown, not from the host's clock
        await wait_for(pilot, lambda: isinstance(app.screen, JumpTime), "the jump dialog")
        await pilot.press(*"-10s", "enter")  # (the host's now is long after the recording: its last sample)
        await wait_for(pilot, _at(app, OTHER_SAMPLE - 2), "the sample 10 s before the one shown")
        for _ in range(SAMPLES):
            await pilot.press("full_stop")
        await wait_for(pilot, _at(app, SAMPLES - 1), "the last sample")

        def gone(op, args=None, *, timeout=None):
            raise HostError("beta", "dropped", "the connection to the host went", "")

        channel.call = gone  # type: ignore[method-assign]
        before = len(app.notices)
        await pilot.press("comma")  # the host went: one sentence, the UI stays, nothing moves
        await wait_for(pilot, lambda: len(app.notices) > before, "the step's sentence")
        assert "could not be read" in app.notices[-1] and "connection to the host went" in app.notices[-1]
        assert app.replay.index == SAMPLES - 1


async def test_the_tree_columns_show_the_figures_the_host_recorded_at_the_sample_shown(pilot_app, tmp_path):
    """With the columns on (`c`), a host's replay shows what its recorder kept (`S` records),
    fetched from the host for the sample shown, and they change with a step (as
    tests/ui/test_replay.py's local replay)."""
    from tests.unit.test_history_stats import record

    d = str(tmp_path / "h")
    record(d, 5, stats_every=2)  # S at samples 0, 2, 4; /a's memory 4 KiB more at each sample
    channel = AgentChannel(Agent(small_world()))
    recorded = ServedRecording(RemoteService(channel), d, at=time.strftime(  # type: ignore[arg-type]
        "%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 5)), identity="ssh://beta")
    app = ReplayApp(recorded, hierarchy="unified")
    app.animation_level = "none"
    async with pilot_app(app=app) as (app, pilot):
        await wait_for(pilot, _at(app, 1), "the sample of --at, read on the host")
        assert "history_figures" not in channel.ops  # the columns are off: nothing asked
        await recorded_columns_follow_a_step(app, pilot)  # as a local replay, the figures from the host
        assert "history_figures" in channel.ops
        assert "history_figures" in channel.ops
