"""The backend contract (ctrtui/sources/base.py, docs/backends.md): every backend keeps the
contract it declares, the engine uses only what a backend declares, backends are opened by
spec, read-only follows from the backend, and the journal belongs to one backend."""

from __future__ import annotations

import json
import os

import pytest

from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
from ctrtui.engine.journalerrors import JournalMismatch
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources import (
    CAPABILITIES,
    CGROUP_ADMIN,
    POLL_EXITS,
    SPECS,
    SYSTEMD_UNITS,
    TASK_PROBES,
    WRITE,
    BackendSpecError,
    base,
    identity_of,
    open_backend,
    read_only_reason,
)
from ctrtui.sources.cgroupfs import CgroupFS
from ctrtui.sources.demo import demo_world
from ctrtui.sources.hostile import hostile_world
from ctrtui.sources.simulated import SimKernel

BACKENDS = {
    "CgroupFS": CgroupFS,
    "SimKernel": SimKernel,
    "demo": demo_world,
    "hostile": hostile_world,
    "demo:systemd": lambda: demo_world(systemd=True),
}


def small_world(cls=SimKernel, **kw) -> SimKernel:
    k = cls(**kw)
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("unified", 2, ["cpu", "pids"])
    for hier in ("freezer", "unified"):
        k.mkdir(hier, "/a")
        k.mkdir(hier, "/b")
    return k


# ----------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("make", BACKENDS.values(), ids=BACKENDS.keys())
def test_every_backend_keeps_the_contract_it_declares(make):
    b = make()
    assert base.contract_problems(b) == []
    assert b.capabilities <= CAPABILITIES and WRITE in b.capabilities
    # what it declares, it really has, callable; and isinstance agrees (the weak check)
    for proto in base.protocols_of(b):
        assert isinstance(b, proto)
    assert isinstance(b, base.Backend)
    assert base.writer_of(b) is b
    assert (base.prober(b) is b) == (TASK_PROBES in b.capabilities)
    assert (base.exit_poller(b) is b) == (POLL_EXITS in b.capabilities)
    assert (base.admin_of(b) is b) == (CGROUP_ADMIN in b.capabilities)
    assert (base.systemd_units(b) is b) == (SYSTEMD_UNITS in b.capabilities)


def test_the_real_backend_declares_its_fast_paths_and_the_simulator_none():
    assert CgroupFS.capabilities == {WRITE, TASK_PROBES, POLL_EXITS, CGROUP_ADMIN}
    assert SimKernel.capabilities == {WRITE, CGROUP_ADMIN}
    assert CgroupFS().identity == "local" and CgroupFS().kind == "real"
    assert demo_world().identity == "demo" and hostile_world().identity == "demo:hostile"


def test_pid_max_is_the_backends():
    with open("/proc/sys/kernel/pid_max") as f:
        assert CgroupFS().pid_max == int(f.read())
    assert SimKernel(pid_max=4_194_304).pid_max == 4_194_304
    fake = f"/nonexistent-{os.getpid()}"
    assert CgroupFS(proc=fake).pid_max == 32768  # unreadable: the kernel's default


def test_contract_problems_finds_what_is_wrong():
    class Undeclared(SimKernel):
        def tasks_exited(self, handles):
            return [h.exited() for h in handles]

    class WrongSignature(SimKernel):
        def write_pid(self, hierarchy, path, data):
            return 0

    class Unknown(SimKernel):
        capabilities = frozenset({WRITE, CGROUP_ADMIN, "teleport"})

    class NotASet(SimKernel):
        capabilities = [WRITE]

    class Missing(SimKernel):
        capabilities = frozenset({WRITE, CGROUP_ADMIN, TASK_PROBES})  # declares probes it does not have

    assert any("tasks_exited present but capability 'poll-exits' not declared" in p
               for p in base.contract_problems(Undeclared()))
    assert any(p.startswith("write: write_pid") for p in base.contract_problems(WrongSignature()))
    assert base.contract_problems(Unknown()) == ["unknown capability 'teleport' declared"]
    assert "capabilities must be a frozenset" in base.contract_problems(NotASet())[0]
    assert base.contract_problems(Missing()) == ["task-probes: task_probe is missing",
                                                 "task-probes: task_probes is missing"]
    k = SimKernel()
    k.identity = ""
    k.pid_max = 7
    assert base.contract_problems(k) == ["identity must be a non-empty string, not ''",
                                         "pid_max must be an int above 300, not 7"]
    with pytest.raises(ValueError, match="unknown backend capability 'teleport'"):
        base.declared(k, "teleport")


