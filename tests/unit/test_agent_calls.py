"""The agent's service calls (ctrtui/agent/calls.py) on a simulated world: the host's
`LocalService` planning, applying, undoing, logging, running cgroup ops and reading stats,
its answers decoded by the codec; every argument checked; a plan applied only as the host
judged it (the local side may leave a move out, never add one); writes refused when the
agent is not root; the service's errors one `refused` sentence."""

from __future__ import annotations

import pytest

from ctrtui.agent.ops import Agent
from ctrtui.service import codec
from ctrtui.sources.simulated import SimKernel
from tests.hostfakes import systemd_world

SIDE = "host beta"


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _world() -> tuple[SimKernel, list[int]]:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    return k, [k.spawn("sleep", cgroups={"freezer": "/a"}) for _ in range(2)]


def _where(k: SimKernel, pid: int) -> str:
    (path,) = [c.path for c in k.snapshot(["freezer"])["freezer"].containers.values() if pid in c.procs]
    return path


def _ok(agent: Agent, op: str, args: dict) -> object:
    answer = agent.handle(1, op, args)
    assert answer["ok"] is True, answer
    return answer["result"]


def _err(agent: Agent, op: str, args: object) -> dict:
    answer = agent.handle(1, op, args)
    assert answer["ok"] is False, answer
    return answer["error"]  # type: ignore[return-value]


B = {"hierarchy": "freezer", "path": "/b"}


def test_a_move_is_planned_applied_undone_and_logged_on_the_host():
    k, (p1, p2) = _world()
    agent = Agent(k)
    plan = codec.decode_plan(_ok(agent, "plan", {"pids": [p1, str(p2)], "target": B}), SIDE)
    assert [v.kind for v in plan.verdicts] == ["move", "move"] and plan.target.path == "/b"
    assert isinstance(codec.decode_risks(_ok(agent, "risks", {"plan": codec.encode_plan(plan)}), SIDE), list)
    report = codec.decode_report(_ok(agent, "apply", {"plan": codec.encode_plan(plan)}), SIDE)
    assert report.ok and report.journaled and _where(k, p1) == _where(k, p2) == "/b"
    log = codec.decode_log(_ok(agent, "log", {}), SIDE)
    assert [r["batch"] for r in log.rows()] == [report.batch_id]
    undone = codec.decode_undone(_ok(agent, "undo", {}), SIDE)
    assert undone.report is not None and undone.report.undo_of == report.batch_id and _where(k, p1) == "/a"
    nothing = codec.decode_undone(_ok(agent, "undo", {"batch": None}), SIDE)
    assert nothing.report is None and nothing.nothing_left


def test_the_local_side_may_leave_a_move_out_but_never_add_one():
    k, (p1, p2) = _world()
    p3 = k.spawn("sleep", cgroups={"freezer": "/b"})
    agent = Agent(k)
    plan = codec.decode_plan(_ok(agent, "plan", {"pids": [p1, p2, p3], "target": B}), SIDE)
    assert [v.kind for v in plan.verdicts] == ["move", "move", "already-there"]
    left_out = plan.replace(verdicts=(plan.verdicts[0], plan.verdicts[1].replace(kind="vanished", hook="ui"),
                                      plan.verdicts[2]))
    report = codec.decode_report(_ok(agent, "apply", {"plan": codec.encode_plan(left_out)}), SIDE)
    assert [o.outcome for o in report.outcomes] == ["moved", "vanished", "already-there"]
    assert _where(k, p1) == "/b" and _where(k, p2) == "/a"
    forged = plan.replace(verdicts=(*plan.verdicts[:2], plan.verdicts[2].replace(kind="move", pid=1)))
    err = _err(agent, "apply", {"plan": codec.encode_plan(forged)})
    assert err["kind"] == "not-found"  # another PID: not the plan this agent made
    forged = plan.replace(verdicts=(*plan.verdicts[:2], plan.verdicts[2].replace(kind="move")))
    err = _err(agent, "apply", {"plan": codec.encode_plan(forged)})
    assert err["kind"] == "bad-request" and "did not accept" in err["message"]


