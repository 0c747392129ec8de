"""systemd as PID 1, asked over D-Bus through `busctl --json=short` (docs/systemd.md says why
busctl and not a Python D-Bus library): whether systemd manages the cgroup hierarchy, which
unit owns a cgroup and whether it is delegated, `AttachProcessesToUnit` and a transient
scope for running PIDs (`StartTransientUnit`, the job waited for).

Stdlib only: this module travels to hosts with the sources, where nothing but systemd and
python3 may be installed. Everything busctl prints is hostile: its output is read up to a
bound, its JSON checked for the shape each call expects, and what systemd says (the D-Bus
error name, which busctl prints only at debug level, and its message) reaches a person only
escaped, inside a sentence that says what to do (`SystemdError`).

    sd = Systemd()
    where = sd.placement("/system.slice/x.scope/sub")   # unit, kind, subcgroup, delegated
    sd.attach_processes_to_unit("x.scope", "sub", [1234])
    sd.start_transient_scope("work.scope", [1234, 1235], slice="batch.slice",
                             properties=["CPUWeight=50", "MemoryMax=1G"])
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, Union

from ctrtui.model.systemd import UNIT_SUFFIXES, unit_place
from ctrtui.sources.systemd_props import PropertyError, UnitProperty, parse_properties
from ctrtui.text import display, scrub

__all__ = ["Detection", "Placement", "PropertyError", "ScopeStarted", "Systemd",
           "SystemdError", "detect", "unit_object_path", "valid_unit_name"]

DEST = "org.freedesktop.systemd1"
MANAGER = "/org/freedesktop/systemd1"
MANAGER_IFACE = "org.freedesktop.systemd1.Manager"
#: At most this much of busctl's stdout and stderr is read; more is an error.
MAX_ANSWER = 1 << 20
MAX_STDERR = 64 << 10
_MAX_MESSAGE = 300
_UNIT_NAME = re.compile(r"[A-Za-z0-9:_.\\@-]{1,250}")
_ERROR_LINE = re.compile(r"type=error .*error-name=(\S{1,255}) error-message=(.*)$")
_ERROR_NAME = re.compile(r"[A-Za-z0-9_.]+")

Properties = Union[Sequence[str], Mapping[str, str], None]


class SystemdError(Exception):
    """systemd (or busctl) refused or failed: `name` is the D-Bus error name when busctl told
    it (`org.freedesktop.DBus.Error.InvalidArgs`), `message` systemd's own message (escaped,
    bounded), `str()` one sentence with what was asked and what to do."""

    def __init__(self, sentence: str, name: str = "", message: str = "") -> None:
        super().__init__(sentence)
        self.name = name
        self.message = message


class Detection(NamedTuple):
    """Whether systemd is PID 1 and manages the cgroup hierarchy: `hierarchy` is `unified`
    (v2, pure or beside v1) or `name=systemd` (v1), `mount` where it is mounted; when
    `manages` is False, `reason` says why in one sentence."""

    manages: bool
    hierarchy: str
    mount: str
    reason: str


class Placement(NamedTuple):
    """Which unit owns a cgroup: the nearest ancestor `unit` (unescaped), its `kind`
    (`service`, `scope`, `slice`, ...), the `subcgroup` below the unit's own cgroup (""
    for the unit's), and whether the unit is `delegated` (`Delegate=yes`)."""

    unit: str
    kind: str
    subcgroup: str
    delegated: bool

    @property
    def attachable(self) -> bool:
        """Whether systemd takes running tasks into it (`AttachProcessesToUnit`): only a
        delegated unit or a cgroup below one."""
        return self.delegated


class ScopeStarted(NamedTuple):
    """A transient scope systemd started: its unit name, the job path it ran, and the state
    systemd reported afterwards (`active`/`running` when the PIDs are in it)."""

    unit: str
    job: str
    active_state: str
    sub_state: str


def detect(proc: str = "/proc", run: str = "/run") -> Detection:
    """Whether systemd is PID 1 here and manages the cgroup hierarchy, from `/run/systemd/system`
    (what sd_booted() checks), `/proc/1/comm` and the cgroup mounts in `/proc/self/mountinfo`."""
    from ctrtui.sources.mounts import parse_mountinfo

    if not os.path.isdir(os.path.join(run, "systemd", "system")):
        return Detection(False, "", "", "systemd is not the init system here (no /run/systemd/system).")
    try:
        with open(os.path.join(proc, "1", "comm"), encoding="utf-8", errors="replace") as f:
            comm = f.read(64).strip()
        with open(os.path.join(proc, "self", "mountinfo"), encoding="utf-8", errors="surrogateescape") as f:
            mounts = parse_mountinfo(f.read(4 << 20))
    except OSError as e:
        return Detection(False, "", "", f"cannot tell whether systemd manages cgroups: {scrub(str(e))}.")
    if comm != "systemd":
        return Detection(False, "", "", f"PID 1 is {display(comm)!r}, not systemd.")
    for want in ("unified", "name=systemd"):
        for h in mounts:
            if h.name == want:
                return Detection(True, want, h.mount, "")
    return Detection(False, "", "", "systemd is PID 1 but neither a cgroup v2 nor a name=systemd hierarchy "
                                    "is mounted.")


