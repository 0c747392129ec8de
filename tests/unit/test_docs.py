"""The repository's own docs stay true to the code: every test a doc names exists, every
module path it names exists, every code name it cites (a class, a function, a method, an
attribute) is defined somewhere, one cited beside its module (or as `Class.method`) exists
there, and nothing refers to documents outside the repository."""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))


def test_the_docs_exist():
    names = {p.name for p in DOCS}
    assert {"kernel.md", "architecture.md", "wire.md", "testing.md"} <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_tests_and_files_exist(doc):
    text = doc.read_text()
    for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", text):
        src = (ROOT / path).read_text()
        pattern = name[:-1] if name.endswith("_") else name + r"\b"  # `test_2007_*` names a family
        assert re.search(r"def " + pattern, src), f"{doc.name}: {path}::{name} does not exist"
    for path in re.findall(r"`((?:ctrtui|tests|benchmarks)/[\w/.]+\.py)`", text):
        assert (ROOT / path).exists(), f"{doc.name}: {path} does not exist"
    for path in re.findall(r"`((?:ui|engine|sources|model)/[\w/.]+\.py)`", text):
        assert (ROOT / "ctrtui" / path).exists(), f"{doc.name}: ctrtui/{path} does not exist"


def test_every_kernel_rule_points_at_a_test():
    sections = re.split(r"\n## ", (ROOT / "docs" / "kernel.md").read_text())[1:]
    for section in sections:
        title = section.splitlines()[0]
        bullets = [b for b in re.split(r"\n- ", section)[1:]]
        for b in bullets:
            assert "tests/" in b, f"kernel.md, {title}: a rule without its test: {b[:80]!r}"


def test_no_reference_to_documents_outside_the_repository():
    outside = re.compile(r"KERNEL\.md|DEVELOPERS\.md|DESIGN\.md|STYLE\.md|PREAMBLE\.md|\.\./shared")
    files = [p for d in ("ctrtui", "tests", "benchmarks", "docs", "scripts") for p in (ROOT / d).rglob("*")
             if p.suffix in (".py", ".md", ".toml", ".tcss")]
    files += [ROOT / "README.md", ROOT / "pyproject.toml"]
    found = [f"{p.relative_to(ROOT)}:{i}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
             if outside.search(line) and p != Path(__file__)]
    assert found == []


CODE = ROOT / "ctrtui"
_PACKAGES = (r"(?:ctrtui/)?(?:ui|engine|sources|model|service|remote|agent|cli|history)/[\w/]+\.py"
             r"|(?:ctrtui/)?(?:report|text|errors|main)\.py")


def _defines(src: str, name: str) -> bool:
    """Whether a module's text defines `name`: a def, a class, an assignment or an import under that name."""
    n = re.escape(name)
    return re.search(rf"^\s*(?:async def|def|class) {n}\b|^\s*{n}\b\s*[:=]|^\s*self\.{n}\b\s*[:=]"
                     rf"|\bimport .*\b{n}\b|^\s+{n},", src, re.M) is not None


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "README.md"], ids=lambda p: p.name)
def test_code_names_cited_beside_their_module_exist_there(doc):
    """`path.py` `Name` (or `Name.method`, or `path.py` `Name` -> `Other`) names what that module defines."""
    text = doc.read_text()
    missing = []
    for path, names in re.findall(rf"`({_PACKAGES})`((?:,? `\w+(?:\.\w+)?(?:\([^`]*\))?`)+)", text):
        file = ROOT / path if path.startswith("ctrtui/") else CODE / path
        if not file.exists():
            continue  # test_named_tests_and_files_exist says so
        src = file.read_text()
        for cited in re.findall(r"`(\w+(?:\.\w+)?)", names):
            head, _, method = cited.partition(".")
            if method in ("py", "md", "toml"):
                continue  # another file, not a name
            if not _defines(src, head) or (method and not _defines(src, method)):
                missing.append(f"{path} {cited}")
    assert missing == [], f"{doc.name}: cited beside a module that does not define them: {missing}"


