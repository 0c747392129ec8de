"""A cgroup tree deeper than PATH_MAX (anyone with a delegated subtree can make one with
mkdirat): `ctrtui ls`, `hierarchies` and `tasks`, the snapshot, `read_cgroups`,
`cgroup_state` and `cgroup_stats` read it through directory fds instead of dying with
ENAMETOOLONG. The tree is made and removed (deepest first) through directory fds, in a
`ctrtui-test-*` cgroup of the unified and freezer hierarchies."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ctrtui.sources.cgroupfs import CgroupFS

NAME = "d" * 250
LEVELS = 20  # 20 x 251 bytes: past 4096 bytes of path below the test's own cgroup


@contextlib.contextmanager
def deep_tree(top_dir: str) -> Iterator[list[int]]:
    """`LEVELS` nested cgroups `NAME` below `top_dir`, made with mkdirat; yields the open
    directory fds (top first). Removed deepest first with unlinkat(AT_REMOVEDIR) at the end,
    whatever happened."""
    fds = [os.open(top_dir, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(LEVELS):
            os.mkdir(NAME, dir_fd=fds[-1])
            fds.append(os.open(NAME, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
        yield fds
    finally:
        for i in range(len(fds) - 1, 0, -1):
            os.close(fds[i])
            os.rmdir(NAME, dir_fd=fds[i - 1])
        os.close(fds[0])


def ctrtui(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("hier", ["unified", "freezer"])
def test_a_tree_deeper_than_path_max_is_read_through_directory_fds(realworld, tmp_path, hier):
    top = realworld.top(hier)
    deepest = top + ("/" + NAME) * LEVELS
    assert len(realworld.fs(hier, deepest)) > 4096
    p = realworld.spawn_sleep()
    with deep_tree(realworld.fs(hier, top)) as fds:
        file = "cgroup.procs"
        fd = os.open(file, os.O_WRONLY, dir_fd=fds[-1])  # our own sleep into the deepest cgroup
        try:
            os.write(fd, str(p.pid).encode())
        finally:
            os.close(fd)
        try:
            fs = CgroupFS()
            snap = fs.snapshot([hier], subtree=top)[hier]
            assert [c.path for c in snap.walk()] == [top + ("/" + NAME) * i for i in range(LEVELS + 1)]
            assert list(snap.members(deepest)) == [p.pid]
            assert list(fs.snapshot([hier])[hier].members(deepest)) == [p.pid]  # the whole hierarchy too
            got = fs.read_cgroups(hier, [deepest, deepest[: -len(NAME) - 1]])
            assert list(got[deepest].threads) == [p.pid] and got[deepest[: -len(NAME) - 1]].children == (deepest,)
            st = fs.cgroup_state(hier, deepest)
            assert st is not None and st.cgroup_id == os.fstat(fds[-1]).st_ino and "cgroup.procs" in st.writable
            assert st.freezer_state in ("0", "THAWED")
            stats = fs.cgroup_stats(hier, deepest)
            assert ("cgroup.freeze" if hier == "unified" else "freezer.state") in stats

            r = ctrtui(tmp_path, "ls", f"{hier}:{top}", "--json")
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            rows = json.loads(r.stdout)
            assert deepest in json.dumps(rows)
            r = ctrtui(tmp_path, "ls", hier)
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            assert r.stdout.count(NAME) == LEVELS
            r = ctrtui(tmp_path, "hierarchies", "--json")
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            r = ctrtui(tmp_path, "tasks", f"{hier}:{deepest}", "--json")
            assert r.returncode == 0 and [row["pid"] for row in json.loads(r.stdout)] == [p.pid], r.stderr
        finally:
            realworld.put(p.pid, hier, top)  # out of the deep tree before it is removed
