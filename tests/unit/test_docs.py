"""The repository's own docs stay true to the code: every test a doc names exists, every
module path it names exists, and nothing refers to documents outside the repository."""

from __future__ import annotations

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
