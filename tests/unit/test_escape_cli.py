"""The command line on the hostile world: no control byte reaches stdout/stderr, names are
shown escaped, the shown form targets the cgroup, `--json` keeps the exact name."""

from __future__ import annotations

import json

import pytest

from ctrtui.cli import common
from ctrtui.main import main
from ctrtui.sources.hostile import DEEP_LEAF, NAMES, USERS, hostile_path, hostile_world
from ctrtui.text import display


@pytest.fixture(autouse=True)
def _world(tmp_path, monkeypatch):
    """One hostile world per test, kept across the commands of the test (a demo world is
    made afresh by every command otherwise)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    world = hostile_world()
    monkeypatch.setattr(common, "backend_of", lambda args: world)
    return world


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_clean(*texts: str) -> None:
    for t in texts:
        bad = [c for c in t if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F
               or 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0x202E, 0x2066)]
        assert not bad, (bad, t[:200])


def test_ls_tasks_hierarchies_print_no_control_character(capsys):
    for argv in (("ls",), ("ls", "freezer:/hostile"), ("hierarchies",),
                 *(("tasks", f"unified:{display(hostile_path(k))}") for k in NAMES)):
        rc, out, err = run(capsys, *argv)
        assert rc == 0, (argv, err)
        assert_clean(out, err)
    rc, out, _ = run(capsys, "ls", "unified:/hostile")
    for name in NAMES.values():
        assert f"  {display(name)}  " in out
    assert "wipe-\\x1b[2J" in out and "bad-\\xff\\xfe-utf8" in out and "back\\\\x1b-slash" in out


def test_tasks_shows_comm_and_user_escaped(capsys):
    rc, out, err = run(capsys, "tasks", "freezer:/hostile/x-[@click=app.quit]q")
    assert rc == 0
    assert_clean(out, err)
    assert "\\x1b[31mred" in out and "bidi\\u202eexe.sh" in out and "by\\xfftes" in out
    assert display(USERS[1001])[:10] in out


@pytest.mark.parametrize("key", sorted(NAMES))
def test_move_by_the_shown_name(capsys, _world, key):
    pid = next(iter(_world.snapshot(["freezer"])["freezer"]["/hostile"].procs))
    target = "freezer:" + display(hostile_path(key))
    rc, out, err = run(capsys, "move", str(pid), "--to", target)
    assert rc == 0, err
    assert_clean(out, err)
    assert _world.task_cgroups(pid)["freezer"] == hostile_path(key)
    assert display(hostile_path(key)) in out
    rc, out, err = run(capsys, "undo")
    assert rc == 0 and _world.task_cgroups(pid)["freezer"] == "/hostile"
    assert_clean(out, err)


def test_refusal_reasons_quoting_comm_are_escaped(capsys, _world):
    _world.set_freezer("freezer", hostile_path("clear"), "FROZEN")
    pids = list(_world.snapshot(["freezer"])["freezer"][hostile_path("osc")].procs)
    rc, out, err = run(capsys, "move", *map(str, pids), "32000", "--to", "freezer:" + display(hostile_path("clear")))
    assert rc == 1  # the PID that does not exist is refused
    assert_clean(out, err)
    assert "\\x1b[31mred" in out and "wipe-\\x1b[2J" in out


def test_json_keeps_the_exact_names(capsys):
    rc, out, _ = run(capsys, "ls", "--json", "unified:/hostile")
    assert rc == 0 and out.isascii()
    paths = {r["path"] for r in json.loads(out)}
    assert {hostile_path(k) for k in NAMES} <= paths
    raw = {p.encode("utf-8", "surrogateescape") for p in paths}
    assert b"/hostile/bad-\xff\xfe-utf8" in raw
    rc, out, _ = run(capsys, "tasks", "--json", "unified:" + display(hostile_path("csi")))
    comms = {r["comm"] for r in json.loads(out)}
    assert "\x1b[31mred" in comms


def test_deep_and_literal_backslash_and_bad_escapes(capsys, _world):
    rc, out, err = run(capsys, "tasks", "pids:" + DEEP_LEAF)
    assert rc == 0 and len(out.splitlines()) == 6
    # the literal name `back\x1b-slash` is found typed as shown (doubled) or as it is
    rc1, out1, _ = run(capsys, "tasks", "pids:/hostile/back\\\\x1b-slash")
    rc2, out2, _ = run(capsys, "tasks", "pids:/hostile/back\\x1b-slash")
    assert rc1 == rc2 == 0 and out1 == out2 and "PID" in out1
    # a backslash that starts none of ctrtui's escapes is itself (`\x2e` is no '.': a name of its own)
    for bad, why in (("pids:/hostile/a\\q", "no cgroup"), ("pids:/hostile/\\x2e\\x2e", "no cgroup"),
                     ("pids:/hostile/..", "'..'"),
                     ("pids:/hostile/a\\x00", "NUL"), ("pids:/hostile/wipe-\x1b[2X", "no cgroup")):
        rc, out, err = run(capsys, "tasks", bad)
        assert rc == 2 and why in err, err
        assert_clean(out, err)
    rc, out, err = run(capsys, "ls", "name=[@click=app.quit]h:" + display(hostile_path("bytes")))
    assert rc == 0 and "bad-\\xff\\xfe-utf8" in out


def test_cli_subprocess_demo_hostile(tmp_path):
    """The hidden `--demo=hostile` from a real command line: no ESC byte on the way out."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path))
    for argv in (["ls", "--demo=hostile"], ["--demo=hostile", "tasks", "freezer:/hostile/wipe-\\x1b[2J"],
                 ["move", "--demo=hostile", "130", "--to", "freezer:/hostile/title-\\x1b]0;PWNED\\x07"]):
        p = subprocess.run([sys.executable, "-m", "ctrtui", *argv], capture_output=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        assert b"\x1b" not in p.stdout + p.stderr and b"\x07" not in p.stdout + p.stderr


def test_argparse_errors_quote_what_was_typed_without_control_characters(capsys):
    with pytest.raises(SystemExit) as e:
        main(["ls", "--demo", "--x\x1b[2J"])
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert_clean(out, err)
    assert "unrecognized arguments: --x\\x1b[2J" in err
    rc, out, err = run(capsys, "move", "1\x1b[2J", "--to", "freezer:/")
    assert rc == 2 and "'1\\x1b[2J' is not a PID" in err
    assert_clean(out, err)


def test_risk_sentences_show_names_as_they_are_shown(_world):
    from ctrtui.engine import AttachEngine, Journal, Policy
    from ctrtui.engine.risk import assess, hierarchy_note
    from ctrtui.model import CgroupRef

    engine = AttachEngine(_world, policy=Policy(), journal=Journal("/dev/null"), load_entry_points=False)
    pid = next(iter(_world.snapshot(["freezer"])["freezer"][hostile_path("osc")].procs))
    target = CgroupRef("freezer", hostile_path("backslash"))
    plan = engine.plan([str(pid)], target)
    risks = assess(plan, _world.snapshot(), _world)
    joined = " ".join([*risks, hierarchy_note(target, _world.snapshot()) or ""])  # the v1 note is shown too
    assert display(hostile_path("backslash")) in joined  # back\\x1b-slash: doubled, as in the tree
    assert "name=[@click=app.quit]h" in joined
    assert_clean(joined)


@pytest.mark.parametrize("key", sorted(NAMES))
def test_risks_quoting_a_hostile_target_are_escaped(capsys, _world, key):
    """`ctrtui move` prints the UI confirm's risks on stderr; those that quote the target
    (moving PID 1) show its name escaped, as the rows do."""
    target = "freezer:" + display(hostile_path(key))
    rc, out, err = run(capsys, "move", "1", "--to", target, "--dry-run")
    assert rc == 0, err
    assert_clean(out, err)
    risks = [line for line in err.splitlines() if line.startswith("ctrtui: risk: PID 1 ")]
    assert len(risks) == 1 and f"would move to {target}:" in risks[0], err
    rc, out, err = run(capsys, "move", "1", "--to", target, "--dry-run", "--json")
    assert rc == 0
    assert any(f"would move to {target}:" in r for r in json.loads(out)[0]["risks"])


def test_systemd_escapes_shown_and_typed_as_systemd_shows_them(capsys, _world):
    """A templated unit's cgroup (`system-serial\\x2dgetty.slice`) is listed with one
    backslash, as systemd-cgls and systemctl show it, and is found typed that way."""
    unit = "system-serial\\x2dgetty.slice"
    _world.mkdir("unified", "/" + unit)
    rc, out, err = run(capsys, "ls", "unified:/")
    assert rc == 0 and f"  {unit}  " in out and "\\\\x2d" not in out, out
    rc, out, err = run(capsys, "tasks", "unified:/" + unit)
    assert rc == 0, err
    rc, out, err = run(capsys, "ls", "--json", "unified:/")
    assert rc == 0 and "/" + unit in [row["path"] for row in json.loads(out)]  # the exact name
