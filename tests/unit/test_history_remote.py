"""A host's recording through the agent (ctrtui/agent/historycalls.py, ctrtui/service/
recordings.py, ctrtui/service/historycodec.py, ctrtui/service/servedrecording.py): each
history call in-process against an `Agent` through the protocol's JSON, answering what the
local recording answers; the recorder run by the agent (closed at EOF: no torn tail, the lock
let go); hostile names crossing escaped; bad requests and malformed answers refused; the
command line's `record`/`where`/`diff`/`ls --at`/`tasks --at --host` on fake hosts, and
`replay --host` in the UI (Pilot). Through real sshd: tests/real/test_history_real.py."""

from __future__ import annotations

import base64
import io
import json
import os
import time
from datetime import datetime

import pytest

from ctrtui.agent.lines import encode
from ctrtui.agent.loop import serve
from ctrtui.agent.ops import Agent
from ctrtui.cli import hosts as clihosts
from ctrtui.errors import CtrtuiError
from ctrtui.history import HistoryError, Recorder, Recording
from ctrtui.history.query import diff_rows
from ctrtui.history.replay import RecordedBackend
from ctrtui.remote import HostError, RemoteOpError
from ctrtui.remote.service import RemoteService
from ctrtui.service.codec import CodecError
from ctrtui.service.historycodec import decode_diff, decode_sample, decode_timeline, decode_where
from ctrtui.service.local import LocalService
from ctrtui.service.servedrecording import ServedRecording
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.hostfakes import AgentChannel
from tests.unit.test_history import T0, small_world, take
from tests.unit.test_history_replay import _record_churn


def _remote(k) -> tuple[RemoteService, AgentChannel]:
    ch = AgentChannel(Agent(k))
    return RemoteService(ch), ch  # type: ignore[arg-type]


def _same_snapshot(a, b) -> bool:
    return [(hs.name, {p: (list(c.threads), list(c.procs), c.children) for p, c in hs.containers.items()})
            for hs in a.hierarchies] == [(hs.name, {p: (list(c.threads), list(c.procs), c.children)
                                                   for p, c in hs.containers.items()}) for hs in b.hierarchies]


def test_a_hosts_recording_read_through_the_agent_answers_what_the_recording_does(tmp_path):
    """Every step of a replay (forward, back, jumps) and `ls --at`'s sample, `where` and `diff`
    through the protocol equal what the recording itself answers on the host."""
    d = str(tmp_path / "h")
    times, seen = _record_churn(d)
    service, ch = _remote(small_world())
    local = RecordedBackend(Recording(d))
    served = ServedRecording(service, d, identity="ssh://beta")
    assert served.sample_times() == local.sample_times() == times
    assert served.batches() == local.batches()
    for step in (-1, -1, -5, 3, 1, -7, 20):
        assert served.step(step) == local.step(step)
        assert served.taken_at == local.taken_at
        assert _same_snapshot(served.snapshot(), local.snapshot())
        tids = sorted(seen[times.index(local.taken_at)]["facts"])
        assert {t: i.to_dict() for t, i in served.task_details(tids).items()} == \
            {t: i.to_dict() for t, i in local.task_details(tids).items()}
        assert all(served.task_cgroups(t) == local.task_cgroups(t) for t in tids)
    for at in (times[4] + 1, times[0], times[-1] + 100):
        assert served.jump(at) == local.jump(at)
        assert _same_snapshot(served.snapshot(), local.snapshot())
    with pytest.raises(HistoryError):
        served.jump(times[0] - 1)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(times[6]))
    assert served.time_of(iso) == times[6]
    rec = Recording(d)
    pid = next(iter(seen[5]["facts"]))
    assert service.history_where(pid, source=d) == json.loads(json.dumps(rec.where(pid)))
    assert service.history_diff(iso, "now", d) == diff_rows(rec, times[6], time.time())
    sample = service.history_sample(d, at=iso)
    assert (sample.index, sample.count, sample.taken_at) == (6, len(times), times[6])
    with pytest.raises(CtrtuiError, match="no sample 99"):  # the host's HistoryError: its sentence here
        service.history_sample(d, index=99)
    with pytest.raises(CtrtuiError, match="give an ISO 8601 time"):
        service.history_where(pid, since="soon", source=d)


