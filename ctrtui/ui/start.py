"""Where the UI opens: the hierarchy (and cgroup) the user asked for, else one fixed rule.

The rule, in order (documented in the README):

1. `--cgroup HIER:/path` or `--hierarchy NAME`: that one.
2. The v2 (unified) hierarchy when it carries real controllers (cpu, memory, pids or io).
3. The hierarchy shown when the UI was last left, remembered in
   `$XDG_STATE_HOME/ctrtui/last-hierarchy` (default `~/.local/state/ctrtui/`), if it is
   still mounted.
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
    """The hierarchy remembered from the last run (None: none, or unreadable)."""
    try:
        text = _last_file().read_text("utf-8", "surrogateescape").strip()
    except (OSError, ValueError):
        return None
    return text or None


def remember(name: str) -> None:
    """Remember `name` as the hierarchy last shown (best effort: a state dir that cannot be
    written changes nothing but the next start)."""
    if not name or "\n" in name:
        return
    path = _last_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(name + "\n", "utf-8", "surrogateescape")
        os.replace(tmp, path)
    except OSError:
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
