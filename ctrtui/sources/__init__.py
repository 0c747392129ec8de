"""Where snapshots come from and where writes go: the backends (see `base` for the contract,
docs/backends.md for the whole story).

`open_backend(spec)` opens a backend by name. This module stays free of `typing`: the
command line's fast paths (`ctrtui hierarchies`, `ls`, `tasks`) import it, and the protocol
classes of `base` (which need `typing`) are loaded on first use.
"""

from __future__ import annotations

from ctrtui.errors import CtrtuiError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from ctrtui.sources.base import Backend, Reader

__all__ = [
    "Backend", "BackendSpecError", "CAPABILITIES",
    "CGROUP_ADMIN", "MembershipFile", "POLL_EXITS", "Reader", "SPECS", "SYSTEMD_UNITS", "TASK_PROBES",
    "TaskHandle", "WRITE", "Writer", "identity_of", "membership_file", "open_backend", "read_only_reason",
]

# The optional capabilities a backend declares in its `capabilities` set (see base.py):
WRITE = "write"
"""It writes: it implements `base.Writer` (membership writes, pidfds, credentials)."""
TASK_PROBES = "task-probes"
"""It reads a task's facts under a handle on it: `base.TaskProber`."""
POLL_EXITS = "poll-exits"
"""It tells which of many held tasks exited in one call: `base.ExitPoller`."""
CGROUP_ADMIN = "cgroup-admin"
"""It creates, removes, freezes and thaws cgroups: `base.CgroupAdmin`."""
SYSTEMD_UNITS = "systemd-units"
"""systemd is PID 1 and manages a hierarchy: it tells which unit owns a cgroup, whether it is
delegated, and moves running tasks into a delegated unit: `base.SystemdUnits`."""
CAPABILITIES = frozenset({WRITE, TASK_PROBES, POLL_EXITS, CGROUP_ADMIN, SYSTEMD_UNITS})

SPECS = {
    "local": "the real cgroup hierarchies of this machine (/sys/fs/cgroup)",
    "demo": "the simulated demo world",
    "demo:hostile": "a simulated world of hostile names (for trying the escaping)",
    "demo:systemd": "the demo world with systemd as PID 1 managing it (user managers, docker scopes delegated)",
}
"""The specs `open_backend` opens, with what each is."""

_LATER = {
    "ssh": ("a remote host is not opened as a backend here: the engine, its pidfd guard and its journal must run "
            "on the host that owns the tasks; use --host [USER@]HOST[:PORT] (docs/hosts.md), which runs "
            "ctrtui's agent there"),
    "recording": "recorded snapshots are not supported yet",
}

_FROM_BASE = ("Backend", "MembershipFile", "Reader", "TaskHandle", "Writer", "membership_file")


def __getattr__(name: str) -> object:
    if name in _FROM_BASE:
        from ctrtui.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class BackendSpecError(CtrtuiError):
    """A backend spec that names no backend this ctrtui can open (the message names it)."""


def identity_of(spec: str) -> str:
    """The identity of the backend `spec` names, without opening it (`ctrtui log` reads a
    backend's journal without touching the backend): today each spec is its own identity.
    `BackendSpecError` as `open_backend` for a spec it cannot open."""
    if spec in SPECS:
        return spec
    _refuse(spec)


def _refuse(spec: str) -> NoReturn:
    """`BackendSpecError` naming `spec`: a later kind (SSH, a recording) or an unknown name."""
    from ctrtui.text import display

    known = ", ".join(SPECS)
    if spec.startswith("ssh://"):
        raise BackendSpecError(f"cannot open backend '{display(spec)}': {_LATER['ssh']}; known backends: {known}")
    if spec.startswith("recording:") or spec.endswith((".json", ".jsonl")):
        raise BackendSpecError(f"cannot open backend '{display(spec)}': {_LATER['recording']}; known backends: "
                               f"{known}")
    raise BackendSpecError(f"unknown backend '{display(spec)}'; known backends: {known}")


def open_backend(spec: str = "local") -> Backend:
    """The backend a spec names: `local` (the real /sys/fs/cgroup; on a host where systemd
    manages it, with systemd's route of moves: sources/systemdhost.py), `demo` (the simulated
    demo world) or `demo:hostile` (the world of hostile names the escaping is tested on).
    `ssh://[user@]host[:port]` is recognised and refused with a pointer to `--host` (a remote
    host is read through `ctrtui.remote.RemoteReader` and changed by its own agent, never
    written from here); recording files are recognised and refused until they are built. Any
    other spec: `BackendSpecError` naming it and the known ones."""
    if spec == "local":
        from ctrtui.sources.systemdhost import local_backend

        return local_backend()
    if spec == "demo":
        from ctrtui.sources.demo import demo_world

        return demo_world()
    if spec == "demo:systemd":
        from ctrtui.sources.demo import demo_world

        return demo_world(systemd=True)
    if spec == "demo:hostile":
        from ctrtui.sources.hostile import hostile_world

        return hostile_world()
    _refuse(spec)


def read_only_reason(backend: Reader) -> str | None:
    """Why no move may be made through `backend` (a few words, e.g. `not root`), or None
    when moves may be made: a backend without a writer (it does not declare `WRITE`) is
    read-only; one with a writer says itself (`write_access()`)."""
    from ctrtui.sources.base import writer_of  # only the UI asks: typing is loaded there anyway

    writer = writer_of(backend)
    if writer is None:
        return "this backend cannot move tasks"
    return writer.write_access()