def valid_unit_name(name: str, suffix: str = "") -> bool:
    """Whether `name` is a unit name systemd accepts (its characters and length), ending
    in `suffix` when given."""
    return bool(_UNIT_NAME.fullmatch(name)) and name.endswith(suffix) and not name.startswith(".")


def unit_object_path(unit: str) -> str:
    """The D-Bus object path of a unit, as systemd escapes it (bus_label_escape: ASCII letters
    stay, digits too except first, every other byte is `_xx`)."""
    label = "".join(c if c.isascii() and (c.isalpha() or (i and c.isdigit()))
                    else "".join(f"_{b:02x}" for b in c.encode()) for i, c in enumerate(unit))
    return f"{MANAGER}/unit/{label}"


def _bounded_run(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int, bytes, bytes]:
    """Run argv; its exit status, stdout and stderr, each read up to its bound. More output
    than the bound, or no exit within `timeout`, kills it and raises SystemdError."""
    import selectors  # here, not at the top: every move imports this module, few run busctl (~3 ms a start)
    import subprocess

    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
    except OSError as e:
        raise SystemdError(f"busctl could not be run ({scrub(str(e))}): ctrtui talks to systemd through busctl, "
                           "which systemd installs; is this a systemd host?") from None
    out: dict[int, bytearray] = {}
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + timeout
    why = ""
    try:
        for stream, cap in ((proc.stdout, MAX_ANSWER), (proc.stderr, MAX_STDERR)):
            assert stream is not None
            sel.register(stream, selectors.EVENT_READ, cap)
            out[stream.fileno()] = bytearray()
        while sel.get_map() and not why:
            left = deadline - time.monotonic()
            if left <= 0:
                why = f"busctl gave no answer in {timeout:.0f} s"
                break
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = out[key.fd]
                buf += chunk
                if len(buf) > key.data:
                    why = f"busctl's answer was longer than {key.data} bytes"
        if not why:
            proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        why = f"busctl did not exit in {timeout:.0f} s"
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    if why:
        raise SystemdError(f"{why}; systemd may be busy or hung (systemctl is-system-running says how it is).")
    stdout, stderr = out.values()  # registered in that order
    return proc.returncode, bytes(stdout), bytes(stderr)


def _refusal(stderr: bytes) -> tuple[str, str]:
    """(D-Bus error name, message) from busctl's debug-level stderr: the error reply's line,
    else its `Call failed: ...`/`Failed to ...` line, else its last line."""
    text = stderr.decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        m = _ERROR_LINE.search(ln)
        if m and _ERROR_NAME.fullmatch(m.group(1)):
            return m.group(1), _bounded_message(m.group(2))
    for ln in reversed(lines):
        if ln.startswith(("Call failed: ", "Failed to ")):
            return "", _bounded_message(ln.split(": ", 1)[-1] if ln.startswith("Call failed") else ln)
    return "", _bounded_message(lines[-1] if lines else "busctl failed and said nothing")


def _bounded_message(text: str) -> str:
    text = text.strip()
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "…"
    return scrub(text)


#: Advice after systemd's refusal, by D-Bus error name (or a phrase of its message).
ADVICE = {
    "non-delegated": "systemd moves running tasks only into a delegated unit (Delegate=yes) or a cgroup below "
                     "one; start a new scope for them instead, or write the cgroup directly (--via kernel), after "
                     "which they live and die with that unit",
    "unrecognized option": "this busctl has no --json (systemd older than 240, e.g. RHEL 8's 239); the systemd "
                           "route needs systemd 240 or newer: write the cgroup directly (--via kernel)",
    "org.freedesktop.systemd1.UnitExists": "a unit of that name is loaded already; choose another name",
    "org.freedesktop.DBus.Error.UnixProcessIdUnknown": "the task has exited; look again (ctrtui tasks) and "
                                                       "give the PIDs that still run",
    "org.freedesktop.systemd1.NoSuchUnit": "check the unit's name (systemctl list-units --all)",
    "org.freedesktop.DBus.Error.AccessDenied": "run as root, or as a user polkit allows to manage units",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired": "run as root: polkit asks for a password, "
                                                                   "which ctrtui does not answer",
    "org.freedesktop.DBus.Error.ServiceUnknown": "systemd is not on the system bus (is dbus running?)",
    "org.freedesktop.DBus.Error.NoReply": "systemd did not answer in time; systemctl is-system-running says "
                                          "whether it is busy",
}


