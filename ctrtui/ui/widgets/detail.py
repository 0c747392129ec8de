"""The detail line at the bottom, and the plain functions that turn cgroup stats and task
facts into the text it shows."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ctrtui.model import TaskInfo
from ctrtui.text import display, tail
from ctrtui.ui.rows import command_of, human_bytes


def figure(text: str) -> int | None:
    """The counter in a cgroup file's text (`memory.current`, a `cpu.stat` value): ASCII
    digits, at most 20 of them, below 2^64; None for anything else (a remote host's file is
    hostile text: a 400-digit number would overflow whatever formats it)."""
    text = text.strip()
    if not (0 < len(text) <= 20 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value < 2 ** 64 else None


def _shown(text: str, limit: int = 40) -> str:
    """A cgroup file's text as the detail line quotes it: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cpu_seconds(stats: dict[str, str]) -> float | None:
    """CPU time used, from v2 `cpu.stat` usage_usec or v1 `cpuacct.usage` (ns)."""
    for line in stats.get("cpu.stat", "").splitlines():
        name, _, value = line.partition(" ")
        usec = figure(value) if name == "usage_usec" else None
        if usec is not None:
            return usec / 1e6
    usage = figure(stats.get("cpuacct.usage", ""))
    if usage is not None:
        return usage / 1e9
    return None


def cgroup_summary(hierarchy: str, path: str, controllers: tuple[str, ...], stats: dict[str, str],
                   procs: int, threads: int, subtree: int, width: int | None = None) -> Text:
    """One or two lines about a cgroup: where, members, controllers, and the figures the
    stats files give (pids, memory, cpu, freezer, cpuset, v2 type and subtree_control).
    Names are shown escaped; with `width`, a long path keeps its end (`…/d58/d59`) and fits
    on the first line."""
    text = Text()
    where = display(hierarchy) + ":" + display(path)
    text.append(tail(where, width) if width else where, "bold")
    text.append(f"  {procs} procs, {threads} threads, {subtree} in subtree", "dim")
    if controllers:
        text.append(f"  controllers: {','.join(controllers)}")
    figures = []
    if "cgroup.type" in stats:
        figures.append(f"type {_shown(stats['cgroup.type'])}")
    if stats.get("cgroup.subtree_control"):
        figures.append(f"children get +{_shown(stats['cgroup.subtree_control'], 200).replace(' ', ',')}")
    if "pids.current" in stats:
        figures.append(f"pids {_shown(stats['pids.current'])}/{_shown(stats.get('pids.max', '?'))}")
    memory = figure(stats.get("memory.current", ""))
    if memory is not None:
        figures.append(f"memory {human_bytes(memory)}")
    cpu = _cpu_seconds(stats)
    if cpu is not None:
        figures.append(f"cpu {cpu:.1f}s")
    if "freezer.state" in stats:
        figures.append(f"freezer {_shown(stats['freezer.state'])}")
    for line in stats.get("cgroup.events", "").splitlines():
        if line.startswith("frozen ") and line.endswith("1"):
            figures.append("frozen")
    if "cpuset.cpus" in stats:
        cpus, mems = _shown(stats["cpuset.cpus"], 200), _shown(stats.get("cpuset.mems", ""), 200)
        figures.append(f"cpus {cpus or '(empty)'} mems {mems or '(empty)'}")
    if figures:
        text.append("\n" + display(" · ".join(figures)))
    return text


def cgroup_groups(cgroups: dict[str, str]) -> str:
    """A task's cgroups with the hierarchies that share a path named together, in the
    order the hierarchies come: `cpu,cpuacct,memory: /user.slice/… · cpuset,freezer: /`."""
    by_path: dict[str, list[str]] = {}
    for hier, path in cgroups.items():
        by_path.setdefault(path, []).append(hier)
    return " · ".join(f"{','.join(names)}: {path}" for path, names in by_path.items())


def task_summary(pid: int, info: TaskInfo | None, cgroups: dict[str, str] | None,
                 width: int | None = None) -> Text:
    """Lines about a task: identity, command line, and its cgroup in every hierarchy, all
    shown escaped. With `width`, the command line is cut to what fits on two lines so that
    the cgroups line stays visible, and that line keeps its end (the deepest paths)."""
    text = Text()
    if info is None:
        text.append(f"PID {pid}", "bold")
        text.append("  (no details: the task may have exited)", "dim")
    else:
        text.append(f"PID {info.pid}", "bold")
        if info.is_thread:
            text.append(f" (thread of {info.tgid})")
        user = display(info.user or str(info.uid))
        text.append(f"  {user}  state {display(info.state)}  threads {info.threads}", "dim")
        if info.kthread:
            text.append("  kernel thread", "yellow")
        command = display(command_of(info))
        if width:
            room = max(10, 2 * width - text.cell_len - 2)
            if len(command) > room:
                command = command[:room - 1] + "…"
        text.append("  " + command)
    if cgroups:
        text.append("\n")
        groups = cgroup_groups({display(h): display(p) for h, p in cgroups.items()})
        text.append(tail(groups, width, " · ") if width else groups, "dim")
    elif cgroups is None and info is not None:
        text.append("\n(cgroups unknown: the task is gone)", "dim")
    return text


class DetailLine(Static):
    """The bottom lines: facts about the focused cgroup or task, or the drag status."""

    DEFAULT_CSS = """
    DetailLine { height: 3; padding: 0 1; background: $boost; }
    """

    _shown: object = None

    def show(self, text: str | Text) -> None:
        """Draw `text` unless it is already shown. The height is fixed, so no layout of
        the screen is needed (`update()` would lay out everything: ~40 ms a call)."""
        if text == self._shown:
            return
        self._shown = text
        self.update(text, layout=False)