def test_task_handles_keep_their_protocol():
    k = small_world()
    pid = k.spawn("sleep")
    with k.open_task(pid) as h:
        assert base.protocol_problems(h, base.TaskHandle) == []
        assert h.identity() is None and not h.reaped() and not h.exited()
    fs = CgroupFS()
    with fs.open_task(os.getpid()) as h:  # a pidfd on this very process: nothing is moved
        assert base.protocol_problems(h, base.TaskHandle) == []
        assert h.alive() and not h.reaped()
        sim = k.open_task(pid)
        k.exit(pid)
        # one poll for its own pidfds; a handle that is not a pidfd answers for itself
        assert fs.tasks_exited([h, sim]) == [False, True]


# ----------------------------------------------------------------------------- declared, not probed


class Declared:
    """Stands in for a backend, exposing only what its contract declares: the members of
    `Reader` and of each declared capability's Protocol. Anything else is an AttributeError,
    so code that reaches past the contract (a `getattr` probe, a helper of one backend) fails."""

    def __init__(self, backend) -> None:
        allowed: set[str] = set()
        for proto in base.protocols_of(backend):
            allowed |= set(base._members(proto))
        object.__setattr__(self, "_b", backend)
        object.__setattr__(self, "_allowed", allowed)
        object.__setattr__(self, "asked", set())

    def __getattr__(self, name):
        if name not in self._allowed:
            raise AttributeError(f"{name} is not in the contract this backend declares")
        self.asked.add(name)
        return getattr(self._b, name)


class Forward:
    """Forwards every attribute to the backend (as wrappers do)."""

    def __init__(self, backend) -> None:
        self._b = backend

    def __getattr__(self, name):
        return getattr(self._b, name)


def _move_and_undo(backend, tmp_path):
    e = AttachEngine(backend, policy=Policy(), journal=Journal(tmp_path / "j.jsonl"), load_entry_points=False)
    pids = [backend._b.spawn(f"t{i}", threads=2, cgroups={"freezer": "/a", "unified": "/a"}) for i in range(3)]
    report = e.apply(e.plan(pids + ["x", 40000], CgroupRef("freezer", "/b")))
    assert [o.outcome for o in report.outcomes] == ["moved"] * 3 + ["refused", "refused"]
    assert {backend._b.task_cgroup(p, "freezer") for p in pids} == {"/b"}
    report = e.apply(e.plan([pids[0]], CgroupRef("freezer", "/a"), threads=True))  # one thread, v1 tasks
    assert [o.outcome for o in report.outcomes] == ["moved"]
    assert e.undo() is not None and e.undo() is not None
    assert {backend._b.task_cgroup(p, "freezer") for p in pids} == {"/a"}
    return e


def test_the_engine_uses_only_what_the_simulator_declares(tmp_path):
    d = Declared(small_world())
    _move_and_undo(d, tmp_path)
    assert {"task_state", "task_cgroup", "open_task", "open_membership", "pid_max", "capabilities",
            "identity", "writer"} <= d.asked
    assert not d.asked & {"task_probe", "task_probes", "tasks_exited"}


class Prober(SimKernel):
    """A simulator with the real backend's fast paths, counting their use."""

    def __init__(self, declare: bool) -> None:
        super().__init__()
        self.capabilities = (frozenset({WRITE, CGROUP_ADMIN, TASK_PROBES, POLL_EXITS}) if declare
                             else frozenset({WRITE, CGROUP_ADMIN}))
        self.used: list[str] = []

    def task_probe(self, pid, hierarchy):
        got = self.task_probes([pid], hierarchy)[pid]
        return None if got is None else got[:3]

    def task_probes(self, pids, hierarchy, keep=False):
        self.used.append("task_probes")
        out = {}
        for pid in pids:
            info = self.task_state(pid)
            out[pid] = None if info is None else (info, self.task_cgroup(pid, hierarchy), None,
                                                  self.open_task(pid) if keep else None)
        return out

    def tasks_exited(self, handles):
        self.used.append("tasks_exited")
        return [h.exited() for h in handles]


@pytest.mark.parametrize("declare", [True, False])
def test_a_capability_is_used_when_declared_and_only_then(tmp_path, declare):
    k = small_world(Prober, declare=declare)
    if declare:
        assert base.contract_problems(k) == []
    else:  # the checker says what the engine will not use
        assert any("not declared" in p for p in base.contract_problems(k))
    # undeclared, the methods are there for the taking (a forwarder hands out anything): a
    # probe would find them; the engine asks the declared set and leaves them alone
    _move_and_undo(Declared(k) if declare else Forward(k), tmp_path)
    if declare:
        assert "task_probes" in k.used and "tasks_exited" in k.used
    else:
        assert k.used == []


