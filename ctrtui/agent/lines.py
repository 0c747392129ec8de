"""The agent protocol's lines (docs/remote.md): how a value becomes one line (`encode`) and
a line a value (`decode`), the error answer, and the agent's first line (`hello`, with the
batches its host's journal holds open).
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["decode", "encode", "error_answer", "hello", "open_batches"]


def encode(obj: object) -> bytes:
    """One protocol line: compact JSON, ASCII only (non-UTF-8 names travel as `\\udcNN`
    escapes of their surrogateescape form), newline-terminated."""
    return (json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def decode(line: bytes) -> Any:
    """The JSON value of one line; ValueError when it is not JSON (NaN and Infinity refused)."""
    return json.loads(line.decode("utf-8"), parse_constant=_no_constant)


def hello() -> dict[str, object]:
    """The agent's first line: who and what it is, and whether it may change the host."""
    import platform
    import socket

    from ctrtui import __version__
    from ctrtui.service import PROTOCOL

    euid = os.geteuid()
    try:
        import pwd

        user: str | None = pwd.getpwuid(euid).pw_name
    except (ImportError, KeyError):
        user = None
    writable = euid == 0
    opened, journal_problem = open_batches()
    from ctrtui.sources.systemd import detect

    return {
        "protocol": PROTOCOL, "version": __version__, "hostname": socket.gethostname(),
        "python": platform.python_version(), "uid": os.getuid(), "euid": euid, "user": user,
        "pid": os.getpid(), "writable": writable,
        "why_read_only": None if writable else "not root: connect with --sudo to change this host",
        "open_batches": opened, "journal_problem": journal_problem,
        "systemd": detect().manages,  # the systemd route and new scopes apply here (docs/systemd.md)
    }


def open_batches(path: str | None = None) -> tuple[list[dict[str, object]], str | None]:
    """The batches this host's journal (the one `ctrtui move` uses here) holds open: their
    process, or the connection that drove it, ended before their close record. The next
    `move` or `undo` on this host recovers them; the hello says so at once, so that the first
    contact after a dropped connection reports it. ([], None) while another ctrtui holds the
    journal (its batch is at work, not left open) or when there is no journal; ([], sentence)
    when it cannot be read."""
    from ctrtui.engine.journal import Journal, default_journal_path

    path = path or default_journal_path()
    if not os.path.exists(path):
        return [], None
    try:
        journal = Journal(path)
        if journal.busy():
            return [], None  # a batch is being written right now
        found = journal.open_batches()
    except Exception as e:  # noqa: BLE001 - the hello must come whatever the journal holds
        return [], f"the journal {path} could not be read: {e}"
    return [{"batch": b.id, "time": b.time, "op": b.op or "move", "hierarchy": b.hierarchy, "target": b.target,
             "tasks": len(b.tasks), "undo_of": b.undo_of} for b in found], None


def error_answer(rid: object, kind: str, message: str, errno: str | None = None) -> dict[str, object]:
    """An error answer: its error encoded as ctrtui/service/codec.py says (the local side
    decodes it with the same module)."""
    from ctrtui.service.codec import encode_error

    return {"id": rid, "ok": False, "error": encode_error(kind, message, errno)}
