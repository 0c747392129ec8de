"""`ctrtui mkdir | rmdir | freeze | thaw HIERARCHY:/path`, their journal records and `undo` on
the real kernel, in `ctrtui-test-*` cgroups only (freezer, pids, cpu, cpuset, unified; never
the memory hierarchy), with only this test's own processes, thawed and removed at the end (the
demo world: tests/unit/test_cli_ops.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def ctrtui(*argv: str, journal) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_STATE_HOME=str(journal.parent / "state"))
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv, "--journal", str(journal)],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("hier", ["freezer", "pids", "cpu", "cpuset", "unified"])
def test_real_mkdir_rmdir_and_undo(realworld, tmp_path, hier):
    j = tmp_path / "journal.jsonl"
    top = realworld.top(hier)
    new = f"{hier}:{top}/made"
    disk = realworld.fs(hier, top + "/made")
    r = ctrtui("mkdir", new, "--json", journal=j)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["outcome"] == "done" and os.path.isdir(disk)
    r = ctrtui("mkdir", new, journal=j)
    assert r.returncode == 1 and "EEXIST" in r.stderr
    r = ctrtui("mkdir", f"{hier}:{top}/cgroup.procs", "--json", journal=j)  # only the kernel knows this name
    assert r.returncode == 1 and json.loads(r.stdout)["errno"] == "EEXIST" and not json.loads(r.stdout)["predicted"]
    r = ctrtui("mkdir", f"{hier}:{top}/{'x' * 256}", journal=j)
    assert r.returncode == 1 and "at most 255 bytes" in r.stderr
    if hier == "cpuset":  # a new cpuset has no CPUs: no task may enter; a child keeps it busy
        os.mkdir(disk + "/child")
        busy = "1 child cgroup"
    else:
        p = realworld.spawn_sleep()
        realworld.put(p.pid, hier, top + "/made")
        busy = "1 task"
    r = ctrtui("rmdir", new, "--json", journal=j)  # predicted: the kernel would say EBUSY
    assert r.returncode == 1 and json.loads(r.stdout)["errno"] == "EBUSY" and os.path.isdir(disk)
    r = ctrtui("undo", journal=j)  # the mkdir's undo: refused while it is not empty
    assert r.returncode == 1 and "no longer empty" in r.stderr and busy in r.stderr and os.path.isdir(disk)
    if hier == "cpuset":
        os.rmdir(disk + "/child")
    else:
        realworld.put(p.pid, hier, top)
    r = ctrtui("undo", "--json", journal=j)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["op"] == "rmdir" and not os.path.exists(disk)
    other = realworld.mkdir(hier, "other")
    r = ctrtui("rmdir", f"{hier}:{other}", journal=j)  # an empty cgroup: removed, then made again by undo
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(realworld.fs(hier, other))
    r = ctrtui("undo", journal=j)
    assert r.returncode == 0 and os.path.isdir(realworld.fs(hier, other))
    r = ctrtui("log", "--json", journal=j)
    ops = [(b["op"], b["state"]) for b in json.loads(r.stdout)]
    assert ops == [("mkdir", "done"), ("rmdir", "undone"), ("rmdir", "done"), ("mkdir", "refused"),
                   ("mkdir", "undone")]


@pytest.mark.parametrize("hier, frozen", [("freezer", "FROZEN"), ("unified", "1")])
def test_real_freeze_thaw_and_undo(realworld, tmp_path, hier, frozen):
    j = tmp_path / "journal.jsonl"
    cg = realworld.mkdir(hier, "ice")
    p = realworld.spawn_sleep()
    realworld.put(p.pid, hier, cg)
    state = os.path.join(realworld.fs(hier, cg), "freezer.state" if hier == "freezer" else "cgroup.freeze")
    try:
        r = ctrtui("freeze", f"{hier}:{cg}", journal=j)
        assert r.returncode == 0, r.stderr
        assert "frozen" in r.stdout
        assert open(state).read().strip() in (frozen, "FREEZING")
        r = ctrtui("undo", "--json", journal=j)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["op"] == "thaw"
        assert open(state).read().strip() in ("THAWED", "0")
        r = ctrtui("thaw", f"{hier}:{cg}", journal=j)  # thawed already: nothing for an undo to freeze
        assert r.returncode == 0 and "already thawed" in r.stdout
        r = ctrtui("undo", journal=j)
        assert r.returncode == 1 and "nothing to undo" in r.stderr and open(state).read().strip() in ("THAWED", "0")
        with open(state, "w") as f:  # frozen by hand: a thaw changes it, and its undo freezes again
            f.write("FROZEN" if hier == "freezer" else "1")
        r = ctrtui("thaw", f"{hier}:{cg}", journal=j)
        assert r.returncode == 0 and "thawed (batch" in r.stdout
        r = ctrtui("undo", journal=j)
        assert r.returncode == 0 and open(state).read().strip() in (frozen, "FREEZING")
    finally:
        with open(state, "w") as f:
            f.write("THAWED" if hier == "freezer" else "0")
    r = ctrtui("freeze", f"pids:{realworld.top('pids')}", journal=j)
    assert r.returncode == 1 and "has no freezer" in r.stderr


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_undo_of_a_mkdir_refuses_a_cgroup_made_again_at_its_path(realworld, tmp_path, hier):
    """The kernel gives a cgroup made again under the same name another inode: ctrtui's mkdir
    recorded the first one's, and its undo leaves the second alone, saying why."""
    j = tmp_path / "journal.jsonl"
    top = realworld.top(hier)
    disk = realworld.fs(hier, top + "/again")
    r = ctrtui("mkdir", f"{hier}:{top}/again", journal=j)
    assert r.returncode == 0, r.stderr
    first = os.stat(disk).st_ino
    os.rmdir(disk)
    os.mkdir(disk)  # someone else's now, under the same name
    second = os.stat(disk).st_ino
    assert second != first
    r = ctrtui("undo", "--json", journal=j)
    got = json.loads(r.stdout)
    assert r.returncode == 1 and got["outcome"] == "refused" and got["predicted"], r.stderr
    reason = got["reason"]
    assert "is another cgroup now" in reason and f"id {first}" in reason and f"id {second}" in reason
    assert os.path.isdir(disk)
    os.rmdir(disk)
    r = ctrtui("undo", journal=j)  # once that one is gone too, the mkdir is settled
    assert r.returncode == 0 and "already gone" in r.stderr, r.stderr


