"""The ssh transport without ssh: host names as written, hosts files, the argv, and what
ssh's own failure messages mean (tests/real/test_ssh_transport.py runs them against sshd)."""

from __future__ import annotations

import shlex

import pytest

from ctrtui.remote.ssh import (
    HostSpec,
    classify_failure,
    describe_failure,
    hint_for,
    parse_host,
    read_hosts_file,
    ssh_argv,
)

# ---------------------------------------------------------------------- parse_host


@pytest.mark.parametrize(("text", "user", "host", "port"), [
    ("web1", None, "web1", None),
    ("web1.example.org", None, "web1.example.org", None),
    ("root@127.0.0.2", "root", "127.0.0.2", None),
    ("root@127.0.0.2:2222", "root", "127.0.0.2", 2222),
    ("db-3:22", None, "db-3", 22),
    ("alice.b@h_1:65535", "alice.b", "h_1", 65535),
    ("host:1", None, "host", 1),
    ("[::1]:2222", None, "::1", 2222),
    ("root@[fe80::1%eth0]:22", "root", "fe80::1%eth0", 22),
    ("[::1]", None, "::1", None),
    ("::1", None, "::1", None),
    ("me@2001:db8::7", "me", "2001:db8::7", None),
    ("WIN$@h", "WIN$", "h", None),
])
def test_parse_host_reads_user_host_and_port_and_keeps_the_name_as_written(text, user, host, port):
    spec = parse_host(text)
    assert spec == HostSpec(name=text, user=user, host=host, port=port)
    assert str(spec) == text


def test_a_host_spec_is_immutable_and_hashable():
    spec = parse_host("root@h:22")
    with pytest.raises(AttributeError):
        spec.host = "other"  # type: ignore[misc]
    assert {spec, parse_host("root@h:22")} == {spec}


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ("-oProxyCommand=touch /tmp/x", "space"),
    ("-oProxyCommand=x", "starts with '-'"),
    ("root@-oProxyCommand=x", "starts with '-'"),
    ("-l@host", "starts with '-'"),
    ("a b", "space"),
    ("host\t", "space"),
    ("ho\x1b[2Jst", "control character"),
    ("host\n", "space"),
    ("host:0", "outside 1..65535"),
    ("host:65536", "outside 1..65535"),
    ("host:-1", "not a number"),
    ("host:22x", "not a number"),
    ("host:", "not a number"),
    ("host:²", "not a number"),
    ("@host", "user name before '@' is empty"),
    ("root@", "host name is empty"),
    (":22", "host name is empty"),
    ("ho/st", "cannot have"),
    ("h;rm -rf", "space"),
    ("h;id", "cannot have"),
    ("h$(id)", "cannot have"),
    ("us:er@h", "cannot have"),
    ("[::1", "no ']'"),
    ("[::1]x", "only ':PORT'"),
    ("[::1]:0", "outside 1..65535"),
    ("[nothex]:22", "not an IPv6 address"),
    ("::g", "not an IPv6 address"),
])
def test_parse_host_refuses_with_one_sentence(text, says):
    with pytest.raises(ValueError) as e:
        parse_host(text)
    message = str(e.value)
    assert says in message
    assert "\n" not in message and "\x1b" not in message and message.endswith(".")
    assert "[USER@]HOST[:PORT]" in message


def test_a_refused_host_is_shown_escaped():
    with pytest.raises(ValueError) as e:
        parse_host("evil\x1b]0;pwned\x07")
    assert "evil\\x1b]0;pwned\\x07" in str(e.value)


# ---------------------------------------------------------------------- read_hosts_file


def test_hosts_file_one_per_line_with_comments_and_blank_lines(tmp_path):
    f = tmp_path / "hosts"
    f.write_text("# the fleet\n\nroot@127.0.0.2:2222\n   web1   # the front\n[::1]:22\n\t\n")
    assert [h.name for h in read_hosts_file(str(f))] == ["root@127.0.0.2:2222", "web1", "[::1]:22"]


@pytest.mark.parametrize(("text", "line", "says"), [
    ("a\n-oProxyCommand=x\n", 2, "starts with '-'"),
    ("a\nb python=/usr/bin/python3\n", 2, "one host per line"),
    ("a\n\nb:99999\n", 3, "outside 1..65535"),
    ("a\nb\na\n", 3, "already on line 1"),
])
def test_hosts_file_errors_name_the_file_and_line(tmp_path, text, line, says):
    f = tmp_path / "hosts"
    f.write_text(text)
    with pytest.raises(ValueError) as e:
        read_hosts_file(str(f))
    assert str(e.value).startswith(f"{f}:{line}: ")
    assert says in str(e.value)


