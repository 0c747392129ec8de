"""The bytes of one agent subprocess (ssh running the stub on a host, or the stub run directly
in tests): `AgentPipes` reads its stdout a line at a time within a cap, writes to its stdin
before a deadline, keeps the tail of its stderr, and kills it; every way this can end is a
`HostError` saying what happened. The protocol spoken over these pipes (handshake, requests,
`bye`) is `AgentChannel`'s, in ctrtui/remote/channel.py.

No threads: every wait is a `selectors` wait on the subprocess's pipes with a deadline.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import time
from typing import Any

from ctrtui.remote.errors import HostError

__all__ = ["AgentPipes"]

_STDERR_KEEP = 16384
"""How much of the subprocess's stderr is kept (its end), for error messages."""


class AgentPipes:
    """The pipes of one agent subprocess; `AgentChannel` speaks the protocol over them."""

    name: str
    bytes_sent: int
    bytes_received: int

    def __init__(self, proc: subprocess.Popen[bytes], name: str, timeout: float, transport: str | None,
                 cap: int) -> None:
        self.name = name
        self.timeout = timeout
        self.transport = transport
        """The local program that carries the connection (`ssh`), None when the subprocess is
        the agent itself: a transport killed here means the connection went, not the agent."""
        self.bytes_sent = 0
        self.bytes_received = 0
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._in = proc.stdin.fileno()
        self._out = proc.stdout.fileno()
        self._errfd: int | None = proc.stderr.fileno()
        for fd in (self._in, self._out, self._errfd):
            os.set_blocking(fd, False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._out, selectors.EVENT_READ)
        self._sel.register(self._errfd, selectors.EVENT_READ)
        self._buf = bytearray()
        self._stderr = bytearray()
        self._broken: HostError | None = None
        self._handshake = True  # until the hello is read: how an early end or a flood is worded
        self._closing = False  # close() from another thread is ending a call in flight
        self._limit = timeout
        self._cap = cap  # the most the buffer may hold (bytes): HostError beyond

    @property
    def pid(self) -> int:
        """The local subprocess's PID (ssh's, or the stub's in tests)."""
        return self._proc.pid

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the subprocess wrote to stderr (raw: scrub before showing)."""
        text = self._stderr.decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ reading and writing

    def _line(self, deadline: float, what: str) -> bytes:
        """The next line from the agent (newline included)."""
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self._buf[:i + 1])
                del self._buf[:i + 1]
                return line
            start = len(self._buf)
            self._pump(deadline, what, None)

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            view = view[self._pump(deadline, "the host to read what was sent", view):]

    def _pump(self, deadline: float, what: str, out: memoryview | None) -> int:
        """Wait until the agent's stdout has data (read into the buffer), its stderr has data
        (kept), or, with `out`, its stdin takes some of `out` (returns how much). HostError on
        timeout, EOF on stdout, or a closed stdin."""
        if out is not None:
            self._sel.register(self._in, selectors.EVENT_WRITE)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._timeout(what)
                events = self._sel.select(left)
                if not events:
                    continue  # the loop's check raises the timeout
                wrote = 0
                for key, _ in events:
                    fd = key.fd
                    if fd == self._in and out is not None:
                        try:
                            wrote = os.write(fd, out[:1 << 16])
                        except BlockingIOError:
                            continue
                        except OSError:  # EPIPE: the other side closed its stdin (it exited)
                            self._gone(what)
                        self.bytes_sent += wrote
                    elif fd == self._errfd:
                        self._read_stderr()
                    elif fd == self._out:
                        try:  # one byte past the cap at most: the cap holds in every path
                            data = os.read(fd, max(1, min(1 << 20, self._cap + 1 - len(self._buf))))
                        except BlockingIOError:
                            continue
                        if not data:
                            self._gone(what)
                        self.bytes_received += len(data)
                        self._buf += data
                        if len(self._buf) > self._cap:
                            self._too_much(what)
                        if out is None:
                            return 0
                if out is not None and wrote:
                    return wrote
        finally:
            if out is not None:
                try:
                    self._sel.unregister(self._in)
                except (KeyError, ValueError, OSError, AttributeError, RuntimeError):
                    pass  # the selector was closed: the subprocess is gone

    def _too_much(self, what: str) -> None:
        """The host sent more than the buffer may hold (a line longer than the cap, or output
        while it should be reading what we send): a protocol error; the subprocess is killed."""
        self._kill()
        self._buf = bytearray()
        if self._handshake:
            raise HostError(self.name, "protocol", f"the host sent more than {self._cap} bytes before ctrtui's agent "
                            f"said hello, while waiting for {what}",
                            "check the remote user's login scripts, or whether this host runs ctrtui's stub")
        raise HostError(self.name, "protocol", f"the agent's answer is longer than {self._cap} bytes while "
                        f"waiting for {what}", "the host's ctrtui is not this one, or it is not ctrtui")

    def _read_stderr(self) -> None:
        if self._errfd is None:
            return
        try:
            data = os.read(self._errfd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            try:
                self._sel.unregister(self._errfd)
            except (KeyError, ValueError, OSError, AttributeError, RuntimeError):
                pass
            self._errfd = None
            return
        self._stderr += data
        if len(self._stderr) > _STDERR_KEEP:
            del self._stderr[:-_STDERR_KEEP]

    def _timeout(self, what: str) -> None:
        self._kill()
        raise HostError(self.name, "timeout", f"no answer within {self._limit:g} s while waiting for {what}",
                        "check that the host is up and not overloaded, or raise --timeout")

    def _gone(self, what: str) -> None:
        """The agent's stdout ended (or its stdin closed): collect its exit and stderr, then
        raise the HostError that says what happened."""
        end = time.monotonic() + 2.0
        if self._errfd is not None:  # the rest of stderr, to its EOF
            with selectors.DefaultSelector() as sel:
                sel.register(self._errfd, selectors.EVENT_READ)
                while self._errfd is not None and time.monotonic() < end:
                    if sel.select(max(0.0, end - time.monotonic())):
                        self._read_stderr()
        try:
            rc: int | None = self._proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
        stderr = self._stderr.decode("utf-8", "replace")
        self._kill()
        if self._closing:
            raise HostError(self.name, "dropped", f"the connection was closed while waiting for {what}")
        if self._handshake:
            kind, message, hint = _classify(rc, stderr)
            raise HostError(self.name, kind, message, hint)
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        said = f" ({lines[-1]})" if lines else ""
        hint = (f"contact the host again; a move or undo it cut off is in the host's journal "
                f"(`ctrtui log --host {self.name}`)")
        if rc == 255 or rc is None:
            raise HostError(self.name, "dropped", f"the connection was lost while waiting for {what}{said}", hint)
        if rc < 0 and self.transport is not None:  # killed here: the connection went, not the agent
            raise HostError(self.name, "dropped", f"{self.transport} was killed by signal {-rc} while waiting for "
                            f"{what}: the connection to the host is gone", hint)
        how = f"was killed by signal {-rc}" if rc < 0 else f"exited with status {rc}"
        raise HostError(self.name, "agent-died", f"the agent on the host {how} while waiting for {what}{said}", hint)

    def _kill(self) -> None:
        """Make sure the subprocess is gone and every pipe closed (idempotent)."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self._sel.close()
        except (OSError, ValueError, RuntimeError):
            pass


def _classify(returncode: int | None, stderr: str) -> tuple[str, str, str]:
    """(kind, message, hint) of a subprocess that ended before the handshake was done: ssh's
    own reading of its failures when the transport module is there, else a plain one."""
    import importlib

    if returncode is not None and returncode < 0:  # the local subprocess (ssh, or the stub) was killed
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        said = f" ({lines[-1]})" if lines else ""
        return "agent-died", f"the connection's process was killed by signal {-returncode}{said}", ""
    ssh: Any
    try:
        ssh = importlib.import_module("ctrtui.remote.ssh")  # the transport (another module's work)
    except ImportError:
        ssh = None
    describe = getattr(ssh, "describe_failure", None)
    if describe is not None:
        kind, message, hint = describe(returncode, stderr)
        return str(kind), str(message), str(hint)
    classify = getattr(ssh, "classify_failure", None)
    if classify is not None:
        kind, message = classify(returncode, stderr)
        return str(kind), str(message), ""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if returncode == 127 or "not found" in last or "No such file or directory" in last:
        return ("python-missing", last or "the host has no such Python interpreter",
                "install python3 (3.9 or newer) on the host, or name its interpreter with --remote-python")
    return "agent-died", last or f"the agent exited with status {returncode} before it answered", ""