def test_a_plan_this_agent_did_not_make_is_not_applied():
    k, (p1, _) = _world()
    made = codec.decode_plan(_ok(Agent(k), "plan", {"pids": [p1], "target": B}), SIDE)
    other = Agent(k)
    err = _err(other, "apply", {"plan": codec.encode_plan(made)})
    assert err["kind"] == "not-found" and "plan again" in err["message"] and _where(k, p1) == "/a"
    err = _err(other, "apply", {"plan": {"target": B}})
    assert err["kind"] == "bad-request" and "the local side answered a plan" in err["message"]


def test_cgroup_ops_and_their_undo():
    k, _ = _world()
    agent = Agent(k)
    made = codec.decode_op_result(_ok(agent, "cgroup_op", {"op": "mkdir", "cgroup": {"hierarchy": "freezer",
                                                                                     "path": "/a/new"}}), SIDE)
    assert made.ok and made.batch_id and k.cgroup_state("freezer", "/a/new") is not None
    undone = codec.decode_undone(_ok(agent, "undo", {}), SIDE)
    assert undone.op is not None and undone.op.op == "rmdir" and k.cgroup_state("freezer", "/a/new") is None


def test_stats_are_one_or_two_readings():
    k, _ = _world()
    figs = codec.decode_stats(_ok(Agent(k), "stats", {"walks": {"freezer": ["/", "/a"]}, "interval": 0}), SIDE)
    assert set(figs["freezer"]) == {"/", "/a"} and figs["freezer"]["/a"].cpu is None


@pytest.mark.parametrize(("op", "args"), [
    ("plan", {"pids": [], "target": {"hierarchy": "freezer", "path": "/a/../.."}}),
    ("plan", {"pids": ["99999999"], "target": B}),
    ("plan", {"pids": [-1], "target": B}),
    ("plan", {"pids": ["1"] * 50_001, "target": B}),
    ("plan", {"pids": [1], "target": "freezer:/b"}),
    ("plan", {"pids": [1], "target": {**B, "extra": 1}}),
    ("plan", {"pids": [1]}),
    ("apply", {"plan": "x"}),
    ("apply", {"plan": {}, "all_or_nothing": "yes"}),
    ("undo", {"batch": "x" * 1000}),
    ("log", {"limit": -1}),
    ("log", {"limit": 2.5}),
    ("cgroup_op", {"op": "rm", "cgroup": B}),
    ("cgroup_op", {"op": "mkdir", "cgroup": {"hierarchy": "freezer", "path": "relative"}}),
    ("stats", {"walks": {"freezer": ["/a/.."]}, "interval": 0}),
    ("stats", {"walks": {"freezer": ["/"]}, "interval": 1e9}),
    ("stats", {"walks": {"freezer": ["/"]}, "interval": True}),
    ("stats", {"walks": [], "interval": 0}),
    ("risks", {}),
])
def test_malformed_calls_are_one_bad_request(op, args):
    k, _ = _world()
    err = _err(Agent(k), op, args)
    assert err["kind"] == "bad-request" and err["message"] and "\n" not in err["message"]


def test_a_hierarchy_not_mounted_here_is_not_found():
    k, _ = _world()
    err = _err(Agent(k), "cgroup_op", {"op": "freeze", "cgroup": {"hierarchy": "nope", "path": "/"}})
    assert err["kind"] == "not-found" and "nope" in err["message"]


def test_writes_are_refused_when_not_root(monkeypatch):
    k, (p1, _) = _world()
    agent = Agent(k)
    plan = _ok(agent, "plan", {"pids": [p1], "target": B})  # a plan is only a reading
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    for op, args in (("apply", {"plan": plan}), ("undo", {}), ("cgroup_op", {"op": "mkdir", "cgroup": B})):
        err = _err(agent, op, args)
        assert err["kind"] == "read-only" and "--sudo" in err["message"] and "not root" in err["message"], err
    assert _where(k, p1) == "/a"


def test_a_policy_that_cannot_be_read_is_one_refused_sentence(tmp_path):
    policy = tmp_path / "config" / "ctrtui" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("this is [not toml")
    k, (p1, _) = _world()
    err = _err(Agent(k), "prepare_writes", {})
    assert err["kind"] == "refused" and "policy" in err["message"] and "\n" not in err["message"]
    err = _err(Agent(k), "plan", {"pids": [p1], "target": B})
    assert err["kind"] == "refused"