def _class_sources(sources: list[str], cls: str, seen: set[str] | None = None) -> list[str]:
    """The modules that define class `cls` and, followed through their bases, the classes it inherits from."""
    seen = set() if seen is None else seen
    if cls in seen:
        return []
    seen.add(cls)
    found = []
    for src in sources:
        for bases in re.findall(rf"^\s*class {cls}\b(?:\(([^)]*)\))?", src, re.M):
            found.append(src)
            for base in re.findall(r"\w+", bases):
                found += _class_sources(sources, base, seen)
    return found


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "README.md"], ids=lambda p: p.name)
def test_every_class_method_cited_exists(doc):
    """Every `Class.method` a doc cites (a capitalised class of ctrtui/) has that name in the class or a base."""
    sources = [p.read_text() for p in CODE.rglob("*.py")]
    text = doc.read_text()
    missing = []
    for cls, attr in sorted(set(re.findall(r"`([A-Z]\w*[a-z]\w*)\.(\w+)", text))):
        homes = _class_sources(sources, cls)
        if homes and not any(_defines(s, attr) for s in homes):
            missing.append(f"{cls}.{attr}")
    assert missing == [], f"{doc.name}: methods that no class of that name has: {missing}"


# Names the docs cite that are not ours: ssh options and messages, JSON's NaN, zlib's parameter; the kernel's own
# functions and constants live in docs/kernel.md (not checked here: they are the kernel's names).
NOT_OURS = {"ConnectTimeout", "kex_exchange_identification", "NaN", "ThreadPoolExecutor",
            "max_length",  # zlib's Decompress.decompress parameter
            "ignore_imports",  # import-linter's option
            "JobRemoved", "cg_escape", "sd_booted()"}  # systemd's D-Bus signal and C functions
CODE_SPAN = re.compile(r"^@?(_?[A-Za-z]\w*)((?:\.\w+)*)(\(.*\))?$")


@functools.cache
def _our_names() -> frozenset[str]:
    """Every name our code defines or uses as a word: modules, classes, functions, methods,
    parameters, assigned names and attributes, and the words of its string constants (benchmark
    keys, wire fields, environment variables)."""
    names: set[str] = set()
    for base in ("ctrtui", "tests", "benchmarks", "scripts", "devtools"):
        for path in (ROOT / base).rglob("*.py"):
            if path == Path(__file__):
                continue
            names.add(path.stem)
            tree = ast.parse(path.read_text())
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.body and isinstance(n.body[0], ast.Expr)}
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.arg):
                    names.add(node.arg)
                elif isinstance(node, ast.keyword) and node.arg:
                    names.add(node.arg)
                elif isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str) and base != "tests" \
                        and id(node) not in docstrings:
                    names.update(re.findall(r"\w+", node.value))
    return frozenset(names)


def _external(parts: list[str]) -> bool:
    """A builtin (`str`, `ValueError`) or a name of an importable module (`zlib.compress`,
    `typing.TypeAlias`, textual's `on`)."""
    if _has_chain(builtins, parts):
        return True
    for module, rest in ((parts[0], parts[1:]), ("textual", parts)):
        try:
            if _has_chain(importlib.import_module(module), rest):
                return True
        except ImportError:
            continue
    return False


def _has_chain(obj: object, parts: list[str]) -> bool:
    for part in parts:
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def _cited_code_names(text: str) -> list[tuple[str, list[str]]]:
    """The code spans that read as code names: a call (`plan()`), a dotted name
    (`LiveView.arm`), a CamelCase name (`AttachEngine`) or a snake_case one (`task_state`)."""
    found = []
    for span in sorted(set(re.findall(r"`([^`\n]+)`", text))):
        m = CODE_SPAN.match(span)
        if not m:
            continue
        parts = [m.group(1)] + [p for p in m.group(2).split(".") if p]
        if m.group(3) is not None or any("_" in p.strip("_") or p.startswith("_")
                                          or re.match(r"[A-Z][a-z]+[A-Z]", p) for p in parts):
            found.append((span, parts))
    return found


@pytest.mark.parametrize("doc", [d for d in DOCS if d.name != "kernel.md"], ids=lambda p: p.name)
def test_every_code_name_a_doc_cites_exists(doc):
    missing = [span for span, parts in _cited_code_names(doc.read_text())
               if span not in NOT_OURS and not _external(parts)
               and not all(p in _our_names() or p in NOT_OURS for p in parts)]
    assert missing == [], f"{doc.name} cites names the code does not have: {missing}"


def test_the_code_name_check_finds_a_name_that_is_gone():
    text = "the engine's `_judge` runs `can_move()` for each `AttachEngine.plan`, `Plan.ok` and `LiveView.armed`"
    cited = [span for span, parts in _cited_code_names(text)
             if not _external(parts) and not all(p in _our_names() for p in parts)]
    assert cited == ["LiveView.armed", "_judge", "can_move()"]
