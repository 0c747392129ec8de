"""`Service`: every operation a front end asks of ctrtui, typed, each returning model and
engine values. `LocalService` (ctrtui/service/local.py) is this machine's.

Reading: `hierarchies`, `cgroup_state`, `snapshot`, `task_details`, `stats`.
Planning and applying: `prepare_writes`, `plan`, `risks`, `apply`, `request_stop`.
Undoing and the log: `undo`, `log`.
Cgroup ops: `cgroup_op` (mkdir, rmdir, freeze, thaw).

Not here: the checks made before any write that `LocalService` has for the terminal UI
(`journal_problem`, `policy_problem`, `reload_policy`). A remote host's journal and policy
are its own engine's, which refuses each call with their sentence (`refused`) while they
cannot be used, and its hello names a journal it cannot read (`journal_problem`:
docs/remote.md); a `RemoteService` would have nothing of its own to answer them with, only
one more round trip for what the refusal says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ctrtui.engine.opvalues import OpResult
from ctrtui.engine.values import Plan, Report, ScopeRequest, Via
from ctrtui.model import CgroupRef, CgroupState, Hierarchy, Snapshot, TaskInfo
from ctrtui.model.cgstats import Figures
from ctrtui.service.values import BatchLog, Undone

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
