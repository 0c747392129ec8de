"""What the standard library's own pieces would cost `ctrtui` at start-up (issue 9).

`python -m benchmarks.stdlib [--runs N] [--json FILE]`: whole processes of the venv's python,
run in turn (the order rotates each round), medians in ms. Each piece is measured as the
difference between two processes that differ only by it:

- argparse: `ctrtui.cli.parser` imported, against importing it and parsing `hierarchies` with the
  one parser (`build_parser`), as `ctrtui hierarchies` does;
- dataclasses: `ctrtui.model` imported, against importing it and making the model's value
  classes again as `@dataclass(frozen=True, slots=True)` classes with the same fields (what
  the model would cost built from dataclasses; their defaults left out, so a lower bound);
  the same for the engine's value classes (Plan, Verdict, Outcome, Report, ...) on top of
  the engine modules that hold them (the package imports its modules on first use), for the
  commands that build an engine;
- entry points: `load_entry_point_hooks` (`ctrtui.engine.plugins`: a pre-check that reads only
  the installed distributions' `entry_points.txt`, then `importlib.metadata` only when one
  declares a `ctrtui.hooks` entry), against `importlib.metadata.entry_points(group=
  "ctrtui.hooks")` always.

Issue 9 takes the standard piece unless it costs more than 5 ms of start-up;
benchmarks/RESULTS.md has the figures and what was decided.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from benchmarks.real import ENV, ctrtui_command
from benchmarks.timing import run_process

_AS_DATACLASSES = """
import dataclasses, importlib
import {module}
from ctrtui.model.value import Value
seen = set()
for name in {modules}:
    for obj in vars(importlib.import_module(name)).values():
        if isinstance(obj, type) and issubclass(obj, Value) and obj is not Value and obj not in seen:
            seen.add(obj)
            dataclasses.make_dataclass(obj.__name__, list(obj._fields), frozen=True, slots=True)
assert len(seen) >= {least}, len(seen)
"""

MODEL = ("ctrtui.model.task", "ctrtui.model.snapshot")
ENGINE = ("ctrtui.engine.values", "ctrtui.engine.hooks", "ctrtui.engine.policy", "ctrtui.engine.parse")


def commands() -> dict[str, list[str]]:
    py = sys.executable
    return {
        "python -c pass": [py, "-c", "pass"],
        "ctrtui hierarchies": ctrtui_command() + ["hierarchies"],
        "import ctrtui.cli.parser": [py, "-c", "import ctrtui.cli.parser"],
        "+ build_parser().parse_args(['hierarchies'])": [
            py, "-c", "import ctrtui.cli.parser as c; c.build_parser().parse_args(['hierarchies'])"],
        "import ctrtui.model": [py, "-c", "import ctrtui.model"],
        "+ the model's 11 classes as dataclasses": [
            py, "-c", _AS_DATACLASSES.format(module="ctrtui.model", modules=MODEL, least=11)],
        # the package imports a module when one of its names is first asked for: both sides
        # import the modules that hold the value classes
        "import ctrtui.engine": [py, "-c", f"import importlib; [importlib.import_module(m) for m in {ENGINE!r}]"],
        "+ the engine's value classes as dataclasses": [
            py, "-c", _AS_DATACLASSES.format(module="ctrtui.engine", modules=ENGINE, least=10)],
        "+ load_entry_point_hooks (the scan)": [
            py, "-c", "import ctrtui.engine as e; e.load_entry_point_hooks([])"],
        "+ importlib.metadata.entry_points(group=...)": [
            py, "-c", "import ctrtui.engine; from importlib.metadata import entry_points; "
                      "entry_points(group='ctrtui.hooks')"],
    }


def measure(runs: int) -> dict[str, list[float]]:
    cmds = commands()
    names = list(cmds)
    for name in names:  # warm-up round: bytecode caches written, files in the page cache
        run_process(cmds[name], name, ENV)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(run_process(cmds[name], name, ENV) * 1000)
    return samples


PAIRS = (
    ("argparse (one parser for `hierarchies`)", "import ctrtui.cli.parser",
     "+ build_parser().parse_args(['hierarchies'])"),
    ("dataclasses for the model", "import ctrtui.model", "+ the model's 11 classes as dataclasses"),
    ("dataclasses for the engine's values", "import ctrtui.engine", "+ the engine's value classes as dataclasses"),
    ("importlib.metadata instead of the scan", "+ load_entry_point_hooks (the scan)",
     "+ importlib.metadata.entry_points(group=...)"),
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.stdlib", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=30, help="rounds (default 30)")
    p.add_argument("--json", metavar="FILE", help="also write the samples and medians here")
    args = p.parse_args(argv)
    samples = measure(args.runs)
    med = {n: statistics.median(s) for n, s in samples.items()}
    for name, m in med.items():
        print(f"{name:48s} {m:7.2f} ms  (min {min(samples[name]):.2f})")
    print(f"ctrtui hierarchies / python -c pass: {med['ctrtui hierarchies'] / med['python -c pass']:.3f}")
    extra = {what: med[b] - med[a] for what, a, b in PAIRS}
    for what, ms in extra.items():
        print(f"{what}: {ms:+.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": args.runs, "median_ms": med, "extra_ms": extra, "samples_ms": samples}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
