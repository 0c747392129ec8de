"""One outcome vocabulary on the real kernel, through the command line as a non-root user:
a task already in the target is `already-there` whoever asks (no permission is needed for
nothing to do), a task that is not there is refused by the kernel's permission rules, and a
task that is gone is `vanished` ESRCH. Own processes and `ctrtui-test-*` cgroups only."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.real

NOBODY = 65534


@pytest.fixture
def home():
    """A home directory uid 65534 can reach (pytest's tmp_path sits below a root-only 0700
    directory, where ctrtui as that user could read neither its policy nor its journal)."""
    path = tempfile.mkdtemp(prefix="ctrtui-nobody-")
    try:
        os.chmod(path, 0o755)
        os.chown(path, NOBODY, NOBODY)
        yield pathlib.Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ctrtui_as_nobody(home, *argv: str) -> tuple[int, list[dict], str]:
    """`ctrtui ... --json` run as uid 65534 (a forked child of this test that dropped its
    credentials and calls the command line's `main`: no new interpreter, which uid 65534 may
    not be allowed to execute), with a journal it may write in `home` (the `home` fixture).
    (exit status, rows, stderr)"""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 70
        try:
            os.close(out_r)
            os.close(err_r)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            os.environ["XDG_STATE_HOME"] = str(home / "state")
            os.environ["HOME"] = str(home)
            os.environ["XDG_CONFIG_HOME"] = str(home / "config")
            sys.stdout = os.fdopen(out_w, "w")
            sys.stderr = os.fdopen(err_w, "w")
            from ctrtui.main import main

            code = main([*argv, "--json", "--journal", str(home / "j.jsonl")])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 70
        except BaseException as e:  # noqa: BLE001 - report it to the parent
            print(f"child failed: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(out_w)
    os.close(err_w)
    with os.fdopen(out_r) as f_out, os.fdopen(err_r) as f_err:
        out, err = f_out.read(), f_err.read()
    _, status = os.waitpid(child, 0)
    rows = json.loads(out) if out.strip() else []
    return os.waitstatus_to_exitcode(status), rows, err


@pytest.mark.parametrize("hier", ["unified", "freezer"])
def test_non_root_move_of_a_task_already_in_the_root_is_already_there(realworld, home, hier):
    mine = realworld.spawn_as(NOBODY)
    realworld.put(mine.pid, hier, "/")  # the hierarchy's root: not writable by uid 65534
    assert realworld.cgroup_of(mine.pid, hier) == "/"
    rc, rows, err = ctrtui_as_nobody(home, "move", str(mine.pid), "--to", f"{hier}:/")
    assert rc == 0, err
    assert [(r["outcome"], r["errno"]) for r in rows] == [("already-there", None)], rows
    # the same user, a task of its own that is NOT there: the kernel's permission rules apply
    cg = realworld.mkdir(hier, "away")
    realworld.put(mine.pid, hier, cg)
    rc, rows, err = ctrtui_as_nobody(home, "move", str(mine.pid), "--to", f"{hier}:/")
    assert rc == 1 and [(r["outcome"], r["errno"]) for r in rows] == [("refused", "EACCES")], rows
    assert realworld.cgroup_of(mine.pid, hier) == cg


def test_root_and_non_root_say_the_same_of_a_task_already_there(realworld, home, tmp_path):
    cg = realworld.mkdir("freezer", "here")
    mine = realworld.spawn_as(NOBODY)
    realworld.put(mine.pid, "freezer", cg)
    rc, rows, _ = ctrtui_as_nobody(home, "move", str(mine.pid), "--to", f"freezer:{cg}")
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    root = subprocess.run([sys.executable, "-m", "ctrtui", "move", str(mine.pid), "--to", f"freezer:{cg}",
                           "--json", "--journal", str(tmp_path / "root.jsonl")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert rc == root.returncode == 0
    assert [r["outcome"] for r in rows] == [r["outcome"] for r in json.loads(root.stdout)] == ["already-there"]


def test_gone_tasks_are_vanished_for_non_root_too(realworld, home):
    """A PID that does not exist and a zombie: `vanished` ESRCH, before any permission."""
    cg = realworld.mkdir("freezer", "gone")
    zombie = realworld.spawn_zombie()
    free = next(p for p in range(int(open("/proc/sys/kernel/pid_max").read()) - 1, 1000, -1)
                if not os.path.exists(f"/proc/{p}"))
    rc, rows, err = ctrtui_as_nobody(home, "move", str(free), str(zombie), "--to", f"freezer:{cg}")
    assert rc == 1
    assert [(r["outcome"], r["errno"]) for r in rows] == [("vanished", "ESRCH")] * 2, rows


def test_apply_writes_under_the_pidfds_the_plan_read_with(realworld):
    """On the real kernel the plan keeps each task's pidfd and apply writes under it: no
    pidfd is opened again, and a task killed and reaped in between is `vanished`, unwritten."""
    from ctrtui.engine import AttachEngine, Policy
    from ctrtui.model import CgroupRef
    from ctrtui.sources.cgroupfs import CgroupFS

    cg = realworld.mkdir("freezer", "held")
    sleeps = [realworld.spawn_sleep() for _ in range(5)]
    fs = CgroupFS()
    e = AttachEngine(fs, policy=Policy(), load_entry_points=False)
    plan = e.plan([p.pid for p in sleeps], CgroupRef("freezer", cg))
    assert all(v.kind == "move" for v in plan.verdicts) and len(e.reader.held) == 5
    sleeps[2].kill()
    sleeps[2].wait()

    def no_open(pid, thread=False):
        raise AssertionError("apply opened a pidfd again")

    fs.open_task = no_open
    r = e.apply(plan)
    assert [(o.outcome, o.errno) for o in r.outcomes] == [("moved", None)] * 2 + [("vanished", "ESRCH")] + [
        ("moved", None)] * 2
    assert [realworld.cgroup_of(p.pid, "freezer") for i, p in enumerate(sleeps) if i != 2] == [cg] * 4
    assert not e.reader.held


def test_task_probes_reads_a_batch_like_task_probe_one_by_one(realworld):
    """`CgroupFS.task_probes`: the same facts as `task_probe` for each PID (a process, a
    non-leader thread, a zombie, a PID that does not exist), and a kept pidfd only when
    asked."""
    from ctrtui.sources.cgroupfs import CgroupFS

    fs = CgroupFS()
    cg = realworld.mkdir("freezer", "probe")
    sleep = realworld.spawn_sleep()
    realworld.put(sleep.pid, "freezer", cg)
    _, tids = realworld.spawn_threads(2)
    zombie = realworld.spawn_zombie()
    free = next(p for p in range(int(open("/proc/sys/kernel/pid_max").read()) - 1, 1000, -1)
                if not os.path.exists(f"/proc/{p}"))
    pids = [sleep.pid, tids[1], zombie, free, sleep.pid]
    got = fs.task_probes(pids, "freezer", keep=True)
    assert list(got) == [sleep.pid, tids[1], zombie, free] and got[free] is None
    for pid in (sleep.pid, tids[1], zombie):
        one = fs.task_probe(pid, "freezer")
        info, where, ident, handle = got[pid]
        assert (info, where) == one[:2] and ident == one[2]
        assert (handle is not None) == (pid != tids[1])  # a TID is read alone, its pidfd not kept
    assert got[sleep.pid][1] == cg and got[zombie][0].zombie and got[tids[1]][0].tgid == tids[0]
    got[zombie][3].close()
    handle = got[sleep.pid][3]
    assert not handle.reaped() and fs.tasks_exited([handle]) == [False]
    sleep.kill()
    sleep.wait()
    assert handle.reaped() and fs.tasks_exited([handle]) == [True]
    handle.close()
    assert all(g is None or g[3] is None for g in fs.task_probes(pids, "freezer").values())
