"""The meters line at the top (htop's header in one line): per-CPU usage bars (one bar for
all CPUs when the line is narrow), memory, swap, load average and uptime of the machine
ctrtui runs on, read with psutil by `ui/statsfeed.py` at every refresh."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from ctrtui.model.cgstats import fmt_bytes
from ctrtui.ui.machinemeters import Meters, fmt_uptime

BAR_MIN = 4
"""Fewest cells of bar between a meter's brackets (its figure is written over the bar)."""


def _bar(text: Text, name: str, fraction: float, figure: str, inner: int, style: str) -> None:
    """`name[|||||   figure]`: `inner` cells between the brackets, the figure at the right."""
    inner = max(inner, len(figure))
    room = inner - len(figure)
    bars = min(room, round(max(0.0, min(1.0, fraction)) * inner))
    text.append(name, "bold")
    text.append("[")
    text.append("|" * bars, style)
    text.append(" " * (room - bars) + figure, "dim" if not bars else "")
    text.append("]")


def meters_text(m: Meters | None, width: int, label: str = "") -> Text:
    """The meters of `m` in one line of at most `width` cells: CPU, memory and swap bars
    (one bar per CPU when each can have `BAR_MIN` cells of bar, else one for all), the load
    average and uptime; when even the smallest bars do not fit, the same figures as plain
    text. `label` goes first (the demo says whose meters they are)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if label:
        text.append(label, "italic")
    if m is None:
        text.append("reading the meters…", "dim")
        return text
    up = fmt_uptime(m.uptime)
    right = f" Load {m.load[0]:.2f} {m.load[1]:.2f} {m.load[2]:.2f} Up {up}"
    mem_fig = f"{fmt_bytes(m.mem_used)}/{fmt_bytes(m.mem_total)}"
    swp_fig = f"{fmt_bytes(m.swap_used)}/{fmt_bytes(m.swap_total)}"
    cpu_fig = f"{m.cpu:.0f}%"
    mins = {"cpu": 5 + 4 + BAR_MIN, "mem": 5 + len(mem_fig) + BAR_MIN, "swp": 5 + len(swp_fig) + 1}
    avail = width - len(label) - len(right) - 2
    if avail < sum(mins.values()):
        right = f" Load {m.load[0]:.2f} Up {up}"
        avail = width - len(label) - len(right) - 2
    if avail < sum(mins.values()):
        text.append("CPU ", "bold")
        text.append(cpu_fig, "green")
        text.append(" Mem ", "bold")
        text.append(mem_fig, "cyan")
        text.append(" Swp ", "bold")
        text.append(swp_fig, "magenta")
        text.append(right)
        text.truncate(width, overflow="ellipsis")
        return text
    extra = avail - sum(mins.values())
    cpu_len = mins["cpu"] + extra // 2
    mem_len = mins["mem"] + extra * 3 // 10
    swp_len = avail - cpu_len - mem_len
    n = len(m.cpus)
    each = (cpu_len - (n - 1)) // n if n else 0   # one space between per-CPU bars
    if n > 1 and each >= len(str(n - 1)) + 2 + 4 + BAR_MIN:
        used = 0
        for i, c in enumerate(m.cpus):
            if i:
                text.append(" ")
                used += 1
            name = str(i)
            length = each if i < n - 1 else cpu_len - used   # the last bar takes the rest
            _bar(text, name, c / 100.0, f"{c:.0f}%", length - len(name) - 2, "green")
            used += length
    else:
        _bar(text, "CPU", m.cpu / 100.0, cpu_fig, cpu_len - 5, "green")
    text.append(" ")
    _bar(text, "Mem", m.mem_used / m.mem_total if m.mem_total else 0.0, mem_fig, mem_len - 5, "cyan")
    text.append(" ")
    _bar(text, "Swp", m.swap_used / m.swap_total if m.swap_total else 0.0, swp_fig, swp_len - 5, "magenta")
    text.append(right)
    return text


class MetersBar(Widget):
    """One line of system meters; `show(meters)` draws a new reading."""

    DEFAULT_CSS = """
    MetersBar { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, label: str = "", **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.label = label
        """Whose meters these are, when it is not obvious (the demo: the real machine's)."""
        self.meters: Meters | None = None

    def show(self, meters: Meters) -> None:
        self.meters = meters
        self.refresh()

    def render(self) -> Text:
        return meters_text(self.meters, self.content_region.width or 80, self.label)
