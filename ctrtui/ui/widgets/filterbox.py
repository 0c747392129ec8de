"""The filter field above the task list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.geometry import Size
from textual.reactive import Reactive

from ctrtui.ui.untrusted import LiteralInput


class FilterBox(LiteralInput):
    """The filter field. `on_change` is called with each new value at once, so the task
    list follows a keystroke in the same frame (the `Changed` message would reach it a
    frame after the field has been redrawn)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """As `Widget.virtual_size`, but the text growing by a keystroke does not lay out the
    whole screen (the field's size is fixed)."""

    def __init__(self, *args: Any, on_change: Callable[[str], None] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.on_change = on_change

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted and self.container_size:
            self._scroll_update(size)

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        if self.on_change is not None:
            self.on_change(value)
