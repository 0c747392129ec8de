"""The attach engine: every move is planned (hooks), written, verified and journaled here.

    from ctrtui.engine import AttachEngine
    engine = AttachEngine(backend)
    plan = engine.plan([1234, "5678"], CgroupRef("freezer", "/a"))
    report = engine.apply(plan)
    engine.undo()

Hooks judge a whole plan at once (`HookBatch`, see `ctrtui.engine.hooks`); the older per-PID
`can_attach(ctx)` hooks are still accepted.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctrtui.engine.builtinhooks import BUILTIN_HOOKS, builtin_hooks
    from ctrtui.engine.engine import AttachEngine
    from ctrtui.engine.hooks import AlreadyThere, BatchHook, Hook, HookBatch, HookContext, HookWarning, Refusal, Warning
    from ctrtui.engine.journal import Journal, default_journal_path
    from ctrtui.engine.parse import PidParseError, kernel_parse, parse_pid
    from ctrtui.engine.plugins import load_entry_point_hooks
    from ctrtui.engine.policy import CgroupRule, Policy, PolicyHook, default_policy_path
    from ctrtui.engine.values import OUTCOMES, VERDICT_KINDS, Outcome, OutcomeKind, Plan, Report, Verdict, VerdictKind

_WHERE = {
    "BUILTIN_HOOKS": "ctrtui.engine.builtinhooks",
    "builtin_hooks": "ctrtui.engine.builtinhooks",
    "AttachEngine": "ctrtui.engine.engine",
    "AlreadyThere": "ctrtui.engine.hooks",
    "BatchHook": "ctrtui.engine.hooks",
    "Hook": "ctrtui.engine.hooks",
    "HookBatch": "ctrtui.engine.hooks",
    "HookContext": "ctrtui.engine.hooks",
    "HookWarning": "ctrtui.engine.hooks",
    "Refusal": "ctrtui.engine.hooks",
    "Warning": "ctrtui.engine.hooks",
    "Journal": "ctrtui.engine.journal",
    "default_journal_path": "ctrtui.engine.journal",
    "PidParseError": "ctrtui.engine.parse",
    "kernel_parse": "ctrtui.engine.parse",
    "parse_pid": "ctrtui.engine.parse",
    "load_entry_point_hooks": "ctrtui.engine.plugins",
    "CgroupRule": "ctrtui.engine.policy",
    "Policy": "ctrtui.engine.policy",
    "PolicyHook": "ctrtui.engine.policy",
    "default_policy_path": "ctrtui.engine.policy",
    "OUTCOMES": "ctrtui.engine.values",
    "VERDICT_KINDS": "ctrtui.engine.values",
    "Outcome": "ctrtui.engine.values",
    "OutcomeKind": "ctrtui.engine.values",
    "Plan": "ctrtui.engine.values",
    "Report": "ctrtui.engine.values",
    "Verdict": "ctrtui.engine.values",
    "VerdictKind": "ctrtui.engine.values",
}
"""Where each name of the package lives: imported when first asked for (`from ctrtui.engine
import X` included), so importing one of the engine's modules -- the journal for `ctrtui
log`, the values for the wording -- does not import all the others."""


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ctrtui.engine' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AttachEngine", "Plan", "Verdict", "Report", "Outcome", "Hook", "HookContext", "Refusal",
    "Warning", "HookWarning", "AlreadyThere", "BUILTIN_HOOKS", "builtin_hooks", "Journal",
    "default_journal_path", "Policy", "PolicyHook", "CgroupRule", "default_policy_path",
    "PidParseError", "parse_pid", "kernel_parse", "load_entry_point_hooks", "BatchHook", "HookBatch",
    "VerdictKind", "OutcomeKind", "VERDICT_KINDS", "OUTCOMES",
]
