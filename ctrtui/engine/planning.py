"""The plan step: parse every PID, read each task's facts once, let the hooks judge the batch.

`FactReader` reads the facts (on the real kernel each task under a pidfd, which it keeps for
`apply`: `held`); `make_plan` turns the input items into one `Verdict` each, in order, with
`ctrtui.engine.judge.judge_batch` deciding each distinct PID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctrtui.engine.hooks import HookBatch
from ctrtui.engine.judge import judge_batch
from ctrtui.engine.parse import PidParseError, parse_pid
from ctrtui.engine.systemdroute import route_of
from ctrtui.engine.values import Plan, Verdict
from ctrtui.sources.base import prober

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctrtui.engine.judge import Item
    from ctrtui.engine.values import Facts, ScopeRequest, Via
    from ctrtui.model import CgroupRef, Hierarchy, TaskInfo

__all__ = ["FactReader", "make_plan"]


class FactReader:
    """Reads tasks' facts for plans, and keeps the pidfds they were read under until apply
    takes them (`held`: (pid, start time) -> handle) or `release` closes them."""

    hold_max = 4096
    """At most this many pidfds are kept between plan and apply (and never more than a
    quarter of the open-file limit); a bigger plan reads its facts the same way and opens
    each task's pidfd again when it writes."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        # Optional fast paths a backend declares (CgroupFS has them; others get the contract's calls).
        probe = prober(backend)
        self._probe = probe.task_probe if probe is not None else None
        self._probes = probe.task_probes if probe is not None else None
        self.held: dict[tuple[int, int | None], Any] = {}  # (pid, start time) -> pidfd kept by a plan
        self._nofile: int | None = None

    def facts_of(self, pids: list[int], h: Hierarchy) -> dict[int, Facts]:
        """pid -> (facts, cgroup in `h`, identity) for each PID, read once; a task that does
        not exist has (None, None, None). Where the backend reads a batch itself
        (`task_probes`: the real kernel, each task under a pidfd, one check for all), the
        pidfds are kept (`held`, up to `hold_max`) so that apply writes under the very
        handle the facts were read with; else one `facts` per PID."""
        many = self._probes
        if many is None:
            return {pid: self.facts(pid, h) for pid in pids}
        keep = len(pids) <= self._hold_room()
        out: dict[int, Facts] = {}
        held = self.held
        for pid, got in many(pids, h.name, keep=keep).items():
            if got is None:
                out[pid] = (None, None, None)
                continue
            info, where, ident, handle = got
            out[pid] = (info, where, ident)
            if handle is not None:
                old = held.pop((pid, info.start_time), None)
                if old is not None:
                    old.close()
                held[(pid, info.start_time)] = handle
        return out

    def _hold_room(self) -> int:
        if self._nofile is None:
            try:
                import resource

                soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
                self._nofile = soft // 4 if soft > 0 else 256
            except (ImportError, OSError, ValueError):
                self._nofile = 256
        return max(0, min(self.hold_max, self._nofile) - len(self.held))

    def release(self) -> None:
        """Close every pidfd still kept from plans that were not applied (a plan stays
        valid: apply then opens each task's pidfd again)."""
        held, self.held = self.held, {}
        for handle in held.values():
            handle.close()

    def facts(self, pid: int, h: Hierarchy) -> Facts:
        """(facts, cgroup in `h`, identity) of one task; (None, None, None) when it does not
        exist. One `task_probe` where the backend has it (the real kernel: three /proc reads
        under a pidfd), else `task_state` + `task_cgroups`."""
        if self._probe is not None:
            got: Facts | None = self._probe(pid, h.name)
            return got if got is not None else (None, None, None)
        info: TaskInfo | None = self.backend.task_state(pid)
        if info is None:
            return None, None, None
        return info, self.where(h, pid), None

    def where(self, h: Hierarchy, pid: int) -> str | None:
        """The task's cgroup in `h` now; None when it is gone."""
        where: str | None = self.backend.task_cgroup(pid, h.name)
        return where

    def release_unused(self, judged: Mapping[int, Verdict]) -> None:
        """Close the pidfds kept for PIDs this plan will not write (see `facts_of`)."""
        held = self.held
        if not held:
            return
        for pid, v in judged.items():
            if v.kind != "move" or v.task is None or v.task.pid != pid:
                handle = held.pop((pid, v.task.start_time if v.task is not None else None), None)
                if handle is not None:
                    handle.close()

    def take_held(self, v: Verdict) -> Any:
        """The handle the plan kept on this verdict's task, if any (see `facts_of`): the
        pidfd the task's facts were read under, so it holds the planned task and no other.
        Taken once: a plan applied twice opens new pidfds the second time."""
        if not self.held or v.pid is None or v.task is None or v.task.start_time != v.start_time:
            return None
        return self.held.pop((v.pid, v.start_time), None)


def make_plan(reader: FactReader, hooks: Sequence[Any], pids: Sequence[int | str], h: Hierarchy, target: CgroupRef,
              threads: bool, pid_max: int, front: str, expected_start: Mapping[int, int] | None,
              via: Via = "auto", scope: ScopeRequest | None = None) -> Plan:
    """One verdict per item of `pids` for moving into `target` (in `h`): the facts of every
    distinct PID are read once, then each hook judges the batch of PIDs still undecided, in
    the hooks' order. A PID given twice is judged once; its repeat reports the same. `via`:
    the route asked for (the plan's `route` is systemd's where it applies, see
    ctrtui.engine.systemdroute)."""
    backend = reader.backend
    batch = HookBatch(backend, h, target, backend.cgroup_state(h.name, target.path), threads, backend.writer())
    batch.front = front
    batch.via = via
    items: list[Item] = []  # (text, pid, parse error)
    pid: int | None
    first: dict[int, int] = {}  # pid -> index of its first item
    for i, item in enumerate(pids):
        text = item if isinstance(item, str) else str(item)
        try:
            pid = parse_pid(item, pid_max)
        except PidParseError as e:
            items.append((text, None, e))
            continue
        items.append((text, pid, None))
        if pid not in first:
            first[pid] = i
    facts = reader.facts_of(list(first), h)
    judged = judge_batch(hooks, reader, batch, first, items, facts, expected_start)
    verdicts = []
    for i, (text, pid, err) in enumerate(items):
        if pid is None:
            assert err is not None  # no PID: the parser said why
            verdicts.append(Verdict(text, None, "refused", err.errno, "parse", err.reason, err.advice))
            continue
        v = judged[pid]
        if first[pid] != i:
            v = v.replace(text=text, warnings=v.warnings + (
                f"PID {pid} is listed more than once (first as item {first[pid] + 1}); it is "
                "handled once, this item reports the same result.",))
        elif v.text != text:
            v = v.replace(text=text)
        verdicts.append(v)
    reader.release_unused(judged)
    return Plan(target, threads, tuple(verdicts), h, route=route_of(batch), scope=scope)
