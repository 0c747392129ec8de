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

Protection is never silently off. Every one of these is a CtrtuiError naming the file (and
the key, and the line where it can be found): a rule naming a hierarchy that is neither
mounted nor a cgroup controller the kernel has; a `commands` entry that can match no task (a
path with `/`, longer than a file name can be); a default policy file that exists but cannot
be read (a dangling symlink, a directory the user may not search, not a regular file);
arrays or tables nested deeper than TOML's reader can follow. A missing default file is no
policy. The comm rule: the kernel keeps at most 15 bytes of a command name (comm), so a
`commands` entry that needs more can never match comm; it is matched instead against the
task's program name, the base name of the first word of its command line (argv[0]), or of
the second word when the first is the interpreter of a script whose name comm starts with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from ctrtui.engine.hooks import Answer, BuiltinHook, HookBatch, HookContext, Judged, Refusal
from ctrtui.engine.policyfile import read_policy_file
from ctrtui.errors import CtrtuiError
from ctrtui.model import Hierarchy, TaskInfo
from ctrtui.model.value import Value, set_field
from ctrtui.text import display

if TYPE_CHECKING:  # typing.TypeAlias is Python 3.10+
    from typing import TypeAlias

__all__ = ["CgroupRule", "Policy", "PolicyHook", "default_policy_path", "program_name"]

DIRECTIONS = ("out", "in", "both")

COMM_BYTES = 15
"""The kernel keeps at most this many bytes of a command name in comm (TASK_COMM_LEN 16, with the NUL)."""

NAME_MAX = 255
"""No file name, hence no program name, is longer (bytes)."""

CONTROLLERS = frozenset({"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
                         "blkio", "io", "perf_event", "hugetlb", "pids", "rdma", "misc", "dmem"})
"""Controller names the kernel knows: a rule may name one that is not mounted (it then waits
for it); any other word must name a mounted hierarchy."""

V2_WORDS = ("unified", "cgroup2", "v2")

Mounted: TypeAlias = "Iterable[Hierarchy] | Callable[[], Iterable[Hierarchy]]"  # a string: 3.9 has no runtime `|`
"""The mounted hierarchies a policy is checked against, or a callable giving them (called only
when a rule names a hierarchy)."""


