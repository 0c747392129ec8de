"""Shell completion for bash and zsh, through argcomplete.

Installed by one line in the shell's rc file (README: "Shell completion"):

    eval "$(register-python-argcomplete ctrtui)"                # bash
    eval "$(register-python-argcomplete --shell zsh ctrtui)"    # zsh (after compinit)

The shell then runs `ctrtui` with `_ARGCOMPLETE` in the environment; `ctrtui.cli.entry.run` sees
it before anything else and calls `complete()`, which builds the argparse parser, hangs the
`HIERARCHY:/path` completer on every cgroup argument and lets argcomplete answer (it exits).
argcomplete (~7 ms to import) is imported only then: a normal run never loads it, so
`ctrtui hierarchies` starts as fast as before.

Subcommands and options come from the parser; `HIERARCHY:/path` from the live hierarchy of
the backend the line names (`--demo`: the demo world): a hierarchy name first, then the
children of the path typed so far, read from the backend. Names are offered as ctrtui shows
them (escaped: `\\x1b` for ESC), which is what the command line accepts back.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def cgroup_candidates(prefix: str, spec: str = "local") -> list[str]:
    """Completions of `prefix` as a `HIERARCHY:/path`: hierarchy names (`freezer:/`) while
    there is no `:`, then the child cgroups of the last complete level of the path."""
    from ctrtui.model import find_hierarchy
    from ctrtui.model.snapshot import join_path
    from ctrtui.sources import open_backend
    from ctrtui.text import display

    backend = open_backend(spec)
    hiers = backend.hierarchies()
    if ":" not in prefix:
        return [f"{display(h.name)}:/" for h in hiers if display(h.name).startswith(prefix)]
    word, _, path = prefix.partition(":")
    h = find_hierarchy(hiers, word)
    if h is None:
        return []
    path = path or "/"
    if not path.startswith("/"):
        path = "/" + path
    parent = path.rsplit("/", 1)[0] or "/"
    from ctrtui.text import parse

    try:
        real_parent = parse(parent)
    except ValueError:
        return []
    try:
        snap = backend.snapshot([h.name], subtree=real_parent)[h.name]
    except (OSError, KeyError, ValueError):
        return []
    c = snap.get(real_parent) if hasattr(snap, "get") else None
    if c is None:
        return []
    out = []
    for child in c.children:
        shown = display(join_path(real_parent, child.rsplit("/", 1)[1]))
        below = snap.get(child)
        # a cgroup with children ends in `/`: the shell adds no space, the next TAB goes on down
        candidate = f"{word}:{shown}" + ("/" if below is not None and below.children else "")
        if candidate.startswith(prefix):
            out.append(candidate)
    return out


def _completer(prefix: str, parsed_args: argparse.Namespace | None = None, **_: Any) -> list[str]:
    demo = getattr(parsed_args, "demo", False)
    spec = f"demo:{demo}" if demo in ("hostile", "systemd") else "demo" if demo else "local"
    try:
        return cgroup_candidates(prefix, spec)
    except Exception:  # noqa: BLE001 - a completion must never print a traceback into the shell
        return []


def complete(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request (argcomplete exits) with `HIERARCHY:/path`
    completed from the live hierarchy. Returns only when the environment asks nothing."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    for action in _cgroup_actions(parser):
        action.completer = _completer  # type: ignore[attr-defined]
    argcomplete.autocomplete(parser)


def _cgroup_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every argument of `parser` and its subparsers whose metavar is `HIERARCHY:/path`."""
    import argparse

    defined = getattr(parser, "_defined", None)
    if defined is not None:  # cli.parser.build_parser adds a subcommand's arguments on first use
        defined()
    found = []
    for action in parser._actions:
        if action.metavar == "HIERARCHY:/path":
            found.append(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(_cgroup_actions(sub))
    return found
