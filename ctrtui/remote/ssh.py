"""The transport to a remote host: the system's OpenSSH client, run as an argv (never a shell).

ctrtui does no cryptography and no authentication of its own: it runs `ssh`, so everything
the user set up for ssh (`~/.ssh/config`, keys, agents, known_hosts, ProxyJump,
ControlMaster) applies as it is. This module knows only how to

- read what the user wrote for a host (`parse_host`, `read_hosts_file`) into a `HostSpec`,
  refusing anything ssh could take for an option or that could not be a host name;
- build the ssh command line (`ssh_argv`): options that make ssh never prompt and never
  hang, `--` before the host, and the remote command quoted with `shlex.join` (the remote
  sshd hands it to the user's login shell, so every word is quoted for a POSIX shell);
- tell what went wrong when ssh fails (`classify_failure`): ssh's own line, passed on
  (scrubbed: it may quote a host name or a banner) with a kind and a hint of what to do.

Environment: `CTRTUI_SSH_CONFIG` (an ssh `-F` file) and `CTRTUI_SSH` (the ssh program) are
the defaults of `ssh_argv`'s `config` and `ssh`.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from dataclasses import dataclass

from ctrtui.text import display, scrub

__all__ = [
    "HINTS", "HostSpec", "classify_failure", "default_ssh", "default_ssh_config", "describe_failure", "hint_for",
    "try_command", "unreachable_hint",
    "parse_host", "read_hosts_file", "ssh_argv",
]


@dataclass(frozen=True)
class HostSpec:
    """One host as the user named it. `name` is exactly what was written
    (`root@127.0.0.2:2222`): it is how the host is shown and told apart."""

    name: str
    user: str | None
    host: str
    port: int | None

    def __str__(self) -> str:
        return self.name


# A host name or IPv4 address as ssh takes it (letters, digits, '.', '-', '_'); an IPv6
# address (hex digits, ':' and '.', optionally a '%zone') written bare or in brackets.
_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?")
# A user name as POSIX allows it (plus '$' for machine accounts): never a leading '-'.
_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.$-]*")
_FORM = "write it as [USER@]HOST[:PORT] ([USER@][ADDRESS]:PORT for an IPv6 address)"


def _bad(text: str, why: str) -> ValueError:
    return ValueError(f"'{display(text)}' is not a host: {why}; {_FORM}.")


def _port(text: str, digits: str) -> int:
    if not digits.isascii() or not digits.isdigit():
        raise _bad(text, f"the port '{display(digits)}' is not a number")
    port = int(digits)
    if not 1 <= port <= 65535:
        raise _bad(text, f"the port {port} is outside 1..65535")
    return port


def parse_host(text: str) -> HostSpec:
    """`[USER@]HOST[:PORT]` -> a HostSpec; `[::1]:2222` and bare `::1` for IPv6. Raises
    ValueError with one sentence for anything else: empty, spaces or control characters,
    a leading '-' (ssh would read it as an option), a port outside 1..65535."""
    if not text:
        raise ValueError(f"an empty host name is not a host; {_FORM}.")
    if not text.isprintable() or any(c.isspace() for c in text):
        raise _bad(text, "it contains a space or a control character")
    if text.startswith("-"):
        raise _bad(text, "it starts with '-', which ssh would read as an option")
    user: str | None = None
    rest = text
    if "@" in text:
        user, _, rest = text.rpartition("@")
        if not user:
            raise _bad(text, "the user name before '@' is empty")
        if not _USER.fullmatch(user):  # (a leading '-' was refused above)
            raise _bad(text, f"the user name '{display(user)}' has a character a user name cannot have")
    port: int | None = None
    if rest.startswith("["):
        inside, sep, after = rest[1:].partition("]")
        if not sep:
            raise _bad(text, "the '[' of an IPv6 address has no ']'")
        if after:
            if not after.startswith(":"):
                raise _bad(text, "only ':PORT' may follow the ']' of an IPv6 address")
            port = _port(text, after[1:])
        if not _IPV6.fullmatch(inside):
            raise _bad(text, f"'{display(inside)}' inside [...] is not an IPv6 address")
        host = inside
    elif rest.count(":") > 1:  # a bare IPv6 address: no port (that needs the brackets)
        if not _IPV6.fullmatch(rest):
            raise _bad(text, f"'{display(rest)}' is not an IPv6 address (and a port after one needs [ADDRESS]:PORT)")
        host = rest
    else:
        host, sep, digits = rest.partition(":")
        if sep:
            port = _port(text, digits)
        if not host:
            raise _bad(text, "the host name is empty")
        if host.startswith("-"):
            raise _bad(text, "the host name starts with '-', which ssh would read as an option")
        if not _NAME.fullmatch(host):
            raise _bad(text, f"the host name '{display(host)}' has a character a host name cannot have")
    return HostSpec(name=text, user=user, host=host, port=port)


def read_hosts_file(path: str) -> list[HostSpec]:
    """The hosts of a hosts file: one `[USER@]HOST[:PORT]` per line; blank lines and
    comments (from '#' to the end of the line) are skipped. Anything else on a line (a
    second word) is refused: per-host options belong in the ssh config, keyed by the host.
    Raises ValueError `FILE:LINE: ...` (or `FILE: ...` when it cannot be read, names no
    host, or names one host twice)."""
    shown = display(path)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError as e:
        from ctrtui.errors import os_error_text

        raise ValueError(f"{shown}: the hosts file cannot be read: {os_error_text(e)}.") from None
    except ValueError as e:  # a NUL in the path
        raise ValueError(f"{shown}: the hosts file cannot be read: {e}.") from None
    hosts: list[HostSpec] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 1:
            raise ValueError(f"{shown}:{number}: one host per line, but this line has {len(words)} words "
                             f"('{display(words[1])}' follows '{display(words[0])}'); per-host ssh options "
                             "belong in the ssh config.")
        try:
            spec = parse_host(words[0])
        except ValueError as e:
            raise ValueError(f"{shown}:{number}: {e}") from None
        if spec.name in seen:
            raise ValueError(f"{shown}:{number}: '{display(spec.name)}' is already on line {seen[spec.name]}.")
        seen[spec.name] = number
        hosts.append(spec)
    if not hosts:
        raise ValueError(f"{shown}: the hosts file names no host (one [USER@]HOST[:PORT] per line).")
    return hosts


def default_ssh_config() -> str | None:
    """The ssh `-F` file from `CTRTUI_SSH_CONFIG`, or None (ssh reads its usual config)."""
    return os.environ.get("CTRTUI_SSH_CONFIG") or None


def default_ssh() -> str:
    """The ssh program from `CTRTUI_SSH`, or `ssh` (found on PATH)."""
    return os.environ.get("CTRTUI_SSH") or "ssh"


def ssh_argv(spec: HostSpec, remote_command: list[str], *, connect_timeout: float = 10,
             config: str | None = None, ssh: str | None = None) -> list[str]:
    """The argv that runs `remote_command` on `spec` through ssh: no tty, never a prompt
    (BatchMode), a bounded connect (ConnectTimeout, whole seconds, at least 1) and a dead
    connection noticed within ~15 s (ServerAlive). `--` ends ssh's options before the host;
    the remote command is one word quoted with `shlex.join` (the remote login shell splits
    it again, so each word arrives as it is). `config` and `ssh` default to
    `CTRTUI_SSH_CONFIG` and `CTRTUI_SSH`."""
    if config is None:
        config = default_ssh_config()
    seconds = max(1, math.ceil(connect_timeout))
    argv = [ssh or default_ssh(), "-T", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={seconds}",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
    if config:
        argv += ["-F", config]
    if spec.port is not None:
        argv += ["-p", str(spec.port)]
    if spec.user is not None:
        argv += ["-l", spec.user]
    return [*argv, "--", spec.host, shlex.join(remote_command)]


def try_command(spec: HostSpec, config: str | None = None, ssh: str | None = None) -> str:
    """The ssh command, shell-quoted, that tries the connection `ssh_argv` makes by hand: the
    same program, ssh config (`-F`), port and user, running `true` on the host."""
    argv = [ssh or default_ssh()]
    if config:
        argv += ["-F", config]
    if spec.port is not None:
        argv += ["-p", str(spec.port)]
    if spec.user is not None:
        argv += ["-l", spec.user]
    return shlex.join([*argv, "--", spec.host, "true"])


def unreachable_hint(command: str = "ssh HOST true") -> str:
    """What to do when ssh could not reach the host; `command`: `try_command`'s, to run by hand."""
    return f"check the host name and port, that the host is up and that its sshd is running (try `{command}`)"


