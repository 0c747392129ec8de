"""The line above the cgroup tree while its figure columns are on: `cgroup`, then each
shown column's heading aligned with its figures (the sort column marked `▼`)."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ctrtui.ui.widgets.tree import CgroupTree


class ColumnHeading(Widget):
    """Draws `tree.heading()`; shown only while the tree's columns are on."""

    DEFAULT_CSS = """
    ColumnHeading { height: 1; display: none; text-style: bold; color: $text-muted; }
    """

    def __init__(self, tree: CgroupTree, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.cgroup_tree = tree
        tree.on_layout = self.follow

    def follow(self) -> None:
        """The tree's columns changed: show, hide or redraw."""
        self.display = self.cgroup_tree.columns
        self.refresh()

    def render(self) -> Text:
        return self.cgroup_tree.heading()
