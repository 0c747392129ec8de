"""The cgroups' recorded figures of a host's recording (`S` records) through the agent
(`history_figures`: ctrtui/agent/historycalls.py, ctrtui/service/historycodec.py,
`ServedRecording.recorded_figures`) and `record --host --stats-every N` (`recorder_open`'s
`stats_every`): in-process, each call through the protocol's JSON answering what the
recording answers locally; malformed figures refused with one sentence naming the host.
Through real sshd: tests/real/test_history_remote_real.py."""

from __future__ import annotations

import json
import time

import pytest

from ctrtui.agent.ops import Agent
from ctrtui.cli import hosts as clihosts
from ctrtui.history import Recording
from ctrtui.history.replay import RecordedBackend
from ctrtui.remote import HostError
from ctrtui.remote.service import RemoteService
from ctrtui.service.codec import CodecError
from ctrtui.service.historycodec import FIGURE_COLUMNS, decode_figures
from ctrtui.service.servedrecording import ServedRecording
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
from tests.hostfakes import AgentChannel
from tests.unit.test_history import T0, small_world
from tests.unit.test_history_stats import kinds, record

PATHS = ["/", "/a", "/b", "/c"]


def test_a_hosts_recorded_figures_equal_the_local_read_at_every_step(tmp_path):
    """At each sample (steps and jumps), the figures the host sends are those the recording
    answers on the host; each cgroup's are asked once per sample shown, not at every draw."""
    d = str(tmp_path / "h")
    record(d, 7, stats_every=3)
    channel = AgentChannel(Agent(small_world()))
    served = ServedRecording(RemoteService(channel), d, identity="ssh://beta")  # type: ignore[arg-type]
    local = RecordedBackend(Recording(d))
    assert "history_figures" not in channel.ops  # nothing asked until the figures are wanted
    for step in (0, -2, -1, -3, 4, 2):
        assert served.step(step) == local.step(step) or step == 0
        for name in ("unified", "freezer"):
            got, want = served.recorded_figures(name, PATHS), local.recorded_figures(name, PATHS)
            assert got == want and got
        asked = channel.ops.count("history_figures")
        assert served.recorded_figures("unified", ["/a", "/b"]) == local.recorded_figures("unified", ["/a", "/b"])
        assert channel.ops.count("history_figures") == asked  # kept for the sample shown
    assert served.recorded_figures("unified", ["/a"])["/a"].cpu == pytest.approx(180.0)
    assert served.recorded_figures("nosuch", ["/a"]) == {}
    served.jump(T0 + 20)
    local.jump(T0 + 20)
    assert served.recorded_figures("unified", PATHS) == local.recorded_figures("unified", PATHS)


def test_record_on_a_host_with_stats_every_then_ls_at_stats_on_that_host(tmp_path, capsys, monkeypatch):
    """`record --host beta --samples 2 --stats-every 1`: the host's recorder reads the figures
    at each sample; `ls --at now --stats --host beta` prints what `ls --at now --stats` prints
    of the same recording read here (one code path: `_ls_stats` on the recording's service)."""
    k = small_world()
    k.spawn("job", cgroups={"freezer": "/a", "unified": "/a"})
    agent = Agent(k)
    monkeypatch.setattr(clihosts, "CONNECT", lambda spec, options: AgentChannel(agent, spec.name))
    rc, out, err = run(capsys, "record", "--host", "beta", "--samples", "2", "--interval", "0.05",
                       "--stats-every", "1")
    assert rc == 0, err
    place = out.split(" into ")[1].rsplit(" on beta", 1)[0]
    assert kinds(place).count(b"S") == 2
    rc, remote, err = run(capsys, "ls", "--at", "now", "--stats", "--host", "beta", "--json")
    assert rc == 0, err
    rc, here, _ = run(capsys, "ls", "--at", "now", "--stats", "--from", place, "--json")
    assert rc == 0 and json.loads(remote) == json.loads(here)
    row = next(r for r in json.loads(remote) if (r["hierarchy"], r["path"]) == ("unified", "/a"))
    assert row["tasks"] == 1 and row["frozen"] is False and row["cpu_percent"] == 0.0  # 2 S records: a rate
    rc, text, _ = run(capsys, "ls", "unified:/", "--at", "now", "--stats", "--host", "beta")
    rc2, local_text, _ = run(capsys, "ls", "unified:/", "--at", "now", "--stats", "--from", place)
    assert rc == rc2 == 0 and text == local_text and text.startswith("Path ")
    rc, out, _ = run(capsys, "record", "--host", "beta", "--samples", "1", "--stats-every", "0", "--to",
                     str(tmp_path / "none"))
    assert rc == 0 and b"S" not in kinds(tmp_path / "none")
    rc, _, err = run(capsys, "record", "--host", "beta", "--stats-every", "-1")
    assert rc == 2 and "--stats-every -1" in err


def _answer(tmp_path) -> tuple[dict, ServedRecording, AgentChannel]:
    d = str(tmp_path / "h")
    record(d, 3, stats_every=2)
    channel = AgentChannel(Agent(small_world()))
    served = ServedRecording(RemoteService(channel), d)  # type: ignore[arg-type]
    good = Agent(small_world()).handle(1, "history_figures", {"hierarchy": "unified", "paths": ["/a", "/b"],
                                                              "index": 2, "source": d})
    assert good["ok"] is True  # type: ignore[index]
    return good["result"], served, channel  # type: ignore[index]


