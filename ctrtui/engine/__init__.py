"""The attach engine: every move is planned (hooks), written, verified and journaled here.

    from ctrtui.engine import AttachEngine
    engine = AttachEngine(backend)
    plan = engine.plan([1234, "5678"], CgroupRef("freezer", "/a"))
    report = engine.apply(plan)
    engine.undo()

Hooks judge a whole plan at once (`HookBatch`, see `ctrtui.engine.hooks`); the older per-PID
`can_attach(ctx)` hooks are still accepted.
"""

from ctrtui.engine.builtinhooks import BUILTIN_HOOKS, builtin_hooks
from ctrtui.engine.engine import AttachEngine
from ctrtui.engine.hooks import (
    AlreadyThere,
    BatchHook,
    Hook,
    HookBatch,
    HookContext,
    HookWarning,
    Refusal,
    Warning,
)
from ctrtui.engine.journal import Journal, default_journal_path
from ctrtui.engine.parse import PidParseError, kernel_parse, parse_pid
from ctrtui.engine.plugins import load_entry_point_hooks
from ctrtui.engine.policy import CgroupRule, Policy, PolicyHook, default_policy_path
from ctrtui.engine.values import OUTCOMES, VERDICT_KINDS, Outcome, OutcomeKind, Plan, Report, Verdict, VerdictKind

__all__ = [
    "AttachEngine", "Plan", "Verdict", "Report", "Outcome", "Hook", "HookContext", "Refusal",
    "Warning", "HookWarning", "AlreadyThere", "BUILTIN_HOOKS", "builtin_hooks", "Journal",
    "default_journal_path", "Policy", "PolicyHook", "CgroupRule", "default_policy_path",
    "PidParseError", "parse_pid", "kernel_parse", "load_entry_point_hooks", "BatchHook", "HookBatch",
    "VerdictKind", "OutcomeKind", "VERDICT_KINDS", "OUTCOMES",
]