def test_the_agent_records_on_its_host_and_closes_the_file_when_the_connection_goes(tmp_path, monkeypatch):
    """`record --host`'s calls: the recorder runs in the agent (the host's default place, or
    `directory`), one sample a request; at EOF the agent closes it: the lock is let go (another
    recorder may open the directory) and the file reads back whole, no torn tail."""
    k = small_world()
    pid = k.spawn("job", cgroups={"freezer": "/a"})
    service, _ = _remote(k)
    d = str(tmp_path / "rec")
    state = service.recorder_open(d, 1 << 20, 2, ["freezer"], None)
    assert (state.directory, state.samples) == (d, 0)
    with pytest.raises(CtrtuiError, match="running already"):
        service.recorder_open(d, 1 << 20, 2)
    service.recorder_sample()
    k.place(pid, "freezer", "/b")
    state = service.recorder_sample()
    assert state.samples == 2 and state.bytes_written > 0
    assert [r["cgroup"] for r in service.history_where(pid, source=d)] == ["/a", "/b"]
    assert service.recorder_close().samples == 2 and service.recorder_close() is None
    with pytest.raises(CtrtuiError, match="no recorder is running"):
        service.recorder_sample()

    # through the agent's loop: opened, one sample, then EOF (no close asked)
    lines = [{"id": 1, "op": "recorder_open", "args": {"max_size": 1 << 20, "full_every": 5}},
             {"id": 2, "op": "recorder_sample", "args": {}}]
    out = io.BytesIO()
    agent = Agent(k)
    assert serve(io.BytesIO(b"".join(encode(x) for x in lines)), out, isolate=False, agent=agent) == 0
    answers = [json.loads(x) for x in out.getvalue().splitlines()[1:]]
    assert [a["ok"] for a in answers] == [True, True]
    place = answers[0]["result"]["directory"]
    assert place.startswith(os.environ["XDG_STATE_HOME"])  # the host user's state dir
    with Recorder(place, fsync=False):  # the lock was let go
        pass
    again = Recording(place)
    assert again.warnings == [] and len(again.times) == 1


def test_hostile_names_in_a_hosts_recording_cross_exactly_and_print_escaped(tmp_path, capsys, monkeypatch):
    k = small_world()
    bad = "/evil\x1b[31m\udcff[b]"
    k.mkdir("unified", bad)
    pid = k.spawn("\x1b]0;pwn\x07", cgroups={"unified": bad})
    d = str(tmp_path / "h")
    with Recorder(d, fsync=False) as rec:
        take(rec, k, T0)
        k.mkdir("unified", bad + "/x\n")
        k.place(pid, "unified", bad + "/x\n")
        take(rec, k, T0 + 5)
    service, _ = _remote(k)
    rows = service.history_where(pid, source=d)
    assert [r["cgroup"] for r in rows if r["hierarchy"] == "unified"] == [bad, bad + "/x\n"]
    served = ServedRecording(service, d)
    assert served.task_state(pid).comm == "\x1b]0;pwn\x07"
    assert list(served.snapshot()["unified"][bad + "/x\n"].threads) == [pid]
    monkeypatch.setattr(clihosts, "CONNECT", lambda spec, options: AgentChannel(Agent(k), spec.name))
    rc, out, err = run(capsys, "where", str(pid), "--from", d, "--host", "beta")
    assert rc == 0 and "\x1b" not in out + err and "unified:/evil\\x1b[31m\\xff[b]/x\\x0a" in out
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 6))
    rc, out, err = run(capsys, "tasks", "unified:/evil\\x1b[31m\\xff[b]/x\\x0a", "--at", at, "--from", d,
                       "--host", "beta")
    assert rc == 0 and "\\x1b]0;pwn\\x07" in out and "\x1b" not in out + err
    rc, out, err = run(capsys, "diff", "--host", "beta", "--host", "gamma", "--from", d, at,
                       time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0)))
    assert rc == 0 and "beta: task-moved" in out and "gamma: task-moved" in out and "\x1b" not in out


