"""Why the terminal UI's moves are off, and the sentences that say so: the reasons a host's
moves are refused (`read_only_of`: the host's word, the backend's, `--read-only`, a journal
that cannot be written: this machine's `LocalService.journal_problem`) and the refusal of
each kind of key (`read_only_words`). `Moves.refused` and the status bar say them. No
Textual here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctrtui.ui.hostviews import Link

__all__ = ["REFUSED", "read_only_of", "read_only_words"]


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
    if reason is None and link.service is not None:
        reason = read_only_reason(link.backend)  # the backend says whether it may write
    if reason is None and read_only_flag:
        reason = "--read-only"
    if reason is None and link.service is not None:
        reason = link.service.journal_problem()
    return reason