def test_the_largest_plan_and_its_report_fit_what_the_local_side_reads():
    """A plan of MAX_PIDS tasks (each verdict as big as a real one: its task's facts, its
    identity, a warning) and its report stay within the channel's bounds for their answers
    (ANSWER_LIMITS bytes, MAX_CONTAINERS lists and objects): the agent takes no more PIDs
    than the local side can read back."""
    import json

    from ctrtui.agent.calls import MAX_PIDS
    from ctrtui.engine.values import Outcome, Report
    from ctrtui.model import CgroupRef
    from ctrtui.remote.channel import ANSWER_LIMITS, MAX_CONTAINERS

    k, (p1, _) = _world()
    plan = codec.decode_plan(_ok(Agent(k), "plan", {"pids": [p1], "target": B}), SIDE)
    big = plan.verdicts[0].replace(pid=4_194_303, text="4194303", start_time=2 ** 62, warnings=("w" * 200,),
                                   identity=(2 ** 63, 2 ** 63, 2 ** 62), source="/" + "s" * 60)
    assert big.task is not None
    empty = json.dumps(codec.encode_plan(plan.replace(verdicts=())))
    verdict = json.dumps(codec.encode_plan(plan.replace(verdicts=(big,))))[len(empty) - 2:]  # one verdict's JSON
    assert len(empty) + len(verdict) * MAX_PIDS <= ANSWER_LIMITS["plan"]

    def containers(text: str) -> int:
        return text.count("[") + text.count("{")

    assert containers(verdict) == 4 and containers(empty) + containers(verdict) * MAX_PIDS <= MAX_CONTAINERS
    outcome = Outcome("4194303", 4_194_303, "moved", warnings=("w" * 200,), source="/" + "s" * 60,
                      target="/" + "t" * 60, start_time=2 ** 62)
    report = json.dumps(codec.encode_report(Report("b", CgroupRef("freezer", "/b"), False, (outcome,) * MAX_PIDS)))
    assert len(report) <= ANSWER_LIMITS["apply"] and report.count("[") + report.count("{") <= MAX_CONTAINERS


# ----------------------------------------------------------------------------- a systemd host




def _at(k: SimKernel, pid: int) -> str | None:
    return k.task_cgroup(pid, "unified")


def test_a_systemd_host_plans_by_systemds_rules_and_moves_through_it():
    k, pid = systemd_world()
    agent = Agent(k)
    cron = {"hierarchy": "unified", "path": "/system.slice/cron.service"}
    plan = codec.decode_plan(_ok(agent, "plan", {"pids": [pid], "target": cron}), SIDE)
    v = plan.verdicts[0]
    assert (v.kind, v.hook) == ("refused", "systemd-route") and "non-delegated units" in v.reason
    plan = codec.decode_plan(_ok(agent, "plan", {"pids": [pid], "target": cron, "via": "kernel"}), SIDE)
    assert (plan.route, plan.verdicts[0].kind) == ("kernel", "move")
    box = {"hierarchy": "unified", "path": "/system.slice/box.scope/sub"}
    plan = codec.decode_plan(_ok(agent, "plan", {"pids": [pid], "target": box}), SIDE)
    assert (plan.route, plan.verdicts[0].kind) == ("systemd", "move")
    report = codec.decode_report(_ok(agent, "apply", {"plan": codec.encode_plan(plan)}), SIDE)
    assert report.ok and _at(k, pid) == "/system.slice/box.scope/sub" and k.attach_calls == 1  # through systemd
    undone = codec.decode_undone(_ok(agent, "undo", {}), SIDE)
    assert undone.report is not None and undone.report.ok and _at(k, pid) == "/a"