def test_record_where_ls_and_diff_on_a_host_from_the_command_line(tmp_path, capsys, monkeypatch):
    k = small_world()
    pid = k.spawn("job", cgroups={"freezer": "/a"})
    agent = Agent(k)
    made = []

    def connect(spec, options):
        made.append(AgentChannel(agent, spec.name))
        return made[-1]

    monkeypatch.setattr(clihosts, "CONNECT", connect)
    rc, out, err = run(capsys, "record", "--host", "beta", "--samples", "2", "--interval", "0.05",
                       "--hierarchy", "freezer")
    assert rc == 0 and out.startswith("recorded 2 samples (") and out.rstrip().endswith("on beta")
    assert "recording on beta into " in err and made[-1].ops[-1] == "recorder_close" and made[-1].closed
    place = out.split(" into ")[1].rsplit(" on beta", 1)[0]
    assert Recording(place).times  # on the host (here: the agent's XDG_STATE_HOME)
    k.place(pid, "freezer", "/c")
    rc, out, _ = run(capsys, "record", "--host", "beta", "--samples", "1", "--json")
    assert rc == 0 and json.loads(out)["samples"] == 1 and json.loads(out)["host"] == "beta"
    rc, out, _ = run(capsys, "where", "--host", "beta", str(pid), "--json")
    assert rc == 0 and [r["cgroup"] for r in json.loads(out) if r["hierarchy"] == "freezer"] == ["/a", "/c"]
    rc, out, _ = run(capsys, "where", "--host", "beta", "--host", "gamma", str(pid))
    assert rc == 0 and out.splitlines()[0].startswith("HOST   ENTERED")
    assert out.count("\nbeta ") == out.count("\ngamma ") >= 2
    rc, out, _ = run(capsys, "ls", "--host", "beta", "--at", "now", "freezer:/")
    assert rc == 0 and "freezer:/" in out
    ts = Recording(place).times
    first = datetime.fromtimestamp((ts[0] + ts[1]) / 2).isoformat()  # the first sample (not rounded below it)
    rc, out, _ = run(capsys, "diff", "--host", "beta", "--json", first, "now")
    assert rc == 0 and {"hierarchy": "freezer", "change": "task-moved", "pid": pid, "from": "/a", "to": "/c"} \
        in json.loads(out)
    rc, _, err = run(capsys, "record", "--host", "beta", "--host", "gamma", "--samples", "1")
    assert rc == 2 and "`record` takes one host" in err
    rc, _, err = run(capsys, "where", "--host", "beta", "0")
    assert rc == 2 and "give a number between 1" in err
    rc, _, err = run(capsys, "where", "--host", "beta", "1", "--from", str(tmp_path / "none"))
    assert rc == 2 and "no recording at" in err and "Traceback" not in err


@pytest.mark.parametrize(("op", "args"), [
    ("history_sample", {"at": "now", "index": 0}),
    ("history_sample", {"index": -1}),
    ("history_sample", {"at": "x" * 201}),
    ("history_sample", {"source": ""}),
    ("history_sample", {"source": "/a\0b"}),
    ("history_where", {"pid": 0}),
    ("history_where", {"pid": "12"}),
    ("history_where", {}),
    ("history_diff", {"t1": "now"}),
    ("history_diff", {"t1": 1, "t2": "now"}),
    ("history_timeline", {"source": 5}),
    ("recorder_open", {"max_size": 1024, "full_every": 1}),
    ("recorder_open", {"max_size": 1 << 20, "full_every": 0}),
    ("recorder_open", {"max_size": 1 << 20, "full_every": 1, "subtree": "/a/.."}),
    ("recorder_sample", {"now": True}),
])
def test_malformed_history_calls_are_one_bad_request(op, args):
    answer = Agent(small_world()).handle(1, op, args)
    assert answer["ok"] is False and answer["error"]["kind"] == "bad-request"  # type: ignore[index]


def _sample_answer(tmp_path) -> dict:
    d = str(tmp_path / "h")
    _record_churn(d)
    return Agent(small_world()).handle(1, "history_sample", {"source": d})["result"]  # type: ignore[return-value]


