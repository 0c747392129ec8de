"""The apply step: write each accepted PID, check it arrived, roll back a failed all-or-nothing batch.

`Mover.run` writes each accepted PID the way the kernel wants it (under the task's pidfd, one
canonical decimal write to the membership file, each file opened once per batch), or, for a
plan whose `route` is `systemd`, asks systemd to move it (AttachProcessesToUnit), checks that
the task was not reaped before the write and had not exited after it (`_settle`), that it
really sits in the target (`_verify`), and tells every hook's `attach`. Nothing is dropped
or merged: one `Outcome` per input item, in order. The journal is the engine's business
(`ctrtui.engine.batches`): a `Mover` only moves.
"""

from __future__ import annotations

import errno as _errno
from typing import TYPE_CHECKING, Any

from ctrtui.engine.hooks import BuiltinHook
from ctrtui.engine.values import ARRIVED, Outcome, OutcomeKind, Plan, Verdict
from ctrtui.errors import errno_name, explain, look_again
from ctrtui.model import CgroupRef, TaskInfo
from ctrtui.sources.base import exit_poller, membership_file, systemd_units
from ctrtui.sources.systemd import PropertyError, SystemdError
from ctrtui.text import display

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ctrtui.engine.planning import FactReader

__all__ = ["Mover"]

_MEMBERSHIP = {(version, threads): membership_file(version, threads) for version in (1, 2) for threads in (False, True)}
_NOOP_ATTACH = BuiltinHook.attach
if TYPE_CHECKING:
    Items = list[tuple[Plan, Verdict]]
    Guards = list[tuple[int, Any]]
    """(item index, its task's handle): written, checked after the loop."""


class _Same:
    """`_outcome`'s default for a field that may also be given as None: the verdict's own."""


_SAME = _Same()


def _decided(o: Outcome | None) -> Outcome:
    """An outcome the batch has decided (its slot is filled by then)."""
    assert o is not None
    return o


class _Progress:
    """What a batch's write loop has done so far."""

    def __init__(self, size: int) -> None:
        self.outcomes: list[Outcome | None] = [None] * size
        self.moved: list[int] = []  # moved and verified (all-or-nothing): rolled back if the batch fails
        self.failed: Outcome | None = None  # the first item that did not end in the target
        self.written: list[int] = []  # written and alive after the write: verified after the loop
        self.repeats: list[tuple[int, int]] = []  # (item, the earlier item with the same PID)
        self.done: dict[tuple[str, int | None], int] = {}  # (hierarchy, pid) -> its first item


