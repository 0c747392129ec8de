"""The stub: the few lines the local side (ctrtui/remote/channel.py) runs on a host with
`PYTHON -E -s -c STUB` (through ssh,
or as a local subprocess in tests). It must parse on any Python 2.7 or 3.x, so that a Python older than
ctrtui supports still answers with one JSON line saying so; everything newer than 2.7 is only
used after the version check. docs/remote.md describes the exchange.

`STUB_SOURCE` is the readable program; `STUB` is what is sent: one line (no quotes, no newline:
it passes through any remote login shell as one word once `shlex` has quoted it) that inflates
and runs `STUB_SOURCE`. Before anything else it drops the current directory from `sys.path`, so a
file in the remote user's home directory cannot stand in for a module the stub imports (and the
interpreter runs with `-E -s`: no PYTHON* variables, no user site-packages).

An installed ctrtui is offered (`installed`) only when root would not run code another user
can change: as root, its package directory, every file in it and every directory up to `/`
(as named and as resolved) must be owned by root and not group- or other-writable (a directory
above the package may be, with the sticky bit, as /tmp: no one else can rename or remove what
root owns there); otherwise the bundle travels.
"""

from __future__ import annotations

import base64
import zlib

__all__ = ["OLDEST_PYTHON", "STUB", "STUB_SOURCE", "STUB_VERSION"]

OLDEST_PYTHON = (3, 9)
"""The oldest Python the agent runs on (RHEL 9's python3)."""

STUB_VERSION = 1

STUB_SOURCE = r'''
import json, os, sys
v = sys.version_info
py = "%d.%d.%d" % (v[0], v[1], v[2])
def say(d):
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()
if v < (3, 9):
    say({"ctrtui": "stub", "error": "python-too-old", "python": py})
    sys.exit(3)
import importlib.util
def trusted(spec):
    if os.geteuid() != 0:
        return True
    top = os.path.dirname(spec.origin)
    paths = [top]
    for d, dirs, files in os.walk(top):
        paths.extend(os.path.join(d, n) for n in dirs + files)
    for p in (top, os.path.realpath(top)):
        while True:
            paths.append(p)
            up = os.path.dirname(p)
            if up == p:
                break
            p = up
    for p in paths:
        st = os.stat(p)
        if st.st_uid != 0 or (st.st_mode & 0o022 and not (p != top and st.st_mode & 0o1000)):
            return False
    return True
have = None
try:
    spec = importlib.util.find_spec("ctrtui")
    if not trusted(spec):
        raise ImportError("not root's own")
    with open(spec.origin) as f:
        for line in f:
            if line.startswith("__version__ ="):
                have = line.split("=", 1)[1].strip().strip("\"'")
                break
except Exception:
    pass
i = os.fdopen(os.dup(0), "rb")
say({"ctrtui": "stub", "stub": 1, "python": py, "installed": have})
m = json.loads(i.readline() or b"null")
if not isinstance(m, dict) or m.get("use") not in ("bundle", "installed"):
    sys.exit(0)
if m["use"] == "bundle":
    import hashlib, zlib
    n = m["size"]
    data = i.read(n)
    if len(data) != n or hashlib.sha256(data).hexdigest() != m["sha256"]:
        say({"ctrtui": "stub", "error": "bundle", "message": "the agent's code arrived incomplete or damaged"})
        sys.exit(3)
    src = json.loads(zlib.decompress(data).decode("utf-8"))
    class Bundle(object):
        def find_spec(self, name, path=None, target=None):
            if name not in src:
                return None
            pkg = any(k.startswith(name + ".") for k in src)
            return importlib.util.spec_from_loader(name, self, origin="ctrtui-bundle", is_package=pkg)
        def create_module(self, spec):
            return None
        def exec_module(self, mod):
            name = mod.__name__
            exec(compile(src[name], "<ctrtui-bundle>/" + name.replace(".", "/") + ".py", "exec"), mod.__dict__)
        def get_source(self, name):
            return src.get(name)
    for k in list(sys.modules):
        if k == "ctrtui" or k.startswith("ctrtui."):
            del sys.modules[k]
    sys.meta_path.insert(0, Bundle())
try:
    from ctrtui.agent import serve
except Exception as e:
    say({"ctrtui": "stub", "error": "import", "message": "%s: %s" % (type(e).__name__, e)})
    sys.exit(3)
sys.exit(serve(i))
'''

STUB = ("import sys;sys.path[:]=[p for p in sys.path if p];import zlib,binascii;"
        "exec(zlib.decompress(binascii.a2b_base64('"
        + base64.b64encode(zlib.compress(STUB_SOURCE.encode(), 9)).decode() + "')))")
"""One line of Python 2.7/3.x that runs `STUB_SOURCE`."""