@pytest.mark.parametrize(("change", "words"), [
    ({"paths": ["/a", "/etc"]}, "not cgroups asked for"),
    ({"paths": ["/a", "/a"]}, "not cgroups asked for"),
    ({"paths": [["/a"], "/b"]}, "not cgroups asked for"),
    ({"cpu": [1.0]}, "1 'cpu' for 2 cgroups"),
    ({"cpu": [-1.0, 0.0]}, "'cpu' that are not all null or finite numbers 0 or more"),
    ({"memory": [True, 1]}, "'memory' that are not all null or integers"),
    ({"memory": [2 ** 64, 1]}, "'memory' that are not all null or integers"),
    ({"frozen": [1, None]}, "'frozen' that are not all null, true or false"),
    ({"io_some": [101.0, None]}, "'io_some' that are not all null or percentages 0..100"),
    ({"read": "fast"}, "'read'"),
    ({"index": -1}, "'index' -1, outside"),
    ({"taken_at": None}, "'taken_at'"),
])
def test_malformed_figures_are_one_sentence_naming_the_host(tmp_path, change, words):
    good, served, channel = _answer(tmp_path)
    assert set(FIGURE_COLUMNS) <= set(good) and len(good["paths"]) == 2
    channel.override["history_figures"] = {**good, **change}
    with pytest.raises(HostError) as e:
        served.recorded_figures("unified", ["/a", "/b"])
    assert e.value.kind == "protocol" and e.value.host == "beta" and words in str(e.value)
    assert str(e.value).startswith("beta: the host answered") and "\n" not in str(e.value)


def test_malformed_figures_on_the_command_line_are_the_hosts_sentence(tmp_path, capsys, monkeypatch):
    good, _, _ = _answer(tmp_path)

    def connect(spec, options):
        ch = AgentChannel(Agent(small_world()), spec.name)
        ch.override["history_figures"] = {**good, "pids": ["many", 1]}
        return ch

    monkeypatch.setattr(clihosts, "CONNECT", connect)
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(T0 + 11))
    rc, out, err = run(capsys, "ls", "unified:/", "--at", at, "--from", str(tmp_path / "h"), "--stats",
                       "--host", "beta")
    assert rc == 3 and "beta" in err and "'pids'" in err and "Traceback" not in err


def test_a_sample_the_host_no_longer_holds_leaves_the_figures_unknown(tmp_path):
    """The host's recording lost its oldest samples between the step and the figures (the
    index now names another sample): nothing shown rather than another sample's figures."""
    good, served, channel = _answer(tmp_path)
    channel.override["history_figures"] = {**good, "taken_at": good["taken_at"] + 5}
    assert served.recorded_figures("unified", ["/a", "/b"]) == {}
    del channel.override["history_figures"]
    assert set(served.recorded_figures("unified", ["/a", "/b"])) == {"/a", "/b"}  # asked again


@pytest.mark.parametrize("args", [
    {"hierarchy": "unified", "paths": ["/a"]},
    {"hierarchy": "unified", "paths": ["a"], "index": 0},
    {"hierarchy": "", "paths": ["/a"], "index": 0},
    {"hierarchy": "unified", "paths": "/a", "index": 0},
    {"hierarchy": "unified", "paths": ["/a"], "index": -1},
    {"hierarchy": "unified", "paths": ["/a/.."], "index": 0},
])
def test_malformed_figure_requests_are_one_bad_request(args):
    answer = Agent(small_world()).handle(1, "history_figures", args)
    assert answer["ok"] is False and answer["error"]["kind"] == "bad-request"  # type: ignore[index]


@pytest.mark.parametrize("every", [-1, 1_000_001, "2", 1.5])
def test_recorder_open_refuses_a_bad_stats_every(every):
    answer = Agent(small_world()).handle(1, "recorder_open", {"max_size": 1 << 20, "full_every": 1,
                                                              "stats_every": every})
    assert answer["ok"] is False and answer["error"]["kind"] == "bad-request"  # type: ignore[index]


def test_decode_figures_is_the_inverse_of_encode(tmp_path):
    from ctrtui.service.historycodec import encode_figures

    d = str(tmp_path / "h")
    record(d, 5, stats_every=2)
    service = Agent(small_world())
    got = service.handle(1, "history_figures", {"hierarchy": "unified", "paths": PATHS, "index": 3, "source": d})
    figs = decode_figures(json.loads(json.dumps(got["result"])), "the host", PATHS)  # type: ignore[index]
    want = RecordedBackend(Recording(d), T0 + 15).recorded_figures("unified", PATHS)
    assert figs.figures == want and figs.index == 3 and figs.taken_at == T0 + 15
    assert decode_figures(encode_figures(figs), "the host", PATHS).figures == want
    with pytest.raises(CodecError, match="not cgroups asked for"):
        decode_figures(encode_figures(figs), "the host", ["/a"])
