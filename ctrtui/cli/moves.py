"""The commands that move tasks and read back what moved: `ctrtui move`, `undo` and `log`.

A batch runs with SIGINT/SIGTERM turned into a stop between two PIDs (`StopOnSignals`); its
report is printed after the journal closed it. Exit codes: 0 all done, 1 any PID (or the
undo) not done, 2 bad usage.
"""

from __future__ import annotations

import sys

from ctrtui.cli import common
from ctrtui.cli.common import (
    EXIT_NOT_ALL,
    EXIT_OK,
    StopOnSignals,
    UsageError,
    display,
    print_json,
    print_warnings,
    resolve,
    scrub,
)

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ctrtui.engine.values import Report
    from ctrtui.model import Hierarchy
    from ctrtui.service.protocol import Service

__all__ = ["check_limit", "check_pid_words", "check_route_words", "cmd_log", "cmd_move", "cmd_undo", "print_report"]


def check_pid_words(words: Sequence[str], pid_max: int) -> None:
    """Bad PID text is bad usage: exit 2 naming the culprit, before anything moves.
    `pid_max`: the backend's (PIDs are its system's)."""
    from ctrtui.engine.parse import PidParseError, parse_pid

    for w in words:
        try:
            parse_pid(w, pid_max)
        except PidParseError as e:
            raise UsageError(str(e)) from None


def check_route_words(args: argparse.Namespace) -> None:
    """What goes with `move --to` and what with `move --scope` (UsageError): made here and,
    before any host is contacted, by `--host` (ctrtui/cli/hosts.py)."""
    if getattr(args, "scope", None) is None:
        if getattr(args, "slice", None) is not None or getattr(args, "properties", None):
            raise UsageError("--slice and -p/--property go with --scope NAME (a new transient scope)")
    elif args.threads or getattr(args, "via", "auto") != "auto":
        raise UsageError("--scope moves whole processes through systemd: drop --threads and --via")


def cmd_move(args: argparse.Namespace) -> int:
    service = common.command_service(args)
    check_pid_words(args.pids, service.pid_max)
    check_route_words(args)
    if getattr(args, "scope", None) is None:
        h, path = resolve(service, args.target)
    else:
        h, path = None, ""
    service.prepare_writes()  # a policy that cannot be read is said before anything moves
    with StopOnSignals(service) as stop:  # from here on, SIGINT/SIGTERM stop the batch between two PIDs
        return _move(args, service, h, path, stop)


def _move(args: argparse.Namespace, service: Service, h: Hierarchy | None, path: str, stop: StopOnSignals) -> int:
    """The plan, its risks (`Service.risks`: the command line never asks, a script must not
    hang; it prints them with the report, on stderr, and `--json` carries them in each row's
    `risks`), then the report, or the plan alone with `--dry-run`."""
    from ctrtui.model import CgroupRef
    from ctrtui.report import plan_rows, risk_line, row_line

    if h is None:  # --scope NAME: a new transient scope (what systemd would refuse first: one sentence)
        from ctrtui.engine.values import ScopeRequest
        from ctrtui.errors import CtrtuiError

        try:
            plan = service.plan_scope(args.pids, ScopeRequest(args.scope, args.slice, tuple(args.properties)))
        except CtrtuiError as e:
            raise UsageError(str(e)) from None
    else:
        plan = service.plan(args.pids, CgroupRef(h.name, path), threads=args.threads, via=getattr(args, "via", "auto"))
    risks = service.risks(plan)
    if args.dry_run:
        for risk in risks:
            print(risk_line(risk), file=sys.stderr)
        rows = plan_rows(plan, risks)
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                print(row_line(r))
        return EXIT_OK if plan.ok else EXIT_NOT_ALL
    report = service.apply(plan, all_or_nothing=args.all_or_nothing)
    stop.restore()  # the batch is closed in the journal: a signal may end the process while it prints
    return print_report(report, args.json, risks)


def print_report(report: Report, as_json: bool, risks: Sequence[str] = ()) -> int:
    from ctrtui.report import batch_line, report_rows, risk_line, row_line

    print_warnings(report.warnings)
    for risk in risks:
        print(risk_line(risk), file=sys.stderr)
    rows = report_rows(report, risks)
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            print(row_line(r))
        print(batch_line(report), file=sys.stderr)
    return EXIT_OK if report.ok and not report.interrupted else EXIT_NOT_ALL


def cmd_undo(args: argparse.Namespace) -> int:
    service = common.command_service(args, writes=True)
    with StopOnSignals(service) as stop:
        undone = service.undo(args.batch)
        stop.restore()  # closed in the journal: the report below may block on a full pipe
    if undone.op is not None:
        from ctrtui.cli.cgroups import print_op

        return print_op(undone.op, args.json)
    if undone.report is None:
        msg = f"nothing to undo: {undone.nothing_left}"
        if args.json:
            print_json([])
        print_warnings(undone.warnings)
        print(f"ctrtui: {scrub(msg)}", file=sys.stderr)
        return EXIT_NOT_ALL
    return print_report(undone.report, args.json)


def check_limit(limit: int) -> None:
    """`log --limit N`, or UsageError."""
    if limit < 0:
        raise UsageError(f"--limit must be 0 (all) or a positive number, not {limit}")


def cmd_log(args: argparse.Namespace) -> int:
    check_limit(args.limit)
    log = common.command_service(args).log(args.limit or None)
    print_warnings(log.warnings)
    rows = log.rows()
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"the journal {display(log.path)} has no batch", file=sys.stderr)
        return EXIT_OK
    from ctrtui.report import log_lines

    for line in log_lines(rows):
        print(line)
    return EXIT_OK