# ----------------------------------------------------------------------------- specs


def test_open_backend_by_spec():
    local, demo, hostile = open_backend("local"), open_backend("demo"), open_backend("demo:hostile")
    assert isinstance(local, CgroupFS) and local.identity == "local"
    assert demo.identity == "demo" and demo.kind == "demo" and demo.snapshot().backend == "demo"
    assert hostile.identity == "demo:hostile" and "freezer" in [h.name for h in hostile.hierarchies()]
    assert open_backend().identity == "local"
    assert set(SPECS) == {"local", "demo", "demo:hostile", "demo:systemd"}
    sd = open_backend("demo:systemd")
    assert sd.identity == "demo:systemd" and base.systemd_units(sd) is sd and base.systemd_units(demo) is None
    assert [identity_of(s) for s in SPECS] == [open_backend(s).identity for s in SPECS]


@pytest.mark.parametrize("spec, words", [
    ("ssh://root@db1:2222", "use --host [USER@]HOST[:PORT]"),
    ("recording:/tmp/x.json", "recorded snapshots are not supported yet"),
    ("snapshots.jsonl", "recorded snapshots are not supported yet"),
    ("Local", "unknown backend 'Local'"),
    ("demo:\x1b[31mred", "unknown backend 'demo:\\x1b[31mred'"),
])
def test_a_spec_that_names_no_backend_is_one_clear_error(spec, words):
    with pytest.raises(BackendSpecError) as e:
        open_backend(spec)
    with pytest.raises(BackendSpecError, match="known backends"):
        identity_of(spec)
    assert words in str(e.value) and "known backends: local, demo, demo:hostile" in str(e.value)
    assert isinstance(e.value, CtrtuiError) and "\x1b" not in str(e.value)


def test_the_cli_maps_its_flags_to_specs():
    from ctrtui.cli.common import backend_spec
    from ctrtui.cli.parser import build_parser

    p = build_parser()
    assert backend_spec(p.parse_args([])) == "local"
    assert backend_spec(p.parse_args(["--demo"])) == "demo"
    assert backend_spec(p.parse_args(["--demo=hostile"])) == "demo:hostile"
    assert backend_spec(p.parse_args(["hierarchies", "--demo=hostile"])) == "demo:hostile"


# ----------------------------------------------------------------------------- read-only


def test_read_only_follows_from_the_backend():
    k = small_world()
    assert read_only_reason(k) is None
    k.set_writer(uid=1000, euid=1000)
    assert read_only_reason(k) == "not root"
    k.set_writer(uid=1000, euid=0)  # a set-uid writer: the effective uid decides
    assert read_only_reason(k) is None

    class Recording(SimKernel):
        capabilities = frozenset()  # no writer at all

    assert read_only_reason(Recording()) == "this backend cannot move tasks"
    assert base.writer_of(Recording()) is None
    assert read_only_reason(CgroupFS()) == (None if os.geteuid() == 0 else "not root")


