"""Contact one host: ssh to it, start the agent there, and hand back the open channel.

`connect(spec, options)` builds the ssh argv (`ctrtui.remote.ssh.ssh_argv`) around the
agent's bootstrap command (`ctrtui.remote.channel.remote_command`: `[sudo -n --] PYTHON -E -s
-c STUB`) and opens an `AgentChannel` on it. Whatever goes wrong comes out as one `HostError`
for that host: when ssh itself (or the remote shell, or sudo) failed before the agent said
hello, the channel passes on its own words, classified by `ctrtui.remote.ssh.describe_failure`
(unreachable, timeout, auth, host-key, python-missing, sudo-password).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ctrtui.remote.errors import HostError
from ctrtui.remote.ssh import HINTS, HostSpec, default_ssh, default_ssh_config, ssh_argv, try_command, unreachable_hint

if TYPE_CHECKING:
    from ctrtui.remote.channel import AgentChannel

__all__ = ["ConnectOptions", "connect", "ssh_connect_timeout"]


@dataclass(frozen=True)
class ConnectOptions:
    """How to reach hosts: `sudo` runs the agent with `sudo -n` (never a password prompt);
    `python` is the host's interpreter; `timeout` bounds the connection and the start of the
    agent (seconds); `ssh_config` (an ssh `-F` file) and `ssh` (the program) default to
    `CTRTUI_SSH_CONFIG` and `CTRTUI_SSH` as they are when the options are made."""

    sudo: bool = False
    python: str = "python3"
    timeout: float = 10.0
    ssh_config: str | None = field(default_factory=default_ssh_config)
    ssh: str = field(default_factory=default_ssh)

    def __post_init__(self) -> None:
        if not (isinstance(self.timeout, int | float) and math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"the timeout must be a positive number of seconds, not {self.timeout!r}.")
        if not self.python or self.python.startswith("-") or not self.python.isprintable():
            raise ValueError("the remote python must be a program name or path (not empty, not starting with '-').")


def connect(spec: HostSpec, options: ConnectOptions | None = None) -> AgentChannel:
    """An open channel to the ctrtui agent on `spec` (its hello read and checked). Raises
    HostError (never anything else) when the host cannot be used: the channel reads what
    ssh said when it ended before the agent's hello (`ctrtui.remote.ssh.describe_failure`).

    ssh's ConnectTimeout is a second shorter than the whole timeout (at least 1 s), so a
    host that does not answer is reported in ssh's own words ("Connection timed out during
    banner exchange") rather than as the channel's deadline. When ssh could not reach the
    host, the hint names the ssh command to try by hand, with this host's port and user and
    the ssh config and program in use (`--ssh-config`, `CTRTUI_SSH_CONFIG`, `CTRTUI_SSH`)."""
    from ctrtui.remote.channel import AgentChannel, remote_command

    options = options or ConnectOptions()
    argv = ssh_argv(spec, remote_command(python=options.python, sudo=options.sudo),
                    connect_timeout=ssh_connect_timeout(options.timeout), config=options.ssh_config, ssh=options.ssh)
    try:
        return AgentChannel.open(argv, name=spec.name, timeout=options.timeout, transport="ssh")
    except HostError as e:
        if e.kind != "unreachable" or e.hint != HINTS["unreachable"]:
            raise
        hint = unreachable_hint(try_command(spec, options.ssh_config, options.ssh))
        raise HostError(e.host, e.kind, e.message, hint) from None


def ssh_connect_timeout(timeout: float) -> int:
    """ssh's ConnectTimeout (whole seconds) for a connection that may take `timeout` in all."""
    return max(1, math.ceil(timeout) - 1)
