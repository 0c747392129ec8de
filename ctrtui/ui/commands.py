"""The app's entries in the command palette (ctrl+p): actions of the screen the palette was
opened on (the main screen), or of the app (`app.`)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class CtrtuiCommands(Provider):
    """The app's entries in the command palette (ctrl+p)."""

    ENTRIES: tuple[tuple[str, str, str], ...] = (
        ("Go to cgroup…", "go_to", "Jump to a cgroup of any hierarchy by path, the shown one's first"),
        ("Find PID…", "find_pid", "Jump to the cgroup of a PID and select its row"),
        ("Move selected to…", "move", "Pick a target cgroup for the marked tasks (or the cursor row)"),
        ("Undo last move", "undo", "Move the last batch back where it came from"),
        ("Switch hierarchy…", "app.switch_hierarchy", "Show another mounted hierarchy"),
        ("Switch host…", "hosts", "Every host with its state: show one, or reconnect it"),
        ("Find on every host…", "find_hosts", "Find a PID or a command on every connected host"),
        ("Cut selected tasks", "cut", "Remember the selection; p in the tree puts it there"),
        ("Put cut tasks here", "put", "Move the cut tasks into the highlighted cgroup"),
        ("Move log", "move_log", "Every outcome of every batch of this run"),
        ("Refresh now", "app.refresh", "Take a new snapshot"),
        ("Pause or resume auto-refresh", "toggle_pause", "Stop or restart the periodic refresh"),
        ("Toggle threads view", "toggle_threads", "Show threads (TIDs) or processes (TGIDs)"),
        ("Toggle subtree view", "toggle_descendants", "Include the tasks of every cgroup below"),
    )

    async def discover(self) -> Hits:
        for title, action, help in self.ENTRIES:
            yield DiscoveryHit(title, partial(self.app.run_action, action, self.screen), help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help in self.ENTRIES:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action, self.screen), help=help)
