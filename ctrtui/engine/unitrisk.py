"""What a move does to a task's standing with systemd, in sentences: the target unit's risk
(`target_unit_risk`) and the risk of leaving a source unit (`source_unit_risk`).

The words follow what the lab measured (ctrtui/sources/systemd_risks.py's FACTS, through
`risk_for`): systemd never moved a task back; a task written into a unit's cgroup by hand
lives and dies with that unit (`systemctl stop` kills it). Where the backend knows whether
systemd manages the hierarchy and which unit is delegated (`systemd_of(backend)`), the
sentence fits the unit's kind; else the unit is taken as not delegated. Pure logic, no I/O
beyond the backend's own answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrtui.model.systemd import unit_place
from ctrtui.sources.systemd_risks import risk_for, risk_kind
from ctrtui.text import display

if TYPE_CHECKING:
    from ctrtui.sources.base import SystemdUnits

__all__ = ["PERPETUAL", "source_unit_risk", "target_unit_risk"]

PERPETUAL = frozenset({"init.scope"})
"""Units systemd never stops (a manager's own scope: PID 1's, or a user manager's under
`user@UID.service`): `systemctl stop` of one is refused, so the stop wording does not fit."""


def target_unit_risk(hierarchy: str, version: int, path: str, units: SystemdUnits | None) -> str | None:
    """The risk of writing a task into the cgroup `path` of `hierarchy` by hand when a systemd
    unit owns it, as one or two sentences after the unit's name; None when no unit does.

    On a v1 controller hierarchy (not `name=systemd`) systemd tracks a unit's tasks in its
    own hierarchy, not this one: the task takes the unit's limits here and stays what it
    was for systemd."""
    found = unit_place(path)
    if found is None:
        return None
    unit, kind, sub = found
    if version == 1 and hierarchy != "name=systemd":
        return (f"systemd made {display(unit)}'s cgroup here for its limits; the task takes those limits but "
                "stays in its own unit for systemd (which tracks units in its own hierarchy).")
    if unit in PERPETUAL and not sub:
        return (f"{display(unit)} is the service manager's own scope, which systemd never stops: the task stays "
                "there, accounted with the manager, until it is moved again.")
    delegated = False
    if units is not None:
        place = units.unit_placement(hierarchy, path)
        delegated = place is not None and place.delegated
    if kind == "slice" and not sub:
        return (f"{display(unit)} is a slice: systemd keeps tasks only in the services and scopes under it, "
                "and systemctl stop of the slice kills everything in it, this task too.")
    return risk_for(risk_kind(kind, delegated), "kernel", unit)


def source_unit_risk(path: str, target_path: str) -> str | None:
    """What leaving the unit that owns the cgroup `path` means (None when no unit owns it, or
    the target lies in the same unit): the unit no longer accounts the task, and stopping
    it no longer reaches it."""
    found = unit_place(path)
    if found is None:
        return None
    there = unit_place(target_path)
    if there is not None and there[0] == found[0]:
        return None
    if found[0] in PERPETUAL:
        return f"systemd stops accounting it to {display(found[0])}, the service manager's own scope"
    return (f"systemd stops accounting it to {display(found[0])}, and systemctl stop of that unit no longer "
            "reaches it")