def test_a_hosts_file_that_names_no_host_or_cannot_be_read_is_one_sentence(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("# nobody\n\n")
    with pytest.raises(ValueError, match=r"names no host"):
        read_hosts_file(str(empty))
    with pytest.raises(ValueError, match=r"cannot be read: ENOENT \(No such file or directory\)") as e:
        read_hosts_file(str(tmp_path / "missing"))
    assert str(e.value).startswith(str(tmp_path / "missing") + ": ")
    with pytest.raises(ValueError, match=r"cannot be read: EISDIR"):
        read_hosts_file(str(tmp_path))


# ---------------------------------------------------------------------- ssh_argv


def test_ssh_argv_is_the_documented_argv(monkeypatch):
    monkeypatch.delenv("CTRTUI_SSH_CONFIG", raising=False)
    monkeypatch.delenv("CTRTUI_SSH", raising=False)
    argv = ssh_argv(parse_host("root@127.0.0.2:2222"), ["python3", "-c", "print(1)"])
    assert argv == ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5",
                    "-o", "ServerAliveCountMax=3", "-p", "2222", "-l", "root", "--", "127.0.0.2",
                    "python3 -c 'print(1)'"]
    bare = ssh_argv(parse_host("web1"), ["true"], connect_timeout=2.5, config="/etc/x y", ssh="/opt/ssh")
    assert bare == ["/opt/ssh", "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-o", "ServerAliveInterval=5",
                    "-o", "ServerAliveCountMax=3", "-F", "/etc/x y", "--", "web1", "true"]
    v6 = ssh_argv(parse_host("[::1]:22"), ["true"], connect_timeout=0.1)
    assert "ConnectTimeout=1" in v6 and v6[-5:] == ["-p", "22", "--", "::1", "true"]


def test_ssh_argv_takes_its_defaults_from_the_environment(monkeypatch):
    monkeypatch.setenv("CTRTUI_SSH_CONFIG", "/tmp/lab/ssh_config")
    monkeypatch.setenv("CTRTUI_SSH", "/usr/local/bin/myssh")
    argv = ssh_argv(parse_host("h"), ["true"])
    assert argv[0] == "/usr/local/bin/myssh"
    assert argv[argv.index("-F") + 1] == "/tmp/lab/ssh_config"
    explicit = ssh_argv(parse_host("h"), ["true"], config="/other", ssh="ssh")
    assert explicit[0] == "ssh" and explicit[explicit.index("-F") + 1] == "/other"


@pytest.mark.parametrize("word", [
    "a b", "$(touch /tmp/pwned)", "`id`", "'", '"', "x;y", "a\nb", "*", "~root", "&&", "|", "\\", "", "-x", "é",
])
def test_the_remote_command_is_one_quoted_word_the_remote_shell_splits_back(word):
    argv = ssh_argv(parse_host("h"), ["python3", "-c", word, word])
    assert argv[-2] == "h" and argv[-3] == "--"
    assert shlex.split(argv[-1]) == ["python3", "-c", word, word]


# ---------------------------------------------------------------------- classify_failure

REFUSED = "ssh: connect to host 127.0.0.9 port 2222: Connection refused\r\n"
CHANGED = """@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:zM2WYOaOe3J5goA7JmsueHbzO4j2/Wjdh22BKtnWjOo.
Please contact your system administrator.
Add correct host key in /root/.ssh/known_hosts to get rid of this message.
Offending ED25519 key in /root/.ssh/known_hosts:1
  remove with:
  ssh-keygen -f "/root/.ssh/known_hosts" -R "[127.0.0.204]:58155"
Host key for [127.0.0.204]:58155 has changed and you have requested strict checking.
Host key verification failed.
"""


