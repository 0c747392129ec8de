"""`RemoteService` (ctrtui/remote/service.py) in-process: a channel stand-in hands each request
to an `Agent` on a simulated world through the JSON the real channel sends, so the service
is checked against the agent's real service calls: it keeps the `Service` protocol, gives
what a `LocalService` on the same world gives, says the host's refusals as the local side
would, and turns a malformed answer into one `protocol` HostError naming the host."""

from __future__ import annotations

import pytest

from ctrtui.agent.ops import Agent
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.remote import HostError, RemoteOpError
from ctrtui.remote.service import RemoteService
from ctrtui.service.protocol import Service
from ctrtui.sources.simulated import SimKernel
from tests.hostfakes import AgentChannel, systemd_world


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _world() -> tuple[SimKernel, int]:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    return k, k.spawn("sleep", cgroups={"freezer": "/a"})


def _service(k: SimKernel) -> tuple[RemoteService, AgentChannel]:
    channel = AgentChannel(Agent(k))
    return RemoteService(channel), channel  # type: ignore[arg-type]


def _where(k: SimKernel, pid: int) -> str:
    (path,) = [c.path for c in k.snapshot(["freezer"])["freezer"].containers.values() if pid in c.procs]
    return path


def test_it_keeps_the_service_protocol():
    k, _ = _world()
    service: Service = _service(k)[0]
    assert service.kind == "remote" and service.pid_max == k.pid_max
    assert [h.name for h in service.hierarchies()] == ["freezer"]
    assert service.cgroup_state("freezer", "/a") is not None and service.cgroup_state("freezer", "/x") is None


def test_a_move_goes_through_the_hosts_engine_and_journal(tmp_path):
    k, pid = _world()
    s, channel = _service(k)
    s.prepare_writes()
    plan = s.plan([pid], CgroupRef("freezer", "/b"))
    assert plan.ok and [v.kind for v in plan.verdicts] == ["move"]
    assert ["init process" in r for r in s.risks(plan)] == [True]  # PID 1 of the simulated world
    report = s.apply(plan)
    assert report.ok and report.journaled and _where(k, pid) == "/b"
    assert (tmp_path / "state" / "ctrtui").is_dir()  # the host's journal, in its XDG state dir
    log = s.log()
    assert [r["batch"] for r in log.rows()] == [report.batch_id] and log.rows()[0]["state"] == "done"
    undone = s.undo()
    assert undone.report is not None and undone.report.undo_of == report.batch_id and _where(k, pid) == "/a"
    assert s.undo().nothing_left
    assert channel.ops.count("apply") == 1 and "plan" in channel.ops


def test_a_cgroup_op_and_stats():
    k, _ = _world()
    s, _ = _service(k)
    made = s.cgroup_op("mkdir", CgroupRef("freezer", "/a/new"))
    assert made.ok and made.sentence() == "freezer:/a/new created" and k.cgroup_state("freezer", "/a/new")
    figs = s.stats({"freezer": ["/a", "/a/new"]}, 0)
    assert set(figs["freezer"]) == {"/a", "/a/new"}


def test_without_a_journal_the_hosts_batches_are_kept_in_memory(tmp_path):
    k, pid = _world()
    channel = AgentChannel(Agent(k))
    s = RemoteService(channel, journal=False)  # type: ignore[arg-type]
    report = s.apply(s.plan([pid], CgroupRef("freezer", "/b")))
    assert report.ok and not report.journaled and not (tmp_path / "state" / "ctrtui").exists()


