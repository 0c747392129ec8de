"""Where the UI opens: the hierarchy (and cgroup) the user asked for, else one fixed rule.

The rule, in order (documented in the README):

1. `--cgroup HIER:/path` or `--hierarchy NAME`: that one.
2. The v2 (unified) hierarchy when it carries real controllers (cpu, memory, pids or io).
3. The hierarchy shown when the UI was last left on the same backend, remembered in
   `$XDG_STATE_HOME/ctrtui/last-hierarchy` for this machine (default
   `~/.local/state/ctrtui/`), `last-hierarchy-demo` for the demo (`last_file`), if it is
   still mounted.
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
    """The hierarchy remembered from the last run on `backend` (None: none, or unreadable)."""
    try:
        text = last_file(backend).read_text("utf-8", "surrogateescape").strip()
    except (OSError, ValueError):
        return None
    return text or None


def remember(name: str, backend: str = "local") -> None:
    """Remember `name` as the hierarchy last shown on `backend` (best effort: a state dir
    that cannot be written changes nothing but the next start)."""
    if not name or "\n" in name:
        return
    path = last_file(backend)
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
