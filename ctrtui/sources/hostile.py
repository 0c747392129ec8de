"""A hostile simulated world (`ctrtui --demo=hostile`, and the escaping tests).

Everything in it that anyone may name is named to hurt a careless UI or CLI: cgroup names,
comms, command lines and user names hold markup (`[b]`, `[/]`, `[@click=app.quit]`,
`[link=…]`), terminal escapes (CSI `ESC[2J`, `ESC[31m`, OSC `ESC]0;PWNED BEL`), C1 controls,
a bidi override, bytes that are not UTF-8 (a cgroup name is bytes: they arrive decoded with
surrogateescape, as the real backend reads them), 255-byte names (the kernel's limit), wide
(CJK) and combining characters, a literal backslash, and a chain 60 cgroups deep. A v1
hierarchy is named with markup too (`name=` hierarchies are free text).

Nothing here is shown raw anywhere: see ctrtui.text for how it is shown and typed back.
"""

from __future__ import annotations

from ctrtui.sources.simulated import SimKernel

MB = 1 << 20
ESC, BEL = "\x1b", "\x07"


def _bytes_name(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


#: key -> cgroup name (one path component). The keys are what tests refer to.
NAMES: dict[str, str] = {
    "bold": "x-[b]bold",  # (a name cannot hold "/", so no closing tags: comms have them)
    "close": "[b]x[u]",
    "click": "x-[@click=app.quit]q",
    "link": "[link=mailto:x@example.invalid]site",
    "red": "x-[red]y",
    "clear": f"wipe-{ESC}[2J",
    "csi": f"red-{ESC}[31mtail",
    "osc": f"title-{ESC}]0;PWNED{BEL}",
    "c1": "c1-\x9b31m-\x85-end",
    "bidi": "bidi-\u202etxt.exe",
    "bytes": _bytes_name(b"bad-\xff\xfe-utf8"),
    "long": "L" * 255,
    "wide": "漢字" * 42 + "x",  # 255 bytes, 170 cells
    "combining": "ze\u0301\u0302\u0303ro-zalgo",
    "backslash": "back\\x1b-slash",  # a literal backslash, 'x', '1', 'b': not an ESC
}

DEEP = 60
"""Depth of the `/deep/d0/.../d59` chain."""

DEEP_LEAF = "/deep/" + "/".join(f"d{i}" for i in range(DEEP))

USERS = {0: "root", 1000: "[b]eve[/b]", 1001: f"{ESC}[31mmallory", 1002: "名前ユーザー",
         1003: "a\\b[@click=app.quit]", 1004: _bytes_name(b"bytes\xff")}

#: (comm, cmdline, uid) of the processes put in each hostile cgroup (comm: 15 characters).
PROCS = [
    ("[/]", f"[/] [@click=app.quit]quit {ESC}]0;PWNED{BEL}", 1000),
    (f"{ESC}[31mred", f"/bin/red {ESC}[2J{ESC}[31m[link=https://example.invalid/]x[/link]", 1001),
    ("bidi\u202eexe.sh", "/usr/bin/\u202egnp.exe --flag \x9b2J", 1002),
    ("漢字プロセス", "/opt/漢字/bin/プロセス --naïve e\u0301", 1003),
    (_bytes_name(b"by\xfftes"), _bytes_name(b"/bin/by\xfftes \\x1b literal"), 1004),
]

HIERARCHIES = ("freezer", "pids", "unified", "name=[@click=app.quit]h")


def hostile_world() -> SimKernel:
    """The hostile world: the same every time (see the module docstring)."""
    k = SimKernel(identity="demo:hostile")
    for uid, name in USERS.items():
        k.add_user(uid, name)
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("pids", 1, ["pids"])
    k.add_hierarchy("unified", 2, ["cpu", "pids"])
    k.add_hierarchy(HIERARCHIES[3], 1, [], mount="/sys/fs/cgroup/hostile")
    k.spawn("systemd", "/sbin/init", pid=1)
    k.set_last_pid(100)
    for h in HIERARCHIES:
        k.makedirs(h, "/hostile")
        k.makedirs(h, DEEP_LEAF)
    for name in NAMES.values():
        path = f"/hostile/{name}"
        where = {}
        for h in HIERARCHIES:
            k.mkdir(h, path)
            where[h] = path
        for comm, cmd, uid in PROCS:
            k.tick(0.1)
            k.spawn(comm, cmd, uid=uid, cgroups=where, rss=3 * MB)
    leaf = {h: DEEP_LEAF for h in HIERARCHIES}
    for comm, cmd, uid in PROCS:
        k.spawn(comm, cmd, uid=uid, cgroups=leaf, threads=2, rss=5 * MB)
    k.spawn("plain", "/bin/plain --target", uid=0, cgroups={h: "/hostile" for h in HIERARCHIES})
    return k


def hostile_path(key: str) -> str:
    """The path of the hostile cgroup `key` of NAMES."""
    return f"/hostile/{NAMES[key]}"
