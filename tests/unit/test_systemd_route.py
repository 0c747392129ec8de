"""The systemd route of moves on the simulated systemd host (`SystemdSimKernel`, `--demo=systemd`):
a delegated unit takes tasks through systemd (AttachProcessesToUnit), journaled with the route and
undone by writing them back; a unit that is not delegated is refused as systemd refuses it unless
the kernel write is asked for (`via="kernel"`, `--via kernel`), with the risk the lab measured; a
slice's own cgroup is refused (EBUSY). No guest, no bus: tests/lab/ runs the same on systemd 252."""

from __future__ import annotations

import json
import pathlib

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.engine.records import BadRecord, validate
from ctrtui.engine.risk import assess
from ctrtui.model import CgroupRef
from ctrtui.sources.simkernel.systemd import SystemdSimKernel
from ctrtui.sources.simulated import SimKernel
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse

ROOT = pathlib.Path(__file__).resolve().parents[2]
PATHS = ("/a", "/system.slice", "/system.slice/cron.service", "/system.slice/box.scope",
         "/system.slice/box.scope/sub")


def world(cls: type[SimKernel] = SystemdSimKernel) -> SimKernel:
    """unified (v2, no controllers: the kernel itself would take a task anywhere, so what is
    refused here is the systemd route's prediction) and name=systemd; box.scope delegated."""
    k = cls()
    k.add_hierarchy("name=systemd", 1, ["name=systemd"])
    k.add_hierarchy("unified", 2, [])
    for path in PATHS:
        k.makedirs("unified", path)
    if isinstance(k, SystemdSimKernel):
        k.play_systemd(("unified", "name=systemd"), delegated=("box.scope",))
    return k


def engine(k: SimKernel, tmp_path: pathlib.Path) -> AttachEngine:
    return AttachEngine(k, policy=Policy(), journal=Journal(str(tmp_path / "j.jsonl")), load_entry_points=False)


def ref(text: str) -> CgroupRef:
    return CgroupRef.parse(text)


def where(k: SimKernel, pid: int) -> str | None:
    return k.task_cgroup(pid, "unified")


def test_a_delegated_unit_takes_the_task_through_systemd_journaled_and_undone_by_the_kernel(tmp_path):
    k = world()
    assert isinstance(k, SystemdSimKernel)
    pid = k.spawn("job", cgroups={"unified": "/a"})
    e = engine(k, tmp_path)
    plan = e.plan([pid], ref("unified:/system.slice/box.scope/sub"))
    assert plan.route == "systemd" and plan.verdicts[0].kind == "move"
    risks = assess(plan, k.snapshot(), k)
    assert any("systemctl stop of box.scope kills the task: it now lives and dies with that unit" in r
               for r in risks), risks
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes] == ["moved"] and k.attach_calls == 1
    assert where(k, pid) == "/system.slice/box.scope/sub"
    intent = [json.loads(line) for line in open(tmp_path / "j.jsonl") if '"intent"' in line][-1]
    assert intent["route"] == "systemd", intent
    back = e.undo()
    assert back is not None and [o.outcome for o in back.outcomes] == ["moved"]
    assert where(k, pid) == "/a" and k.attach_calls == 1  # written back by the kernel: systemd has no detach
    undo_intent = [json.loads(line) for line in open(tmp_path / "j.jsonl") if '"intent"' in line][-1]
    assert "route" not in undo_intent