def test_cli_and_ui_no_longer_ask_geteuid():
    """The decision lives in the backend: neither the CLI nor the UI's app consults the
    process's uid for it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ctrtui"
    files = [*sorted((root / "cli").glob("*.py")), root / "main.py", *sorted((root / "ui").rglob("*.py"))]
    assert len(files) > 10
    for path in files:
        assert "geteuid" not in path.read_text(), path


# ----------------------------------------------------------------------------- the journal


def test_the_default_journal_is_chosen_by_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    d = str(tmp_path / "ctrtui")
    assert default_journal_path("local") == default_journal_path("real") == os.path.join(d, "journal.jsonl")
    assert default_journal_path("demo") == os.path.join(d, "demo-journal.jsonl")
    assert default_journal_path("demo:hostile") == os.path.join(d, "demo-hostile-journal.jsonl")
    assert default_journal_path("ssh:root@db1:2222") == os.path.join(d, "ssh-root@db1-2222-journal.jsonl")
    assert default_journal_path("../../etc/x") == os.path.join(d, "etc-x-journal.jsonl")


def test_intents_carry_the_backends_identity(tmp_path):
    k = small_world()
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    e = AttachEngine(k, policy=Policy(), journal=Journal(tmp_path / "j.jsonl"), load_entry_points=False)
    e.apply(e.plan([pid], CgroupRef("freezer", "/b")))
    intent = [json.loads(line) for line in open(tmp_path / "j.jsonl")][0]
    assert intent["kind"] == "intent" and intent["backend"] == "demo"
    assert e.journal.batches()[0].backend == "demo" and e.journal.batches()[0].as_dict()["backend"] == "demo"


def _other(identity: str) -> SimKernel:
    k = small_world(identity=identity)
    return k


def test_a_journal_never_undoes_another_backends_batch(tmp_path):
    path = tmp_path / "shared.jsonl"
    k = _other("demo")
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    e = AttachEngine(k, policy=Policy(), journal=Journal(path), load_entry_points=False)
    batch = e.apply(e.plan([pid], CgroupRef("freezer", "/b"))).batch_id
    other = _other("ssh:root@db1:22")
    other_pid = other.spawn("sleep", cgroups={"freezer": "/a"})
    assert other_pid == pid  # the same PID on another system: exactly what must not be undone
    o = AttachEngine(other, policy=Policy(), journal=Journal(path), load_entry_points=False)
    for ask in (None, batch):
        with pytest.raises(JournalMismatch) as err:
            o.undo(ask)
        msg = str(err.value)
        assert f"batch {batch}" in msg and "made on the backend 'demo', not on 'ssh:root@db1:22'" in msg
        assert "nothing was moved" in msg and "--journal FILE" in msg
    other.set_writer(0)
    assert other.task_cgroup(pid, "freezer") == "/a"  # untouched
    assert e.undo() is not None and k.task_cgroup(pid, "freezer") == "/a"  # its own backend may


def test_an_open_batch_of_another_backend_is_not_recovered(tmp_path):
    path = tmp_path / "shared.jsonl"
    j = Journal(path)
    with j.locked():
        j.write_intent("20260101T000000-aaaaaa", "freezer", False, None, "/b",
                       [{"pid": 300, "start_time": 5, "pidfs": None, "from": "/a", "to": "/b"}], backend="local")
    k = small_world()
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    e = AttachEngine(k, policy=Policy(), journal=Journal(path), load_entry_points=False)
    with pytest.raises(JournalMismatch, match="is open \\(interrupted\\) and only that backend can tell"):
        e.apply(e.plan([pid], CgroupRef("freezer", "/b")))
    assert k.task_cgroup(pid, "freezer") == "/a"
    assert Journal(path).open_batches()[0].id == "20260101T000000-aaaaaa"  # left for its backend


def test_old_intents_without_a_backend_stay_readable_and_undoable(tmp_path):
    k = small_world()
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    e = AttachEngine(k, policy=Policy(), journal=Journal(tmp_path / "j.jsonl"), load_entry_points=False)
    e.apply(e.plan([pid], CgroupRef("freezer", "/b")))
    lines = [json.loads(line) for line in open(tmp_path / "j.jsonl")]
    del lines[0]["backend"]  # as an earlier version wrote it
    (tmp_path / "old.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    old = AttachEngine(k, policy=Policy(), journal=Journal(tmp_path / "old.jsonl"), load_entry_points=False)
    assert old.journal.batches()[0].backend is None
    report = old.undo()
    assert report is not None and [o.outcome for o in report.outcomes] == ["moved"]
    assert k.task_cgroup(pid, "freezer") == "/a"


@pytest.mark.parametrize("bad", [3, "", "x" * 300, "a\0b"])
def test_a_bad_backend_field_is_a_corrupt_line(tmp_path, bad):
    from ctrtui.engine.journal import JournalCorrupt

    rec = {"kind": "intent", "batch": "b1", "backend": bad, "time": "", "hierarchy": "freezer", "threads": False,
           "undo_of": None, "target": "/b", "tasks": []}
    (tmp_path / "j.jsonl").write_text(json.dumps(rec) + "\n")
    with pytest.raises(JournalCorrupt, match="line 1: backend must be a non-empty string"):
        Journal(tmp_path / "j.jsonl").batches()


def test_the_cli_refuses_another_backends_open_batch_in_one_line(tmp_path, capsys):
    from ctrtui.main import main

    path = str(tmp_path / "j.jsonl")
    j = Journal(path)
    with j.locked():
        j.write_intent("20260101T000000-aaaaaa", "freezer", False, None, "/b",
                       [{"pid": 300, "start_time": 5, "pidfs": None, "from": "/a", "to": "/b"}], backend="local")
    for argv in (["--demo", "--journal", path, "move", "1", "--to", "freezer:/"],
                 ["--demo", "--journal", path, "undo"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "made on the backend 'local', not on 'demo'" in err[0], err
