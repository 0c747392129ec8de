"""The old path of `ctrtui.engine.cgroupops` (cgroup operations), kept for importers until the merge."""

from ctrtui.engine import cgroupops as _cgroupops

OPS = _cgroupops.OPS  # moved: ctrtui.engine.cgroupops
CgroupOps = _cgroupops.CgroupOps  # moved: ctrtui.engine.cgroupops
OpRefusal = _cgroupops.OpRefusal  # moved: ctrtui.engine.cgroupops
OpResult = _cgroupops.OpResult  # moved: ctrtui.engine.cgroupops
child_ref = _cgroupops.child_ref  # moved: ctrtui.engine.cgroupops
name_problem = _cgroupops.name_problem  # moved: ctrtui.engine.cgroupops
undo_any = _cgroupops.undo_any  # moved: ctrtui.engine.cgroupops

__all__ = ["OPS", "CgroupOps", "OpRefusal", "OpResult", "child_ref", "name_problem", "undo_any"]