@pytest.mark.parametrize(("change", "words"), [
    ({"index": 99}, "'index' 99, outside"),
    ({"count": 0}, "'count' 0, outside"),
    ({"tids": [1, 2]}, "'starts' for 2 tasks"),
    ({"snapshot": "not base64!"}, "snapshot that cannot be read"),
    ({"snapshot": base64.b64encode(b"\x00" * 40).decode()}, "snapshot that cannot be read"),
    ({"comms": None}, "'comms' null"),
    ({"taken_at": float("inf")}, "beyond 64 bits"),
])
def test_a_malformed_sample_is_one_protocol_error_naming_the_host(tmp_path, change, words):
    good = _sample_answer(tmp_path)
    service, ch = _remote(small_world())
    ch.override["history_sample"] = {**good, **change}
    with pytest.raises(HostError) as e:
        service.history_sample(str(tmp_path / "h"))
    assert e.value.kind == "protocol" and e.value.host == "beta" and words in str(e.value)


def test_malformed_rows_and_time_lines_are_refused():
    side = "the host"
    with pytest.raises(CodecError, match="not in order"):
        decode_timeline({"times": [2.0, 1.0], "batches": []}, side)
    batch = {"batch": "b", "time": 1.0, "hierarchy": None, "target": None, "undo_of": None, "op": None,
             "state": None}
    for pids in ([[1]], {"pid": [1], "start": [None], "from": ["/a"]},  # a row each, or a column short
                 {"pid": [1, 2], "start": [None], "from": ["/a"], "to": ["/b"]}):
        with pytest.raises(CodecError, match="pids"):
            decode_timeline({"times": [1.0], "batches": [{**batch, "pids": pids}]}, side)
    with pytest.raises(CodecError, match="not an absolute cgroup path"):
        decode_timeline({"times": [1.0], "batches": [{**batch, "pids": {"pid": [1], "start": [None], "from": ["a"],
                                                                        "to": ["/b"]}}]}, side)
    ok = decode_timeline({"times": [1.0], "batches": [{**batch, "pids": {"pid": [7], "start": [5], "from": ["/a"],
                                                                         "to": [None]}}]}, side)
    assert ok.batches[0]["pids"] == [[7, 5, "/a", None]]
    with pytest.raises(CodecError, match="'cgroup'"):
        decode_where([{"hierarchy": "h", "cgroup": "relative", "pid": 1, "start_time": None, "entered": None,
                       "left": None, "batch": None, "left_batch": None}], side)
    def rows(**cols):
        return {"rows": {k: cols.get(k, [None]) for k in ("hierarchy", "change", "pid", "cgroup", "from", "to")}}

    with pytest.raises(CodecError, match="'change'"):
        decode_diff(rows(hierarchy=["h"], change=["rm -rf"]), side)
    with pytest.raises(CodecError, match="its rows"):
        decode_diff([{"hierarchy": "h", "change": "cgroup-added", "cgroup": "/a"}], side)  # rows, not columns
    with pytest.raises(CodecError, match="columns are not lists of one length"):
        decode_diff(rows(hierarchy=["h", "h"], change=["cgroup-added"], cgroup=["/a"]), side)
    with pytest.raises(CodecError, match="'pid'"):
        decode_diff(rows(hierarchy=["h"], change=["task-added"], pid=[0], cgroup=["/a"]), side)
    assert decode_diff(rows(hierarchy=["h"], change=["task-moved"], pid=[9], **{"from": ["/a"], "to": ["/b"]}),
                       side) == [{"hierarchy": "h", "change": "task-moved", "pid": 9, "from": "/a", "to": "/b"}]
    with pytest.raises(CodecError):
        decode_sample([], side)


def test_an_agent_without_the_history_calls_is_told_apart(monkeypatch):
    """An agent of protocol 3 never gets a history call (its hello's protocol stops the
    local side first: tests/unit/test_hostile_hosts.py); were one asked, its `unknown op`
    would be this host's `bad-request` HostError with the version hint."""
    service, ch = _remote(small_world())

    def old_agent(op, args=None, *, timeout=None):
        raise RemoteOpError("beta", op, "bad-request", f"unknown op '{op}' (known: apply, ...)", None)

    monkeypatch.setattr(ch, "call", old_agent)
    with pytest.raises(HostError) as e:
        service.history_timeline()
    assert e.value.kind == "bad-request" and "another ctrtui version" in e.value.hint


def test_the_local_service_answers_the_same_history_calls(tmp_path):
    d = str(tmp_path / "h")
    times, _ = _record_churn(d)
    service = LocalService(small_world())  # type: ignore[arg-type]
    assert service.history_timeline(d).times == tuple(times)
    assert service.history_sample(d, index=3).taken_at == times[3]
    assert service.history_sample(d).taken_at == times[-1]


