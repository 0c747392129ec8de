"""The service layer (ctrtui/service/): `LocalService` on simulated worlds -- reading,
planning, applying, undoing (a move and a cgroup op), the log, the policy's errors -- and the
command line going through it rather than around it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.service.local import LocalService
from ctrtui.sources.simulated import SimKernel

ROOT = Path(__file__).resolve().parents[2]


def _world() -> tuple[SimKernel, int]:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    return k, pid


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _service(tmp_path: Path, k: SimKernel) -> LocalService:
    return LocalService(k, journal_path=str(tmp_path / "journal.jsonl"))


def _where(k: SimKernel, pid: int) -> str:
    (path,) = [c.path for c in k.snapshot(["freezer"])["freezer"].containers.values() if pid in c.procs]
    return path


def test_reading_gives_the_worlds_values(tmp_path):
    k, pid = _world()
    s = LocalService(k)
    assert [h.name for h in s.hierarchies()] == ["freezer"] and s.kind == k.kind and s.pid_max == k.pid_max
    assert s.cgroup_state("freezer", "/a") is not None and s.cgroup_state("freezer", "/nope") is None
    snap = s.snapshot(["freezer"])
    assert pid in snap["freezer"].members("/a", threads=False)
    assert s.task_details([pid])[pid].comm == "sleep"
    figs = s.stats({"freezer": ["/a", "/b", "/gone"]}, 0)
    assert set(figs) == {"freezer"} and "/gone" not in figs["freezer"]


def test_a_move_is_planned_applied_logged_and_undone(tmp_path):
    k, pid = _world()
    s = _service(tmp_path, k)
    plan = s.plan([pid], CgroupRef("freezer", "/b"))
    assert plan.ok and all(isinstance(r, str) for r in s.risks(plan))
    report = s.apply(plan)
    assert report.ok and _where(k, pid) == "/b"
    log = s.log()
    assert [r["state"] for r in log.rows()] == ["done"] and log.path == str(tmp_path / "journal.jsonl")
    undone = s.undo()
    assert undone.report is not None and undone.op is None and _where(k, pid) == "/a"
    again = s.undo()
    assert again.report is None and again.op is None and again.nothing_left, again


def test_a_plan_refuses_a_pid_started_at_another_time_than_the_front_end_saw(tmp_path):
    """`expected_start` reaches the engine: a PID reused since it was shown is not moved."""
    k, pid = _world()
    s = _service(tmp_path, k)
    seen = k.task_state(pid).start_time
    k.tick(1)
    k.recycle(pid, comm="intruder")
    (v,) = s.plan([pid], CgroupRef("freezer", "/b"), expected_start={pid: seen}).verdicts
    assert (v.kind, v.errno, v.hook) == ("vanished", "ESRCH", "pid-reuse") and "intruder" in v.reason
    (same,) = s.plan([pid], CgroupRef("freezer", "/b"), expected_start={pid: k.task_state(pid).start_time}).verdicts
    assert same.kind == "move"


def test_a_service_over_an_engine_already_built_uses_that_engine(tmp_path):
    from ctrtui.engine import AttachEngine, Journal

    k, pid = _world()
    engine = AttachEngine(k, journal=Journal(str(tmp_path / "own.jsonl")))
    s = LocalService(k, engine=engine)
    assert s.engine is engine
    report = s.apply(s.plan([pid], CgroupRef("freezer", "/b")))
    assert report.ok and s.log().path == str(tmp_path / "own.jsonl") and _where(k, pid) == "/b"


def test_a_cgroup_op_is_journaled_and_its_undo_is_an_op(tmp_path):
    k, _ = _world()
    s = _service(tmp_path, k)
    made = s.cgroup_op("mkdir", CgroupRef("freezer", "/a/new"))
    assert made.ok and made.batch_id and k.cgroup_state("freezer", "/a/new") is not None
    undone = s.undo()
    assert undone.op is not None and undone.op.ok and k.cgroup_state("freezer", "/a/new") is None


def test_a_cgroup_op_is_checked_and_the_freezer_state_read_before_it_is_run(tmp_path):
    k, _ = _world()
    s = _service(tmp_path, k)
    refusal = s.cgroup_check("rmdir", CgroupRef("freezer", "/a"))  # a task lives there
    assert refusal is not None and refusal.errno == "EBUSY" and refusal.reason, refusal
    assert s.cgroup_check("rmdir", CgroupRef("freezer", "/b")) is None
    assert s.frozen(CgroupRef("freezer", "/b")) is False
    assert s.cgroup_op("freeze", CgroupRef("freezer", "/b")).ok and s.frozen(CgroupRef("freezer", "/b")) is True


def test_log_never_opens_the_backend_when_the_identity_is_given(tmp_path):
    opened = []

    def opener() -> SimKernel:
        opened.append(1)
        return _world()[0]

    s = LocalService(opener=opener, identity=lambda: "demo", journal_path=str(tmp_path / "j.jsonl"))
    assert s.log().batches == () and opened == []
    s.hierarchies()
    s.hierarchies()
    assert opened == [1]  # opened once, on first use


def test_a_broken_policy_raises_or_refuses_every_move(tmp_path):
    k, pid = _world()
    bad = tmp_path / "policy.toml"
    bad.write_text("[[[ not toml")
    strict = LocalService(k, policy_path=str(bad), journal=False)
    with pytest.raises(CtrtuiError):
        strict.prepare_writes()
    lenient = LocalService(k, policy_path=str(bad), journal=False, broken_policy_ok=True)
    plan = lenient.plan([pid], CgroupRef("freezer", "/b"))
    assert not plan.accepted and _where(k, pid) == "/a"


def test_backend_and_opener_are_one_or_the_other():
    k, _ = _world()
    with pytest.raises(ValueError):
        LocalService()
    with pytest.raises(ValueError):
        LocalService(k, opener=lambda: k)


GOING_AROUND = {"AttachEngine", "CgroupOps", "undo_any", "StatsSampler", "lock_holder", "Journal", "Policy",
                "assess"}


def test_the_command_line_calls_the_service_not_the_engine():
    """No module of ctrtui/cli/ (nor ctrtui/main.py's commands) builds or drives the engine,
    the journal, the policy or the stats sampler itself: it asks `Service`."""
    files = sorted((ROOT / "ctrtui" / "cli").glob("*.py"))
    assert len(files) >= 10
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        used |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    for a in n.names if n.module and n.module.startswith(("ctrtui.engine", "ctrtui.sources.stats"))}
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not (calls & GOING_AROUND), f"{path.name} calls {calls & GOING_AROUND}"
        assert not (imported & GOING_AROUND), f"{path.name} imports {imported & GOING_AROUND}"
        assert "undo_any" not in used, path.name


def test_the_log_marks_an_open_batch_held_by_a_writer_as_running(tmp_path):
    """The newest batch, open while a writer holds the journal's lock, is that writer's at
    work (`running`, its PID); open with no holder it was cut off (`open`); a holder in
    another PID namespace (0) is running with no PID to name."""
    from ctrtui.engine.journal import Batch
    from ctrtui.service.values import BatchLog

    def open_batch() -> Batch:
        b = Batch("20261207T120000-aaaaaa")
        b.hierarchy, b.target = "freezer", "/b"
        return b

    assert BatchLog((open_batch(),), "/j", None).rows()[0]["state"] == "open"
    row = BatchLog((open_batch(),), "/j", 4242).rows()[0]
    assert (row["state"], row["writer_pid"]) == ("running", 4242)
    row = BatchLog((open_batch(),), "/j", 0).rows()[0]
    assert (row["state"], row["writer_pid"]) == ("running", None)
    done = open_batch()
    done.state = "done"
    assert BatchLog((done,), "/j", 4242).rows()[0]["state"] != "running"


def test_risks_that_cannot_be_assessed_are_said_not_raised(tmp_path, monkeypatch):
    k, pid = _world()
    s = _service(tmp_path, k)
    plan = s.plan([pid], CgroupRef("freezer", "/b"))

    def broken(*a, **kw):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(k, "snapshot", broken)
    (risk,) = s.risks(plan)
    assert risk.startswith("Could not check this move for risks") and "EIO" in risk


def test_stats_give_rates_only_from_two_readings():
    from ctrtui.sources.demo import demo_world

    s = LocalService(demo_world())
    once = s.stats({"freezer": ["/"]}, 0)["freezer"]["/"]
    twice = s.stats({"freezer": ["/"]}, 0.05)["freezer"]["/"]
    assert once.cpu is None and twice.cpu is not None and once.memory == twice.memory


def test_the_checks_before_any_write_are_sentences_from_the_service(tmp_path):
    """What the terminal UI asks before its first move, through `LocalService` (never the
    engine's journal or policy): a journal that cannot be written, a policy that cannot be
    used, that policy read again once fixed, and the advice in the UI's words (`front`)."""
    k, pid = _world()
    (tmp_path / "file").write_text("")
    blocked = LocalService(k, journal_path=str(tmp_path / "file" / "journal.jsonl"))
    problem = blocked.journal_problem()
    assert problem is not None and "ENOTDIR" in problem and str(tmp_path / "file") in problem
    assert _service(tmp_path, k).journal_problem() is None
    assert LocalService(k, journal=False).journal_problem() is None  # no journal: nothing to write

    f = tmp_path / "policy.toml"
    f.write_text('[protect]\ncgroups = ["freezr:/a"]\n')  # names no hierarchy
    s = LocalService(k, policy_path=str(f), journal_path=str(tmp_path / "j.jsonl"), broken_policy_ok=True,
                     front="ui")
    assert s.engine.front == "ui"
    said = s.policy_problem(k.hierarchies())
    assert said is not None and "'freezr'" in said
    with pytest.raises(CtrtuiError, match="freezr"):
        s.reload_policy()  # still broken: its sentence
    (verdict,) = s.plan([pid], CgroupRef("freezer", "/b")).verdicts
    assert verdict.kind == "refused" and verdict.hook == "policy"
    f.write_text('[protect]\ncgroups = ["freezer:/a"]\n')
    assert s.reload_policy() == str(f)  # fixed: the service's moves use it from now on
    assert s.policy_problem(k.hierarchies()) is None
    (verdict,) = s.plan([pid], CgroupRef("freezer", "/b")).verdicts
    assert verdict.kind == "refused" and "freezer:/a" in verdict.reason  # the fixed rule protects /a
    assert LocalService(k, journal=False).engine.front == "cli"  # the command line's words by default