@pytest.mark.parametrize("hier", ["freezer", "unified"])
def test_real_no_op_freeze_and_thaw(realworld, tmp_path, hier):
    """A thaw of a thawed cgroup and a freeze of a frozen one change nothing and journal
    nothing; a thaw of a cgroup frozen by its parent only is refused naming the parent."""
    j = tmp_path / "journal.jsonl"
    cg = realworld.mkdir(hier, "still")
    child = realworld.mkdir(hier, "still/kid")
    state = os.path.join(realworld.fs(hier, cg), "freezer.state" if hier == "freezer" else "cgroup.freeze")
    try:
        r = ctrtui("thaw", f"{hier}:{cg}", "--json", journal=j)
        assert r.returncode == 0 and json.loads(r.stdout)["outcome"] == "already-thawed", r.stderr
        assert ctrtui("freeze", f"{hier}:{cg}", journal=j).returncode == 0
        r = ctrtui("freeze", f"{hier}:{cg}", journal=j)
        assert r.returncode == 0 and "already frozen; nothing was changed" in r.stdout, r.stderr
        r = ctrtui("thaw", f"{hier}:{child}", journal=j)
        assert r.returncode == 1 and f"by its ancestor {hier}:{cg}" in r.stderr, r.stderr
        r = ctrtui("log", "--json", journal=j)
        assert [b["op"] for b in json.loads(r.stdout)] == ["freeze"]
    finally:
        with open(state, "w") as f:
            f.write("THAWED" if hier == "freezer" else "0")


@pytest.fixture
def nobody():
    """A command line that runs ctrtui as uid/gid 65534 (setpriv), with state and config dirs
    of its own (in a directory it can reach, removed afterwards), or a skip saying why not."""
    import shutil
    import tempfile

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed (Debian: util-linux)")
    home = tempfile.mkdtemp(prefix="ctrtui-test-nobody-")  # pytest's tmp_path is closed to other users
    try:
        os.chown(home, 65534, 65534)  # the user's own home: ctrtui keeps state only where nobody else can write
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        argv = [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", "env", "-i", "PATH=/usr/bin:/bin",
                f"PYTHONPATH={repo}", f"HOME={home}", f"XDG_STATE_HOME={home}/state",
                f"XDG_CONFIG_HOME={home}/config"]
        said = ""
        for python in (sys.executable, "/usr/bin/python3"):
            probe = subprocess.run([*argv, python, "-c", "import ctrtui.cli"], capture_output=True, text=True,
                                   timeout=60)
            if probe.returncode == 0:
                yield [*argv, python, "-m", "ctrtui"]
                return
            said = probe.stderr.strip()[-200:]
        pytest.skip(f"uid 65534 cannot run ctrtui from {repo} with {sys.executable} or /usr/bin/python3 ({said})")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_a_non_root_mkdir_rmdir_and_freeze_name_what_they_could_not_write(realworld, nobody):
    top = realworld.top("freezer")      # made by root: uid 65534 may not write it
    parent = realworld.mkdir("freezer", "p")

    def refused(*argv: str) -> str:
        r = subprocess.run([*nobody, *argv], capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout) == (1, ""), r
        return r.stderr

    err = refused("mkdir", f"freezer:{parent}/x")
    assert err == (f"mkdir freezer:{parent}/x refused (EACCES): permission denied: uid 65534 may not write the "
                   f"parent cgroup freezer:{parent}, so freezer:{parent}/x cannot be made in it; run as root, or "
                   f"have freezer:{parent} delegated to this user (its directory owned by it)\n")
    assert not os.path.exists(realworld.fs("freezer", parent + "/x"))
    err = refused("rmdir", f"freezer:{parent}")
    assert err == (f"rmdir freezer:{parent} refused (EACCES): permission denied: uid 65534 may not write the "
                   f"parent cgroup freezer:{top}, so freezer:{parent} cannot be removed from it; run as root, or "
                   f"have freezer:{top} delegated to this user (its directory owned by it)\n")
    assert os.path.isdir(realworld.fs("freezer", parent))
    err = refused("freeze", f"freezer:{parent}")
    assert err == (f"freeze freezer:{parent} refused (EACCES): permission denied: uid 65534 may not write "
                   f"freezer:{parent}/freezer.state; run as root, or have that file delegated to this user "
                   "(owned by it)\n")
