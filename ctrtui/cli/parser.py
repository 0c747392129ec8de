"""The one argparse parser of every command line (`build_parser`): the global options, each
subcommand's options (added only when that subcommand is parsed or its help is shown), and
the history options of `ls`/`tasks --at`.
"""

from __future__ import annotations

import os
import sys

from ctrtui.cli.common import HOST_JOBS, HOST_TIMEOUT, scrub
from ctrtui.cli.listing import STATS_SAMPLE, STATS_SORT

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any, NoReturn

__all__ = ["build_parser", "history_options", "subcommand_options"]


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options valid both before and after the subcommand."""
    import argparse

    d = argparse.SUPPRESS if suppress else None
    parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="use the simulated demo world instead of /sys/fs/cgroup")
    # `--demo=hostile`, not in the help: a world of hostile names, for trying the escaping (an
    # option string argparse matches whole, before it would split `--demo=...` at the `=`)
    parser.add_argument("--demo=hostile", dest="demo", action="store_const", const="hostile",
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    # `--demo=systemd`, not in the usage line either: the demo world with systemd as PID 1 managing it
    # (the systemd route of moves; README "systemd hosts")
    parser.add_argument("--demo=systemd", dest="demo", action="store_const", const="systemd",
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument("--policy", metavar="FILE", default=d,
                        help="policy file (TOML) of protected PIDs, commands and cgroups")
    parser.add_argument("--journal", metavar="FILE", default=d,
                        help="journal of moves, used by undo (default: in the XDG state dir)")
    # Remote hosts (docs/hosts.md). `--host` given before and after the subcommand adds up
    # (the two lists have their own dests; `main` joins them).
    parser.add_argument("--host", action="append", metavar="[USER@]HOST[:PORT]", default=d,
                        dest="host_after" if suppress else "host",
                        help="run on this host through ssh (repeatable; `local`: this machine)")
    parser.add_argument("--hosts", metavar="FILE", default=d, help="the hosts of FILE too (one per line)")
    parser.add_argument("--sudo", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="run ctrtui on the hosts with `sudo -n` (remote moves need root)")
    parser.add_argument("--remote-python", metavar="PATH", default=d,
                        help="the hosts' Python (default python3)")
    parser.add_argument("--ssh-config", metavar="FILE", default=d,
                        help="ssh config file for the hosts (default: $CTRTUI_SSH_CONFIG, else ssh's own)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", default=d,
                        help=f"give up on a host silent for SECONDS (default {HOST_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, metavar="N", default=d,
                        help=f"contact at most N hosts at once (default {HOST_JOBS})")


def subcommand_options(parser: argparse.ArgumentParser) -> None:
    """What every subcommand takes: the global options (given after it) and `--json`."""
    _global_options(parser, suppress=True)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _columns() -> int:
    """The help's width, as `shutil.get_terminal_size` finds it (COLUMNS, else the terminal on
    stdout, else 80), without importing shutil (~1.5 ms with the compressors it imports)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser() -> argparse.ArgumentParser:
    """The one parser of every command line. Built on each start, so kept cheap (~2 ms here:
    benchmarks/RESULTS.md): the subcommands take their options directly rather than from
    parent parsers and add them only when one is parsed or its help is shown (`define`), the
    subparsers' `prog` is given rather than formatted from a usage line, and the help
    formatter is told its width once (`_columns`)."""
    import argparse

    width = _columns() - 2  # what argparse's HelpFormatter takes from the terminal by default

    class Formatter(argparse.HelpFormatter):
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = width) -> None:
            super().__init__(prog, indent_increment, max_help_position, width)

    class Parser(argparse.ArgumentParser):
        """argparse quotes what was typed in its errors (`unrecognized arguments: ...`) as it
        is: clean it of control characters first (its subcommand parsers are of this class).
        `define` adds a subcommand's arguments the first time it is parsed or its usage or
        help is formatted, so a command line pays for its own subcommand only."""

        def __init__(self, *args: Any, define: Callable[[argparse.ArgumentParser], None] | None = None,
                     **kw: Any) -> None:
            kw.setdefault("formatter_class", Formatter)
            super().__init__(*args, **kw)
            self._define = define

        def _defined(self) -> None:
            define, self._define = self._define, None
            if define is not None:
                define(self)

        if TYPE_CHECKING:  # the same signature (argparse's is overloaded on the namespace's type)
            parse_known_args = argparse.ArgumentParser.parse_known_args
        else:
            def parse_known_args(self, args=None, namespace=None):
                self._defined()
                return super().parse_known_args(args, namespace)

        def format_usage(self) -> str:
            self._defined()
            return super().format_usage()

        def format_help(self) -> str:
            self._defined()
            return super().format_help()

        def error(self, message: str) -> NoReturn:
            super().error(scrub(message))

    p = Parser(
        prog="ctrtui",
        description="See which tasks sit in which cgroup, and move them. "
        "With no subcommand, opens the terminal UI.",
    )
    _global_options(p, suppress=False)
    from ctrtui import __version__

    p.add_argument("--version", action="version", version=f"ctrtui {__version__}")
    p.add_argument("--read-only", action="store_true", help="TUI: never move anything")
    p.add_argument("--no-journal", action="store_true",
                   help="TUI: move even when the journal cannot be written (such moves cannot be undone)")
    p.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                   help="TUI: auto-refresh interval (default 2)")
    p.add_argument("--hierarchy", metavar="NAME",
                   help="TUI: open on this hierarchy (default: v2 with controllers, else the last one shown, "
                        "else name=systemd)")
    p.add_argument("--cgroup", metavar="HIERARCHY:/path", dest="start_cgroup",
                   help="TUI: open on this cgroup (its hierarchy, the cgroup selected)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", prog="ctrtui")

    _subcommands(sub)
    return p


