"""ctrtui.engine.risk: which planned moves ask first, on the simulated kernel and the demo world."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ctrtui.engine import AttachEngine
from ctrtui.engine.risk import MANY_TASKS, assess, systemd_unit
from ctrtui.model import CgroupRef
from ctrtui.sources.demo import demo_world
from ctrtui.sources.simulated import SimKernel


def _engine(k) -> AttachEngine:
    return AttachEngine(k, load_entry_points=False)


def _assess(k, pids, target: str, threads: bool = False) -> list[str]:
    plan = _engine(k).plan(pids, CgroupRef.parse(target), threads=threads)
    return assess(plan, k.snapshot(), k)


@pytest.fixture
def plain():
    """One v2 hierarchy with two ordinary cgroups and a process in /a."""
    k = SimKernel()
    k.add_hierarchy("unified", 2, ["pids"])
    k.mkdir("unified", "/a")
    k.mkdir("unified", "/b")
    k.set_last_pid(1000)
    pid = k.spawn("sleep", "sleep 100", cgroups={"unified": "/a"})
    return k, pid


@pytest.fixture(scope="module")
def demo():
    return demo_world()


def _pid_of(k, comm: str) -> int:
    return next(t.pid for t in k.tasks.values() if t.comm == comm and t.pid == t.tgid)


def test_systemd_unit_names_the_deepest_unit():
    assert systemd_unit("/system.slice/cron.service") == "cron.service"
    assert systemd_unit("/user.slice/user-1000.slice/session-3.scope") == "session-3.scope"
    assert systemd_unit("/system.slice") == "system.slice"
    assert systemd_unit("/isolated") is None
    assert systemd_unit("/") is None
    assert systemd_unit("/services/web") is None


def test_an_ordinary_move_asks_nothing(plain):
    k, pid = plain
    assert _assess(k, [pid], "unified:/b") == []


def test_refused_and_already_there_carry_no_risk(plain):
    k, pid = plain
    assert _assess(k, [pid], "unified:/a") == []             # already there
    assert _assess(k, ["abc", 31000], "unified:/b") == []     # refused: not a PID, no such PID


def test_pid_1_asks(demo):
    risks = _assess(demo, [1], "unified:/")
    assert any(r.startswith("PID 1 (systemd)") and "init process" in r for r in risks)


def test_kernel_thread_asks(demo):
    kt = _pid_of(demo, "rcu_preempt")  # a kernel thread the kernel lets move (no PF_NO_SETAFFINITY)
    risks = _assess(demo, [kt], "cpu:/system.slice")
    assert demo.task_state(kt).kthread
    assert any("1 kernel thread would move" in r and f"{kt} (rcu_preempt)" in r for r in risks), risks


def test_kernel_thread_refused_by_the_kernel_is_not_a_risk(demo):
    risks = _assess(demo, [2], "freezer:/")  # kthreadd: EINVAL
    assert not any("kernel thread" in r for r in risks)


def test_more_than_twenty_tasks_ask(plain):
    k, pid = plain
    pids = [pid] + [k.spawn("sleep", cgroups={"unified": "/a"}) for _ in range(MANY_TASKS)]
    risks = _assess(k, pids, "unified:/b")
    assert risks == [f"{MANY_TASKS + 1} tasks would move at once to unified:/b (more than {MANY_TASKS}); "
                     "check the list before going on."]
    assert _assess(k, pids[:MANY_TASKS], "unified:/b") == []


def test_systemd_target_and_source(demo):
    cron = _pid_of(demo, "cron")
    risks = _assess(demo, [cron], "unified:/system.slice/ssh.service")
    assert any("target unified:/system.slice/ssh.service belongs to the systemd unit ssh.service" in r
               for r in risks), risks
    assert f"PID {cron} (cron) would leave the systemd unit cron.service: systemd stops accounting it to that " \
        "unit, and systemctl stop of it no longer reaches it." in risks, risks
    # the lab: a task written into a service by hand dies with its stop and restart; systemd never moves it back
    assert "The target unified:/system.slice/ssh.service belongs to the systemd unit ssh.service: systemctl stop " \
        "or systemctl restart of ssh.service kills the task: it now lives and dies with that unit; systemctl " \
        "daemon-reload leaves it where it is." in risks, risks
    assert not any("move it back" in r or "move these tasks back" in r for r in risks), risks


def test_name_systemd_hierarchy_warns(demo):
    cron = _pid_of(demo, "cron")
    risks = _assess(demo, [cron], "name=systemd:/")
    assert any("name=systemd hierarchy is systemd's own record" in r for r in risks), risks


def test_v1_move_says_which_hierarchies_stay_and_is_a_risk(demo):
    from ctrtui.engine.risk import hierarchy_note
    from ctrtui.model import CgroupRef

    cron = _pid_of(demo, "cron")
    risks = _assess(demo, [cron], "cpu:/system.slice/ssh.service")
    text = hierarchy_note(CgroupRef("cpu", "/system.slice/ssh.service"), demo.snapshot())
    assert text in risks, risks  # said by `move`, asked by the UI (README: "a v1 hierarchy")
    assert text is not None and text.startswith("Only the cpu hierarchy changes")
    for other in ("cpuacct", "memory", "freezer", "name=systemd", "unified"):
        assert other in text
    # the same path exists in the other systemd-laid-out hierarchies: say so
    same = text.split("(cgroup v1 hierarchies are independent).")[1]
    assert "have a /system.slice/ssh.service too" in same and "memory" in same
    assert "freezer" not in same and "cpuset" not in same  # they have no such cgroup


def test_v2_move_has_no_cross_hierarchy_sentence(plain):
    from ctrtui.engine.risk import hierarchy_note
    from ctrtui.model import CgroupRef

    k, pid = plain
    k.add_hierarchy("freezer", 1)
    assert _assess(k, [pid], "unified:/b") == []
    assert hierarchy_note(CgroupRef("unified", "/b"), k.snapshot()) is None
    assert hierarchy_note(CgroupRef("freezer", "/"), k.snapshot()) is not None


def test_thread_mode_split_asks_and_whole_group_does_not():
    k = SimKernel()
    k.add_hierarchy("cpu", 1)
    k.mkdir("cpu", "/a")
    k.set_last_pid(1000)
    pid = k.spawn("worker", threads=4)
    tids = k.thread_ids(pid)
    assert len(tids) == 4
    risks = _assess(k, [tids[1]], "cpu:/a", threads=True)
    assert any(f"Thread mode splits process {pid} (worker): 1 of its 4 threads" in r and "3 stay" in r
               for r in risks), risks
    assert not any("splits" in r for r in _assess(k, list(tids), "cpu:/a", threads=True))
    # process mode moves the whole group: no split
    assert not any("splits" in r for r in _assess(k, [pid], "cpu:/a"))


def test_risk_imports_no_textual():
    code = "import sys, ctrtui.engine.risk; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_move_that_makes_a_thread_root_asks_first(plain):
    """/p enables only the threaded pids controller and has an empty child: the move makes
    /p a thread root and its child 'domain invalid', so the confirm screen says so."""
    k, pid = plain
    k.set_subtree_control("unified", "/", "+pids")
    k.makedirs("unified", "/p/c")
    k.set_subtree_control("unified", "/p", "+pids")
    risks = _assess(k, [pid], "unified:/p")
    assert any("domain invalid" in r and "/p/c" in r and str(pid) in r for r in risks), risks
    k.set_subtree_control("unified", "/p", "-pids")
    assert _assess(k, [pid], "unified:/p") == []


# ------------------------------------------------------------------ the README's list


def _readme_risks() -> list[str]:
    """The README's list of risks: the entries after "Risky means:" up to the sentence's end."""
    import re
    from pathlib import Path

    text = " ".join((Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8").split())
    found = re.search(r"Risky means: (.*?)\. Risks never change", text)
    assert found, "the README has no 'Risky means: ...' list"
    entries, depth, word = [], 0, ""
    for ch in found.group(1) + ",":
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            entries.append(word.strip())
            word = ""
        else:
            word += ch
    return entries


def _v1_world():
    """Two v1 hierarchies and the v2 one; a task in freezer:/a."""
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("pids", 1, ["pids"])
    k.add_hierarchy("unified", 2, [])
    for h in ("freezer", "unified"):
        k.mkdir(h, "/a")
        k.mkdir(h, "/b")
    k.set_last_pid(1000)
    return k, k.spawn("sleep", "sleep 100", cgroups={"freezer": "/a", "unified": "/a"})


def _kinds(k, pids, target: str, threads: bool = False) -> list[str]:
    from ctrtui.engine.risk import assess_kinds

    plan = _engine(k).plan(pids, CgroupRef.parse(target), threads=threads)
    return [kind for kind, _ in assess_kinds(plan, k.snapshot(), k)]


def _scenario(kind: str) -> list[str]:
    """The kinds `assess_kinds` finds for a move that has the risk `kind` (a key of RISKS)."""
    if kind == "pid-1":
        return _kinds(demo_world(), [1], "unified:/")
    if kind == "kernel-threads":
        k = demo_world()
        return _kinds(k, [_pid_of(k, "rcu_preempt")], "cpu:/system.slice")
    if kind == "many":
        k, _ = _v1_world()
        return _kinds(k, [k.spawn("sleep", cgroups={"unified": "/a"}) for _ in range(MANY_TASKS + 1)], "unified:/b")
    if kind == "systemd-unit":
        k = demo_world()
        return _kinds(k, [_pid_of(k, "cron")], "unified:/system.slice/ssh.service")
    if kind == "name=systemd":
        k = demo_world()
        return _kinds(k, [_pid_of(k, "cron")], "name=systemd:/")
    if kind == "v1":
        k, pid = _v1_world()
        return _kinds(k, [pid], "freezer:/b")
    if kind == "thread-split":
        k, _ = _v1_world()
        pid = k.spawn("worker", threads=3, cgroups={"freezer": "/a"})
        return _kinds(k, [k.thread_ids(pid)[1]], "freezer:/b", threads=True)
    if kind == "thread-root":
        k = SimKernel()
        k.add_hierarchy("unified", 2, ["pids"])
        k.set_last_pid(1000)
        pid = k.spawn("sleep", "sleep 100")
        k.set_subtree_control("unified", "/", "+pids")
        k.makedirs("unified", "/p/c")
        k.set_subtree_control("unified", "/p", "+pids")
        return _kinds(k, [pid], "unified:/p")
    raise AssertionError(f"no scenario for the risk {kind!r}: add one here")


def test_the_readme_lists_every_risk_assess_says_and_no_other():
    from ctrtui.engine.risk import RISKS

    assert _readme_risks() == list(RISKS.values())
    for kind in RISKS:
        assert kind in _scenario(kind), kind


def test_a_v1_move_is_a_risk_only_where_other_hierarchies_are_mounted():
    k, pid = _v1_world()
    assert _kinds(k, [pid], "freezer:/b") == ["v1"]       # the one risk of an ordinary v1 move
    assert _kinds(k, [pid], "unified:/b") == []            # v2: nothing stays behind
    alone = SimKernel()
    alone.add_hierarchy("freezer", 1, ["freezer"])
    alone.mkdir("freezer", "/b")
    alone.set_last_pid(1000)
    assert _kinds(alone, [alone.spawn("sleep")], "freezer:/b") == []   # no other hierarchy to leave as it is


def test_init_scope_is_never_stopped_so_no_stop_wording(demo):
    """systemd refuses `systemctl stop init.scope` (the manager's own scope): moving a task
    into or out of it must not speak of a stop that cannot happen."""
    cron = _pid_of(demo, "cron")
    into = _assess(demo, [cron], "unified:/init.scope")
    said = [r for r in into if "init.scope" in r]
    assert said and not any("stop of init.scope" in r for r in said), into
    assert any("the service manager's own scope, which systemd never stops" in r for r in said), into
    init = next(t.pid for t in demo.tasks.values() if t.pid == t.tgid and demo.task_cgroup(t.pid, "unified")
                == "/init.scope")
    out = _assess(demo, [init], "unified:/system.slice")
    leaving = [r for r in out if "would leave the systemd unit init.scope" in r]
    assert leaving == [f"PID {init} ({_comm(demo, init)}) would leave the systemd unit init.scope: systemd stops "
                       "accounting it to that unit, the service manager's own scope."], out


def _comm(k, pid: int) -> str:
    return k.tasks[pid].comm
