"""ctrtui/engine/owned.py: which directories and files count as the user's alone, without
another user (those cases, which need chown, are in tests/real/test_owned_real.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from ctrtui.engine.owned import NotOwned, check_dir, check_file, open_owned, read_owned, remove_stale_temps, write_owned


def test_a_directory_group_or_others_may_write_is_refused_unless_sticky(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    f = str(d / "journal.jsonl")
    check_dir(str(d), "journal", f)
    os.chmod(d, 0o775)
    with pytest.raises(NotOwned, match=r"writable by group or others \(mode 0775, without the sticky bit\)"):
        check_dir(str(d), "journal", f)
    with pytest.raises(NotOwned, match="set XDG_CONFIG_HOME"):
        check_dir(str(d / "below" / "missing"), "policy file", f, env="XDG_CONFIG_HOME")
    os.chmod(d, 0o1777)
    check_dir(str(d), "journal", f)  # as /tmp: no one else can rename what is ours there


def test_a_link_on_the_way_is_judged_by_the_directories_it_leads_to(tmp_path):
    loose = tmp_path / "loose"
    (loose / "ctrtui").mkdir(parents=True)
    os.chmod(loose, 0o777)
    link = tmp_path / "state"
    link.symlink_to(loose)
    with pytest.raises(NotOwned, match=f"{loose}, a directory writable by group or others"):
        check_file(str(link / "ctrtui" / "journal.jsonl"), "journal")
    os.chmod(loose, 0o755)
    assert check_file(str(link / "ctrtui" / "journal.jsonl"), "journal") is False  # fine, and not there yet


def test_the_file_itself_never_a_link_nor_loose(tmp_path):
    real = tmp_path / "real"
    real.write_text("x\n")
    os.chmod(real, 0o600)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(NotOwned, match=r"is a symbolic link \(to '.*real'\)"):
        open_owned(str(link), os.O_RDONLY, "state file")
    (tmp_path / "dangling").symlink_to("gone")
    with pytest.raises(NotOwned, match="which does not exist"):
        check_file(str(tmp_path / "dangling"), "journal")
    os.chmod(real, 0o620)
    with pytest.raises(NotOwned, match=r"writable by group or others \(mode 0620\)"):
        read_owned(str(real), "state file", 100)
    os.chmod(real, 0o640)
    assert read_owned(str(real), "state file", 100) == b"x\n"
    with pytest.raises(ValueError):
        read_owned(str(real), "state file", 1)


def test_write_owned_goes_through_an_exclusive_temp_file_and_never_through_a_link(tmp_path):
    target = tmp_path / "ctrtui" / "last-hierarchy"
    write_owned(str(target), b"freezer\n", "state file")
    assert target.read_bytes() == b"freezer\n" and (target.stat().st_mode & 0o777) == 0o600
    assert (target.parent.stat().st_mode & 0o777) == 0o700
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    tmp = tmp_path / "ctrtui" / f"last-hierarchy.tmp{os.getpid()}"
    tmp.symlink_to(victim)  # planted where the temp file goes
    with pytest.raises(FileExistsError):
        write_owned(str(target), b"cpu\n", "state file")
    assert victim.read_text() == "keep\n" and target.read_bytes() == b"freezer\n"


def test_stale_temp_files_of_dead_processes_are_removed_and_no_others(tmp_path):
    path = str(tmp_path / "journal.jsonl")
    p = subprocess.Popen(["true"])
    p.wait()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        names = {f"journal.jsonl.tmp{p.pid}": True, f"journal.jsonl.tmp{sleeper.pid}": False,
                 f"journal.jsonl.tmp{os.getpid()}": False, "journal.jsonl.tmpx1": False, "other.tmp1": False}
        for name in names:
            (tmp_path / name).write_text("")
        removed = remove_stale_temps(path)
        assert removed == [str(tmp_path / f"journal.jsonl.tmp{p.pid}")]
        assert {n: not (tmp_path / n).exists() for n in names} == names
    finally:
        sleeper.kill()
        sleeper.wait()
