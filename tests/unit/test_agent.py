"""The agent's side of the remote protocol, in-process on the simulated kernel: every request is
checked (one error answer each, and the agent goes on), snapshots go whole then as deltas, the
`cli` op refuses what it must before anything runs, and the bundle that travels imports nothing
third-party. The agent over a real pipe, on real cgroups and under Python 3.9, is in
tests/real/test_agent_real.py."""

from __future__ import annotations

import ast
import base64
import io
import json

import pytest

from ctrtui.agent.lines import encode
from ctrtui.agent.loop import MAX_LINE, serve
from ctrtui.agent.ops import Agent
from ctrtui.model.wire import apply_wire_delta, from_wire
from ctrtui.service import PROTOCOL
from ctrtui.sources.demo import demo_world


def talk(lines: list[bytes | str | dict], agent: Agent | None = None) -> list[dict]:
    """Feed `lines` to `serve` (no isolation) and return every line it wrote, decoded."""
    raw = b"".join(x if isinstance(x, bytes) else (x if isinstance(x, str) else json.dumps(x)).encode() + b"\n"
                   for x in lines)
    out = io.BytesIO()
    rc = serve(io.BytesIO(raw), out, isolate=False, agent=agent or Agent(demo_world()))
    assert rc == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_hello_first_then_answers_in_order_and_stops_at_eof():
    got = talk([{"id": 1, "op": "pid_max"}, {"id": 2, "op": "hierarchies"}])
    hello, a1, a2 = got
    assert hello["protocol"] == PROTOCOL and type(hello["euid"]) is int and "writable" in hello
    assert a1 == {"id": 1, "ok": True, "result": demo_world().pid_max}
    assert a2["id"] == 2 and [h["name"] for h in a2["result"]] == [h.name for h in demo_world().hierarchies()]


def test_bye_ends_the_loop_without_reading_further():
    got = talk([{"id": 1, "op": "bye"}, {"id": 2, "op": "pid_max"}])
    assert got[1:] == [{"id": 1, "ok": True, "result": None}]


BAD = [
    (b"this is not json\n", None, "protocol"),
    (b"\xff\xfe\n", None, "protocol"),
    (b"[1, 2]\n", None, "protocol"),
    (b"[" * 200_000 + b"]" * 200_000 + b"\n", None, "protocol"),
    (b'{"id": 1e400, "op": "pid_max"}\n', None, "protocol"),
    (b'{"id": ' + b"9" * 5000 + b', "op": "pid_max"}\n', None, "protocol"),
    (b'{"id": 1, "op": "pid_max", "args": {}, "x": NaN}\n', None, "protocol"),
    ({"op": "pid_max"}, None, "protocol"),
    ({"id": "7", "op": "pid_max"}, None, "protocol"),
    ({"id": True, "op": "pid_max"}, None, "protocol"),
    ({"id": 3, "op": "pid_max", "extra": 1}, 3, "bad-request"),
    ({"id": 4, "op": "format_disk"}, 4, "bad-request"),
    ({"id": 5, "op": ["pid_max"]}, 5, "bad-request"),
    ({"id": 6, "op": "pid_max", "args": {"x": 1}}, 6, "bad-request"),
    ({"id": 7, "op": "pid_max", "args": [1]}, 7, "bad-request"),
    ({"id": 8, "op": "task_state", "args": {"pid": "1"}}, 8, "bad-request"),
    ({"id": 9, "op": "task_state", "args": {"pid": 10 ** 12}}, 9, "bad-request"),
    ({"id": 10, "op": "task_state", "args": {"pid": 0}}, 10, "bad-request"),
    ({"id": 11, "op": "task_state", "args": {"pid": -5}}, 11, "bad-request"),
    ({"id": 12, "op": "task_state", "args": {"pid": True}}, 12, "bad-request"),
    ({"id": 13, "op": "task_details", "args": {"pids": [1, 2, 99999999]}}, 13, "bad-request"),
    ({"id": 14, "op": "task_state", "args": {}}, 14, "bad-request"),
    ({"id": 15, "op": "cgroup_state", "args": {"hierarchy": "freezer", "path": "/../../etc"}}, 15, "bad-request"),
    ({"id": 16, "op": "cgroup_state", "args": {"hierarchy": "freezer", "path": "relative"}}, 16, "bad-request"),
    ({"id": 17, "op": "cgroup_stats", "args": {"hierarchy": "freezer", "path": "/a/./b"}}, 17, "bad-request"),
    ({"id": 17, "op": "cgroup_stats", "args": {"hierarchy": "freezer", "path": "/", "names": "cpu.stat"}}, 17,
     "bad-request"),
    ({"id": 17, "op": "cgroup_stats", "args": {"hierarchy": "freezer", "path": "/", "names": ["x"] * 65}}, 17,
     "bad-request"),
    ({"id": 18, "op": "read_cgroups", "args": {"hierarchy": "freezer", "paths": ["/", "/x/.."]}}, 18, "bad-request"),
    ({"id": 19, "op": "read_cgroups", "args": {"hierarchy": "../freezer", "paths": ["/"]}}, 19, "bad-request"),
    ({"id": 20, "op": "cgroup_state", "args": {"hierarchy": "freezer", "path": "/a\u0000b"}}, 20, "bad-request"),
    ({"id": 21, "op": "snapshot", "args": {"subtree": "/.."}}, 21, "bad-request"),
    ({"id": 22, "op": "snapshot", "args": {"base": "1"}}, 22, "bad-request"),
    ({"id": 23, "op": "snapshot", "args": {"names": "freezer"}}, 23, "bad-request"),
    ({"id": 24, "op": "cgroup_state", "args": {"hierarchy": "nosuch", "path": "/"}}, 24, "not-found"),
    # protocol 1's `cli` op is gone: an older local side asking it gets one sentence, the agent goes on
    ({"id": 25, "op": "cli", "args": {"command": "ls", "options": {}}}, 25, "bad-request"),
    ({"id": 26, "op": "plan", "args": {"pids": ["0x10"], "target": {"hierarchy": "freezer", "path": "/"}}},
     26, "bad-request"),
    ({"id": 27, "op": "plan", "args": {"pids": [1], "target": {"hierarchy": "freezer", "path": "/a/../.."}}},
     27, "bad-request"),
    ({"id": 28, "op": "log", "args": {"limit": 2.5}}, 28, "bad-request"),
    ({"id": 29, "op": "undo", "args": {"batch": "x" * 1000}}, 29, "bad-request"),
    ({"id": 30, "op": "stats", "args": {"walks": {"freezer": ["/"]}, "interval": 1e9}}, 30, "bad-request"),
    ({"id": 31, "op": "cgroup_op", "args": {"op": "mkdir", "cgroup": {"hierarchy": "nosuch", "path": "/x"}}},
     31, "not-found"),
    ({"id": 32, "op": "apply", "args": {"plan": {}}, "x": 1}, 32, "bad-request"),
]


