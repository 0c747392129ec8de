"""The UI's snapshot taken and patched, without Textual (for `ctrtui/ui/live.py`): the first
snapshot of every hierarchy, taken in a thread that starts with the app (`FirstSnapshot`), a
hierarchy's new snapshot merged with the last known ones of the others (`merge`), and what a
refresh tick's reads of single cgroups change in the hierarchy shown (`reshape`).
"""

from __future__ import annotations

import threading

from ctrtui.model import Container, HierarchySnapshot, Snapshot
from ctrtui.model.snapshot import parent_path
from ctrtui.sources.base import Reader


class FirstSnapshot:
    """The first snapshot of every hierarchy, taken in a thread that starts with the app
    object, so it is read while Textual starts up rather than after (with a small world or
    a fast backend it is there by the time the screen is mounted: one paint, with content)."""

    def __init__(self, backend: Reader) -> None:
        self.result: tuple[Snapshot, list[str]] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.backend = backend
        threading.Thread(target=self._take, args=(backend,), name="ctrtui first snapshot", daemon=True).start()

    def _take(self, backend: Reader) -> None:
        try:
            names = [h.name for h in backend.hierarchies()]
            self.result = (backend.snapshot(None), names)
        except BaseException as exc:  # noqa: BLE001 - handed to the app, which reports it
            self.error = exc
        finally:
            self.done.set()


def merge(old: Snapshot | None, new: Snapshot, names: list[str]) -> Snapshot:
    """`new`'s hierarchies, plus the last known snapshot of every other mounted one."""
    by_name = {h.name: h for h in old.hierarchies} if old is not None else {}
    by_name.update((h.name, h) for h in new.hierarchies)
    return Snapshot(tuple(by_name[n] for n in names if n in by_name), new.taken_at, new.backend)


def reshape(hs: HierarchySnapshot, read: dict[str, Container | None]
            ) -> tuple[dict[str, Container], dict[str, Container], set[str]] | None:
    """What a tick's read changes in `hs`: (cgroups whose members or children changed, new
    cgroups, removed paths with everything below them), or None when the read cannot be
    patched in (a cgroup read is gone but no parent read says so, or a new one's parent
    was not read): then the whole hierarchy is read."""
    changed: dict[str, Container] = {}
    added: dict[str, Container] = {}
    removed: set[str] = set()
    for p, c in read.items():
        parent = parent_path(p)
        pc = read.get(parent) if parent is not None else None
        old = hs.get(p)
        if c is None:
            if pc is None or p in pc.children:
                return None
            continue  # gone, and its parent's new child list says so
        if old is None:
            if pc is None or p not in pc.children:
                return None
            added[p] = c
            continue
        if c.children != old.children:
            kept = set(c.children)
            for ch in old.children:
                if ch not in kept:
                    removed.update(x.path for x in hs.walk(ch))
            changed[p] = c
        elif c.threads != old.threads or c.procs != old.procs:
            changed[p] = c
    for p in list(changed):
        if p in removed:
            del changed[p]
    return changed, dict(sorted(added.items(), key=lambda kv: kv[0].count("/"))), removed
