"""How the main screen shares the terminal's width (plain logic, no Textual).

The task list needs its fixed columns plus `COMMAND_MIN` cells for COMMAND; the tree takes
what it would like (35 % of the width, at least 52 and at most 80 cells) but gives way down
to `TREE_MIN` cells so COMMAND keeps its room. When even that does not fit, the panes are
stacked: the tree above the task list, each the full width.
"""

from __future__ import annotations

TREE_MIN = 20
"""The narrowest tree pane side by side with the task list."""
COMMAND_MIN = 20
"""Cells COMMAND keeps at least, side by side."""


def tree_width(width: int, list_fixed: int) -> int | None:
    """The tree pane's width for a terminal `width` cells wide whose task list needs
    `list_fixed` cells besides COMMAND (prefix, columns, scrollbar); None: stack the panes."""
    wanted = min(80, max(52, width * 35 // 100))
    room = width - 1 - list_fixed - COMMAND_MIN  # 1: the tree's right border
    left = min(wanted, room)
    return left if left >= TREE_MIN else None