def _advice(name: str, message: str) -> str:
    for key, advice in ADVICE.items():
        if key == name or key in message:
            return advice
    return "systemctl status and journalctl -u on the unit say more"


class Systemd:
    """systemd's manager on the system bus, through busctl (found on PATH, or `busctl`).
    Each method is one or a few busctl calls of at most `timeout` seconds each; a refusal
    or a failure raises SystemdError."""

    def __init__(self, busctl: str | None = None, timeout: float = 25.0) -> None:
        import shutil  # only where systemd is asked (see _bounded_run)

        self.busctl = busctl or shutil.which("busctl") or "busctl"
        self.timeout = timeout
        self.calls = 0  # busctl runs so far (the benchmarks count round trips)

    def _busctl(self, args: list[str], what: str) -> list[object]:
        """busctl ARGS; its JSON answers (one per line), or SystemdError naming `what`."""
        env = dict(os.environ, SYSTEMD_LOG_LEVEL="debug", LC_ALL="C", SYSTEMD_COLORS="0", SYSTEMD_PAGER="")
        argv = [self.busctl, "--system", "--json=short", f"--timeout={max(1, int(self.timeout))}", *args]
        self.calls += 1
        code, out, err = _bounded_run(argv, env, self.timeout * 1.2 + 1)  # busctl times out first
        if code != 0:
            name, message = _refusal(err)
            said = f"\"{message.rstrip('.')}\"" + (f" ({name})" if name else "")
            raise SystemdError(f"{_cap(what)} failed: systemd says {said}. To do: "
                               f"{_advice(name, message)}.", name, message)
        answers: list[object] = []
        for line in out.decode("utf-8", "replace").splitlines():
            if not line.strip():
                continue
            try:
                answers.append(json.loads(line))
            except ValueError:
                raise SystemdError(f"busctl's answer to {what} is not JSON ({_bounded_message(line[:80])}); "
                                   "ctrtui needs busctl --json (systemd 240 or newer).") from None
        return answers

    def call(self, member: str, signature: str, args: Iterable[str], what: str) -> list[object]:
        """The data of the manager's method `member` called with `args` (busctl's text form
        of `signature`)."""
        answers = self._busctl(["call", DEST, MANAGER, MANAGER_IFACE, member, signature, *args], what)
        return _data(answers[0], what) if answers else []  # a method without a reply value prints nothing

    def properties(self, path: str, interface: str, names: Sequence[str], what: str) -> list[object]:
        """The values of properties `names` of the object `path` (one busctl run)."""
        answers = self._busctl(["get-property", DEST, path, interface, *names], what)
        if len(answers) != len(names):
            raise SystemdError(f"busctl answered {len(answers)} values for {len(names)} properties ({what}); "
                               "its output is not what systemd's busctl prints.")
        return [_value(a, what) for a in answers]

    def version(self) -> str:
        """systemd's version string (`252.39-1~deb12u2`)."""
        v = self.properties(MANAGER, MANAGER_IFACE, ["Version"], "the manager's version")[0]
        return display(v if isinstance(v, str) else "")[:80]

    def placement(self, path: str) -> Placement | None:
        """Which unit owns the cgroup `path` and whether it is delegated (its `Delegate`
        property, read from systemd); None when no unit is at or above it."""
        found = unit_place(path)
        if found is None:
            return None
        unit, kind, sub = found
        iface = "org.freedesktop.systemd1." + UNIT_SUFFIXES["." + kind]
        (delegate,) = self.properties(unit_object_path(unit), iface, ["Delegate"],
                                      f"the Delegate property of {display(unit)}")
        return Placement(unit, kind, sub, delegate is True)

    def control_group(self, unit: str) -> str:
        """The cgroup path of a loaded `unit` (its `ControlGroup` property, relative to
        systemd's hierarchy root; "" when it has none), e.g. of a scope just started."""
        kind = UNIT_SUFFIXES.get(unit[unit.rfind("."):]) if "." in unit else None
        if kind is None or not valid_unit_name(unit):
            raise SystemdError(f"{display(unit)!r} is not the name of a unit that has a cgroup.")
        (cg,) = self.properties(unit_object_path(unit), "org.freedesktop.systemd1." + kind, ["ControlGroup"],
                                f"the cgroup of {display(unit)}")
        if not isinstance(cg, str) or (cg and not cg.startswith("/")) or len(cg) > 4096:
            raise SystemdError(f"busctl's answer for the cgroup of {display(unit)} is not a cgroup path.")
        return cg

    def attach_processes_to_unit(self, unit: str, subcgroup: str, pids: Sequence[int]) -> None:
        """systemd moves `pids` into `unit`'s cgroup, or the cgroup `subcgroup` below it
        (AttachProcessesToUnit, systemd 238 or newer; delegated units only)."""
        _check_pids(pids)
        if not valid_unit_name(unit):
            raise SystemdError(f"{display(unit)!r} is not a unit name systemd accepts.")
        sub = "/" + subcgroup.strip("/") if subcgroup.strip("/") else ""
        self.call("AttachProcessesToUnit", "ssau", [unit, sub, str(len(pids)), *map(str, pids)],
                  f"the move of {_pids_text(pids)} into {display(unit)}{display(sub)}")

    def start_transient_scope(self, name: str, pids: Sequence[int], slice: str | None = None,
                              properties: Properties = None, wait: float | None = None) -> ScopeStarted:
        """A new scope `name` (`*.scope`) holding the running `pids`, in `slice` (systemd's
        default, system.slice for root, when None), with `properties` (`PROP=VALUE` texts
        or a mapping, see systemd_props.PROPERTIES): StartTransientUnit, then its job waited
        for (up to `wait` seconds, default the timeout) and the scope's state checked."""
        _check_pids(pids)
        if not valid_unit_name(name, ".scope"):
            raise SystemdError(f"{display(name)!r} is not a scope name systemd accepts: letters, digits and "
                               ":_.\\@- only, ending in .scope.")
        if slice is not None and not valid_unit_name(slice, ".slice"):
            raise SystemdError(f"{display(slice)!r} is not a slice name systemd accepts (it ends in .slice).")
        texts = [f"{k}={v}" for k, v in properties.items()] if isinstance(properties, Mapping) else properties
        props: list[UnitProperty] = [UnitProperty("PIDs", "au", (str(len(pids)), *map(str, pids)))]
        if slice is not None:
            props.append(UnitProperty("Slice", "s", (slice,)))
        props += parse_properties(list(texts or []))
        args = [name, "fail", str(len(props))]
        for p in props:
            args += [p.name, p.signature, *p.args]
        args.append("0")  # no auxiliary units
        what = f"a new scope {display(name)} for {_pids_text(pids)}"
        (job,) = self.call("StartTransientUnit", "ssa(sv)a(sa(sv))", args, what) or [None]
        if not isinstance(job, str) or not job.startswith("/org/freedesktop/systemd1/job/"):
            raise SystemdError(f"systemd's answer to {what} is not a job path; busctl's output is not what "
                               "systemd's busctl prints.")
        return self._wait_started(name, job, self.timeout if wait is None else wait, what)

    def _wait_started(self, unit: str, job: str, wait: float, what: str) -> ScopeStarted:
        """Poll the unit until its start job is gone, then check that it is active."""
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            job_ref, active, sub = self.properties(unit_object_path(unit), "org.freedesktop.systemd1.Unit",
                                                   ["Job", "ActiveState", "SubState"], what)
            pending = isinstance(job_ref, list) and len(job_ref) == 2 and job_ref[0] != 0
            if not pending:
                break
            if time.monotonic() > deadline:
                raise SystemdError(f"{_cap(what)}: systemd's job {display(job)} had not finished after {wait:.0f} s; "
                                   f"systemctl list-jobs shows it.")
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        active_s = display(active if isinstance(active, str) else "?")[:40]
        sub_s = display(sub if isinstance(sub, str) else "?")[:40]
        if active_s != "active":
            raise SystemdError(f"{_cap(what)}: the scope is {active_s} ({sub_s}) after its start job, not active: the "
                               f"tasks may have exited or been refused. To do: journalctl -u {display(unit)}.")
        return ScopeStarted(unit, display(job), active_s, sub_s)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _check_pids(pids: Sequence[int]) -> None:
    if not pids:
        raise SystemdError("no PID given: systemd needs at least one running task.")
    for pid in pids:
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**32:
            raise SystemdError(f"{display(str(pid))!r} is not a PID.")


def _pids_text(pids: Sequence[int]) -> str:
    shown = ", ".join(map(str, pids[:5])) + (f" and {len(pids) - 5} more" if len(pids) > 5 else "")
    return ("PID " if len(pids) == 1 else "PIDs ") + shown


def _data(answer: object, what: str) -> list[object]:
    """The `data` list of a busctl --json call answer (`{"type": SIG, "data": [...]}`)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise SystemdError(f"busctl's answer to {what} has no data list; its output is not what systemd's busctl "
                           "prints.")
    return list(answer["data"])


def _value(answer: object, what: str) -> object:
    """The value of one busctl --json get-property answer (`{"type": SIG, "data": VALUE}`)."""
    if not isinstance(answer, dict) or "data" not in answer:
        raise SystemdError(f"busctl's answer to {what} has no data; its output is not what systemd's busctl prints.")
    return answer["data"]
