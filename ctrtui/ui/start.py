"""Where the UI opens: the hierarchy (and cgroup) the user asked for, else one fixed rule.

The rule, in order (documented in the README):

1. `--cgroup HIER:/path` or `--hierarchy NAME`: that one.
2. The v2 (unified) hierarchy when it carries real controllers (cpu, memory, pids or io).
3. The hierarchy shown when the UI was last left, remembered in
   `$XDG_STATE_HOME/ctrtui/last-hierarchy` (default `~/.local/state/ctrtui/`), if it is
   still mounted (and the file is the user's own: engine/owned.py).
4. `name=systemd`, else the first mounted hierarchy.

The start never depends on the snapshot (so key sequences are repeatable from run to run).
Plain Python, no Textual.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ctrtui.model import Hierarchy

_REAL = {"cpu", "memory", "pids", "io"}


def state_dir() -> Path:
    """`$XDG_STATE_HOME/ctrtui`, or `~/.local/state/ctrtui`."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "ctrtui"


def _last_file() -> Path:
    return state_dir() / "last-hierarchy"


def remembered() -> str | None:
    """The hierarchy remembered from the last run (None: none, unreadable, or not a file of
    the user's alone: a link, someone else's, in a directory others can change)."""
    return read_remembered(_last_file())


def read_remembered(path: Path) -> str | None:
    """The hierarchy remembered in `path` (see `remembered`)."""
    from ctrtui.engine.owned import NotOwned, read_owned

    try:
        data = read_owned(str(path), "state file", 4096)
    except (NotOwned, OSError, ValueError):
        return None
    text = (data or b"").decode("utf-8", "surrogateescape").strip()
    return text or None


def remember(name: str) -> None:
    """Remember `name` as the hierarchy last shown (best effort: a state dir that cannot be
    written changes nothing but the next start)."""
    write_remembered(_last_file(), name)


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