def test_a_unit_not_delegated_is_refused_as_systemd_refuses_it_unless_the_kernel_write_is_asked(tmp_path):
    k = world()
    pid = k.spawn("job", cgroups={"unified": "/a"})
    e = engine(k, tmp_path)
    v = e.plan([pid], ref("unified:/system.slice/cron.service")).verdicts[0]
    assert (v.kind, v.hook, v.errno) == ("refused", "systemd-route", None)
    assert "cron.service is a service that is not delegated" in v.reason
    assert "Process migration not available on non-delegated units" in v.reason
    assert "--scope NAME" in v.advice and "--via kernel" in v.advice and "lives and dies with that unit" in v.advice
    e.front = "ui"  # the terminal UI cannot write it yet: the whole command to type
    v = e.plan([pid], ref("unified:/system.slice/cron.service")).verdicts[0]
    assert f"(ctrtui move {pid} --to unified:/system.slice/cron.service --via kernel)" in v.advice, v.advice
    plan = e.plan([pid], ref("unified:/system.slice/cron.service"), via="kernel")
    assert plan.route == "kernel" and plan.verdicts[0].kind == "move"
    risks = assess(plan, k.snapshot(), k)
    assert ("The target unified:/system.slice/cron.service belongs to the systemd unit cron.service: systemctl "
            "stop or systemctl restart of cron.service kills the task: it now lives and dies with that unit; "
            "systemctl daemon-reload leaves it where it is.") in risks, risks
    assert [o.outcome for o in e.apply(plan).outcomes] == ["moved"]
    assert where(k, pid) == "/system.slice/cron.service"
    back = e.undo()  # back to /a: the undo is a kernel write, not refused
    assert back is not None and [o.outcome for o in back.outcomes] == ["moved"] and where(k, pid) == "/a"


def test_a_slice_own_cgroup_is_refused_ebusy_even_by_the_kernel_route(tmp_path):
    k = world()
    pid = k.spawn("job", cgroups={"unified": "/a"})
    e = engine(k, tmp_path)
    for via in ("auto", "kernel"):
        v = e.plan([pid], ref("unified:/system.slice"), via=via).verdicts[0]
        assert (v.kind, v.hook, v.errno) == ("refused", "systemd-route", "EBUSY"), via
        assert "system.slice's own cgroup" in v.reason and "keeps no tasks of its own" in v.reason
        assert f"ctrtui move {pid} --scope NAME --slice system.slice" in v.advice


def test_thread_mode_and_other_hosts_stay_kernel_writes(tmp_path):
    k = world()
    pid = k.spawn("job", threads=2, cgroups={"unified": "/a"})
    k.set_type("unified", "/system.slice/box.scope/sub", "threaded")
    assert engine(k, tmp_path).plan([pid], ref("unified:/system.slice/box.scope/sub"), threads=True).route == "kernel"
    plain = world(SimKernel)  # not a systemd host: the path alone says nothing of delegation
    p2 = plain.spawn("job", cgroups={"unified": "/a"})
    plan = engine(plain, tmp_path).plan([p2], ref("unified:/system.slice/cron.service"))
    assert plan.route == "kernel" and plan.verdicts[0].kind == "move"


def test_systemd_refusing_at_apply_time_is_a_refused_outcome_with_its_words(tmp_path):
    k = world()
    assert isinstance(k, SystemdSimKernel)
    pid = k.spawn("job", cgroups={"unified": "/a"})
    e = engine(k, tmp_path)
    plan = e.plan([pid], ref("unified:/system.slice/box.scope"))
    assert plan.route == "systemd"
    k.play_systemd(("unified",), delegated=())  # Delegate= changed between plan and apply
    o = e.apply(plan).outcomes[0]
    assert (o.outcome, o.hook) == ("refused", "systemd")
    assert "Process migration not available on non-delegated units" in o.reason and "--via kernel" in o.advice
    assert where(k, pid) == "/a"


def test_the_route_in_the_journal_is_checked():
    base = {"kind": "intent", "batch": "b1", "time": "2026-12-07T20:00:00Z", "hierarchy": "unified",
            "threads": False, "undo_of": None, "target": "/x", "tasks": []}
    assert "route" not in validate(base) and validate({**base, "route": "kernel"}).get("route") is None
    assert validate({**base, "route": "systemd"})["route"] == "systemd"
    with pytest.raises(BadRecord, match="route must be kernel, systemd or scope"):
        validate({**base, "route": "dbus\x1b[31m"})


