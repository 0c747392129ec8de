"""connect() end to end: the agent started through a real sshd on 127.0.0.x (tests/sshd.py),
bootstrapped from this side when ctrtui is not on the host's Python path, and every way the
connection can fail coming out as one HostError of the right kind, within the timeout."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest

from ctrtui.remote.connect import ConnectOptions, connect
from ctrtui.remote.errors import HostError
from ctrtui.remote.ssh import ssh_argv, try_command
from ctrtui.service import PROTOCOL
from devtools.agentfakes import sleeping_in_a_timer
from devtools.sshd import gone

SYSTEM_PY = "/usr/bin/python3"
PY39 = "/root/.pyenv/versions/3.9.18/bin/python3"
PY36 = "/root/.pyenv/versions/3.6.15/bin/python3"
#: A bound on each step: past it the test fails instead of hanging the suite.
HANG = 60


def opts(lab, **kw) -> ConnectOptions:
    return ConnectOptions(ssh_config=lab.config, **kw)


def failure(spec, options) -> HostError:
    started = time.monotonic()
    with pytest.raises(HostError) as e:
        connect(spec, options).close()
    assert time.monotonic() - started < options.timeout + HANG  # (a hang guard, not a timing)
    assert e.value.host == spec.name and "\n" not in str(e.value)
    return e.value


@pytest.mark.parametrize("python", [SYSTEM_PY, PY39])
def test_hello_over_ssh_with_ctrtui_sent_over_the_channel(sshlab, sshhost, python):
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is not installed here")
    # the host's Python has no ctrtui of its own: the agent can only be the bundle
    probe = subprocess.run(ssh_argv(sshhost.spec, [python, "-c", "import ctrtui"], config=sshlab.config),
                           capture_output=True, text=True, timeout=HANG, stdin=subprocess.DEVNULL)
    assert probe.returncode == 1 and "No module named 'ctrtui'" in probe.stderr
    with connect(sshhost.spec, opts(sshlab, python=python)) as ch:
        assert ch.mode == "bundle" and ch.name == sshhost.name
        assert ch.hello["protocol"] == PROTOCOL and ch.hello["euid"] == 0 and ch.hello["writable"] is True
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, timeout=HANG).stdout.strip()
        assert ch.hello["python"] == version
        assert ch.bytes_sent > 10_000  # the bundle went over the wire
        pid = ch.hello["pid"]
        assert pid in sshhost.session_pids()  # the agent is a session of that sshd
    deadline = time.monotonic() + HANG
    while not gone(pid):  # and it left when the channel closed
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_the_hosts_hierarchies_are_what_ctrtui_says_here(sshlab, sshhost):
    from ctrtui.remote.service import RemoteService

    with connect(sshhost.spec, opts(sshlab, python=PY39)) as ch:
        there = RemoteService(ch).hierarchies()
    here = subprocess.run([sys.executable, "-m", "ctrtui", "hierarchies", "--json"],
                          capture_output=True, text=True, timeout=HANG)
    assert here.returncode == 0, here.stderr
    assert [h.name for h in there] == [h["name"] for h in json.loads(here.stdout)]


def test_two_hosts_see_different_cgroups(sshlab, sshhost):
    ns = sshlab.start_host(cgroup_namespace=True)
    try:
        from ctrtui.remote.service import RemoteService

        with connect(sshhost.spec, opts(sshlab)) as plain, connect(ns.spec, opts(sshlab)) as inside:
            a = RemoteService(plain).snapshot(["freezer"])["freezer"]
            b = RemoteService(inside).snapshot(["freezer"])["freezer"]
            pid = inside.hello["pid"]
            mine = inside.call("task_cgroups", {"pid": pid})
        assert list(b.containers) == ["/"]  # the namespaced host: only its own cgroup, as its root
        assert len(a.containers) > len(b.containers)
        assert len(b["/"].procs) < len(a["/"].procs)
        assert mine["freezer"] == "/"
    finally:
        ns.stop()


# ---------------------------------------------------------------------- faults


def test_a_stopped_sshd_is_unreachable(sshlab):
    host = sshlab.start_host()
    with connect(host.spec, opts(sshlab)) as ch:
        assert ch.call("pid_max") > 0
    host.stop()
    e = failure(host.spec, opts(sshlab, timeout=5))
    assert e.kind == "unreachable" and e.message.endswith("Connection refused") and "sshd is running" in e.hint
    # the hint's command is the one that really reproduces it: the lab's ssh config, its port and user
    options = opts(sshlab, timeout=5)
    command = e.hint.rsplit("(try `", 1)[1].removesuffix("`)")
    assert command == try_command(host.spec, options.ssh_config, options.ssh)
    assert "-F" in shlex.split(command)
    tried = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert tried.returncode == 255 and "Connection refused" in tried.stderr


def test_a_wrong_key_is_auth(sshlab, sshhost):
    e = failure(sshhost.spec, ConnectOptions(ssh_config=sshlab.wrong_key_config(), timeout=5))
    assert (e.kind, e.message) == ("auth", f"root@{sshhost.address}: Permission denied (publickey).")


def test_a_changed_host_key_is_host_key_in_ssh_s_words(sshlab, sshhost):
    e = failure(sshhost.spec, ConnectOptions(ssh_config=sshlab.changed_key_config(sshhost), timeout=5))
    assert e.kind == "host-key"
    assert e.message.startswith("REMOTE HOST IDENTIFICATION HAS CHANGED!")
    assert e.message.endswith("Host key verification failed.")


def test_a_host_that_never_answers_times_out_in_ssh_s_words(sshlab):
    with sshlab.silent_host() as spec:
        started = time.monotonic()
        e = failure(spec, opts(sshlab, timeout=2))
        took = time.monotonic() - started
    assert (e.kind, e.message) == ("timeout", "Connection timed out during banner exchange")
    print(f"never-answering host: HostError after {took:.2f} s (timeout 2 s)")


def test_a_missing_remote_python_is_python_missing(sshlab, sshhost):
    e = failure(sshhost.spec, opts(sshlab, python="/nonexistent/python3", timeout=5))
    assert (e.kind, e.message) == ("python-missing", "bash: line 1: /nonexistent/python3: No such file or directory")


def test_a_python_too_old_is_one_clear_error(sshlab, sshhost):
    if not os.access(PY36, os.X_OK):
        pytest.skip(f"{PY36} is not installed here")
    e = failure(sshhost.spec, opts(sshlab, python=PY36, timeout=5))
    assert e.kind == "python-too-old" and "3.6.15" in e.message


def test_sudo_on_a_host_without_sudo_is_a_usage_error(sshlab, sshhost):
    if any(os.access(os.path.join(d, "sudo"), os.X_OK) for d in os.get_exec_path()):
        pytest.skip("sudo is installed here: --sudo would run (the refusal texts are tested in tests/unit/test_ssh.py)")
    e = failure(sshhost.spec, opts(sshlab, sudo=True, timeout=5))
    assert (e.kind, e.message) == ("usage", "bash: line 1: sudo: command not found")


def test_killing_ssh_mid_call_is_dropped_and_leaves_nothing_on_the_host(sshlab):
    host = sshlab.start_host()
    try:
        ch = connect(host.spec, opts(sshlab))
        agent = ch.hello["pid"]
        result: list[object] = []

        def call() -> None:
            try:
                # a call that takes its time on the host: stats sampled over 5 s
                result.append(ch.call("stats", {"walks": {"freezer": ["/"]}, "interval": 5.0}, timeout=HANG))
            except HostError as e:
                result.append(e)

        t = threading.Thread(target=call)
        t.start()
        deadline = time.monotonic() + HANG
        while not sleeping_in_a_timer(agent):  # the request is on the host, its answer not yet back
            assert time.monotonic() < deadline and t.is_alive(), ("the call never reached the agent", result)
            time.sleep(0.01)
        assert not result
        os.kill(ch.pid, signal.SIGKILL)
        t.join(HANG)
        assert not t.is_alive()
        [e] = result
        assert isinstance(e, HostError) and e.kind == "dropped", e
        assert e.message == ("ssh was killed by signal 9 while waiting for the answer to 'stats': "
                             "the connection to the host is gone")
        with pytest.raises(HostError) as again:
            ch.call("pid_max")
        assert again.value.kind == "dropped"
        ch.close()
        deadline = time.monotonic() + HANG
        while not gone(agent) or host.session_pids():  # sshd ends the session: the agent leaves
            assert time.monotonic() < deadline, host.session_pids()
            time.sleep(0.02)
    finally:
        host.stop()


def test_the_agent_killed_on_the_host_is_one_host_error(sshlab):
    host = sshlab.start_host()
    try:
        ch = connect(host.spec, opts(sshlab))
        os.kill(ch.hello["pid"], signal.SIGKILL)
        with pytest.raises(HostError) as e:
            ch.call("hierarchies", timeout=HANG)
        assert e.value.kind in ("dropped", "agent-died"), e.value
        ch.close()
    finally:
        host.stop()


def test_a_host_that_stops_answering_mid_session_is_a_timeout_not_a_hang(sshlab):
    host = sshlab.start_host()
    ch = connect(host.spec, opts(sshlab))
    agent = ch.hello["pid"]
    try:
        assert ch.call("pid_max") > 0
        os.kill(agent, signal.SIGSTOP)  # the agent on the host freezes: the connection stays up
        started = time.monotonic()
        with pytest.raises(HostError) as e:
            ch.call("hierarchies", timeout=2)
        took = time.monotonic() - started
        assert e.value.kind == "timeout" and "2 s" in e.value.message
        assert took < HANG
        print(f"frozen agent: HostError after {took:.2f} s (call timeout 2 s)")
        with pytest.raises(HostError):  # the channel is done with that host
            ch.call("pid_max")
    finally:
        os.kill(agent, signal.SIGCONT)
        ch.close()
        host.stop()
    deadline = time.monotonic() + HANG
    while not gone(agent):  # woken up, it finds its connection gone (EOF) and leaves
        assert time.monotonic() < deadline
        time.sleep(0.02)
