"""The hosts seam of the terminal UI without Textual (ctrtui/ui/hosts.py): `RemoteMover`
against a host that runs the real command line in-process (tests/hostfakes.py), its
defensive reading of what a host answers, `call_with_timeout`, `HostView` states and the
switcher's words."""

from __future__ import annotations

import threading
import time

import pytest

from ctrtui.engine.ops import OpResult
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.demo import demo_world
from ctrtui.ui.hosts import (
    CONNECTING,
    DEAD,
    OK,
    SLOW,
    HostTimeout,
    HostView,
    RemoteMover,
    RemoteOps,
    call_with_timeout,
    host_line,
    parse_rows,
)
from tests.clihelpers import isolated_dirs  # noqa: F401 - autouse: the host's journal in tmp
from tests.hostfakes import CliResult, FakeHost, ReaderOnly


def _sleeper(world, where="/system.slice"):
    world.makedirs("unified", "/system.slice/own-target")
    return world.spawn("sleep", "sleep 1000", uid=0, cgroups={"unified": where})


def test_plan_apply_undo_through_the_hosts_cli(tmp_path):
    world = demo_world()
    pid = _sleeper(world)
    host = FakeHost("beta", world, tmp_path)
    mover = RemoteMover("beta", host.cli, host.reader)
    target = CgroupRef("unified", "/system.slice/own-target")

    plan = mover.plan([pid], target)
    assert [v.kind for v in plan.verdicts] == ["move"]
    assert plan.verdicts[0].source == "/system.slice"
    assert world.task_cgroups(pid)["unified"] == "/system.slice"  # a dry run: nothing moved
    assert host.commands[-1][1]["dry_run"] is True

    report = mover.apply(plan)
    assert [o.outcome for o in report.outcomes] == ["moved"]
    assert report.journaled and report.batch_id and report.batch_id != "(none)"
    assert world.task_cgroups(pid)["unified"] == "/system.slice/own-target"
    assert host.journal.exists()  # the host's own journal

    back = mover.undo()
    assert back is not None and not isinstance(back, str)
    assert back.undo_of == report.batch_id
    assert [o.outcome for o in back.outcomes] == ["moved"]
    assert world.task_cgroups(pid)["unified"] == "/system.slice"


def test_a_refusal_comes_back_with_its_errno_and_reason(tmp_path):
    world = demo_world()
    host = FakeHost("beta", world, tmp_path)
    mover = RemoteMover("beta", host.cli, host.reader)
    plan = mover.plan([2], CgroupRef("unified", "/system.slice"))  # kthreadd: the kernel refuses
    assert plan.verdicts[0].kind == "refused"
    assert plan.verdicts[0].errno
    assert plan.verdicts[0].reason


def test_a_pid_reused_since_it_was_shown_is_not_sent(tmp_path):
    world = demo_world()
    pid = _sleeper(world)
    host = FakeHost("beta", world, tmp_path)
    mover = RemoteMover("beta", host.cli, host.reader)
    seen = world.task_state(pid).start_time
    plan = mover.plan([pid], CgroupRef("unified", "/system.slice/own-target"), expected_start={pid: seen + 1})
    assert plan.verdicts[0].kind == "vanished"

    plan = mover.plan([pid], CgroupRef("unified", "/system.slice/own-target"), expected_start={pid: seen})
    world.recycle(pid)  # the PID now names another task
    report = mover.apply(plan)
    assert [o.outcome for o in report.outcomes] == ["vanished"]
    assert not any(c == "move" and not o["dry_run"] for c, o in host.commands)  # never sent


class _Answers:
    """A host whose `cli` answers what the test says (hostile text included)."""

    def __init__(self, *answers: CliResult) -> None:
        self.answers = list(answers)

    def __call__(self, command, options):
        return self.answers.pop(0)


def _mover(*answers: CliResult) -> RemoteMover:
    return RemoteMover("h\x1b[31mostile", _Answers(*answers), ReaderOnly(demo_world(), "h"))


@pytest.mark.parametrize("stdout", ["not json", '{"a": 1}', "[1, 2]", '[{"outcome": "teleported", "pid": 5}]',
                                    '[{"outcome": "would-move", "pid": "5"}]',
                                    '[{"outcome": "would-move", "pid": 5, "input": 7}]',
                                    "[" * 100000 + "]" * 100000,
                                    '[{"outcome": "would-move", "pid": 5, "w": ' + "[" * 900 + "]" * 900 + "}]",
                                    '[{"outcome": "would-move", "pid": 5, "n": 1' + "0" * 400 + "}]"],
                         ids=["text", "object", "numbers", "outcome", "pid-text", "input-number", "deep", "deep-row",
                              "huge-int"])
