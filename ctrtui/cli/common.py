"""What every command of the command line shares: exit codes, the printing of names and
messages, bad usage (`UsageError`), the backend and service the options name, the cgroup a
`HIERARCHY:/path` names (`resolve`), JSON output, warnings and the signals that stop a batch.

Importing this module must stay cheap: the backends and the engine are imported only when a
command needs them.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time (~3 ms of every start)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import FrameType
    from typing import Any

    from ctrtui.history.reader import Recording
    from ctrtui.history.replay import RecordedBackend as RecordedBackend
    from ctrtui.model import CgroupRef, Hierarchy, Snapshot
    from ctrtui.service.local import LocalService
    from ctrtui.service.protocol import Service
    from ctrtui.sources.base import Backend

__all__ = [
    "EXIT_NOT_ALL", "EXIT_OK", "EXIT_USAGE", "HOST_JOBS", "HOST_TIMEOUT", "StopOnSignals", "UsageError",
    "backend_of", "backend_spec", "cgroup_ref", "command_service", "display", "journal_max", "print_json",
    "print_warnings", "recorded_world", "recording_of", "recording_place", "resolve", "scrub", "service_of",
    "still_there", "unknown_hierarchy",
]

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


# ----------------------------------------------------------------------------- helpers


def backend_spec(args: argparse.Namespace) -> str:
    """The backend spec the options name: `--demo` -> `demo`, `--demo=hostile` ->
    `demo:hostile`, `--demo=systemd` -> `demo:systemd`, neither -> `local` (see ctrtui.sources.open_backend)."""
    demo = args.demo
    return f"demo:{demo}" if demo in ("hostile", "systemd") else "demo" if demo else "local"


def backend_of(args: argparse.Namespace) -> Backend:
    if getattr(args, "at", None) is not None:  # ls/tasks --at: the recorded world, read-only
        return recorded_world(args)  # type: ignore[return-value]
    from ctrtui.sources import open_backend

    return open_backend(backend_spec(args))


def recording_place(args: argparse.Namespace) -> str:
    """The recording `--from` names, else the one `ctrtui record` writes for this backend."""
    from ctrtui.history import default_history_dir

    place: str = getattr(args, "history_from", None) or default_history_dir(backend_spec(args))
    return place


def recording_of(args: argparse.Namespace) -> Recording:
    """The recording of `recording_place`, its warnings printed."""
    from ctrtui.history import Recording

    rec = Recording(recording_place(args))
    for w in rec.warnings:
        print(f"ctrtui: warning: {w}", file=sys.stderr)
    return rec


def recorded_world(args: argparse.Namespace) -> RecordedBackend:
    """`ls`/`tasks --at TIME`: the world as the recording saw it at TIME (read-only)."""
    from ctrtui.history.query import parse_time
    from ctrtui.history.replay import RecordedBackend as RecordedBackend

    rec = recording_of(args)
    return RecordedBackend(rec, parse_time(args.at, rec))


def service_of(args: argparse.Namespace, backend: Backend | None = None, writes: bool = False,
               broken_ok: bool = False, front: str | None = None) -> LocalService:
    """The service the options name (ctrtui/service/local.py): the backend of `backend_of`
    (opened on first use) unless `backend` is given, `--policy`, `--journal`, `--no-journal`.
    `writes`: the engine is built now, so a policy that cannot be read or is invalid (checked
    against the backend's hierarchies) is a CtrtuiError (exit 2) before anything is done --
    or, with `broken_ok` (the UI), a policy that refuses every move with that sentence.
    `front`: whose words the engine's advice takes (`ui`: the terminal UI's; None: the command line's)."""
    from ctrtui.service.local import LocalService

    def identity() -> str:
        from ctrtui.sources import identity_of

        return identity_of(backend_spec(args))

    service = LocalService(backend, opener=None if backend is not None else lambda: backend_of(args),
                           identity=identity, policy_path=args.policy, journal_path=args.journal,
                           journal=not getattr(args, "no_journal", False), journal_max=journal_max,
                           broken_policy_ok=broken_ok, front=front)
    if writes:
        service.prepare_writes()
    return service


def command_service(args: argparse.Namespace, writes: bool = False) -> Service:
    """The service a command runs against: a remote host's (`args.service`, a
    `ctrtui.remote.service.RemoteService` the commands across hosts put there: the same
    command code, run here, against that host; with `--at`, that host's recording as the host
    reads it: `ServedRecording`) or this machine's (`service_of`). `writes`:
    ready to change it now (`Service.prepare_writes`: what stands in the way is said first)."""
    given: Service | None = getattr(args, "service", None)
    if given is None:
        return service_of(args, writes=writes)
    if getattr(args, "at", None) is not None:  # ls/tasks --at --host: the host's recording, read there
        from ctrtui.service.local import LocalService
        from ctrtui.service.servedrecording import ServedRecording

        recorded = ServedRecording(given, getattr(args, "history_from", None), at=args.at)
        print_warnings(given.history_warnings())  # what reading the host's recording passed over
        return LocalService(recorded)  # type: ignore[arg-type]  # a Reader: nothing can be written through it
    if writes:
        given.prepare_writes()
    return given


def journal_max() -> int | None:
    """Rotation size of the journal: `CTRTUI_JOURNAL_MAX` (bytes), or None: the default (8 MiB)."""
    text = os.environ.get("CTRTUI_JOURNAL_MAX", "")
    if not text:
        return None
    if not text.isdigit() or int(text) < 4096:
        raise UsageError(f"CTRTUI_JOURNAL_MAX must be a number of bytes (at least 4096), not {text!r}")
    return int(text)


def cgroup_ref(text: str) -> CgroupRef:
    """`HIERARCHY:/path` (or a bare `HIERARCHY`) as typed, checked for its form only (what
    any host would refuse); UsageError otherwise. Which hierarchies and cgroups exist is the
    backend's to say (`resolve`)."""
    from ctrtui.model import CgroupRef

    try:
        return CgroupRef.parse(text if ":" in text else text + ":/")
    except ValueError as e:
        raise UsageError(str(e)) from None


def resolve(service: Service, text: str) -> tuple[Hierarchy, str]:
    """`HIERARCHY:/path` (or a bare `HIERARCHY`) -> (Hierarchy, path); UsageError naming the
    culprit otherwise. The path may be written as ctrtui shows it (`\\x1b` for ESC, `\\xff`
    for a byte that is not UTF-8, `\\\\` for a backslash: see ctrtui.text); a path that only
    exists as typed (a name holding a backslash, written unescaped) is found too."""
    from ctrtui.model import CgroupRef, find_hierarchy
    from ctrtui.text import parse

    ref = cgroup_ref(text)
    word = ref.hierarchy
    hiers = service.hierarchies()
    h = find_hierarchy(hiers, word)
    if h is None:
        raise UsageError(unknown_hierarchy(service, hiers, text, word, ref.path))
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
        if service.cgroup_state(h.name, path) is not None:
            return h, path
    if problem is not None:
        raise UsageError(problem)
    path = candidates[0]
    if service.kind == "demo":  # a simulated world: none of its cgroups is a directory of this machine
        raise UsageError(f"no cgroup {display(h.name)}:{display(path)} in the demo world")
    raise UsageError(f"no cgroup {display(h.name)}:{display(path)} (no such directory {display(h.fs_path(path))})")


def unknown_hierarchy(service: Service, hiers: Sequence[Hierarchy], text: str, word: str, path: str) -> str:
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
                there = service.cgroup_state(h.name, p) is not None
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


def still_there(snap: Snapshot, h: Hierarchy, path: str) -> None:
    """A cgroup found by `resolve` but gone from the snapshot was removed in between: say so
    (exit 2) instead of printing an empty list as if it were there and empty."""
    if path not in snap[h.name]:
        name, where = display(h.name), display(path)
        raise UsageError(f"cgroup {name}:{where} was removed while ctrtui was reading it "
                         f"({display(h.fs_path(path))} no longer exists); run `ctrtui ls {name}:/` to see what is "
                         "there now")


def print_json(obj: Any) -> None:
    # One write of the whole text: json.dump's one write per token through the guarded
    # stdout took 1.7x as long (35,000 rows: 292 ms against 171 ms)
    sys.stdout.write(json_text(obj) + "\n")


def json_text(obj: Any) -> str:
    """`json.dumps(obj, indent=1)`, the same text, made faster. With `indent` the json module
    falls back to its pure-Python encoder (0.4-0.5 s for `where --json`'s 35,000 rows); here
    a list of rows (dicts with the same str keys in the same order, each value a str, int,
    float, bool or None: what the commands print) is encoded by the C encoder in one call,
    its items split on a separator that an ASCII-escaped JSON text cannot otherwise hold,
    and laid out row by row from one template. The rest of the nesting is walked by one
    plain function; anything else goes the json module's own way."""
    import json  # only --json needs it (~1.5 ms of every start otherwise)

    out: list[str] = []
    try:
        _encode(obj, "\n", out, json.encoder.encode_basestring_ascii)
    except _NotPlain:
        return json.dumps(obj, indent=1)
    return "".join(out)


class _NotPlain(Exception):
    """A value `_encode` leaves to the json module."""


_CONSTANTS = {None: "null", True: "true", False: "false"}
_SCALARS = frozenset({str, int, float, bool, type(None)})
_ITEM = "\x01"
"""The C encoder's item separator for rows: ensure_ascii escapes every control character
inside strings, so in its text this character is only ever a separator."""


def _float_text(f: float) -> str:
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "Infinity" if f > 0 else "-Infinity"
    return float.__repr__(f)


def _rows_text(rows: list[Any], nl: str, esc: Any) -> str | None:
    """The indented text of `rows` when it is a list of flat rows of one shape, else None."""
    import itertools
    import json

    if len(rows) < 2 or set(map(type, rows)) != {dict}:
        return None
    shapes = set(map(tuple, rows))
    if len(shapes) != 1:
        return None
    keys = shapes.pop()
    if not keys or set(map(type, keys)) != {str}:
        return None
    if not set(map(type, itertools.chain.from_iterable(map(dict.values, rows)))) <= _SCALARS:
        return None
    text = json.JSONEncoder(separators=(_ITEM, ":")).encode(list(map(list, map(dict.values, rows))))
    items = text[2:-2].split("]" + _ITEM + "[")
    inner = nl + " "
    template = "{" + ",".join(inner + " " + esc(k).replace("%", "%%") + ": %s" for k in keys) + inner + "}"
    laid = [template % tuple(item.split(_ITEM)) for item in items]
    return "[" + inner + ("," + inner).join(laid) + nl + "]"


def _encode(o: Any, nl: str, out: list[str], esc: Any) -> None:
    """Appends the JSON text of `o` to `out`; `nl` is a newline and the indent of `o`'s line."""
    t = type(o)
    if t is str:
        out.append(esc(o))
    elif o is None or o is True or o is False:
        out.append(_CONSTANTS[o])
    elif t is int:
        out.append(int.__repr__(o))
    elif t is float:
        out.append(_float_text(o))
    elif t is dict:
        if not o:
            out.append("{}")
            return
        inner, sep = nl + " ", "{"
        for k, v in o.items():
            if type(k) is not str:
                raise _NotPlain
            out.append(sep + inner + esc(k) + ": ")
            sep = ","
            _encode(v, inner, out, esc)
        out.append(nl + "}")
    elif t is list or t is tuple:
        rows = _rows_text(o, nl, esc) if t is list else None
        if rows is not None:
            out.append(rows)
            return
        if not o:
            out.append("[]")
            return
        inner, sep = nl + " ", "["
        for v in o:
            out.append(sep + inner)
            sep = ","
            _encode(v, inner, out, esc)
        out.append(nl + "]")
    else:
        raise _NotPlain


# ----------------------------------------------------------------------------- commands


class StopOnSignals:
    """While a batch runs, SIGINT and SIGTERM ask the engine to stop before its next PID
    (the batch is then reported, recorded as interrupted, and the exit status is 1).
    `restore` (called once the batch's close record is written, before its report is
    printed) gives both signals their handlers back: a report blocked on a full pipe must
    not make the process deaf to them."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.saved: dict[int, Any] = {}  # signal -> its handler before (what signal.signal returned)

    def __enter__(self) -> StopOnSignals:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self.saved[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread
                pass
        return self

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        import signal

        self.service.request_stop(signal.Signals(signum).name)

    def restore(self) -> None:
        import signal

        while self.saved:
            sig, old = self.saved.popitem()
            signal.signal(sig, old)

    def __exit__(self, *exc: object) -> None:
        self.restore()


def print_warnings(warnings: Sequence[str]) -> None:
    """Warnings of a batch or of the engine (a torn journal line forgiven, a journal that could
    not be written, a hook plugin not loaded) go to stderr, in text and JSON mode alike."""
    for w in dict.fromkeys(warnings):
        print(f"ctrtui: warning: {scrub(w)}", file=sys.stderr)
