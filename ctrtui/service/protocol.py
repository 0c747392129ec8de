"""`Service`: every operation a front end asks of ctrtui, typed, each returning model and
engine values. `LocalService` (ctrtui/service/local.py) is this machine's.

Reading: `hierarchies`, `cgroup_state`, `snapshot`, `task_details`, `stats`.
Planning and applying: `prepare_writes`, `plan`, `risks`, `apply`, `request_stop`.
Undoing and the log: `undo`, `log`.
Cgroup ops: `cgroup_op` (mkdir, rmdir, freeze, thaw).
History (a recording of the served machine, TIME words parsed there): `history_sample`,
`history_figures`, `history_timeline`, `history_where`, `history_diff`, `history_warnings`; recording: `recorder_open`,
`recorder_sample`, `recorder_close`.

Not here: the checks made before any write that `LocalService` has for the terminal UI
(`journal_problem`, `policy_problem`, `reload_policy`). A remote host's journal and policy
are its own engine's, which refuses each call with their sentence (`refused`) while they
cannot be used, and its hello names a journal it cannot read (`journal_problem`:
docs/remote.md); a `RemoteService` would have nothing of its own to answer them with, only
one more round trip for what the refusal says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ctrtui.engine.opvalues import OpResult
from ctrtui.engine.values import Plan, Report, ScopeRequest, Via
from ctrtui.model import CgroupRef, CgroupState, Hierarchy, Snapshot, TaskInfo
from ctrtui.model.cgstats import Figures
from ctrtui.service.values import BatchLog, RecordedFigures, RecordedSample, RecorderState, Timeline, Undone

__all__ = ["Service"]


class Service(Protocol):
    """What a front end may ask. Errors: `CtrtuiError` (one sentence: a policy that cannot be
    read, a journal that cannot be opened), `OSError` of a read the kernel refused."""

    @property
    def kind(self) -> str:
        """What is served: `real` (a machine's /sys/fs/cgroup), `demo`, `history`, ..."""
        ...

    @property
    def pid_max(self) -> int:
        """The served system's pid_max (PIDs are below it)."""
        ...

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        """Every mounted hierarchy."""
        ...

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        """The cgroup's state; None when it does not exist."""
        ...

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None,
                 procs: bool = True) -> Snapshot:
        """The tree of the hierarchies `names` (None: all), from `subtree` down (None: the
        root); `procs=False`: process lists may be left unread (thread lists only)."""
        ...

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        """What is known of each PID that still exists."""
        ...

    def stats(self, walks: Mapping[str, Sequence[str]], interval: float) -> dict[str, dict[str, Figures]]:
        """Figures of the cgroups `walks` names (hierarchy -> paths): two readings `interval`
        seconds apart (rates over that time), or one reading when it is 0 (rates unknown)."""
        ...

    def prepare_writes(self) -> None:
        """Get ready to change the served system now (its policy read and checked, its
        journal opened), so that what stands in the way is said before anything is done:
        CtrtuiError."""
        ...

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        """What moving `pids` into `target` would do, judged by the hooks and the policy.
        `expected_start` (pid -> start time the front end saw): a PID started at another
        time is refused as reused (a service that checks start times when it applies may
        ignore it). `via`: `auto` (through systemd where it takes the tasks, and what systemd
        would refuse is refused) or `kernel` (the membership-file write, asked for)."""
        ...

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan:
        """What moving `pids` into a new transient scope systemd starts for them would do
        (`scope`: its name, slice and properties); `CtrtuiError` for what systemd would refuse
        before it is asked (not a systemd host, a bad name, slice or property)."""
        ...

    def risks(self, plan: Plan) -> list[str]:
        """The sentences a front end should show (or ask about) before applying `plan`."""
        ...

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        """Move what `plan` accepted: written, verified, journaled."""
        ...

    def request_stop(self, why: str) -> None:
        """Stop the running batch before its next PID (safe from a signal handler)."""
        ...

    def undo(self, batch: str | None = None) -> Undone:
        """Undo the newest undoable batch (or `batch`), a move or a cgroup op."""
        ...

    def log(self, limit: int | None = None) -> BatchLog:
        """The newest `limit` batches of the journal (None: all)."""
        ...

    def cgroup_op(self, op: str, ref: CgroupRef) -> OpResult:
        """`mkdir`, `rmdir`, `freeze` or `thaw` of `ref`: checked, journaled, undoable."""
        ...

    # History: `source` names a recording on the served machine (None: the one `ctrtui
    # record` writes there); TIME words are read against its clock and recording. Errors:
    # CtrtuiError (HistoryError: no recording, a time before it, a damaged file).

    def history_sample(self, source: str | None = None, at: str | None = None,
                       index: int | None = None) -> RecordedSample:
        """The recorded world at sample `index` (of the recording `history_timeline` read
        last), else at TIME `at`, else at the last sample."""
        ...

    def history_figures(self, hierarchy: str, paths: Sequence[str], index: int,
                        source: str | None = None) -> RecordedFigures:
        """The figures recorded (`S` records) of the cgroups `paths` of `hierarchy` at sample
        `index` (of the recording `history_timeline` read last); a cgroup without a reading
        is left out."""
        ...

    def history_timeline(self, source: str | None = None) -> Timeline:
        """The recording's sample times and the journal's batches it holds."""
        ...

    def history_where(self, pid: int, since: str | None = None, until: str | None = None,
                      source: str | None = None) -> list[dict[str, Any]]:
        """Every cgroup the task with `pid` was in from TIME `since` to `until` (`ctrtui where`'s rows)."""
        ...

    def history_diff(self, t1: str, t2: str, source: str | None = None) -> list[dict[str, Any]]:
        """What changed from the sample at TIME `t1` to the one at `t2` (`ctrtui diff`'s rows)."""
        ...

    def history_warnings(self) -> tuple[str, ...]:
        """What reading the recording of the last history call met and passed over (a torn
        tail ignored), each a sentence; () when nothing."""
        ...

    def recorder_open(self, directory: str | None, max_size: int, full_every: int,
                      names: Sequence[str] | None = None, subtree: str | None = None,
                      stats_every: int | None = None) -> RecorderState:
        """Start recording on the served machine into `directory` (None: the default), the
        cgroups' figures every `stats_every` samples (0: never; None: the recorder's default)."""
        ...

    def recorder_sample(self) -> RecorderState:
        """One sample written by the recorder `recorder_open` started."""
        ...

    def recorder_close(self) -> RecorderState | None:
        """Close the recorder (its file whole, its lock let go); None when none ran."""
        ...