def test_protocol_4_and_an_agent_of_protocol_3_meet_with_one_version_sentence(monkeypatch):
    """docs/remote.md, "Versioning": the history calls came with protocol 4. An agent of
    protocol 3 (no history calls) is never asked one: its hello stops this side with one
    sentence naming both protocols; a local side of protocol 3 meeting this agent the same."""
    import ctrtui.service
    from ctrtui import __version__
    from ctrtui.remote import AgentChannel
    from ctrtui.service import PROTOCOL
    from devtools.agentfakes import HELLO, fake_agent

    assert PROTOCOL == 4
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, "protocol": 3, "version": __version__}, "sys.stdin.read()\n"),
                          name="old", timeout=10)
    assert e.value.kind == "version" and "speaks protocol 3" in str(e.value) \
        and "this ctrtui speaks protocol 4" in str(e.value) and "remove ctrtui from the host" in str(e.value)
    monkeypatch.setattr(ctrtui.service, "PROTOCOL", 3)
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, "protocol": 4}, "sys.stdin.read()\n"), name="new", timeout=10)
    assert e.value.kind == "version" and "speaks protocol 4" in str(e.value) \
        and "this ctrtui speaks protocol 3" in str(e.value)


def test_a_diff_and_a_time_line_of_many_rows_cross_in_few_json_lists():
    """An answer may hold at most MAX_CONTAINERS lists and objects: a diff of more moved tasks
    than that, and a batch of that many PIDs, cross as columns and come back whole."""
    from ctrtui.remote.channel import MAX_CONTAINERS
    from ctrtui.service.historycodec import encode_diff, encode_timeline
    from ctrtui.service.values import Timeline

    n = MAX_CONTAINERS + 10
    rows = [{"hierarchy": "unified", "change": "task-moved", "pid": 1 + i, "from": "/a", "to": "/b"} for i in range(n)]
    text = json.dumps(encode_diff(rows))
    assert text.count("[") + text.count("{") < 16
    assert decode_diff(json.loads(text), "beta") == rows
    batch = {"batch": "b1", "time": 1.0, "hierarchy": "unified", "target": "/b", "undo_of": None, "op": "move",
             "state": "done", "pids": [[1 + i, 7, "/a", "/b"] for i in range(n)]}
    text = json.dumps(encode_timeline(Timeline((1.0,), (batch,))))
    assert text.count("[") + text.count("{") < 16
    assert decode_timeline(json.loads(text), "beta").batches == (batch,)


def test_what_reading_a_hosts_recording_passed_over_is_said_here(tmp_path, capsys, monkeypatch):
    """A torn tail the host's reader ignored is a warning here, as it is for a local recording,
    after `where`, `diff` and `ls --at` through --host; a hostile warning is printed scrubbed."""
    k = small_world()
    pid = k.spawn("job", cgroups={"freezer": "/a"})
    agent = Agent(k)
    channels: list[AgentChannel] = []

    def connect(spec, options):
        channels.append(AgentChannel(agent, spec.name))
        return channels[-1]

    monkeypatch.setattr(clihosts, "CONNECT", connect)
    rc, out, _ = run(capsys, "record", "--host", "beta", "--samples", "2", "--interval", "0.05", "--json")
    assert rc == 0
    place = json.loads(out)["directory"]
    with open(Recording(place).files[-1].path, "ab") as f:
        f.write(b"D\0\0")  # a record header cut short: what a crash mid-write leaves
    for words in (["where", str(pid)], ["diff", "now", "now"], ["ls", "--at", "now", "freezer:/"]):
        rc, _, err = run(capsys, *words, "--host", "beta")
        assert rc == 0 and "ctrtui: warning: " in err and "torn tail of 3 bytes" in err, (words, err)
    assert channels[-1].ops.count("history_warnings") == 1
    channels[-1].override["history_warnings"] = ["a \x1b[31mred\x1b[0m warning"]
    monkeypatch.setattr(clihosts, "CONNECT", lambda spec, options: channels[-1])
    rc, _, err = run(capsys, "where", str(pid), "--host", "beta")
    assert rc == 0 and "red" in err and "\x1b" not in err
