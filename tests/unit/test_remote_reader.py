"""`RemoteReader` in-process: a channel stand-in hands each request to an `Agent` on the
simulated kernel through the JSON encoding the real channel uses, so the reader is checked
against the contract of `sources/base.py` without a subprocess; and an agent that answers
nonsense costs a `protocol` HostError, never a wrong value. Over a real pipe:
tests/real/test_agent_real.py."""

from __future__ import annotations

import json

import pytest

from ctrtui.agent.loop import encode
from ctrtui.agent.ops import Agent
from ctrtui.remote import HostError, RemoteOpError, RemoteReader
from ctrtui.sources.base import Reader, contract_problems, protocol_problems
from ctrtui.sources.demo import demo_world


class FakeChannel:
    """What RemoteReader uses of an AgentChannel (`name`, `call`), answered by `agent`."""

    def __init__(self, agent: Agent, name: str = "sim") -> None:
        self.agent = agent
        self.name = name
        self.calls: list[tuple[str, dict]] = []
        self.override: dict[str, object] = {}  # op -> the (malformed) result to answer instead
        self.closed = False

    def call(self, op, args=None, *, timeout=None):
        self.calls.append((op, args or {}))
        if op in self.override:
            return self.override[op]
        answer = json.loads(encode(self.agent.handle(len(self.calls), op, args or {})))
        if answer["ok"]:
            return answer["result"]
        err = answer["error"]
        raise RemoteOpError(self.name, op, err["kind"], err["message"], err["errno"])

    def close(self):
        self.closed = True


@pytest.fixture
def world():
    return demo_world()


@pytest.fixture
def reader(world):
    return RemoteReader(FakeChannel(Agent(world)))  # type: ignore[arg-type]


def test_it_keeps_the_reader_contract(reader, world):
    assert contract_problems(reader) == [] and protocol_problems(reader, Reader) == []
    assert reader.kind == "remote" and reader.identity == "ssh://sim" and reader.capabilities == frozenset()
    assert reader.pid_max == world.pid_max and reader.hierarchies() == world.hierarchies()


def test_answers_are_the_backends_own(reader, world):
    world.set_clock(lambda: 0.0)        # the root's CPU figures accrue on the clock: stopped
    snap = world.snapshot()
    pid = snap["freezer"]["/"].procs[0]
    assert reader.task_state(pid) == world.task_state(pid)
    assert reader.task_details([pid, world.pid_max - 1]) == world.task_details([pid])
    assert reader.task_cgroups(pid) == world.task_cgroups(pid)
    assert reader.task_cgroup(pid, "freezer") == world.task_cgroup(pid, "freezer")
    assert reader.thread_ids(pid) == world.thread_ids(pid)
    assert reader.cgroup_state("freezer", "/") == world.cgroup_state("freezer", "/")
    assert reader.cgroup_stats("pids", "/") == world.cgroup_stats("pids", "/")
    got = reader.read_cgroups("freezer", ["/", "/nope"])
    want = world.read_cgroups("freezer", ["/", "/nope"])
    assert got["/nope"] is None and got["/"] == want["/"] and got["/"].procs == want["/"].procs
    assert reader.task_state(world.pid_max - 1) is None


def test_snapshots_whole_then_deltas_and_whole_again_when_the_agent_lost_the_base(reader, world):
    first = reader.snapshot()
    assert first.backend == "remote" and (reader.full_snapshots, reader.delta_snapshots) == (1, 0)
    pid = world.spawn("late")
    second = reader.snapshot()
    assert (reader.full_snapshots, reader.delta_snapshots) == (1, 1)
    assert any(pid in c.procs for hs in second.hierarchies for c in hs.containers.values())
    assert [list(hs.containers) for hs in second.hierarchies] == [list(hs.containers)
                                                                  for hs in world.snapshot().hierarchies]
    held = reader._token
    reader.channel.agent = Agent(world)  # a new agent (a reconnect): it holds no base
    third = reader.snapshot(["freezer"], "/")
    assert (reader.full_snapshots, reader.delta_snapshots) == (2, 1) and [h.name for h in third.hierarchies] == [
        "freezer"]
    assert reader.channel.calls[-1] == ("snapshot", {"names": ["freezer"], "subtree": "/", "base": held})


