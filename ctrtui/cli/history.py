"""The command line's history commands: `record`, `where`, `diff`, `ls`/`tasks --at`, and
the options and recording of `replay` (`open_replay`; the UI is started by ctrtui/main.py)
(ctrtui/history does the work; this module parses and prints; the recorded world of
`--at` is opened in ctrtui/cli/common.py)."""

from __future__ import annotations

import sys

from ctrtui.cli import common
from ctrtui.cli.common import EXIT_OK, UsageError, print_json, print_warnings, recording_of, resolve
from ctrtui.cli.listing import where_lines
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from ctrtui.history.replay import RecordedBackend
    from ctrtui.service.protocol import Service


__all__ = ["COMMANDS", "define", "open_replay", "parse_size"]

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _history_from(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", metavar="FILE|DIR", dest="history_from",
                        help="the recording to read (default: the one `ctrtui record` writes)")


def define(parser: argparse.ArgumentParser) -> None:
    name = parser.prog.split()[-1]
    if name == "record":
        parser.add_argument("--to", metavar="DIR", dest="history_to",
                            help="the recording directory (default $XDG_STATE_HOME/ctrtui/history)")
        parser.add_argument("--interval", type=float, default=5.0, metavar="SECONDS", dest="record_interval",
                            help="seconds between samples (default 5)")
        parser.add_argument("--max-size", default="1G", metavar="SIZE", dest="max_size",
                            help="keep at most SIZE bytes (K, M, G suffixes; default 1G): the oldest go first")
        parser.add_argument("--full-every", type=int, default=60, metavar="N", dest="full_every",
                            help="a full snapshot every N samples, deltas in between (default 60)")
        parser.add_argument("--stats-every", type=int, default=60, metavar="N", dest="stats_every",
                            help="the cgroups' figures (those of `ls --stats`) every N samples (default 60: "
                                 "5 minutes at 5 s; 0: none). Each reads every cgroup's stats files, 10-100 us "
                                 "a cgroup: under 0.1 %% of a core at 60 up to ~3,000 cgroups; 10,000 want 200")
        parser.add_argument("--hierarchy", action="append", metavar="NAME", dest="record_hierarchy",
                            help="record only this hierarchy (repeatable)")
        parser.add_argument("--cgroup", metavar="HIERARCHY:/path", dest="record_cgroup",
                            help="record only this cgroup and those below it")
        parser.add_argument("--samples", type=int, metavar="N", help="stop after N samples")
    elif name == "replay":
        import argparse

        parser.add_argument("replay_place", nargs="?", metavar="FILE|DIR",
                            help="the recording to replay (default: the one `ctrtui record` writes)")
        _history_from(parser)
        parser.add_argument("--at", metavar="TIME", help="open at TIME (ISO 8601, HH:MM[:SS] today, -5m, "
                            "'3m ago', or a batch id; default: the last sample)")
        parser.add_argument("--hierarchy", metavar="NAME", default=argparse.SUPPRESS,
                            help="open on this hierarchy")
    elif name == "where":
        parser.add_argument("pid", metavar="PID")
        parser.add_argument("--since", metavar="TIME")
        parser.add_argument("--until", metavar="TIME")
        _history_from(parser)
    else:
        parser.add_argument("t1", metavar="T1")
        parser.add_argument("t2", metavar="T2")
        _history_from(parser)


def parse_size(text: str) -> int:
    t = text.strip().lower().rstrip("ib").rstrip("b") if text.strip().lower().endswith(("ib", "b")) else \
        text.strip().lower()
    unit = t[-1:] if t[-1:] in _SIZE_UNITS and not t[-1:].isdigit() else ""
    digits = t[:-1] if unit else t
    if not digits.isdigit() or len(digits) > 15:
        raise UsageError(f"--max-size {display(text)}: give a size in bytes, with K, M or G (1G, 500M)")
    size = int(digits) * _SIZE_UNITS[unit]
    if size < 64 * 1024:
        raise UsageError(f"--max-size {display(text)}: give at least 64K")
    return size


def cmd_record(args: argparse.Namespace) -> int:
    from ctrtui.history import default_history_dir
    from ctrtui.history.run import record

    interval = args.record_interval
    if not (interval == interval and 0.05 <= interval <= 86400):
        raise UsageError(f"--interval {interval}: give seconds between 0.05 and 86400")
    if args.full_every < 1:
        raise UsageError("--full-every must be at least 1")
    if not 0 <= args.stats_every <= 1_000_000:
        raise UsageError(f"--stats-every {args.stats_every}: give a number of samples (0: no figures)")
    if args.samples is not None and args.samples < 1:
        raise UsageError("--samples must be at least 1")
    max_size = parse_size(args.max_size)
    given: Service | None = getattr(args, "service", None)
    local = common.service_of(args) if given is None else None
    service: Service = given or local  # type: ignore[assignment]  # one of them is there
    names: list[str] | None = None
    subtree = None
    if args.record_cgroup:
        h, subtree = resolve(service, args.record_cgroup)
        names = [h.name]
    elif args.record_hierarchy:
        names = []
        for word in args.record_hierarchy:
            h, _ = resolve(service, word)
            names.append(h.name)
    if local is None:  # --host: the recorder runs on the host, inside its agent
        from ctrtui.cli.recordhost import record_on_host

        return record_on_host(service, args, max_size, names, subtree)
    backend = local.backend
    directory = args.history_to or default_history_dir(backend.identity)
    journal = local.journal_file
    print(f"ctrtui: recording into {display(directory)} every {interval:g} s; stop with Ctrl-C or SIGTERM",
          file=sys.stderr)
    rec = record(backend, directory, interval, max_size, args.full_every, names, subtree, journal,
                 samples=args.samples, say=lambda w: print(f"ctrtui: warning: {w}", file=sys.stderr),
                 stats_every=args.stats_every)
    if args.json:
        print_json({"directory": directory, "samples": rec.samples, "bytes": rec.bytes_written})
    else:
        print(f"recorded {rec.samples} samples ({rec.bytes_written} bytes) into {display(directory)}")
    return EXIT_OK


