"""Errors for people: errno names, and what a refused write means in words.

The kernel answers a membership write with a bare errno; `explain` turns it into one sentence
naming the PID and the cgroup, plus advice on what to do. `CtrtuiError` is raised for bad
user input (an unknown hierarchy, a corrupt journal, an invalid policy file); its message is
one line naming the culprit, fit to print as is.
"""

from __future__ import annotations

import errno as _errno
import os

__all__ = ["CtrtuiError", "errno_name", "errno_number", "explain", "look_again", "os_error_text"]

# Python's errorcode picks the alias the C library lists first; use the kernel's names.
_PREFERRED = {_errno.EOPNOTSUPP: "EOPNOTSUPP", _errno.EDEADLK: "EDEADLK", _errno.EAGAIN: "EAGAIN"}


class CtrtuiError(Exception):
    """Bad input from the user (a PID that is not one, an unknown hierarchy, an unreadable
    policy file, a corrupt journal). The message is one line naming the culprit."""


def errno_name(n: int) -> str:
    """`95` -> `EOPNOTSUPP`, `3` -> `ESRCH`; an unknown number -> `errno 1234`."""
    return _PREFERRED.get(n) or _errno.errorcode.get(n) or f"errno {n}"


def os_error_text(e: OSError) -> str:
    """`EACCES (Permission denied)` for an OSError: its errno name and the C library's text."""
    return f"{errno_name(e.errno)} ({e.strerror})" if e.errno else str(e)


def errno_number(name: str) -> int | None:
    """`ESRCH` -> 3; None for a name this system does not know."""
    value = getattr(_errno, name, None)
    return value if isinstance(value, int) else None


def look_again(front: str, why: str, pid: int | str | None) -> str:
    """What to do about a task that is gone (the outcome `vanished`), in the words of the
    front end `front` (`cli`, `ui`; another reads as `cli`): the terminal UI refreshes its
    task list; the command line has ps and `ctrtui tasks`. `why`: `gone` (no such task),
    `exited` (it exited while being moved), `recycled` (the PID names another task now)."""
    if front == "ui":
        return {"gone": "Refresh the task list and pick a running task.",
                "exited": "Nothing to move; refresh the list.",
                "recycled": "Refresh the list."}[why]
    check = f"check the PID with `ps -p {pid}` or `ctrtui tasks HIER:/path`"
    return {"gone": f"Nothing to move; {check}, and give the PID of a running task.",
            "exited": f"Nothing to move; {check}.",
            "recycled": f"Nothing was moved; {check}, and give the PID again if that is the task you mean."}[why]


def explain(errno_name: str | None, *, pid: int | str | None, cgroup: object,
            file: str | None = None, front: str = "cli") -> tuple[str, str]:
    """What a refused write of `pid` into `cgroup` (via its membership `file`) means:
    `(sentence, advice)`. Works for every errno docs/kernel.md names; others get a generic
    sentence with the C library's text. `front`: whose words the advice takes where the
    front ends differ (`look_again`)."""
    where = f"{cgroup}" + (f" ({file})" if file else "")
    p = f"PID {pid}"
    name = errno_name or "error"
    table: dict[str, tuple[str, str]] = {
        "ESRCH": (
            f"{p} does not exist any more (it exited, or never existed), so it was not moved to {cgroup}.",
            look_again(front, "gone", pid),
        ),
        "EINVAL": (
            f"The kernel refused {p} for {where}: it is a kernel thread that may not leave its "
            "cgroup, or the written text is not one valid PID.",
            "Kernel threads such as kthreadd, ksoftirqd and migration stay where they are; "
            "move only user-space tasks, one PID at a time.",
        ),
        "EACCES": (
            f"Permission denied moving {p} into {where}: the writer may not open that file, "
            "may not move a task it does not own (v1), or may not write the common ancestor's "
            "cgroup.procs (v2 delegation).",
            "Run as root, or as the task's owner with write access to the target cgroup and, "
            "on cgroup v2, to the cgroup.procs of the common ancestor of source and target.",
        ),
        "E2BIG": (
            f"The text written to {where} for {p} was longer than the kernel accepts (4096 bytes).",
            "Write one PID per write.",
        ),
        "ENODEV": (
            f"{cgroup} was removed while its membership file was open; {p} was not moved.",
            "Refresh the tree and pick a cgroup that exists.",
        ),
        "ENOENT": (
            f"{cgroup} does not exist (or has no {file or 'membership file'}); {p} was not moved.",
            "Refresh the tree; create the cgroup first or pick another one.",
        ),
        "EBUSY": (
            f"{cgroup} has controllers enabled for its children (cgroup.subtree_control), and "
            f"cgroup v2 allows no processes in such an inner cgroup; {p} was not moved.",
            "Move the task into a leaf cgroup below it, or disable the controllers in its "
            "cgroup.subtree_control.",
        ),
        "EOPNOTSUPP": (
            f"{cgroup} cannot take {p} this way: its cgroup.type is 'domain invalid', or a "
            "thread would leave its threaded domain.",
            "Make the cgroup a valid domain or threaded (cgroup.type), or move the whole "
            "process (cgroup.procs) instead of a thread.",
        ),
        "ENOSPC": (
            f"{cgroup} has no CPUs or no memory nodes (cpuset.cpus or cpuset.mems is empty), "
            f"so {p} could not run there and was not moved.",
            "Fill in cpuset.cpus and cpuset.mems of that cgroup first, or pick another one.",
        ),
        "EPERM": (
            f"Moving {p} into {cgroup} is not permitted.",
            "Check the policy rule that protects it, or your privileges.",
        ),
    }
    if name in table:
        return table[name]
    number = errno_number(name) if errno_name else None
    text = os.strerror(number) if number is not None else "unknown error"
    return (
        f"The kernel refused to move {p} into {where}: {text} ({name}).",
        "Check the task and the cgroup, then try again.",
    )
