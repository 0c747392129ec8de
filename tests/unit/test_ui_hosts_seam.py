"""The hosts seam of the terminal UI without Textual (ctrtui/ui/hosts.py): `RemoteMover`
against a host whose agent runs in-process (tests/hostfakes.py), what a host's hostile
answers become (one HostError, or values escaped where shown), `call_with_timeout`, `HostView` states and the
switcher's words."""

from __future__ import annotations

import threading
import time

import pytest

from ctrtui.engine import Report
from ctrtui.engine.opvalues import OpResult
from ctrtui.model import CgroupRef
from ctrtui.remote.errors import HostError
from ctrtui.remote.service import RemoteService
from ctrtui.report import plan_line
from ctrtui.sources.demo import demo_world
from ctrtui.ui.hosts import RemoteMover, RemoteOps
from ctrtui.ui.hostviews import CONNECTING, DEAD, OK, SLOW, HostTimeout, HostView, call_with_timeout, host_line
from tests.clihelpers import isolated_dirs  # noqa: F401 - autouse: the host's journal in tmp
from tests.hostfakes import FakeHost, ReaderOnly


def _sleeper(world, where="/system.slice"):
    world.makedirs("unified", "/system.slice/own-target")
    return world.spawn("sleep", "sleep 1000", uid=0, cgroups={"unified": where})


def _host(tmp_path, world=None) -> tuple[FakeHost, RemoteMover]:
    host = FakeHost("beta", world if world is not None else demo_world(), tmp_path)
    return host, RemoteMover("beta", RemoteService(host, host.reader))  # type: ignore[arg-type]


def test_plan_apply_undo_through_the_hosts_service(tmp_path):
    world = demo_world()
    pid = _sleeper(world)
    host, mover = _host(tmp_path, world)
    target = CgroupRef("unified", "/system.slice/own-target")

    plan = mover.plan([pid], target)
    assert [v.kind for v in plan.verdicts] == ["move"]
    assert plan.verdicts[0].source == "/system.slice"
    assert world.task_cgroups(pid)["unified"] == "/system.slice"  # a plan: nothing moved
    assert [op for op, _ in host.commands] == ["plan"]

    report = mover.apply(plan)
    assert [o.outcome for o in report.outcomes] == ["moved"]
    assert report.journaled and report.batch_id and report.batch_id != "(none)"
    assert world.task_cgroups(pid)["unified"] == "/system.slice/own-target"
    assert host.journal.exists()  # the host's own journal

    back = mover.undo()
    assert isinstance(back, Report) and back.undo_of == report.batch_id
    assert [o.outcome for o in back.outcomes] == ["moved"]
    assert world.task_cgroups(pid)["unified"] == "/system.slice"
    assert mover.undo() is None and mover.nothing_left  # the host says why


def test_a_refusal_comes_back_with_its_errno_and_reason(tmp_path):
    _, mover = _host(tmp_path)
    plan = mover.plan([2], CgroupRef("unified", "/system.slice"))  # kthreadd: the kernel refuses
    assert plan.verdicts[0].kind == "refused"
    assert plan.verdicts[0].errno
    assert plan.verdicts[0].reason


def test_a_pid_reused_since_it_was_shown_is_not_moved(tmp_path):
    world = demo_world()
    pid = _sleeper(world)
    host, mover = _host(tmp_path, world)
    seen = world.task_state(pid).start_time
    plan = mover.plan([pid], CgroupRef("unified", "/system.slice/own-target"), expected_start={pid: seen + 1})
    assert plan.verdicts[0].kind == "vanished" and plan.verdicts[0].hook == "ui"

    plan = mover.plan([pid], CgroupRef("unified", "/system.slice/own-target"), expected_start={pid: seen})
    world.recycle(pid)  # the PID now names another task
    report = mover.apply(plan)
    assert [o.outcome for o in report.outcomes] == ["vanished"]
    assert world.task_cgroups(pid)["unified"] != "/system.slice/own-target"  # the new task was not moved


class _Liar:
    """A host's channel that answers `op` with what the test says (hostile values included)."""

    name, timeout = "h\x1b[31mostile", 10.0

    def __init__(self, op: str, answer: object) -> None:
        self.op, self.answer = op, answer

    def call(self, op, args=None, *, timeout=None):
        assert op == self.op, op
        return self.answer


def _mover(op: str, answer: object) -> RemoteMover:
    liar = _Liar(op, answer)
    return RemoteMover(liar.name, RemoteService(liar, ReaderOnly(demo_world(), "h")))  # type: ignore[arg-type]


@pytest.mark.parametrize("answer", [None, "text", [1, 2], {"verdicts": []},
                                    {"target": {"hierarchy": "unified", "path": "/"}, "verdicts": [{"pid": "5"}]}],
                         ids=["null", "text", "numbers", "no-target", "pid-text"])
def test_hostile_answers_are_one_host_error_not_crashes(answer):
    with pytest.raises(HostError) as err:
        _mover("plan", answer).plan(["5"], CgroupRef("unified", "/"))
    assert err.value.kind == "protocol" and "\x1b" not in str(err.value)


def test_a_refusal_of_the_host_comes_back_as_its_sentence(tmp_path):
    _, mover = _host(tmp_path)
    with pytest.raises(HostError, match="no cgroup hierarchy 'nope'"):
        mover.plan(["5"], CgroupRef("nope", "/"))


