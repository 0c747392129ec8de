"""The local end of the protocol: a subprocess (ssh running the stub on a host, or the stub run
directly in tests) spoken to in JSON lines over its stdin/stdout (docs/remote.md).

`AgentChannel.open(argv, name=..., timeout=...)` starts `argv`, does the handshake (the stub's
line, `installed` or the bundle, the agent's hello) and returns a channel; `call` sends one
request and waits for its answer; `close` says `bye` and makes sure the subprocess is gone.

No threads: every wait is a `selectors` wait on the subprocess's pipes with a deadline
(`AgentPipes`, ctrtui/remote/pipes.py), so a host that never answers costs a `timeout`
HostError (and the subprocess, killed) once the timeout has passed, never a hang. stderr is
read all along (a full stderr pipe would block the other side) and its last lines kept for the
error messages.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import threading
import time
from typing import Any

from ctrtui.remote.errors import HostError, RemoteOpError
from ctrtui.remote.pipes import AgentPipes
from ctrtui.text import display, scrub

__all__ = ["ANSWER_LIMITS", "AgentChannel", "HANDSHAKE_LIMIT", "MAX_CONTAINERS", "MAX_LINE",
           "remote_command"]

MIB = 1024 * 1024
MAX_LINE = 4 * MIB
"""The longest answer (bytes, one line) of an op without a limit of its own in ANSWER_LIMITS."""
ANSWER_LIMITS = {"snapshot": 64 * MIB, "read_cgroups": 16 * MIB, "task_details": 8 * MIB,
                 "plan": 64 * MIB, "apply": 32 * MIB, "undo": 32 * MIB, "log": 16 * MIB, "stats": 16 * MIB,
                 "history_sample": 64 * MIB, "history_timeline": 64 * MIB, "history_where": 16 * MIB,
                 "history_diff": 64 * MIB, "history_figures": 64 * MIB}
"""The longest answer to these ops (bytes): a snapshot is one base64 text (its unpacking is
bounded by ctrtui.model.wire); a cgroup's member lists can be long; a
plan carries each task's facts (about 450 bytes a PID, up to ctrtui.agent.calls.MAX_PIDS), a
report about 220 bytes a PID; a recorded sample is a snapshot and its tasks' names; a time
line about 20 bytes a sample; a sample's figures about 100 bytes a cgroup."""
HANDSHAKE_LIMIT = 1 * MIB
"""The most the host may have sent and we not yet read as a line, until its hello is read:
the stub's line, the hello and a login script's lines are short; a host that floods (also
while the bundle is being sent) is a protocol error once it passes this."""
MAX_CONTAINERS = 262144
"""The most JSON arrays and objects (`[` and `{`, counted in the raw line, so also inside
texts) one answer may hold: an empty list costs 64 bytes in memory for its 3 on the wire."""
_HANDSHAKE_NOISE = 200
"""Lines before the stub's that are skipped (a login script that prints); more: protocol error."""
_NOISE_SHOWN = 200
"""How much of a login script's line is kept, to be quoted in the error."""


BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,79}\Z")
"""A batch id as the journal writes them (ctrtui.engine.journal's own pattern): only such an
id from a host is put into a suggested command (quoted even so)."""

_HELLO: dict[str, tuple[type, ...]] = {
    "version": (str,), "hostname": (str,), "python": (str,), "uid": (int,), "euid": (int,),
    "user": (str, type(None)), "writable": (bool,), "why_read_only": (str, type(None)),
}
"""The hello's fields (besides `protocol`) and their types: anything else is a protocol error
(the values are still hostile text: shown with ctrtui.text.display)."""


def remote_command(python: str = "python3", sudo: bool = False) -> list[str]:
    """The command run on the host: `[sudo -n --] PYTHON -E -s -c STUB` (an argv: whoever runs
    it through a shell quotes every word). `-E` ignores the PYTHON* variables and `-s` the
    user's site-packages: where sudo keeps HOME, the invoking user's `.pth` files would
    otherwise run as root before any of ctrtui's code."""
    from ctrtui.remote.stub import STUB

    return (["sudo", "-n", "--"] if sudo else []) + [python, "-E", "-s", "-c", STUB]


