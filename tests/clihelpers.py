"""What the command-line tests share: a state and config dir of the test's own (journals and
policies never touch the user's), and `run` (the CLI's `main` in-process, with its output).

    from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse
"""

from __future__ import annotations

import pytest

from ctrtui.main import main


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Journals and policies of these tests never touch the user's real state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`ctrtui ARGV...` in-process: (exit status, stdout, stderr)."""
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err
