"""What the terminal UI shows now, in one object (`Session`) that the app owns and hands to
its helpers (`LiveView`, `Moves`, `Navigator`, `DetailFeed`, `StatsFeed`, `CgroupActions`,
`HostFeed`; with a `ctrtui.ui.screenside.ScreenSide`, never the App): the shown
host's reader, mover, service (this machine's) and cgroup ops, the hierarchy shown, the last snapshot, the
view flags and why moves are off. Switching host changes it in one place (`use`), so no
helper keeps a copy of another host's backend. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ctrtui.model import HierarchySnapshot, Snapshot
from ctrtui.service.local import LocalService
from ctrtui.sources.base import Reader
from ctrtui.ui.hostmovers import CgroupOpsLike, Mover
from ctrtui.ui.hostviews import Link

T = TypeVar("T")


@dataclass(eq=False)
class Session:
    """The state every part of the UI reads (the app's own attributes of the same names are
    this object's: `SessionField`)."""

    backend: Reader
    """The shown host's reader (its moves go through `mover`)."""
    mover: Mover
    """The shown host's mover: this machine's `LocalMover`, or a remote host's `RemoteMover`;
    `Moves` calls its `plan`, `apply` and `undo`."""
    service: LocalService | None = None
    """The shown host's service when it is this machine (its policy and journal are checked
    through it), else None."""
    ops: CgroupOpsLike | None = None
    """The shown host's cgroup ops (`check`, `frozen`, `run`: what `CgroupActions` calls)."""
    hier: str = ""
    """The hierarchy shown (at first: `ctrtui.ui.start`'s rule)."""
    snapshot: Snapshot | None = None
    """The last snapshot of every mounted hierarchy (the shown one is the freshest)."""
    hierarchy_names: list[str] = field(default_factory=list)
    """The hierarchies of the shown host, in the switcher's order."""
    threads: bool = False
    """Threads view instead of processes."""
    recursive: bool = False
    """Task list shows the whole subtree."""
    read_only_reason: str | None = None
    """Why moves are refused (None: moves work)."""
    policy_error: str | None = None
    """Why the policy cannot be used (it could not be read, or is invalid): every move is
    refused with this sentence until the file is fixed. None: the policy is fine."""

    @property
    def hs(self) -> HierarchySnapshot | None:
        """The shown hierarchy's last snapshot."""
        return self.snapshot.get(self.hier) if self.snapshot is not None else None

    def stale(self, source: object) -> bool:
        """A read of a backend no longer shown (a host left behind): to be dropped."""
        return source is not None and source is not self.backend

    def use(self, link: Link) -> None:
        """Read, move and change cgroups through another host's `link` from now on."""
        self.backend, self.mover, self.service, self.ops = link.backend, link.mover, link.service, link.ops


class SessionField(Generic[T]):
    """An attribute of the app that is its session's attribute of the same name, or of
    `name` (kept so that code and tests reading `app.hier` still do)."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        """The session's attribute (default: the app's attribute's own name)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.name or name

    def __get__(self, obj: Any, objtype: type | None = None) -> T:
        if obj is None:  # looked up on the class (introspection)
            return self  # type: ignore[return-value]
        value: T = getattr(obj.session, self.name)
        return value

    def __set__(self, obj: Any, value: T) -> None:
        setattr(obj.session, self.name, value)
