"""The bundle: the source of every module that travels to a host where ctrtui is not installed
(or another version is), as the stub receives it (docs/remote.md).

It is a zlib stream of one JSON object, module name -> source text, read from the installed
package (so it is exactly the code running here). A name is a package when other names start
with it and a dot. Built once per process (`bundle()`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zlib

__all__ = ["EXCLUDED", "TRAVELLING", "Bundle", "bundle", "module_sources"]

TRAVELLING = ("ctrtui", "ctrtui.agent", "ctrtui.model", "ctrtui.sources", "ctrtui.engine", "ctrtui.errors",
              "ctrtui.text", "ctrtui.report", "ctrtui.service", "ctrtui.history")
"""The modules and packages (with every module in them) that travel."""

EXCLUDED = ("ctrtui.sources.simulated", "ctrtui.sources.simkernel", "ctrtui.sources.demo", "ctrtui.sources.hostile")
"""Modules (and packages, with every module in them) inside a travelling package that stay
here: the simulated kernel (`simulated`, its parts in `simkernel`)
and its worlds are never used by the agent (it reads the host's real cgroups), and leaving
them out makes the bundle a sixth smaller. The command line does not travel: the
agent answers the service's operations (ctrtui/agent/calls.py), never a command."""


class Bundle:
    """What is sent: `data` (the zlib'd JSON), its `sha256` (hex) and the `modules` in it."""

    __slots__ = ("data", "sha256", "modules")

    def __init__(self, data: bytes, sha256: str, modules: tuple[str, ...]) -> None:
        self.data = data
        self.sha256 = sha256
        self.modules = modules


def module_sources() -> dict[str, str]:
    """Module name -> source text of every travelling module, from the installed package."""
    import ctrtui

    root = os.path.dirname(os.path.abspath(ctrtui.__file__))
    out: dict[str, str] = {}
    for name in TRAVELLING:
        rel = name.split(".")[1:]
        pkg_dir = os.path.join(root, *rel)
        if name == "ctrtui" or os.path.isdir(pkg_dir):
            files = [(name, os.path.join(pkg_dir, "__init__.py"))]
            if name != "ctrtui":  # the top package travels alone: its subpackages are listed
                for entry in sorted(os.listdir(pkg_dir)):
                    if entry.endswith(".py") and entry != "__init__.py":
                        files.append((f"{name}.{entry[:-3]}", os.path.join(pkg_dir, entry)))
        else:
            files = [(name, pkg_dir + ".py")]
        for mod, path in files:
            if mod not in EXCLUDED:
                with open(path, encoding="utf-8") as f:
                    out[mod] = f.read()
    return out


@functools.lru_cache(maxsize=1)
def bundle() -> Bundle:
    """The bundle of this process's ctrtui (built on first use, then kept)."""
    sources = module_sources()
    data = zlib.compress(json.dumps(sources, sort_keys=True, ensure_ascii=True).encode("ascii"), 9)
    return Bundle(data, hashlib.sha256(data).hexdigest(), tuple(sorted(sources)))
