"""Shell completion (argcomplete, ctrtui/completion.py) and `ctrtui --version`: the
completer proposes the subcommands and options and `HIERARCHY:/path` from the live
hierarchy (the demo world here); a normal run never imports argcomplete."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import ctrtui

ROOT = Path(__file__).resolve().parents[2]


def complete(tmp_path, line: str, shell: str = "bash") -> list[str]:
    """What the shell would be offered for the command line `line` (cursor at its end)."""
    out = tmp_path / "completions"
    env = dict(os.environ, _ARGCOMPLETE="1", _ARGCOMPLETE_SHELL=shell, COMP_LINE=line, COMP_POINT=str(len(line)),
               _ARGCOMPLETE_STDOUT_FILENAME=str(out), _ARGCOMPLETE_IFS="\n", XDG_STATE_HOME=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "ctrtui"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [w.strip() for w in out.read_text().split("\n") if w.strip()]


def test_subcommands_and_options_are_completed(tmp_path):
    words = complete(tmp_path, "ctrtui ")
    for sub in ("hierarchies", "ls", "tasks", "move", "undo", "log", "mkdir", "rmdir", "freeze", "thaw"):
        assert sub in words
    assert "--version" in words and "--demo" in words
    assert complete(tmp_path, "ctrtui fre") == ["freeze"]
    assert "--dry-run" in complete(tmp_path, "ctrtui move 1 --d")


def test_hierarchy_and_path_completed_from_the_demo_world(tmp_path):
    assert complete(tmp_path, "ctrtui ls --demo unif") == ["unified:/"]
    assert complete(tmp_path, "ctrtui tasks --demo unified:/sys") == ["unified:/system.slice/"]
    below = complete(tmp_path, "ctrtui freeze --demo unified:/system.slice/ng")
    assert below == ["unified:/system.slice/nginx.service"]
    offered = complete(tmp_path, "ctrtui move 1 --demo --to unified:/system.slice/")
    assert "unified:/system.slice/nginx.service" in offered


def test_zsh_gets_the_same_candidates(tmp_path):
    import re

    # zsh's form is `value:description`, with the colons of the value escaped
    words = [re.split(r"(?<!\\):", w)[0].replace("\\:", ":")
             for w in complete(tmp_path, "ctrtui ls --demo unified:/sys", shell="zsh")]
    assert words == ["unified:/system.slice/"]


def test_hostile_names_are_offered_escaped(tmp_path):
    words = complete(tmp_path, "ctrtui ls --demo=hostile freezer:/hostile/")
    assert words and all("\x1b" not in w and "\n" not in w for w in words)


def test_a_normal_run_never_imports_argcomplete():
    code = ("import sys, io, contextlib\nfrom ctrtui.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['hierarchies', '--demo'])\n"
            "print('argcomplete' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "_ARGCOMPLETE"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert r.stdout.strip().splitlines()[-1] == "False"


def test_version_is_the_packages():
    with open(ROOT / "pyproject.toml", "rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    assert ctrtui.__version__ == declared
    r = subprocess.run([sys.executable, "-m", "ctrtui", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == f"ctrtui {declared}"


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_the_documented_one_liner_prints_a_script(shell):
    tool = Path(sys.executable).parent / "register-python-argcomplete"
    r = subprocess.run([str(tool), "--shell", shell, "ctrtui"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ctrtui" in r.stdout and "_ARGCOMPLETE" in r.stdout