@pytest.mark.parametrize(("line", "rid", "kind"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_each_bad_request_gets_one_error_and_the_agent_goes_on(line, rid, kind):
    got = talk([line, {"id": 99, "op": "pid_max"}])
    assert len(got) == 3, got  # hello, one error, the next answer
    err = got[1]
    assert err["id"] == rid and err["ok"] is False and err["error"]["kind"] == kind, err
    message = err["error"]["message"]
    assert isinstance(message, str) and message and "\n" not in message and "Traceback" not in message
    assert got[2] == {"id": 99, "ok": True, "result": demo_world().pid_max}


def test_an_over_long_line_is_one_protocol_error(monkeypatch):
    monkeypatch.setattr("ctrtui.agent.loop.MAX_LINE", 1000)
    got = talk([b"x" * 5000 + b"\n", {"id": 1, "op": "pid_max"}])
    assert got[1]["error"]["kind"] == "protocol" and "longer than 1000" in got[1]["error"]["message"]
    assert got[2]["ok"] is True
    assert MAX_LINE == 256 * 1024 * 1024


def test_snapshot_whole_then_delta_against_the_named_base_else_whole():
    world = demo_world()
    agent = Agent(world)
    first = agent.handle(1, "snapshot", {})["result"]
    base = from_wire(base64.b64decode(first["full"]))
    assert [h.name for h in base.hierarchies] == [h.name for h in world.hierarchies()]
    pid = world.spawn("newcomer")
    second = agent.handle(2, "snapshot", {"base": first["token"]})["result"]
    assert "delta" in second and "full" not in second and second["token"] != first["token"]
    new = apply_wire_delta(base, base64.b64decode(second["delta"]))
    def has(snap):
        return any(pid in c.procs for hs in snap.hierarchies for c in hs.containers.values())

    assert has(new) and not has(base)
    assert len(second["delta"]) < len(first["full"]) / 3  # one cgroup changed per hierarchy, not all of them
    # a base the agent does not hold (an old token): a whole snapshot again
    third = agent.handle(3, "snapshot", {"base": first["token"]})["result"]
    assert "full" in third and "delta" not in third


def test_reader_ops_answer_like_the_backend():
    world = demo_world()
    agent = Agent(world)
    pid = next(iter(world.snapshot(["freezer"])["freezer"]["/"].procs))
    t = agent.handle(1, "task_state", {"pid": pid})["result"]
    assert t["pid"] == pid and t == world.task_state(pid).to_dict()
    assert agent.handle(2, "task_cgroup", {"pid": pid, "hierarchy": "freezer"})["result"] == "/"
    assert agent.handle(3, "task_cgroups", {"pid": pid})["result"] == world.task_cgroups(pid)
    got = agent.handle(4, "read_cgroups", {"hierarchy": "freezer", "paths": ["/", "/no-such"]})["result"]
    assert got["/no-such"] is None and got["/"]["procs"] == world.read_cgroups("freezer", ["/"])["/"].procs.tolist()
    state = agent.handle(5, "cgroup_state", {"hierarchy": "freezer", "path": "/"})["result"]
    assert state["hierarchy"] == "freezer" and isinstance(state["writable"], list)
    assert agent.handle(6, "task_state", {"pid": world.pid_max - 1})["result"] is None


def test_the_cli_op_of_protocol_1_is_one_unknown_op_naming_the_service_calls():
    err = Agent(demo_world()).handle(1, "cli", {"command": "ls", "options": {}})["error"]
    assert err["kind"] == "bad-request" and err["message"].startswith("unknown op 'cli' (known: ")
    known = err["message"].partition("(known: ")[2].rstrip(")").split(", ")
    assert {"plan", "apply", "undo", "log", "cgroup_op", "stats", "snapshot", "bye"} <= set(known)


def test_encode_is_one_ascii_line_even_for_non_utf8_names():
    line = encode({"path": "/a\udcffb\x1b[2J"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line.isascii()
    assert json.loads(line)["path"] == "/a\udcffb\x1b[2J"


# ----------------------------------------------------------------------------- the bundle

THIRD_PARTY = ("textual", "rich", "psutil", "argcomplete")


def _imports(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
    return out


def test_the_bundle_imports_nothing_third_party_and_is_complete():
    import sys
    import zlib

    from ctrtui.remote.bundle import bundle

    b = bundle()
    sources = json.loads(zlib.decompress(b.data))
    assert set(sources) == set(b.modules) and "ctrtui.agent" in sources and "ctrtui.agent.ops" in sources
    stays = ("ctrtui.sources.simulated", "ctrtui.ui", "ctrtui.remote", "ctrtui.cli.completion",
             "ctrtui.cli.hosts", "ctrtui.cli.entry")
    assert not [m for m in sources if m.startswith(stays)]
    stdlib = sys.stdlib_module_names
    for name, src in sources.items():
        tree = ast.parse(src, name)
        for imported in _imports(tree):
            top = imported.split(".")[0]
            assert top not in THIRD_PARTY, f"{name} imports {imported}"
            assert top == "ctrtui" or top in stdlib or top == "__future__", f"{name} imports {imported}"
        # what a module imports when it is loaded (its top level) travels with it
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ctrtui"):
                assert node.module in sources, f"{name} needs {node.module} at import"
    assert bundle() is b  # built once per process


NEVER_ON_A_HOST = {
    # the history commands and `ls/tasks --at` (the agent's `cli` op takes neither)
    "ctrtui.cli.history", "ctrtui.history", "ctrtui.history.query", "ctrtui.history.reader",
    "ctrtui.history.replay",
    # the simulated worlds of `--demo` (refused with hosts)
    "ctrtui.sources.demo", "ctrtui.sources.hostile",
}


def _source_of(module: str) -> str:
    import zlib

    from ctrtui.remote.bundle import bundle

    return str(json.loads(zlib.decompress(bundle().data))[module])


def test_the_import_contract_checks_exactly_what_travels():
    """pyproject's contract on what travels names the modules `ctrtui.remote.bundle` sends
    (TRAVELLING less EXCLUDED), no more and no fewer: the list is the bundle's, and the
    contract is held to it."""
    import tomllib
    from pathlib import Path

    from ctrtui.remote.bundle import EXCLUDED, bundle

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("what travels")]
    checked = contract["source_modules"]
    sent = set(bundle().modules) - {"ctrtui"}

    def covered(module: str) -> bool:
        return any(module == c or module.startswith(c + ".") for c in checked)

    # a package whose modules are checked one by one (ctrtui.cli) sends its __init__ too: it
    # must import nothing, so that the contract leaves nothing unchecked
    parents = {m for m in sent if not covered(m) and any(c.startswith(m + ".") for c in checked)}
    for m in parents:
        tree = ast.parse(_source_of(m))
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))], m
    assert [m for m in sorted(sent - parents) if not covered(m)] == []
    assert [c for c in checked if not any(m == c or m.startswith(c + ".") for m in sent)] == []
    # what a checked package holds but does not send is only what EXCLUDED names
    import ctrtui

    root = Path(ctrtui.__file__).parent
    held = {f"ctrtui.{'.'.join(f.relative_to(root).with_suffix('').parts)}".removesuffix(".__init__")
            for f in root.rglob("*.py")}
    left_here = {m for m in held if covered(m)} - sent
    assert [m for m in sorted(left_here) if not any(m == e or m.startswith(e + ".") for e in EXCLUDED)] == []


def test_what_the_bundle_imports_inside_functions_travels_too():
    """An import inside a function runs on the host when that function does: every module of
    ours a travelling module imports anywhere travels, or is one the agent never reaches."""
    import zlib

    from ctrtui.remote.bundle import bundle

    sources = json.loads(zlib.decompress(bundle().data))
    missing = set()
    for name, src in sources.items():
        for node in ast.walk(ast.parse(src, name)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ctrtui"):
                wanted = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                if not any(m in sources for m in wanted) and node.module not in NEVER_ON_A_HOST:
                    missing.add((name, node.module))
            elif isinstance(node, ast.Import):
                missing |= {(name, a.name) for a in node.names if a.name.startswith("ctrtui")
                            and a.name not in sources and a.name not in NEVER_ON_A_HOST}
    assert not missing, sorted(missing)


def test_hostile_names_come_back_exactly_and_the_answers_stay_one_ascii_line():
    from ctrtui.sources.hostile import hostile_world

    world = hostile_world()
    agent = Agent(world)
    answer = agent.handle(1, "snapshot", {})
    line = encode(answer)
    assert line.isascii() and line.count(b"\n") == 1
    snap = from_wire(base64.b64decode(json.loads(line)["result"]["full"]))
    want = world.snapshot()
    assert [list(hs.containers) for hs in snap.hierarchies] == [list(hs.containers) for hs in want.hierarchies]
    names = [p for hs in want.hierarchies for p in hs.containers if "\x1b" in p or "\udcff" in p]
    assert names
    got = agent.handle(2, "read_cgroups", {"hierarchy": "freezer", "paths": names[:3]})
    assert json.loads(encode(got))["result"].keys() == set(names[:3])


def test_a_refresh_of_the_10k_cgroup_world_sends_a_diff_not_the_tree():
    """Issue 11's figure, in bytes on the wire (answer lines as sent): the generated world of
    10,000 cgroups and 100,000 tasks, whole, then unchanged, then after 1% of its tasks moved."""
    from ctrtui.sources.demo import generate_world

    world = generate_world()
    agent = Agent(world)
    full = agent.handle(1, "snapshot", {})
    unchanged = agent.handle(2, "snapshot", {"base": full["result"]["token"]})
    world.churn(0.01, seed=1)
    churned = agent.handle(3, "snapshot", {"base": unchanged["result"]["token"]})
    sizes = [len(encode(a)) for a in (full, unchanged, churned)]
    assert "delta" in unchanged["result"] and "delta" in churned["result"]
    assert sizes[0] > 500_000 and sizes[1] < 1_000 and sizes[2] < sizes[0] / 5, sizes


def test_a_bug_costs_one_internal_answer_and_the_agent_goes_on(monkeypatch):
    from ctrtui.service.local import LocalService

    def broken(self, limit=None):
        raise RuntimeError("oops \x1b[2J")

    monkeypatch.setattr(LocalService, "log", broken)
    got = talk([{"id": 1, "op": "log", "args": {}}, {"id": 2, "op": "pid_max"}])
    assert got[1]["error"]["kind"] == "internal" and "RuntimeError" in got[1]["error"]["message"]
    assert got[2]["ok"] is True


def test_the_hello_lists_the_batches_the_hosts_journal_holds_open(tmp_path):
    """What a dropped connection left open is in the first line the next contact reads;
    nothing while another ctrtui holds the journal (its batch is at work, not left open)."""
    import fcntl
    import os

    from ctrtui.agent.lines import open_batches
    from ctrtui.engine.journal import Journal

    path = str(tmp_path / "journal.jsonl")
    assert open_batches(path) == ([], None)  # no journal yet
    j = Journal(path)
    with j.locked():
        j.write_intent("20261130T080000-aaaaaa", "freezer", False, None, "/a",
                       [{"pid": 10, "start_time": 5, "to": "/a"}])
        j.write_close("20261130T080000-aaaaaa", [], "done")
        j.write_intent("20261130T080001-bbbbbb", "freezer", True, None, "/b",
                       [{"pid": 11, "start_time": 6, "to": "/b"}, {"pid": 12, "start_time": 7, "to": "/b"}])
        assert open_batches(path) == ([], None)  # held by a writer: at work
    found, problem = open_batches(path)
    assert problem is None
    assert found == [{"batch": "20261130T080001-bbbbbb", "time": found[0]["time"], "op": "move",
                      "hierarchy": "freezer", "target": "/b", "tasks": 2, "undo_of": None}]
    fd = os.open(path, os.O_RDONLY)  # the journal file itself is what a writer locks
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert open_batches(path) == ([], None)  # another process's batch in progress
    finally:
        os.close(fd)
    with open(path, "ab") as f:
        f.write(b'{"kind": "intent", "batch": 3}\n')
    found, problem = open_batches(path)
    assert found == [] and problem and "could not be read" in problem
