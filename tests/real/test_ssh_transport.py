"""The ssh transport against real sshd servers on loopback (tests/sshd.py): commands run with
every word intact, and each fault is told apart by ssh's own message, never a hang."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ctrtui.remote.ssh import classify_failure, describe_failure, parse_host, ssh_argv
from devtools.sshd import SshdError, SshLab, gone

#: A bound on every ssh run here: a hang fails the test instead of the suite.
HANG = 60


def run(spec, command, config, *, connect_timeout=5.0):
    return subprocess.run(ssh_argv(spec, command, config=config, connect_timeout=connect_timeout),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=HANG)


ECHO_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"


def test_a_command_runs_on_the_host_with_every_word_as_it_was(sshlab, sshhost):
    words = ["a b", "$(touch /tmp/ctrtui-test-pwned)", "`id`", "'", '"', "x;y", "a\nb", "*", "~", "&&", "\\", "",
             "-x", "é", "$HOME"]
    p = run(sshhost.spec, ["python3", "-c", ECHO_ARGV, *words], sshlab.config)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == words
    assert not os.path.exists("/tmp/ctrtui-test-pwned")


def test_the_host_runs_the_command_as_root_in_its_own_home(sshlab, sshhost):
    p = run(sshhost.spec, ["sh", "-c", 'id -u; echo "$HOME"; echo "$XDG_STATE_HOME"'], sshlab.config)
    assert p.returncode == 0, p.stderr
    uid, home, state = p.stdout.splitlines()
    assert uid == "0" and home == sshhost.home and state == os.path.join(sshhost.home, ".local", "state")


def test_the_client_touches_nothing_under_the_users_ssh_dir(sshlab, sshhost):
    dot_ssh = os.path.expanduser("~/.ssh")

    def state():
        if not os.path.isdir(dot_ssh):
            return None
        return sorted((name, os.stat(os.path.join(dot_ssh, name)).st_mtime_ns) for name in os.listdir(dot_ssh))

    before = state()
    assert run(sshhost.spec, ["true"], sshlab.config).returncode == 0
    assert run(sshlab.closed_port(), ["true"], sshlab.config).returncode == 255
    assert run(sshhost.spec, ["true"], sshlab.unknown_host_config()).returncode == 255
    assert state() == before


def test_several_hosts_are_several_sshd_on_different_loopback_addresses(sshlab):
    hosts = [sshlab.start_host() for _ in range(3)]
    try:
        assert len({h.address for h in hosts}) == 3
        assert all(h.address.startswith("127.0.0.") and 2 <= int(h.address.rsplit(".", 1)[1]) <= 250 for h in hosts)
        for h in hosts:
            p = run(h.spec, ["sh", "-c", "echo $SSH_CONNECTION"], sshlab.config)
            assert p.returncode == 0, p.stderr
            assert p.stdout.split()[2:] == [h.address, str(h.port)]  # server address and port of the session
    finally:
        for h in hosts:
            h.stop()


def test_a_host_in_its_own_cgroup_namespace_sees_other_cgroups(sshlab, sshhost):
    ns = sshlab.start_host(cgroup_namespace=True)
    try:
        assert ns.cgroups and all(os.path.basename(d).startswith("ctrtui-test-") for d in ns.cgroups)
        inside = run(ns.spec, ["cat", "/proc/self/cgroup"], sshlab.config)
        plain = run(sshhost.spec, ["cat", "/proc/self/cgroup"], sshlab.config)
        assert inside.returncode == 0 and plain.returncode == 0, inside.stderr + plain.stderr
        assert inside.stdout != plain.stdout
        freezer = [line.split(":", 2)[2] for line in inside.stdout.splitlines() if line.split(":")[1] == "freezer"]
        assert freezer == ["/"]  # the namespace is rooted at the host's own ctrtui-test cgroup
        with open(os.path.join(ns.cgroups[0], "cgroup.procs")) as f:
            assert int(f.read().split()[0]) == ns.proc.pid  # the sshd itself sits in it
        # its own mounts of the hierarchies, rooted at its namespace's root, seen only there
        mounts = run(ns.spec, ["cat", "/proc/self/mountinfo"], sshlab.config).stdout
        own = os.path.join(ns.dir, "cgroup", "freezer")
        assert [line.split()[3] for line in mounts.splitlines() if line.split()[4] == own] == ["/"]
        with open("/proc/self/mountinfo") as f:
            assert ns.dir not in f.read()
    finally:
        ns.stop()
    assert not any(os.path.exists(d) for d in ns.cgroups or [])


# ---------------------------------------------------------------------- faults


def test_a_closed_port_is_unreachable(sshlab):
    p = run(sshlab.closed_port(), ["true"], sshlab.config)
    kind, message = classify_failure(p.returncode, p.stderr)
    assert (p.returncode, kind) == (255, "unreachable")
    assert message.startswith("ssh: connect to host 127.0.0.") and message.endswith("Connection refused")


def test_a_wrong_key_is_refused_authentication(sshlab, sshhost):
    p = run(sshhost.spec, ["true"], sshlab.wrong_key_config())
    assert classify_failure(p.returncode, p.stderr) == (
        "auth", f"root@{sshhost.address}: Permission denied (publickey).")


def test_a_changed_host_key_passes_on_ssh_s_warning(sshlab, sshhost):
    p = run(sshhost.spec, ["true"], sshlab.changed_key_config(sshhost))
    kind, message, hint = describe_failure(p.returncode, p.stderr)
    assert kind == "host-key"
    assert message == (f"REMOTE HOST IDENTIFICATION HAS CHANGED! Host key for [{sshhost.address}]:{sshhost.port} "
                       "has changed and you have requested strict checking. Host key verification failed.")
    assert "ssh-keygen -R" in hint


def test_an_unknown_host_key_is_refused_not_accepted(sshlab, sshhost):
    config = sshlab.unknown_host_config()
    p = run(sshhost.spec, ["true"], config)
    kind, message = classify_failure(p.returncode, p.stderr)
    assert kind == "host-key" and "you have requested strict checking" in message
    with open(os.path.join(os.path.dirname(config), "known_hosts")) as f:
        assert f.read() == ""  # StrictHostKeyChecking: nothing was added


def test_a_host_that_never_answers_times_out_within_connect_timeout(sshlab):
    with sshlab.silent_host() as spec:
        started = time.monotonic()
        p = run(spec, ["true"], sshlab.config, connect_timeout=1)
        took = time.monotonic() - started
    assert classify_failure(p.returncode, p.stderr) == ("timeout", "Connection timed out during banner exchange")
    print(f"never-answering host: ssh gave up after {took:.2f} s (ConnectTimeout=1)")


def test_a_missing_remote_python_is_python_missing(sshlab, sshhost):
    p = run(sshhost.spec, ["/nonexistent/python3", "-c", "pass"], sshlab.config)
    assert classify_failure(p.returncode, p.stderr) == (
        "python-missing", "bash: line 1: /nonexistent/python3: No such file or directory")
    p = run(sshhost.spec, ["ctrtui-test-no-such-python3", "-c", "pass"], sshlab.config)
    assert classify_failure(p.returncode, p.stderr) == (
        "python-missing", "bash: line 1: ctrtui-test-no-such-python3: command not found")


@pytest.mark.skipif(any(os.access(os.path.join(d, "sudo"), os.X_OK) for d in os.get_exec_path()),
                    reason="sudo is installed here: its refusal is tested by tests that may use it")
def test_sudo_missing_on_the_host_is_a_usage_error(sshlab, sshhost):
    # This machine has no sudo (and the tests add no user to need a password): what --sudo
    # meets here is a missing sudo; the texts of `sudo -n` refusing are in tests/unit/test_ssh.py.
    p = run(sshhost.spec, ["sudo", "-n", "--", "python3", "-c", "pass"], sshlab.config)
    kind, message, hint = describe_failure(p.returncode, p.stderr)
    assert (kind, message) == ("usage", "bash: line 1: sudo: command not found")
    assert "--sudo" in hint


def test_stopping_a_host_ends_its_sessions_and_later_connections_are_refused(sshlab):
    host = sshlab.start_host()
    session = subprocess.Popen(ssh_argv(host.spec, ["sleep", "300"], config=sshlab.config),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + HANG
        while not any(_comm(pid) == "sleep" for pid in host.session_pids()):
            assert time.monotonic() < deadline and session.poll() is None, session.stderr and session.stderr.read()
            time.sleep(0.02)
        sessions = host.session_pids()
        host.stop()
        assert not host.running
        assert sessions and all(gone(pid) for pid in sessions)  # sshd's children (and the sleep) are gone
        rc = session.wait(timeout=HANG)
        assert rc == 255
        p = run(host.spec, ["true"], sshlab.config)
        assert classify_failure(p.returncode, p.stderr)[0] == "unreachable"
    finally:
        if session.poll() is None:
            session.kill()
        session.wait()


def test_killing_the_ssh_process_leaves_nothing_running_on_the_host(sshlab):
    host = sshlab.start_host()
    session = subprocess.Popen(ssh_argv(host.spec, ["python3", "-c", "import sys; sys.stdin.read()"],
                                        config=sshlab.config),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + HANG
        while not any(_comm(pid) == "python3" for pid in host.session_pids()):
            assert time.monotonic() < deadline and session.poll() is None
            time.sleep(0.02)
        session.send_signal(signal.SIGKILL)
        session.wait(timeout=HANG)
        while host.session_pids():  # sshd sees the connection close and ends the session
            assert time.monotonic() < deadline, host.session_pids()
            time.sleep(0.02)
    finally:
        if session.poll() is None:
            session.kill()
        session.wait()
        host.stop()


def test_a_lab_stops_every_host_it_started():
    with SshLab() as lab:
        hosts = [lab.start_host(), lab.start_host(cgroup_namespace=True)]
        pids = [h.proc.pid for h in hosts]
        cgroups = list(hosts[1].cgroups)
        assert all(os.path.exists(f"/proc/{pid}") for pid in pids)
        lab_dir = lab.dir
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert not any(os.path.exists(d) for d in cgroups)
    assert not os.path.exists(lab_dir)


def test_a_host_that_cannot_start_says_why(sshlab):
    busy = sshlab.start_host()
    try:
        with pytest.raises(SshdError, match="Address already in use"):
            # a config sshd refuses: the error carries sshd's own words
            sshlab._start(busy.address, busy.port, False, timeout=5)
    finally:
        busy.stop()


def _comm(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def test_the_remote_python_is_the_host_s_not_ctrtui_s(sshlab, sshhost):
    # the hosts' sessions do not read root's shell start-up files, so `python3` is the system's
    p = run(sshhost.spec, ["python3", "-c", "import sys; print(sys.executable)"], sshlab.config)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() != sys.executable
    assert parse_host(sshhost.name).port == sshhost.port