@pytest.mark.parametrize(("rc", "stderr", "kind", "message"), [
    (255, REFUSED, "unreachable", "ssh: connect to host 127.0.0.9 port 2222: Connection refused"),
    (255, "ssh: connect to host 10.1.2.3 port 22: No route to host\n", "unreachable",
     "ssh: connect to host 10.1.2.3 port 22: No route to host"),
    (255, "ssh: Could not resolve hostname nohost: Name or service not known\n", "unreachable",
     "ssh: Could not resolve hostname nohost: Name or service not known"),
    (255, "ssh: connect to host 10.0.0.1 port 22: Network is unreachable\n", "unreachable",
     "ssh: connect to host 10.0.0.1 port 22: Network is unreachable"),
    (255, "kex_exchange_identification: Connection closed by remote host\n"
          "Connection closed by 127.0.0.5 port 22\n", "unreachable", "Connection closed by 127.0.0.5 port 22"),
    (255, "ssh: connect to host 10.0.0.1 port 22: Connection timed out\n", "timeout",
     "ssh: connect to host 10.0.0.1 port 22: Connection timed out"),
    (255, "ssh: connect to host 10.0.0.1 port 22: Operation timed out\n", "timeout",
     "ssh: connect to host 10.0.0.1 port 22: Operation timed out"),
    (255, "Connection timed out during banner exchange\n", "timeout", "Connection timed out during banner exchange"),
    (255, "Timeout, server 127.0.0.3 not responding.\n", "timeout", "Timeout, server 127.0.0.3 not responding."),
    (255, "root@127.0.0.2: Permission denied (publickey).\n", "auth", "root@127.0.0.2: Permission denied (publickey)."),
    (255, "Warning: Permanently added '[h]:22' (ED25519) to the list of known hosts.\n"
          "bob@h: Permission denied (publickey,password).\n", "auth", "bob@h: Permission denied (publickey,password)."),
    (255, "Received disconnect from 127.0.0.2 port 22:2: Too many authentication failures\n", "auth",
     "Received disconnect from 127.0.0.2 port 22:2: Too many authentication failures"),
    (255, CHANGED, "host-key", "REMOTE HOST IDENTIFICATION HAS CHANGED! Host key for [127.0.0.204]:58155 has "
                               "changed and you have requested strict checking. Host key verification failed."),
    (255, "No ED25519 host key is known for [127.0.0.2]:22 and you have requested strict checking.\n"
          "Host key verification failed.\n", "host-key",
     "No ED25519 host key is known for [127.0.0.2]:22 and you have requested strict checking. "
     "Host key verification failed."),
    (127, "bash: line 1: python3: command not found\n", "python-missing", "bash: line 1: python3: command not found"),
    (127, "sh: 1: python3: not found\n", "python-missing", "sh: 1: python3: not found"),
    (127, "bash: line 1: /nonexistent/python3: No such file or directory\n", "python-missing",
     "bash: line 1: /nonexistent/python3: No such file or directory"),
    (127, "", "python-missing", "the remote shell could not run python (exit status 127)"),
    (126, "bash: line 1: /etc/passwd: Permission denied\n", "python-missing",
     "bash: line 1: /etc/passwd: Permission denied"),
    (1, "sudo: /opt/py/bin/python3: command not found\n", "python-missing",
     "sudo: /opt/py/bin/python3: command not found"),
    # What sudo -n prints when it would need a password (sudo 1.9 and 1.8; checked against
    # these texts only: the machine the tests run on has no sudo, and no user is added for it).
    (1, "sudo: a password is required\n", "sudo-password", "sudo: a password is required"),
    (1, "sudo: a terminal is required to read the password; either use the -S option to read from standard input "
        "or configure an askpass helper\n", "sudo-password",
     "sudo: a terminal is required to read the password; either use the -S option to read from standard input or "
     "configure an askpass helper"),
    (1, "sudo: no tty present and no askpass program specified\n", "sudo-password",
     "sudo: no tty present and no askpass program specified"),
    (127, "bash: line 1: sudo: command not found\n", "usage", "bash: line 1: sudo: command not found"),
    (1, "This account is currently not available.\n", "agent-died", "This account is currently not available."),
    (255, "something ssh never said before\nlast words\n\n", "unreachable", "last words"),
    (255, "", "unreachable", "ssh exited with status 255 without a word"),
    (None, "", "dropped", "ssh was stopped before it said anything"),
    (-9, "", "dropped", "killed by signal 9 before the host answered"),
    (-15, "Killed by signal 15.\n", "dropped", "Killed by signal 15."),
    (3, "", "agent-died", "the remote command exited with status 3 without a word"),
    (1, "Traceback ...\nOSError: Connection timed out\n", "agent-died", "OSError: Connection timed out"),
])
def test_classify_failure_passes_on_ssh_s_own_line(rc, stderr, kind, message):
    assert classify_failure(rc, stderr) == (kind, message)
    k, m, hint = describe_failure(rc, stderr)
    assert (k, m) == (kind, message) and hint and "\n" not in hint


def test_a_remote_failure_text_from_ssh_itself_is_not_taken_for_a_missing_python():
    # ssh's own error (exit 255) that mentions a missing file is ssh's problem, not python's
    said = "Can't open user config file /nope: No such file or directory\n"
    assert classify_failure(255, said) == ("unreachable", said.strip())


def test_classified_messages_are_scrubbed():
    said = "ssh: Could not resolve hostname \x1b]0;x\x07evil: Name or service not known\n"
    kind, message = classify_failure(255, said)
    assert kind == "unreachable" and "\x1b" not in message and "\\x1b]0;x\\x07evil" in message


def test_every_kind_has_a_hint():
    for kind in ("unreachable", "timeout", "auth", "host-key", "python-missing", "sudo-password", "dropped",
                 "agent-died"):
        assert hint_for(kind) and hint_for(kind)[0].islower() and not hint_for(kind).endswith(".")
    assert hint_for("no such kind") == ""
