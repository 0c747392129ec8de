"""`LocalService`: the `Service` of this machine (or of a simulated or recorded world): a
backend, the attach engine with its policy and journal, and the cgroup ops -- what the
command line builds for each command.

The backend is opened and the engine (its policy read, its journal opened) built on first
use, so a listing never reads the policy and `log` never opens the backend.
"""

from __future__ import annotations

from ctrtui.service.recordings import HistoryOps

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from ctrtui.engine import AttachEngine, Journal, Plan, Report
    from ctrtui.engine.opvalues import OpRefusal, OpResult
    from ctrtui.engine.values import ScopeRequest, Via
    from ctrtui.model import CgroupRef, CgroupState, Hierarchy, Snapshot, TaskInfo
    from ctrtui.model.cgstats import Figures
    from ctrtui.service.values import BatchLog, Undone
    from ctrtui.sources.base import Backend

__all__ = ["LocalService"]


class LocalService(HistoryOps):
    """`backend`: the backend, or `opener`: what opens it (called once, on first use). `identity`: what
    names the journal when `journal_path` is not given, without opening the backend (None:
    the backend's own). `policy_path` None: the default policy file. `journal=False`: the
    journal is kept in memory (reports say `journaled: false`). `broken_policy_ok`: a policy
    that cannot be read refuses every move with its sentence instead of raising (the UI).
    `front`: whose words the engine's advice takes (`cli`, or `ui`: the terminal UI's;
    `ctrtui.errors.look_again`); None: the engine's own (`cli` for one built here). `engine`:
    an attach engine already built over `backend` (tests', with their own hooks and policy),
    used instead of building one. Its recordings: `HistoryOps`
    (ctrtui/service/recordings.py)."""

    def __init__(self, backend: Backend | None = None, *, opener: Callable[[], Backend] | None = None,
                 identity: Callable[[], str] | None = None, policy_path: str | None = None,
                 journal_path: str | None = None, journal: bool = True,
                 journal_max: Callable[[], int | None] | None = None, broken_policy_ok: bool = False,
                 front: str | None = None, engine: AttachEngine | None = None) -> None:
        # journal_max: the rotation size, asked when the engine's journal is opened (None: the default)
        if (backend is None) == (opener is None):
            raise ValueError("LocalService takes a backend or an opener of one")
        self._backend = backend
        self._open = opener
        self._identity = identity
        self.policy_path = policy_path
        self.journal_path = journal_path
        self.journaled = journal
        self.journal_max = journal_max
        self.broken_policy_ok = broken_policy_ok
        self.front = front
        if engine is not None and front is not None:
            engine.front = front
        self._engine: AttachEngine | None = engine

    # ------------------------------------------------------------------ what it is built of

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            assert self._open is not None
            self._backend = self._open()
            self._open = None
        return self._backend

    @property
    def engine(self) -> AttachEngine:
        """The attach engine, built on first use: a policy that cannot be read or is invalid
        (checked against the backend's hierarchies) is a CtrtuiError (exit 2 of the command
        line), unless `broken_policy_ok`."""
        if self._engine is None:
            self._engine = self._build_engine()
        return self._engine

    def _build_engine(self) -> AttachEngine:
        from ctrtui.engine import AttachEngine, Journal, Policy
        from ctrtui.errors import CtrtuiError

        backend = self.backend
        try:
            policy = (Policy.load(self.policy_path, backend.hierarchies) if self.policy_path
                      else Policy.load_default(backend.hierarchies))
        except CtrtuiError as e:
            if not self.broken_policy_ok:
                raise
            from ctrtui.engine.policy import default_policy_path

            policy = Policy.broken(str(e), self.policy_path or default_policy_path())
        if not self.journaled:
            journal = Journal(None)  # kept in memory: the report says journaled: false
        else:
            journal = self._journal(backend.identity)
        engine = AttachEngine(backend, policy=policy, journal=journal)
        if self.front is not None:
            engine.front = self.front
        return engine

    def _journal(self, identity: str) -> Journal:
        from ctrtui.engine import Journal, default_journal_path
        from ctrtui.engine.journal import DEFAULT_MAX_BYTES

        max_bytes = self.journal_max() if self.journal_max is not None else None
        return Journal(self.journal_path or default_journal_path(identity),
                       max_bytes=DEFAULT_MAX_BYTES if max_bytes is None else max_bytes)

    @property
    def journal_file(self) -> str:
        """The file this machine's engine journals to (given, or the default of the backend's
        identity), whether or not it is opened."""
        from ctrtui.engine import default_journal_path

        return self.journal_path or default_journal_path(self.backend.identity)

    # ------------------------------------------------------------------ before any write (local only)

    def journal_problem(self) -> str | None:
        """Why the journal cannot be written, found before any move (None: it can, or there
        is none: `journal=False`): `ctrtui.service.checks.journal_problem`."""
        from ctrtui.service.checks import journal_problem

        return journal_problem(self.engine.journal)

    def policy_problem(self, mounted: Sequence[Hierarchy]) -> str | None:
        """Why the policy cannot be used on `mounted` (None: it can)."""
        from ctrtui.service.checks import policy_problem

        return policy_problem(self.engine, mounted)

    def reload_policy(self) -> str | None:
        """Read a broken policy's file again; when usable now, moves use it and its file's
        name comes back. None: nothing read again; still broken: `CtrtuiError`, its sentence."""
        from ctrtui.service.checks import reload_policy

        return reload_policy(self.engine, self.backend.hierarchies)

    # ------------------------------------------------------------------ reading

    @property
    def kind(self) -> str:
        kind: str = self.backend.kind
        return kind

    @property
    def pid_max(self) -> int:
        """The engine's (read once, the number PIDs are parsed against) once it is built, else
        the backend's."""
        if self._engine is not None:
            return int(self._engine.pid_max)
        return int(self.backend.pid_max)

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        return tuple(self.backend.hierarchies())

    def cgroup_state(self, hierarchy: str, path: str) -> CgroupState | None:
        return self.backend.cgroup_state(hierarchy, path)

    def snapshot(self, names: Sequence[str] | None = None, subtree: str | None = None,
                 procs: bool = True) -> Snapshot:
        backend = self.backend
        if not procs and backend.kind == "real":  # CgroupFS can leave cgroup.procs unread
            return backend.snapshot(names, subtree=subtree, procs=False)  # type: ignore[call-arg]
        return backend.snapshot(names, subtree=subtree)

    def task_details(self, pids: Iterable[int]) -> dict[int, TaskInfo]:
        return self.backend.task_details(pids)

    def stats(self, walks: Mapping[str, Sequence[str]], interval: float) -> dict[str, dict[str, Figures]]:
        from ctrtui.sources.stats import StatsSampler

        sampler = StatsSampler(self.backend)
        if interval and getattr(self.backend, "recorded_figures", None) is None:
            # 0: one reading, the rates stay unknown; a recording's figures have their rates
            import time

            for name, paths in walks.items():
                sampler.sample(name, paths)
            time.sleep(interval)
        return {name: sampler.sample(name, paths) for name, paths in walks.items()}

    # ------------------------------------------------------------------ moves

    def prepare_writes(self) -> None:
        """The engine is built now (see `engine`)."""
        self.engine  # noqa: B018 - the property builds it

    def plan(self, pids: Sequence[int | str], target: CgroupRef, threads: bool = False,
             expected_start: Mapping[int, int] | None = None, via: Via = "auto") -> Plan:
        return self.engine.plan(pids, target, threads=threads, expected_start=expected_start, via=via)

    def plan_scope(self, pids: Sequence[int | str], scope: ScopeRequest) -> Plan:
        return self.engine.plan_scope(pids, scope)

    def risks(self, plan: Plan) -> list[str]:
        """What the terminal UI would ask about before applying `plan` (`ctrtui.engine.risk`):
        PID 1, kernel threads, many tasks, systemd units, a v1 hierarchy, a split process.
        Assessing never stops a move: when it fails, the one risk says so."""
        if not plan.accepted:
            return []  # nothing would move: nothing is at risk
        from ctrtui.engine.risk import assess
        from ctrtui.report import describe_error

        backend = self.backend
        try:
            # every hierarchy, only from the target down: what assess reads (the target's
            # hierarchy, the others' names and whether the target path exists in them)
            snapshot = backend.snapshot(subtree=plan.target.path)
            return assess(plan, snapshot, backend)
        except Exception as exc:  # noqa: BLE001 - assessing must not stop a move; say so instead
            return [f"Could not check this move for risks ({describe_error(exc)})."]

    def apply(self, plan: Plan, all_or_nothing: bool = False) -> Report:
        return self.engine.apply(plan, all_or_nothing=all_or_nothing)

    def request_stop(self, why: str) -> None:
        self.engine.request_stop(why)

    def undo(self, batch: str | None = None) -> Undone:
        from ctrtui.engine import Report
        from ctrtui.engine.cgroupops import undo_any
        from ctrtui.engine.opvalues import OpResult
        from ctrtui.service.values import Undone

        engine = self.engine
        done = undo_any(engine, batch)
        if isinstance(done, OpResult):
            return Undone(op=done)
        if isinstance(done, Report):
            return Undone(report=done)
        return Undone(nothing_left=engine.nothing_left,
                      warnings=tuple(engine.warnings) + tuple(engine.journal.warnings))

    def log(self, limit: int | None = None) -> BatchLog:
        from ctrtui.service.values import BatchLog

        if self._engine is not None:
            journal = self._engine.journal
        else:
            from ctrtui.engine import Journal, default_journal_path

            identity = self._identity() if self._identity is not None else self.backend.identity
            journal = Journal(self.journal_path or default_journal_path(identity))
        batches = tuple(journal.batches(limit))
        holder = None
        if batches and batches[0].status() == "open" and journal.path is not None:
            from ctrtui.engine.journallock import lock_holder

            holder = lock_holder(journal.path)
        return BatchLog(batches, journal.path, holder, tuple(journal.warnings))

    def cgroup_op(self, op: str, ref: CgroupRef) -> OpResult:
        from ctrtui.engine.cgroupops import CgroupOps

        return CgroupOps(self.engine).run(op, ref)

    def cgroup_check(self, op: str, ref: CgroupRef) -> OpRefusal | None:
        """What would refuse `cgroup_op(op, ref)` now, said before it is tried (None: nothing)."""
        from ctrtui.engine.cgroupops import CgroupOps

        return CgroupOps(self.engine).check(op, ref)

    def frozen(self, ref: CgroupRef) -> bool | None:
        """Whether `ref` is frozen (None: no freezer there)."""
        from ctrtui.engine.cgroupops import CgroupOps

        return CgroupOps(self.engine).frozen(ref)