#: What to do about each kind of failure ssh can report (`HostError.hint`; it follows the
#: message after a semicolon, hence the small letter and no final period). `connect` puts
#: the host's own ssh command (`try_command`) in the unreachable one.
HINTS: dict[str, str] = {
    "unreachable": unreachable_hint(),
    "timeout": "the host did not answer in time: check that it is up and that nothing filters the port, "
               "or raise --timeout",
    "auth": "ssh could not log in without a prompt: load the key into ssh-agent or name it in the ssh config "
            "(IdentityFile), and check the user; ctrtui never asks for a password",
    "host-key": "check the host's key fingerprint with its administrator; if the key changed on purpose, "
                "remove the old one (ssh-keygen -R HOST) and connect once with ssh to accept the new one",
    "python-missing": "install python3 (3.9 or newer) on the host, or name its interpreter with --remote-python",
    "sudo-password": "sudo wants a password, which ctrtui never types: allow this user passwordless sudo "
                     "(NOPASSWD) for python3, or log in as root, or drop --sudo to look without changing",
    "dropped": "the connection went away; contact the host again (a move or undo it cut off is in the host's "
               "journal: `ctrtui log --host HOST`)",
    "agent-died": "the remote side stopped before it answered; run the same ssh command by hand to see why",
}


def hint_for(kind: str) -> str:
    """What to do about a failure of this kind ('' when there is nothing to say)."""
    return HINTS.get(kind, "")


