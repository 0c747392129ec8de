"""Where the UI opens: the hierarchy (and cgroup) the user asked for, else one fixed rule.

The rule, in order (documented in the README):

1. `--cgroup HIER:/path` or `--hierarchy NAME`: that one.
2. The v2 (unified) hierarchy when it carries real controllers (cpu, memory, pids or io).
3. The hierarchy shown when the UI was last left on the same backend, remembered in
   `$XDG_STATE_HOME/ctrtui/last-hierarchy` for this machine (default
   `~/.local/state/ctrtui/`), `last-hierarchy-demo` for the demo (`last_file`), if it is
   still mounted (and the file is the user's own: engine/owned.py).
4. `name=systemd`, else the first mounted hierarchy.

The start never depends on the snapshot (so key sequences are repeatable from run to run).
Plain Python, no Textual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ctrtui.model import Hierarchy

_REAL = {"cpu", "memory", "pids", "io"}


def state_dir() -> Path:
    """`$XDG_STATE_HOME/ctrtui`, or `~/.local/state/ctrtui`."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "ctrtui"


def last_file(backend: str = "local") -> Path:
    """Where the hierarchy last shown on `backend` (a backend's identity: `local`, `demo`,
    `demo:hostile`) is remembered: one file per backend, so a demo session never decides
    where the real machine opens. This machine's keeps its old name, `last-hierarchy`."""
    if backend == "local":
        return state_dir() / "last-hierarchy"
    return state_dir() / ("last-hierarchy-" + (re.sub(r"[^A-Za-z0-9_.-]+", "-", backend).strip(".-") or "-"))


def remembered(backend: str = "local") -> str | None:
    """The hierarchy remembered from the last run on `backend` (None: none, unreadable, or
    not a file of the user's alone: a link, someone else's, in a directory others can
    change)."""
    return read_remembered(last_file(backend))


def read_remembered(path: Path) -> str | None:
    """The hierarchy remembered in `path` (see `remembered`)."""
    from ctrtui.engine.owned import NotOwned, read_owned

    try:
        data = read_owned(str(path), "state file", 4096)
    except (NotOwned, OSError, ValueError):
        return None
    text = (data or b"").decode("utf-8", "surrogateescape").strip()
    return text or None


def remember(name: str, backend: str = "local") -> None:
    """Remember `name` as the hierarchy last shown on `backend` (best effort: a state dir
    that cannot be written changes nothing but the next start)."""
    write_remembered(last_file(backend), name)


def write_remembered(path: Path, name: str) -> None:
    """Write `name` to `path` through a temporary file made with O_EXCL|O_NOFOLLOW, only
    when `path` and its directories are the user's alone (ctrtui/engine/owned.py); else,
    or when it cannot be written, nothing."""
    from ctrtui.engine.owned import NotOwned, write_owned

    if not name or "\n" in name:
        return
    try:
        write_owned(str(path), name.encode("utf-8", "surrogateescape") + b"\n", "state file")
    except (NotOwned, OSError, UnicodeError):
        pass


def start_hierarchy(mounted: Sequence[Hierarchy], asked: str | None = None,
                    last: str | None = None) -> str:
    """The hierarchy to open on (see the module's rule). `asked` wins when mounted (the
    caller checks it first and says so when it is not); `last`: the remembered one."""
    names = [h.name for h in mounted]
    if asked and asked in names:
        return asked
    for h in mounted:
        if h.version == 2 and set(h.controllers) & _REAL:
            return h.name
    if last and last in names:
        return last
    if "name=systemd" in names:
        return "name=systemd"
    return names[0] if names else ""
