"""Hook plugins: the hooks other distributions declare in the `ctrtui.hooks` entry-point group.

Discovery is `importlib.metadata.entry_points(group=...)`, asked only when some installed
distribution can declare an entry in the group (`group_may_be_declared`: a look at each
`entry_points.txt` on sys.path; importing importlib.metadata costs more than all of the
engine's own imports, and almost always finds nothing). Each entry names a hook object, a
hook class, or a factory returning a hook (batch `judge` or per-PID `can_attach`, and
`attach`; see `ctrtui.engine.hooks`). A plugin that fails to load, or loads as something that
is not a hook, is left out and said in the warnings: a broken plugin never stops ctrtui.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["ENTRY_POINT_GROUP", "group_may_be_declared", "load_entry_point_hooks"]

ENTRY_POINT_GROUP = "ctrtui.hooks"


def load_entry_point_hooks(warnings: list[str]) -> list[Any]:
    """Hooks from the `ctrtui.hooks` entry-point group, in the order importlib.metadata gives
    them. A plugin that fails is reported in `warnings` (its name, its value and why)."""
    if not group_may_be_declared(ENTRY_POINT_GROUP):
        return []
    from importlib.metadata import entry_points

    if sys.version_info >= (3, 10):
        eps: Any = entry_points(group=ENTRY_POINT_GROUP)
    else:  # Python 3.9 (the agent on an older host, docs/remote.md): no `group=`, a dict of groups
        eps = entry_points().get(ENTRY_POINT_GROUP, [])  # type: ignore[attr-defined, unused-ignore]
    hooks = []
    for ep in eps:
        try:
            hooks.append(_hook_of(ep))
        except Exception as e:  # noqa: BLE001 - a broken plugin must not stop ctrtui
            warnings.append(f"hook plugin {ep.name!r} ({ep.value}) was not loaded: {type(e).__name__}: {e}")
    return hooks


def _hook_of(ep: Any) -> Any:
    """The hook an entry point names: the object itself, or what its class or factory makes;
    TypeError when that is not a hook. A hook without a name takes the entry point's."""
    obj = ep.load()
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "can_attach") and not hasattr(obj, "judge")):
        obj = obj()
    asks = callable(getattr(obj, "judge", None)) or callable(getattr(obj, "can_attach", None))
    if not (asks and callable(getattr(obj, "attach", None))):
        raise TypeError("it is not a hook (a hook has name, judge(batch) or can_attach(ctx), and "
                        "attach(task, old, new))")
    if not getattr(obj, "name", None):
        obj.name = ep.name
    return obj


def group_may_be_declared(group: str) -> bool:
    """False only when no installed distribution can declare an entry point in `group`.

    `importlib.metadata.entry_points(group=...)` adds ~18 ms to a start here against this scan
    (its import and parsing every distribution's metadata; `python -m benchmarks.stdlib`,
    benchmarks/RESULTS.md: more than the 5 ms issue 9 allows a standard piece; issue 19: +33 ms
    of CPU to a `ctrtui move` on a loaded machine), and almost always finds nothing. This
    looks the way importlib.metadata does --
    every `*.dist-info`/`*.egg-info` directory on `sys.path` -- but only for a `[group]`
    section with an entry in `entry_points.txt`. Anything it cannot look into the same way (a
    zip on sys.path, a meta path finder with its own `find_distributions`) answers True, and
    then `importlib.metadata` decides."""
    from importlib.machinery import PathFinder

    if any(hasattr(f, "find_distributions") and f is not PathFinder for f in sys.meta_path):
        return True
    header = f"[{group}]"
    for entry in sys.path:
        root = entry or "."
        try:
            with os.scandir(root) as it:
                names = [e.name for e in it if e.name.endswith((".dist-info", ".egg-info"))]
        except NotADirectoryError:
            return True  # a zip file: importlib.metadata looks inside
        except OSError:
            continue  # missing, unreadable, or a path hook's token
        for name in names:
            try:
                with open(os.path.join(root, name, "entry_points.txt"), encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                continue
            if header in text and _section_has_entries(text, header):
                return True
    return False


def _section_has_entries(text: str, header: str) -> bool:
    lines = iter(text.splitlines())
    for line in lines:
        if line.strip() == header:
            for rest in lines:
                rest = rest.strip()
                if rest.startswith("["):
                    break
                if rest and not rest.startswith(("#", ";")):
                    return True
    return False