def test_the_command_line_on_the_simulated_systemd_host(capsys):
    from ctrtui.sources.demo import demo_world

    (cron,) = demo_world(systemd=True).snapshot(["unified"])["unified"].containers["/system.slice/cron.service"].procs
    rc, out, err = run(capsys, "--demo=systemd", "move", str(cron), "--to", "unified:/system.slice/nginx.service",
                       "--json")
    row = json.loads(out)[0]
    assert rc == 1 and (row["outcome"], row["hook"]) == ("refused", "systemd-route"), row
    rc, out, err = run(capsys, "--demo=systemd", "move", str(cron), "--to", "unified:/system.slice/nginx.service",
                       "--via", "kernel", "--json")
    row = json.loads(out)[0]
    assert rc == 0 and row["outcome"] == "moved", row
    assert any("nginx.service kills the task: it now lives and dies with that unit" in r for r in row["risks"])
    rc, out, err = run(capsys, "--demo", "move", str(cron), "--to", "unified:/system.slice/nginx.service", "--json")
    assert rc == 0 and json.loads(out)[0]["outcome"] == "moved"  # the plain demo: no systemd plays PID 1


def test_the_old_wording_is_gone():
    """The lab: systemd never moved a task back (docs/systemd.md)."""
    texts = [p.read_text() for p in (ROOT / "ctrtui").rglob("*.py")] + [(ROOT / "README.md").read_text()]
    assert not [t for t in texts if "may move these tasks back" in t or "systemd may move" in t]


class FakeSystemd:
    """What SystemdCgroupFS asks of the D-Bus client, answered from a set of delegated units."""

    def __init__(self, delegated: set[str]) -> None:
        self.delegated = delegated
        self.asked: list[str] = []
        self.attached: list[tuple[str, str, list[int]]] = []

    def placement(self, path):
        from ctrtui.model.systemd import unit_place
        from ctrtui.sources.systemd import Placement

        self.asked.append(path)
        unit, kind, sub = unit_place(path)
        return Placement(unit, kind, sub, unit in self.delegated)

    def attach_processes_to_unit(self, unit, sub, pids):
        self.attached.append((unit, sub, list(pids)))


def test_the_real_backend_on_a_systemd_host_asks_systemd_and_keeps_the_contract():
    from ctrtui.sources import base
    from ctrtui.sources.systemd import Detection, SystemdError
    from ctrtui.sources.systemdhost import SystemdCgroupFS

    sd = FakeSystemd({"box.scope"})
    b = SystemdCgroupFS(Detection(True, "unified", "/sys/fs/cgroup/unified", ""), systemd=sd)  # type: ignore[arg-type]
    assert base.contract_problems(b) == [] and base.systemd_units(b) is b
    assert b.unit_placement("freezer", "/system.slice/box.scope") is None  # systemd's hierarchy only
    assert b.unit_placement("unified", "/ctrtui-test-x") is None and sd.asked == []  # no unit: systemd not asked
    p = b.unit_placement("unified", "/system.slice/box.scope/sub")
    assert p is not None and (p.unit, p.subcgroup, p.delegated) == ("box.scope", "sub", True)
    b.unit_placement("unified", "/system.slice/box.scope")  # Delegate is reused a while
    assert sd.asked == ["/system.slice/box.scope/sub"]
    b.attach_to_unit("unified", "/system.slice/box.scope/sub", [4242])
    assert sd.attached == [("box.scope", "sub", [4242])]
    assert not b.unit_placement("unified", "/system.slice/cron.service").delegated
    with pytest.raises(SystemdError, match="No systemd unit owns unified:/ctrtui-test-x"):
        b.attach_to_unit("unified", "/ctrtui-test-x", [4242])


