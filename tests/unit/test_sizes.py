"""Rooms with one purpose (docs/architecture.md): no module of ctrtui over 500 lines, no
function over 80. A data table (a module-level literal) does not count against its function
because it is not in one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "ctrtui").rglob("*.py"))
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_no_module_is_over_500_lines():
    big = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert big == {}, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_function_is_over_80_lines():
    long = {}
    for path in MODULES:
        for fn in _functions(ast.parse(path.read_text())):
            lines = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                long[f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}"] = lines
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_checks_see_a_long_function():
    source = "def f():\n" + "    x = 1\n" * 90
    assert [(fn.name, fn.end_lineno) for fn in _functions(ast.parse(source))] == [("f", 91)]