def _ls(ls: argparse.ArgumentParser) -> None:
    subcommand_options(ls)
    ls.add_argument("cgroup", nargs="?", metavar="HIERARCHY:/path",
                    help="a hierarchy (freezer, cpu,cpuacct, name=systemd, unified) and path")
    ls.add_argument("--stats", action="store_true",
                    help="figures per cgroup as systemd-cgtop shows them: tasks, %%CPU, memory, "
                    "IO per second, pids, frozen, swap, pressure (rates from two readings --sample apart)")
    ls.add_argument("--sample", type=float, default=STATS_SAMPLE, metavar="SECONDS", dest="stats_interval",
                    help=f"with --stats: seconds between the two readings (default {STATS_SAMPLE}; "
                    "0: one reading, rates left at -)")
    ls.add_argument("--sort", metavar="COLUMN", dest="stats_sort",
                    help="with --stats: cgroups of each hierarchy largest first by COLUMN ("
                    f"{', '.join(STATS_SORT)})")
    history_options(ls)


def _tasks(tasks: argparse.ArgumentParser) -> None:
    subcommand_options(tasks)
    tasks.add_argument("cgroup", metavar="HIERARCHY:/path")
    tasks.add_argument("--threads", action="store_true", help="list threads (TIDs), not processes")
    history_options(tasks)


def _move(mv: argparse.ArgumentParser) -> None:
    subcommand_options(mv)
    mv.add_argument("pids", nargs="+", metavar="PID")
    to = mv.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="HIERARCHY:/path", dest="target")
    to.add_argument("--scope", metavar="NAME",
                    help="into a new transient scope NAME.scope systemd starts for the running tasks (a systemd host)")
    mv.add_argument("--slice", metavar="SLICE", help="with --scope: the slice of the new scope (default: "
                    "systemd's, system.slice for root)")
    mv.add_argument("-p", "--property", action="append", default=[], metavar="PROPERTY=VALUE", dest="properties",
                    help="with --scope: a property of the new scope, as systemd-run -p (CPUWeight=50, MemoryMax=1G)")
    mv.add_argument("--threads", action="store_true",
                    help="move only the given threads (v1 tasks / v2 cgroup.threads), not whole processes")
    mv.add_argument("--dry-run", action="store_true", help="only say what would happen")
    mv.add_argument("--via", choices=("auto", "kernel"), default="auto",
                    help="kernel: write the cgroup even where systemd would refuse the move (a unit not delegated), "
                         "the task then lives and dies with that unit; auto (default): through systemd where it "
                         "takes the tasks")
    mv.add_argument("--all-or-nothing", action="store_true",
                    help="if any PID cannot be moved, move none (those moved are moved back)")
    mv.add_argument("--no-journal", action="store_true",
                    help="move even when the journal cannot be written (the batch cannot be undone)")


def _undo(undo: argparse.ArgumentParser) -> None:
    subcommand_options(undo)
    undo.add_argument("batch", nargs="?", metavar="BATCH", help="a batch id, as `ctrtui log` shows it")


def _log(log: argparse.ArgumentParser) -> None:
    subcommand_options(log)
    log.add_argument("-n", "--limit", type=int, default=20, metavar="N",
                     help="show the newest N batches (default 20; 0: all)")


def _op(one: argparse.ArgumentParser) -> None:
    subcommand_options(one)
    one.add_argument("cgroup", metavar="HIERARCHY:/path")


def _subcommands(sub: Any) -> None:
    """Every subcommand, each defined (`_ls`, `_move`, ...) only when it is used."""
    sub.add_parser("hierarchies", define=subcommand_options,
                   help="every mounted hierarchy with its cgroup and task counts")
    sub.add_parser("ls", define=_ls, help="the cgroup tree with own and recursive task counts")
    sub.add_parser("tasks", define=_tasks, help="the sorted member list of a cgroup")
    sub.add_parser("move", define=_move, help="move PIDs into a cgroup")
    sub.add_parser("undo", define=_undo, help="move back what the last undoable batch (or BATCH) moved")
    for name, words in (("mkdir", "create a cgroup (its parent must exist)"), ("rmdir", "remove an empty cgroup"),
                        ("freeze", "freeze a cgroup (v1 freezer.state, v2 cgroup.freeze)"),
                        ("thaw", "thaw a cgroup")):
        sub.add_parser(name, define=_op, help=f"{words}; journaled, undone by `ctrtui undo`")
    sub.add_parser("log", define=_log, help="the batches in the journal, newest first")
    _history_parsers(sub)




def history_options(parser: argparse.ArgumentParser) -> None:
    """`--at TIME` and `--from FILE|DIR`: answer from a recording (`ctrtui record`)."""
    parser.add_argument("--at", metavar="TIME", help="as recorded at TIME (ISO 8601, HH:MM[:SS] today, -5m, "
                        "'3m ago', or a batch id) by `ctrtui record`")
    parser.add_argument("--from", metavar="FILE|DIR", dest="history_from",
                        help="the recording to read (default: the one `ctrtui record` writes)")


def _history_parsers(sub: Any) -> None:
    """The history subcommands (ctrtui/cli/history.py, imported only when one is used)."""

    def define(parser: argparse.ArgumentParser) -> None:
        from ctrtui.cli.history import define

        subcommand_options(parser)
        define(parser)

    sub.add_parser("record", define=define, help="record which task is in which cgroup, every few seconds")
    sub.add_parser("where", define=define, help="every cgroup PID was in, by the recording, and who moved it")
    sub.add_parser("diff", define=define, help="what changed between two recorded times")
    sub.add_parser("replay", define=define, help="the terminal UI on a recording, read-only, with a time bar")
