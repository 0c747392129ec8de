"""Rebuilding the recorded world (`Recording`): the members of every hierarchy at any
recorded time, from the last full snapshot before it and the deltas after it, as a
Snapshot; `where` (ctrtui/history/where.py) for one task."""

from __future__ import annotations

from array import array
from types import MappingProxyType

from ctrtui.history.index import RecordFile, RecordIndex
from ctrtui.history.records import TaskTable
from ctrtui.history.where import task_trail
from ctrtui.model.snapshot import Container, Hierarchy, HierarchySnapshot, Snapshot, parent_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["MemberState", "Recording", "build_snapshot", "states_of"]


class MemberState:
    """A hierarchy's members as a reader rebuilds them: cgroup id -> path, tid -> cgroup
    id, and cgroup id -> the TGIDs it lists (filled from `base` when a delta first touches
    the cgroup). `base`: the full snapshot's Containers by id, reused for every cgroup no
    delta touched (`dirty`) while no cgroup came or went (`reshaped`)."""

    __slots__ = ("hierarchy", "paths", "tids", "procs", "base", "dirty", "reshaped")

    def __init__(self, hierarchy: Hierarchy) -> None:
        self.hierarchy = hierarchy
        self.paths: dict[int, str] = {}
        self.tids: dict[int, int] = {}
        self.procs: dict[int, set[int]] = {}
        self.base: dict[int, Container] = {}
        self.dirty: set[int] = set()
        self.reshaped = False

    def procs_of(self, cid: int) -> set[int]:
        s = self.procs.get(cid)
        if s is None:
            c = self.base.get(cid)
            s = self.procs[cid] = set(c.procs) if c is not None else set()
            self.dirty.add(cid)
        return s


class Recording(RecordIndex):
    """A recording (a directory, or one file of it), read-only. Records are indexed by their
    headers only (a seek from one to the next); a snapshot at a time decodes the last full
    snapshot before it and applies the deltas after it."""

    def state_at(self, at: float) -> tuple[dict[str, MemberState], TaskTable, float]:
        """Every hierarchy's members at the last sample at or before `at`, the tasks' table
        (tid -> [tid, start, tgid, comm]) and the sample's time."""
        return self.state_of(self.sample_index(at))

    def state_of(self, k: int) -> tuple[dict[str, MemberState], TaskTable, float]:
        """`state_at` for the sample at index `k` of `self.index`."""
        start = self.full_before(k)
        if start < 0:
            raise self.corrupt(self.index[k][0], 0, "it does not start with a full snapshot")
        f, i, _, _ = self.index[start]
        snap, tasks = self.full(f, i)
        states = states_of(snap)
        for f, i, kind, _t in self.index[start + 1:k + 1]:
            if kind == b"D":
                self.apply_delta(f, i, states, tasks)
        return states, tasks, self.index[k][3]

    def apply_delta(self, f: RecordFile, i: int, states: dict[str, MemberState], tasks: TaskTable) -> None:
        doc, views = self.delta(f, i)
        for name in doc.get("gone", ()):
            states.pop(name, None)
        for head, (tids, tcg, pids, pcg) in zip(doc["h"], views):
            st = states.get(head["name"])
            if st is None or "hierarchy" in head:
                hd = head.get("hierarchy") or {}
                if st is None and not hd:
                    raise self.corrupt(f, i, f"hierarchy {head['name']!r} appears without its description")
                h = Hierarchy(head["name"], hd["version"], tuple(hd["controllers"]), hd["mount"], hd["root"],
                              hd["hierarchy_id"]) if hd else st.hierarchy  # type: ignore[union-attr]
                old = st
                st = MemberState(h)
                if old is not None:
                    st.paths, st.tids, st.procs, st.base = old.paths, old.tids, old.procs, old.base
                    st.dirty = old.dirty
                st.reshaped = True
                states[head["name"]] = st
            for cid, path in head.get("add", ()):
                st.paths[cid] = path
                st.reshaped = True
            for cid in head.get("del", ()):
                st.paths.pop(cid, None)
                st.procs.pop(cid, None)
                st.reshaped = True
            where = st.tids
            st.dirty.update(map(where.get, tids))  # type: ignore[arg-type]  # the cgroups the tasks left (None: new)
            st.dirty.update(tcg)  # and those they entered
            if len(tcg) and min(tcg) >= 0:  # moves and new tasks only (the common case): at C speed
                where.update(zip(tids, tcg))
            else:
                for tid, cid in zip(tids, tcg):
                    if cid < 0:
                        where.pop(tid, None)
                    else:
                        where[tid] = cid
            procs_of = st.procs_of
            for pid, cid in zip(pids, pcg):
                if cid >= 0:
                    procs_of(cid).add(pid)
                elif cid <= -2:
                    procs_of(-2 - cid).discard(pid)
        for row in doc.get("tasks", ()):
            tasks.born[row[0]] = row

    def snapshot_at(self, at: float) -> tuple[Snapshot, TaskTable]:
        """The recorded snapshot at the last sample at or before `at`, and its task table."""
        states, tasks, t = self.state_at(at)
        return build_snapshot(states, t), tasks

    # -- where

    def snapshot_of(self, k: int) -> tuple[Snapshot, TaskTable]:
        """`snapshot_at` for the sample at index `k` of `self.index`."""
        states, tasks, t = self.state_of(k)
        return build_snapshot(states, t), tasks

    def where(self, pid: int, since: float | None = None, until: float | None = None) -> list[dict[str, Any]]:
        """Every cgroup (per hierarchy) the task with `pid` was in from `since` to `until`
        (ctrtui.history.where.task_trail)."""
        return task_trail(self, pid, since, until)


