"""The snapshot model: immutable, no I/O, nothing of ours imported."""

from ctrtui.model.snapshot import (
    EMPTY,
    Container,
    Hierarchy,
    HierarchyDiff,
    HierarchySnapshot,
    Snapshot,
    SnapshotDiff,
    common_ancestor,
    contains,
    diff,
    diff_hierarchy,
    find_hierarchy,
    is_ancestor,
    join_path,
    parent_path,
    sorted_pids,
)
from ctrtui.model.systemd import UNIT_KINDS, systemd_unit, unit_kind
from ctrtui.model.task import (
    PF_EXITING,
    PF_KTHREAD,
    PF_NO_SETAFFINITY,
    CgroupRef,
    CgroupState,
    Creds,
    TaskInfo,
    TaskRef,
)

__all__ = [
    "EMPTY", "Container", "Hierarchy", "HierarchyDiff", "HierarchySnapshot", "Snapshot",
    "SnapshotDiff", "common_ancestor", "contains", "diff", "diff_hierarchy", "find_hierarchy", "is_ancestor",
    "join_path", "parent_path", "sorted_pids", "PF_EXITING", "PF_KTHREAD", "PF_NO_SETAFFINITY",
    "CgroupRef", "CgroupState", "Creds", "TaskInfo", "TaskRef", "UNIT_KINDS", "systemd_unit", "unit_kind",
]
