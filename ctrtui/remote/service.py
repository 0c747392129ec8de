"""`RemoteService`: the `Service` (ctrtui/service/protocol.py) of one host, through its agent.

Reading goes through the agent's reader proxy (`RemoteReader`: hierarchies, snapshots as
deltas, cgroup states, task details); planning, applying, undoing, the log, cgroup ops and
stats are the agent's service calls (ctrtui/agent/calls.py), their answers decoded by the
codec (ctrtui/service/codec.py). The host's engine, pidfds, policy and journal do the work
there; what comes back are the same `Plan`, `Report`, `OpResult`, `Undone` and `BatchLog` a
`LocalService` gives, so a front end draws them alike. The host's recordings: the history
calls (ctrtui/agent/historycalls.py), decoded by ctrtui/service/historycodec.py; TIME words
travel as typed and are read on the host.

Errors: a `CtrtuiError` of the host's service (its policy cannot be read, its journal is
another's) is a `CtrtuiError` here with the host's sentence, as it is locally; any other
error answer, an answer the codec refuses, or a host that went away is a `HostError` naming
the host (ctrtui/remote/errors.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ctrtui.remote.errors import HostError, RemoteOpError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ctrtui.engine import Plan, Report
    from ctrtui.engine.opvalues import OpResult
    from ctrtui.engine.values import ScopeRequest, Via
    from ctrtui.model import CgroupRef, CgroupState, Hierarchy, Snapshot, TaskInfo
    from ctrtui.model.cgstats import Figures
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.reader import RemoteReader
    from ctrtui.service.values import BatchLog, RecordedFigures, RecordedSample, RecorderState, Timeline, Undone

__all__ = ["RemoteService"]

SIDE = "the host"
"""How the codec names the host in its sentences (a HostError puts the host's name first)."""
OLDER = "the host may run another ctrtui version; use the same one on both sides"


class RemoteService:
    """The service of the host `channel` reaches (`reader`: its reader proxy, made on the same
    channel when not given). `journal=False`: the host keeps the batches in memory
    (`--no-journal`): they cannot be undone."""

    kind = "remote"

    def __init__(self, channel: AgentChannel, reader: RemoteReader | None = None, journal: bool = True) -> None:
        if reader is None:
            from ctrtui.remote.reader import RemoteReader

            reader = RemoteReader(channel)
        self.channel = channel
        self.reader = reader
        self.journaled = journal
        self.stop_asked: str | None = None

    @property
    def host(self) -> str:
        return self.channel.name

    def _call(self, op: str, args: dict[str, Any], timeout: float | None = None) -> Any:
        from ctrtui.errors import CtrtuiError

        try:
            return self.channel.call(op, args, timeout=timeout)
        except RemoteOpError as e:
            if e.kind == "refused":
                raise CtrtuiError(e.message) from None
            hint = OLDER if e.kind == "bad-request" and e.message.startswith("unknown op") else ""
            raise HostError(self.host, e.kind, e.message, hint) from None

    def _decoded(self, decode: Any, value: object) -> Any:
        from ctrtui.service.codec import CodecError

        try:
            return decode(value, SIDE)
        except CodecError as e:
            raise HostError(self.host, "protocol", str(e), OLDER) from None

    # ------------------------------------------------------------------ reading

    @property
    def pid_max(self) -> int:
        return self.reader.pid_max

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return self.reader.hierarchies()

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        return self.reader.cgroup_state(hierarchy, path)

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None,
                 procs: bool = True) -> Snapshot:
        return self.reader.snapshot(names, subtree)  # the agent always reads the process lists

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        return self.reader.task_details(pids)

    def stats(self, walks: Mapping[str, Sequence[str]], interval: float) -> dict[str, dict[str, Figures]]:
        from ctrtui.service.codec import decode_stats

        got = self._call("stats", {"walks": {k: list(v) for k, v in walks.items()}, "interval": interval},
                         timeout=self.channel.timeout + interval)
        result: dict[str, dict[str, Figures]] = self._decoded(decode_stats, got)
        return result

    # ------------------------------------------------------------------ moves

    def prepare_writes(self) -> None:
        self._call("prepare_writes", {"journal": self.journaled})

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        """`expected_start` is not sent: the host's agent reads start times itself, and the
        UI's remote mover checks the ones it saw (`ctrtui.ui.hosts`)."""
        from ctrtui.service.codec import decode_plan

        got = self._call("plan", {"pids": [str(p) for p in pids], "threads": bool(threads), "journal": self.journaled,
                                  "target": {"hierarchy": target.hierarchy, "path": target.path}, "via": via})
        plan: Plan = self._decoded(decode_plan, got)
        return plan

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan:
        """The host's engine judges the new scope (a systemd host? a name, slice and
        properties systemd accepts?): its refusal is the `CtrtuiError` it is locally."""
        from ctrtui.service.codec import decode_plan, encode_scope

        got = self._call("plan_scope", {"pids": [str(p) for p in pids], "scope": encode_scope(scope),
                                        "journal": self.journaled})
        plan: Plan = self._decoded(decode_plan, got)
        return plan

    def risks(self, plan: Plan) -> list[str]:
        from ctrtui.service.codec import decode_risks, encode_plan

        if not plan.accepted:
            return []  # nothing would move: nothing is at risk (as LocalService says)
        risks: list[str] = self._decoded(decode_risks, self._call("risks", {"plan": encode_plan(plan)}))
        return risks

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        from ctrtui.service.codec import decode_report, encode_plan

        got = self._call("apply", {"plan": encode_plan(plan), "all_or_nothing": bool(all_or_nothing)})
        report: Report = self._decoded(decode_report, got)
        return report

    def request_stop(self, why: str) -> None:
        """Noted only: the agent answers one request at a time, so the host's batch runs to
        its end (a batch of a few thousand PIDs takes well under a second there)."""
        self.stop_asked = why

    def undo(self, batch: str | None = None) -> Undone:
        from ctrtui.service.codec import decode_undone

        undone: Undone = self._decoded(decode_undone, self._call("undo", {"batch": batch,
                                                                          "journal": self.journaled}))
        return undone

    def log(self, limit: int | None = None) -> BatchLog:
        from ctrtui.service.codec import decode_log

        log: BatchLog = self._decoded(decode_log, self._call("log", {"limit": limit}))
        return log

    def cgroup_op(self, op: str, ref: CgroupRef) -> OpResult:
        from ctrtui.service.codec import decode_op_result

        got = self._call("cgroup_op", {"op": op, "cgroup": {"hierarchy": ref.hierarchy, "path": ref.path}})
        result: OpResult = self._decoded(decode_op_result, got)
        return result

    # ------------------------------------------------------------------ history (on the host)

    def history_sample(self, source: str | None = None, at: str | None = None,
                       index: int | None = None) -> RecordedSample:
        from ctrtui.service.historycodec import decode_sample

        sample: RecordedSample = self._decoded(decode_sample, self._call(
            "history_sample", {"source": source, "at": at, "index": index}))
        return sample

    def history_figures(self, hierarchy: str, paths: Sequence[str], index: int,
                        source: str | None = None) -> RecordedFigures:
        """The host's recorded figures of `paths`; an answer naming a cgroup not asked for,
        or a figure of the wrong type or range, is this host's `protocol` HostError."""
        from functools import partial

        from ctrtui.service.historycodec import decode_figures

        asked = list(paths)
        figures: RecordedFigures = self._decoded(partial(decode_figures, asked=asked), self._call(
            "history_figures", {"hierarchy": hierarchy, "paths": asked, "index": index, "source": source}))
        return figures

    def history_timeline(self, source: str | None = None) -> Timeline:
        from ctrtui.service.historycodec import decode_timeline

        timeline: Timeline = self._decoded(decode_timeline, self._call("history_timeline", {"source": source}))
        return timeline

    def history_warnings(self) -> tuple[str, ...]:
        from ctrtui.service.historycodec import decode_warnings

        said: tuple[str, ...] = self._decoded(decode_warnings, self._call("history_warnings", {}))
        return said

    def history_where(self, pid: int, since: str | None = None, until: str | None = None,
                      source: str | None = None) -> list[dict[str, Any]]:
        from ctrtui.service.historycodec import decode_where

        rows: list[dict[str, Any]] = self._decoded(decode_where, self._call(
            "history_where", {"pid": pid, "since": since, "until": until, "source": source}))
        return rows

    def history_diff(self, t1: str, t2: str, source: str | None = None) -> list[dict[str, Any]]:
        from ctrtui.service.historycodec import decode_diff

        rows: list[dict[str, Any]] = self._decoded(decode_diff, self._call(
            "history_diff", {"t1": t1, "t2": t2, "source": source}))
        return rows

    def recorder_open(self, directory: str | None, max_size: int, full_every: int,
                      names: Sequence[str] | None = None, subtree: str | None = None,
                      stats_every: int | None = None) -> RecorderState:
        from ctrtui.service.historycodec import decode_recorder

        state: RecorderState | None = self._decoded(decode_recorder, self._call("recorder_open", {
            "directory": directory, "max_size": max_size, "full_every": full_every,
            "names": None if names is None else list(names), "subtree": subtree, "stats_every": stats_every}))
        if state is None:
            raise HostError(self.host, "protocol", "the host opened no recorder", OLDER)
        return state

    def recorder_sample(self) -> RecorderState:
        from ctrtui.service.historycodec import decode_recorder

        state: RecorderState | None = self._decoded(decode_recorder, self._call("recorder_sample", {}))
        if state is None:
            raise HostError(self.host, "protocol", "the host's recorder wrote no sample", OLDER)
        return state

    def recorder_close(self) -> RecorderState | None:
        from ctrtui.service.historycodec import decode_recorder

        state: RecorderState | None = self._decoded(decode_recorder, self._call("recorder_close", {}))
        return state
