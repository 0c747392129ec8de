"""Why the terminal UI's moves are off, and the sentences that say so: the reasons a host's
moves are refused (`read_only_of`: the host's word, the backend's, `--read-only`, a journal
that cannot be written: `journal_problem`), a policy that cannot be used (`policy_problem`),
and the refusal of each kind of key (`read_only_words`). `Moves.refused` and the status bar
say them. No Textual here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ctrtui.engine import AttachEngine
from ctrtui.model import Hierarchy
from ctrtui.report import describe_error
from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.ui.hostviews import Link

__all__ = ["REFUSED", "journal_problem", "policy_problem", "read_only_of", "read_only_words"]


def journal_problem(engine: AttachEngine) -> str | None:
    """Why the engine's journal cannot be written, found before any move (None: it can, or
    there is none: `--no-journal`). The engine would refuse every batch with its own
    sentence; the UI says so from the start, as read-only."""
    import errno
    import os

    from ctrtui.engine.journal import JournalNotOwned

    path = engine.journal.path
    if path is None:
        return None
    try:
        engine.journal.check_owned()  # a link, someone else's file or directory: said as it is
    except JournalNotOwned as e:
        return str(e)
    probe = path
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent
    if probe != path and not os.path.isdir(probe):
        return f"the journal {display(path)} cannot be written (ENOTDIR: {display(probe)} is not a directory)"
    mode = os.W_OK if probe == path else os.W_OK | os.X_OK
    if os.access(probe, mode):
        return None
    try:
        os.stat(probe)
        code = errno.errorcode.get(errno.EROFS if _read_only_fs(probe) else errno.EACCES, "EACCES")
    except OSError as exc:
        code = errno.errorcode.get(exc.errno or 0, "error")
    return f"the journal {display(path)} cannot be written ({code})"


def _read_only_fs(path: str) -> bool:
    import os

    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


#: Why moves are off, and what to do, per reason the app knows by name.
_READ_ONLY_WORDS = {
    "--read-only": ("ctrtui was started with --read-only", "Restart it without --read-only"),
    "not root": ("ctrtui is not running as root", "Restart it as root (e.g. sudo ctrtui)"),
}

#: What is refused, per kind of key: (what does not happen, what the advice enables).
REFUSED = {
    "move": ("nothing is moved", "move tasks"),
    "mkdir": ("no cgroup is created", "create cgroups"),
    "rmdir": ("no cgroup is removed", "remove cgroups"),
    "freeze": ("no cgroup is frozen or thawed", "freeze or thaw cgroups"),
    "new-move": ("no cgroup is created and nothing is moved", "move tasks into a new cgroup"),
}


def read_only_words(reason: str, doing: str = "move") -> str:
    """The sentence refusing `doing` (a key of `REFUSED`: a move, or a cgroup op) for
    `reason` (`Session.read_only_reason`): the reason as it is, and what to do only when there
    is something to do."""
    nothing, to = REFUSED[doing]
    why, todo = _READ_ONLY_WORDS.get(reason, (reason, ""))
    if reason.startswith("the journal ") and "--journal" not in reason:  # else the reason says what to do
        todo = "Fix its directory or give another with --journal FILE (or --no-journal)"
    return f"Read-only: {why}, so {nothing}." + (f" {todo} to {to}." if todo else "")


def read_only_of(link: Link, read_only_flag: bool) -> str | None:
    """Why moves are off on the host of `link` (None: they work): the host says so (a
    remote agent that is not root), the local backend's own word, `--read-only`
    (`read_only_flag`), or a journal that cannot be written."""
    from ctrtui.sources import read_only_reason

    reason = link.read_only
    if reason is None and link.engine is not None:
        reason = read_only_reason(link.backend)  # the backend says whether it may write
    if reason is None and read_only_flag:
        reason = "--read-only"
    if reason is None and link.engine is not None:
        reason = journal_problem(link.engine)
    return reason


def policy_problem(engine: AttachEngine, mounted: Sequence[Hierarchy]) -> str | None:
    """Why the engine's policy cannot be used on `mounted` (None: it can)."""
    policy = engine.policy
    if policy is None:
        return None
    try:
        return policy.problem(mounted)
    except Exception as exc:  # noqa: BLE001 - a policy that cannot even be checked protects nothing
        return f"the policy could not be checked ({describe_error(exc)})"
