"""A fake `ssh` program (`CTRTUI_SSH`) that plays a malicious host: run as
`PYTHON devtools/hostile_ssh.py [ssh options] -- HOST COMMAND`, it ignores the options and the
command and plays the attack named by HOST (its part before a `.`, so `flood.1` and
`flood.2` are two hosts playing the same):

- `good`: a well-behaved agent (installed ctrtui), canned answers to `hierarchies` and `ls --stats`;
- `flood`: asks for the bundle, then never reads and writes to stdout without end;
- `noise`: a login script printing lines of 100 MiB before the stub's line;
- `bigline`: a 32 MiB answer of `[],` (longer than any answer may be);
- `crowded`: an 8 MiB answer of `[],` (short enough, but 2.8 million lists);
- `bomb`: a `snapshot` answer whose 1 MB zlib stream unpacks to 1 GiB;
- `hugeint`: `ls --stats` rows with a 400-digit memory figure;
- `deep`: `--json` output nested 100,000 deep;
- `inject`: a hello whose open batch has the id ``b1$(touch${IFS}/tmp/x)``;
- `order`: answers a request it was not asked.

Used by tests/unit/test_hostile_hosts.py and benchmarks/remote.py; it touches nothing but
its own stdin and stdout.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import zlib

from ctrtui import __version__

MIB = 1024 * 1024
HIERARCHIES = [{"name": "freezer", "version": 1, "controllers": ["freezer"], "mount": "/sys/fs/cgroup/freezer",
                "cgroups": 3, "tasks": 12}]
STATS = [{"hierarchy": "freezer", "path": "/", "tasks": 3, "tasks_recursive": 3, "cpu_percent": None,
          "memory_bytes": None, "io_read_bytes_per_s": None, "io_write_bytes_per_s": None, "pids_current": None,
          "pids_max": None, "frozen": None}]
HELLO = {"protocol": 1, "version": __version__, "hostname": "fake", "python": "3.11.0", "uid": 0, "euid": 0,
         "user": "root", "pid": os.getpid(), "writable": True, "why_read_only": None, "open_batches": [],
         "journal_problem": None}
INJECTED = "b1$(touch${IFS}/tmp/ctrtui-test-injected)"


def write(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


def say(obj: object) -> None:
    write(json.dumps(obj).encode() + b"\n")


def flood(chunk: bytes, lines: int | None = None) -> None:
    """Write `chunk` without end (or `lines` times, each ending in a newline of its own
    after 100 MiB) until the reader goes."""
    try:
        if lines is None:
            while True:
                write(chunk)
        for _ in range(lines):
            for _ in range(100 * MIB // len(chunk)):
                write(chunk)
            write(b"\n")
    except BrokenPipeError:
        sys.exit(0)


def bomb() -> str:
    """A whole-snapshot wire form (ctrtui.model.wire) that announces no member and carries
    1 GiB of zeros, base64: about 1.4 MB. Made in a moment: one MiB of zeros is compressed
    once, after a full flush (so the block stands alone), repeated, and the stream ends with
    the Adler-32 of everything it unpacks to, so it is a valid zlib stream."""
    header = json.dumps({"taken_at": 1.0, "backend": "real", "hierarchies": []}).encode()
    start = len(header).to_bytes(4, "big") + header
    zeros = bytes(MIB)
    z = zlib.compressobj(9)
    head = z.compress(start) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    assert z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH) == block
    end = z.flush()[:-4]  # the last (empty) block, without the checksum of what this object saw
    check = zlib.adler32(start)
    for _ in range(1024):
        check = zlib.adler32(zeros, check)
    stream = head + block * 1024 + end + check.to_bytes(4, "big")
    return base64.b64encode(b"CTRW\x00\x01" + stream).decode()


def answer(attack: str, request: dict) -> None:
    rid, op, args = request.get("id"), request.get("op"), request.get("args") or {}
    if op == "bye":
        say({"id": rid, "ok": True, "result": None})
        sys.exit(0)
    if attack == "order":
        say({"id": 7, "ok": True, "result": None})
        return
    if attack in ("bigline", "crowded"):
        n = (32 if attack == "bigline" else 8) * MIB // 3
        write(b'{"id": %d, "ok": true, "result": [' % rid + b"[]," * n + b"[]]}\n")
        return
    if op == "pid_max":
        say({"id": rid, "ok": True, "result": 4194304})
    elif op == "hierarchies":  # what a RemoteReader asks first (the terminal UI)
        h = {k: v for k, v in HIERARCHIES[0].items() if k not in ("cgroups", "tasks")}
        say({"id": rid, "ok": True, "result": [{**h, "root": "/", "hierarchy_id": 3}]})
    elif op == "snapshot":
        say({"id": rid, "ok": True, "result": {"token": 1, "full": bomb()}})
    elif op == "cli":
        rows = STATS if args.get("command") == "ls" else HIERARCHIES
        if attack == "hugeint":
            rows = [{**rows[0], "memory_bytes": 10 ** 400}]
        if attack == "deep":
            out = "[" * 100000 + "]" * 100000
        elif args.get("options", {}).get("json"):
            out = json.dumps(rows)
        else:
            out = "".join(f"{r.get('name', r.get('path'))}\n" for r in rows)
        say({"id": rid, "ok": True, "result": {"exit": 0, "stdout": out, "stderr": ""}})
    else:
        say({"id": rid, "ok": False, "error": {"kind": "bad-request", "message": f"no op {op}", "errno": None}})


def main(argv: list[str]) -> int:
    host = argv[argv.index("--") + 1] if "--" in argv else "good"
    attack = host.rsplit("@", 1)[-1].split(".", 1)[0]
    stdin = os.fdopen(0, "rb", buffering=0)
    if attack == "noise":
        flood(b"Welcome! " * 1024, lines=8)
    say({"ctrtui": "stub", "stub": 1, "python": "3.11.0", "installed": None if attack == "flood" else __version__})
    if attack == "flood":
        flood(b"x" * MIB)
    stdin.readline()  # {"use": "installed"}
    hello = dict(HELLO)
    if attack == "inject":
        hello["open_batches"] = [{"batch": INJECTED, "time": "2026-12-07T00:00:00Z", "op": "move",
                                  "hierarchy": "freezer", "target": "/x", "tasks": 1, "undo_of": None}]
    say(hello)
    while True:
        line = stdin.readline()
        if not line:
            return 0
        answer(attack, json.loads(line))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
