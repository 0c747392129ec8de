"""Finding one's way in the main screen (`Navigator`): switching hierarchy, going to a
cgroup by path, jumping to a PID's cgroup and row. The app's actions (`[`, `]`, `g`, `f`, the
palette's "Switch hierarchy…") hand over to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session


class Navigator:
    """Moves the view of the main screen: which hierarchy, which cgroup, which row."""

    def __init__(self, side: ScreenSide, session: Session) -> None:
        self.side = side
        self.session = session
        """What is shown (`ctrtui.ui.session`): the hierarchy switched, the snapshot searched."""

    def switch(self, name: str) -> None:
        """Show the hierarchy `name` (no-op for an unknown one)."""
        side = self.side
        if name not in self.session.hierarchy_names:
            side.notify(f"No hierarchy '{display(name)}' is mounted.", severity="warning")
            return
        self.session.hier = name
        if side.remember_start:  # at once: a terminal closed under ctrtui (SIGHUP) still remembers
            from ctrtui.ui.start import remember

            remember(name, self.session.backend.identity)
        if self.session.hs is not None:
            side.live.load()  # its last snapshot at once; a fresh one follows
        else:
            side.say(f"Taking a snapshot of {display(name)}…")
        side.update_status()
        side.action_refresh()

    def cycle(self, step: int) -> None:
        """Show the next (`step` 1) or previous (-1) mounted hierarchy."""
        names = self.session.hierarchy_names
        if not names:
            return
        i = names.index(self.session.hier) if self.session.hier in names else 0
        self.switch(names[(i + step) % len(names)])

    def choose_hierarchy(self) -> None:
        """Ask which hierarchy to show (with its version and counts)."""
        from ctrtui.ui.screens import SwitchHierarchy

        side = self.side
        labels = {}
        for n in self.session.hierarchy_names:
            h = self.session.snapshot.get(n) if self.session.snapshot else None
            if h is not None:
                labels[n] = (f"{display(n)}  (v{h.hierarchy.version}, {len(h.containers)} cgroups, "
                             f"{h.total(False)} procs)")
        side.show_screen(SwitchHierarchy(self.session.hierarchy_names, self.session.hier, labels),
                        lambda name: self.switch(name) if name else None)

    def ask_path(self) -> None:
        """Ask for a cgroup (fuzzy search over every hierarchy, the shown one's first) to go to."""
        from ctrtui.ui.fuzzy import RefMatcher
        from ctrtui.ui.screens import GoToCgroup

        side = self.side
        if self.session.snapshot is not None and self.session.hs is not None:
            matcher = RefMatcher(self.session.snapshot, self.session.hier)

            def chosen(item: str | None) -> None:
                if item:
                    self.go_to_ref(*matcher.ref(item))

            side.show_screen(GoToCgroup(matcher), chosen)

    def go_to_ref(self, hierarchy: str, path: str) -> None:
        """Show `hierarchy` (switching to it when another one is shown) and select `path`."""
        if hierarchy != self.session.hier:
            self.switch(hierarchy)
        self.go_to(path)

    def go_to(self, path: str | None) -> None:
        """Select the cgroup `path` of the current hierarchy in the tree."""
        side = self.side
        if not path:
            return
        if side.tree.reveal(path) is None:
            side.notify(f"{display(self.session.hier)}:{display(path)} is not in the snapshot (removed, or a typo?).",
                       severity="warning")
            return
        side.tree.focus()
        side.main.show_tasks()

    def ask_pid(self) -> None:
        """Ask for a PID to jump to."""
        from ctrtui.ui.screens import FindPid

        side = self.side
        hs = self.session.hs

        def exists(pid: int) -> bool:
            here = hs is not None and bool(hs.find(pid, False) or hs.find(pid, True))
            return here or self._elsewhere(pid) is not None

        side.show_screen(FindPid(exists, side.pid_max), self.find_pid)

    def _elsewhere(self, pid: int) -> str | None:
        """A hierarchy other than the shown one whose snapshot holds `pid` (None: none)."""
        if self.session.snapshot is None:
            return None
        for hs in self.session.snapshot.hierarchies:
            if hs.name != self.session.hier and (hs.find(pid, False) or hs.find(pid, True)):
                return hs.name
        return None

    def find_pid(self, pid: int | None) -> None:
        """Jump to the cgroup of `pid` in the current hierarchy and put the cursor on it
        (switching to the threads view when `pid` is a thread)."""
        side = self.side
        hs = self.session.hs
        if pid is None or hs is None:
            return
        paths = hs.find(pid, self.session.threads)
        if not paths:
            other = hs.find(pid, not self.session.threads)
            if other:
                self.session.threads = not self.session.threads
                side.tree.set_threads(self.session.threads)
                side.tasks.set_view(threads=self.session.threads)
                paths = other
        if not paths:
            other_hier = self._elsewhere(pid)
            if other_hier is not None:  # known in another hierarchy's snapshot: show it there
                self.switch(other_hier)
                self.find_pid(pid)
                return
            side.notify(f"PID {pid} is in no cgroup of any hierarchy in this snapshot: it does not exist "
                       "(or exited). Press r to refresh.", severity="warning")
            return
        if side.tree.reveal(paths[0]) is None:
            return
        side.main.show_tasks()
        side.tasks.select_pid(pid)
        side.tasks.focus()
