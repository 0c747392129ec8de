"""The systemd route of a move: which way a plan's tasks go where systemd is PID 1 and manages
the hierarchy (the backend declares `SYSTEMD_UNITS`), and the hook that predicts systemd's
refusals.

What the lab showed (docs/systemd.md, ctrtui/sources/systemd_risks.py):

- a delegated unit (`Delegate=yes`), or a cgroup below one, takes running tasks through
  systemd (`AttachProcessesToUnit(unit, subcgroup, pids)`): the plan's `route` is `systemd`;
- a service or scope that is not delegated: systemd refuses ("Process migration not available
  on non-delegated units"), so the hook refuses the move too, unless the person asked for the
  kernel write (`--via kernel`), after which the task lives and dies with that unit;
- a slice's own cgroup: the kernel refuses a task there (EBUSY: a slice enables controllers
  for its children and so keeps no tasks of its own);
- a new transient scope (`move --scope NAME`, route `scope`): systemd starts it holding the
  tasks (StartTransientUnit); a name already loaded is refused (UnitExists).

Thread mode and a v1 hierarchy stay kernel writes: systemd attaches whole processes, and
only its own hierarchy knows units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrtui.engine.hooks import BuiltinHook, HookBatch, Judged, Refusal
from ctrtui.sources.base import systemd_units
from ctrtui.sources.systemd_risks import risk_for, risk_kind
from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.engine.values import Route
    from ctrtui.sources.systemd import Placement

__all__ = ["SystemdRoute", "placement_of", "route_of"]


def placement_of(batch: HookBatch) -> Placement | None:
    """The unit that owns the batch's target where systemd manages its hierarchy, else None."""
    units = systemd_units(batch.backend)
    if units is None:
        return None
    return units.unit_placement(batch.hierarchy.name, batch.target.path)


def route_of(batch: HookBatch) -> Route:
    """`systemd` when the target lies in a delegated unit, the batch moves processes and the
    kernel write was not asked for; else `kernel`."""
    if batch.via == "scope":
        return "scope"
    if batch.via == "kernel" or batch.threads:
        return "kernel"
    place = placement_of(batch)
    return "systemd" if place is not None and place.attachable else "kernel"


class SystemdRoute(BuiltinHook):
    """Refusals systemd (or the kernel under it) would give on a systemd host: a slice's own
    cgroup (EBUSY), a unit that is not delegated (systemd's InvalidArgs; the kernel write is
    offered as `--via kernel`). Judged once for the whole batch."""

    name = "systemd-route"

    def judge(self, batch: HookBatch) -> Judged:
        if batch.via == "scope":
            return self._new_scope(batch)
        place = placement_of(batch)
        if place is None or place.attachable:
            return ()
        target = display(str(batch.target))
        unit = display(place.unit)
        if place.kind == "slice" and not place.subcgroup and batch.version == 2:
            why = risk_for("slice", "kernel", place.unit)
            return [(ctx, Refusal("EBUSY", f"{ctx.subject[:1].upper()}{ctx.subject[1:]} cannot go into {target}, "
                                  f"the slice {unit}'s own cgroup: {why[:1].lower()}{why[1:]}",
                                  f"Start a scope for it in the slice: ctrtui move {ctx.pid} --scope NAME "
                                  f"--slice {unit}.")) for ctx in batch.items]
        if batch.via == "kernel" or place.kind == "slice":
            return ()
        kind = risk_kind(place.kind, False)
        why = risk_for(kind, "systemd", place.unit)
        after = risk_for(kind, "kernel", place.unit)
        # the command line's words; elsewhere (the terminal UI) the whole command to type
        kernel = "with --via kernel" if batch.front == "cli" else f"(ctrtui move PID --to {target} --via kernel)"
        return [(ctx, Refusal(None, f"systemd would refuse to move {ctx.subject} into {target}: {unit} is a "
                              f"{place.kind} that is not delegated. {why}",
                              f"Start a new scope for it (ctrtui move {ctx.pid} --scope NAME), or write the cgroup "
                              f"directly {kernel.replace('PID', str(ctx.pid))}: {after[:1].lower()}{after[1:]}"))
                for ctx in batch.items]

    @staticmethod
    def _new_scope(batch: HookBatch) -> Judged:
        """A new scope: refused where its cgroup exists already (a unit of that name is loaded:
        systemd's UnitExists)."""
        if batch.target_state is None:
            return ()
        unit = display(batch.target.path.rsplit("/", 1)[-1])
        return [(ctx, Refusal(None, f"systemd would refuse a new scope {unit} for {ctx.subject}: a unit of that name "
                              f"is loaded already ({display(str(batch.target))} exists).",
                              "Choose another name (systemctl list-units --all shows the taken ones)."))
                for ctx in batch.items]
