"""State only the user owns (issue 16), as root against files of uid 65534 (nobody): a state
directory of another user (`sudo -E`, `su` without `-`), links planted there, a forged batch
in a journal that user owns, a policy file of theirs. Own temp dirs, own processes and
`ctrtui-test-*` cgroups only; chown needs root, so this is the real tier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from tests.realcg import REAL_OK, REAL_WHY, RealWorld

pytestmark = pytest.mark.skipif(not REAL_OK, reason=REAL_WHY)

NOBODY = 65534


@pytest.fixture
def realworld():
    with RealWorld() as w:
        yield w


def ctrtui(*argv: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, text=True, timeout=60,
                          env=env)


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def dirs(tmp_path):
    """(env, nobody's state dir `.../ctrtui`, a directory of root's): XDG_STATE_HOME points into
    a tree uid 65534 owns, as after `sudo -E` from that user; the config dir is root's own."""
    home = tmp_path / "home-nobody"
    state = home / "state" / "ctrtui"
    state.mkdir(parents=True)
    for d in (home, home / "state", state):
        os.chown(d, NOBODY, NOBODY)
        os.chmod(d, 0o755)
    mine = tmp_path / "root-only"
    mine.mkdir(mode=0o700)
    env = dict(os.environ, XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env, state, mine


def _plant(link, target) -> None:
    os.symlink(target, link)
    os.lchown(link, NOBODY, NOBODY)


def test_a_lock_link_planted_by_another_user_makes_no_file_and_moves_nothing(realworld, dirs):
    env, state, mine = dirs
    victim = mine / "created-through-the-link"
    _plant(state / "journal.jsonl.lock", victim)
    a = realworld.mkdir("freezer", "a")
    s = realworld.spawn_sleep()
    r = ctrtui("move", str(s.pid), "--to", f"freezer:{a}", env=env)
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert "uid 65534" in line and str(state.parent) in line and "XDG_STATE_HOME" in line
    assert not victim.exists() and not os.path.exists(state / "journal.jsonl")
    assert realworld.cgroup_of(s.pid, "freezer") != a


def test_a_link_of_roots_into_another_users_tree_is_judged_by_that_tree(tmp_path, dirs):
    env, state, mine = dirs
    link = mine / "state"  # root's own link, in root's own directory, to nobody's state tree
    link.symlink_to(state.parent)
    r = ctrtui("--demo", "move", "1", "--to", "freezer:/", env=dict(env, XDG_STATE_HOME=str(link)))
    assert r.returncode == 2 and f"{state.parent.parent}, a directory owned by uid 65534" in one_line(r.stderr)
    assert os.listdir(state) == []


def test_a_journal_link_to_a_file_of_roots_is_never_cut(realworld, dirs):
    env, state, mine = dirs
    secret = mine / "secret"
    secret.write_bytes(b"root's first line\nroot's last line, without its newline")
    os.chmod(secret, 0o600)
    before = secret.read_bytes()
    _plant(state / "journal.jsonl", secret)
    a = realworld.mkdir("freezer", "a")
    s = realworld.spawn_sleep()
    r = ctrtui("move", str(s.pid), "--to", f"freezer:{a}", env=env)
    assert r.returncode == 2 and "uid 65534" in one_line(r.stderr)
    assert secret.read_bytes() == before
    assert realworld.cgroup_of(s.pid, "freezer") != a


def test_last_hierarchy_is_never_written_through_a_link_nor_read_from_another_user(dirs, monkeypatch):
    from ctrtui.ui import start

    env, state, mine = dirs
    monkeypatch.setenv("XDG_STATE_HOME", env["XDG_STATE_HOME"])
    victim = mine / "victim"
    victim.write_text("root's\n")
    os.chmod(victim, 0o600)
    for name in ("last-hierarchy", f"last-hierarchy.{os.getpid()}.tmp", f"last-hierarchy.tmp{os.getpid()}"):
        _plant(state / name, victim)
    start.remember("freezer")
    assert victim.read_text() == "root's\n"
    assert start.remembered() is None
    own = mine / "state"  # root's own state dir, with a last-hierarchy of nobody's in it
    (own / "ctrtui").mkdir(parents=True)
    monkeypatch.setenv("XDG_STATE_HOME", str(own))
    planted = own / "ctrtui" / "last-hierarchy"
    planted.write_text("name=systemd\n")
    os.chown(planted, NOBODY, NOBODY)
    assert start.remembered() is None
    start.remember("freezer")  # not replaced either: it is not ours to change
    assert planted.read_text() == "name=systemd\n"
    planted.unlink()
    start.remember("freezer")
    assert start.remembered() == "freezer" and (planted.stat().st_mode & 0o077) == 0


def _start_time(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def test_a_batch_forged_by_another_user_is_never_undone(realworld, tmp_path):
    frozen, b = realworld.mkdir("freezer", "frozen"), realworld.mkdir("freezer", "b")
    s = realworld.spawn_sleep()
    realworld.put(s.pid, "freezer", b)
    state = tmp_path / "state" / "ctrtui"
    state.mkdir(parents=True, mode=0o700)
    journal = state / "journal.jsonl"
    task = {"pid": s.pid, "start_time": _start_time(s.pid), "pidfs": None, "from": frozen, "to": b}
    forged = [{"kind": "intent", "batch": "20261207T120000-f0f0f0", "time": "t", "hierarchy": "freezer",
               "threads": False, "undo_of": None, "target": b, "tasks": [task]},
              {"kind": "outcome", "batch": "20261207T120000-f0f0f0", **{k: task[k] for k in ("pid", "start_time")},
               "from": frozen, "to": b, "outcome": "moved", "errno": None},
              {"kind": "close", "batch": "20261207T120000-f0f0f0", "time": "t", "state": "done"}]
    journal.write_text("".join(json.dumps(x) + "\n" for x in forged))
    os.chown(journal, NOBODY, NOBODY)  # nobody wrote it (start time from world-readable /proc/PID/stat)
    state_file = os.path.join(realworld.fs("freezer", frozen), "freezer.state")
    with open(state_file, "w") as f:
        f.write("FROZEN")
    try:
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
        for argv in (["undo"], ["undo", "20261207T120000-f0f0f0"], ["undo", "--journal", str(journal)]):
            r = ctrtui(*argv, env=env)
            assert r.returncode == 2, r.stderr
            line = one_line(r.stderr)
            assert "owned by uid 65534" in line and str(journal) in line and "chown 0" in line
            assert realworld.cgroup_of(s.pid, "freezer") == b
        r = ctrtui("log", env=env)
        assert r.returncode == 2 and "owned by uid 65534" in one_line(r.stderr)
    finally:
        with open(state_file, "w") as f:
            f.write("THAWED")


def test_a_journal_others_may_write_is_refused_and_a_sticky_tmp_is_fine(tmp_path):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    loose = tmp_path / "loose.jsonl"
    loose.write_text("")
    os.chmod(loose, 0o664)
    r = ctrtui("--demo", "log", "--journal", str(loose), env=env)
    assert r.returncode == 2 and "writable by group or others (mode 0664)" in one_line(r.stderr)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    r = ctrtui("--demo", "move", "1", "--to", "freezer:/", "--journal", str(shared / "j.jsonl"), env=env)
    assert r.returncode == 2 and "mode 0777, without the sticky bit" in one_line(r.stderr)
    assert not (shared / "j.jsonl").exists()
    fd, own = tempfile.mkstemp(prefix="ctrtui-test-journal-", suffix=".jsonl", dir="/tmp")  # /tmp: 1777
    os.close(fd)
    try:
        r = ctrtui("--demo", "move", "1", "--to", "freezer:/", "--journal", own, env=env)
        assert r.returncode == 0, r.stderr
        r = ctrtui("--demo", "log", "--journal", own, env=env)
        assert r.returncode == 0 and len(r.stdout.splitlines()) == 2, r.stderr
    finally:
        os.unlink(own)


def test_a_policy_of_another_user_or_behind_a_link_is_refused(tmp_path):
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    theirs = tmp_path / "theirs.toml"
    theirs.write_text("[protect]\npids = [2]\n")
    os.chown(theirs, NOBODY, NOBODY)
    r = ctrtui("--demo", "move", "1", "--to", "freezer:/", "--policy", str(theirs), env=env)
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert f"the policy file {theirs} is owned by uid 65534" in line and "--policy FILE" in line
    mine = tmp_path / "mine.toml"
    mine.write_text("[protect]\npids = [2]\n")
    default = tmp_path / "config" / "ctrtui" / "policy.toml"
    default.parent.mkdir(parents=True)
    default.symlink_to(mine)
    r = ctrtui("--demo", "move", "1", "--to", "freezer:/", env=env)
    assert r.returncode == 2 and "is a symbolic link" in one_line(r.stderr)
    default.unlink()
    r = ctrtui("--demo", "move", "1", "--to", "freezer:/", "--policy", str(mine), env=env)
    assert r.returncode == 0, r.stderr


def test_the_ui_is_read_only_with_the_sentence_when_the_state_dir_is_another_users(dirs, monkeypatch):
    from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
    from ctrtui.service.local import LocalService
    from ctrtui.sources.simulated import SimKernel
    from ctrtui.ui.moves import read_only_words

    env, state, mine = dirs
    monkeypatch.setenv("XDG_STATE_HOME", env["XDG_STATE_HOME"])
    kernel = SimKernel()
    engine = AttachEngine(kernel, policy=Policy(), journal=Journal(default_journal_path()), load_entry_points=False)
    reason = LocalService(kernel, engine=engine).journal_problem()
    assert reason is not None and "uid 65534" in reason and str(state.parent) in reason
    assert read_only_words(reason).startswith("Read-only: the journal ")


def test_a_user_other_than_root_keeps_state_in_a_directory_of_their_own(tmp_path):
    base = tempfile.mkdtemp(prefix="ctrtui-test-owned-")  # tmp_path's parents are root's 0700
    try:
        os.chmod(base, 0o755)
        state = os.path.join(base, "state")
        os.mkdir(state, 0o700)
        os.chown(state, NOBODY, NOBODY)
        # The child drops to uid 65534 itself, after importing what it needs (the interpreter
        # may sit where that user cannot read).
        code = ("import argparse, json, locale, tomllib, pwd, signal, fcntl, errno, re, stat, time, _thread\n"
                "import ctrtui.main, ctrtui.cli.parser, ctrtui.engine, ctrtui.sources, ctrtui.sources.demo\n"
                "import ctrtui.report\n"
                "ctrtui.cli.parser.build_parser(); ctrtui.sources.open_backend('demo')\n"
                "import os, sys\n"
                "os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)\n"
                "rc = ctrtui.main.main(['--demo', 'move', '1', '--to', 'freezer:/'])\n"
                "sys.exit(rc or ctrtui.main.main(['--demo', 'log']))\n")
        env = dict(os.environ, XDG_STATE_HOME=state, XDG_CONFIG_HOME=os.path.join(base, "config"))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stderr
        journal = os.path.join(state, "ctrtui", "demo-journal.jsonl")
        st = os.stat(journal)
        assert (st.st_uid, st.st_mode & 0o777) == (NOBODY, 0o600) and "done" in r.stdout
    finally:
        import shutil

        shutil.rmtree(base)