def test_hostile_answers_are_errors_not_crashes(stdout):
    mover = _mover(CliResult(0, stdout, ""))
    with pytest.raises(CtrtuiError) as err:
        mover.plan(["5"], CgroupRef("unified", "/"))
    assert "\x1b" not in str(err.value)


def test_a_failed_command_says_the_hosts_first_line():
    mover = _mover(CliResult(2, "", "ctrtui: risk: x\nctrtui: unknown cgroup 'unified:/nope'\n"))
    with pytest.raises(CtrtuiError, match="unknown cgroup"):
        mover.plan(["5"], CgroupRef("unified", "/nope"))


def test_strings_a_host_answers_are_scrubbed():
    row = ('[{"outcome": "refused", "pid": 5, "input": "5", "errno": "EPERM", "hook": "k", '
           '"reason": "no\\u001b]0;pwned\\u0007 way", "advice": "", "warnings": ["w\\u009b"], "from": "/a"}]')
    plan = _mover(CliResult(1, row, "")).plan(["5"], CgroupRef("unified", "/"))
    v = plan.verdicts[0]
    assert "\x1b" not in v.reason and "\x07" not in v.reason and "\x9b" not in v.warnings[0]


def test_an_undo_of_a_cgroup_op_is_its_op_result():
    answer = '{"op": "rmdir", "cgroup": "unified:/x", "outcome": "done", "batch": "b2", "undo_of": "b1"}'
    said = _mover(CliResult(0, answer, "")).undo()
    assert isinstance(said, OpResult)
    assert (said.op, said.ref, said.ok, said.undo_of) == ("rmdir", CgroupRef("unified", "/x"), True, "b1")


@pytest.mark.parametrize("answer", ['{"op": "rm -rf", "cgroup": "unified:/x", "outcome": "done"}',
                                    '{"op": "mkdir", "cgroup": "/x", "outcome": "done"}',
                                    '{"op": "mkdir", "cgroup": "unified:/x", "outcome": "maybe"}',
                                    '{"op": "mkdir", "cgroup": "unified:/x", "outcome": "done", "batch": 7}'])
def test_an_op_answer_that_lies_is_an_error(answer):
    with pytest.raises(CtrtuiError, match="answered an op that cannot be read"):
        _mover(CliResult(0, answer, "")).undo()


def test_cgroup_ops_through_the_hosts_cli(tmp_path):
    world = demo_world()
    host = FakeHost("beta", world, tmp_path)
    ops = RemoteOps(RemoteMover("beta", host.cli, host.reader))
    ref = CgroupRef("freezer", "/ctrtui-new")
    made = ops.run("mkdir", ref)
    assert made.ok and made.journaled and made.batch_id
    assert "/ctrtui-new" in world.snapshot(["freezer"]).get("freezer")
    assert ops.frozen(ref) is False
    assert ops.run("freeze", ref).ok and ops.frozen(ref) is True
    again = ops.run("mkdir", ref)  # the host refuses: its own errno and words
    assert not again.ok and again.refusal is not None and again.refusal.errno == "EEXIST"
    assert host.commands[-1] == ("mkdir", {"cgroup": "freezer:/ctrtui-new", "json": True})
    undone = RemoteMover("beta", host.cli, host.reader).undo()  # the freeze, from the host's journal
    assert isinstance(undone, OpResult) and undone.op == "thaw" and ops.frozen(ref) is False
    same = ops.run("thaw", ref)  # thawed already: the host says so, and journals nothing
    assert same.ok and same.outcome == "already-thawed" and same.batch_id is None
    assert "already thawed; nothing was changed" in same.sentence()


def test_parse_rows_names_the_host_escaped():
    with pytest.raises(ValueError) as err:
        parse_rows("nope", "a\x1bb")
    assert "\x1b" not in str(err.value)


def test_call_with_timeout():
    assert call_with_timeout(lambda: 4, 1.0, "x") == 4
    with pytest.raises(KeyError):
        call_with_timeout(lambda: {}["k"], 1.0, "x")
    hang = threading.Event()
    t0 = time.monotonic()
    with pytest.raises(HostTimeout, match="did not answer within 0.2 s"):
        call_with_timeout(hang.wait, 0.2, "host slowpoke")
    assert time.monotonic() - t0 < 5
    hang.set()


