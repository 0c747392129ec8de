"""What the agent answers: every request is checked (known op, known arguments of the right
types, PIDs in range, cgroup paths absolute and without `.`/`..`) before anything is read or
written; a request that fails a check gets one `bad-request` error and the agent goes on.

Two families of ops (docs/remote.md), the checks of their arguments in ctrtui/agent/checks.py:

- the reader proxy (`pid_max`, `hierarchies`, `snapshot`, `read_cgroups`, `cgroup_state`,
  `cgroup_stats`, `task_state`, `task_details`, `task_cgroups`, `task_cgroup`, `thread_ids`):
  the host's real backend (`local_backend()`: a `SystemdCgroupFS` where systemd is PID 1 and
  manages a hierarchy, so its moves take systemd's route; else a `CgroupFS`) read for the
  local side's `RemoteReader`; snapshots
  go in the wire form (`ctrtui.model.wire`), base64, as a delta against the last one sent
  when the local side names it as its base;
- the service calls (`plan`, `apply`, `undo`, ...: ctrtui/agent/calls.py, `ServiceCalls`):
  the host's `LocalService`, its values encoded by ctrtui/service/codec.py.
"""

from __future__ import annotations

import math

from ctrtui.agent import checks as ck
from ctrtui.agent.calls import CALLS
from ctrtui.agent.checks import OpError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ctrtui.agent.checks import Check
    from ctrtui.model import CgroupState, Container, Hierarchy, TaskInfo
    from ctrtui.sources.base import Reader

__all__ = ["Agent"]

# ----------------------------------------------------------------------------- values


def hierarchy_dict(h: Hierarchy) -> dict[str, object]:
    return {"name": h.name, "version": h.version, "controllers": list(h.controllers), "mount": h.mount,
            "root": h.root, "hierarchy_id": h.hierarchy_id}


def container_dict(c: Container) -> dict[str, object]:
    return {"children": list(c.children), "threads": c.threads.tolist(), "procs": c.procs.tolist()}


def task_dict(t: TaskInfo) -> dict[str, object]:
    d = t.to_dict()
    if isinstance(d.get("cpu_percent"), float) and not math.isfinite(d["cpu_percent"]):  # type: ignore[arg-type]
        d["cpu_percent"] = None
    return d


def state_dict(s: CgroupState) -> dict[str, object]:
    d = s.to_dict()
    d["subtree_control"] = list(s.subtree_control)
    d["writable"] = sorted(s.writable)
    return d


# ----------------------------------------------------------------------------- the agent


