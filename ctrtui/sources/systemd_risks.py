"""What systemd does to a task placed in one of its units, as measured in the lab (systemd
252, pure cgroup v2: tests/lab/test_lab_systemd.py checks every cell, docs/systemd.md shows
the table), and the risk sentence per unit kind that follows from it (`risk_for`).

Kinds: `service`, `scope` (neither delegated), `delegated-service` and `delegated-scope` (a
cgroup below a `Delegate=yes` unit's own), `slice`, `new-scope` (the task's own new transient
scope, made through systemd). Placed by `kernel` (a `cgroup.procs` write) or `systemd` (AttachProcessesToUnit;
for a slice and a new scope, StartTransientUnit). Stdlib only, no I/O: it travels with the
sources.
"""

from __future__ import annotations

from ctrtui.text import display

__all__ = ["ACTIONS", "FACTS", "KINDS", "PLACED_BY", "REFUSALS", "risk_for", "risk_kind"]

KINDS = ("service", "scope", "delegated-service", "delegated-scope", "slice", "new-scope")
PLACED_BY = ("kernel", "systemd")
ACTIONS = ("stop", "restart", "daemon-reload")

#: (kind, placed by) -> {action: outcome}; outcome `killed`, `left` (alive where it was
#: placed), `moved` (alive, elsewhere), `not-applicable` (systemctl refuses the action: a
#: scope cannot be restarted; the task is left) or `refused` (the placement itself was
#: refused, so no action applies). A new scope is made through systemd only.
FACTS: dict[tuple[str, str], dict[str, str]] = {
    ("service", "kernel"): {"stop": "killed", "restart": "killed", "daemon-reload": "left"},
    ("service", "systemd"): {"stop": "refused", "restart": "refused", "daemon-reload": "refused"},
    ("scope", "kernel"): {"stop": "killed", "restart": "not-applicable", "daemon-reload": "left"},
    ("scope", "systemd"): {"stop": "refused", "restart": "refused", "daemon-reload": "refused"},
    ("delegated-service", "kernel"): {"stop": "killed", "restart": "killed", "daemon-reload": "left"},
    ("delegated-service", "systemd"): {"stop": "killed", "restart": "killed", "daemon-reload": "left"},
    ("delegated-scope", "kernel"): {"stop": "killed", "restart": "not-applicable", "daemon-reload": "left"},
    ("delegated-scope", "systemd"): {"stop": "killed", "restart": "not-applicable", "daemon-reload": "left"},
    ("slice", "kernel"): {"stop": "refused", "restart": "refused", "daemon-reload": "refused"},
    ("slice", "systemd"): {"stop": "killed", "restart": "left", "daemon-reload": "left"},
    ("new-scope", "systemd"): {"stop": "killed", "restart": "not-applicable", "daemon-reload": "left"},
}

#: Who refuses a placement the FACTS mark `refused`, and what it says (the errno name or
#: systemd's D-Bus error name, as the lab saw it).
REFUSALS: dict[tuple[str, str], str] = {
    ("service", "systemd"): "org.freedesktop.DBus.Error.InvalidArgs",
    ("scope", "systemd"): "org.freedesktop.DBus.Error.InvalidArgs",
    ("slice", "kernel"): "EBUSY",
}

_WHY_REFUSED = {
    "systemd": ("systemd refuses to move running tasks into a unit that is not delegated (\"Process migration "
                "not available on non-delegated units\"): start a new scope for them, or write the cgroup "
                "directly (--via kernel)"),
    "kernel": ("the kernel refuses a task in a slice's own cgroup (EBUSY: the slice enables controllers for its "
               "children, and a cgroup that does keeps no tasks of its own): put it in a scope in the slice"),
}
_NOUN = {"service": "the service", "scope": "the scope", "delegated-service": "the delegated service",
         "delegated-scope": "the delegated scope", "slice": "the slice", "new-scope": "the new scope"}
_WHAT = {"stop": "systemctl stop", "restart": "systemctl restart", "daemon-reload": "systemctl daemon-reload"}


def risk_kind(kind: str, delegated: bool) -> str:
    """The FACTS kind of a placement in a unit of `kind` (`service`, `scope`, `slice`, ...):
    `delegated-scope`/`delegated-service` for a delegated one, else its own kind. A socket,
    mount or swap (or a delegated slice) counts as a service: stopping or restarting it
    kills what its cgroup holds."""
    if kind not in ("service", "scope", "slice") or (delegated and kind == "slice"):
        kind = "service"
    return f"delegated-{kind}" if delegated else kind


def risk_for(unit_kind: str, placed_by: str, unit: str = "") -> str:
    """The risk, in one or two sentences, of a task placed in a unit of `unit_kind` (a KINDS
    name: see risk_kind) by `placed_by` (`kernel` or `systemd`), following FACTS: what
    stopping, restarting and reloading do to it. `unit` (escaped here) names the unit."""
    name = display(unit) if unit else _NOUN.get(unit_kind, "the unit")
    facts = FACTS.get((unit_kind, placed_by))
    if facts is None:
        return (f"systemd owns {name}: stopping it kills what its cgroup holds, so the task may die with it; "
                "ctrtui has not measured this kind of unit.")
    if set(facts.values()) == {"refused"}:
        return _sentence(_WHY_REFUSED[placed_by])
    by_outcome: dict[str, list[str]] = {}
    for action in ACTIONS:
        by_outcome.setdefault(facts[action], []).append(_WHAT[action])
    parts = []
    if "killed" in by_outcome:
        parts.append(f"{' or '.join(by_outcome['killed'])} of {name} kills the task: it now lives and dies with "
                     "that unit")
    if "moved" in by_outcome:
        parts.append(f"{' or '.join(by_outcome['moved'])} moves it elsewhere")
    if "not-applicable" in by_outcome:
        parts.append(f"{' or '.join(by_outcome['not-applicable'])} does not apply to a scope")
    if "left" in by_outcome:
        parts.append(f"{' and '.join(by_outcome['left'])} leave{'s' if len(by_outcome['left']) == 1 else ''} it "
                     "where it is")
    return _sentence("; ".join(parts))


def _sentence(text: str) -> str:
    """`text` as a sentence: a capital first letter (not on a command or systemd's name), a full stop."""
    first = text.split(" ", 1)[0]
    return (text if first in ("systemctl", "systemd") else text[:1].upper() + text[1:]) + "."
