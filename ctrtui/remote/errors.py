"""Errors of remote hosts: `HostError` (a host could not be used) and `RemoteOpError` (the
agent on the host answered a request with an error). docs/remote.md lists the kinds."""

from __future__ import annotations

from ctrtui.text import scrub

MAX_MESSAGE = 2000
"""The longest message (and hint) kept, in characters: they may quote what a host sent."""

__all__ = ["EXIT_HOST", "HOST_KINDS", "HostError", "RemoteOpError"]

EXIT_HOST = 3
"""Exit status of a command when a host could not be used (0 ok, 1 refused, 2 usage)."""

HOST_KINDS = frozenset({
    "unreachable", "auth", "host-key", "timeout", "python-missing", "python-too-old", "version",
    "sudo-password", "dropped", "agent-died", "protocol", "bad-request", "read-only", "usage",
})
"""The kinds of `HostError` (what went wrong, for code; the message is for people)."""


class HostError(Exception):
    """One host could not be used. `str(e)` is one sentence for a person (already scrubbed):
    the host's name, what went wrong, and the hint (what to do) when there is one."""

    host: str
    kind: str
    message: str
    hint: str

    def __init__(self, host: str, kind: str, message: str, hint: str = "") -> None:
        self.host = host
        self.kind = kind
        self.message = scrub(_bounded(message))
        self.hint = scrub(_bounded(hint))
        super().__init__(host, kind, self.message, self.hint)

    def __str__(self) -> str:
        text = f"{scrub(self.host)}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return f"HostError({self.host!r}, {self.kind!r}, {self.message!r}, {self.hint!r})"


class RemoteOpError(Exception):
    """The agent refused or failed one request (`{"ok": false}`); the host itself is fine and
    the channel stays usable. `kind` as the agent said it (`bad-request`, `read-only`,
    `not-found`, `os-error`, `internal`, ...), `errno` its errno name or None."""

    host: str
    op: str
    kind: str
    message: str
    errno: str | None

    def __init__(self, host: str, op: str, kind: str, message: str, errno: str | None = None) -> None:
        self.host = host
        self.op = op
        self.kind = kind
        self.message = scrub(_bounded(message))
        self.errno = errno if errno is None else scrub(_bounded(errno, 40))
        super().__init__(host, op, kind, self.message, errno)

    def __str__(self) -> str:
        return f"{scrub(self.host)}: {self.message}"


def _bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
