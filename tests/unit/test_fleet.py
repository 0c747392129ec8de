"""ctrtui.remote.fleet with fake hosts (a connect function of the test's own, no ssh): the
order of the outcomes, the bound on hosts contacted at once, the per-host timeout (a host
that hangs is reported, the others are not held up), and every failure as a HostError."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from ctrtui.remote.errors import HostError, RemoteOpError
from ctrtui.remote.fleet import each_host
from ctrtui.remote.ssh import HostSpec, parse_host

HANG = 60.0  # what a hanging host waits for; a fleet that waited for it would take this long


@dataclass(frozen=True)
class Options:  # what the fleet reads of ConnectOptions
    timeout: float = 5.0
    sudo: bool = False
    python: str = "python3"
    ssh_config: str | None = None


@dataclass
class FakeChannel:
    name: str
    answer: object = None
    delay: float = 0.0
    raises: BaseException | None = None
    closed: threading.Event = field(default_factory=threading.Event)
    calls: list = field(default_factory=list)

    def cli(self, command, options, timeout=None):
        self.calls.append((command, options, timeout))
        if self.delay:
            self.closed.wait(self.delay)  # a hanging call ends when the channel is closed (as ssh's does)
        if self.raises is not None:
            raise self.raises
        return self.answer

    def close(self):
        self.closed.set()

    def left_open(self, how=None):
        return []  # the host's journal holds no open batch


class Hosts:
    """A fake `connect`: each host name -> how its connect and its channel behave."""

    def __init__(self, **behaviour):
        self.behaviour = behaviour
        self.channels: dict[str, FakeChannel] = {}
        self.lock = threading.Lock()
        self.busy = 0
        self.most = 0
        self.release = threading.Event()

    def __call__(self, spec: HostSpec, options) -> FakeChannel:
        how = self.behaviour.get(spec.name, {})
        with self.lock:
            self.busy += 1
            self.most = max(self.most, self.busy)
        try:
            if how.get("connect_delay"):
                self.release.wait(how["connect_delay"])
            if how.get("connect_error"):
                raise how["connect_error"]
            ch = FakeChannel(spec.name, answer=how.get("answer", f"done on {spec.name}"),
                             delay=how.get("delay", 0.0), raises=how.get("raises"))
            self.channels[spec.name] = ch
            return ch
        finally:
            with self.lock:
                self.busy -= 1


def specs(*names):
    return [parse_host(n) for n in names]


def work(channel):
    return channel.cli("hierarchies", {"json": False})


def test_outcomes_come_in_the_order_the_hosts_were_given():
    # the first host answers last
    hosts = Hosts(a={"delay": 0.3}, b={"delay": 0.1}, c={})
    out = each_host(specs("a", "b", "c"), work, Options(), connect=hosts)
    assert out == ["done on a", "done on b", "done on c"]
    assert all(ch.closed.is_set() for ch in hosts.channels.values())  # every channel closed after its work


def test_at_most_jobs_hosts_are_contacted_at_once():
    names = [f"h{i}" for i in range(12)]
    hosts = Hosts(**{n: {"connect_delay": 0.05} for n in names})
    out = each_host(specs(*names), work, Options(), jobs=3, connect=hosts)
    assert out == [f"done on {n}" for n in names]
    assert 1 <= hosts.most <= 3


def test_a_host_that_hangs_connecting_is_reported_and_does_not_hold_the_others():
    hosts = Hosts(dead={"connect_delay": HANG}, a={}, b={})
    t0 = time.monotonic()
    try:
        out = each_host(specs("a", "dead", "b"), work, Options(timeout=0.2), connect=hosts)
    finally:
        hosts.release.set()
    elapsed = time.monotonic() - t0
    assert out[0] == "done on a" and out[2] == "done on b"
    assert isinstance(out[1], HostError) and out[1].kind == "timeout" and out[1].host == "dead"
    assert "0.2 seconds" in out[1].message and out[1].hint
    assert elapsed < HANG / 2  # the fleet did not wait for the hanging host


def test_a_hanging_host_frees_its_place_in_the_bound():
    # one place only: the host queued behind the hanging one still gets its turn
    hosts = Hosts(dead={"connect_delay": HANG}, b={})
    try:
        out = each_host(specs("dead", "b"), work, Options(timeout=0.2), jobs=1, connect=hosts)
    finally:
        hosts.release.set()
    assert isinstance(out[0], HostError) and out[0].kind == "timeout"
    assert out[1] == "done on b"


def test_a_host_that_hangs_in_its_work_is_given_up_and_its_channel_closed():
    hosts = Hosts(slow={"delay": HANG}, a={})
    t0 = time.monotonic()
    out = each_host(specs("slow", "a"), work, Options(timeout=0.2), connect=hosts)
    assert isinstance(out[0], HostError) and out[0].kind == "timeout"
    assert out[1] == "done on a"
    assert hosts.channels["slow"].closed.wait(5)  # closing it is what stops its ssh
    assert time.monotonic() - t0 < HANG / 2


def test_extra_time_is_given_to_the_work_not_to_connecting():
    hosts = Hosts(a={"delay": 0.5})
    out = each_host(specs("a"), work, Options(timeout=0.1), extra=5.0, connect=hosts)
    assert out == ["done on a"]


def test_failures_are_each_hosts_own_outcome():
    refused = HostError("auth", "auth", "Permission denied (publickey).", "load the key")
    hosts = Hosts(auth={"connect_error": refused},
                  ro={"raises": RemoteOpError("ro", "cli", "read-only", "moving needs root")},
                  bug={"raises": RuntimeError("boom")}, ok={})
    out = each_host(specs("auth", "ro", "bug", "ok"), work, Options(), connect=hosts)
    assert out[0] is refused
    assert isinstance(out[1], HostError) and (out[1].host, out[1].kind) == ("ro", "read-only")
    assert "--sudo" in out[1].hint
    assert isinstance(out[2], HostError) and out[2].kind == "protocol" and "boom" in out[2].message
    assert out[3] == "done on ok"
    assert hosts.channels["ro"].closed.is_set() and hosts.channels["bug"].closed.is_set()


def test_no_hosts_no_work():
    assert each_host([], work, Options(), connect=Hosts()) == []


def test_jobs_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        each_host(specs("a"), work, Options(), jobs=0, connect=Hosts())


def _channel_with(open_batches):
    from ctrtui.remote.channel import AgentChannel

    ch = AgentChannel.__new__(AgentChannel)  # only what left_open reads: its name and hello
    ch.name = "web1"
    ch.hello = {"open_batches": open_batches}
    return ch


def test_left_open_words_each_open_batch_and_what_to_do():
    lines = _channel_with([
        {"batch": "20261130T080000-abcdef", "time": "2026-11-30T08:00:00Z", "op": "move", "hierarchy": "freezer",
         "target": "/a", "tasks": 2000, "undo_of": None},
        {"batch": "20261130T080001-abcdef", "time": "2026-11-30T08:00:01Z", "op": "mkdir", "hierarchy": "pids",
         "target": "/n", "tasks": 0, "undo_of": None},
    ]).left_open()
    assert len(lines) == 2
    assert lines[0].startswith("batch 20261130T080000-abcdef (a move of 2000 tasks to freezer:/a, started ")
    assert "`ctrtui undo --host web1 20261130T080000-abcdef`" in lines[0] and "`ctrtui log --host web1`" in lines[0]
    assert lines[1].startswith("batch 20261130T080001-abcdef (a mkdir to pids:/n,")


def test_left_open_says_an_undo_cut_off_is_an_undo_and_how_to_finish_it():
    [line] = _channel_with([
        {"batch": "20261130T080002-abcdef", "time": "2026-11-30T08:00:02Z", "op": "move", "hierarchy": "freezer",
         "target": "/", "tasks": 3, "undo_of": "20261130T080000-abcdef"},
    ]).left_open()
    assert line == (
        "batch 20261130T080002-abcdef (an undo of batch 20261130T080000-abcdef, moving 3 tasks back, started "
        "2026-11-30T08:00:02Z) was left open on this host: its ctrtui, or the connection to it, ended "
        "mid-batch; the host's journal keeps it. `ctrtui log --host web1` shows it, "
        "`ctrtui undo --host web1 20261130T080000-abcdef` finishes the undo")


def test_left_open_takes_a_hostile_hello_as_text_and_drops_what_is_malformed():
    evil = {"batch": "b0", "time": "t\x07", "op": "move", "hierarchy": "freezer", "target": "/x\x1b]0;t\x07",
            "tasks": 1, "undo_of": None}
    lines = _channel_with([evil, {"batch": 1}, "no", {**evil, "tasks": "3"}, None]).left_open()
    assert len(lines) == 1
    assert "\x1b" not in lines[0] and "\x07" not in lines[0] and "/x\\x1b]0;t\\x07" in lines[0]
    assert _channel_with("not a list").left_open() == [] and _channel_with(None).left_open() == []
    many = _channel_with([{**evil, "batch": f"b{i}"} for i in range(25)]).left_open()
    assert len(many) == 21 and many[-1].startswith("5 more batches are open")


@pytest.mark.parametrize("batch", ["b1$(touch${IFS}/tmp/x)", "b1`id`", "b1;reboot", "-rf", "b1 b2", "\x1b[2Jb",
                                   "b" * 81, ""])
def test_a_batch_id_from_a_host_is_never_put_in_a_command_unless_it_is_one(batch):
    """Issue 16: a hello's batch id `b1$(touch${IFS}/tmp/x)` was printed inside the suggested
    `ctrtui undo --host H ...`: copied and pasted, the host chose a command to run here. Only
    an id of the journal's own pattern is named, and everything in the command is quoted."""
    good = {"batch": "20261130T080000-abcdef", "time": "T", "op": "move", "hierarchy": "freezer", "target": "/a",
            "tasks": 1, "undo_of": None}
    lines = _channel_with([{**good, "batch": batch}, good]).left_open()
    assert len(lines) == 2 and "20261130T080000-abcdef" in lines[0]
    assert lines[1].startswith("1 open batch on this host has an id that ctrtui's journal never writes: not shown")
    assert batch not in "".join(lines) or batch == ""
    text = "".join(lines)
    assert "$(" not in text and "`id`" not in text and ";reboot" not in text


def test_the_suggested_command_quotes_the_host_and_the_batch():
    import shlex

    from ctrtui.engine.records import BATCH_ID_RE as _BATCH_RE
    from ctrtui.remote.channel import BATCH_ID

    assert BATCH_ID.pattern == _BATCH_RE.pattern  # the journal's own pattern, not another
    ch = _channel_with([{"batch": "b1:2+x", "time": "T", "op": "move", "hierarchy": "freezer", "target": "/a",
                         "tasks": 1, "undo_of": None}])
    [line] = ch.left_open("--host root@h:22")
    command = line.split("`ctrtui undo ", 1)[1].split("`", 1)[0]
    assert shlex.split(command) == ["--host", "root@h:22", "b1:2+x"]
    ch.name = "h$(x)"  # not a host name parse_host accepts; quoted all the same
    [line] = ch.left_open()
    assert "`ctrtui undo --host 'h$(x)' b1:2+x`" in line
