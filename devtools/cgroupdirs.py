"""Removing a tree of throwaway cgroup directories, deepest first, waiting out a cgroup that
is still busy for a moment (a task on its way out): used by the real tests' cgroups
(tests/realcg.py) and by the sshd hosts in their own cgroups (`devtools.sshd`)."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable


def rmdir_tree(top: str, wait: float = 5.0, busy: Callable[[str], None] | None = None) -> list[tuple[str, OSError]]:
    """Remove the cgroup directory `top` and every one below it, deepest first. A cgroup that
    is still busy (EBUSY: a task on its way out) is tried again for `wait` seconds, calling
    `busy(path)` before each try. Returns what could not be removed, with why."""
    failed: list[tuple[str, OSError]] = []
    if not os.path.isdir(top):
        return failed
    for d in sorted((dp for dp, _, _ in os.walk(top)), key=lambda d: d.count("/"), reverse=True):
        deadline = time.monotonic() + wait
        while True:
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() > deadline:
                    failed.append((d, e))
                    break
                if busy is not None:
                    busy(d)
                time.sleep(0.01)
    return failed
