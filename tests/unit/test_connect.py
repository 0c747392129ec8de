"""connect() without a host: the options, and the argv it hands the channel (the real ssh
runs in tests/real/test_ssh_connect.py)."""

from __future__ import annotations

import shlex

import pytest

from ctrtui.remote import channel
from ctrtui.remote.connect import ConnectOptions, connect, ssh_connect_timeout
from ctrtui.remote.errors import HostError
from ctrtui.remote.ssh import parse_host, ssh_argv


@pytest.fixture
def opened(monkeypatch):
    """AgentChannel.open replaced by a recorder of its arguments."""
    calls = []

    def fake_open(argv, *, name, timeout=10.0, transport=None):
        assert transport == "ssh"  # a killed ssh is a dropped connection, not a dead agent
        calls.append((argv, name, timeout))
        return "channel"

    monkeypatch.setattr(channel.AgentChannel, "open", staticmethod(fake_open))
    return calls


def test_connect_runs_the_stub_through_ssh(opened, monkeypatch):
    monkeypatch.delenv("CTRTUI_SSH_CONFIG", raising=False)
    monkeypatch.delenv("CTRTUI_SSH", raising=False)
    spec = parse_host("root@127.0.0.2:2222")
    assert connect(spec, ConnectOptions(timeout=5)) == "channel"
    [(argv, name, timeout)] = opened
    assert (name, timeout) == ("root@127.0.0.2:2222", 5)
    assert argv == ssh_argv(spec, channel.remote_command("python3", sudo=False), connect_timeout=4)
    assert shlex.split(argv[-1]) == channel.remote_command("python3", sudo=False)


def test_connect_with_sudo_python_config_and_program(opened):
    spec = parse_host("h")
    connect(spec, ConnectOptions(sudo=True, python="/opt/py3/bin/python3", timeout=0.5, ssh_config="/lab/cfg",
                                 ssh="/usr/bin/ssh"))
    [(argv, _, timeout)] = opened
    assert timeout == 0.5
    assert argv[:2] == ["/usr/bin/ssh", "-T"] and "ConnectTimeout=1" in argv
    assert argv[argv.index("-F") + 1] == "/lab/cfg"
    assert shlex.split(argv[-1])[:7] == ["sudo", "-n", "--", "/opt/py3/bin/python3", "-E", "-s", "-c"]


def test_options_take_ssh_and_its_config_from_the_environment_when_made(monkeypatch):
    monkeypatch.setenv("CTRTUI_SSH_CONFIG", "/lab/ssh_config")
    monkeypatch.setenv("CTRTUI_SSH", "/lab/ssh")
    options = ConnectOptions()
    assert (options.ssh_config, options.ssh, options.sudo, options.python, options.timeout) == (
        "/lab/ssh_config", "/lab/ssh", False, "python3", 10.0)
    monkeypatch.delenv("CTRTUI_SSH_CONFIG")
    monkeypatch.delenv("CTRTUI_SSH")
    assert (ConnectOptions().ssh_config, ConnectOptions().ssh) == (None, "ssh")
    assert options.ssh == "/lab/ssh"  # made before: immutable
    with pytest.raises(AttributeError):
        options.sudo = True  # type: ignore[misc]


@pytest.mark.parametrize("bad", [{"timeout": 0}, {"timeout": -1}, {"timeout": float("nan")}, {"timeout": float("inf")},
                                 {"python": ""}, {"python": "-c"}, {"python": "py\x1bthon"}])
def test_options_refuse_what_cannot_work(bad):
    with pytest.raises(ValueError):
        ConnectOptions(**bad)


def test_ssh_gives_up_connecting_a_second_before_the_whole_timeout():
    assert [ssh_connect_timeout(t) for t in (0.1, 1, 1.5, 2, 10, 10.2)] == [1, 1, 1, 1, 9, 10]


def test_a_missing_ssh_program_is_a_host_error(monkeypatch):
    with pytest.raises(HostError) as e:
        connect(parse_host("root@127.0.0.2:1"), ConnectOptions(ssh="/nonexistent/ssh", timeout=2))
    assert e.value.host == "root@127.0.0.2:1" and "ENOENT" in e.value.message


def test_an_unreachable_host_hints_the_ssh_command_that_reproduces_it(monkeypatch):
    from ctrtui.remote.ssh import HINTS

    def refused(argv, *, name, timeout=10.0, transport=None):
        raise HostError(name, "unreachable", "ssh: connect to host 127.0.0.9 port 2222: Connection refused",
                        HINTS["unreachable"])

    monkeypatch.setattr(channel.AgentChannel, "open", staticmethod(refused))
    spec = parse_host("root@127.0.0.9:2222")
    with pytest.raises(HostError) as e:
        connect(spec, ConnectOptions(ssh_config="/lab/my cfg", ssh="/opt/ssh"))
    assert str(e.value) == (
        "root@127.0.0.9:2222: ssh: connect to host 127.0.0.9 port 2222: Connection refused; check the host "
        "name and port, that the host is up and that its sshd is running "
        "(try `/opt/ssh -F '/lab/my cfg' -p 2222 -l root -- 127.0.0.9 true`)")
    # without a config, port or user: the plain command
    monkeypatch.delenv("CTRTUI_SSH_CONFIG", raising=False)
    monkeypatch.delenv("CTRTUI_SSH", raising=False)
    with pytest.raises(HostError) as e:
        connect(parse_host("web1"), ConnectOptions())
    assert e.value.hint.endswith("(try `ssh -- web1 true`)")