class AgentChannel(AgentPipes):
    """A connection to one host's agent. Safe to share between threads (one call at a time)."""

    hello: dict[str, Any]
    mode: str

    def __init__(self, proc: subprocess.Popen[bytes], name: str, timeout: float, transport: str | None = None) -> None:
        super().__init__(proc, name, timeout, transport, cap=HANDSHAKE_LIMIT)
        self.hello = {}
        self.mode = ""  # "installed" or "bundle", once the handshake is done
        self._lock = threading.Lock()
        self._next_id = 1
        self._closed = False

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, argv: list[str], *, name: str, timeout: float = 10.0, transport: str | None = None) -> AgentChannel:
        """Start `argv` (the stub on the host) and do the handshake; the channel, or HostError
        (the subprocess is gone then). `transport`: the program `argv` runs when it only
        carries the connection (`ssh`)."""
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    bufsize=0, close_fds=True)
        except OSError as e:
            from ctrtui.errors import os_error_text

            raise HostError(name, "unreachable", f"could not start {argv[0]}: {os_error_text(e)}",
                            "check that the ssh program is installed (or set CTRTUI_SSH)") from None
        channel = cls(proc, name, timeout, transport)
        try:
            channel._shake()
        except BaseException:
            channel._kill()
            raise
        return channel

    def _shake(self) -> None:
        from ctrtui import __version__
        from ctrtui.remote.stub import STUB_VERSION
        from ctrtui.service import PROTOCOL

        self._limit = self.timeout
        self._cap = HANDSHAKE_LIMIT
        deadline = time.monotonic() + self.timeout
        noise: list[str] = []
        while True:
            line = self._line(deadline, "the host's Python to start")
            if line.startswith(b'{"ctrtui"'):
                break
            noise.append(line[:_NOISE_SHOWN].decode("utf-8", "replace").strip())
            if len(noise) > _HANDSHAKE_NOISE:
                self._fail("protocol", "the host printed something other than ctrtui's stub: "
                           + (noise[0][:200] if noise else ""), "check the remote user's login scripts")
        stub = self._json(line, "the stub's first line")
        error = stub.get("error")
        python = stub.get("python")
        if error == "python-too-old":
            self._fail("python-too-old", f"the host's Python is {python}, and ctrtui's agent needs Python 3.9 or newer",
                       "install a newer python3 on the host, or name one with --remote-python")
        if error is not None:
            self._fail("agent-died", f"the stub on the host failed: {stub.get('message') or error}")
        if stub.get("stub") != STUB_VERSION:
            self._fail("version", f"the host's stub speaks version {stub.get('stub')!r}, this ctrtui version "
                       f"{STUB_VERSION}")
        if stub.get("installed") == __version__:
            self.mode = "installed"
            self._send(b'{"use":"installed"}\n', deadline)
        else:
            from ctrtui.remote.bundle import bundle

            b = bundle()
            self.mode = "bundle"
            head = json.dumps({"use": "bundle", "size": len(b.data), "sha256": b.sha256}).encode() + b"\n"
            self._send(head + b.data, deadline)
        line = self._line(deadline, "the agent's hello")
        hello = self._json(line, "the agent's hello")
        if hello.get("ctrtui") == "stub":
            self._fail("agent-died", f"the agent on the host could not start: {hello.get('message') or hello}")
        if hello.get("protocol") != PROTOCOL:
            self._fail("version", f"the agent on the host speaks protocol {hello.get('protocol')!r} "
                       f"(ctrtui {hello.get('version')!r}), this ctrtui speaks protocol {PROTOCOL} "
                       f"(ctrtui {__version__})",
                       "use the same ctrtui version on both sides, or remove ctrtui from the host (it is then sent)")
        for key, types in _HELLO.items():
            value = hello.get(key)
            if type(value) not in types or (type(value) is int and not 0 <= value < 2 ** 32):
                self._fail("protocol", f"the agent's hello has no proper '{key}' ({_shown(line)})")
        self.hello = hello
        self._handshake = False

    def left_open(self, how: str | None = None) -> list[str]:
        """One sentence for each batch the host's journal holds open (the hello's
        `open_batches`): its ctrtui, or the connection that drove it, ended mid-batch. The
        host's journal kept the intent; the next `move` or `undo` there records what the batch
        really did, and `undo` moves it back. `how`: how to reach this host on the command line
        (`--host NAME`), for the advice. Malformed entries are left out (hostile text)."""
        got = self.hello.get("open_batches")
        if not isinstance(got, list):
            return []
        how = how or f"--host {shlex.quote(self.name)}"
        out = []
        odd = 0  # entries whose batch id is not one the journal writes
        for b in got[:20]:
            if not isinstance(b, dict):
                continue
            batch, op, target, hier = b.get("batch"), b.get("op"), b.get("target"), b.get("hierarchy")
            tasks, when = b.get("tasks"), b.get("time")
            if not (isinstance(batch, str) and isinstance(op, str) and isinstance(hier, str)
                    and (target is None or isinstance(target, str)) and type(tasks) is int
                    and 0 <= tasks < 2 ** 31 and isinstance(when, str)):
                continue
            undo_of = b.get("undo_of")
            if undo_of is not None and not (isinstance(undo_of, str) and BATCH_ID.match(undo_of)):
                undo_of = None  # not an id the journal writes: never put in a command
            if not BATCH_ID.match(batch):  # never put in a command, nor shown
                odd += 1
                continue
            n = f"{tasks} task{'s' if tasks != 1 else ''}"
            if op == "move" and isinstance(undo_of, str):  # an undo: it moved tasks back
                what, again = f"an undo of batch {undo_of}, moving {n} back", shlex.quote(undo_of)
            else:
                what, again = (f"a move of {n}" if op == "move" else f"a {display(op[:40])}"), shlex.quote(batch)
            # an undo's intent names the first of the cgroups it moves tasks back to: leave it out
            where = (f" to {display(hier[:255])}:{display(target[:4096])}"
                     if target and not isinstance(undo_of, str) else "")
            batch = shlex.quote(batch)
            when = display(when[:40])
            todo = (f"`ctrtui undo {how} {again}` finishes the undo" if isinstance(undo_of, str)
                    else f"`ctrtui undo {how} {again}` moves back what it moved")
            out.append(scrub(
                f"batch {batch} ({what}{where}, started {when}) was left open on this host: its "
                f"ctrtui, or the connection to it, ended mid-batch; the host's journal keeps it. "
                f"`ctrtui log {how}` shows it, {todo}"))
        if odd:
            some = f"{odd} open batches on this host have ids" if odd != 1 else "1 open batch on this host has an id"
            out.append(f"{some} that ctrtui's journal never writes: not shown (`ctrtui log {scrub(how)}` lists "
                       "the host's batches as its journal holds them)")
        if len(got) > 20:
            out.append(f"{len(got) - 20} more batches are open on this host (`ctrtui log {scrub(how)}`)")
        return out

    # ------------------------------------------------------------------ calls

    def call(self, op: str, args: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """Send one request and wait (at most `timeout`, default the channel's) for its answer:
        its result; RemoteOpError when the agent answered with an error; HostError when the
        host cannot be used any more (dropped, agent-died, timeout, protocol)."""
        with self._lock:
            if self._broken is not None:
                raise self._broken
            if self._closed:
                raise HostError(self.name, "dropped", "the connection to the host was closed")
            self._limit = self.timeout if timeout is None else timeout
            self._cap = ANSWER_LIMITS.get(op, MAX_LINE)
            deadline = time.monotonic() + self._limit
            rid = self._next_id
            self._next_id += 1
            request = {"id": rid, "op": op, "args": args or {}}
            try:
                data = (json.dumps(request, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
                        + "\n").encode("ascii")
            except (TypeError, ValueError) as e:
                raise ValueError(f"request {op!r} cannot be sent as JSON: {e}") from None
            try:
                self._send(data, deadline)
                answer = self._json(self._line(deadline, f"the answer to '{op}'"), f"the answer to '{op}'")
            except HostError as e:
                self._broken = e
                self._kill()
                raise
            if answer.get("id") != rid:
                err = answer.get("error") if isinstance(answer.get("error"), dict) else {}
                self._broken = HostError(self.name, "protocol", f"the agent answered request {answer.get('id')!r} "
                                         f"while {rid} was asked ({(err or {}).get('message', '')})")
                self._kill()
                raise self._broken
            if answer.get("ok") is True:
                return answer.get("result")
            from ctrtui.service.codec import CodecError, decode_error

            try:
                kind, message, errno = decode_error(answer.get("error"), "the host")
            except CodecError as e:  # the channel goes on: the answer was a line of its own
                raise HostError(self.name, "protocol", f"{e} (to '{op}')",
                                "the host may run another ctrtui version; use the same one on both sides") from None
            raise RemoteOpError(self.name, op, kind, message, errno)

    def close(self) -> None:
        """Say `bye`, give the agent a moment to leave, then make sure the subprocess is gone.
        Idempotent; never raises. A call in flight in another thread is ended (it raises a
        `dropped` HostError) rather than waited for."""
        if not self._lock.acquire(blocking=False):
            self._closing = True
            try:
                self._proc.kill()  # the call in flight sees EOF, raises, and lets go of the lock
            except OSError:
                pass
            self._lock.acquire()
        try:
            if self._closed:
                return
            self._closed = True
            if self._broken is None and self._proc.poll() is None:
                try:
                    self._send(b'{"id":0,"op":"bye","args":{}}\n', time.monotonic() + 1.0)
                except HostError:
                    pass
            try:
                if self._proc.stdin is not None:
                    self._proc.stdin.close()  # EOF: the agent leaves even if it did not read the bye
            except OSError:
                pass
            try:
                self._proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
            self._kill()
        finally:
            self._lock.release()

    def __enter__(self) -> AgentChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _protocol(self, what: str) -> HostError:
        self._broken = HostError(self.name, "protocol", f"the agent broke the protocol: {what}")
        self._kill()
        return self._broken

    def _fail(self, kind: str, message: str, hint: str = "") -> None:
        raise HostError(self.name, kind, message, hint)

    def _json(self, line: bytes, what: str) -> dict[str, Any]:
        if line.count(b"[") + line.count(b"{") > MAX_CONTAINERS:
            raise HostError(self.name, "protocol", f"{what} holds more than {MAX_CONTAINERS} JSON lists and "
                            "objects", "the host's ctrtui is not this one, or it is not ctrtui")
        try:
            value = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise HostError(self.name, "protocol", f"{what} is not a JSON line: {_shown(line)}") from None
        if not isinstance(value, dict):
            raise HostError(self.name, "protocol", f"{what} is not a JSON object: {_shown(line)}")
        return value

def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _shown(line: bytes) -> str:
    from ctrtui.text import display

    text = line.decode("utf-8", "replace").strip()
    return display(text[:200] + ("..." if len(text) > 200 else ""))
