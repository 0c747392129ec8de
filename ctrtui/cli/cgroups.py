"""The command line's cgroup ops: `ctrtui mkdir | rmdir | freeze | thaw HIERARCHY:/path`.

Each is checked first (engine/ops.py `CgroupOps.check`: the name rules, an empty cgroup to
remove, a hierarchy with a freezer), journaled and undoable with `ctrtui undo`, like a move.
Exit codes as `ctrtui move`: 0 done, 1 refused (by the kernel, or predicted: the kernel would
refuse), 2 bad usage (an unknown hierarchy, a missing cgroup to remove or freeze, a path the
command line cannot take).
"""

from __future__ import annotations

import sys

from ctrtui.cli import common
from ctrtui.cli.common import (
    EXIT_NOT_ALL,
    EXIT_OK,
    UsageError,
    display,
    print_json,
    print_warnings,
    resolve,
    scrub,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from ctrtui.engine.opvalues import OpResult
    from ctrtui.model import CgroupRef, Hierarchy
    from ctrtui.service.protocol import Service


def new_cgroup_ref(text: str) -> CgroupRef:
    """The cgroup `mkdir` is to create, checked for its form only (it must name a path
    below the root); UsageError otherwise."""
    from ctrtui.model import CgroupRef

    try:
        ref = CgroupRef.parse(text)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if ref.path == "/":
        raise UsageError(f"'{display(text)}': give the new cgroup's path, e.g. {display(ref.hierarchy)}:/parent/name")
    return ref


def _target(service: Service, text: str, op: str) -> tuple[Hierarchy, str]:
    """(Hierarchy, path) of the cgroup `text` names. For mkdir the cgroup must not exist yet:
    its parent is resolved instead (and must exist)."""
    from ctrtui.model.snapshot import join_path

    if op != "mkdir":
        found: tuple[Hierarchy, str] = resolve(service, text)
        return found
    ref = new_cgroup_ref(text)
    parent, name = ref.path.rsplit("/", 1)
    h, ppath = resolve(service, f"{ref.hierarchy}:{parent or '/'}")
    return h, join_path(ppath, name)


def cmd_op(args: argparse.Namespace) -> int:
    from ctrtui.model import CgroupRef

    op = args.command
    service = common.command_service(args, writes=True)
    h, path = _target(service, args.cgroup, op)
    result = service.cgroup_op(op, CgroupRef(h.name, path))
    return print_op(result, args.json)


def print_op(result: OpResult, as_json: bool) -> int:
    """Print what an op did (JSON: one object); 0 done, 1 refused."""
    print_warnings(result.warnings)
    if as_json:
        print_json(result.as_dict())
    else:
        line = result.sentence()
        if result.ok and result.batch_id:
            line += f" (batch {result.batch_id}" + ("" if result.journaled else ", not journaled") + ")"
        print(scrub(line), file=sys.stdout if result.ok else sys.stderr)
    return EXIT_OK if result.ok else EXIT_NOT_ALL
