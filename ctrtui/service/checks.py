"""What stands in the way of this machine's writes, said before any: a journal that cannot be
written (`journal_problem`), a policy that cannot be used (`policy_problem`), and a broken
policy read again once fixed (`reload_policy`). `LocalService` asks these of its engine so
that a front end (the terminal UI) says them from the start, as sentences, without touching
the engine's journal or policy itself.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ctrtui.engine import AttachEngine, Journal
    from ctrtui.model import Hierarchy

__all__ = ["journal_problem", "policy_problem", "reload_policy"]


def journal_problem(journal: Journal) -> str | None:
    """Why `journal` cannot be written, found before any move (None: it can, or there is
    none: `--no-journal`). The engine would refuse every batch with its own sentence; a front
    end can say so from the start (the UI: as read-only)."""
    import errno
    import os

    from ctrtui.engine.journalerrors import JournalNotOwned
    from ctrtui.text import display

    path = journal.path
    if path is None:
        return None
    try:
        journal.check_owned()  # a link, someone else's file or directory: said as it is
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


def policy_problem(engine: AttachEngine, mounted: Sequence[Hierarchy]) -> str | None:
    """Why `engine`'s policy cannot be used on `mounted` (None: it can)."""
    from ctrtui.report import describe_error

    policy = engine.policy
    if policy is None:
        return None
    try:
        return policy.problem(mounted)
    except Exception as exc:  # noqa: BLE001 - a policy that cannot even be checked protects nothing
        return f"the policy could not be checked ({describe_error(exc)})"


def reload_policy(engine: AttachEngine, hierarchies: Callable[[], Sequence[Hierarchy]]) -> str | None:
    """Read `engine`'s policy file again; when it is usable now, the engine uses it and the
    file's name comes back (`(none)`: no file). None: nothing was read again (no policy hook
    to give it to, or the file could not be opened). A policy still broken: `CtrtuiError`,
    its sentence."""
    from ctrtui.engine.policy import Policy, default_policy_path

    old = engine.policy
    hook = next((h for h in engine.hooks if getattr(h, "name", None) == "policy"), None)
    if hook is None or not hasattr(hook, "set_policy"):
        return None
    try:
        if old.source is None or old.source == default_policy_path():
            policy = Policy.load_default(hierarchies)
        else:
            policy = Policy.load(old.source, hierarchies)
    except OSError:
        return None
    engine.policy = policy
    hook.set_policy(policy)
    return policy.source or "(none)"