def test_a_delta_that_does_not_apply_is_asked_again_whole(reader, world):
    reader.snapshot()
    reader._base = reader._base.replace(taken_at=1.0)  # what the reader holds is not the agent's base
    reader.snapshot()
    assert (reader.full_snapshots, reader.delta_snapshots) == (2, 0)
    bases = [a.get("base") for op, a in reader.channel.calls if op == "snapshot"]
    assert bases[0] is None and type(bases[1]) is int and bases[2] is None


def test_requests_the_agent_refuses_are_remote_op_errors(reader, world):
    with pytest.raises(RemoteOpError) as e:
        reader.task_state(world.pid_max + 5)
    assert e.value.kind == "bad-request"
    with pytest.raises(RemoteOpError) as e:
        reader.cgroup_state("freezer", "/a/../..")
    assert e.value.kind == "bad-request"


MALFORMED = [
    ("pid_max", "32768"), ("pid_max", 12), ("hierarchies", "cpu"), ("hierarchies", [{"name": "x"}]),
    ("hierarchies", [{"name": "x", "version": 3, "controllers": [], "mount": "/", "root": "/", "hierarchy_id": 1}]),
    ("snapshot", {"token": 1, "full": "not base64!"}), ("snapshot", {"token": 1, "full": "Q1RSVw=="}),
    ("snapshot", {"full": ""}), ("snapshot", {"token": 1}),
    ("task_state", {"pid": 1}), ("task_state", [1]), ("task_details", {"1": {"pid": "1"}}),
    ("thread_ids", [1, -2]), ("thread_ids", [2 ** 40]), ("task_cgroups", {"freezer": 1}), ("task_cgroup", 5),
    ("cgroup_stats", {"a": 1}), ("cgroup_state", {"hierarchy": "freezer"}),
    ("read_cgroups", {"/": {"children": [], "threads": [0], "procs": []}}), ("read_cgroups", ["/"]),
]


def test_stats_of_files_no_backend_reads_or_too_long_are_a_protocol_error(reader):
    """A host's agent answers only the stats files a backend reads, each bounded (the model
    parses them line by line: a huge answer would cost each refresh)."""
    for bad in ({"/etc/shadow": "root:x"}, {"cpu.pressure": "some avg10=1.00 " + "x" * (1 << 16)},
                {"memory.swap.current": "1", "../cpu.stat": "usage_usec 1"}):
        reader.channel.override["cgroup_stats"] = bad
        with pytest.raises(HostError) as e:
            reader.cgroup_stats("unified", "/")
        assert e.value.kind == "protocol" and "cgroup_stats names a file" in str(e.value)
    reader.channel.override["cgroup_stats"] = {"cpu.pressure": "some avg10=1.00", "/proc/meminfo": "MemTotal: 1 kB"}
    assert reader.cgroup_stats("unified", "/") == {"cpu.pressure": "some avg10=1.00", "/proc/meminfo": "MemTotal: 1 kB"}


@pytest.mark.parametrize(("op", "result"), MALFORMED, ids=[f"{op}-{i}" for i, (op, _) in enumerate(MALFORMED)])
def test_a_malformed_answer_is_a_protocol_error(reader, op, result):
    reader.channel.override[op] = result
    calls = {
        "pid_max": lambda: reader.pid_max, "hierarchies": reader.hierarchies, "snapshot": reader.snapshot,
        "task_state": lambda: reader.task_state(1), "task_details": lambda: reader.task_details([1]),
        "thread_ids": lambda: reader.thread_ids(1), "task_cgroups": lambda: reader.task_cgroups(1),
        "task_cgroup": lambda: reader.task_cgroup(1, "freezer"), "cgroup_stats": lambda: reader.cgroup_stats("a", "/"),
        "cgroup_state": lambda: reader.cgroup_state("a", "/"), "read_cgroups": lambda: reader.read_cgroups("a", ["/"]),
    }
    with pytest.raises(HostError) as e:
        calls[op]()
    assert e.value.kind == "protocol" and str(e.value).startswith("sim: the agent's answer is malformed")