class Agent:
    """One connection's state: the backend (opened on first use), the last snapshot sent
    (the base of the next delta), and the host's service with its latest plans
    (`ServiceCalls`, ctrtui/agent/calls.py)."""

    def __init__(self, backend: Reader | None = None, journal_path: str | None = None) -> None:
        from ctrtui.agent.calls import ServiceCalls

        self.calls = ServiceCalls(lambda: self.backend, self._hierarchy, journal_path)
        self._backend = backend  # None: local_backend() (tests: a simulated kernel)
        self._last: Any = None  # the last Snapshot sent
        import os

        self._token = int.from_bytes(os.urandom(4), "big")  # its name; another agent's names differ

    def close(self) -> None:
        """The connection went (EOF, `bye`, a broken output): what runs for it stops (a
        recorder closes its file)."""
        self.calls.close()

    @property
    def backend(self) -> Reader:
        if self._backend is None:
            from ctrtui.sources.systemdhost import local_backend

            self._backend = local_backend()
        return self._backend

    def handle_line(self, line: bytes) -> tuple[dict[str, object], bool]:
        """The answer to one request line, and whether it was `bye` (then stop)."""
        from ctrtui.agent.lines import decode, error_answer

        try:
            req = decode(line)
        except (ValueError, UnicodeDecodeError) as e:
            return error_answer(None, "protocol", f"a request is not a JSON line ({e})"), False
        except RecursionError:
            return error_answer(None, "protocol", "a request nests arrays or objects too deeply to read"), False
        if not isinstance(req, dict):
            return error_answer(None, "protocol", f"a request must be a JSON object, not {ck.kind(req)}"), False
        rid = req.get("id")
        if type(rid) is not int or not 0 <= rid < 2 ** 53:
            return error_answer(None, "protocol", "a request needs an 'id': an integer from 0 to 2**53"), False
        unknown = sorted(set(req) - {"id", "op", "args"})
        if unknown:
            return error_answer(rid, "bad-request", f"a request has no field {unknown[0]!r}"), False
        op = req.get("op")
        if op == "bye":
            return {"id": rid, "ok": True, "result": None}, True
        return self.handle(rid, op, req.get("args")), False

    def handle(self, rid: int, op: Any, args: Any) -> dict[str, object]:
        from ctrtui.agent.lines import error_answer

        method = _OPS.get(op) if isinstance(op, str) else None
        if method is None:
            from ctrtui.text import display

            shown = display(op) if isinstance(op, str) else ck.kind(op)
            return error_answer(rid, "bad-request", f"unknown op '{shown}' (known: {', '.join(sorted(_OPS))}, bye)")
        try:
            result = method(self, args)
        except OpError as e:
            return error_answer(rid, e.kind, e.message, e.errno)
        except OSError as e:
            from ctrtui.errors import errno_name, os_error_text

            what = f" ({e.filename})" if e.filename else ""
            return error_answer(rid, "os-error", f"{op}: {os_error_text(e)}{what}",
                                errno_name(e.errno) if e.errno else None)
        except Exception as e:  # noqa: BLE001 - a bug must cost one answer, not the agent
            return error_answer(rid, "internal", f"{op} failed on the host: {type(e).__name__}: {e}")
        return {"id": rid, "ok": True, "result": result}

    # ------------------------------------------------------------------ helpers

    def _pid(self) -> Check:
        """The check of a PID of this host (pid_max read once per request, not per PID)."""
        pid_max = self.backend.pid_max

        def check(name: str, v: Any) -> int:
            if type(v) is not int:
                raise ck.bad(f"'{name}' must be a PID (an integer), not {ck.kind(v)}")
            if not 0 < v < pid_max:
                raise ck.bad(f"'{name}' {v} is not a PID on this host: PIDs run from 1 to {pid_max - 1} (pid_max)")
            return v
        return check

    def _hierarchy(self, name: str, v: Any) -> str:
        from ctrtui.model import find_hierarchy
        from ctrtui.text import display

        word = ck.word(name, v)
        h = find_hierarchy(self.backend.hierarchies(), word)
        if h is None:
            raise OpError("not-found", f"no cgroup hierarchy '{display(word)}' is mounted on this host")
        return h.name

    # ------------------------------------------------------------------ reader ops

    def op_pid_max(self, args: Any) -> int:
        ck.args("pid_max", args, {})
        return self.backend.pid_max

    def op_hierarchies(self, args: Any) -> list[dict[str, object]]:
        ck.args("hierarchies", args, {})
        return [hierarchy_dict(h) for h in self.backend.hierarchies()]

    def op_snapshot(self, args: Any) -> dict[str, object]:
        import base64

        from ctrtui.model.wire import to_wire, to_wire_delta

        a = ck.args("snapshot", args, {"names": ck.optional(ck.list_(ck.word, 1000)), "subtree": ck.optional(ck.path),
                                      "base": ck.optional(ck.int_(0, 2 ** 53))})
        names = a.get("names")
        if names is not None:
            names = [self._hierarchy(f"names[{i}]", w) for i, w in enumerate(names)]
        snap = self.backend.snapshot(names, a.get("subtree"))
        base = a.get("base")
        if base is not None and base == self._token and self._last is not None:
            key, data = "delta", to_wire_delta(self._last, snap)
        else:
            key, data = "full", to_wire(snap)
        self._token += 1
        self._last = snap
        return {"token": self._token, key: base64.b64encode(data).decode("ascii")}

    def op_read_cgroups(self, args: Any) -> dict[str, object]:
        a = ck.args("read_cgroups", args, {"hierarchy": ck.word, "paths": ck.list_(ck.path)}, ("hierarchy", "paths"))
        got = self.backend.read_cgroups(self._hierarchy("hierarchy", a["hierarchy"]), a["paths"])
        return {p: None if c is None else container_dict(c) for p, c in got.items()}

    def op_cgroup_state(self, args: Any) -> dict[str, object] | None:
        a = ck.args("cgroup_state", args, {"hierarchy": ck.word, "path": ck.path}, ("hierarchy", "path"))
        s = self.backend.cgroup_state(self._hierarchy("hierarchy", a["hierarchy"]), a["path"])
        return None if s is None else state_dict(s)

    def op_cgroup_stats(self, args: Any) -> dict[str, str]:
        a = ck.args("cgroup_stats", args, {"hierarchy": ck.word, "path": ck.path,
                                           "names": ck.optional(ck.list_(ck.str_, 64))}, ("hierarchy", "path"))
        names = None if a.get("names") is None else frozenset(a["names"])  # the backend reads no other file
        return self.backend.cgroup_stats(self._hierarchy("hierarchy", a["hierarchy"]), a["path"], names)

    def op_task_state(self, args: Any) -> dict[str, object] | None:
        a = ck.args("task_state", args, {"pid": self._pid()}, ("pid",))
        t = self.backend.task_state(a["pid"])
        return None if t is None else task_dict(t)

    def op_task_details(self, args: Any) -> dict[str, object]:
        a = ck.args("task_details", args, {"pids": ck.list_(self._pid())}, ("pids",))
        return {str(pid): task_dict(t) for pid, t in self.backend.task_details(a["pids"]).items()}

    def op_task_cgroups(self, args: Any) -> dict[str, str] | None:
        a = ck.args("task_cgroups", args, {"pid": self._pid()}, ("pid",))
        return self.backend.task_cgroups(a["pid"])

    def op_task_cgroup(self, args: Any) -> str | None:
        a = ck.args("task_cgroup", args, {"pid": self._pid(), "hierarchy": ck.word}, ("pid", "hierarchy"))
        return self.backend.task_cgroup(a["pid"], self._hierarchy("hierarchy", a["hierarchy"]))

    def op_thread_ids(self, args: Any) -> list[int]:
        a = ck.args("thread_ids", args, {"tgid": self._pid()}, ("tgid",))
        return list(self.backend.thread_ids(a["tgid"]))


def _call(name: str) -> Callable[[Agent, Any], Any]:
    """What answers the service call `name`: the agent's `ServiceCalls`."""
    return lambda agent, args: getattr(agent.calls, "op_" + name)(args)


_OPS: dict[str, Callable[[Agent, Any], Any]] = {
    **{name[3:]: getattr(Agent, name) for name in dir(Agent) if name.startswith("op_")},
    **{name: _call(name) for name in CALLS},
}
"""Op name -> the method that answers it."""