def test_the_hosts_refusal_is_said_as_locally_and_other_errors_name_the_host(tmp_path, monkeypatch):
    policy = tmp_path / "config" / "ctrtui" / "policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("this is [not toml")
    k, pid = _world()
    s, _ = _service(k)
    with pytest.raises(CtrtuiError, match="policy"):
        s.prepare_writes()
    policy.unlink()
    s, _ = _service(k)
    plan = s.plan([pid], CgroupRef("freezer", "/b"))
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(HostError) as e:
        s.apply(plan)
    assert e.value.kind == "read-only" and str(e.value).startswith("beta: ") and _where(k, pid) == "/a"


@pytest.mark.parametrize(("op", "answer"), [
    ("plan", {"verdicts": "all"}), ("plan", None), ("apply", {"batch_id": 1}), ("log", {"rows": [{"batch": 5}]}),
    ("undo", []), ("cgroup_op", {"op": "rm"}), ("stats", {"freezer": {"relative": {}}}), ("risks", [1]),
])
def test_a_malformed_answer_is_one_protocol_error_naming_the_host(op, answer):
    k, pid = _world()
    s, channel = _service(k)
    plan = s.plan([pid], CgroupRef("freezer", "/b"))
    channel.override[op] = answer
    calls = {"plan": lambda: s.plan([pid], CgroupRef("freezer", "/b")), "apply": lambda: s.apply(plan),
             "log": s.log, "undo": s.undo, "cgroup_op": lambda: s.cgroup_op("mkdir", CgroupRef("freezer", "/n")),
             "stats": lambda: s.stats({"freezer": ["/"]}, 0), "risks": lambda: s.risks(plan)}
    with pytest.raises(HostError) as e:
        calls[op]()
    assert e.value.kind == "protocol" and str(e.value).startswith("beta: the host answered ")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("error", [None, "no", {"kind": "exploded", "message": "x", "errno": None},
                                   {"kind": "bad-request", "message": 5, "errno": None},
                                   {"kind": "os-error", "message": "x", "errno": "rm -rf /"}])
def test_a_malformed_error_answer_is_one_protocol_error_and_the_channel_goes_on(error):
    """What the agent says went wrong crosses through the codec too (`decode_error`)."""
    from ctrtui.remote.channel import AgentChannel
    from devtools.agentfakes import HELLO, fake_agent

    answer = {"id": 1, "ok": False, "error": error}
    then = f"sys.stdin.readline(); print(json.dumps({answer!r}), flush=True)\nsys.stdin.read()\n"
    with AgentChannel.open(fake_agent(HELLO, then), name="odd", timeout=10) as ch:
        with pytest.raises(HostError) as e:
            ch.call("log")
        assert e.value.kind == "protocol" and "the host answered an error that cannot be read" in str(e.value)
        assert ch._broken is None  # a malformed answer, not a broken channel


# ----------------------------------------------------------------------------- a systemd host




def test_systemds_routes_are_the_hosts_as_a_local_service_gives_them(tmp_path):
    from ctrtui.engine.values import ScopeRequest
    from ctrtui.service.local import LocalService

    k, pid = systemd_world()
    s, channel = _service(k)
    local = LocalService(k, journal_path=str(tmp_path / "local.jsonl"))
    cron, box = CgroupRef("unified", "/system.slice/cron.service"), CgroupRef("unified", "/system.slice/box.scope/sub")
    for target, via in ((cron, "auto"), (cron, "kernel"), (box, "auto"), (box, "kernel")):
        mine, theirs = local.plan([pid], target, via=via), s.plan([pid], target, via=via)
        assert (theirs.route, theirs.verdicts[0].kind, theirs.verdicts[0].reason) == \
            (mine.route, mine.verdicts[0].kind, mine.verdicts[0].reason), (target, via)
    req = ScopeRequest("work.scope", None, ("CPUWeight=50",))
    plan = s.plan_scope([pid], req)
    assert (plan.route, plan.scope, plan.target) == ("scope", req, local.plan_scope([pid], req).target)
    report = s.apply(plan)
    assert report.ok and k.scope_calls == 1 and k.task_cgroup(pid, "unified") == plan.target.path
    assert "plan_scope" in channel.ops
    with pytest.raises(CtrtuiError, match="'work' is not a scope name systemd accepts"):
        s.plan_scope([pid], ScopeRequest("work"))  # the host's refusal, said as locally


def test_an_agent_that_knows_no_plan_scope_names_the_host_and_says_what_to_do():
    k, pid = systemd_world()
    s, channel = _service(k)

    def older(op, args=None, *, timeout=None):
        raise RemoteOpError("beta", op, "bad-request", "unknown op 'plan_scope' (known: apply, plan, ...)")

    channel.call = older  # type: ignore[method-assign]
    from ctrtui.engine.values import ScopeRequest

    with pytest.raises(HostError) as e:
        s.plan_scope([pid], ScopeRequest("w.scope"))
    assert e.value.kind == "bad-request" and str(e.value).startswith("beta: unknown op 'plan_scope'")
    assert "use the same one on both sides" in str(e.value)


@pytest.mark.parametrize("change", [
    {"scope": {"name": 7, "slice": None, "properties": []}}, {"route": "systemd"}, {"route": "dbus"},
    {"scope": None}, {"scope": {"name": "w.scope", "slice": None, "properties": "CPUWeight=1"}},
])
def test_a_malformed_scope_plan_is_one_protocol_error_naming_the_host(change):
    from ctrtui.engine.values import ScopeRequest

    k, pid = systemd_world()
    s, channel = _service(k)
    good = channel.call("plan_scope", {"pids": [str(pid)], "scope": {"name": "w.scope", "slice": None,
                                                                     "properties": []}})
    channel.override["plan_scope"] = {**good, **change}
    with pytest.raises(HostError) as e:
        s.plan_scope([pid], ScopeRequest("w.scope"))
    assert e.value.kind == "protocol" and str(e.value).startswith("beta: the host answered a")
