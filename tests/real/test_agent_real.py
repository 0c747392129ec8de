"""The remote protocol end to end without ssh: `AgentChannel.open([python, "-c", STUB])` runs the
agent as a local subprocess, on this machine's real cgroups.

- under this interpreter (ctrtui installed: the agent is imported from it);
- under Python 3.9 with no site-packages (`-I -S`: ctrtui absent, so the bundle travels and is
  imported from memory), doing what a fleet does: hello, hierarchies, snapshots whole and as
  deltas, a move, its undo and the log of its own sleep processes in `ctrtui-test-*` cgroups;
- a Python older than 3.9 gets one `python-too-old` HostError;
- the faults of a real agent: one killed mid-call, one closed from another thread; the agent
  leaves at EOF. The faults of a fake agent (one that never answers, exits before the
  handshake, speaks another protocol, answers out of order) need neither root nor cgroups:
  tests/unit/test_hostile_hosts.py.
The same through a real sshd is the transport's (tests/real/test_ssh_*.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ctrtui import __version__
from ctrtui.remote import AgentChannel, HostError, RemoteOpError, RemoteReader, remote_command
from ctrtui.remote.stub import STUB
from ctrtui.service import PROTOCOL
from ctrtui.sources.base import Reader, contract_problems, protocol_problems
from ctrtui.sources.cgroupfs import CgroupFS
from devtools.agentfakes import gone, sleeping_in_a_timer
from tests.clihelpers import isolated_dirs  # noqa: F401 - isolated_dirs is autouse

PYENV = Path("/root/.pyenv/versions")
PY39 = PYENV / "3.9.18/bin/python3"
TOO_OLD = [PYENV / v / "bin/python3" for v in ("3.8.18", "3.6.15", "3.7.16")]


def _need(path: Path) -> str:
    if not os.access(path, os.X_OK):
        pytest.skip(f"no interpreter at {path} (the pyenv Pythons of the compatibility tests are not installed)")
    return str(path)


@pytest.fixture
def local_agent():
    channel = AgentChannel.open(remote_command(sys.executable), name="here", timeout=30)
    yield channel
    channel.close()


def test_the_agent_under_this_python_uses_the_installed_ctrtui(local_agent):
    ch = local_agent
    assert ch.mode == "installed" and ch.hello["version"] == __version__ and ch.hello["euid"] == os.geteuid()
    assert ch.hello["writable"] is (os.geteuid() == 0)
    assert ch.call("pid_max") == CgroupFS().pid_max
    reader = RemoteReader(ch)
    assert contract_problems(reader) == [] and protocol_problems(reader, Reader) == []
    assert reader.identity == "ssh://here" and reader.kind == "remote" and reader.capabilities == frozenset()
    assert reader.hierarchies() == CgroupFS().hierarchies()
    assert ch.bytes_sent > 0 and ch.bytes_received > 0


def test_an_unknown_op_is_a_remote_op_error_and_the_channel_goes_on(local_agent):
    with pytest.raises(RemoteOpError) as e:
        local_agent.call("task_state", {"pid": 10 ** 9})
    assert e.value.kind == "bad-request" and "pid_max" in str(e.value)
    with pytest.raises(RemoteOpError) as e:
        local_agent.call("launch")
    assert e.value.kind == "bad-request"
    assert local_agent.call("pid_max") > 300


def test_python39_without_site_packages_runs_the_bundle_on_real_cgroups(realworld, tmp_path):
    py = _need(PY39)
    threads = threading.active_count()
    ch = AgentChannel.open([py, "-I", "-S", "-c", STUB], name="py39", timeout=60)
    try:
        assert ch.mode == "bundle" and ch.hello["python"] == "3.9.18" and ch.hello["protocol"] == PROTOCOL
        bundle_bytes = ch.bytes_sent
        reader = RemoteReader(ch)
        assert reader.hierarchies() == CgroupFS().hierarchies()

        cg = realworld.mkdir("freezer", "remote")
        p = realworld.spawn_sleep()
        first = reader.snapshot(["freezer"])
        assert cg in first["freezer"] and p.pid not in first["freezer"][cg].procs
        realworld.put(p.pid, "freezer", cg)
        second = reader.snapshot(["freezer"])
        assert list(second["freezer"][cg].procs) == [p.pid]
        assert (reader.full_snapshots, reader.delta_snapshots) == (1, 1)
        realworld.put(p.pid, "freezer", "/")

        # the command line's commands, run here against the host's service (as `--host` runs them)
        from ctrtui.model import CgroupRef
        from ctrtui.remote.service import RemoteService

        service = RemoteService(ch, reader)
        target = realworld.mkdir("freezer", "remote/to")
        report = service.apply(service.plan([p.pid], CgroupRef("freezer", target)))
        assert report.ok, report
        assert realworld.cgroup_of(p.pid, "freezer") == target
        assert p.pid in service.task_details([p.pid])
        undone = service.undo()
        assert undone.report is not None and undone.report.ok
        assert realworld.cgroup_of(p.pid, "freezer") == "/"
        # the journal is the host's own (here: the test's XDG_STATE_HOME)
        assert (Path(os.environ["XDG_STATE_HOME"]) / "ctrtui").is_dir()
        assert len(service.log().rows()) >= 2
        # a plan into a cgroup the host does not have: the host's engine says so
        missing = service.plan([p.pid], CgroupRef("freezer", f"{cg}/nope"))
        assert [v.kind for v in missing.verdicts] == ["refused"], missing
        assert ch.bytes_sent > bundle_bytes > 10_000
    finally:
        ch.close()
    agent = ch.hello["pid"]
    assert gone(agent)
    assert threading.active_count() == threads


def test_remote_service_moves_and_undoes_through_the_bundle_under_python39(realworld):
    """`RemoteService` against the agent of the bundle on Python 3.9 (the codec and the
    service calls travel): the host's engine plans under pidfds it keeps between the `plan`
    and the `apply` requests, writes, journals in the host's XDG state dir, undoes; a cgroup
    op and stats go the same way; the values come back as a LocalService gives them."""
    from ctrtui.model import CgroupRef
    from ctrtui.remote.service import RemoteService

    py = _need(PY39)
    ch = AgentChannel.open([py, "-I", "-S", "-c", STUB], name="py39", timeout=60)
    try:
        assert ch.mode == "bundle"
        service = RemoteService(ch)
        src = realworld.mkdir("freezer", "svc")
        dst = realworld.mkdir("freezer", "svc/to")
        p = realworld.spawn_sleep()
        realworld.put(p.pid, "freezer", src)
        service.prepare_writes()
        plan = service.plan([p.pid], CgroupRef("freezer", dst))
        assert [(v.kind, v.source) for v in plan.verdicts] == [("move", src)] and plan.verdicts[0].task is not None
        assert isinstance(service.risks(plan), list)
        report = service.apply(plan)
        assert report.ok and report.journaled and realworld.cgroup_of(p.pid, "freezer") == dst, report
        assert [r["batch"] for r in service.log(1).rows()] == [report.batch_id]
        undone = service.undo()
        assert undone.report is not None and undone.report.undo_of == report.batch_id
        assert realworld.cgroup_of(p.pid, "freezer") == src
        frozen = service.cgroup_op("freeze", CgroupRef("freezer", dst))
        assert frozen.ok and frozen.journaled, frozen.sentence()
        figs = service.stats({"freezer": [src, dst]}, 0)
        assert figs["freezer"][dst].frozen is True and figs["freezer"][src].frozen is False
        assert service.undo().op is not None  # the freeze, undone: thawed
        assert service.stats({"freezer": [dst]}, 0)["freezer"][dst].frozen is False
    finally:
        ch.close()
    assert gone(ch.hello["pid"])


@pytest.mark.parametrize("path", TOO_OLD, ids=lambda p: p.parts[-3])
def test_a_python_older_than_39_is_one_clear_error(path):
    py = _need(path)
    t = time.monotonic()
    with pytest.raises(HostError) as e:
        AgentChannel.open([py, "-c", STUB], name="old", timeout=30)
    assert e.value.kind == "python-too-old"
    version = path.parts[-3]
    text = str(e.value)
    assert text.startswith("old: ") and version in text and "3.9" in text and "\n" not in text
    assert time.monotonic() - t < 30


def test_an_agent_killed_mid_call_is_agent_died(local_agent):
    pid = local_agent.hello["pid"]
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    t = time.monotonic()
    try:
        with pytest.raises(HostError) as e:
            local_agent.call("stats", {"walks": {"freezer": ["/"]}, "interval": 20.0}, timeout=60)
    finally:
        killer.cancel()
    assert e.value.kind == "agent-died" and "signal 9" in str(e.value)
    assert time.monotonic() - t < 15
    with pytest.raises(HostError):
        local_agent.call("pid_max")


def test_the_agent_leaves_at_eof_and_on_close(local_agent):
    pid = local_agent.hello["pid"]
    proc = local_agent._proc
    assert proc.stdin is not None
    proc.stdin.close()  # the connection goes: EOF on the agent's stdin
    assert proc.wait(timeout=10) == 0
    assert gone(pid)
    ch = AgentChannel.open(remote_command(sys.executable), name="again", timeout=30)
    ch.close()
    assert gone(ch.hello["pid"])


def test_a_login_script_that_prints_before_the_stub_is_skipped():
    argv = ["/bin/sh", "-c", 'echo "Welcome to host"; exec "$0" "$@"', *remote_command(sys.executable)]
    with AgentChannel.open(argv, name="chatty", timeout=30) as ch:
        assert ch.call("pid_max") > 300


ROOT = str(Path(__file__).resolve().parents[2])
_RUN = ("import sys; sys.path.insert(0, sys.argv[1]); from ctrtui.main import main; "
        "sys.exit(main(sys.argv[2:]))")
SAME_OUTPUT = [
    ["hierarchies", "--demo"], ["hierarchies", "--demo", "--json"], ["ls", "--demo"], ["ls", "--demo", "--json"],
    ["ls", "--demo=hostile"], ["tasks", "--demo", "freezer:/"], ["tasks", "--demo=hostile", "freezer:/", "--json"],
    ["move", "--demo", "1", "2", "--to", "freezer:/system.slice", "--dry-run", "--json"],
    ["move", "--demo", "2", "--to", "cpu:/", "--json"], ["mkdir", "--demo", "freezer:/x"],
    ["freeze", "--demo", "freezer:/system.slice", "--json"], ["rmdir", "--demo", "freezer:/nope"],
    ["log", "--demo"], ["undo", "--demo"], ["tasks", "--demo", "freezer:/a/../b"],
]


def _cli(python: str, argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / python.replace("/", "_")), COLUMNS="100")
    return subprocess.run([python, "-I", "-S", "-c", _RUN, ROOT, *argv], capture_output=True, text=True,
                          env=env, timeout=60)


def test_the_travelling_command_line_says_the_same_under_python39(tmp_path):
    """The engine, the sources and the reports run on 3.9 as on this Python: the demo world's
    commands print byte for byte the same (only the batch ids and times differ)."""
    import re

    py = _need(PY39)
    stamp = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\"(time|created)\": [0-9.]+")
    for argv in SAME_OUTPUT:
        old, new = _cli(py, argv, tmp_path), _cli(sys.executable, argv, tmp_path)
        assert "Traceback" not in old.stderr, (argv, old.stderr)
        assert (old.returncode, stamp.sub("T", old.stdout), stamp.sub("T", old.stderr)) == (
            new.returncode, stamp.sub("T", new.stdout), stamp.sub("T", new.stderr)), argv


def test_a_policy_file_under_python39_is_refused_in_one_sentence(tmp_path):
    py = _need(PY39)
    policy = tmp_path / "policy.toml"
    policy.write_text('[protect]\npids = [1]\n')
    r = _cli(py, ["move", "--demo", "2", "--to", "cpu:/", "--policy", str(policy)], tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "needs Python 3.11" in r.stderr and "3.9.18" in r.stderr, r.stderr


def test_close_from_another_thread_ends_a_call_in_flight(local_agent):
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            local_agent.call("stats", {"walks": {"freezer": ["/"]}, "interval": 30.0}, timeout=60)
        except BaseException as e:  # noqa: BLE001 - kept for the assertion below
            errors.append(e)

    caller = threading.Thread(target=slow)
    caller.start()
    deadline = time.monotonic() + 30
    while not sleeping_in_a_timer(local_agent.hello["pid"]):  # the call is in flight on the agent
        assert time.monotonic() < deadline and caller.is_alive(), ("the call never reached the agent", errors)
        time.sleep(0.01)
    t = time.monotonic()
    local_agent.close()
    caller.join(10)
    assert not caller.is_alive() and time.monotonic() - t < 10
    assert len(errors) == 1 and isinstance(errors[0], HostError) and errors[0].kind == "dropped"
    assert gone(local_agent.hello["pid"])


def test_the_stub_ignores_a_ctrtui_in_the_current_directory():
    """`python -c` puts the current directory first on sys.path; the stub drops it, so a
    `ctrtui` (or `json`) there cannot stand in for the real one: here the repository's own
    checkout is the current directory, and Python 3.9 without ctrtui installed says so."""
    py = _need(PY39)
    out = subprocess.run([py, "-c", STUB], input=b"", capture_output=True, cwd=ROOT, timeout=30)
    assert out.returncode == 0
    assert out.stdout.startswith(b'{"ctrtui": "stub", "stub": 1, "python": "3.9.18", "installed": null}')


def test_python_m_ctrtui_agent_serves_and_leaves_at_eof():
    out = subprocess.run([sys.executable, "-m", "ctrtui.agent"], input=b'{"id": 1, "op": "pid_max"}\n',
                         capture_output=True, timeout=60)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0 and lines[0]["protocol"] == PROTOCOL
    assert lines[1] == {"id": 1, "ok": True, "result": CgroupFS().pid_max}


def test_a_hook_plugin_is_loaded_under_python39_too(tmp_path):
    """importlib.metadata.entry_points() takes no `group=` before 3.10: the engine still finds
    an installed hook plugin there, and the plugin still refuses."""
    py = _need(PY39)
    info = tmp_path / "realplug-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: realplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ctrtui.hooks]\nguard = realplug:Hook\n")
    (tmp_path / "realplug.py").write_text(
        "from ctrtui.engine import Refusal\n"
        "class Hook:\n"
        "    def can_attach(self, ctx):\n"
        "        return Refusal('EPERM', 'real plugin refuses PID %d' % ctx.pid, 'Uninstall it.')\n"
        "    def attach(self, task, old, new):\n"
        "        pass\n")
    from ctrtui.sources.demo import demo_world

    world = demo_world()
    procs = [p for c in world.snapshot(["cpu"])["cpu"].containers.values() for p in c.procs]
    pid = next(p for p, t in sorted(world.task_details(procs).items()) if t.uid == 1000)  # a user's task
    script = ("import sys; sys.path[:0] = sys.argv[1:3]; from ctrtui.main import main; "
              "sys.exit(main(sys.argv[3:]))")
    r = subprocess.run([py, "-I", "-S", "-c", script, ROOT, str(tmp_path), "move", "--demo", str(pid), "--to",
                        "cpu:/system.slice", "--dry-run"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state")))
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1 and f"real plugin refuses PID {pid}" in r.stdout, (r.stdout, r.stderr)


def test_every_module_of_the_bundle_imports_under_python39():
    """Each travelling module, even those the tests above reach only lazily, compiles and
    imports on 3.9 without site-packages (a runtime `X | Y`, a 3.10 keyword argument at module
    level, a 3.10 syntax would fail here)."""
    from ctrtui.remote.bundle import bundle

    py = _need(PY39)
    script = ("import importlib, sys; sys.path.insert(0, sys.argv[1]); bad = []\n"
              "for name in sys.argv[2:]:\n"
              "    try:\n"
              "        importlib.import_module(name)\n"
              "    except Exception as e:\n"
              "        bad.append('%s: %s: %s' % (name, type(e).__name__, e))\n"
              "print('\\n'.join(bad)); sys.exit(1) if bad else None\n")
    modules = [m for m in bundle().modules if not m.endswith(".__main__")]  # that one runs the agent
    r = subprocess.run([py, "-I", "-S", "-c", script + "print(len(sys.argv) - 2)\n", ROOT, *modules],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout.split() == [str(len(modules))], r.stdout + r.stderr


def _cpu_ticks(pid: int) -> tuple[int, int, str]:
    """(utime + stime in clock ticks, threads, state) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[17]), fields[0]


def test_an_idle_agent_does_nothing_between_requests(local_agent):
    """No timer, no polling: between two requests the agent is one sleeping thread that uses no
    CPU (counted in clock ticks, not timed)."""
    pid = local_agent.hello["pid"]
    local_agent.call("snapshot")  # warmed up
    before = _cpu_ticks(pid)
    time.sleep(1.5)
    after = _cpu_ticks(pid)
    assert after[1] == 1 and after[2] == "S"
    assert after[0] - before[0] <= 1  # at most one tick of rounding