def test_local_backend_is_the_plain_one_where_systemd_is_not_pid_1(tmp_path):
    from ctrtui.sources.cgroupfs import CgroupFS
    from ctrtui.sources.systemdhost import SystemdCgroupFS, local_backend

    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "1" / "comm").write_text("systemd\n")
    (tmp_path / "proc" / "self").mkdir()
    (tmp_path / "proc" / "self" / "mountinfo").write_text(
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n")
    b = local_backend(proc=str(tmp_path / "proc"), run=str(tmp_path / "run"))
    assert type(b) is CgroupFS  # no /run/systemd/system: systemd is not the init system
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    b = local_backend(proc=str(tmp_path / "proc"), run=str(tmp_path / "run"))
    assert isinstance(b, SystemdCgroupFS) and b.detection.hierarchy == "unified"


# ----------------------------------------------------------------------------- a new transient scope


def test_a_new_scope_takes_running_tasks_journaled_and_undone(tmp_path):
    from ctrtui.engine.values import ScopeRequest

    k = world()
    assert isinstance(k, SystemdSimKernel)
    a, b = k.spawn("job", cgroups={"unified": "/a"}), k.spawn("job2", cgroups={"unified": "/a"})
    e = engine(k, tmp_path)
    plan = e.plan_scope([a, b], ScopeRequest("work.scope", "batch-jobs.slice", ("CPUWeight=50",)))
    assert plan.route == "scope" and plan.target == ref("unified:/batch.slice/batch-jobs.slice/work.scope")
    assert [v.kind for v in plan.verdicts] == ["move", "move"] and k.scope_calls == 0  # a plan asks nothing
    risks = assess(plan, k.snapshot(), k)
    assert any("systemctl stop of work.scope kills the task: it now lives and dies with that unit" in r
               for r in risks), risks
    r = e.apply(plan)
    assert [o.outcome for o in r.outcomes] == ["moved", "moved"] and k.scope_calls == 1  # one scope for both
    assert where(k, a) == where(k, b) == "/batch.slice/batch-jobs.slice/work.scope"
    intent = [json.loads(line) for line in open(tmp_path / "j.jsonl") if '"intent"' in line][-1]
    assert intent["route"] == "scope" and intent["target"] == "/batch.slice/batch-jobs.slice/work.scope"
    back = e.undo()
    assert back is not None and [o.outcome for o in back.outcomes] == ["moved", "moved"]
    assert where(k, a) == where(k, b) == "/a" and k.scope_calls == 1
    # the name is taken now (the emptied scope is systemd's to collect): predicted refused
    v = e.plan_scope([a], ScopeRequest("work.scope", "batch-jobs.slice")).verdicts[0]
    assert (v.kind, v.hook) == ("refused", "systemd-route") and "a unit of that name is loaded already" in v.reason


@pytest.mark.parametrize(("argv", "said"), [
    (["--scope", "work"], "'work' is not a scope name systemd accepts"),
    (["--scope", "w.scope", "--slice", "x"], "'x' is not a slice name systemd accepts"),
    (["--scope", "w.scope", "-p", "Colour=red"], "Colour"),
    (["--scope", "w.scope", "-p", "CPUWeight=100000"], "CPUWeight"),
    (["--to", "unified:/", "--slice", "x.slice"], "--slice and -p/--property go with --scope NAME"),
])
def test_what_systemd_would_refuse_about_a_new_scope_is_one_sentence(capsys, argv, said):
    rc, out, err = run(capsys, "--demo=systemd", "move", "1234", *argv, "--dry-run")
    assert rc == 2 and said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_a_new_scope_on_the_command_line(capsys):
    from ctrtui.sources.demo import demo_world

    (cron,) = demo_world(systemd=True).snapshot(["unified"])["unified"].containers["/system.slice/cron.service"].procs
    rc, out, err = run(capsys, "--demo", "move", str(cron), "--scope", "w.scope", "--dry-run")
    assert rc == 2 and "a new scope needs systemd as PID 1" in err, err  # the plain demo: no systemd
    rc, out, err = run(capsys, "--demo=systemd", "move", str(cron), "--scope", "w.scope", "-p", "MemoryMax=1G",
                       "--dry-run", "--json")
    (row,) = json.loads(out)
    assert rc == 0 and row["outcome"] == "would-move" and row["to"] == "unified:/system.slice/w.scope", row
    assert any("systemctl stop of w.scope kills the task" in r for r in row["risks"]), row
    rc, out, err = run(capsys, "--demo=systemd", "move", str(cron), "--scope", "w.scope", "--json")
    (row,) = json.loads(out)
    assert rc == 0 and (row["outcome"], row["from"]) == ("moved", "/system.slice/cron.service"), (row, err)


def test_slice_path_nests_slices_by_their_dashes():
    from ctrtui.model.systemd import slice_path

    assert slice_path("system.slice") == "/system.slice"
    assert slice_path("batch-jobs-night.slice") == "/batch.slice/batch-jobs.slice/batch-jobs-night.slice"
    assert slice_path("-.slice") == "/"