def cmd_where(args: argparse.Namespace) -> int:
    from ctrtui.history.query import parse_time

    if not args.pid.isdigit() or not 0 < int(args.pid) <= 4194304:
        raise UsageError(f"PID {display(args.pid)}: give a number between 1 and 4194304")
    pid = int(args.pid)
    given: Service | None = getattr(args, "service", None)
    if given is not None:  # --host: the host's recording, TIMEs read there
        rows = given.history_where(pid, args.since, args.until, args.history_from)
        print_warnings(given.history_warnings())  # what reading its recording passed over
    else:
        rec = recording_of(args)
        since = parse_time(args.since, rec) if args.since else None
        until = parse_time(args.until, rec) if args.until else None
        rows = rec.where(pid, since, until)
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print(f"PID {pid} is not in the recording in that time")
        return EXIT_OK
    print("\n".join(where_lines(rows)))
    return EXIT_OK


def open_replay(args: argparse.Namespace) -> tuple[RecordedBackend, str | None]:
    """`ctrtui replay`: the recording of `recording_place` at `--at` (default its last sample)
    and the hierarchy of `--hierarchy` to open on (None: the UI's rule). A UsageError or
    HistoryError (one sentence) when either is not there; the UI itself is started by the
    caller (ctrtui/main.py: the command line sits below the UI). With `--host`: the host's
    recording (`--from`/FILE|DIR a place there), read there (`ServedRecording`), whose `close`
    closes the connection; HostError when the host cannot be used."""
    from ctrtui.history.query import parse_time
    from ctrtui.history.replay import RecordedBackend
    from ctrtui.model import find_hierarchy

    if args.replay_place:
        args.history_from = args.replay_place
    recorded: RecordedBackend
    if getattr(args, "host", None) or getattr(args, "hosts", None):  # a host's recording, read there
        from ctrtui.cli.hosts import open_channel
        from ctrtui.remote.service import RemoteService
        from ctrtui.service.servedrecording import ServedRecording

        channel = open_channel(args)
        try:
            recorded = ServedRecording(RemoteService(channel), args.history_from, at=args.at,
                                       identity=f"ssh://{channel.name}", closer=channel.close)
        except BaseException:
            channel.close()
            raise
    else:
        rec = recording_of(args)
        recorded = RecordedBackend(rec, parse_time(args.at, rec) if args.at else None)
    word = getattr(args, "hierarchy", None)
    if not word:
        return recorded, None
    hiers = recorded.hierarchies()
    found = find_hierarchy(hiers, word)
    if found is None:
        close = getattr(recorded, "close", None)  # a host's: its connection
        if close is not None:
            close()
        known = ", ".join(display(h.name) for h in hiers) or "none"
        raise UsageError(f"the recording holds no hierarchy '{display(word)}' at that time; it holds: {known}")
    return recorded, found.name


def cmd_diff(args: argparse.Namespace) -> int:
    from ctrtui.history.query import diff_rows, parse_time

    given: Service | None = getattr(args, "service", None)
    if given is not None:  # --host: the host's recording, TIMEs read there
        rows = given.history_diff(args.t1, args.t2, args.history_from)
        print_warnings(given.history_warnings())
    else:
        rec = recording_of(args)
        rows = diff_rows(rec, parse_time(args.t1, rec), parse_time(args.t2, rec))
    if args.json:
        print_json(rows)
        return EXIT_OK
    for r in rows:
        if "pid" in r and "from" in r:
            line = f"{r['change']:<15} {r['hierarchy']}: {r['pid']} {r['from']} -> {r['to']}"
        elif "pid" in r:
            line = f"{r['change']:<15} {r['hierarchy']}: {r['pid']} {r['cgroup']}"
        elif "cgroup" in r:
            line = f"{r['change']:<15} {r['hierarchy']}:{r['cgroup']}"
        else:
            line = f"{r['change']:<15} {r['hierarchy']}"
        print(display(line))
    if not rows:
        print("no change")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "record": cmd_record, "where": cmd_where, "diff": cmd_diff}
