"""The target picker: fuzzy-search the cgroups of every hierarchy (`HIER:/path`, the shown
hierarchy's first) and see, for the highlighted one, the engine's plan (per PID: would move /
already there / refused with the errno, the reason and what to do). Planning runs in an
exclusive thread worker, debounced, so typing stays smooth.

On a systemd host (the mover's `systemd_host`) two keys more: `ctrl+n` "new scope…" asks a
scope's name and properties (`NewScope`) and plans a new transient scope for the tasks in the
slice the highlighted cgroup is in; `ctrl+k` re-plans a move systemd would refuse (a unit
that is not delegated) as the kernel write, whose risk the confirm screen then shows."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.worker import get_current_worker

from ctrtui.engine.risk import hierarchy_note
from ctrtui.engine.values import Plan, ScopeRequest, Via
from ctrtui.model import CgroupRef, Snapshot
from ctrtui.model.systemd import unit_place
from ctrtui.report import nothing_would_move, plural
from ctrtui.sources.systemd_risks import risk_for, risk_kind
from ctrtui.text import display
from ctrtui.ui.fuzzy import RefCounts, RefMatcher
from ctrtui.ui.hostmovers import Mover
from ctrtui.ui.reportstyle import KIND_STYLE, KIND_WORDS, counts_content, plan_lines
from ctrtui.ui.screens.dialog import Dialog
from ctrtui.ui.untrusted import content, message
from ctrtui.ui.widgets.fuzzypaths import LIST_BINDINGS, FuzzyPaths
from ctrtui.ui.widgets.linelist import LineList


class TargetPicker(Dialog[Plan | None]):
    """Pick the cgroup to move tasks into, seeing what would happen first.

    Dismisses with the previewed engine `Plan` on `enter` (only when at least one PID would
    move), or None on `escape`. Refused PIDs are always listed with errno, reason, advice.
    Targets are searched in every hierarchy; a target in another hierarchy than the one the
    tasks were picked in moves them in that hierarchy, and the preview says so (as it says
    what a v1 move leaves as it is: `ctrtui.engine.risk.hierarchy_note`).
    """

    DEFAULT_CSS = """
    TargetPicker > #picker { width: 94%; height: 90%; }
    TargetPicker #picker-title { width: 1fr; }
    TargetPicker #picker-body { height: 1fr; }
    TargetPicker #picker-left { width: 45%; height: 1fr; padding-right: 1; }
    TargetPicker #picker-right { width: 1fr; height: 1fr; border-left: solid $primary-muted; padding-left: 1; }
    TargetPicker #picker-target { height: auto; text-style: bold; }
    TargetPicker #picker-counts { height: 1; }
    TargetPicker #picker-note { height: auto; color: $text-muted; }
    TargetPicker #picker-preview { height: 1fr; background: $panel; }
    TargetPicker #picker-message { height: auto; color: $warning; }
    TargetPicker #picker-message.error { color: $error; text-style: bold; }
    TargetPicker #picker-help { height: 1; color: $text-muted; }
    TargetPicker.narrow > #picker { width: 100%; height: 100%; }
    TargetPicker.narrow #picker-body { layout: vertical; }
    TargetPicker.narrow #fuzzy-input { border: none; height: 1; padding: 0 1; }
    TargetPicker.narrow #picker-help { display: none; }
    TargetPicker.narrow #picker-left { width: 100%; height: 1fr; min-height: 4; padding-right: 0; }
    TargetPicker.narrow #picker-right {
        width: 100%; height: auto; max-height: 70%; padding-left: 0;
        border-left: none; border-top: solid $primary-muted;
    }
    """
    NARROW = 100
    """Below this many columns the list and the preview are stacked, not side by side."""
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close without moving anything"),
        Binding("enter", "apply", "Move", tooltip="Move the tasks into the highlighted cgroup"),
        Binding("ctrl+n", "new_scope", "New scope…", tooltip="Move the tasks into a new scope systemd starts, in "
                "the slice of the highlighted cgroup (a systemd host)"),
        Binding("ctrl+k", "kernel", "Kernel write", tooltip="Write the kernel file anyway where systemd would "
                "refuse the move into a unit that is not delegated (the tasks then live and die with that unit)",
                priority=True),
        *LIST_BINDINGS,
    ]

    class Planned(Message):
        """A preview plan (or the error planning raised) for `path`, from the worker."""

        def __init__(self, path: str, plan: Plan | None = None, error: str | None = None) -> None:
            super().__init__()
            self.path = path
            self.plan = plan
            self.error = error

    def __init__(self, engine: Mover, snapshot: Snapshot, hierarchy: str, pids: Sequence[int],
                 threads: bool = False, expected_start: dict[int, int] | None = None,
                 *, debounce: float = 0.12, name: str | None = None) -> None:
        super().__init__(name=name)
        self.engine = engine
        self.snapshot = snapshot
        hs = snapshot.get(hierarchy)
        if hs is None:
            raise KeyError(f"no hierarchy {hierarchy!r} in the snapshot")
        self.hier = hs
        self.hierarchy = hs.name
        self.pids = list(pids)
        self.threads = threads
        self.expected_start = expected_start
        self.debounce = debounce
        self.plan: Plan | None = None
        """The plan previewed for `plan_path` (None until the first preview arrives)."""
        self.plan_item: str | None = None
        """The `HIER:/path` the plan is for."""
        self.matcher = RefMatcher(snapshot, hs.name)
        self._timer: Timer | None = None
        self._apply_when_ready = False
        self.systemd_host = bool(getattr(engine, "systemd_host", False))
        """systemd manages a hierarchy there: "new scope…" and the kernel write past systemd
        apply (an engine given as it is, not a `Mover`, offers neither)."""

    def compose(self) -> ComposeResult:
        n = len(self.pids)
        kind = "thread" if self.threads else "process"
        with Vertical(id="picker", classes="dialog"):
            yield Label(message(f"Move {plural(n, kind)} (seen in {display(self.hierarchy)}) to..."),
                        id="picker-title", classes="dialog-title")
            with Horizontal(id="picker-body"):
                yield FuzzyPaths(self.matcher, RefCounts(self.snapshot, self.threads),  # type: ignore[arg-type]
                                 placeholder="type to search cgroups of every hierarchy", id="picker-left")
                with Vertical(id="picker-right"):
                    yield Static("", id="picker-target")
                    yield Static("", id="picker-counts")
                    yield Static("", id="picker-note")
                    yield LineList(hang=14, id="picker-preview")
                    yield Static("", id="picker-message")
            yield Label("type to search  up/down choose  enter move  " + (
                "ctrl+n new scope…  " if self.systemd_host else "") + "esc cancel", id="picker-help")

    def on_resize(self) -> None:
        self.set_class(self.app.size.width < self.NARROW, "narrow")

    def on_mount(self) -> None:
        self.set_class(self.app.size.width < self.NARROW, "narrow")
        self.query_one("#fuzzy-input", Input).focus()
        self.query_one("#picker-preview", LineList).can_focus = False
        self._schedule()

    @property
    def fuzzy(self) -> FuzzyPaths:
        return self.query_one(FuzzyPaths)

    @property
    def target(self) -> CgroupRef | None:
        """The highlighted cgroup."""
        item = self.fuzzy.highlighted
        return CgroupRef(*self.matcher.ref(item)) if item is not None else None

    @property
    def target_path(self) -> str | None:
        """The highlighted cgroup's path (in `target.hierarchy`)."""
        target = self.target
        return target.path if target is not None else None

    @property
    def plan_path(self) -> str | None:
        """The path the shown plan is for."""
        return self.matcher.ref(self.plan_item)[1] if self.plan_item is not None else None

    def note(self, target: CgroupRef) -> str:
        """What the preview says of the hierarchy a move into `target` changes."""
        words = []
        if target.hierarchy != self.hierarchy:
            words.append(f"Moves in {display(target.hierarchy)}, not in {display(self.hierarchy)} (the "
                         "hierarchy shown).")
        v1 = hierarchy_note(target, self.snapshot)
        if v1:
            words.append(v1)
        return " ".join(words)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`ctrl+n` only on a systemd host; `ctrl+k` only while systemd would refuse the plan shown."""
        if action == "new_scope":
            return self.systemd_host
        if action == "kernel":
            return self.systemd_refused() is not None
        return True

    def scope_slice(self) -> str | None:
        """The slice the highlighted cgroup is in (the nearest `*.slice` at or above it; None:
        systemd's default)."""
        path = self.target_path or ""
        slices = [part for part in path.split("/") if part.endswith(".slice")]
        return slices[-1] if slices else None

    def systemd_refused(self) -> str | None:
        """When the plan shown is refused by systemd (a unit that is not delegated) and the
        kernel write would be a choice: the risk of that write, one sentence or two; else None."""
        plan = self.plan
        if not self.systemd_host or plan is None or self.plan_item != self.fuzzy.highlighted or plan.summary().get(
                "move") or not any(v.hook == "systemd-route" and v.errno is None for v in plan.verdicts):
            return None
        place = unit_place(plan.target.path)
        if place is None:
            return None
        unit, kind, _ = place
        return risk_for(risk_kind(kind, False), "kernel", unit)

    def action_new_scope(self) -> None:
        """`ctrl+n`: ask the new scope's name and properties, then plan it."""
        if not self.systemd_host:
            return
        from ctrtui.ui.screens.newscope import NewScope

        what = plural(len(self.pids), "thread" if self.threads else "process")
        self.app.push_screen(NewScope(what, self.scope_slice()), self._scope_asked)

    def _scope_asked(self, request: ScopeRequest | None) -> None:
        if request is not None:
            self._set_message(f"Planning the new scope {display(request.name)}...")
            self._plan_other(request, "auto")

    def action_kernel(self) -> None:
        """`ctrl+k`: plan the highlighted move again as the kernel write (asked for), then confirm it."""
        if self.systemd_refused() is None or self.plan is None:
            return
        self._set_message("Planning the kernel write...")
        self._plan_other(self.plan.target, "kernel")

    @work(thread=True, exclusive=True, group="target-preview", name="scope or kernel plan", exit_on_error=False)
    def _plan_other(self, where: ScopeRequest | CgroupRef, via: Via) -> None:
        """Plan a new scope (`where` a ScopeRequest) or the kernel write into `where`, and go
        on with it (`_other_planned`); a refusal before planning is said under the preview."""
        try:
            if isinstance(where, ScopeRequest):
                plan = self.engine.plan_scope(self.pids, where)
            else:
                plan = self.engine.plan(self.pids, where, threads=self.threads, expected_start=self.expected_start,
                                        via=via)
        except Exception as exc:  # noqa: BLE001 - said under the preview, never a crash
            from ctrtui.report import describe_error

            self.app.call_from_thread(self._set_message, describe_error(exc), True)
            return
        self.app.call_from_thread(self._other_planned, plan)

    def _other_planned(self, plan: Plan) -> None:
        """A new scope's or a kernel write's plan: confirmed and applied when something would move."""
        if not plan.summary().get("move"):
            refusals = [v.reason for v in plan.verdicts if v.kind == "refused" and v.reason]
            self._set_message(nothing_would_move(plan) + (f": {refusals[0]}" if refusals else "") +
                              ". Pick another cgroup or name, or press escape.", error=True)
            return
        self.dismiss(plan)

    def action_list(self, action: str) -> None:
        self.fuzzy.move(action)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_apply()

    @on(OptionList.OptionHighlighted)
    @on(OptionList.OptionSelected)
    @on(Input.Changed)
    def _schedule(self) -> None:
        """Plan the highlighted target after a short pause in typing (also on a new
        highlight or choice in the list)."""
        item = self.fuzzy.highlighted
        self._apply_when_ready = False
        self._set_message("")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if item is None:
            self.plan, self.plan_item = None, None
            self.query_one("#picker-target", Static).update(Content("No cgroup matches."))
            self.query_one("#picker-counts", Static).update(Content(""))
            self._set_static("#picker-note", Content(""))
            self.query_one("#picker-preview", LineList).set_lines([])
            return
        if item == self.plan_item:
            return
        target = CgroupRef(*self.matcher.ref(item))
        self._set_static("#picker-target", Content.assemble("-> ", content(str(target), "bold")))
        self._set_static("#picker-note", message(self.note(target)))
        self._set_static("#picker-counts", Content.styled("planning...", "$text-muted"))
        self._timer = self.set_timer(self.debounce, lambda: self._timer_fired(item))

    def _timer_fired(self, item: str) -> None:
        self._timer = None
        self._plan(item)

    @work(thread=True, exclusive=True, group="target-preview", name="target preview", exit_on_error=False)
    def _plan(self, item: str) -> None:
        worker = get_current_worker()
        try:
            plan = self.engine.plan(self.pids, CgroupRef(*self.matcher.ref(item)), threads=self.threads,
                                    expected_start=self.expected_start)
        except Exception as exc:  # shown in the preview, never a crash
            if not worker.is_cancelled:
                self.post_message(self.Planned(item, error=f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(self.Planned(item, plan))

    @on(Planned)
    def _show_plan(self, event: Planned) -> None:
        if event.path != self.fuzzy.highlighted:
            return  # the highlight moved on meanwhile
        preview = self.query_one("#picker-preview", LineList)
        if event.error:
            self.plan, self.plan_item = None, None
            self.query_one("#picker-counts", Static).update(Content.styled("could not plan", "bold $error"))
            preview.set_lines([message(event.error, "$error")])
            self._apply_when_ready = False
            return
        if event.plan is None:
            return
        self.plan, self.plan_item = event.plan, event.path
        counts = event.plan.summary()
        self.query_one("#picker-counts", Static).update(counts_content(counts, KIND_WORDS, KIND_STYLE))
        preview.set_lines(plan_lines(event.plan))
        risk = self.systemd_refused()
        if risk is not None:
            self._set_message("systemd would refuse this move. ctrl+k: write the kernel file anyway. " + risk)
        self.refresh_bindings()
        if self._apply_when_ready:
            self._apply_when_ready = False
            self.action_apply()

    def _set_static(self, selector: str, shown: Content) -> None:
        """Update a Static only when its content changes (each update costs a layout)."""
        widget = self.query_one(selector, Static)
        if str(widget.content) != str(shown):
            widget.update(shown)

    def _set_message(self, text: str, error: bool = False) -> None:
        """Show `text` (a message: names in it put with `display()`) under the preview."""
        self._set_static("#picker-message", message(text))
        self.query_one("#picker-message", Static).set_class(error, "error")

    def action_apply(self) -> None:
        """Dismiss with the plan of the highlighted target, if anything would move."""
        item = self.fuzzy.highlighted
        if item is None:
            self._set_message("No cgroup matches; change the search.", error=True)
            return
        if self.plan is None or self.plan_item != item:
            self._apply_when_ready = True
            self._set_message("Planning... the move starts when the preview is ready.")
            if self._timer is not None:  # skip the rest of the debounce
                self._timer.stop()
                self._timer = None
                self._plan(item)
            return
        if not self.plan.summary().get("move"):
            self._set_message(nothing_would_move(self.plan) + ". Pick another cgroup or press escape.", error=True)
            return
        self.dismiss(self.plan)
