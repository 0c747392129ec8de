"""The command line: `ctrtui` opens the TUI; subcommands script the same engine.

Importing this module must stay cheap: Textual is imported only when the TUI starts, and
the backends/engine only when a subcommand needs them.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from types import FrameType
    from typing import Any, NoReturn, TextIO

    from ctrtui.engine import AttachEngine, Plan, Report
    from ctrtui.model import CgroupRef, Hierarchy, Snapshot
    from ctrtui.sources.base import Backend

    Command = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_NOT_ALL, EXIT_USAGE = 0, 1, 2
HOST_TIMEOUT, HOST_JOBS = 10.0, 8
"""`--timeout` and `--jobs` unless given (ctrtui.remote.fleet)."""


def display(text: object) -> str:
    """A name (path, comm, user, command line) as it may be printed: see ctrtui.text."""
    from ctrtui.text import display as show

    return show(text if isinstance(text, (str, bytes)) or text is None else str(text))


def scrub(text: object) -> str:
    """A message (names in it put with `display`) as it may be printed: see ctrtui.text."""
    from ctrtui.text import scrub as clean

    return clean(text if isinstance(text, str) or text is None else str(text))


class UsageError(Exception):
    """Bad input: printed as one line `ctrtui: ...`, exit 2."""


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


def _subcommand_options(parser: argparse.ArgumentParser) -> None:
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

    def ls(ls: argparse.ArgumentParser) -> None:
        _subcommand_options(ls)
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
        _history_options(ls)

    def tasks(tasks: argparse.ArgumentParser) -> None:
        _subcommand_options(tasks)
        tasks.add_argument("cgroup", metavar="HIERARCHY:/path")
        tasks.add_argument("--threads", action="store_true", help="list threads (TIDs), not processes")
        _history_options(tasks)

    def move(mv: argparse.ArgumentParser) -> None:
        _subcommand_options(mv)
        mv.add_argument("pids", nargs="+", metavar="PID")
        mv.add_argument("--to", required=True, metavar="HIERARCHY:/path", dest="target")
        mv.add_argument("--threads", action="store_true",
                        help="move only the given threads (v1 tasks / v2 cgroup.threads), not whole processes")
        mv.add_argument("--dry-run", action="store_true", help="only say what would happen")
        mv.add_argument("--all-or-nothing", action="store_true",
                        help="if any PID cannot be moved, move none (those moved are moved back)")
        mv.add_argument("--no-journal", action="store_true",
                        help="move even when the journal cannot be written (the batch cannot be undone)")

    def undo(undo: argparse.ArgumentParser) -> None:
        _subcommand_options(undo)
        undo.add_argument("batch", nargs="?", metavar="BATCH", help="a batch id, as `ctrtui log` shows it")

    def log(log: argparse.ArgumentParser) -> None:
        _subcommand_options(log)
        log.add_argument("-n", "--limit", type=int, default=20, metavar="N",
                         help="show the newest N batches (default 20; 0: all)")

    sub.add_parser("hierarchies", define=_subcommand_options,
                   help="every mounted hierarchy with its cgroup and task counts")
    sub.add_parser("ls", define=ls, help="the cgroup tree with own and recursive task counts")
    sub.add_parser("tasks", define=tasks, help="the sorted member list of a cgroup")
    sub.add_parser("move", define=move, help="move PIDs into a cgroup")
    sub.add_parser("undo", define=undo, help="move back what the last undoable batch (or BATCH) moved")
    def op(one: argparse.ArgumentParser) -> None:
        _subcommand_options(one)
        one.add_argument("cgroup", metavar="HIERARCHY:/path")

    for name, words in (("mkdir", "create a cgroup (its parent must exist)"), ("rmdir", "remove an empty cgroup"),
                        ("freeze", "freeze a cgroup (v1 freezer.state, v2 cgroup.freeze)"),
                        ("thaw", "thaw a cgroup")):
        sub.add_parser(name, define=op, help=f"{words}; journaled, undone by `ctrtui undo`")
    sub.add_parser("log", define=log, help="the batches in the journal, newest first")
    _history_parsers(sub)
    return p


def _history_options(parser: argparse.ArgumentParser) -> None:
    """`--at TIME` and `--from FILE|DIR`: answer from a recording (`ctrtui record`)."""
    parser.add_argument("--at", metavar="TIME", help="as recorded at TIME (ISO 8601, HH:MM[:SS] today, -5m, "
                        "'3m ago', or a batch id) by `ctrtui record`")
    parser.add_argument("--from", metavar="FILE|DIR", dest="history_from",
                        help="the recording to read (default: the one `ctrtui record` writes)")


def _history_parsers(sub: Any) -> None:
    """The history subcommands (ctrtui/clihistory.py, imported only when one is used)."""

    def define(parser: argparse.ArgumentParser) -> None:
        from ctrtui.clihistory import define

        _subcommand_options(parser)
        define(parser)

    sub.add_parser("record", define=define, help="record which task is in which cgroup, every few seconds")
    sub.add_parser("where", define=define, help="every cgroup PID was in, by the recording, and who moved it")
    sub.add_parser("diff", define=define, help="what changed between two recorded times")


# ----------------------------------------------------------------------------- helpers


def _spec(args: argparse.Namespace) -> str:
    """The backend spec the options name: `--demo` -> `demo`, `--demo=hostile` ->
    `demo:hostile`, neither -> `local` (see ctrtui.sources.open_backend)."""
    demo = args.demo
    return "demo:hostile" if demo == "hostile" else "demo" if demo else "local"


def _backend(args: argparse.Namespace) -> Backend:
    if getattr(args, "at", None) is not None:  # ls/tasks --at: the recorded world, read-only
        from ctrtui.clihistory import recorded_world

        return recorded_world(args)  # type: ignore[return-value]
    from ctrtui.sources import open_backend

    return open_backend(_spec(args))


def _engine(args: argparse.Namespace, backend: Backend, broken_ok: bool = False) -> AttachEngine:
    """The engine of `move`, `undo` and the UI. A policy that cannot be read or is invalid
    (checked against the backend's hierarchies) is a CtrtuiError (exit 2) -- or, with
    `broken_ok` (the UI), a policy that refuses every move with that sentence."""
    from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
    from ctrtui.errors import CtrtuiError

    try:
        policy = (Policy.load(args.policy, backend.hierarchies) if args.policy
                  else Policy.load_default(backend.hierarchies))
    except CtrtuiError as e:
        if not broken_ok:
            raise
        from ctrtui.engine.policy import default_policy_path

        policy = Policy.broken(str(e), args.policy or default_policy_path())
    if getattr(args, "no_journal", False):
        journal = Journal(None)  # kept in memory: the report says journaled: false
    else:
        journal = Journal(args.journal or default_journal_path(backend.identity), max_bytes=_journal_max())
    return AttachEngine(backend, policy=policy, journal=journal)


def _journal_max() -> int:
    """Rotation size of the journal: `CTRTUI_JOURNAL_MAX` (bytes) or the default 8 MiB."""
    from ctrtui.engine.journal import DEFAULT_MAX_BYTES

    text = os.environ.get("CTRTUI_JOURNAL_MAX", "")
    if not text:
        return DEFAULT_MAX_BYTES
    if not text.isdigit() or int(text) < 4096:
        raise UsageError(f"CTRTUI_JOURNAL_MAX must be a number of bytes (at least 4096), not {text!r}")
    return int(text)


def cgroup_ref(text: str) -> CgroupRef:
    """`HIERARCHY:/path` (or a bare `HIERARCHY`) as typed, checked for its form only (what
    any host would refuse); UsageError otherwise. Which hierarchies and cgroups exist is the
    backend's to say (`_resolve`)."""
    from ctrtui.model import CgroupRef

    try:
        return CgroupRef.parse(text if ":" in text else text + ":/")
    except ValueError as e:
        raise UsageError(str(e)) from None


def _resolve(backend: Backend, text: str) -> tuple[Hierarchy, str]:
    """`HIERARCHY:/path` (or a bare `HIERARCHY`) -> (Hierarchy, path); UsageError naming the
    culprit otherwise. The path may be written as ctrtui shows it (`\\x1b` for ESC, `\\xff`
    for a byte that is not UTF-8, `\\\\` for a backslash: see ctrtui.text); a path that only
    exists as typed (a name holding a backslash, written unescaped) is found too."""
    from ctrtui.model import CgroupRef, find_hierarchy
    from ctrtui.text import parse

    ref = cgroup_ref(text)
    word = ref.hierarchy
    hiers = backend.hierarchies()
    h = find_hierarchy(hiers, word)
    if h is None:
        raise UsageError(_unknown_hierarchy(backend, hiers, text, word, ref.path))
    candidates = []
    problem: str | None
    try:
        exact = CgroupRef.parse(h.name + ":" + parse(ref.path)).path
    except ValueError as e:
        problem = f"{text}: {e}"  # what was typed, as typed (scrubbed when printed)
    else:
        if "\0" in exact:
            problem = f"{text}: a cgroup name cannot hold a NUL byte (\\x00)"
        else:
            problem = None
            candidates.append(exact)
    if ref.path not in candidates:
        candidates.append(ref.path)
    for path in candidates:
        if backend.cgroup_state(h.name, path) is not None:
            return h, path
    if problem is not None:
        raise UsageError(problem)
    path = candidates[0]
    if backend.kind == "demo":  # a simulated world: none of its cgroups is a directory of this machine
        raise UsageError(f"no cgroup {display(h.name)}:{display(path)} in the demo world")
    raise UsageError(f"no cgroup {display(h.name)}:{display(path)} (no such directory {display(h.fs_path(path))})")


def _unknown_hierarchy(backend: Backend, hiers: Sequence[Hierarchy], text: str, word: str, path: str) -> str:
    """Why `text` names no hierarchy, and the cgroups it may have meant: the path typed
    (`/a`, or `a` with the hierarchy left out; the path after an unknown `HIER:`) in every
    hierarchy that has it, as `did you mean freezer:/a or unified:/a?`."""
    from ctrtui.model import CgroupRef
    from ctrtui.text import parse

    if ":" not in text:  # `--to /a` or `--to a`: the hierarchy was left out
        path = text if text.startswith("/") else "/" + text
        lead = f"'{display(text)}' is not a hierarchy"
    else:
        lead = f"unknown hierarchy '{display(word)}' in '{display(text)}'"
    lead += ": cgroups are named HIERARCHY:/path"
    paths = [path]
    try:
        exact = CgroupRef.parse("x:" + parse(path)).path  # as typed back from the shown form
    except ValueError:
        exact = None
    if exact is not None and "\0" not in exact and exact != path:
        paths.insert(0, exact)
    found: list[tuple[Hierarchy, str]] = []
    for h in hiers:
        for p in paths:
            try:
                there = backend.cgroup_state(h.name, p) is not None
            except (OSError, ValueError):
                there = False
            if there:
                found.append((h, p))
                break

    def join(words: list[str], last: str = "or") -> str:
        return f"{', '.join(words[:-1])} {last} {words[-1]}" if len(words) > 1 else words[0]

    if 0 < len(found) <= 3:
        return f"{lead}; did you mean {join([f'{display(h.name)}:{display(p)}' for h, p in found])}?"
    if found:  # a path systemd lays out in every hierarchy: the v2 one first, the others named
        h, p = next(((h, p) for h, p in found if h.version == 2), found[0])
        return (f"{lead}; did you mean {display(h.name)}:{display(p)}? ({display(p)} is in "
                f"{len(found)} hierarchies: {join([display(h.name) for h, _ in found], 'and')})")
    known = ", ".join(display(h.name) for h in hiers) or "none are mounted"
    if ":" not in text:
        return f"{lead}, and no hierarchy has a cgroup {display(path)}; known hierarchies: {known}"
    return f"{lead}; known hierarchies: {known}"


def _still_there(snap: Snapshot, h: Hierarchy, path: str) -> None:
    """A cgroup found by `_resolve` but gone from the snapshot was removed in between: say so
    (exit 2) instead of printing an empty list as if it were there and empty."""
    if path not in snap[h.name]:
        name, where = display(h.name), display(path)
        raise UsageError(f"cgroup {name}:{where} was removed while ctrtui was reading it "
                         f"({display(h.fs_path(path))} no longer exists); run `ctrtui ls {name}:/` to see what is "
                         "there now")


def _print_json(obj: Any) -> None:
    import json  # only --json needs it (~1.5 ms of every start otherwise)

    # One write of the whole text: json.dump's one write per token through the guarded
    # stdout took 1.7x as long (35,000 rows: 292 ms against 171 ms)
    sys.stdout.write(json.dumps(obj, indent=1) + "\n")


# ----------------------------------------------------------------------------- commands


def cmd_hierarchies(args: argparse.Namespace) -> int:
    backend = _backend(args)
    # The text shows thread counts only: the real backend can then leave cgroup.procs unread
    # (as `ls` does; ~1 ms of a start on this machine's ~60 cgroups).
    kw: dict[str, Any] = {"procs": False} if not args.json and backend.kind == "real" else {}
    snap = backend.snapshot(**kw)
    rows: list[dict[str, Any]] = []  # JSON objects
    for hs in snap.hierarchies:
        h = hs.hierarchy
        rows.append({
            "name": h.name, "version": h.version, "controllers": list(h.controllers),
            "mount": h.mount, "hierarchy_id": h.hierarchy_id, "cgroups": len(hs.containers),
            "tasks": hs.total(threads=True), "procs": hs.total(threads=False),
        })
    if args.json:
        _print_json(rows)
        return EXIT_OK
    print("\n".join(hierarchies_lines(rows)))
    return EXIT_OK


# The text of the listings, from their JSON rows: one header line, then one line per row
# (what `ctrtui.clihosts` relies on to add a HOST column to the rows of several hosts).


def hierarchies_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui hierarchies` from its JSON rows."""
    if not rows:
        return ["no cgroup hierarchy is mounted"]
    w = min(max(len(r["name"]) for r in rows), 40)  # a longer name (a host's) widens its own row only
    lines = [f"{'NAME':<{w}}  V  {'CGROUPS':>7}  {'TASKS':>7}  MOUNT"]
    for r in rows:
        lines.append(display(f"{r['name']:<{w}}  {r['version']}  {r['cgroups']:>7}  {r['tasks']:>7}  {r['mount']}"))
    return lines


def tasks_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui tasks` from its JSON rows."""
    from ctrtui.text import fit

    lines = [f"{'PID':>7} {'TGID':>7} {'USER':<10} S  COMM"]
    for r in rows:
        if r["tgid"] is None:
            lines.append(f"{r['pid']:>7} {'-':>7} {'-':<10} -  (exited)")
        else:
            user = fit(display(r["user"]), 10)
            lines.append(f"{r['pid']:>7} {r['tgid']:>7} {user} {display(r['state'])}  {display(r['comm'])}")
    return lines


LS_HEADER = "cgroup  own tasks (with descendants)"


def ls_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui ls` from its JSON rows (`cmd_ls` writes the same text without building them):
    the first row of each hierarchy (of each host, when the rows carry one) is where its
    walk started, shown whole; the rows below it are indented by their depth."""
    lines: list[str] = []
    group: tuple[Any, str] | None = None
    start, base = "/", 0
    for r in rows:
        p = r["path"]
        if (r.get("host"), r["hierarchy"]) != group:
            group = (r.get("host"), r["hierarchy"])
            start = p
            base = 0 if start == "/" else start.count("/")
        if p == start:
            label = f"{r['hierarchy']}:{p}"
        else:
            label = "  " * (p.count("/") - base) + p[p.rfind("/") + 1:]
        lines.append(display(f"{label}  {r['tasks']} ({r['tasks_recursive']})"))
    return [LS_HEADER, *lines] if lines else []


STATS_WIDTHS = {"tasks": 6, "cpu": 6, "memory": 8, "read": 8, "write": 8, "pids": 9, "frozen": 6,
                "swap": 7, "cpu_some": 7, "memory_some": 7, "memory_full": 7, "io_some": 7, "io_full": 7}


def stats_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`ctrtui ls --stats` from its JSON rows (`as_json` of each cgroup's figures)."""
    from ctrtui.model.cgstats import COLUMNS, HEADINGS, cell, from_json

    labels = [_middle(display(f"{r['hierarchy']}:{r['path']}"), 60) for r in rows]
    w = max([len("Path"), *map(len, labels)])
    widths = STATS_WIDTHS
    out = [f"{'Path':<{w}}" + "".join(f" {HEADINGS[c]:>{widths[c]}}" for c in COLUMNS)]
    for label, r in zip(labels, rows):
        f = from_json(r)
        out.append(f"{label:<{w}}" + "".join(f" {cell(c, r['tasks'], f):>{widths[c]}}" for c in COLUMNS))
    return out


def cmd_ls(args: argparse.Namespace) -> int:
    backend = _backend(args)
    if args.stats:
        return _ls_stats(backend, args)
    # The text shows thread counts only: the real backend can then leave cgroup.procs unread.
    kw: dict[str, Any] = {"procs": False} if not args.json and backend.kind == "real" else {}
    if args.cgroup:
        h, path = _resolve(backend, args.cgroup)
        snap = backend.snapshot([h.name], subtree=path, **kw)
        _still_there(snap, h, path)
    else:
        path = None
        snap = backend.snapshot(**kw)
    out = sys.stdout
    rows: list[dict[str, Any]] = []  # JSON objects
    lines: list[str] = []
    for hs in snap.hierarchies:
        threads_rec = hs.recursive_counts(threads=True)
        start = path if path is not None else hs.root_path
        if args.json:
            procs_rec = hs.recursive_counts(threads=False)
            for c in hs.walk(start):
                rows.append({
                    "hierarchy": hs.name, "path": c.path, "tasks": len(c.threads), "procs": len(c.procs),
                    "tasks_recursive": threads_rec[c.path], "procs_recursive": procs_rec[c.path],
                })
            continue
        base = 0 if start == "/" else start.count("/")
        for c in hs.walk(start):
            p = c.path
            if p == start:
                label = f"{hs.name}:{p}"
            else:
                label = "  " * (p.count("/") - base) + p[p.rfind("/") + 1:]
            lines.append(display(f"{label}  {len(c.threads)} ({threads_rec[p]})"))
    if args.json:
        _print_json(rows)
    else:
        if lines:
            out.write(LS_HEADER + "\n")
        out.write("\n".join(lines) + ("\n" if lines else ""))
    return EXIT_OK


STATS_SAMPLE = 0.5
"""`ls --stats`: seconds between the two readings that rates are computed from."""

STATS_SORT = ("tasks", "cpu", "memory", "read", "write", "pids", "swap",
              "cpu_some", "memory_some", "memory_full", "io_some", "io_full")
"""`ls --stats --sort COLUMN`: the columns (of `model.cgstats.COLUMNS`) it can sort by."""


def _middle(text: str, width: int) -> str:
    """`text` cut to `width` in the middle with an ellipsis, as systemd-cgtop cuts paths."""
    if len(text) <= width:
        return text
    head = (width - 1) // 3
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def check_sample(interval: float) -> float:
    """`ls --sample SECONDS`, or UsageError."""
    if not (interval == interval and 0 <= interval <= 60):  # NaN too
        raise UsageError(f"--sample {interval}: give seconds between 0 and 60")
    return interval


def check_sort(column: str) -> str:
    """`ls --stats --sort COLUMN`, or UsageError."""
    if column not in STATS_SORT:
        raise UsageError(f"--sort {display(column)}: give one of {', '.join(STATS_SORT)}")
    return column


def _ls_stats(backend: Backend, args: argparse.Namespace) -> int:
    """`ls --stats`: every cgroup (of HIERARCHY:/path and below, or of every hierarchy) with
    its figures, as systemd-cgtop's columns. Tasks are processes, with descendants."""
    from ctrtui.model.cgstats import as_json, sort_value
    from ctrtui.sources.stats import StatsSampler

    interval = check_sample(args.stats_interval)
    order = args.stats_sort
    if order is not None:
        check_sort(order)
    if args.cgroup:
        h, path = _resolve(backend, args.cgroup)
        snap = backend.snapshot([h.name], subtree=path)
        _still_there(snap, h, path)
    else:
        path = None
        snap = backend.snapshot()
    walks = [(hs, [c.path for c in hs.walk(path if path is not None else hs.root_path)])
             for hs in snap.hierarchies]
    sampler = StatsSampler(backend)
    if interval:  # 0: one reading, the rates stay unknown (`-`, null)
        import time

        for hs, paths in walks:
            sampler.sample(hs.name, paths)
        time.sleep(interval)
    figs = {hs.name: sampler.sample(hs.name, paths) for hs, paths in walks}
    rows = []
    for hs, paths in walks:
        rec = hs.recursive_counts(threads=False)
        if order is not None:
            got = figs[hs.name]
            paths = sorted(paths, key=lambda p: (-sort_value(order, rec.get(p), got.get(p)), p))
        for p in paths:
            rows.append({"hierarchy": hs.name, "path": p, **as_json(rec.get(p), figs[hs.name].get(p))})
    if args.json:
        _print_json(rows)
        return EXIT_OK
    sys.stdout.write("\n".join(stats_lines(rows)) + "\n")
    return EXIT_OK


def cmd_tasks(args: argparse.Namespace) -> int:
    backend = _backend(args)
    h, path = _resolve(backend, args.cgroup)
    snap = backend.snapshot([h.name], subtree=path)
    _still_there(snap, h, path)
    pids = list(snap[h.name].members(path, threads=args.threads))
    details = backend.task_details(pids)
    rows: list[dict[str, Any]] = []  # JSON objects
    for pid in pids:
        t = details.get(pid)
        rows.append({
            "pid": pid,
            "tgid": t.tgid if t else None,
            "user": (t.user if t.user is not None else str(t.uid)) if t else None,
            "state": t.state if t else None,
            "comm": t.comm if t else None,
            "threads": t.threads if t else None,
            "cmdline": t.cmdline if t else None,
        })
    if args.json:
        _print_json(rows)
        return EXIT_OK
    print("\n".join(tasks_lines(rows)))
    return EXIT_OK


def _check_pid_words(words: Sequence[str], pid_max: int) -> None:
    """Bad PID text is bad usage: exit 2 naming the culprit, before anything moves.
    `pid_max`: the backend's (PIDs are its system's)."""
    from ctrtui.engine.parse import PidParseError, parse_pid

    for w in words:
        try:
            parse_pid(w, pid_max)
        except PidParseError as e:
            raise UsageError(str(e)) from None


def cmd_move(args: argparse.Namespace) -> int:
    backend = _backend(args)
    _check_pid_words(args.pids, backend.pid_max)
    h, path = _resolve(backend, args.target)
    engine = _engine(args, backend)
    with _stop_on_signals(engine) as stop:  # from here on, SIGINT/SIGTERM stop the batch between two PIDs
        return _move(args, engine, h, path, stop)


def _move(args: argparse.Namespace, engine: AttachEngine, h: Hierarchy, path: str, stop: _stop_on_signals) -> int:
    from ctrtui.model import CgroupRef
    from ctrtui.report import plan_rows, risk_line, row_line

    target = CgroupRef(h.name, path)
    plan = engine.plan(args.pids, target, threads=args.threads)
    risks = _risks(engine, plan)
    if args.dry_run:
        for risk in risks:
            print(risk_line(risk), file=sys.stderr)
        rows = plan_rows(plan, risks)
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(row_line(r))
        return EXIT_OK if plan.ok else EXIT_NOT_ALL
    report = engine.apply(plan, all_or_nothing=args.all_or_nothing)
    stop.restore()  # the batch is closed in the journal: a signal may end the process while it prints
    return _print_report(report, args.json, risks)


def _risks(engine: AttachEngine, plan: Plan) -> list[str]:
    """What the terminal UI would ask about before applying `plan` (`ctrtui.engine.risk`):
    PID 1, kernel threads, many tasks, systemd units, a v1 hierarchy, a split process. The
    command line never asks (a script must not hang): it prints them with the report, on
    stderr, and `--json` carries them in each row's `risks`."""
    if not plan.accepted:
        return []  # nothing would move: nothing is at risk
    from ctrtui.engine.risk import assess
    from ctrtui.report import describe_error

    backend = engine.backend
    try:
        # every hierarchy, only from the target down: what assess reads (the target's
        # hierarchy, the others' names and whether the target path exists in them)
        snapshot = backend.snapshot(subtree=plan.target.path)
        return assess(plan, snapshot, backend)
    except Exception as exc:  # noqa: BLE001 - assessing must not stop a move; say so instead
        return [f"Could not check this move for risks ({describe_error(exc)})."]


class _stop_on_signals:
    """While a batch runs, SIGINT and SIGTERM ask the engine to stop before its next PID
    (the batch is then reported, recorded as interrupted, and the exit status is 1).
    `restore` (called once the batch's close record is written, before its report is
    printed) gives both signals their handlers back: a report blocked on a full pipe must
    not make the process deaf to them."""

    def __init__(self, engine: AttachEngine) -> None:
        self.engine = engine
        self.saved: dict[int, Any] = {}  # signal -> its handler before (what signal.signal returned)

    def __enter__(self) -> _stop_on_signals:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.saved[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                pass
        return self

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        import signal

        self.engine.request_stop(signal.Signals(signum).name)

    def restore(self) -> None:
        import signal

        while self.saved:
            sig, old = self.saved.popitem()
            signal.signal(sig, old)

    def __exit__(self, *exc: object) -> None:
        self.restore()


def _print_warnings(warnings: Sequence[str]) -> None:
    """Warnings of a batch or of the engine (a torn journal line forgiven, a journal that could
    not be written, a hook plugin not loaded) go to stderr, in text and JSON mode alike."""
    for w in dict.fromkeys(warnings):
        print(f"ctrtui: warning: {scrub(w)}", file=sys.stderr)


def _print_report(report: Report, as_json: bool, risks: Sequence[str] = ()) -> int:
    from ctrtui.report import batch_line, report_rows, risk_line, row_line

    _print_warnings(report.warnings)
    for risk in risks:
        print(risk_line(risk), file=sys.stderr)
    rows = report_rows(report, risks)
    if as_json:
        _print_json(rows)
    else:
        for r in rows:
            print(row_line(r))
        print(batch_line(report), file=sys.stderr)
    return EXIT_OK if report.ok and not report.interrupted else EXIT_NOT_ALL


def cmd_undo(args: argparse.Namespace) -> int:
    backend = _backend(args)
    engine = _engine(args, backend)
    with _stop_on_signals(engine) as stop:
        return _undo(args, engine, stop)


def _undo(args: argparse.Namespace, engine: AttachEngine, stop: _stop_on_signals) -> int:
    from ctrtui.engine.ops import OpResult, undo_any

    report = undo_any(engine, args.batch)
    stop.restore()  # closed in the journal: the report below may block on a full pipe
    if isinstance(report, OpResult):
        from ctrtui.cliops import print_op

        return print_op(report, args.json)
    if report is None:
        msg = f"nothing to undo: {engine.nothing_left}"
        if args.json:
            _print_json([])
        _print_warnings(engine.warnings + engine.journal.warnings)
        print(f"ctrtui: {scrub(msg)}", file=sys.stderr)
        return EXIT_NOT_ALL
    return _print_report(report, args.json)


def check_limit(limit: int) -> None:
    """`log --limit N`, or UsageError."""
    if limit < 0:
        raise UsageError(f"--limit must be 0 (all) or a positive number, not {limit}")


def cmd_log(args: argparse.Namespace) -> int:
    from ctrtui.engine import Journal, default_journal_path

    check_limit(args.limit)
    from ctrtui.sources import identity_of

    journal = Journal(args.journal or default_journal_path(identity_of(_spec(args))))
    batches = journal.batches(args.limit or None)
    _print_warnings(journal.warnings)
    rows = [{**b.as_dict(), "writer_pid": None} for b in batches]
    if rows and rows[0]["state"] == "open" and journal.path is not None:
        # the newest batch, open while a writer holds the lock, is that writer's: at work, not cut by a crash
        from ctrtui.engine.journal import lock_holder

        holder = lock_holder(journal.path)
        if holder is not None:
            rows[0]["state"], rows[0]["writer_pid"] = "running", holder or None
    if args.json:
        _print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"the journal {display(journal.path)} has no batch", file=sys.stderr)
        return EXIT_OK
    from ctrtui.report import log_lines

    for line in log_lines(rows):
        print(line)
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    if args.host or args.hosts:
        from ctrtui.clihosts import tui_hosts

        hosts = tui_hosts(args)
        if hosts is not None:
            return _tui_hosts(args, *hosts)
    backend = _backend(args)
    engine = _engine(args, backend, broken_ok=True)
    from ctrtui.ui.app import run

    # the backend says whether it may write (ui.app asks it: ctrtui.sources.read_only_reason)
    hierarchy, cgroup = _start(args, backend)
    run(backend, engine, interval=args.interval, read_only=args.read_only, hierarchy=hierarchy, cgroup=cgroup)
    return EXIT_OK


def _tui_hosts(args: argparse.Namespace, specs: Sequence[Any], options: Any, jobs: int) -> int:
    """The terminal UI on several hosts (ctrtui/ui/hostfeed.py): each is reached in the
    background, the first to answer is shown; `local` among them is this machine, as without
    --host. `--cgroup` names one machine's cgroup: with hosts, `--hierarchy` only."""
    if getattr(args, "start_cgroup", None):
        raise UsageError("--cgroup names a cgroup of one machine; with --host give --hierarchy NAME (each host "
                         "opens on it when it has it)")
    local = None
    if any(s.name == "local" for s in specs):
        backend = _backend(args)
        local = (backend, _engine(args, backend, broken_ok=True))
    from ctrtui.ui.app import run_hosts

    run_hosts(specs, options, jobs=jobs, local=local, interval=args.interval, read_only=args.read_only,
              hierarchy=getattr(args, "hierarchy", None))
    return EXIT_OK


def _start(args: argparse.Namespace, backend: Backend) -> tuple[str | None, str | None]:
    """(hierarchy, cgroup path) the TUI opens on from `--hierarchy` / `--cgroup`; a
    UsageError (exit 2) names an unknown hierarchy or cgroup."""
    from ctrtui.model import find_hierarchy

    if getattr(args, "start_cgroup", None):
        h, path = _resolve(backend, args.start_cgroup)
        asked = find_hierarchy(backend.hierarchies(), args.hierarchy) if args.hierarchy else None
        if args.hierarchy and (asked is None or asked.name != h.name):
            raise UsageError(f"--hierarchy {display(args.hierarchy)} and --cgroup {display(args.start_cgroup)} "
                             "name different hierarchies; give one of them")
        return h.name, path
    if getattr(args, "hierarchy", None):
        hiers = backend.hierarchies()
        found = find_hierarchy(hiers, args.hierarchy)
        if found is None:
            known = ", ".join(display(x.name) for x in hiers) or "none are mounted"
            raise UsageError(f"unknown hierarchy '{display(args.hierarchy)}'; known hierarchies: {known}")
        return found.name, None
    return None, None


COMMANDS = {
    None: cmd_tui, "hierarchies": cmd_hierarchies, "ls": cmd_ls, "tasks": cmd_tasks,
    "move": cmd_move, "undo": cmd_undo, "log": cmd_log,
}


def _cmd_op(args: argparse.Namespace) -> int:
    from ctrtui.cliops import cmd_op

    return cmd_op(args)


COMMANDS.update(dict.fromkeys(("mkdir", "rmdir", "freeze", "thaw"), _cmd_op))


def _cmd_history(args: argparse.Namespace) -> int:
    from ctrtui.clihistory import COMMANDS as history

    return history[args.command](args)


COMMANDS.update(dict.fromkeys(("record", "where", "diff"), _cmd_history))


# ----------------------------------------------------------------------------- output errors


class _Guarded:
    """Stands in for sys.stdout / sys.stderr while a subcommand runs: the first write or flush
    that fails (EPIPE: the reader left; ENOSPC: /dev/full; EBADF: fd 1 closed; EIO) is
    remembered and every later write is dropped, so the command runs to its end and its exit
    status still reports what it did (a move's outcomes are decided before its report is
    printed). `main` then says so in one line and picks the exit status."""

    def __init__(self, stream: TextIO | _ClosedStream) -> None:
        self.stream = stream
        self.error: OSError | None = None

    def write(self, text: str) -> int:
        if self.error is None and text:
            try:
                return self.stream.write(text)
            except OSError as e:
                self.error = e
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self.stream.flush()
            except OSError as e:
                self.error = e

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _ClosedStream:
    """sys.stdout when fd 1 was closed at start (`ctrtui ls >&-`: Python sets sys.stdout to
    None): every write fails with EBADF."""

    def write(self, text: str) -> int:
        import errno

        raise OSError(errno.EBADF, "stdout is closed")

    def flush(self) -> None:
        pass


def _reserve_fd(fd: int) -> bool:
    """When `fd` (1 or 2) is closed, put /dev/null there, so that no file opened later (a
    cgroup file, the journal) gets that number and receives output meant for the terminal.
    True when it was closed."""
    try:
        os.fstat(fd)
        return False
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        return True


def _silence_stdout() -> None:
    """After stdout failed: point fd 1 at /dev/null, so the interpreter's own flush of what
    is still buffered succeeds at exit instead of printing `Exception ignored ... BrokenPipeError`
    (what the Python documentation recommends for SIGPIPE)."""
    stdout = sys.__stdout__
    if stdout is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout.fileno())
        os.close(null)
    except (OSError, AttributeError, ValueError):
        pass


def _output_failed(err: OSError) -> str:
    from ctrtui.errors import os_error_text

    return (f"ctrtui: could not write the output to stdout: {os_error_text(err)}; what was printed is "
            "incomplete (check that stdout is open, has room and is read to the end)")


def _run_guarded(command: Command, args: argparse.Namespace) -> int:
    """Run a subcommand with stdout and stderr guarded (see `_Guarded`); the exit status:

    - the command's own status (0, 1 when any PID did not end in the target, 2 bad usage);
    - EPIPE on stdout (`ctrtui ls | head -1`: the reader had enough): nothing more is said,
      the command's own status stands, as for other Unix tools that stop quietly on a closed pipe;
    - any other failure to write stdout (ENOSPC, EBADF, EIO): one line on stderr naming the
      errno, and at least 1 (a read command whose output was lost did not do its job).
    A failure to write stderr is dropped (there is nowhere left to say it)."""
    import errno

    fd1_closed, fd2_closed = _reserve_fd(1), _reserve_fd(2)
    real_out, real_err = sys.stdout, sys.stderr
    out = _Guarded(_ClosedStream() if real_out is None or fd1_closed else real_out)
    err = _Guarded(_ClosedStream() if real_err is None or fd2_closed else real_err)
    sys.stdout, sys.stderr = out, err
    try:
        rc = _run_command(command, args)
        out.flush()
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    if out.error is None:
        return rc
    if real_out is not None and real_out is sys.__stdout__:
        _silence_stdout()
    if out.error.errno == errno.EPIPE:
        return rc
    err.write(_output_failed(out.error) + "\n")
    err.flush()
    return max(rc, EXIT_NOT_ALL)


def _run_command(command: Command, args: argparse.Namespace) -> int:
    from ctrtui.errors import CtrtuiError

    try:
        return command(args)
    except (UsageError, CtrtuiError) as e:
        print(f"ctrtui: {scrub(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except PermissionError as e:
        print(f"ctrtui: permission denied reading {display(e.filename) or 'a cgroup file'}: run as root, "
              "or ask for read access to the cgroup filesystem", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # before a batch started (during one, the engine stops between PIDs)
        print("ctrtui: interrupted", file=sys.stderr)
        return 130


_PRIOR_SIGINT: list[Any] = []
"""SIGINT's handler before `main` held it (restored when `main` returns: tests call main in-process)."""


def _interrupted_early(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C in a command of this machine outside a batch (while Python imports argparse or
    the backend, while it reads or prints; a batch holds SIGINT itself until its close record
    is written): nothing is left half-done that the journal does not cover, so ctrtui ends at
    once with the shell's status for an interrupt, 130, and prints nothing (no traceback, no
    `Exception ignored` from an import lock's callback)."""
    os._exit(130)


def _hold_interrupt() -> None:
    import signal

    try:
        prior = signal.signal(signal.SIGINT, _interrupted_early)
    except ValueError:  # not the main thread (a test calling main from a thread): leave it alone
        return
    if not _PRIOR_SIGINT:
        _PRIOR_SIGINT.append(prior)


def _release_interrupt() -> None:
    """Ctrl-C raises KeyboardInterrupt again (Python's own handler): for the terminal UI
    (whose terminal must be restored) and the hosts' commands (whose ssh sessions close)."""
    import signal

    if _PRIOR_SIGINT:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:
            pass


def _restore_interrupt() -> None:
    import signal

    if _PRIOR_SIGINT:
        try:
            signal.signal(signal.SIGINT, _PRIOR_SIGINT.pop())
        except ValueError:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    _hold_interrupt()  # first of all: a Ctrl-C while the imports below run must not print a traceback
    try:
        return _main(argv)
    finally:
        _restore_interrupt()


def _main(argv: Sequence[str] | None) -> int:
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (ctrtui/completion.py)
        from ctrtui.completion import complete

        complete(build_parser())
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(words)
    if not args.interval > 0:  # also NaN
        print("ctrtui: --interval must be a positive number of seconds", file=sys.stderr)
        return EXIT_USAGE
    args.host = [*(args.host or ()), *(getattr(args, "host_after", None) or ())]
    if args.sudo and not (args.host or args.hosts):
        print("ctrtui: --sudo applies to remote hosts (--host); to act as root on this machine, run ctrtui "
              "itself with sudo", file=sys.stderr)
        return EXIT_USAGE
    if args.command is None:  # the terminal UI owns the terminal: no guard
        _release_interrupt()
        return _run_command(cmd_tui, args)
    if args.host or args.hosts:  # the hosts decide (ctrtui.clihosts), `local` alone included
        _release_interrupt()
        return _run_guarded(_cmd_hosts, args)
    return _run_guarded(COMMANDS[args.command], args)


def _cmd_hosts(args: argparse.Namespace) -> int:
    from ctrtui.clihosts import cmd_hosts

    return cmd_hosts(args, COMMANDS[args.command])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
