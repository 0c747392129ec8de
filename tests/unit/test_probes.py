"""The cgroups of a plan's batch on the real backend (`ctrtui.sources.probes.Sources`): a big
batch lists a cgroup it met twice once instead of reading every task's /proc/PID/cgroup, and
answers exactly what the tasks' own files would have said. A fake /proc in a temporary
directory and a fake backend: no cgroup is touched (the real kernel: tests/real)."""

from __future__ import annotations

import os

import pytest

from ctrtui.model import Hierarchy
from ctrtui.sources.probes import LIST_FROM, Sources

FREEZER = Hierarchy("freezer", 1, ("freezer",), "/sys/fs/cgroup/freezer", "/", 7)
UNIFIED = Hierarchy("unified", 2, (), "/sys/fs/cgroup/unified", "/")


class Lists:
    """The backend's side: the thread lists Sources asks for (`cgroups`: path -> TIDs), each
    read counted; a path in `broken` cannot be opened."""

    def __init__(self, cgroups: dict[str, list[int]], broken: tuple[str, ...] = ()) -> None:
        self.cgroups = cgroups
        self.broken = broken
        self.opened: list[tuple[str, str, str]] = []

    def open_membership(self, hierarchy: str, path: str, filename: str, write: bool = True) -> object:
        assert not write
        self.opened.append((hierarchy, path, filename))
        if path in self.broken:
            raise PermissionError(13, "Permission denied", path)
        data = "".join(f"{t}\n" for t in self.cgroups.get(path, [])).encode()

        class File:
            def read(self) -> bytes:
                return data

            def close(self) -> None:
                pass

        return File()


def fake_proc(tmp_path, where: dict[int, str], h: Hierarchy) -> dict[int, str]:
    """/proc/PID/cgroup files saying `where` for each PID in `h`; pid -> its /proc/PID/ dir."""
    bases = {}
    for pid, path in where.items():
        d = tmp_path / str(pid)
        d.mkdir()
        line = f"0::{path}\n" if h.version == 2 else f"3:cpu:/other\n{h.hierarchy_id}:freezer:{path}\n0::/u\n"
        (d / "cgroup").write_text(line)
        bases[pid] = f"{d}/"
    return bases


def place(tmp_path, where: dict[int, str], lists: Lists,
          h: Hierarchy = FREEZER) -> tuple[dict[int, str | None], list[int]]:
    """Each PID's answer, in order, and the PIDs whose own file was read."""
    bases = fake_proc(tmp_path, where, h)
    s = Sources(lists, h, len(where))
    read = []
    real_open = os.open

    def counting_open(path, *a, **k):
        if path.endswith("/cgroup"):
            read.append(int(path.rstrip("/").split("/")[-2]))
        return real_open(path, *a, **k)

    os.open = counting_open
    try:
        got = {pid: s.of(pid, bases[pid]) for pid in where}
    finally:
        os.open = real_open
    return got, read


def test_a_big_batch_lists_a_cgroup_met_twice_once(tmp_path):
    where = {100 + i: "/a" for i in range(40)} | {200: "/b", 201: "/b"}
    lists = Lists({"/a": [*range(100, 140), 999], "/b": [200, 201]})
    got, read = place(tmp_path, where, lists)
    assert got == where
    assert read == [100, 101, 200, 201]  # /a listed at its second PID, /b at its last: no PID left
    assert lists.opened == [("freezer", "/a", "tasks"), ("freezer", "/b", "tasks")]


def test_v2_lists_cgroup_threads(tmp_path):
    where = {100 + i: "/s/x" for i in range(LIST_FROM)}
    lists = Lists({"/s/x": list(where)})
    got, read = place(tmp_path, where, lists, UNIFIED)
    assert got == where and read == [100, 101]
    assert lists.opened == [("unified", "/s/x", "cgroup.threads")]


def test_a_small_batch_reads_each_file(tmp_path):
    where = {100 + i: "/a" for i in range(LIST_FROM - 1)}
    lists = Lists({"/a": list(where)})
    got, read = place(tmp_path, where, lists)
    assert got == where and read == list(where) and lists.opened == []


def test_a_pid_not_in_the_list_is_read_alone(tmp_path):
    """The list says where the tasks in it are; one not in it (it moved to /c before the
    list was read, or the list could not say) is read from its own file."""
    where = {100 + i: "/a" for i in range(40)} | {150: "/c"}
    lists = Lists({"/a": list(range(100, 140))})
    got, read = place(tmp_path, where, lists)
    assert got == where and read == [100, 101, 150]


def test_the_list_answers_for_the_moment_it_was_read(tmp_path):
    """A task that left /a after the list was read is placed where the list saw it (as its
    own file, read a moment earlier, would have said): the plan's facts are one moment's."""
    where = {100 + i: "/a" for i in range(40)}
    lists = Lists({"/a": list(range(100, 140))})
    bases_where = where | {139: "/moved"}
    bases = fake_proc(tmp_path, bases_where, FREEZER)
    s = Sources(lists, FREEZER, len(where))
    assert [s.of(pid, bases[pid]) for pid in where] == ["/a"] * 40


@pytest.mark.parametrize("broken", [True, False])
def test_an_unreadable_list_falls_back_to_each_file(tmp_path, broken):
    where = {100 + i: "/a" for i in range(40)}
    lists = Lists({"/a": list(where)}, broken=("/a",) if broken else ())
    got, read = place(tmp_path, where, lists)
    assert got == where
    assert read == (list(where) if broken else [100, 101])
    assert lists.opened == [("freezer", "/a", "tasks")]  # tried once, not again


def test_a_gone_task_raises_as_its_file_does(tmp_path):
    s = Sources(Lists({}), FREEZER, 40)
    with pytest.raises(FileNotFoundError):
        s.of(4242, f"{tmp_path}/4242/")
