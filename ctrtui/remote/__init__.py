"""Local side of ctrtui on remote hosts: the ssh transport, the channel to the agent.

Never travels (the agent's side is `ctrtui.agent`); may import anything but Textual.
docs/remote.md describes the protocol. The names most code needs:

- `AgentChannel` (`channel`): one host's agent, `open` / `call` / `close`;
  `remote_command(python, sudo)` is what runs on the host;
- `RemoteReader` (`reader`): a host as a `ctrtui.sources.base.Reader`; `RemoteService`
  (`service`): a host as a `ctrtui.service.protocol.Service`;
- `HostError`, `RemoteOpError`, `EXIT_HOST` (`errors`);
- `each_host` (`fleet`): many hosts at once, bounded, each with its timeout.
"""

from __future__ import annotations

from ctrtui.remote.errors import EXIT_HOST, HostError, RemoteOpError

__all__ = ["EXIT_HOST", "AgentChannel", "HostError", "RemoteOpError", "RemoteReader", "remote_command"]


def __getattr__(name: str) -> object:
    if name in ("AgentChannel", "remote_command"):
        from ctrtui.remote import channel

        return getattr(channel, name)
    if name == "RemoteReader":
        from ctrtui.remote.reader import RemoteReader

        return RemoteReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
