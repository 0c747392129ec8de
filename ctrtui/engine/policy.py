"""User policy: PIDs, commands and cgroups that must not be moved (a hook, errno EPERM).

The file is TOML, by default `$XDG_CONFIG_HOME/ctrtui/policy.toml`:

    [protect]
    pids = [1, 812]                       # never moved, in any mode
    commands = ["sshd", "systemd*"]       # comm, exact or a glob
    cgroups = [
        "/init.scope",                    # nothing moves out of it or into it
        "unified:/system.slice/*",        # only in that hierarchy (a name or controller)
        { pattern = "/quarantine*", direction = "in" },           # nothing moves in
        { pattern = "/kubepods/*", hierarchy = "cpu", direction = "out" },  # nothing moves out
    ]

Cgroup patterns are `fnmatch` globs over the whole path (`*` also matches `/`).
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from typing import Any

from ctrtui.engine.hooks import BuiltinHook, Refusal
from ctrtui.errors import CtrtuiError, os_error_text
from ctrtui.model import Hierarchy
from ctrtui.model.value import Value

__all__ = ["CgroupRule", "Policy", "PolicyHook", "default_policy_path"]

DIRECTIONS = ("out", "in", "both")


def default_policy_path() -> str:
    """`$XDG_CONFIG_HOME/ctrtui/policy.toml` (`~/.config/ctrtui/policy.toml`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ctrtui", "policy.toml")


class CgroupRule(Value):
    """Tasks may not be moved out of (`out`), into (`in`) or either way (`both`) a cgroup
    whose path matches `pattern`, in `hierarchy` (None: every hierarchy)."""

    __slots__ = ("pattern", "hierarchy", "direction")
    _defaults = {"hierarchy": None, "direction": "both"}
    pattern: str
    hierarchy: str | None
    direction: str

    def matches(self, hierarchy: Hierarchy, path: str) -> bool:
        if self.hierarchy is not None and not hierarchy.matches(self.hierarchy):
            return False
        return fnmatchcase(path, self.pattern)

    def __str__(self) -> str:
        where = f"{self.hierarchy}:{self.pattern}" if self.hierarchy else self.pattern
        return f"{where} ({self.direction})"


class Policy(Value):
    """What the user protects. Empty by default; `check` answers for one hook context.
    `source`: the file it was read from (None: built in code)."""

    __slots__ = ("pids", "commands", "cgroups", "source")
    _defaults = {"pids": frozenset(), "commands": (), "cgroups": (), "source": None}
    pids: frozenset[int]
    commands: tuple[str, ...]
    cgroups: tuple[CgroupRule, ...]
    source: str | None

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str) -> "Policy":
        """Read a policy file; CtrtuiError naming the file when it cannot be read or is invalid."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise CtrtuiError(f"cannot read policy file {path}: {os_error_text(e)}; check the path given to --policy "
                              "and its permissions") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CtrtuiError(f"policy file {path} is not UTF-8 text (byte {e.start})") from None
        return cls.from_toml(text, path)

    @classmethod
    def load_default(cls) -> "Policy":
        """The policy at the default path, or an empty one when there is no such file."""
        path = default_policy_path()
        if not os.path.exists(path):
            return cls()
        return cls.load(path)

    @classmethod
    def from_toml(cls, text: str, source: str = "<policy>") -> "Policy":
        """Parse policy TOML; CtrtuiError naming `source` and what is wrong."""
        import tomllib  # only when there is a policy file (~2 ms of every start otherwise)

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise CtrtuiError(f"policy file {source} is not valid TOML: {e}") from None
        unknown = set(doc) - {"protect"}
        if unknown:
            raise CtrtuiError(f"policy file {source}: unknown section {sorted(unknown)[0]!r} (only [protect])")
        prot = doc.get("protect", {})
        if not isinstance(prot, dict):
            raise CtrtuiError(f"policy file {source}: 'protect' must be a table")
        unknown = set(prot) - {"pids", "commands", "cgroups"}
        if unknown:
            raise CtrtuiError(f"policy file {source}: unknown key protect.{sorted(unknown)[0]} "
                              "(known: pids, commands, cgroups)")
        pids = prot.get("pids", [])
        if not isinstance(pids, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0
                                                 for p in pids):
            raise CtrtuiError(f"policy file {source}: protect.pids must be a list of positive integers")
        commands = prot.get("commands", [])
        if not isinstance(commands, list) or not all(isinstance(c, str) and c for c in commands):
            raise CtrtuiError(f"policy file {source}: protect.commands must be a list of command names or globs")
        raw = prot.get("cgroups", [])
        if not isinstance(raw, list):
            raise CtrtuiError(f"policy file {source}: protect.cgroups must be a list")
        rules = tuple(_rule(item, source, i) for i, item in enumerate(raw))
        return cls(frozenset(pids), tuple(commands), rules, source)

    # ------------------------------------------------------------------ judging

    def __bool__(self) -> bool:
        return bool(self.pids or self.commands or self.cgroups)

    def check(self, ctx: Any) -> Refusal | None:
        """A Refusal (errno EPERM) naming the rule when the move in `ctx` is protected."""
        where = f" in {self.source}" if self.source else ""
        advice = (f"Edit the policy{where} if this move is intended." if self.source
                  else "Change the policy if this move is intended.")
        tasks = [t for t in (ctx.given, ctx.task) if t is not None]
        ids = {ctx.pid} | {t.pid for t in tasks} | {t.tgid for t in tasks}
        hit = sorted(ids & self.pids)
        if hit:
            return Refusal("EPERM", f"{ctx.subject} is protected by the policy{where} (protect.pids has "
                           f"{hit[0]}); it was not moved to {ctx.target}.", advice)
        for t in tasks:
            for pat in self.commands:
                if fnmatchcase(t.comm, pat):
                    return Refusal("EPERM", f"{ctx.subject} is protected by the policy{where} (its command "
                                   f"{t.comm!r} matches protect.commands {pat!r}); it was not moved to "
                                   f"{ctx.target}.", advice)
        sources = set(ctx.member_sources.values()) | ({ctx.source} if ctx.source else set())
        for rule in self.cgroups:
            if rule.direction in ("out", "both"):
                for src in sorted(sources):
                    if src != ctx.target.path and rule.matches(ctx.hierarchy, src):
                        return Refusal("EPERM", f"{ctx.subject} sits in {ctx.hierarchy.name}:{src}, which the "
                                       f"policy{where} protects from moves out (rule {rule}); it was not "
                                       f"moved to {ctx.target}.", advice)
            if rule.direction in ("in", "both") and rule.matches(ctx.hierarchy, ctx.target.path):
                return Refusal("EPERM", f"{ctx.target} is protected by the policy{where} from moves in "
                               f"(rule {rule}); {ctx.subject} was not moved.", advice)
        return None

    def hook(self) -> "PolicyHook":
        return PolicyHook(self)


def _rule(item: object, source: str, i: int) -> CgroupRule:
    where = f"policy file {source}: protect.cgroups[{i}]"
    if isinstance(item, str):
        hier, sep, pattern = item.partition(":")
        if sep and not hier.startswith("/"):
            item = {"pattern": pattern, "hierarchy": hier}
        else:
            item = {"pattern": item}
    if not isinstance(item, dict):
        raise CtrtuiError(f"{where} must be a pattern string or a table with 'pattern'")
    unknown = set(item) - {"pattern", "hierarchy", "direction"}
    if unknown:
        raise CtrtuiError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: pattern, hierarchy, direction)")
    pattern, hier, direction = item.get("pattern"), item.get("hierarchy"), item.get("direction", "both")
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise CtrtuiError(f"{where}: 'pattern' must be a cgroup path glob starting with '/', got {pattern!r}")
    if hier is not None and (not isinstance(hier, str) or not hier):
        raise CtrtuiError(f"{where}: 'hierarchy' must be a hierarchy name such as freezer or unified")
    if direction not in DIRECTIONS:
        raise CtrtuiError(f"{where}: 'direction' must be one of out, in, both, got {direction!r}")
    return CgroupRule(pattern, hier, direction)


class PolicyHook(BuiltinHook):
    """The policy as a hook (name `policy`); its `attach` does nothing."""

    name = "policy"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._empty = not policy  # a Policy is immutable

    def judge(self, batch):
        if self._empty:
            return ()  # nothing to protect: no call per PID
        return super().judge(batch)

    def can_attach(self, ctx):
        if self._empty:
            return None
        return self.policy.check(ctx)

    def __repr__(self) -> str:
        return f"<hook policy {self.policy.source or '(built in)'}>"
