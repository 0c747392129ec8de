"""`ctrtui mkdir | rmdir | freeze | thaw HIERARCHY:/path [--json]`, their journal records, `log`
and `undo` on the demo world (the real kernel: tests/real/test_cli_ops_real.py)."""

from __future__ import annotations

import json

import pytest

from ctrtui.main import main
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse


def test_demo_mkdir_json_and_exit_codes(capsys):
    rc, out, err = run(capsys, "mkdir", "freezer:/new", "--demo", "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["op"] == "mkdir" and got["outcome"] == "done" and got["cgroup"] == "freezer:/new" and got["journaled"]
    rc, out, err = run(capsys, "rmdir", "freezer:/", "--demo")
    assert rc == 1 and "refused (EBUSY)" in err and "root" in err
    rc, out, err = run(capsys, "freeze", "pids:/", "--demo", "--json")
    assert rc == 1 and json.loads(out)["errno"] == "ENOENT"
    rc, out, err = run(capsys, "log", "--demo")
    assert "mkdir freezer:/new" in out and rc == 0


@pytest.mark.parametrize("argv, words", [
    (["mkdir", "nope:/x"], "unknown hierarchy 'nope'"),
    (["mkdir", "freezer:/"], "give the new cgroup's path"),
    (["mkdir", "freezer:/no/such/x"], "no cgroup freezer:/no/such"),
    (["mkdir", "freezer:/a/../b"], "'.' and '..' are not allowed"),
    (["rmdir", "freezer:/nonexistent"], "no cgroup freezer:/nonexistent"),
    (["freeze"], "the following arguments are required"),
])
def test_bad_usage_is_one_line_and_exit_2(capsys, argv, words):
    try:
        rc = main(argv + ["--demo"])
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    assert rc == 2 and words in err and "Traceback" not in err


def _frozen_demo_cgroup() -> str:
    """The demo world's paused container (docker pause): frozen in the freezer hierarchy."""
    from ctrtui.sources import open_backend

    b = open_backend("demo")
    snap = b.snapshot(["freezer"])["freezer"]
    [path] = [c.path for c in snap.walk() if (st := b.cgroup_state("freezer", c.path)) and st.freezer_state == "FROZEN"]
    return path


def test_thaw_of_a_thawed_and_freeze_of_a_frozen_cgroup_say_so_exit_0_and_journal_nothing(capsys):
    rc, out, err = run(capsys, "thaw", "freezer:/system.slice", "--demo")
    assert (rc, out, err) == (0, "freezer:/system.slice is already thawed; nothing was changed\n", "")
    frozen = _frozen_demo_cgroup()
    rc, out, err = run(capsys, "freeze", f"freezer:{frozen}", "--demo", "--json")
    got = json.loads(out)
    assert rc == 0 and got["outcome"] == "already-frozen" and got["batch"] is None and not got["journaled"]
    rc, out, err = run(capsys, "log", "--demo", "--json")
    assert json.loads(out) == []
    rc, out, err = run(capsys, "undo", "--demo")
    assert rc == 1 and "nothing to undo" in err