def default_policy_path() -> str:
    """`$XDG_CONFIG_HOME/ctrtui/policy.toml` (`~/.config/ctrtui/policy.toml`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ctrtui", "policy.toml")


class CgroupRule(Value):
    """Tasks may not be moved out of (`out`), into (`in`) or either way (`both`) a cgroup
    whose path matches `pattern`, in `hierarchy` (None: every hierarchy)."""

    __slots__ = ("pattern", "hierarchy", "direction")
    pattern: str
    hierarchy: str | None
    direction: str

    def __init__(self, pattern: str, hierarchy: str | None = None, direction: str = "both") -> None:
        set_field(self, "pattern", pattern)
        set_field(self, "hierarchy", hierarchy)
        set_field(self, "direction", direction)

    def matches(self, hierarchy: Hierarchy, path: str) -> bool:
        if self.hierarchy is not None and not _names(hierarchy, self.hierarchy):
            return False
        return fnmatchcase(path, self.pattern)

    def __str__(self) -> str:
        where = f"{self.hierarchy}:{self.pattern}" if self.hierarchy else self.pattern
        return f"{where} ({self.direction})"


class Policy(Value):
    """What the user protects. Empty by default; `check` answers for one hook context.
    `source`: the file it was read from (None: built in code)."""

    __slots__ = ("pids", "commands", "cgroups", "source", "error")
    pids: frozenset[int]
    commands: tuple[str, ...]
    cgroups: tuple[CgroupRule, ...]
    source: str | None
    error: str | None
    """Set (by `broken`) when the policy could not be read or is invalid: then every move is
    refused with this sentence, never allowed unprotected."""

    def __init__(self, pids: frozenset[int] = frozenset(), commands: tuple[str, ...] = (),
                 cgroups: tuple[CgroupRule, ...] = (), source: str | None = None, error: str | None = None) -> None:
        set_field(self, "pids", pids)
        set_field(self, "commands", commands)
        set_field(self, "cgroups", cgroups)
        set_field(self, "source", source)
        set_field(self, "error", error)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str, hierarchies: Mounted | None = None) -> Policy:
        """Read a policy file; CtrtuiError naming the file when it cannot be read or is invalid.
        `hierarchies` (the mounted ones, or a callable giving them): also check that every
        rule's hierarchy exists."""
        data = read_policy_file(path, default=False)
        assert data is not None  # not the default path: a missing file raised
        return cls._decode(data, path, hierarchies)

    @classmethod
    def load_default(cls, hierarchies: Mounted | None = None) -> Policy:
        """The policy at the default path, or an empty one when there is no such file. A file
        that is there but cannot be read (a dangling symlink, a directory the user may not
        search, not a regular file) is a CtrtuiError, never "no policy"."""
        path = default_policy_path()
        data = read_policy_file(path, default=True)
        if data is None:
            return cls()
        return cls._decode(data, path, hierarchies)

    @classmethod
    def broken(cls, error: str, source: str | None = None) -> Policy:
        """A policy that refuses every move with `error` (the sentence saying why the policy
        could not be used): what runs when the UI starts with an unusable policy."""
        return cls(source=source, error=error)

    @classmethod
    def _decode(cls, data: bytes, path: str, hierarchies: Mounted | None) -> Policy:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CtrtuiError(f"policy file {path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
        return cls.from_toml(text, path, hierarchies)

    @classmethod
    def from_toml(cls, text: str, source: str = "<policy>", hierarchies: Mounted | None = None) -> Policy:
        """Parse policy TOML; CtrtuiError naming `source` and what is wrong. `hierarchies`:
        as for `load`."""
        try:
            import tomllib  # only when there is a policy file (~2 ms of every start otherwise)
        except ImportError:  # Python 3.9 or 3.10: the agent on an older host (docs/remote.md)
            import sys

            version = ".".join(map(str, sys.version_info[:3]))
            raise CtrtuiError(f"policy file {source} cannot be read: reading TOML needs Python 3.11 or newer "
                              f"(tomllib) and this is Python {version}; nothing is moved without the policy it "
                              "sets: run ctrtui with Python 3.11+ here, or remove or rename the policy file") from None
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise CtrtuiError(f"policy file {source} is not valid TOML: {e}") from None
        except RecursionError:
            raise CtrtuiError(f"policy file {source}: arrays or tables are nested too deeply to read (a policy "
                              "needs at most two levels: [protect] and a table inside protect.cgroups); "
                              "fix the brackets") from None
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
        for i, pat in enumerate(commands):
            _check_command(pat, f"policy file {source}{_line(text, pat)}: protect.commands[{i}]")
        raw = prot.get("cgroups", [])
        if not isinstance(raw, list):
            raise CtrtuiError(f"policy file {source}: protect.cgroups must be a list")
        rules = tuple(_rule(item, source, i) for i, item in enumerate(raw))
        policy = cls(frozenset(pids), tuple(commands), rules, source)
        if hierarchies is not None:
            problem = policy.problem(hierarchies, text)
            if problem:
                raise CtrtuiError(problem)
        return policy

    def problem(self, hierarchies: Mounted, text: str | None = None) -> str | None:
        """Why this policy cannot protect anything as written (the `broken` sentence, or a rule
        naming a hierarchy that is neither mounted nor a kernel controller), None when it is
        fine. `hierarchies`: the mounted ones, or a callable giving them (called only when a
        rule names a hierarchy). `text`: the file's text, to name the line."""
        if self.error:
            return self.error
        named = [(i, r.hierarchy) for i, r in enumerate(self.cgroups) if r.hierarchy is not None]
        if not named:
            return None
        hs = tuple(hierarchies() if callable(hierarchies) else hierarchies)
        for i, word in named:
            if any(_names(h, word) for h in hs) or all(w in CONTROLLERS or w in V2_WORDS for w in word.split(",")):
                continue
            mounted = ", ".join(h.name for h in hs) or "none"
            line = _line(text, word) if text else ""
            return (f"policy file {self.source}{line}: protect.cgroups[{i}] names hierarchy {word!r}, which is "
                    f"not mounted and is no cgroup controller, so the rule would protect nothing (mounted: "
                    f"{mounted}); correct the name, or remove the rule")
        return None

    # ------------------------------------------------------------------ judging

    def __bool__(self) -> bool:
        return bool(self.pids or self.commands or self.cgroups or self.error)

    def refusal(self, problem: str) -> Refusal:
        """The refusal of every move while the policy cannot be used (`problem` says why)."""
        return Refusal("EPERM", f"No task is moved while the policy cannot be used: {problem}.",
                       "Fix the policy file (or move it away to run without a policy), then try again.")

    def check(self, ctx: HookContext) -> Refusal | None:
        """A Refusal (errno EPERM) naming the rule when the move in `ctx` is protected."""
        if self.error:
            return self.refusal(self.error)
        where = f" in {self.source}" if self.source else ""
        advice = (f"Edit the policy{where} if this move is intended." if self.source
                  else "Change the policy if this move is intended.")
        tasks = [t for t in (ctx.given, ctx.task) if t is not None]
        ids = {ctx.pid} | {t.pid for t in tasks} | {t.tgid for t in tasks}
        hit = sorted(ids & self.pids)
        if hit:
            return Refusal("EPERM", f"{ctx.subject} is protected by the policy{where} (protect.pids has "
                           f"{hit[0]}); it was not moved to {ctx.target}.", advice)
        long = []
        for pat in self.commands:
            if _too_long_for_comm(pat):
                long.append(pat)
                continue
            for t in tasks:
                if fnmatchcase(t.comm, pat):
                    return Refusal("EPERM", f"{ctx.subject} is protected by the policy{where} (its command "
                                   f"'{display(t.comm)}' matches protect.commands '{display(pat)}'); it was not "
                                   f"moved to {ctx.target}.", advice)
        if long:
            for t in tasks:
                name = program_name(t.comm, _cmdline(ctx.backend, t))
                for pat in long:
                    if name is not None and fnmatchcase(name, pat):
                        return Refusal("EPERM", f"{ctx.subject} is protected by the policy{where} (its program "
                                       f"name {name!r}, from its command line, matches protect.commands {pat!r}, "
                                       f"which is longer than the {COMM_BYTES} bytes the kernel keeps of comm "
                                       f"{t.comm!r}); it was not moved to {ctx.target}.", advice)
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

    def hook(self) -> PolicyHook:
        return PolicyHook(self)


def _rule(item: object, source: str, i: int) -> CgroupRule:
    where = f"policy file {source}: protect.cgroups[{i}]"
    if isinstance(item, str):
        head, sep, tail = item.partition(":")
        if sep and not head.startswith("/"):
            item = {"pattern": tail, "hierarchy": head}
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


def _names(hierarchy: Hierarchy, word: str) -> bool:
    """Does the rule's hierarchy `word` select `hierarchy`: its name, one of its controllers,
    or (a comma list such as `cpu,cpuacct`, which may be mounted apart) any one of them."""
    return hierarchy.matches(word) or ("," in word and any(hierarchy.matches(w) for w in word.split(",") if w))


def _line(text: str | None, value: str) -> str:
    """` line N` of the first line of `text` holding `value` quoted (for messages), or ``."""
    if not text:
        return ""
    for n, line in enumerate(text.splitlines(), 1):
        if f'"{value}' in line or f"'{value}" in line:
            return f" line {n}"
    return ""


def _min_bytes(pattern: str) -> int:
    """The fewest bytes of UTF-8 any name matching the glob `pattern` can have (`*` none,
    `?` and a `[...]` class one, every other character its own length)."""
    n, i = 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            i += 1
            continue
        if c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j >= 0:  # a class; an unclosed `[` is a literal (as fnmatch has it)
                n += 1
                i = j + 1
                continue
        n += 1 if c == "?" else len(c.encode("utf-8", "surrogatepass"))
        i += 1
    return n


_LONG: dict[str, bool] = {}
"""pattern -> needs more bytes than comm has (asked for every PID of a batch: computed once)."""


def _too_long_for_comm(pattern: str) -> bool:
    long = _LONG.get(pattern)
    if long is None:
        long = _LONG[pattern] = _min_bytes(pattern) > COMM_BYTES
    return long


def _check_command(pattern: str, where: str) -> None:
    """A `commands` entry that can never match a task is an error (protection that does nothing)."""
    if "/" in pattern or "\0" in pattern:
        base = pattern.rstrip("/").rsplit("/", 1)[-1] or "sshd"
        raise CtrtuiError(f"{where} is {pattern!r}: commands are matched against a command name, never a "
                          f"path, so it can match no task; write the name alone, such as {base!r}")
    if _min_bytes(pattern) > NAME_MAX:
        raise CtrtuiError(f"{where} needs more than {NAME_MAX} bytes, longer than any program name, so it can "
                          "match no task; shorten it")


def program_name(comm: str, cmdline: str | None) -> str | None:
    """The untruncated name behind `comm` (which the kernel cuts to 15 bytes), from the command
    line: the base name of its first word (argv[0]), or of its second when the first is the
    interpreter of a script whose name comm starts with (`/usr/bin/python3
    /usr/bin/networkd-dispatcher`, comm `networkd-dispat`). None without a command line
    (kernel threads, zombies)."""
    words = [w for w in (cmdline or "").split(" ")[:2] if w]
    names = [w.rstrip("/").rsplit("/", 1)[-1] for w in words]
    names = [n for n in names if n]
    if not names:
        return None
    for n in names:
        if comm and n.startswith(comm):
            return n
    return names[0]


def _cmdline(backend: Any, task: TaskInfo) -> str | None:
    """The command line of `task`'s process (its thread group), as the backend reads it."""
    if task.cmdline is not None:
        return task.cmdline
    try:
        got = backend.task_details([task.tgid]).get(task.tgid)  # part of every backend's Reader
    except OSError:
        return None
    return got.cmdline if got is not None else None


class PolicyHook(BuiltinHook):
    """The policy as a hook (name `policy`); its `attach` does nothing."""

    name = "policy"

    def __init__(self, policy: Policy) -> None:
        self.set_policy(policy)

    def set_policy(self, policy: Policy) -> None:
        """Use `policy` from now on (the UI, once a broken policy file has been fixed)."""
        self.policy = policy
        self._empty = not policy  # a Policy is immutable
        self._checked = False  # against the hierarchies: not yet
        self._problem: str | None = None

    def judge(self, batch: HookBatch) -> Judged:
        if self._empty:
            return ()  # nothing to protect: no call per PID
        return super().judge(batch)

    def can_attach(self, ctx: HookContext) -> Answer:
        if self._empty:
            return None
        if not self._checked:  # once: a rule naming no hierarchy of this backend refuses all
            self._problem = self.policy.problem(ctx.backend.hierarchies)
            self._checked = True
        if self._problem:
            return self.policy.refusal(self._problem)
        return self.policy.check(ctx)

    def __repr__(self) -> str:
        return f"<hook policy {self.policy.source or '(built in)'}>"
