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


def test_below_a_link_every_directory_is_still_checked(tmp_path):
    good = tmp_path / "good"
    (good / "loose" / "ctrtui").mkdir(parents=True)
    os.chmod(good / "loose", 0o777)
    link = tmp_path / "link"
    link.symlink_to(good)  # a fine link to a fine directory, with a loose one below it
    with pytest.raises(NotOwned, match=f"{link}/loose, a directory writable by group or others"):
        check_file(str(link / "loose" / "ctrtui" / "journal.jsonl"), "journal")


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
                 f"journal.jsonl.tmp{os.getpid()}": False, "journal.jsonl.tmpx1": False, "other.tmp1": False,
                 "journal.jsonl.tmp0": False}  # PID 0 is never a process of ours
        for name in names:
            (tmp_path / name).write_text("")
        q = subprocess.Popen(["true"])
        q.wait()
        (tmp_path / f"journal.jsonl.tmp{q.pid}").mkdir()  # its process is gone too, but it is no regular file
        removed = remove_stale_temps(path)
        assert removed == [str(tmp_path / f"journal.jsonl.tmp{p.pid}")]
        assert {n: not (tmp_path / n).exists() for n in names} == names
        assert (tmp_path / f"journal.jsonl.tmp{q.pid}").is_dir()
        assert sleeper.poll() is None  # asked whether it lives (signal 0), nothing sent
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_file_of_another_user_is_refused_and_root_owned_directories_are_trusted(tmp_path, monkeypatch):
    f = tmp_path / "journal.jsonl"
    f.write_text("")
    os.chmod(f, 0o600)
    assert check_file(str(f), "journal", "--journal FILE") is True
    monkeypatch.setattr(os, "geteuid", lambda: 4242)  # the files here are root's: another user's, seen from 4242
    check_dir(str(tmp_path), "journal", str(f))  # directories of root are trusted by every user
    with pytest.raises(NotOwned) as info:
        check_file(str(f), "journal", "--journal FILE")
    assert info.value.path == str(f)
    assert str(info.value) == (f"the journal {f} is owned by uid 0 (root), not by you (uid 4242), and ctrtui uses "
                               f"only files its user owns; make it yours (chown 4242 {f}; chmod go-w {f}), remove "
                               "it, or give another with --journal FILE")
    with pytest.raises(NotOwned, match="set XDG_STATE_HOME to a directory of yours$"):
        read_owned(str(f), "state file", 10)


def test_read_owned_reads_up_to_its_limit_exactly(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x" * 70000)  # more than one read
    os.chmod(f, 0o600)
    assert read_owned(str(f), "state file", 70000) == b"x" * 70000
    with pytest.raises(ValueError, match=f"the state file {f} is more than 69999 bytes"):
        read_owned(str(f), "state file", 69999)
    assert read_owned(str(tmp_path / "missing"), "state file", 1) is None


def test_a_failed_replace_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "last-hierarchy"
    target.mkdir()  # a directory where the file goes: rename(2) refuses
    with pytest.raises(NotOwned, match="is a directory"):
        write_owned(str(target), b"x\n", "state file")
    target.rmdir()
    (tmp_path / "sub").mkdir()
    target = tmp_path / "sub" / "f"
    os.mkdir(target)
    os.chmod(target, 0o700)
    import ctrtui.engine.owned as owned

    monkeypatch.setattr(owned, "check_file", lambda *a, **k: True)  # past the checks, to the rename itself
    with pytest.raises(IsADirectoryError):
        write_owned(str(target), b"x\n", "state file")
    assert sorted(os.listdir(tmp_path / "sub")) == ["f"]


def test_every_open_checks_the_directories_and_only_write_bits_count(tmp_path):
    from ctrtui.engine.journal import Journal
    from ctrtui.errors import CtrtuiError

    loose = tmp_path / "loose"
    loose.mkdir()
    f = loose / "journal.jsonl"
    f.write_text("")
    os.chmod(f, 0o601)  # others may execute, not write: fine
    os.close(open_owned(str(f), os.O_RDONLY, "journal"))
    os.chmod(loose, 0o757)
    with pytest.raises(NotOwned, match=f"lies under {loose}, a directory writable by group or others"):
        open_owned(str(f), os.O_RDONLY, "journal")
    with pytest.raises(CtrtuiError, match="writable by group or others"):
        Journal(str(f)).batches()  # the reader opens through open_owned alone
    os.chmod(loose, 0o755)
    os.chmod(f, 0o602)
    with pytest.raises(NotOwned, match=r"mode 0602"):
        open_owned(str(f), os.O_RDONLY, "journal")


def test_what_ctrtui_creates_is_for_its_user_only(tmp_path, monkeypatch):
    from ctrtui.engine import AttachEngine, Journal, Policy, default_journal_path
    from ctrtui.model import CgroupRef
    from ctrtui.sources.simulated import SimKernel

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    old = os.umask(0o002)  # a permissive umask: the journal and its directory stay the user's
    try:
        k = SimKernel()
        k.add_hierarchy("freezer", 1, ["freezer"])
        k.mkdir("freezer", "/a")
        e = AttachEngine(k, policy=Policy(), journal=Journal(default_journal_path()), load_entry_points=False)
        e.apply(e.plan([k.spawn("a")], CgroupRef("freezer", "/a")))
    finally:
        os.umask(old)
    journal = tmp_path / "state" / "ctrtui" / "journal.jsonl"
    assert (journal.stat().st_mode & 0o777) == 0o600
    assert (journal.parent.stat().st_mode & 0o777) == (journal.parent.parent.stat().st_mode & 0o777) == 0o700
