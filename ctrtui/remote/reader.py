"""`RemoteReader`: a host's cgroups read through its agent, as a `ctrtui.sources.base.Reader`.

Every method is one request over the channel (docs/remote.md, "reader proxy"). Snapshots come
whole the first time, then as deltas against the last one received (the agent keeps it); when
the agent no longer has that base (a new agent, or it was told another one) it sends a whole one.

Everything the agent answers is hostile: each value is checked for its type and shape before it
becomes a model value; a malformed answer is a `protocol` HostError. The reader declares no
capability (no WRITE): moves on a host go through `AgentChannel.cli`, so the host's own engine,
pidfd guard and journal make them.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
from array import array
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from ctrtui.model import CgroupState, Container, Hierarchy, Snapshot, TaskInfo
from ctrtui.model.cgstats import MAX_STATS_TEXT, STATS_FILES
from ctrtui.remote.channel import AgentChannel
from ctrtui.remote.errors import HostError, RemoteOpError

__all__ = ["RemoteReader"]

_INT32 = 2 ** 31 - 1
_U32 = 2 ** 32 - 1
_U63 = 2 ** 63 - 1
_TASK_RANGES: dict[str, tuple[int, int]] = {
    "uid": (0, _U32), "euid": (0, _U32), "suid": (0, _U32), "start_time": (0, _U63), "flags": (0, _U63),
    "threads": (0, _INT32), "rss": (0, _U63), "ppid": (0, _INT32),
}
"""The range of each integer of a task (a model value holds nothing a kernel cannot give:
an `rss` of 10**400 would crash whatever formats it)."""
_TEXT_LIMITS = {"comm": 64, "state": 16, "user": 256, "cgroup_type": 64, "cpuset_cpus": 4096,
                "cpuset_mems": 4096, "freezer_state": 64}
"""The longest texts a host may give for these fields (characters)."""
MAX_STATS = 64
"""The most files a `cgroup_stats` answer may hold, each text at most MAX_STAT_TEXT characters."""
MAX_STAT_TEXT = 65536
_TASK_FIELDS: dict[str, tuple[type, ...]] = {
    "pid": (int,), "tgid": (int,), "comm": (str,), "state": (str,), "uid": (int,), "euid": (int,),
    "suid": (int,), "start_time": (int,), "flags": (int,), "threads": (int,), "cmdline": (str, type(None)),
    "user": (str, type(None)), "cpu_percent": (float, int, type(None)), "rss": (int, type(None)), "ppid": (int,),
}
_STATE_FIELDS: dict[str, tuple[type, ...]] = {
    "hierarchy": (str,), "path": (str,), "version": (int,), "cgroup_type": (str, type(None)),
    "subtree_control": (list,), "cpuset_cpus": (str, type(None)), "cpuset_mems": (str, type(None)),
    "freezer_state": (str, type(None)), "writable": (list,),
}


class RemoteReader:
    """The `Reader` of one host, through its agent's channel."""

    kind = "remote"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, channel: AgentChannel) -> None:
        self.channel = channel
        self.identity = f"ssh://{channel.name}"
        self._pid_max: int | None = None
        self._lock = threading.Lock()
        self._base: Snapshot | None = None  # the last snapshot received, as the agent sent it
        self._token: int | None = None  # the agent's name for it
        self.full_snapshots = 0
        self.delta_snapshots = 0
        self._stats_names = True  # False: the agent takes no `names` (cgroup_stats)

    def _bad(self, what: str) -> HostError:
        return HostError(self.channel.name, "protocol", f"the agent's answer is malformed: {what}")

    # ------------------------------------------------------------------ the Reader

    @property
    def pid_max(self) -> int:
        if self._pid_max is None:
            value = self.channel.call("pid_max")
            if type(value) is not int or not 300 < value <= 2 ** 22 + 1:
                raise self._bad(f"pid_max is {_short(value)}")
            self._pid_max = value
        return self._pid_max

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        got = self.channel.call("hierarchies")
        if not isinstance(got, list):
            raise self._bad("hierarchies is not a list")
        return tuple(self._hierarchy(h) for h in got)

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None) -> Snapshot:
        from ctrtui.model.wire import WireError, apply_wire_delta, from_wire

        args: dict[str, Any] = {"names": list(names) if names is not None else None, "subtree": subtree}
        with self._lock:
            for attempt in (0, 1):
                base = self._base if attempt == 0 else None
                got = self.channel.call("snapshot", {**args, "base": self._token if base is not None else None})
                if not isinstance(got, dict) or type(got.get("token")) is not int:
                    raise self._bad("a snapshot answer has no token")
                try:
                    if isinstance(got.get("delta"), str) and base is not None:
                        snap = apply_wire_delta(base, self._bytes(got["delta"]))
                        self.delta_snapshots += 1
                    elif isinstance(got.get("full"), str):
                        snap = from_wire(self._bytes(got["full"]))
                        self.full_snapshots += 1
                    else:
                        raise self._bad("a snapshot answer has neither a whole snapshot nor a delta")
                except WireError as e:
                    self._base = self._token = None
                    if attempt == 0 and base is not None:
                        continue  # made against another base: ask for a whole one
                    raise self._bad(str(e)) from None
                self._base, self._token = snap, got["token"]
                return snap.replace(backend=self.kind)
        raise AssertionError("unreachable")  # pragma: no cover

    def read_cgroups(self, hierarchy: str, paths: Iterable[str]) -> dict[str, Container | None]:
        got = self.channel.call("read_cgroups", {"hierarchy": hierarchy, "paths": list(paths)})
        if not isinstance(got, dict):
            raise self._bad("read_cgroups is not an object")
        return {p: None if c is None else self._container(p, c) for p, c in got.items()}

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        got = self.channel.call("cgroup_state", {"hierarchy": hierarchy, "path": path})
        if got is None:
            return None
        d = self._fields(got, _STATE_FIELDS, "cgroup_state")
        if not all(isinstance(s, str) for s in d["subtree_control"] + d["writable"]):
            raise self._bad("cgroup_state lists hold something other than names")
        if d["version"] not in (1, 2):
            raise self._bad(f"cgroup_state's version is {_short(d['version'])}")
        d["subtree_control"] = tuple(d["subtree_control"])
        d["writable"] = frozenset(d["writable"])
        # fields an earlier agent does not send: None when absent, checked when present
        own, ident = got.get("self_frozen"), got.get("cgroup_id")
        if own is not None and type(own) is not bool:
            raise self._bad(f"cgroup_state's self_frozen is {type(own).__name__}")
        if ident is not None and not (type(ident) is int and 0 <= ident < 2**64):
            raise self._bad("cgroup_state's cgroup_id is not an inode number")
        return CgroupState(**d, self_frozen=own, cgroup_id=ident)

    def cgroup_stats(self, hierarchy: str, path: str, names: Collection[str] | None = None) -> dict[str, str]:
        req: dict[str, object] = {"hierarchy": hierarchy, "path": path}
        if names is not None and self._stats_names:
            req["names"] = sorted(names)
        try:
            got = self.channel.call("cgroup_stats", req)
        except RemoteOpError as e:  # an agent of another build, without `names`: every file, kept here
            if "names" not in req or e.kind != "bad-request" or "'names'" not in e.message:
                raise
            self._stats_names = False
            del req["names"]
            got = self.channel.call("cgroup_stats", req)
        if names is not None and not self._stats_names and isinstance(got, dict):
            got = {k: v for k, v in got.items() if k in names}
        if not isinstance(got, dict) or not all(isinstance(v, str) for v in got.values()):
            raise self._bad("cgroup_stats is not an object of texts")
        if len(got) > MAX_STATS or not all(len(v) <= MAX_STAT_TEXT for v in got.values()):
            raise self._bad(f"cgroup_stats holds more than {MAX_STATS} files or a text longer than {MAX_STAT_TEXT}")
        if any(k not in STATS_FILES or len(v) > MAX_STATS_TEXT for k, v in got.items()):
            raise self._bad("cgroup_stats names a file no backend reads, or one longer than "
                            f"{MAX_STATS_TEXT} characters")
        if names is not None and not all(k in names for k in got):
            raise self._bad("cgroup_stats gives a file that was not asked for")
        return got

    def task_state(self, pid: int) -> TaskInfo | None:
        got = self.channel.call("task_state", {"pid": pid})
        return None if got is None else self._task(got)

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        got = self.channel.call("task_details", {"pids": list(pids)})
        if not isinstance(got, dict):
            raise self._bad("task_details is not an object")
        out = {}
        for key, value in got.items():
            t = self._task(value)
            if key != str(t.pid):
                raise self._bad(f"task_details gives PID {t.pid} as {key!r}")
            out[t.pid] = t
        return out

    def task_cgroups(self, pid: int) -> dict[str, str] | None:
        got = self.channel.call("task_cgroups", {"pid": pid})
        if got is not None and not (isinstance(got, dict) and all(isinstance(v, str) for v in got.values())):
            raise self._bad("task_cgroups is not an object of paths")
        return got

    def task_cgroup(self, pid: int, hierarchy: str) -> str | None:
        got = self.channel.call("task_cgroup", {"pid": pid, "hierarchy": hierarchy})
        if got is not None and not isinstance(got, str):
            raise self._bad("task_cgroup is not a path")
        return got

    def thread_ids(self, tgid: int) -> tuple[int, ...]:
        got = self.channel.call("thread_ids", {"tgid": tgid})
        if not isinstance(got, list) or not all(type(t) is int and 0 < t <= _INT32 for t in got):
            raise self._bad("thread_ids is not a list of TIDs")
        return tuple(got)

    # ------------------------------------------------------------------ checking answers

    def _bytes(self, text: str) -> bytes:
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise self._bad("a snapshot is not base64") from None

    def _fields(self, got: Any, spec: dict[str, tuple[type, ...]], what: str) -> dict[str, Any]:
        if not isinstance(got, dict) or not set(spec) <= set(got):
            raise self._bad(f"{what} does not have the fields {', '.join(spec)}")
        for k, types in spec.items():
            v = got[k]
            if type(v) not in types:
                raise self._bad(f"{what}'s {k} is {type(v).__name__}")
            if type(v) is float and not (math.isfinite(v) and 0 <= v < 1e9):
                raise self._bad(f"{what}'s {k} is {_short(v)}, not a figure a host can have")
            if type(v) is str and len(v) > _TEXT_LIMITS.get(k, 65536):
                raise self._bad(f"{what}'s {k} is {len(v)} characters long")
        return {k: got[k] for k in spec}  # fields a later agent may add are left out

    def _hierarchy(self, h: Any) -> Hierarchy:
        spec: dict[str, tuple[type, ...]] = {"name": (str,), "version": (int,), "controllers": (list,),
                                             "mount": (str,), "root": (str,), "hierarchy_id": (int,)}
        d = self._fields(h, spec, "a hierarchy")
        if (d["version"] not in (1, 2) or not all(isinstance(c, str) for c in d["controllers"])
                or not 0 <= d["hierarchy_id"] <= _INT32):
            raise self._bad(f"hierarchy {_short(d['name'])} has version {_short(d['version'])}, bad controllers or "
                            "a hierarchy_id beyond 32 bits")
        d["controllers"] = tuple(d["controllers"])
        return Hierarchy(**d)

    def _members(self, v: Any, what: str) -> array[int]:
        if not isinstance(v, list) or not all(type(x) is int and 0 < x <= _INT32 for x in v):
            raise self._bad(f"{what} is not a list of PIDs")
        return array("i", v)

    def _container(self, path: Any, c: Any) -> Container:
        spec: dict[str, tuple[type, ...]] = {"children": (list,), "threads": (list,), "procs": (list,)}
        d = self._fields(c, spec, "a cgroup")
        if not isinstance(path, str) or not all(isinstance(ch, str) for ch in d["children"]):
            raise self._bad("a cgroup's children are not paths")
        return Container(path, tuple(d["children"]), self._members(d["threads"], "threads"),
                         self._members(d["procs"], "procs"))

    def _task(self, got: Any) -> TaskInfo:
        d = self._fields(got, _TASK_FIELDS, "a task")
        if not 0 < d["pid"] <= _INT32 or not 0 < d["tgid"] <= _INT32:
            raise self._bad(f"a task has PID {_short(d['pid'])} / TGID {_short(d['tgid'])}")
        for k, (lo, hi) in _TASK_RANGES.items():
            v = d[k]
            if type(v) is int and not lo <= v <= hi:
                raise self._bad(f"task {d['pid']} has {k} {_short(v)}, outside {lo}..{hi}")
        return TaskInfo(**d)

    def close(self) -> None:
        """Close the channel (the agent leaves)."""
        self.channel.close()


def _short(value: Any) -> str:
    """A value a host sent, for a message: its repr, at most 60 characters (a 400-digit
    number, a deep list or a long text is cut, never expanded whole)."""
    if isinstance(value, (list, dict)):
        return f"a {type(value).__name__} of {len(value)}"
    if type(value) is int and not -10 ** 30 < value < 10 ** 30:
        return f"a {len(str(abs(value)))}-digit number"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
