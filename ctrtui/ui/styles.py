"""Style lookups cached for widgets that draw many lines (the task list, the tree)."""

from __future__ import annotations

from typing import Any

from rich.style import Style


class CachedStyles:
    """Mixin for a Line-API widget: `rich_style` and `get_component_styles` are worked out
    once per pseudo-class state (enabled, focus, hover) until the CSS or the theme changes.

    Textual caches `get_component_rich_style`, but works these two out afresh on every
    call (~0.1 ms each: a walk over the ancestors' styles), and `Tree` asks for four per
    line it draws: 50 tree lines cost ~30 ms of style lookups alone. Put it first among
    the bases: `class X(CachedStyles, Tree)`."""

    def _style_cache(self) -> dict[object, Any]:
        cache = self.__dict__.get("_cached_styles")
        if cache is None:
            cache = self.__dict__["_cached_styles"] = {}
        return cache

    def notify_style_update(self) -> None:
        self._style_cache().clear()
        super().notify_style_update()  # type: ignore[misc]

    def get_component_styles(self, *names: str) -> Any:
        key = ("styles", names, self.get_pseudo_class_state())  # type: ignore[attr-defined]
        cache = self._style_cache()
        styles = cache.get(key)
        if styles is None:
            styles = cache[key] = super().get_component_styles(*names)  # type: ignore[misc]
        return styles

    @property
    def rich_style(self) -> Style:
        key = ("rich", self.get_pseudo_class_state())  # type: ignore[attr-defined]
        cache = self._style_cache()
        style: Style | None = cache.get(key)
        if style is None:
            style = cache[key] = super().rich_style  # type: ignore[misc]
        return style