def test_texts_a_host_answers_come_back_as_they_are_and_are_escaped_where_shown():
    verdict = {"text": "5", "pid": 5, "kind": "refused", "errno": "EPERM", "hook": "k",
               "reason": "no\x1b]0;pwned\x07 way", "advice": "", "warnings": ["w\x9b"], "start_time": None,
               "source": "/a", "task": None, "identity": None}
    plan = {"target": {"hierarchy": "unified", "path": "/"}, "threads": False, "created": 1.0, "route": "kernel",
            "scope": None, "hierarchy": {"name": "unified", "version": 2, "controllers": [], "mount": "/m", "root": "/",
                          "hierarchy_id": 0}, "verdicts": [verdict]}
    got = _mover("plan", plan).plan(["5"], CgroupRef("unified", "/"))
    assert got.verdicts[0].reason == "no\x1b]0;pwned\x07 way"  # the value, as the host gave it
    line = plan_line(got, "unified:/")  # and escaped where it is shown
    assert "pwned" in line and "\x1b" not in line and "\x07" not in line


def test_an_undo_of_a_cgroup_op_is_its_op_result():
    op = {"op": "rmdir", "ref": {"hierarchy": "unified", "path": "/x"}, "outcome": "done", "refusal": None,
          "predicted": False, "batch_id": "b2", "undo_of": "b1", "journaled": True, "warnings": []}
    said = _mover("undo", {"report": None, "op": op, "nothing_left": "", "warnings": []}).undo()
    assert isinstance(said, OpResult)
    assert (said.op, said.ref, said.ok, said.undo_of) == ("rmdir", CgroupRef("unified", "/x"), True, "b1")


@pytest.mark.parametrize("op", [{"op": "rm -rf"}, {"op": "mkdir", "ref": "unified:/x"}, {"outcome": "maybe"},
                                {"batch_id": 7}])
def test_an_op_answer_that_lies_is_an_error(op):
    good = {"op": "rmdir", "ref": {"hierarchy": "unified", "path": "/x"}, "outcome": "done", "refusal": None,
            "predicted": False, "batch_id": "b2", "undo_of": "b1", "journaled": True, "warnings": []}
    with pytest.raises(HostError, match="answered a cgroup op's result that cannot be read"):
        _mover("undo", {"report": None, "op": {**good, **op}, "nothing_left": "", "warnings": []}).undo()


def test_cgroup_ops_through_the_hosts_service(tmp_path):
    world = demo_world()
    host, mover = _host(tmp_path, world)
    ops = RemoteOps(mover)
    ref = CgroupRef("freezer", "/ctrtui-new")
    made = ops.run("mkdir", ref)
    assert made.ok and made.journaled and made.batch_id
    assert "/ctrtui-new" in world.snapshot(["freezer"]).get("freezer")
    assert ops.frozen(ref) is False
    assert ops.run("freeze", ref).ok and ops.frozen(ref) is True
    again = ops.run("mkdir", ref)  # the host refuses: its own errno and words
    assert not again.ok and again.refusal is not None and again.refusal.errno == "EEXIST"
    assert host.commands[-1] == ("cgroup_op", {"op": "mkdir", "cgroup": {"hierarchy": "freezer",
                                                                        "path": "/ctrtui-new"}})
    undone = mover.undo()  # the freeze, from the host's journal
    assert isinstance(undone, OpResult) and undone.op == "thaw" and ops.frozen(ref) is False
    same = ops.run("thaw", ref)  # thawed already: the host says so, and journals nothing
    assert same.ok and same.outcome == "already-thawed" and same.batch_id is None
    assert "already thawed; nothing was changed" in same.sentence()


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
    from ctrtui.ui.hostmovers import LocalMover, Mover, ServiceOps
    from ctrtui.ui.hostviews import local_host
    from devtools.pilot import make_service

    world = demo_world()
    pid = _sleeper(world)
    view = local_host("here", make_service(world, tmp_path / "here"))
    link = view.link
    assert link is not None and isinstance(link.mover, LocalMover) and link.service is not None
    assert link.mover.service is link.service  # this machine's moves go through its service
    assert isinstance(link.ops, ServiceOps) and link.ops.service is link.mover.service  # and its cgroup ops
    beta = FakeHost("beta", world, tmp_path)
    for mover in (link.mover, beta.link().mover):
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
    remote = beta.link()
    assert isinstance(remote.ops, RemoteOps) and remote.service is None  # a remote host's ops go through its mover


def test_a_session_switches_reader_mover_service_and_ops_together(tmp_path):
    """The UI's helpers read the shown host from one `Session`: `use` swaps the reader, the
    mover, the service (this machine's) and the cgroup ops at once (no helper keeps the last host's backend),
    and an attribute of the app named for the session's (`SessionField`) is the session's."""
    from ctrtui.ui.hostviews import local_host
    from ctrtui.ui.session import Session, SessionField
    from devtools.pilot import make_service

    world = demo_world()
    here = local_host("here", make_service(world, tmp_path / "here")).link
    assert here is not None
    beta = FakeHost("beta", demo_world(), tmp_path)
    remote = beta.link()
    session = Session(here.backend, here.mover, here.service, here.ops, hier="unified")
    assert session.service is here.service is not None
    session.use(remote)
    assert (session.backend, session.mover, session.service) == (beta.reader, remote.mover, None)
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
