"""Hostile hosts, in the unit tier (no root, no cgroups): the channel against fake agents and
a fake `ssh` (tests/hostile_ssh.py, through `CTRTUI_SSH`) that plays a malicious host.

What a host sends is bounded before it is kept (docs/remote.md, "What a host can do to
you"): a host that floods while we send the bundle, prints huge lines before the stub's,
answers more than an answer may be, answers with a zlib bomb, huge numbers, deep JSON, or
a batch id made to run a command, or answers a request it was not asked, costs one sentence
for that host (exit 3), never a traceback nor the memory of the machine running ctrtui, and
never another host's output. The command line runs in a child process under an address-space
limit (`RLIMIT_AS`), so that a regression costs that child a MemoryError, not this machine.

The channel's own faults (an agent that never answers, exits before the handshake, speaks
another protocol) with fake agents run here too; the real agent's are in
tests/real/test_agent_real.py."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import pytest

from ctrtui import __version__
from ctrtui.remote import AgentChannel, HostError, remote_command
from ctrtui.remote.stub import STUB
from ctrtui.service import PROTOCOL
from devtools.agentfakes import HELLO, fake_agent, fake_ssh, gone, parent_of
from tests.clihelpers import isolated_dirs  # noqa: F401 - isolated_dirs is autouse

LIMIT = 1 << 30
"""The address space a child ctrtui may use (bytes): the attacks cost it gigabytes without the bounds."""


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@pytest.fixture
def ssh(tmp_path, monkeypatch):
    """`CTRTUI_SSH` set to the hostile fake ssh."""
    path = fake_ssh(tmp_path)
    monkeypatch.setenv("CTRTUI_SSH", path)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")  # threads' malloc arenas: address space, not memory
    return path


def ctrtui(*argv: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    """`ctrtui ARGV --timeout T` in a child process under the address-space limit."""
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv, "--timeout", str(timeout)], capture_output=True,
                          text=True, timeout=timeout * 4 + 30, preexec_fn=_limited)


def _one_sentence(p: subprocess.CompletedProcess[str], host: str, words: str) -> None:
    assert p.returncode == 3, p.stderr[-2000:]
    assert "Traceback" not in p.stderr and "MemoryError" not in p.stderr
    [line] = [line for line in p.stderr.splitlines() if line.startswith(f"{host}: ")]
    assert words in line, line


# ------------------------------------------------------------------ the hostile host world


@pytest.mark.parametrize(("host", "words"), [
    ("flood", "sent more than 1048576 bytes before ctrtui's agent said hello, while waiting for the host to read"),
    ("noise", "sent more than 1048576 bytes before ctrtui's agent said hello, while waiting for the host's Python"),
    ("bigline", "answer is longer than 67108864 bytes"),
    ("crowded", "holds more than 262144 JSON lists and objects"),
    ("order", "answered request 7 while 1 was asked"),
])
def test_a_host_that_sends_too_much_or_out_of_turn_is_one_sentence(ssh, host, words):
    """flood: the host stops reading its stdin and floods stdout while the bundle is sent
    (the channel used to keep it all: a gigabyte in seconds); noise: lines of 100 MiB
    before the stub's line (kept whole); bigline/crowded: an answer of `[],` that grows 27x
    once parsed; order: an answer to another request."""
    _one_sentence(ctrtui("hierarchies", "--host", host), host, words)


def test_one_hosts_garbage_never_loses_another_hosts_output(ssh):
    p = ctrtui("hierarchies", "--host", "good", "--host", "flood", "--host", "bigline", "--host", "good.2")
    assert p.returncode == 3 and "Traceback" not in p.stderr
    assert [line.split()[0] for line in p.stdout.splitlines()[1:]] == ["good", "good.2"]
    assert {line.split(":")[0] for line in p.stderr.splitlines()} == {"flood", "bigline"}


@pytest.mark.parametrize(("argv", "host", "words"), [
    (["ls", "--stats"], "hugeint", "'memory' an integer of 1329 bits"),
    (["hierarchies", "--json"], "deep", "is not a JSON line"),
])
def test_huge_numbers_and_deep_json_are_that_hosts_error(ssh, argv, host, words):
    p = ctrtui(*argv, "--host", host, "--host", "good")
    _one_sentence(p, host, words)
    assert "good" in p.stdout


def test_a_batch_id_made_to_run_a_command_is_never_printed(ssh, tmp_path):
    p = ctrtui("hierarchies", "--host", "inject")
    assert p.returncode == 0, p.stderr
    assert "$(" not in p.stderr and "touch" not in p.stderr and "ctrtui undo" not in p.stderr
    assert "1 open batch on this host has an id that ctrtui's journal never writes" in p.stderr


BOMB = """
import sys
from ctrtui.remote import HostError, RemoteReader
from ctrtui.remote.connect import ConnectOptions, connect
from ctrtui.remote.ssh import parse_host
ch = connect(parse_host("bomb"), ConnectOptions(timeout=10))
try:
    RemoteReader(ch).snapshot()