def test_a_new_scope_is_planned_and_started_by_the_hosts_systemd():
    from ctrtui.engine.values import ScopeRequest

    k, pid = systemd_world()
    agent = Agent(k)
    scope = codec.encode_scope(ScopeRequest("work.scope", "batch.slice", ("CPUWeight=50",)))
    plan = codec.decode_plan(_ok(agent, "plan_scope", {"pids": [pid], "scope": scope}), SIDE)
    assert plan.route == "scope" and plan.scope == ScopeRequest("work.scope", "batch.slice", ("CPUWeight=50",))
    assert plan.target.path == "/batch.slice/work.scope" and k.scope_calls == 0  # a plan asks nothing
    risks = codec.decode_risks(_ok(agent, "risks", {"plan": codec.encode_plan(plan)}), SIDE)
    assert any("systemctl stop of work.scope kills the task" in r for r in risks), risks
    report = codec.decode_report(_ok(agent, "apply", {"plan": codec.encode_plan(plan)}), SIDE)
    assert report.ok and k.scope_calls == 1 and _at(k, pid) == "/batch.slice/work.scope"
    assert codec.decode_undone(_ok(agent, "undo", {}), SIDE).report is not None and _at(k, pid) == "/a"


def test_a_plan_handed_back_with_another_route_or_scope_is_not_the_hosts():
    from ctrtui.engine.values import ScopeRequest

    k, pid = systemd_world()
    agent = Agent(k)
    scope = codec.encode_scope(ScopeRequest("work.scope"))
    plan = codec.decode_plan(_ok(agent, "plan_scope", {"pids": [pid], "scope": scope}), SIDE)
    for forged in (plan.replace(scope=ScopeRequest("work.scope", None, ("MemoryMax=1",))),
                   plan.replace(route="kernel", scope=None)):
        assert _err(agent, "apply", {"plan": codec.encode_plan(forged)})["kind"] == "not-found"
    assert k.scope_calls == 0 and _at(k, pid) == "/a"


def test_what_systemd_would_refuse_of_a_new_scope_is_one_refused_sentence():
    k, pid = systemd_world()
    err = _err(Agent(k), "plan_scope", {"pids": [pid], "scope": {"name": "work", "slice": None, "properties": []}})
    assert err["kind"] == "refused" and "'work' is not a scope name systemd accepts" in err["message"]
    plain, _ = _world()  # no systemd as PID 1
    err = _err(Agent(plain), "plan_scope", {"pids": [1], "scope": {"name": "w.scope", "slice": None,
                                                                     "properties": []}})
    assert err["kind"] == "refused" and "a new scope needs systemd as PID 1" in err["message"]


A = {"hierarchy": "unified", "path": "/a"}


@pytest.mark.parametrize(("op", "args"), [
    ("plan", {"pids": [1], "target": A, "via": "scope"}),
    ("plan", {"pids": [1], "target": A, "via": "dbus\x1b[31m"}),
    ("plan", {"pids": [1], "target": A, "via": None}),
    ("plan", {"pids": [1], "target": A, "via": ["kernel"]}),
    ("plan_scope", {"pids": [1]}),
    ("plan_scope", {"scope": {"name": "w.scope", "slice": None, "properties": []}}),
    ("plan_scope", {"pids": [1], "scope": "w.scope"}),
    ("plan_scope", {"pids": [1], "scope": {"name": "w.scope", "slice": None}}),
    ("plan_scope", {"pids": [1], "scope": {"name": "w" * 300, "slice": None, "properties": []}}),
    ("plan_scope", {"pids": [1], "scope": {"name": "w.scope", "slice": None, "properties": ["A=1"] * 300}}),
    ("plan_scope", {"pids": ["0x10"], "scope": {"name": "w.scope", "slice": None, "properties": []}}),
    ("plan_scope", {"pids": [1], "scope": {"name": "w.scope", "slice": None, "properties": []}, "via": "auto"}),
])
def test_malformed_systemd_calls_are_one_bad_request(op, args):
    k, _ = systemd_world()
    err = _err(Agent(k), op, args)
    assert err["kind"] == "bad-request" and err["message"] and "\n" not in err["message"]
    assert "\x1b" not in err["message"], err


def test_the_agent_opens_this_hosts_backend_as_the_command_line_does(monkeypatch):
    from ctrtui.sources import systemdhost
    from ctrtui.sources.systemd import Detection

    monkeypatch.setattr(systemdhost, "detect", lambda proc, run: Detection(True, "unified", "/sys/fs/cgroup", ""))
    assert isinstance(Agent().backend, systemdhost.SystemdCgroupFS)  # systemd's route on a systemd host
