"""The command line across hosts: `ctrtui COMMAND --host H [--host H2 ...] [--hosts FILE]`.

The command runs here, the same command code as without --host, once per host against that
host's `RemoteService` (ctrtui/remote/service.py): it reads through the host's agent, and the
host's engine, pidfd guard, policy and journal plan, move, undo and record there; the wording
is this machine's, so one host's output is what the command prints locally. What is typed is
checked here first with the same code the local command line uses (a bad PID word or cgroup
is refused at once, exit 2, before any host is contacted); each host's values come back
checked by the codec (ctrtui/service/codec.py) and are escaped where they are printed.

Output (docs/hosts.md):
- one host: what the command prints, stdout to stdout and stderr to stderr, and its exit code;
- several hosts: the listings (hierarchies, ls, ls --stats, tasks, log) are one table with a
  first column HOST (each host's run prints JSON, kept apart per host by
  ctrtui/cli/capture.py, and the table is drawn from every host's rows, so the columns line
  up across hosts); sentences (mkdir, rmdir, freeze, thaw, and every host's stderr) are
  prefixed `HOST: `; `--json` prints one array: each item of each host's list, or its one
  object, with a `host` field first, and `{"host": H, "error": {...}}` for a host that could
  not be used, in the order the hosts were given;
- a host that could not be used: `HOST: <sentence> (<hint>)` on stderr.
Exit code: 3 (EXIT_HOST) when any host could not be used, else the highest exit code of the
hosts (2 a host found the input wrong, 1 something was refused, 0 all done).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import NamedTuple

from ctrtui.cli.common import HOST_JOBS, HOST_TIMEOUT, UsageError, cgroup_ref, display, print_json, scrub
from ctrtui.cli.listing import (
    check_sample,
    check_sort,
    hierarchies_lines,
    ls_lines,
    stats_lines,
    tasks_lines,
    where_lines,
)
from ctrtui.cli.moves import check_limit, check_pid_words, check_route_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.connect import ConnectOptions
    from ctrtui.remote.errors import HostError
    from ctrtui.remote.fleet import Connect
    from ctrtui.remote.ssh import HostSpec

PID_MAX_LIMIT = 4 * 1024 * 1024
"""The largest pid_max of any Linux (PIDs below it): PID words are checked against it here;
the host checks them against its own pid_max."""

CONNECT: Connect | None = None
"""How hosts are reached (None: ctrtui.remote.fleet's default: ssh, or this machine for
`local`). Tests put a fake here."""

OPS = ("mkdir", "rmdir", "freeze", "thaw")
SINGLE_HOST = ("move", "undo", "record")
HISTORY = ("where", "diff")
"""The history questions a host's recording answers (`ls`/`tasks --at` too; `replay --host`:
ctrtui/cli/history.py `open_replay`)."""


def host_specs(args: argparse.Namespace) -> list[HostSpec]:
    """The hosts of `--host` (in the order given) then of `--hosts FILE`, each once;
    UsageError (one sentence) for a word that is not a host or a file that cannot be read."""
    from ctrtui.remote.ssh import parse_host, read_hosts_file

    specs: list[HostSpec] = []
    for word in args.host or ():
        try:
            specs.append(parse_host(word))
        except ValueError as e:
            raise UsageError(f"--host: {e}") from None
    if args.hosts:
        try:
            specs.extend(read_hosts_file(args.hosts))
        except ValueError as e:
            raise UsageError(f"--hosts {e}") from None
    once: dict[str, HostSpec] = {}
    for s in specs:
        once.setdefault(s.name, s)  # the first of each name, in order
    return list(once.values())


def connect_options(args: argparse.Namespace) -> ConnectOptions:
    """How to reach the hosts, from `--sudo`, `--remote-python`, `--ssh-config`, `--timeout`
    (checked: UsageError)."""
    import os

    from ctrtui.remote.connect import ConnectOptions

    timeout = HOST_TIMEOUT if args.timeout is None else args.timeout
    if not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise UsageError(f"--timeout {timeout}: give the seconds to wait for a host, more than 0 and at most 3600")
    python = args.remote_python or "python3"
    config = args.ssh_config or os.environ.get("CTRTUI_SSH_CONFIG") or None
    try:
        return ConnectOptions(sudo=bool(args.sudo), python=python, timeout=timeout, ssh_config=config)
    except ValueError as e:
        raise UsageError(f"--remote-python {display(python)}: {e}") from None


def _jobs(args: argparse.Namespace) -> int:
    jobs = HOST_JOBS if args.jobs is None else args.jobs
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: give how many hosts to contact at once, at least 1")
    return int(jobs)


class HostOutput(NamedTuple):
    """What the command printed for one host, and its exit status."""

    exit: int
    stdout: str
    stderr: str


def check_words(args: argparse.Namespace) -> None:
    """The checks the local command line makes of what `args.command` was given, made before
    any host is contacted (UsageError, exit 2); each host's own (its pid_max, its cgroups)
    come when the command runs against it."""
    command = args.command
    if command == "ls":
        if args.cgroup is not None:
            cgroup_ref(args.cgroup)
        if args.stats:
            check_sample(args.stats_interval)
        if args.stats_sort is not None:
            check_sort(args.stats_sort)
    elif command == "tasks":
        cgroup_ref(args.cgroup)
    elif command == "move":
        check_pid_words(args.pids, PID_MAX_LIMIT)
        check_route_words(args)
        if args.scope is None:  # --scope NAME: its name, slice and properties are the host's engine's to judge
            cgroup_ref(args.target)
    elif command == "log":
        check_limit(args.limit)
    elif command in OPS:
        if command == "mkdir":
            from ctrtui.cli.cgroups import new_cgroup_ref

            new_cgroup_ref(args.cgroup)
        else:
            cgroup_ref(args.cgroup)
    elif command == "where":
        if not args.pid.isdigit() or not 0 < int(args.pid) <= PID_MAX_LIMIT:
            raise UsageError(f"PID {display(args.pid)}: give a number between 1 and {PID_MAX_LIMIT}")
    elif command == "record":
        if args.history_to == "":
            raise UsageError("--to: give a directory on the host, or leave it out")
    elif command not in ("hierarchies", "undo", "diff"):
        raise UsageError(f"`{command}` cannot run on remote hosts")


def _refuse_local_files(args: argparse.Namespace) -> None:
    for flag, value in (("--policy", args.policy), ("--journal", args.journal)):
        if value:
            raise UsageError(f"{flag} names a file on this machine; on remote hosts each host uses its own "
                             "policy and journal (in its XDG config and state dirs): leave out "
                             f"{flag}, or --host")
    if args.demo:
        raise UsageError("--demo is the simulated world of this machine and cannot be combined with remote hosts "
                         "(--host)")


def cmd_hosts(args: argparse.Namespace, local: Callable[[argparse.Namespace], int]) -> int:
    """`args.command` on the hosts of `--host`/`--hosts`: `local`, the command as it runs
    here, run here once per host against that host's `RemoteService` (alone when the only
    host is the word `local`)."""
    hosts = tui_hosts(args)
    if hosts is None:
        return local(args)
    specs, connect, jobs = hosts
    command = args.command
    if command == "record" and len(specs) > 1:
        raise UsageError("`record` takes one host: the recorder runs in the foreground of this command (run it "
                         "once per host, or keep it running on each host as a service: docs/history.md)")
    if command in SINGLE_HOST and len(specs) > 1:
        raise UsageError(f"`move` and `undo` take one host: a PID or a batch id means something different on "
                         f"each host (run `{command}` once per host)")
    check_words(args)
    if command == "record":  # in this thread: its signals stop it between samples (ctrtui/cli/recordhost.py)
        return _one_host(_in_this_thread(specs[0], connect, lambda channel: _run_on(channel, args, local)))
    extra = float(args.stats_interval) if command == "ls" and args.stats else 0.0
    from ctrtui.remote.fleet import each_host

    if len(specs) == 1:
        result = each_host(specs, lambda channel: _run_on(channel, args, local), connect, jobs=jobs, extra=extra,
                           connect=CONNECT)[0]
        return _one_host(result)
    from ctrtui.cli.capture import captured, per_thread_output

    table = _table_of(args) if not args.json else None
    mine = argparse.Namespace(**vars(args))
    if table is not None:
        mine.json = True  # drawn here, so the columns line up across hosts

    def output(channel: AgentChannel) -> HostOutput:
        return HostOutput(*captured(lambda: _run_on(channel, mine, local)))

    with per_thread_output():
        results = each_host(specs, output, connect, jobs=jobs, extra=extra, connect=CONNECT)
    return _many_hosts(args, specs, results, table)


def _run_on(channel: AgentChannel, args: argparse.Namespace, local: Callable[[argparse.Namespace], int]) -> int:
    """The command `local` run here against the host of `channel` (`RemoteService`: the
    host's engine, pidfds, policy and journal do the work there), after a note for each batch
    the host's journal holds open (the first contact after a dropped connection)."""
    from ctrtui.cli.guard import run_command
    from ctrtui.remote.service import RemoteService

    for line in channel.left_open():
        print(f"ctrtui: note: {line}", file=sys.stderr)
    on_host = argparse.Namespace(**vars(args))
    on_host.service = RemoteService(channel, journal=not getattr(args, "no_journal", False))
    return run_command(local, on_host)


def _in_this_thread(spec: HostSpec, options: ConnectOptions, work: Callable[[AgentChannel], int]) -> int | HostError:
    """`work` on the one host `spec`, in this thread (not a worker of `each_host`: no time
    limit on the work, and the signals reach it); the channel closed after it."""
    from ctrtui.remote.fleet import as_host_error, default_connect

    channel = None
    try:
        channel = (CONNECT or default_connect)(spec, options)
        return work(channel)
    except Exception as e:  # noqa: BLE001 - a failure of the host is its one line, never a traceback
        return as_host_error(spec.name, e)
    finally:
        if channel is not None:
            channel.close()


def open_channel(args: argparse.Namespace) -> AgentChannel:
    """The channel to the one host of `--host` (`replay --host`): UsageError for several,
    HostError when it cannot be reached."""
    from ctrtui.remote.fleet import default_connect

    hosts = tui_hosts(args)
    if hosts is None:
        raise UsageError("`local` is this machine: replay its recording without --host")
    specs, options, _ = hosts
    if len(specs) != 1:
        raise UsageError("replay takes one host: run it once per host")
    channel = (CONNECT or default_connect)(specs[0], options)
    for line in channel.left_open():
        print(f"ctrtui: note: {line}", file=sys.stderr)
    return channel


def tui_hosts(args: argparse.Namespace) -> tuple[list[HostSpec], ConnectOptions, int] | None:
    """The terminal UI's hosts: None when the only one is `local` (this machine, as without
    --host), else (the hosts, how to reach them, how many at once), checked as the
    subcommands check them (UsageError)."""
    from ctrtui.remote.fleet import LOCAL

    specs = host_specs(args)
    if [s.name for s in specs] == [LOCAL]:
        if args.sudo:
            raise UsageError("--sudo applies to remote hosts; to act as root on this machine, run ctrtui "
                             "itself with sudo")
        return None
    _refuse_local_files(args)
    return specs, connect_options(args), _jobs(args)


def _table_of(args: argparse.Namespace) -> Callable[[Sequence[dict[str, Any]]], list[str]] | None:
    """The text of a listing from its JSON rows, or None when the command's text is sentences."""
    command = args.command
    if command == "ls":
        return stats_lines if args.stats else ls_lines
    if command == "log":
        from ctrtui.report import log_lines

        return log_lines
    return {"hierarchies": hierarchies_lines, "tasks": tasks_lines, "where": where_lines}.get(command)


# ----------------------------------------------------------------------------- output


def _lines(text: str) -> list[str]:
    """A host's output as lines, each made safe to print (a host's text is hostile: it may
    hold any control character)."""
    lines = text.split("\n")  # only \n ends a line: \r, \x85, \u2028 and the like are shown escaped
    if lines[-1] == "":
        lines.pop()
    return [scrub(line) for line in lines]


def host_line(e: HostError) -> str:
    """`HOST: <sentence> (<hint>)`: one line for a host that could not be used."""
    line = f"{display(e.host)}: {scrub(e.message)}"
    hint = scrub(e.hint).rstrip(".")
    return line + (f" ({hint})" if hint else "")


def _one_host(result: int | HostError) -> int:
    """The exit status of the command on one host (its output is printed already), or the
    one line of a host that could not be used, and EXIT_HOST."""
    from ctrtui.remote.errors import EXIT_HOST, HostError

    if isinstance(result, HostError):
        print(host_line(result), file=sys.stderr)
        return EXIT_HOST
    return result


def _parse_json(spec: HostSpec, text: str) -> Any:
    """The JSON a host printed (None when it printed nothing), or a HostError: it must be a
    list of objects or an object, within ctrtui.remote.hostjson's bounds (depth, lists and
    objects, 64-bit numbers)."""
    from ctrtui.remote import hostjson
    from ctrtui.remote.errors import HostError

    if not text.strip():
        return None
    hint = "the host may run another ctrtui version"
    try:
        value = hostjson.loads(text)
    except ValueError as e:
        return HostError(spec.name, "protocol", f"the host printed something for --json that cannot be read: {e}",
                         hint)
    if isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
        return value
    return HostError(spec.name, "protocol", "the host's JSON was neither a list of objects nor an object", hint)


def _error_item(e: HostError) -> dict[str, Any]:
    return {"host": e.host, "error": {"kind": e.kind, "message": e.message, "hint": e.hint}}


def _many_hosts(args: argparse.Namespace, specs: Sequence[HostSpec], results: Sequence[Any],
                table: Callable[[Sequence[dict[str, Any]]], list[str]] | None) -> int:
    from ctrtui.remote.errors import EXIT_HOST, HostError

    failed = False
    codes = [0]
    items: list[dict[str, Any]] = []  # --json: the one array
    rows: list[dict[str, Any]] = []  # a listing's rows, each with its host
    sentences: list[str] = []  # stdout of commands whose text is sentences, prefixed
    for spec, raw in zip(specs, results, strict=True):
        name = display(spec.name)
        result = raw
        if not isinstance(result, HostError):
            for line in _lines(result.stderr):
                print(f"{name}: {line}", file=sys.stderr)
            if args.json or table is not None:
                value = _parse_json(spec, result.stdout)
                if isinstance(value, HostError):
                    result = value
                elif value is not None:
                    listed = value if isinstance(value, list) else [value]
                    mine = [{"host": spec.name, **v} for v in listed]
                    if table is not None:
                        try:
                            table(mine)  # a host's rows that cannot be drawn are its error, not everyone's
                        except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError,
                                RecursionError):
                            result = HostError(spec.name, "protocol", "the host's rows are not what this "
                                               "ctrtui draws", "the host may run another ctrtui version")
                    if not isinstance(result, HostError):
                        (rows if table is not None else items).extend(mine)
            else:
                sentences.extend(f"{name}: {line}" for line in _lines(result.stdout))
        if isinstance(result, HostError):
            failed = True
            print(host_line(result), file=sys.stderr)
            items.append(_error_item(result))
            continue
        codes.append(result.exit)
    if args.json:
        print_json(items)
    elif table is not None:
        for line in _with_host_column(table, rows, args.command):
            print(line)
    else:
        for line in sentences:
            print(line)
    return EXIT_HOST if failed else max(codes)


def _with_host_column(table: Callable[[Sequence[dict[str, Any]]], list[str]], rows: Sequence[dict[str, Any]],
                      command: str) -> list[str]:
    """The listing of every host's rows with a first column HOST (its lines are one header,
    then one line per row)."""
    if not rows and command == "hierarchies":
        return table(rows)  # a sentence ("no cgroup hierarchy is mounted"), not a table
    if not rows and command == "log":
        return []  # as the local `log` with no batch: nothing on stdout
    lines = table(rows)
    if len(lines) != len(rows) + 1:
        return [scrub(line) for line in lines]
    hosts = [display(r["host"]) for r in rows]
    w = max([len("HOST"), *map(len, hosts)])
    out = [f"{'HOST':<{w}}  {lines[0]}"]
    out.extend(scrub(f"{host:<{w}}  {line}") for host, line in zip(hosts, lines[1:], strict=True))
    return out


__all__ = ["CONNECT", "check_words", "cmd_hosts", "connect_options", "host_line", "host_specs", "open_channel"]