except HostError as e:
    print(e)
finally:
    ch.close()
"""


def test_a_zlib_bomb_in_a_snapshot_answer_is_refused_before_it_unpacks(ssh):
    """A 1.4 MB snapshot answer that unpacks to 1 GiB (docs/wire.md calls the form safe to
    read from an untrusted sender; the UI reads one on every refresh)."""
    p = subprocess.run([sys.executable, "-c", BOMB], capture_output=True, text=True, timeout=60,
                       preexec_fn=_limited)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr[-2000:]
    assert p.stdout.startswith("bomb: the agent's answer is malformed: malformed snapshot: more member data than "
                               "its header announces"), p.stdout


# ------------------------------------------------------------------ what runs on the host


def test_the_hosts_python_ignores_its_environment_and_user_site(tmp_path):
    """`python3 -E -s`: where sudo keeps HOME (or PYTHONPATH, PYTHONSTARTUP), the invoking
    user's site-packages `.pth` files would otherwise run as root before ctrtui's code."""
    assert remote_command("python3")[:4] == ["python3", "-E", "-s", "-c"]
    site = tmp_path / "home" / ".local" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    site.mkdir(parents=True)
    marker = tmp_path / "ran"
    (site / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PYTHONPATH": str(tmp_path / "path"),
           "PYTHONUSERBASE": str(tmp_path / "home" / ".local")}
    env.pop("PYTHONNOUSERSITE", None)
    out = subprocess.run(remote_command(sys.executable), input=b"", capture_output=True, timeout=30, env=env)
    assert out.returncode == 0 and out.stdout.startswith(b'{"ctrtui": "stub"'), out.stderr
    assert not marker.exists()
    subprocess.run([sys.executable, "-c", "pass"], env=env, timeout=30)
    assert marker.exists()  # the same interpreter without -E -s runs PYTHONPATH's sitecustomize


@pytest.mark.skipif(os.geteuid() != 0, reason="the stub checks who owns an installed ctrtui only when run as root")
@pytest.mark.parametrize("where", ["file", "package", "parent"])
def test_as_root_an_installed_ctrtui_others_can_write_is_not_used(tmp_path, where):
    """As root, the stub offers an installed ctrtui only from paths no other user can change
    (owned by root, not group- or other-writable, all the way up): else the bundle travels."""
    import shutil

    import ctrtui

    top = tmp_path / "lib"
    pkg = top / "ctrtui"
    shutil.copytree(os.path.dirname(ctrtui.__file__), pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for p in [tmp_path, top, *pkg.rglob("*"), pkg]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    argv = [sys.executable, "-s", "-c", STUB]  # PYTHONPATH names the copy (-E would ignore it)
    env = {**os.environ, "PYTHONPATH": str(top)}

    def installed() -> bytes:
        out = subprocess.run(argv, input=b"", capture_output=True, timeout=30, env=env, cwd=tmp_path)
        return out.stdout.split(b'"installed": ', 1)[1].split(b"}", 1)[0]

    trusted = all(os.stat(p).st_uid == 0 and (not os.stat(p).st_mode & 0o022 or os.stat(p).st_mode & 0o1000)
                  for p in tmp_path.parents)
    if not trusted:
        pytest.skip(f"{tmp_path} lies under a directory another user can write")
    assert installed() != b"null"
    target = {"file": pkg / "agent" / "ops.py", "package": pkg, "parent": top}[where]
    os.chmod(target, os.stat(target).st_mode | 0o002)
    assert installed() == b"null"
    os.chmod(target, os.stat(target).st_mode & ~0o002)
    os.chown(target, 1, -1)
    assert installed() == b"null"


# ------------------------------------------------------------------ the channel against fake agents


def test_an_agent_that_never_answers_times_out_and_is_killed():
    ch = AgentChannel.open(fake_agent(HELLO, "time.sleep(120)\n"), name="mute", timeout=10)
    t = time.monotonic()
    with pytest.raises(HostError) as e:
        ch.call("pid_max", timeout=0.5)
    took = time.monotonic() - t
    assert e.value.kind == "timeout" and "0.5 s" in str(e.value)
    assert took < 5  # the timeout, plus the kill
    assert gone(ch.pid)
    with pytest.raises(HostError) as again:  # the channel stays broken, quickly
        ch.call("pid_max")
    assert again.value.kind == "timeout"
    ch.close()
    ch.close()


def test_a_host_that_never_starts_times_out_in_the_handshake():
    t = time.monotonic()
    with pytest.raises(HostError) as e:
        AgentChannel.open([sys.executable, "-c", "import time; time.sleep(120)"], name="asleep", timeout=0.5)
    assert e.value.kind == "timeout" and time.monotonic() - t < 5


@pytest.mark.parametrize(("script", "kind", "words"), [
    ("import sys; sys.stderr.write('bash: line 1: python3: command not found\\n'); sys.exit(127)",
     "python-missing", "command not found"),
    ("import sys; sys.stderr.write('boom \\x1b[2J gone\\n'); sys.exit(1)", "agent-died", "boom \\x1b[2J gone"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "agent-died", "signal 9"),
], ids=["python-missing", "stderr-said", "killed"])
def test_a_subprocess_that_ends_before_the_handshake(script, kind, words):
    with pytest.raises(HostError) as e:
        AgentChannel.open([sys.executable, "-c", script], name="bad", timeout=10)
    assert e.value.kind == kind
    text = str(e.value)
    assert words in text and "\x1b" not in text and "\n" not in text


def test_a_protocol_version_mismatch_is_one_version_error():
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, "protocol": 99, "version": "9.9"}, "sys.stdin.read()\n"), name="future",
                          timeout=10)
    assert e.value.kind == "version" and "99" in str(e.value) and f"protocol {PROTOCOL}" in str(e.value)


def test_an_agent_of_the_older_protocol_is_one_version_error_saying_what_to_do():
    """docs/remote.md, "Versions": an agent of protocol 1 (ctrtui's `cli` op era) is never
    spoken to: one sentence naming both protocols and what to do, the subprocess gone."""
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, "protocol": 1, "version": __version__}, "sys.stdin.read()\n"),
                          name="old", timeout=10)
    text = str(e.value)
    assert e.value.kind == "version" and "speaks protocol 1" in text and f"this ctrtui speaks protocol {PROTOCOL}" \
        in text and "use the same ctrtui version on both sides" in text and "\n" not in text


def test_an_older_local_side_meeting_this_agent_is_one_version_error(monkeypatch):
    """The other way round: a local side of protocol 1 reads this agent's hello and stops with
    the same one sentence (its check is the one in ctrtui/remote/channel.py, reading PROTOCOL)."""
    import ctrtui.service

    monkeypatch.setattr(ctrtui.service, "PROTOCOL", 1)
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, "protocol": PROTOCOL}, "sys.stdin.read()\n"), name="new",
                          timeout=10)
    assert e.value.kind == "version" and f"speaks protocol {PROTOCOL}" in str(e.value) \
        and "this ctrtui speaks protocol 1" in str(e.value)


@pytest.mark.parametrize("change", [{"writable": "yes"}, {"euid": "0"}, {"hostname": None}, {"user": 5},
                                    {"uid": 10 ** 400}, {"euid": -1}],
                         ids=["writable", "euid", "hostname", "user", "huge-uid", "negative-euid"])
def test_a_malformed_hello_is_one_protocol_error(change):
    with pytest.raises(HostError) as e:
        AgentChannel.open(fake_agent({**HELLO, **change}, "sys.stdin.read()\n"), name="odd", timeout=10)
    assert e.value.kind == "protocol" and next(iter(change)) in str(e.value)


def test_answers_out_of_order_or_not_json_break_the_channel():
    for then, words in (("sys.stdin.readline(); print('{\"id\": 7, \"ok\": true}', flush=True); time.sleep(60)\n",
                         "request 7"),
                        ("sys.stdin.readline(); print('\\x1b[2J', flush=True); time.sleep(60)\n", "not a JSON")):
        ch = AgentChannel.open(fake_agent(HELLO, then), name="liar", timeout=10)
        with pytest.raises(HostError) as e:
            ch.call("pid_max")
        assert e.value.kind == "protocol" and words in str(e.value) and "\x1b" not in str(e.value)
        assert gone(ch.pid)
        ch.close()


def test_nothing_is_left_of_a_subprocess_the_handshake_refused():
    before = set(os.listdir("/proc"))
    for _ in range(3):
        with pytest.raises(HostError):
            AgentChannel.open([sys.executable, "-c", "print('garbage {'); import time; time.sleep(60)"],
                              name="x", timeout=0.5)
    time.sleep(0.2)
    mine = [p for p in set(os.listdir("/proc")) - before if p.isdigit() and parent_of(int(p)) == os.getpid()]
    assert mine == []


def test_remote_command_is_an_argv_with_the_one_line_stub():
    assert remote_command() == ["python3", "-E", "-s", "-c", STUB]
    assert remote_command("/usr/bin/python3.9", sudo=True)[:6] == ["sudo", "-n", "--", "/usr/bin/python3.9", "-E",
                                                                   "-s"]
    assert "\n" not in STUB and "'" in STUB and '"' not in STUB
    out = subprocess.run([sys.executable, "-c", STUB], input=b"", capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith(b'{"ctrtui": "stub", "stub": 1')