def test_host_view_states_and_words(tmp_path):
    host = FakeHost("beta", demo_world(), tmp_path, read_only="not root; use --sudo")
    view = host.view()
    assert view.state == CONNECTING and "connecting" in host_line(view)
    link = view.reach()
    view.connected(link, 3.2)
    assert view.state == OK and host_line(view).startswith("beta  ok 3 ms")
    assert "read-only (not root; use --sudo)" in host_line(view)
    view.answered(900.0)
    assert view.state == SLOW and "slow 900 ms" in host_line(view)
    view.failed(OSError(111, "Connection refused"))
    assert view.state == DEAD and "dead:" in host_line(view) and "ECONNREFUSED" in host_line(view)


def test_a_host_that_never_answers_is_dead_after_its_timeout():
    never = threading.Event()

    def connect():
        never.wait()

    view = HostView("black\x1bhole", connect=connect, timeout=0.2)
    with pytest.raises(HostTimeout) as err:
        view.reach()
    view.failed(err.value)
    assert view.state == DEAD
    assert "did not answer within 0.2 s" in host_line(view)
    assert "\x1b" not in host_line(view)
    never.set()


def test_local_and_remote_movers_answer_the_same_calls(tmp_path):
    """`Moves` and `CgroupActions` call plan, apply and undo on the shown host's mover and
    check, frozen and run on its ops, whatever the host: this machine's `LocalMover` undoes
    the newest batch of its journal, a move or a cgroup op, as a remote host's does."""
    from ctrtui.ui.hosts import Link, LocalMover, Mover, local_host
    from devtools.pilot import make_engine

    world = demo_world()
    pid = _sleeper(world)
    view = local_host("here", world, make_engine(world, tmp_path / "here"))
    link = view.link
    assert link is not None and isinstance(link.mover, LocalMover) and link.engine is not None
    beta = FakeHost("beta", world, tmp_path)
    for mover in (link.mover, RemoteMover("beta", beta.cli, beta.reader)):
        assert all(callable(getattr(mover, name)) for name in ("plan", "apply", "undo"))
    mover: Mover = link.mover
    target = CgroupRef("unified", "/system.slice/own-target")
    moved = mover.apply(mover.plan([pid], target))
    assert [o.outcome for o in moved.outcomes] == ["moved"]
    assert link.ops is not None
    made = link.ops.run("mkdir", CgroupRef("freezer", "/ctrtui-here"))
    assert made.ok and "/ctrtui-here" in world.snapshot(["freezer"]).get("freezer")
    undone_op = mover.undo()  # the newest batch: the mkdir
    assert isinstance(undone_op, OpResult) and undone_op.op == "rmdir" and undone_op.ok
    assert "/ctrtui-here" not in world.snapshot(["freezer"]).get("freezer")
    undone_move = mover.undo()  # then the move
    assert undone_move is not None and not isinstance(undone_move, OpResult)
    assert undone_move.undo_of == moved.batch_id and world.task_cgroups(pid)["unified"] == "/system.slice"
    remote = Link(beta.reader, RemoteMover("beta", beta.cli, beta.reader))
    assert isinstance(remote.ops, RemoteOps) and remote.engine is None  # a remote host's ops go through its mover


def test_a_session_switches_reader_mover_engine_and_ops_together(tmp_path):
    """The UI's helpers read the shown host from one `Session`: `use` swaps the reader, the
    mover, the engine and the cgroup ops at once (no helper keeps the last host's backend),
    and an attribute of the app named for the session's (`SessionField`) is the session's."""
    from ctrtui.ui.hosts import Link, local_host
    from ctrtui.ui.session import Session, SessionField
    from devtools.pilot import make_engine

    world = demo_world()
    here = local_host("here", world, make_engine(world, tmp_path / "here")).link
    assert here is not None
    beta = FakeHost("beta", demo_world(), tmp_path)
    remote = Link(beta.reader, RemoteMover("beta", beta.cli, beta.reader))
    session = Session(here.backend, here.mover, here.engine, here.ops, hier="unified")
    session.use(remote)
    assert (session.backend, session.mover, session.engine) == (beta.reader, remote.mover, None)
    assert isinstance(session.ops, RemoteOps) and session.hier == "unified"  # the view is kept

    class Owner:
        hier: SessionField[str] = SessionField()
        engine: SessionField[object] = SessionField("mover")

        def __init__(self) -> None:
            self.session = session

    owner = Owner()
    owner.hier = "cpu"
    assert session.hier == "cpu" and owner.engine is remote.mover
    assert session.hs is None  # no snapshot yet
