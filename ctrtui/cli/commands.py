"""Which function runs each subcommand on this machine (`COMMANDS`): what the command line's
dispatch (ctrtui/cli/entry.py) and the agent's `cli` op (ctrtui/agent/ops.py) both look up.
"""

from __future__ import annotations

from ctrtui.cli.listing import cmd_hierarchies, cmd_ls, cmd_tasks
from ctrtui.cli.moves import cmd_log, cmd_move, cmd_undo

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    Command = Callable[[argparse.Namespace], int]

__all__ = ["COMMANDS"]


def _cmd_op(args: argparse.Namespace) -> int:
    from ctrtui.cli.cgroups import cmd_op

    return cmd_op(args)


def _cmd_history(args: argparse.Namespace) -> int:
    from ctrtui.cli.history import COMMANDS as history

    return history[args.command](args)


COMMANDS: dict[str, Command] = {
    "hierarchies": cmd_hierarchies, "ls": cmd_ls, "tasks": cmd_tasks,
    "move": cmd_move, "undo": cmd_undo, "log": cmd_log,
    **dict.fromkeys(("mkdir", "rmdir", "freeze", "thaw"), _cmd_op),
    **dict.fromkeys(("record", "where", "diff"), _cmd_history),
}
"""Subcommand -> what runs it on this machine (the terminal UI, no subcommand, is `run`'s `tui`)."""
