"""Hook plugins: the hooks other distributions declare in the `ctrtui.hooks` entry-point group.

Discovery is `importlib.metadata.entry_points(group=...)`; each entry names a hook object, a
hook class, or a factory returning a hook (batch `judge` or per-PID `can_attach`, and
`attach`; see `ctrtui.engine.hooks`). A plugin that fails to load, or loads as something that
is not a hook, is left out and said in the warnings: a broken plugin never stops ctrtui.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ENTRY_POINT_GROUP", "load_entry_point_hooks"]

ENTRY_POINT_GROUP = "ctrtui.hooks"


def load_entry_point_hooks(warnings: list[str]) -> list[Any]:
    """Hooks from the `ctrtui.hooks` entry-point group, in the order importlib.metadata gives
    them. A plugin that fails is reported in `warnings` (its name, its value and why)."""
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
