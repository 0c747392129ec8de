"""Pilot tests of issue 10's navigation: where the UI opens (`--hierarchy`, `--cgroup`, the
fixed rule and the remembered hierarchy), targets in any hierarchy, dialogs only when they
matter, read-only that says why, help and cursor, at every terminal size."""

from __future__ import annotations

import pytest

from ctrtui.model import Hierarchy
from ctrtui.sources.demo import demo_world
from ctrtui.ui import start
from tests.uihelpers import make_app, settle

pytestmark = pytest.mark.ui

SIZES = [(140, 40), (100, 30), (80, 24), (60, 20)]
NGINX = "/system.slice/nginx.service"


@pytest.fixture
def world():
    return demo_world()


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """The remembered hierarchy lives in the test's own XDG state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def _h(name: str, version: int, controllers: tuple[str, ...]) -> Hierarchy:
    return Hierarchy(name, version, controllers, f"/sys/fs/cgroup/{name}")


def test_start_rule_is_fixed_v2_then_last_then_systemd():
    hybrid = [_h("cpu", 1, ("cpu",)), _h("freezer", 1, ("freezer",)), _h("name=systemd", 1, ("name=systemd",)),
              _h("unified", 2, ("hugetlb",))]
    assert start.start_hierarchy(hybrid) == "name=systemd"  # unified carries no real controller
    assert start.start_hierarchy(hybrid, last="freezer") == "freezer"
    assert start.start_hierarchy(hybrid, last="gone") == "name=systemd"
    assert start.start_hierarchy(hybrid, asked="cpu", last="freezer") == "cpu"
    full = [*hybrid[:3], _h("unified", 2, ("cpu", "memory"))]
    assert start.start_hierarchy(full, last="freezer") == "unified"
    assert start.start_hierarchy([_h("cpu", 1, ("cpu",))]) == "cpu"


def test_remembered_in_the_xdg_state_dir(state_home):
    assert start.remembered() is None
    start.remember("freezer")
    assert (state_home / "ctrtui" / "last-hierarchy").read_text() == "freezer\n"
    assert start.remembered() == "freezer"


async def test_opens_on_the_same_hierarchy_every_run_and_remembers(world, tmp_path):
    from ctrtui.ui.app import CtrtuiApp
    from tests.uihelpers import make_engine

    app = CtrtuiApp(world, make_engine(world, tmp_path), interval=3600, remember_start=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.hier == "name=systemd"  # the demo is hybrid: v2 has no real controller
        app.switch_hierarchy("freezer")
        await settle(pilot)
    assert start.remembered() == "freezer"
    again = CtrtuiApp(world, make_engine(world, tmp_path), interval=3600, remember_start=True)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.hier == "freezer"


@pytest.mark.parametrize("size", SIZES)
async def test_cgroup_option_opens_on_that_cgroup(world, tmp_path, size):
    from ctrtui.ui.app import CtrtuiApp
    from tests.uihelpers import make_engine

    app = CtrtuiApp(world, make_engine(world, tmp_path), interval=3600, hierarchy="pids", cgroup=NGINX)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.hier == "pids"
        assert app.tree.cursor_path == NGINX
        assert app.tasks.path == NGINX


def test_cli_start_options_are_checked(capsys):
    from ctrtui.cli import main

    assert main(["--demo", "--hierarchy", "nope"]) == 2
    assert "unknown hierarchy 'nope'" in capsys.readouterr().err
    assert main(["--demo", "--cgroup", "freezer:/nope"]) == 2
    assert "no cgroup freezer:/nope" in capsys.readouterr().err
    assert main(["--demo", "--hierarchy", "cpu", "--cgroup", "freezer:/"]) == 2
    assert "different hierarchies" in capsys.readouterr().err