def states_of(snap: Snapshot) -> dict[str, MemberState]:
    states = {}
    for hs in snap.hierarchies:
        st = MemberState(hs.hierarchy)
        for cid, (p, c) in enumerate(hs.containers.items()):
            st.paths[cid] = p
            st.tids.update(dict.fromkeys(c.threads, cid))
            st.base[cid] = c
        states[hs.name] = st
    return states


def build_snapshot(states: Mapping[str, MemberState], t: float) -> Snapshot:
    """The Snapshot of rebuilt states: cgroups in pre-order, children sorted by name."""
    out = []
    for st in states.values():
        if not st.reshaped:  # the full snapshot's cgroups: only those a delta touched are new
            out.append(rebuilt_hierarchy(st))
            continue
        members_t: dict[int, list[int]] = {cid: [] for cid in st.paths}
        for tid, cid in st.tids.items():
            if cid in members_t:
                members_t[cid].append(tid)
        by_path = {p: cid for cid, p in st.paths.items()}
        kids: dict[str, list[str]] = {p: [] for p in by_path}
        roots = []
        for p in by_path:
            parent = parent_path(p)
            if parent is not None and parent in kids:
                kids[parent].append(p)
            else:
                roots.append(p)
        containers: dict[str, Container] = {}
        stack = sorted(roots, reverse=True)
        while stack:
            p = stack.pop()
            cid = by_path[p]
            children = tuple(sorted(kids[p]))
            procs = st.procs.get(cid)
            if procs is None:
                base = st.base.get(cid)
                procs = set(base.procs) if base is not None else set()
            containers[p] = Container(p, children, array("i", sorted(members_t[cid])), array("i", sorted(procs)))
            stack.extend(reversed(children))
        out.append(HierarchySnapshot(st.hierarchy, MappingProxyType(containers)))
    return Snapshot(tuple(out), t, "history")


def rebuilt_hierarchy(st: MemberState) -> HierarchySnapshot:
    """A hierarchy whose cgroups are the full snapshot's: its Containers, except those a
    delta touched, rebuilt from the members."""
    dirty = st.dirty
    dirty.discard(None)  # a task new to the hierarchy left no cgroup (map(get) gave None)
    members: dict[int, list[int]] = {cid: [] for cid in dirty}
    if dirty:
        for tid, cid in st.tids.items():
            if cid in members:
                members[cid].append(tid)
    containers: dict[str, Container] = {}
    for cid, c in st.base.items():
        if cid in dirty:
            c = Container(c.path, c.children, array("i", sorted(members[cid])), array("i", sorted(st.procs_of(cid))))
        containers[c.path] = c
    return HierarchySnapshot(st.hierarchy, MappingProxyType(containers))
