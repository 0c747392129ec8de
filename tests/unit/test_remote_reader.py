"""`RemoteReader` in-process: a channel stand-in hands each request to an `Agent` on the
simulated kernel through the JSON encoding the real channel uses, so the reader is checked
against the contract of `sources/base.py` without a subprocess; and an agent that answers
nonsense costs a `protocol` HostError, never a wrong value. Over a real pipe:
tests/real/test_agent_real.py."""

from __future__ import annotations

import json

import pytest

from ctrtui.agent.lines import encode
from ctrtui.agent.ops import Agent
from ctrtui.remote import HostError, RemoteOpError, RemoteReader
from ctrtui.sources.base import Reader, contract_problems, protocol_problems
from ctrtui.sources.demo import demo_world
from tests.hostfakes import AgentChannel


@pytest.fixture
def world():
    return demo_world()


@pytest.fixture
def reader(world):
    return RemoteReader(AgentChannel(Agent(world), "sim"))  # type: ignore[arg-type]


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
    *[("cgroup_state", {"hierarchy": "freezer", "path": "/", "version": 1, "cgroup_type": None,
                        "subtree_control": [], "cpuset_cpus": None, "cpuset_mems": None, "freezer_state": None,
                        "writable": [], **bad}) for bad in ({"self_frozen": 1}, {"cgroup_id": -1},
                                                           {"cgroup_id": 2 ** 64}, {"cgroup_id": "7"})],
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
        assert e.value.kind == "protocol"
        assert ("longer than" if "x" * 100 in str(bad) else "cgroup_stats names a file") in str(e.value)
    reader.channel.override["cgroup_stats"] = {"cpu.pressure": "some avg10=1.00", "/proc/meminfo": "MemTotal: 1 kB"}
    assert reader.cgroup_stats("unified", "/") == {"cpu.pressure": "some avg10=1.00", "/proc/meminfo": "MemTotal: 1 kB"}


def test_a_figures_only_read_travels_to_the_agent_and_is_held_to_its_names(reader, world):
    """`cgroup_stats(h, p, FIGURE_FILES)` sends the names (the host reads only those files);
    a file in the answer that was not asked for is the host's protocol error."""
    from ctrtui.model.cgstats import FIGURE_FILES

    world.clock = lambda: 1000.0  # the same CPU time for both reads
    path = next(p for p in world.snapshot(["unified"])["unified"].containers if p.count("/") == 2)
    got = reader.cgroup_stats("unified", path, FIGURE_FILES)
    assert got and got == world.cgroup_stats("unified", path, FIGURE_FILES) and "cgroup.type" not in got
    assert reader.channel.calls[-1][1]["names"] == sorted(FIGURE_FILES)
    assert "cgroup.type" in reader.cgroup_stats("unified", path)  # no names: every file, as before
    reader.channel.override["cgroup_stats"] = {"cpu.stat": "usage_usec 1", "cgroup.type": "domain"}
    with pytest.raises(HostError) as e:
        reader.cgroup_stats("unified", path, FIGURE_FILES)
    assert e.value.kind == "protocol" and "not asked for" in str(e.value)


def test_an_agent_without_names_is_asked_once_and_its_files_kept_here(reader, world):
    """An agent of another build that refuses `names` ("takes no argument 'names'") is asked
    for every file, and the reader keeps those asked for; it is not asked with names again."""
    from ctrtui.model.cgstats import FIGURE_FILES

    world.clock = lambda: 1000.0
    path = next(p for p in world.snapshot(["unified"])["unified"].containers if p.count("/") == 2)
    ch = reader.channel
    answer = ch.call

    def older(op, args=None, *, timeout=None):
        if op == "cgroup_stats" and "names" in (args or {}):
            ch.calls.append((op, dict(args)))
            raise RemoteOpError(ch.name, op, "bad-request", "'cgroup_stats' takes no argument 'names' (it takes: ...)")
        return answer(op, args, timeout=timeout)

    ch.call = older
    want = world.cgroup_stats("unified", path, FIGURE_FILES)
    assert reader.cgroup_stats("unified", path, FIGURE_FILES) == want and "cgroup.type" not in want
    assert reader.cgroup_stats("unified", path, FIGURE_FILES) == want
    assert [("names" in a) for op, a in ch.calls if op == "cgroup_stats"] == [True, False, False]


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


def _task(world, **change):
    pid = world.snapshot()["freezer"]["/"].procs[0]
    answer = json.loads(encode(Agent(world).handle(1, "task_details", {"pids": [pid]})))["result"]
    return {str(pid): {**answer[str(pid)], **change}}


HOSTILE_NUMBERS = [
    ("task_details", {"rss": 10 ** 400}, "rss a 401-digit number"), ("task_details", {"rss": -1}, "rss -1"),
    ("task_details", {"uid": 2 ** 32}, "uid 4294967296"), ("task_details", {"start_time": 2 ** 63}, "start_time"),
    ("task_details", {"cpu_percent": float("inf")}, "cpu_percent is inf"),
    ("task_details", {"comm": "x" * 100000}, "comm is 100000 characters long"),
    ("hierarchies", None, "hierarchy_id beyond 32 bits"), ("cgroup_state", None, "version is 7"),
    ("cgroup_stats", {str(i): "1" for i in range(100)}, "more than 64 files"),
    ("cgroup_stats", {"memory.current": "9" * 100000}, "a text longer than"),
    ("pid_max", 10 ** 400, "pid_max is a 401-digit number"),
]


@pytest.mark.parametrize(("op", "change", "words"), HOSTILE_NUMBERS,
                         ids=[f"{op}-{i}" for i, (op, _, _) in enumerate(HOSTILE_NUMBERS)])
def test_numbers_and_texts_no_host_can_have_are_a_protocol_error(reader, world, op, change, words):
    """A value becomes a model value only within what a kernel can give (issue 16: an rss of
    10**400 crashed the UI's row drawing); the sentence names it in a few characters."""
    if op == "task_details":
        reader.channel.override[op] = _task(world, **change)
    elif op == "hierarchies":
        reader.channel.override[op] = [{"name": "x", "version": 1, "controllers": [], "mount": "/", "root": "/",
                                        "hierarchy_id": 2 ** 40}]
    elif op == "cgroup_state":
        reader.channel.override[op] = {"hierarchy": "freezer", "path": "/", "version": 7, "cgroup_type": None,
                                       "subtree_control": [], "cpuset_cpus": None, "cpuset_mems": None,
                                       "freezer_state": None, "writable": []}
    else:
        reader.channel.override[op] = change
    calls = {"task_details": lambda: reader.task_details([1]), "hierarchies": reader.hierarchies,
             "cgroup_state": lambda: reader.cgroup_state("freezer", "/"), "pid_max": lambda: reader.pid_max,
             "cgroup_stats": lambda: reader.cgroup_stats("freezer", "/")}
    with pytest.raises(HostError) as e:
        calls[op]()
    assert e.value.kind == "protocol" and words in str(e.value) and len(str(e.value)) < 300