# (kind, pattern) in order: the first pattern found in ssh's stderr decides. ssh itself
# exits 255 when it fails; the remote command's own exit status comes back otherwise.
_SSH_FAILURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.I)) for kind, p in (
    ("host-key", r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|"
                 r"host key is known for .* and you have requested strict checking|"
                 r"Host key for .* has changed"),
    ("auth", r"Permission denied \(|Too many authentication failures|No supported authentication methods"),
    ("timeout", r"timed out|Timeout, server .* not responding|banner exchange.*timeout"),
    ("unreachable", r"Connection refused|No route to host|Could not resolve hostname|Network is unreachable|"
                    r"Name or service not known|Temporary failure in name resolution|"
                    r"kex_exchange_identification|Connection reset by peer|Connection closed by"),
))
_REMOTE_FAILURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, re.I)) for kind, p in (
    ("sudo-password", r"sudo: (a password is required|a terminal is required|"
                      r"no tty present and no askpass program specified)"),
    ("sudo-missing", r"\bsudo: (command )?not found$|\bsudo: No such file or directory$"),
    ("python-missing", r"command not found|: not found$|No such file or directory$"),
))
# Lines of ssh's host-key banner that say nothing a person needs in one message.
_BANNER = re.compile(r"^@+|^IT IS POSSIBLE|^Someone could be|^It is also possible|^The fingerprint|^SHA256:|"
                     r"^Please contact|^Add correct host key|^Offending .* key in|^ *remove with:|^ *ssh-keygen -f")


def _lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip()]


def classify_failure(returncode: int | None, stderr: str) -> tuple[str, str]:
    """What an ssh that failed (exit status `returncode` as Popen gives it: negative when a
    signal killed it here, None when unknown) said:
    `(kind, message)`. The kind is one of HostError's; the message is ssh's own line (for a
    changed host key its summary lines), scrubbed, so a person reads exactly what ssh
    said. `describe_failure` adds what to do. Falls back to the last non-empty stderr line
    (kind "unreachable" when ssh itself failed, exit 255; "agent-died" when the remote
    command did)."""
    kind, message, _ = describe_failure(returncode, stderr)
    return kind, message


def describe_failure(returncode: int | None, stderr: str) -> tuple[str, str, str]:
    """`classify_failure`'s `(kind, message)` plus a hint of what to do."""
    kind, message = _classify(returncode, stderr)
    if kind == "sudo-missing":  # not a kind of its own: --sudo cannot work on this host
        return "usage", message, ("sudo is not installed on the host: log in as a user that may read and "
                                  "write its cgroups (root) instead of using --sudo")
    return kind, message, hint_for(kind)


def _classify(returncode: int | None, stderr: str) -> tuple[str, str]:
    lines = _lines(stderr)
    if returncode is not None and returncode < 0:  # killed by a signal here: ssh itself (or a local agent)
        return "dropped", scrub(lines[-1] if lines else f"killed by signal {-returncode} before the host answered")
    remote = returncode is not None and returncode != 255
    if remote:
        for kind, pattern in _REMOTE_FAILURES:
            for line in lines:
                if pattern.search(line):
                    return kind, scrub(line)
        if returncode in (126, 127):  # the shell's "cannot execute" / "not found"
            return "python-missing", scrub(lines[-1] if lines else
                                           f"the remote shell could not run python (exit status {returncode})")
    for kind, pattern in () if remote else _SSH_FAILURES:  # the remote command ran: ssh itself did not fail
        hits = [line for line in lines if pattern.search(line)]
        if not hits:
            continue
        if kind == "host-key":
            said = [line for line in lines if not _BANNER.search(line)]
            if any("IDENTIFICATION HAS CHANGED" in line for line in lines):
                said.insert(0, "REMOTE HOST IDENTIFICATION HAS CHANGED!")
            return kind, scrub(" ".join(said or hits))
        return kind, scrub(hits[-1])
    if lines:
        return ("agent-died" if remote else "unreachable"), scrub(lines[-1])
    if returncode is None:
        return "dropped", "ssh was stopped before it said anything"
    if remote:
        return "agent-died", f"the remote command exited with status {returncode} without a word"
    return "unreachable", f"ssh exited with status {returncode} without a word"