class Mover:
    """Moves the accepted items of one batch. `reader`: the plan's `FactReader` (its held
    pidfds are taken); `front` picks the words of advice; `stopped()` says what stopped the
    batch (a signal's name) or None, and is asked before each PID."""

    def __init__(self, backend: Any, reader: FactReader, hooks: Sequence[Any], front: str,
                 stopped: Callable[[], str | None], verify_batch: int) -> None:
        self.backend = backend
        self.reader = reader
        self.front = front
        self.stopped = stopped
        self.verify_batch = verify_batch
        self._exits = exit_poller(backend)
        self._attach_hooks = [hook for hook in hooks if type(hook).attach is not _NOOP_ATTACH]
        self._thread_guards: dict[int, str] = {}  # TID -> how apply held it (`guard: ...` in the report)
        self._scopes: dict[int, SystemdError | None] = {}  # id(plan) -> its new scope's refusal, None: started

    def run(self, items: Items, all_or_nothing: bool) -> tuple[tuple[Outcome, ...], bool]:
        """(one outcome per item, in order; whether a failed all-or-nothing batch was rolled
        back)."""
        st = _Progress(len(items))
        first_refused = next((v for _, v in items if v.kind not in ARRIVED and v.kind != "move"), None)
        if all_or_nothing and first_refused is not None:
            why = (f"Not moved: the batch is all-or-nothing and '{first_refused.text}' was "
                   f"{first_refused.kind} ({first_refused.reason})")
            for i, (p, v) in enumerate(items):
                if v.kind == "move":
                    st.outcomes[i] = self._outcome(p, v, "not-moved", reason=why, advice="Fix or drop the refused "
                                                   "PID, then try again.")
                else:
                    st.outcomes[i] = self._outcome(p, v, v.kind)
            return tuple(_decided(o) for o in st.outcomes), False
        files = _Writers(self.backend)
        guards: Guards = []
        try:
            self._write_all(items, all_or_nothing, st, files, guards)
            for i, o in self._settle(guards, items):  # one look at every written task
                if o is None:
                    st.written.append(i)
                else:
                    st.outcomes[i] = o
        finally:
            files.close()
            for _, handle in guards:
                handle.close()
        for i, o in zip(st.written, self._verify([items[i] for i in st.written])):
            st.outcomes[i] = o
        for i, first in st.repeats:
            p, v = items[i]
            st.outcomes[i] = self._duplicate(p, v, _decided(st.outcomes[first]), first)
        rolled_back = all_or_nothing and st.failed is not None and bool(st.moved)
        if rolled_back:
            for i in reversed(st.moved):
                p, v = items[i]
                st.outcomes[i] = self._roll_back(p, v, _decided(st.outcomes[i]), _decided(st.failed))
        return tuple(o for o in st.outcomes if o is not None), rolled_back

    def _write_all(self, items: Items, all_or_nothing: bool, st: _Progress, files: _Writers, guards: Guards) -> None:
        """The write loop: each item once, in order; an all-or-nothing batch verifies each PID
        at once and stops trying after the first failure."""
        for i, (p, v) in enumerate(items):
            key = (p.hierarchy.name, v.pid)
            stop = self.stopped()
            if v.kind != "move":
                st.outcomes[i] = self._outcome(p, v, v.kind)
            elif key in st.done:
                st.repeats.append((i, st.done[key]))
            elif st.failed is not None and all_or_nothing:
                st.outcomes[i] = self._outcome(p, v, "not-moved", reason=(
                    f"Not tried: the batch is all-or-nothing and PID {st.failed.pid} already failed "
                    f"({st.failed.outcome}: {st.failed.reason})"), advice="Fix that PID, then try again.")
            elif stop is not None:
                st.outcomes[i] = self._outcome(p, v, "not-moved", errno=None, hook=None, reason=(
                    f"Not tried: ctrtui was interrupted ({stop}) before PID {v.pid} was written; "
                    f"it stays in {v.source or 'its cgroup'}."), advice=(
                    "Run the move again for the PIDs not moved, or `ctrtui undo` to move back those moved."))
                if st.failed is None:
                    st.failed = st.outcomes[i]
            elif not all_or_nothing:
                o = self._write_guarded(p, v, files, guards, i)
                if o is not None:
                    st.outcomes[i] = o
            else:
                o = self._write_one(p, v, files)
                if o is None:
                    o = self._verify([(p, v)])[0]  # now: a failure stops the batch
                st.outcomes[i] = o
                if o.outcome == "moved":
                    st.moved.append(i)
                elif o.outcome != "already-there" and st.failed is None:
                    st.failed = o
            if v.pid is not None and key not in st.done:
                st.done[key] = i

    @staticmethod
    def _outcome(p: Plan, v: Verdict, outcome: OutcomeKind, *, errno: str | None | _Same = _SAME,
                 hook: str | None | _Same = _SAME, reason: str | None = None, advice: str | None = None) -> Outcome:
        """The verdict's item as an outcome; what is given replaces the verdict's own."""
        return Outcome(v.text, v.pid, outcome, v.errno if isinstance(errno, _Same) else errno,
                       v.hook if isinstance(hook, _Same) else hook, v.reason if reason is None else reason,
                       v.advice if advice is None else advice, v.warnings, v.source, p.target.path, v.start_time)

    def _duplicate(self, p: Plan, v: Verdict, first: Outcome, index: int) -> Outcome:
        if first.outcome in ("moved", "already-there"):
            return self._outcome(p, v, "already-there", errno=None, hook=None, reason=(
                f"PID {v.pid} is already in {p.target}: item {index + 1} of this batch handled it."))
        return self._outcome(p, v, first.outcome, errno=first.errno, hook=first.hook, advice=first.advice,
                             reason=f"Same PID as item {index + 1} of this batch: {first.reason}")

    def _write_one(self, p: Plan, v: Verdict, files: _Writers) -> Outcome | None:
        """Write one accepted PID under the PID-reuse guard and check the guard at once.
        Returns the outcome when it is already known (refused, vanished), or None: written,
        and the task was still there after the write (then `_verify` says whether it moved)."""
        guards: Guards = []
        o = self._write_guarded(p, v, files, guards, 0)
        if o is not None:
            return o
        try:
            return self._settle(guards, [(p, v)])[0][1]
        finally:
            guards[0][1].close()

    def _write_guarded(self, p: Plan, v: Verdict, files: _Writers, guards: Guards, index: int) -> Outcome | None:
        """Hold the planned task, write its PID, and add (index, handle) to `guards` for
        `_settle`; or the outcome when the task is gone or the kernel refused the write."""
        got = self._hold(p, v)
        if isinstance(got, Outcome):
            return got
        pid, target = v.pid, p.target
        fname = _MEMBERSHIP[p.hierarchy.version, p.threads]
        try:
            if p.route == "scope":
                self._start_scope(p)
            elif p.route == "systemd" and pid is not None:
                self._through_systemd(p, pid)
            else:
                files.write(p.hierarchy.name, target.path, fname, str(pid).encode())
        except SystemdError as e:
            got.close()
            return self._outcome(p, v, "refused", errno=None, hook="systemd", reason=str(e), advice=(
                f"Look again (ctrtui tasks); the kernel write stays possible with --via kernel, after which "
                f"PID {pid} lives and dies with the unit."))
        except OSError as e:
            got.close()
            name = errno_name(e.errno or 0)
            if name == "ESRCH":
                return self._gone(p, v, "before the kernel could move it to {target}")
            sentence, advice = explain(name, pid=pid, cgroup=target, file=fname, front=self.front)
            return self._outcome(p, v, "refused", errno=name, hook="kernel", reason=sentence, advice=advice)
        guards.append((index, got))
        guard = getattr(got, "guard", None)  # the real kernel's handles say how they hold a task,
        if guard and pid is not None and v.task is not None and v.task.is_thread:  # a thread's report names it
            self._thread_guards[pid] = guard
        return None

    def _start_scope(self, p: Plan) -> None:
        """systemd starts the plan's new scope holding all its accepted PIDs, at the first
        PID's turn (each PID's hold comes first, as for a write); its answer (the cgroup, or
        the refusal) stands for every PID of the plan, and `_verify` checks each arrived."""
        key = id(p)
        if key not in self._scopes:
            units, req = systemd_units(self.backend), p.scope
            try:
                if units is None or req is None:
                    raise SystemdError(f"A new scope for {display(str(p.target))} needs systemd as PID 1, and the "
                                       "backend no longer says it is; plan the move again.")
                pids = [v.pid for v in p.accepted if v.pid is not None]
                units.start_scope(req.name, pids, req.slice, req.properties)
                self._scopes[key] = None
            except (SystemdError, PropertyError) as e:
                self._scopes[key] = SystemdError(str(e))
        err = self._scopes[key]
        if err is not None:
            raise err

    def _through_systemd(self, p: Plan, pid: int) -> None:
        """systemd moves the process `pid` into the plan's target (AttachProcessesToUnit; the
        plan's route says the target lies in a delegated unit)."""
        units = systemd_units(self.backend)
        if units is None:
            raise SystemdError(f"PID {pid} was to move into {display(str(p.target))} through systemd, but the "
                               "backend no longer says systemd manages it; plan the move again.")
        units.attach_to_unit(p.hierarchy.name, p.target.path, [pid])

    def _settle(self, guards: Sequence[tuple[int, Any]], items: Sequence[tuple[Plan, Verdict]]
                ) -> list[tuple[int, Outcome | None]]:
        """After the writes: was each written task still there? A held task that has not
        exited (nor been reaped) after its write was the task its PID named when it was
        written, so the write moved that very task (then None: `_verify` looks where it
        is); one that has exited is `vanished`. One poll of every pidfd where the backend
        can (`tasks_exited`), else each handle's `alive()`. The handles stay open."""
        if not guards:
            return []
        handles = [hd for _, hd in guards]
        gone = self._exits.tasks_exited(handles) if self._exits is not None else [not hd.alive() for hd in handles]
        out: list[tuple[int, Outcome | None]] = []
        for (i, _), dead in zip(guards, gone):
            if dead:
                p, v = items[i]
                out.append((i, self._gone(p, v, "before or right after its PID was written to {target}; it is "
                                                "not there")))
            else:
                out.append((i, None))
        return out

    def _gone(self, p: Plan, v: Verdict, when: str) -> Outcome:
        """`vanished` (errno ESRCH): the task is gone; `when` completes `PID N exited ...`."""
        return self._outcome(p, v, "vanished", errno="ESRCH", hook=None, advice=look_again(self.front, "exited", v.pid),
                             reason=f"PID {v.pid} exited {when.format(target=p.target)}.")

    @staticmethod
    def _elsewhere(p: Plan, v: Verdict, where: str | None, exiting: bool) -> str:
        """Why a task the kernel accepted is not in the target: it is exiting (PF_EXITING: the
        kernel moves nothing), or it is alive in `where`, put there (or back) by someone else
        while the batch ran."""
        said = f"The kernel accepted PID {v.pid} for {p.target}, but"
        if where is None:
            return f"{said} its cgroup could not be read afterwards (it was probably exiting)."
        now = f"{display(p.hierarchy.name)}:{display(where)}"
        if exiting:
            return f"{said} it is still in {now}: it is exiting, and the kernel moves nothing that exits."
        if where == v.source:
            return (f"{said} it is still (or again) in {now}, where it came from, and alive: the kernel did not "
                    f"move it, or something else (systemd, a container runtime, another ctrtui) moved it back "
                    f"while the batch ran.")
        return (f"{said} it is in {now} now, and alive: something else (systemd, a container runtime, another "
                f"ctrtui) moved it there while the batch ran.")

    def _hold(self, p: Plan, v: Verdict) -> Outcome | Any:
        """A handle on the planned task, or the outcome when there is none (it exited, or
        the PID now names another task: both `vanished`). The handle is the one the plan
        held when there is one (`FactReader.held`); else a new pidfd, proved to hold the
        planned task by the plan's identity (the same pidfs inode, never given to another
        task) or by its start time."""
        pid = v.pid
        assert pid is not None
        held = self.reader.take_held(v)
        if held is not None:
            # Held since the plan: it cannot follow a recycled PID, but its task may have
            # been reaped meanwhile and its PID given to another. Not reaped now, it still
            # holds its PID, so the write that follows names it (as for a new pidfd); one
            # that exits meanwhile is found by `_settle`.
            if held.reaped():
                held.close()
                return self._gone(p, v, "before it could be moved to {target}; nothing was written")
            return held
        try:
            handle = self.backend.open_task(pid, thread=v.task is not None and v.task.is_thread)
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return self._gone(p, v, "before it could be moved to {target}; nothing was written")
            name = errno_name(e.errno or 0)
            return self._outcome(p, v, "refused", errno=name, hook="pid-reuse", reason=(
                f"ctrtui could not open a pidfd on PID {pid} ({name}: {e.strerror}), so it cannot prove the "
                f"PID still names the task you picked; it was not moved to {p.target}."),
                advice="Refresh the list and try again.")
        try:
            return self._proved(p, v, handle)
        except BaseException:
            handle.close()
            raise

    def _proved(self, p: Plan, v: Verdict, handle: Any) -> Outcome | Any:
        """`handle` when it holds the planned task (identity, else start time); else closed,
        and the outcome (`vanished`)."""
        pid = v.pid
        if v.identity is not None and v.identity[2] == v.start_time:
            got = handle.identity()
            if got == v.identity[:2]:
                return handle
            if got is not None:  # a pidfs inode is never given to another task: this is one
                handle.close()
                return self._outcome(p, v, "vanished", errno="ESRCH", hook="pid-reuse", reason=(
                    f"PID {pid} was recycled: the task you picked has exited, and the PID now names another "
                    f"task (pidfs inode {got[1]}, not {v.identity[1]}); nothing was moved to {p.target}."),
                    advice="Refresh the list.")
        now = handle.start_time()
        if now is None:
            handle.close()
            return self._gone(p, v, "before it could be moved to {target}; nothing was written")
        if v.start_time is not None and now != v.start_time:
            handle.close()
            return self._outcome(p, v, "vanished", errno="ESRCH", hook="pid-reuse", reason=(
                f"PID {pid} was recycled: the task you picked has exited, and the PID now names another "
                f"task (started at tick {now}, not {v.start_time}); nothing was moved to {p.target}."),
                advice=look_again(self.front, "recycled", pid))
        return handle

    def _verify(self, written: Sequence[tuple[Plan, Verdict]]) -> list[Outcome]:
        """Is each written task really in its target? For many PIDs into one target
        (`verify_batch` or more), one read of the target's thread list answers for all (a
        PID's own /proc/PID/cgroup is read only when it is not there); for a few, each task's
        /proc/PID/cgroup is read."""
        count: dict[int, int] = {}
        for p, _ in written:
            count[id(p)] = count.get(id(p), 0) + 1
        members: dict[int, set[int] | None] = {}
        out = []
        for p, v in written:
            if id(p) not in members:
                members[id(p)] = self._target_members(p) if count[id(p)] >= self.verify_batch else None
            out.append(self._verify_one(p, v, members[id(p)]))
        return out

    def _target_members(self, p: Plan) -> set[int] | None:
        """TIDs in the target now (v1 `tasks`, v2 `cgroup.threads`); None if unreadable."""
        h = p.hierarchy
        try:
            f = self.backend.open_membership(h.name, p.target.path, membership_file(h.version, True), write=False)
            try:
                data = f.read()
            finally:
                f.close()
        except OSError:
            return None
        return set(map(int, data.split()))

    def _verify_one(self, p: Plan, v: Verdict, members: set[int] | None) -> Outcome:
        """Thread mode checks the thread; process mode checks the leader and reports any
        thread of the group left behind as a warning. `members`: the target's TIDs, if read."""
        h, target, pid = p.hierarchy, p.target, v.pid
        assert pid is not None
        where = self.reader.where
        leader = pid if p.threads or v.task is None else v.task.tgid
        now_in = target.path if members is not None and leader in members else where(h, leader)
        if now_in != target.path:
            now = self.backend.task_state(pid)
            if now is None or now.zombie or (v.start_time is not None and now.start_time != v.start_time):
                return self._gone(p, v, "while it was being moved to {target}")
            return self._outcome(p, v, "not-moved", errno=None, hook="kernel", reason=self._elsewhere(
                p, v, now_in, exiting=bool(now.flags & 0x4)), advice=(
                "Refresh and check the task." if self.front == "ui" else
                f"Check where it is with `cat /proc/{pid}/cgroup` and what moves it before moving it again."))
        warnings = list(v.warnings)
        if not p.threads and (v.task is None or v.task.threads != 1):
            behind = []
            for tid in self.backend.thread_ids(leader):
                if members is not None and tid in members:
                    continue
                there = where(h, tid)
                if there is not None and there != target.path:
                    behind.append(f"{tid} ({there})")
            if behind:
                warnings.append(f"Threads of process {leader} still outside {target}: {', '.join(behind)}.")
        if self._attach_hooks:  # the built-in hooks' attach does nothing: no refs made for them
            self._tell_hooks(v.task, CgroupRef(h.name, v.source or "/"), target, warnings)
        who = f"PID {pid}" + (f" ({v.task.comm})" if v.task else "")
        guard = self._thread_guards.get(pid)
        how = f" (guard: {guard})" if guard else ""
        return Outcome(v.text, pid, "moved", None, None, f"{who} moved from {v.source or '?'} to {target}{how}.", "",
                       tuple(warnings), v.source, target.path, v.start_time)

    def _tell_hooks(self, task: TaskInfo | None, old: CgroupRef, new: CgroupRef, warnings: list[str]) -> None:
        """Tell each hook whose `attach` does something (the built-in ones do nothing)."""
        for hook in self._attach_hooks:
            try:
                hook.attach(task, old, new)
            except Exception as e:  # noqa: BLE001 - the move happened; say the hook failed
                name = getattr(hook, "name", type(hook).__name__)
                warnings.append(f"The hook {name!r} failed after the move ({type(e).__name__}: {e}).")

    def _roll_back(self, p: Plan, v: Verdict, o: Outcome, failed: Outcome) -> Outcome:
        """Move a PID of a failed all-or-nothing batch back to where it came from."""
        h, pid, back = p.hierarchy, o.pid, o.source
        assert pid is not None
        why = f"PID {failed.pid} {failed.outcome}: {failed.reason}"
        if back is None:
            return o.replace(reason=f"{o.reason} Moving it back failed: its old cgroup is unknown, so it "
                             f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                             advice="Move it back by hand.")
        fname = membership_file(h.version, p.threads)
        gone = o.replace(outcome="vanished", errno="ESRCH", advice="", reason=(
            f"PID {pid} was moved to {p.target} and exited before it could be moved back to "
            f"{back} (the all-or-nothing batch failed: {why})."))
        try:
            # the same PID-reuse guard as the move
            with self.backend.open_task(pid, thread=v.task is not None and v.task.is_thread) as handle:
                if handle.start_time() != o.start_time or not handle.alive():
                    return gone
                self.backend.write_pid(h.name, back, fname, str(pid).encode())
        except OSError as e:
            if e.errno == _errno.ESRCH:
                return gone
            name = errno_name(e.errno or 0)
            sentence, _ = explain(name, pid=pid, cgroup=CgroupRef(h.name, back), file=fname)
            return o.replace(reason=f"{o.reason} Moving it back to {back} FAILED ({name}: {sentence}); it "
                             f"stays in {p.target} although the all-or-nothing batch failed ({why}).",
                             advice=f"Move PID {pid} back to {h.name}:{back} by hand.")
        where = self.reader.where(h, pid)
        if where is not None and where != back:
            return o.replace(reason=f"{o.reason} Moving it back to {back} was accepted but it is in {where}; "
                             f"the all-or-nothing batch failed ({why}).", advice="Check the task by hand.")
        self._tell_hooks(v.task, CgroupRef(h.name, p.target.path), CgroupRef(h.name, back), [])
        return o.replace(outcome="rolled-back", reason=(
            f"PID {pid} was moved to {p.target}, then moved back to {back} because the all-or-nothing "
            f"batch failed ({why})."), advice="Fix the failing PID, then try again.")


class _Writers:
    """The membership files of one batch, each opened once: the kernel judges permission at
    open, and every write() of one PID is one attach, so 1,000 PIDs cost 1,000 writes instead
    of 1,000 opens, writes and closes (a third of the time on this project's machine). A file
    that cannot be opened is not cached: each PID then goes through `write_pid`, which opens
    it again and raises the kernel's errno for that PID."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._files: dict[tuple[str, str, str], Any] = {}  # the backend's open membership files
        self._write: dict[tuple[str, str, str], Callable[[bytes], int]] = {}  # the files' bound `write`

    def write(self, hierarchy: str, path: str, filename: str, data: bytes) -> int:
        key = (hierarchy, path, filename)
        write = self._write.get(key)
        if write is None:
            try:
                f = self._files[key] = self.backend.open_membership(hierarchy, path, filename)
            except OSError:
                written: int = self.backend.write_pid(hierarchy, path, filename, data)
                return written
            write = self._write[key] = f.write
        return write(data)

    def close(self) -> None:
        files, self._files, self._write = self._files, {}, {}
        for f in files.values():
            try:
                f.close()
            except OSError:
                pass
