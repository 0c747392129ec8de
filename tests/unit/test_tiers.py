"""The tiers (tests/conftest.py, docs/testing.md): the directory a test lives in and its
markers agree, so `pytest tests/unit` is `pytest -m "not real and not ui and not lab"`,
`tests/real` is `-m real`, `tests/ui` is `-m "ui and not real"` and `tests/lab` is `-m lab`,
and a test that breaks the rule is a collection error that says which rule and where to move
it.

Checked by collecting (never running) in a child Python, so this process's own collection
is not disturbed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Collects each selection with pytest's API in one child process (the test modules are
# imported once) and prints {name: [exit code, node IDs]} as JSON on the last line.
COLLECT = textwrap.dedent("""
    import io, json, sys, contextlib, pytest

    class Items:
        ids = []
        def pytest_collection_finish(self, session):
            self.ids = [item.nodeid for item in session.items]

    out = {}
    for name, args in json.loads(sys.argv[1]).items():
        items = Items()
        with contextlib.redirect_stdout(io.StringIO()) as text:
            rc = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *args], plugins=[items])
        out[name] = [int(rc), items.ids, text.getvalue()]
    print(json.dumps(out))
""")


def collect(selections: dict[str, list[str]], cwd: str = ROOT) -> dict[str, tuple[int, list[str], str]]:
    p = subprocess.run([sys.executable, "-c", COLLECT, json.dumps(selections)], cwd=cwd, capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, PYTHONPATH=ROOT))
    assert p.returncode == 0, p.stderr[-3000:]
    return {name: (rc, ids, text) for name, (rc, ids, text) in json.loads(p.stdout.splitlines()[-1]).items()}


def test_each_tier_is_exactly_its_markers():
    got = collect({
        "all": ["tests"], "unit": ["tests/unit"], "ui": ["tests/ui"], "real": ["tests/real"], "lab": ["tests/lab"],
        "not real and not ui": ["-m", "not real and not ui and not lab", "tests"],
        "real marker": ["-m", "real", "tests"], "ui and not real": ["-m", "ui and not real", "tests"],
        "lab marker": ["-m", "lab", "tests"],
    })
    assert {name: rc for name, (rc, _, _) in got.items()} == dict.fromkeys(got, 0), got
    ids = {name: ids for name, (_, ids, _) in got.items()}
    assert all(len(v) == len(set(v)) for v in ids.values())
    every = set(ids["all"])
    assert len(ids["unit"]) > 500 and ids["ui"] and ids["real"] and ids["lab"]  # each tier has its tests
    assert set(ids["unit"]) == set(ids["not real and not ui"])
    assert set(ids["real"]) == set(ids["real marker"])
    assert set(ids["ui"]) == set(ids["ui and not real"])
    assert set(ids["lab"]) == set(ids["lab marker"])
    assert set(ids["unit"]) | set(ids["ui"]) | set(ids["real"]) | set(ids["lab"]) == every  # no test outside a tier
    assert len(ids["unit"]) + len(ids["ui"]) + len(ids["real"]) + len(ids["lab"]) == len(every)
    for tier in ("unit", "ui", "real", "lab"):
        assert all(i.startswith(f"tests/{tier}/") for i in ids[tier]), tier


def _tree(root, files: dict[str, str]) -> None:
    """A project in `root` whose tests/conftest.py is this project's (its hook and the
    `realworld` fixture), plus the given test files."""
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n"
                                     "markers =\n    real: r\n    ui: u\n    lab: l\n")
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text(open(os.path.join(ROOT, "tests", "conftest.py")).read())
    for path, text in files.items():
        f = root / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("import pytest\n\n" + textwrap.dedent(text))


def test_the_directory_applies_the_marker_and_a_real_test_may_drive_the_ui_too(tmp_path):
    _tree(tmp_path, {
        "tests/unit/test_u.py": "def test_u():\n    pass\n",
        "tests/ui/test_i.py": "def test_i():\n    pass\n",
        "tests/real/test_r.py": "def test_r():\n    pass\n",
        "tests/real/test_ri.py": "pytestmark = pytest.mark.ui\n\ndef test_ri(realworld):\n    pass\n",
        "tests/lab/test_l.py": "def test_l():\n    pass\n",
    })
    got = collect({"real": ["-m", "real", str(tmp_path)], "ui": ["-m", "ui", str(tmp_path)],
                   "lab": ["-m", "lab", str(tmp_path)],
                   "neither": ["-m", "not real and not ui and not lab", str(tmp_path)]}, cwd=str(tmp_path))
    names = {k: sorted(i.rsplit("::", 1)[1] for i in ids) for k, (rc, ids, _) in got.items()}
    assert names == {"real": ["test_r", "test_ri"], "ui": ["test_i", "test_ri"], "lab": ["test_l"],
                     "neither": ["test_u"]}
    assert {rc for rc, _, _ in got.values()} == {0}


def test_a_test_in_the_wrong_tier_is_a_collection_error_that_says_where_it_belongs(tmp_path):
    cases = {
        "tests/unit/test_a.py": ("def test_a(realworld):\n    pass\n",
                                 "uses the `realworld` fixture (the real /sys/fs/cgroup) outside tests/real/"),
        "tests/ui/test_b.py": ("@pytest.fixture\ndef world(realworld):\n    return realworld\n\n"
                               "def test_b(world):\n    pass\n",
                               "uses the `realworld` fixture"),  # asked for through another fixture
        "tests/unit/test_c.py": ("@pytest.mark.real\ndef test_c():\n    pass\n",
                                 "is marked `real` outside tests/real/"),
        "tests/ui/test_d.py": ("pytestmark = pytest.mark.real\n\ndef test_d():\n    pass\n",
                               "is marked `real` outside tests/real/"),
        "tests/unit/test_e.py": ("class TestE:\n    @pytest.mark.ui\n    def test_e(self):\n        pass\n",
                                 "is marked `ui` outside tests/ui/ and tests/real/"),
        "tests/unit/test_h.py": ("@pytest.mark.lab\ndef test_h():\n    pass\n",
                                 "is marked `lab` outside tests/lab/"),
        "tests/lab/test_i.py": ("def test_i(realworld):\n    pass\n",
                                "uses the `realworld` fixture (the real /sys/fs/cgroup) outside tests/real/"),
        "tests/lab/test_j.py": ("pytestmark = pytest.mark.ui\n\ndef test_j():\n    pass\n",
                                "is marked `ui` outside tests/ui/ and tests/real/"),
        "tests/test_f.py": ("def test_f():\n    pass\n", "every test lives in a tier"),
        "tests/other/test_g.py": ("def test_g():\n    pass\n", "every test lives in a tier"),
    }
    _tree(tmp_path, {path: text for path, (text, _) in cases.items()})
    got = collect({path: [str(tmp_path / path)] for path in cases}, cwd=str(tmp_path))
    for path, (_, sentence) in cases.items():
        rc, ids, text = got[path]
        name = path.rsplit("_", 1)[1].removesuffix(".py")
        assert rc == 2 and ids == [], (path, text)  # interrupted: a collection error
        assert f"ERROR collecting {path}" in text, text
        line = next(line for line in text.splitlines() if line.startswith(f"{path}::"))
        assert f"::test_{name}: " in line, line  # names the test (TestE::test_e for the method)
        assert sentence in line and ("move it to a file under tests/" in line or "move this file there" in line)
        assert "Traceback" not in text, text
