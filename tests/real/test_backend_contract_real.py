"""The backend contract on the real kernel: the real backend's answers about this machine's
cgroups, and a move and its undo through only what it declares (the rest of the contract:
tests/unit/test_backend_contract.py)."""

from __future__ import annotations

import json
import os

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy
from ctrtui.model import CgroupRef
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.demo import demo_world
from tests.unit.test_backend_contract import Declared


def test_task_cgroup_is_one_entry_of_task_cgroups():
    k = demo_world()
    for pid in list(k.tasks)[:200]:
        every = k.task_cgroups(pid)
        for h in k.hierarchies():
            assert k.task_cgroup(pid, h.name) == every[h.name]
    assert k.task_cgroup(31999, "freezer") is None
    fs = CgroupFS()
    for pid in (1, os.getpid()):
        every = fs.task_cgroups(pid)
        for h in fs.hierarchies():
            assert fs.task_cgroup(pid, h.name) == every[h.name]


@pytest.mark.real
def test_the_engine_uses_only_what_the_real_backend_declares(realworld, tmp_path):
    """On the real kernel too: a move and its undo through a backend that exposes only its
    declared contract (the pidfd probes and the one-poll exit check included)."""
    a, b = realworld.mkdir("freezer", "a"), realworld.mkdir("freezer", "b")
    procs = [realworld.spawn_sleep() for _ in range(2)]
    for p in procs:
        realworld.put(p.pid, "freezer", a)
    d = Declared(CgroupFS())
    e = AttachEngine(d, policy=Policy(), journal=Journal(tmp_path / "j.jsonl"), load_entry_points=False)
    report = e.apply(e.plan([p.pid for p in procs], CgroupRef("freezer", b)))
    assert [o.outcome for o in report.outcomes] == ["moved", "moved"]
    assert [realworld.cgroup_of(p.pid, "freezer") for p in procs] == [b, b]
    assert e.undo() is not None
    assert [realworld.cgroup_of(p.pid, "freezer") for p in procs] == [a, a]
    assert {"task_probes", "tasks_exited", "open_membership", "pid_max", "identity"} <= d.asked
    intent = json.loads(open(tmp_path / "j.jsonl").readline())
    assert intent["backend"] == "local"
