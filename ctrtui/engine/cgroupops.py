"""Cgroup operations: create (mkdir), remove (rmdir), freeze and thaw a cgroup, each
predicted, journaled and undoable like a move.

    ops = CgroupOps(engine)              # the engine's backend and journal
    ops.check("mkdir", CgroupRef("freezer", "/a/new"))   # None, or the refusal to expect
    result = ops.run("mkdir", CgroupRef("freezer", "/a/new"))
    undo_any(engine)                     # undoes the newest batch: a move or an op

Each op is one batch of the journal (`ctrtui.engine.journal`, record kind `op`): the `op` record
is written and synced before the kernel is asked, then a `close` record says `done` or
`refused` (with the kernel's errno). Undo is the opposite op (rmdir for a mkdir, mkdir for an
rmdir, thaw for a freeze, freeze for a thaw) written as an op batch naming the one it undoes.
The undo of a mkdir is refused, with the reason, once the cgroup holds tasks or children
(the kernel would say EBUSY); the undo of an rmdir once the name is taken again (EEXIST).

Each op records the identity of its cgroup (`CgroupState.cgroup_id`, the directory's inode:
in the `op` record for rmdir, freeze and thaw, in the `close` record for the cgroup a mkdir
made), and undo refuses, like the PID-reuse guard of moves, when the cgroup at that path now
is another one (removed and made again under the same name). A freeze or thaw that would
change nothing (judged on the cgroup's own setting, `CgroupState.self_frozen`) is the
outcome `already-frozen` / `already-thawed`: nothing asked, nothing journaled, so no undo
ever sets a state its batch did not change; an undo whose cgroup was set back since is
recorded as done without asking. A thaw of a cgroup frozen only by an ancestor is refused
(it would change nothing), naming the ancestor.

What is checked before the kernel is asked (`check`), so the UI can say it while the user
types: the name rules (`ctrtui.engine.opvalues.name_problem`: not empty, no `/`, not `.` or `..`, no newline, at most
255 bytes, not a name the parent already has), that the parent exists, that a cgroup to
remove exists, is not the root and holds no task nor child, that the hierarchy has a
freezer (v2, or v1 with the freezer controller) and the cgroup is not the root. The kernel
itself takes names longer than 255 bytes (kernfs checks only the whole path against
PATH_MAX): the 255-byte limit is ctrtui's, since such names break the tools that read
/proc/PID/cgroup or list the directories. The backend must declare `cgroup-admin`.

This module imports nothing from Textual. The front ends reach it only through the service
(`LocalService.cgroup_op`, `cgroup_check`, `frozen`); what they import of cgroup ops (`OPS`,
`OpResult`, `OpRefusal`, the name rule) is `ctrtui.engine.opvalues`.
"""

from __future__ import annotations

import errno as _errno
import os

from ctrtui.engine import batches
from ctrtui.engine.batches import FROZEN_STATES, ensure_ours, recover_open
from ctrtui.engine.opvalues import ALREADY, OPS, OpRefusal, OpResult, name_problem, opposite
from ctrtui.errors import CtrtuiError, errno_name
from ctrtui.model import CgroupRef
from ctrtui.model.snapshot import is_ancestor, parent_path
from ctrtui.sources import CGROUP_ADMIN
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CgroupOps", "undo_any"]

def _name_errno(problem: str) -> str:
    return "EINVAL" if "newline" in problem else "EEXIST" if "exists" in problem or "means" in problem else \
        "ENAMETOOLONG" if "bytes" in problem else "EINVAL"


