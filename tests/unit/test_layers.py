"""The layers of docs/architecture.md, at run time: each layer is imported alone in a fresh
interpreter whose every higher layer (and every sibling of its own floor) is blocked by a
meta-path finder that raises, then some of its work is done there (a move planned and undone,
a listing printed), so an upward import made inside a function on that path fails as well as
one at the top of a module. The order is read from pyproject.toml's `layers` contract (the one
lint-imports checks without any ignored import), so it is written once."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _floors() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert "ignore_imports" not in contract
    return [[name.strip() for name in floor.split("|")] for floor in contract["layers"]]  # top first


def _modules(package: str) -> list[str]:
    path = ROOT.joinpath(*package.split("."))
    if not path.is_dir():
        return [package]
    names = {".".join((package, *f.relative_to(path).with_suffix("").parts)).removesuffix(".__init__")
             for f in path.rglob("*.py")}
    return sorted(names)


WORK = {
    "ctrtui.engine": """
from ctrtui.engine import AttachEngine
from ctrtui.model import CgroupRef
from ctrtui.sources.demo import demo_world
engine = AttachEngine(demo_world())
report = engine.apply(engine.plan([1], CgroupRef("freezer", "/kubepods.slice")))
assert engine.undo() is not None, report
""",
    "ctrtui.service": """
from ctrtui.model import CgroupRef
from ctrtui.service.local import LocalService
from ctrtui.sources.demo import demo_world
s = LocalService(demo_world(), journal_path=JOURNAL)
plan = s.plan([1], CgroupRef("freezer", "/kubepods.slice"))
s.risks(plan)
assert s.apply(plan).ok
assert s.cgroup_op("mkdir", CgroupRef("freezer", "/new")).ok
assert s.undo().op is not None and s.undo().report is not None and s.log().rows()
s.stats({"freezer": ["/"]}, 0)
""",
    "ctrtui.agent": """
from ctrtui.agent.ops import Agent
from ctrtui.sources.demo import demo_world
agent = Agent(demo_world(), journal_path=JOURNAL)
target = {"hierarchy": "freezer", "path": "/kubepods.slice"}
plan = agent.handle(1, "plan", {"pids": [1], "target": target})["result"]
assert agent.handle(2, "apply", {"plan": plan})["ok"]
assert agent.handle(3, "undo", {})["result"]["report"] is not None
assert agent.handle(4, "log", {})["ok"]
""",
    "ctrtui.cli": """
from ctrtui.cli.entry import run
for argv in (["ls"], ["tasks", "freezer:/"], ["ls", "--stats", "--sample", "0"], ["hierarchies", "--json"],
             ["move", "1", "--to", "freezer:/kubepods.slice"], ["undo"], ["mkdir", "freezer:/x"], ["log"]):
    assert run(["--demo", "--journal", JOURNAL, *argv], lambda args: 2) == 0, argv
""",
}

CHILD = """
import importlib, json, sys
BLOCKED, MODULES, JOURNAL = json.loads(sys.argv[1])

class Above:
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} is imported from a lower layer")
        return None

sys.meta_path.insert(0, Above())
for m in MODULES:
    importlib.import_module(m)
"""


def _cases() -> list[tuple[str, list[str]]]:
    floors = _floors()
    out = []
    for i, floor in enumerate(floors):
        above = [name for f in floors[:i] for name in f]
        for name in floor:
            out.append((name, above + [n for n in floor if n != name]))
    return out


@pytest.mark.parametrize("layer, blocked", _cases(), ids=[c[0] for c in _cases()])
def test_each_layer_imports_and_works_with_every_higher_layer_blocked(layer, blocked, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path)}
    args = json.dumps([blocked, _modules(layer), str(tmp_path / "journal.jsonl")])
    p = subprocess.run([sys.executable, "-c", CHILD + WORK.get(layer, ""), args], capture_output=True, text=True,
                       env=env, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]


def test_a_lazy_upward_import_is_caught():
    """The finder is not a formality: an import of a higher layer inside a function fails
    once that function runs."""
    code = CHILD + "import ctrtui.model\nimportlib.import_module('ctrtui.ui')\n"
    p = subprocess.run([sys.executable, "-c", code, json.dumps([["ctrtui.ui"], ["ctrtui.model"], ""])],
                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert p.returncode == 1 and "ctrtui.ui is imported from a lower layer" in p.stderr


ENGINE_VALUES = {"values", "opvalues", "records", "journalerrors", "parse", "scopecheck", "risk", "unitrisk", "owned"}
"""The engine's modules a front end may import (docs/architecture.md, "Front ends and the
service"): values and pure checks; every other module of engine/ is its machinery."""


def _service_contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"]
                   if c["type"] == "forbidden" and "ctrtui.ui" in c["source_modules"]
                   and any(str(m).startswith("ctrtui.engine.") for m in c["forbidden_modules"])]
    return dict(contract)


def test_every_engine_module_is_a_value_a_front_end_may_import_or_machinery_it_may_not():
    """The contract forbidding the engine's machinery to the UI and the command line names
    every module of engine/ that is not a value or a pure check, and ignores no import: a
    new engine module is put on one side or the other here."""
    contract = _service_contract()
    assert "ignore_imports" not in contract
    assert set(contract["source_modules"]) == {"ctrtui.ui", "ctrtui.cli", "ctrtui.main"}  # type: ignore[arg-type]
    forbidden = {str(m).removeprefix("ctrtui.engine.") for m in contract["forbidden_modules"]}  # type: ignore[attr-defined]
    present = {f.stem for f in (ROOT / "ctrtui" / "engine").glob("*.py")} - {"__init__"}
    assert {"engine", "apply", "planning", "judge", "journal", "policy", "batches", "undo", "cgroupops"} <= forbidden
    assert forbidden <= present and ENGINE_VALUES <= present
    assert not forbidden & ENGINE_VALUES
    assert present == forbidden | ENGINE_VALUES, present - forbidden - ENGINE_VALUES


def _engine_package_imports(text: str) -> list[int]:
    """The lines of `text` that import the `ctrtui.engine` package itself."""
    import ast

    return [n.lineno for n in ast.walk(ast.parse(text))
            if (isinstance(n, ast.ImportFrom) and n.module == "ctrtui.engine" and n.level == 0)
            or (isinstance(n, ast.Import) and any(a.name == "ctrtui.engine" for a in n.names))]


def test_front_ends_import_each_engine_name_from_its_module():
    """The UI, the command line and main.py never import the `ctrtui.engine` package itself:
    its lazy attributes include `AttachEngine`, and `from ctrtui.engine import AttachEngine`
    is an import of the package, which the contract above cannot see."""
    assert _engine_package_imports("from ctrtui.engine import AttachEngine\nimport ctrtui.engine\n"
                                   "from ctrtui.engine.values import Plan\n") == [1, 2]
    files = [*(ROOT / "ctrtui" / "ui").rglob("*.py"), *(ROOT / "ctrtui" / "cli").rglob("*.py"),
             ROOT / "ctrtui" / "main.py"]
    assert len(files) > 60
    found = {str(f.relative_to(ROOT)): lines for f in files if (lines := _engine_package_imports(f.read_text()))}
    assert not found, found
