"""What a cgroup op is and says, apart from the machinery that runs it
(`ctrtui.engine.cgroupops.CgroupOps`): the ops (`OPS`), their results (`OpResult`,
`OpRefusal`), the rule a new cgroup's name must keep (`name_problem`) and the ref of a child
(`child_ref`). Front ends (the terminal UI, the command line) import these, never the
machinery: they ask the service (ctrtui/service/) to run an op.
"""

from __future__ import annotations

from ctrtui.model import CgroupRef
from ctrtui.model.snapshot import join_path
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["ALREADY", "NAME_MAX", "OPS", "OpRefusal", "OpResult", "child_ref", "name_problem", "opposite"]

NAME_MAX = 255
"""Bytes a cgroup name may have (ctrtui's rule; the kernel's kernfs takes more)."""
OPS = ("mkdir", "rmdir", "freeze", "thaw")
_OPPOSITE = {"mkdir": "rmdir", "rmdir": "mkdir", "freeze": "thaw", "thaw": "freeze"}
_DONE = {"mkdir": "created", "rmdir": "removed", "freeze": "frozen", "thaw": "thawed"}
ALREADY = {"freeze": "already-frozen", "thaw": "already-thawed"}
"""The outcome of a freeze or thaw that would change nothing: nothing is asked of the
kernel, nothing is journaled, the exit status is 0."""


def opposite(op: str) -> str:
    """The op that undoes `op`."""
    return _OPPOSITE[op]


class OpRefusal:
    """Why an op will not (or did not) happen: the errno the kernel gives (or would give),
    a sentence and what to do."""

    __slots__ = ("errno", "reason", "advice")

    def __init__(self, errno: str | None, reason: str, advice: str = "") -> None:
        self.errno, self.reason, self.advice = errno, reason, advice

    def __repr__(self) -> str:
        return f"OpRefusal({self.errno!r}, {self.reason!r})"

    def text(self) -> str:
        return f"{self.reason}. {self.advice}" if self.advice else self.reason


class OpResult:
    """What `CgroupOps.run` did: `outcome` is `done`, `refused` (then `refusal` says why;
    `predicted` when ctrtui refused before asking the kernel, which it then was not asked),
    or `already-frozen` / `already-thawed` (a freeze or thaw that would change nothing:
    nothing asked, nothing journaled)."""

    __slots__ = ("op", "ref", "outcome", "refusal", "predicted", "batch_id", "undo_of", "journaled", "warnings")

    def __init__(self, op: str, ref: CgroupRef, outcome: str, refusal: OpRefusal | None = None,
                 predicted: bool = False, batch_id: str | None = None, undo_of: str | None = None,
                 journaled: bool = False, warnings: tuple[str, ...] = ()) -> None:
        self.op, self.ref, self.outcome, self.refusal, self.predicted = op, ref, outcome, refusal, predicted
        self.batch_id, self.undo_of, self.journaled, self.warnings = batch_id, undo_of, journaled, warnings

    @property
    def ok(self) -> bool:
        return self.outcome == "done" or self.outcome in ALREADY.values()

    def sentence(self) -> str:
        """One line for a person: what was done, or what was refused and why."""
        where = f"{display(self.ref.hierarchy)}:{display(self.ref.path)}"
        what = f"undo of {self.undo_of}: " if self.undo_of else ""
        if self.outcome in ALREADY.values():
            return f"{what}{where} is {self.outcome.replace('-', ' ')}; nothing was changed"
        if self.ok:
            return f"{what}{where} {_DONE[self.op]}"
        r = self.refusal
        assert r is not None
        code = f" ({r.errno})" if r.errno else ""
        return f"{what}{self.op} {where} refused{code}: {r.text()}"

    def as_dict(self) -> dict[str, Any]:
        r = self.refusal
        return {"op": self.op, "cgroup": f"{self.ref.hierarchy}:{self.ref.path}", "outcome": self.outcome,
                "errno": r.errno if r else None, "reason": r.reason if r else None, "advice": r.advice if r else None,
                "predicted": self.predicted, "batch": self.batch_id, "undo_of": self.undo_of,
                "journaled": self.journaled, "warnings": list(self.warnings)}


def name_problem(name: str, taken: Any = ()) -> str | None:
    """Why `name` cannot name a new child cgroup (one sentence), or None. `taken`: the
    names the parent already has (cgroups; the kernel also refuses an interface file's
    name, with EEXIST, which only it knows)."""
    if not name:
        return "a cgroup needs a name"
    if name in (".", ".."):
        return f"'{name}' is not a name: it means this directory or its parent"
    if "/" in name:
        return "a name cannot hold '/' (make one level at a time)"
    if "\n" in name:
        return "a name cannot hold a newline (the kernel refuses it: EINVAL)"
    if "\0" in name:
        return "a name cannot hold a NUL byte"
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > NAME_MAX:
        return f"a name has at most {NAME_MAX} bytes; this one has {size}"
    if name in taken:
        return f"'{display(name)}' exists already (the kernel would say EEXIST)"
    return None


def child_ref(parent: CgroupRef, name: str) -> CgroupRef:
    """The ref of the child `name` of `parent` (the name is not checked here: `check` does)."""
    return CgroupRef(parent.hierarchy, join_path(parent.path, name))