class CgroupOps:
    """Create, remove, freeze and thaw cgroups through `engine`'s backend and journal."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.backend = engine.backend

    @property
    def journal(self) -> Any:
        return self.engine.journal

    # ------------------------------------------------------------------ predict

    def check(self, op: str, ref: CgroupRef) -> OpRefusal | None:
        """The refusal `op` on `ref` would meet, or None when ctrtui expects it to succeed."""
        if op not in OPS:
            raise ValueError(f"unknown cgroup op {op!r}")
        b = self.backend
        if CGROUP_ADMIN not in b.capabilities:
            return OpRefusal(None, "this backend cannot create, remove or freeze cgroups")
        try:
            h = self.engine.hierarchy(ref.hierarchy)
        except CtrtuiError as e:
            return OpRefusal(None, str(e))
        where = f"{display(h.name)}:{display(ref.path)}"
        state = b.cgroup_state(h.name, ref.path)
        if op == "mkdir":
            parent = parent_path(ref.path)
            if parent is None:
                return OpRefusal("EEXIST", "the root cgroup exists already")
            if not is_ancestor(h.root, parent):
                return OpRefusal("ENOENT", f"{display(parent)} lies outside the mounted part of {display(h.name)}")
            if b.cgroup_state(h.name, parent) is None:
                return OpRefusal("ENOENT", f"the parent {display(h.name)}:{display(parent)} does not exist",
                                 "Refresh: it may have been removed.")
            name = ref.path.rsplit("/", 1)[1]
            taken = (name,) if state is not None else ()
            problem = name_problem(name, taken)
            if problem is not None:
                return OpRefusal(_name_errno(problem), problem, "Choose another name.")
            return None
        if state is None:
            return OpRefusal("ENOENT", f"there is no cgroup {where}", "Refresh: it may have been removed.")
        if ref.path == h.root or parent_path(ref.path) is None:
            what = "removed" if op == "rmdir" else "frozen or thawed"
            return OpRefusal("EBUSY" if op == "rmdir" else "ENOENT", f"the root cgroup of {display(h.name)} cannot be "
                             f"{what}")
        if op == "rmdir":
            busy = self.busy(h.name, ref.path)
            if busy:
                return OpRefusal("EBUSY", f"{where} is not empty: it holds {busy}",
                                 "Move its tasks out and remove its children first.")
            return None
        if h.version == 1 and "freezer" not in h.controllers:
            return OpRefusal("ENOENT", f"the hierarchy {display(h.name)} has no freezer (no freezer.state)",
                             "Freeze in the freezer hierarchy, or in the v2 one.")
        if op == "thaw" and state.self_frozen is False and state.freezer_state in FROZEN_STATES:
            by = self._frozen_ancestor(h.name, ref.path)
            return OpRefusal(None, f"it is frozen by its ancestor {display(h.name)}:{display(by or '?')}, not by "
                             "itself: thawing it would change nothing", "Thaw that ancestor.")
        return None

    def _frozen_ancestor(self, hierarchy: str, path: str) -> str | None:
        """The nearest ancestor of `path` frozen by its own setting."""
        p = parent_path(path)
        while p is not None:
            st = self.backend.cgroup_state(hierarchy, p)
            if st is not None and st.self_frozen:
                return p
            p = parent_path(p)
        return None

    def already(self, op: str, ref: CgroupRef) -> str | None:
        """`already-frozen` / `already-thawed` when a freeze / thaw of `ref` would change
        nothing: judged on the cgroup's own setting (what the op writes); where the backend
        does not tell it, on whether the cgroup is frozen. None otherwise (also for mkdir and
        rmdir, whose no-ops the kernel refuses: EEXIST, ENOENT)."""
        if op not in ALREADY:
            return None
        state = self.backend.cgroup_state(ref.hierarchy, ref.path)
        if state is None or state.freezer_state is None:
            return None
        frozen = state.self_frozen if state.self_frozen is not None else state.freezer_state in FROZEN_STATES
        return ALREADY[op] if frozen == (op == "freeze") else None

    def busy(self, hierarchy: str, path: str) -> str:
        """What keeps the cgroup from being removed ("2 tasks and 1 child cgroup"), or ""."""
        try:
            snap = self.backend.snapshot([hierarchy], subtree=path)[hierarchy]
        except (OSError, KeyError):
            return ""
        c = snap.get(path) if hasattr(snap, "get") else None
        if c is None:
            return ""
        parts = []
        if len(c.threads):
            parts.append(f"{len(c.threads)} task{'s' * (len(c.threads) != 1)}")
        if c.children:
            parts.append(f"{len(c.children)} child cgroup{'s' * (len(c.children) != 1)}")
        return " and ".join(parts)

    def frozen(self, ref: CgroupRef) -> bool | None:
        """True/False: the cgroup is frozen or not (v1 FROZEN or FREEZING, v2 1); None when it
        has no freezer state (the root, a hierarchy without freezer, a missing cgroup)."""
        state = self.backend.cgroup_state(ref.hierarchy, ref.path)
        if state is None or state.freezer_state is None:
            return None
        return state.freezer_state in FROZEN_STATES

    # ------------------------------------------------------------------ run

    def run(self, op: str, ref: CgroupRef, undo_of: str | None = None) -> OpResult:
        """Check, journal (write-ahead, synced), ask the kernel, journal the outcome. A
        predicted refusal asks nothing and journals nothing; `JournalError` (nothing done)
        when the journal cannot be written."""
        refusal = self.check(op, ref)
        if refusal is not None:
            return OpResult(op, ref, "refused", refusal, predicted=True, undo_of=undo_of)
        h = self.engine.hierarchy(ref.hierarchy)
        ref = CgroupRef(h.name, ref.path)
        already = self.already(op, ref)
        if already is not None:  # a no-op: nothing to ask, nothing for undo to reverse
            return OpResult(op, ref, already, undo_of=undo_of, warnings=self._warnings())
        with self.journal.locked():
            self._recover_open()
            return self._run_locked(op, ref, undo_of)

    def _run_locked(self, op: str, ref: CgroupRef, undo_of: str | None, ask: bool = True) -> OpResult:
        batch = batches.new_batch_id()
        acted_on = None if op == "mkdir" else self._identity(ref)
        self.journal.write_op(batch, op, ref.hierarchy, ref.path, undo_of, backend=self.backend.identity,
                              cgroup_id=acted_on)
        try:
            if ask:
                self._ask(op, ref)
        except OSError as e:
            name = errno_name(e.errno or 0)
            self.journal.write_op_close(batch, "refused", name)
            return OpResult(op, ref, "refused", OpRefusal(name, self._explain(op, ref, e)), batch_id=batch,
                            undo_of=undo_of, journaled=self.journal.durable, warnings=self._warnings())
        self.journal.write_op_close(batch, "done", cgroup_id=self._identity(ref) if op == "mkdir" else None)
        return OpResult(op, ref, "done", batch_id=batch, undo_of=undo_of, journaled=self.journal.durable,
                        warnings=self._warnings())

    def _recover_open(self) -> None:
        """Close the batches a dead process left open (moves and ops); what was found goes to
        the engine's notes, said in the next result."""
        self.engine.notes.extend(recover_open(self.journal, self.backend))

    def _identity(self, ref: CgroupRef) -> int | None:
        """The identity (directory inode) of the cgroup at `ref` now; None when it is not
        there or the backend cannot tell."""
        state = self.backend.cgroup_state(ref.hierarchy, ref.path)
        return None if state is None else state.cgroup_id

    def _warnings(self) -> tuple[str, ...]:
        notes = tuple(self.engine.notes) + tuple(self.journal.warnings)
        self.engine.notes.clear()
        self.journal.warnings.clear()
        return notes

    def _ask(self, op: str, ref: CgroupRef) -> None:
        b = self.backend
        if op == "mkdir":
            b.make_cgroup(ref.hierarchy, ref.path)
        elif op == "rmdir":
            b.remove_cgroup(ref.hierarchy, ref.path)
        else:
            b.set_frozen(ref.hierarchy, ref.path, op == "freeze")

    def _explain(self, op: str, ref: CgroupRef, e: OSError) -> str:
        where = f"{display(ref.hierarchy)}:{display(ref.path)}"
        code = e.errno
        if code == _errno.EBUSY:
            busy = self.busy(ref.hierarchy, ref.path)
            return f"{where} is not empty" + (f": it holds {busy}" if busy else "") + "; move its tasks out first"
        if code == _errno.EEXIST:
            return f"{where}: the name is taken (a cgroup or one of the parent's interface files)"
        if code == _errno.ENOENT:
            return f"{where} (or its parent) does not exist"
        if code in (_errno.EACCES, _errno.EPERM):
            return self._denied(op, ref)
        if code == _errno.ENAMETOOLONG:
            return f"{where}: the path is too long for the kernel (PATH_MAX)"
        return f"{where}: {os.strerror(code or 0)}"

    def _denied(self, op: str, ref: CgroupRef) -> str:
        """Permission denied, naming what could not be written: for mkdir and rmdir the
        parent cgroup's directory (a cgroup is made or removed in its parent), for freeze and
        thaw the cgroup's own freezer file."""
        try:
            who = f"uid {self.backend.writer().euid}"
        except (AttributeError, OSError):
            who = "this user"
        where = f"{display(ref.hierarchy)}:{display(ref.path)}"
        parent = parent_path(ref.path)
        if op in ("mkdir", "rmdir") and parent is not None:
            up = f"{display(ref.hierarchy)}:{display(parent)}"
            done = "made in it" if op == "mkdir" else "removed from it"
            return (f"permission denied: {who} may not write the parent cgroup {up}, so {where} cannot be {done}; "
                    f"run as root, or have {up} delegated to this user (its directory owned by it)")
        try:
            v2 = self.engine.hierarchy(ref.hierarchy).version == 2
        except CtrtuiError:
            v2 = False
        return (f"permission denied: {who} may not write {where}/{'cgroup.freeze' if v2 else 'freezer.state'}; "
                "run as root, or have that file delegated to this user (owned by it)")

    # ------------------------------------------------------------------ undo

    def undo(self, batch: Any) -> OpResult:
        """Undo the op batch `batch` (a journal `Batch` with `op`): the opposite op on the same
        cgroup, as a batch naming it. The undo of a mkdir is refused while the cgroup holds
        tasks or children; nothing else is touched."""
        ensure_ours(self.journal, batch, self.backend, "undo")
        ref = CgroupRef(batch.hierarchy, batch.target)
        op = opposite(batch.op)
        other = self._another(batch, ref)
        if other is not None:
            return OpResult(op, ref, "refused", other, predicted=True, undo_of=batch.id)
        if op in ALREADY and self.already(op, ref) is not None:
            # its own setting is as the undo would leave it (someone set it since): recorded as
            # done without asking, so the undo never sets a state the batch did not change
            with self.journal.locked():
                self._recover_open()
                result = self._run_locked(op, ref, batch.id, ask=False)
            result.warnings += (f"{display(ref.hierarchy)}:{display(ref.path)} was "
                                f"{ALREADY[op].replace('-', ' ')}; nothing was asked of the kernel",)
            return result
        refusal = self.check(op, ref)
        if refusal is not None and (op, refusal.errno) in (("rmdir", "ENOENT"), ("mkdir", "EEXIST")):
            # already as the undo would leave it: recorded as done (like a task found back already)
            with self.journal.locked():
                self._recover_open()
                result = self._run_locked(op, ref, batch.id, ask=False)
            note = f"{display(ref.hierarchy)}:{display(ref.path)} was already " + (
                "gone" if op == "rmdir" else "there") + "; nothing was asked of the kernel"
            result.warnings += (note,)
            return result
        if refusal is not None:
            if batch.op == "mkdir" and refusal.errno == "EBUSY":
                refusal = OpRefusal("EBUSY", f"batch {batch.id} created {display(ref.hierarchy)}:{display(ref.path)}, "
                                    f"which is no longer empty; {refusal.reason.split(': ', 1)[-1]}, so it is not "
                                    "removed", refusal.advice)
            return OpResult(op, ref, "refused", refusal, predicted=True, undo_of=batch.id)
        with self.journal.locked():
            self._recover_open()
            return self._run_locked(op, CgroupRef(self.engine.hierarchy(batch.hierarchy).name, batch.target),
                                    batch.id)


    def _another(self, batch: Any, ref: CgroupRef) -> OpRefusal | None:
        """The refusal when the cgroup at the batch's path is not the one the batch made or
        acted on (removed, and another made under the same name since); None when it is the
        same, is gone, or either identity is unknown (batches of earlier versions)."""
        if batch.cgroup_id is None or batch.op == "rmdir":
            return None  # an rmdir's undo makes a new cgroup: there is none to compare
        now = self._identity(ref)
        if now is None or now == batch.cgroup_id:
            return None
        did = "created" if batch.op == "mkdir" else "froze" if batch.op == "freeze" else "thawed"
        return OpRefusal(None, f"{display(ref.hierarchy)}:{display(ref.path)} is another cgroup now: batch {batch.id} "
                         f"{did} the one with id {batch.cgroup_id}, which was removed; the one there now (id {now}) "
                         "was made since, and the undo does not touch it",
                         "Nothing was changed. If the new one should go too, act on it by hand (ctrtui rmdir, "
                         "ctrtui thaw); an older batch is undone by naming it: ctrtui undo BATCH (ctrtui log lists "
                         "them).")


def undo_any(engine: Any, batch: str | None = None) -> Any:
    """Undo the newest undoable batch of the journal (or the one named `batch`), a move or
    a cgroup op: a `Report` for a move, an `OpResult` for an op, None when there is nothing
    left to undo (then `engine.nothing_left` says why)."""
    with engine.journal.locked():
        engine.notes.extend(recover_open(engine.journal, engine.backend))
        found = engine.choose_undoable(batch)  # skips batches whose tasks cannot go back, saying which
        if found is not None and found.op is not None:
            return CgroupOps(engine).undo(found)
        return engine.undo(batch)
