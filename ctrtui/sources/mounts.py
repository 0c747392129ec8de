"""Where the cgroup hierarchies are mounted: `/proc/self/mountinfo` parsed, the names and
IDs of v1 hierarchies from `/proc/self/cgroup` and `/proc/cgroups`, the root of our cgroup
namespace found, and `/proc/PID/cgroup` read line by line.

Discovery reads `/proc/self/mountinfo` (docs/kernel.md, "Finding the hierarchies"): every
`cgroup` (v1) and `cgroup2` mount, deduplicated by the `major:minor` field (a hierarchy
mounted twice is one hierarchy; the mount whose root is `/` wins). A v1 hierarchy's
controllers come from the super options (`rw,cpu,cpuacct`, `rw,name=systemd`) and its name
and ID from `/proc/self/cgroup`, matched by the set of controllers (this works for named
hierarchies too, which `/proc/cgroups` does not list). v2 is named `unified`; its
controllers are its root's `cgroup.controllers`. Order: v1 by hierarchy ID, then v2.

`Mounts` is the discovery half of the real backend (`cgroupfs.CgroupFS` is one).
"""

from __future__ import annotations

import os

from ctrtui.model import Hierarchy, find_hierarchy
from ctrtui.sources.procfs import read_bytes

#: mount/super options of a v1 cgroup mount that are not controllers.
_V1_OPTIONS = frozenset({
    "rw", "ro", "none", "all", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
    "favordynmods", "nofavordynmods",
})


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (`\\040`)."""
    if "\\" not in field:
        return field
    return (field.replace("\\040", " ").replace("\\011", "\t")
            .replace("\\012", "\n").replace("\\134", "\\"))


def parse_proc_cgroup(text: str) -> dict[str, tuple[int, str]]:
    """`/proc/PID/cgroup` -> {controllers field: (hierarchy id, path)}; the v2 line
    `0::/path` has the key "" (empty controllers)."""
    out: dict[str, tuple[int, str]] = {}
    for line in text.splitlines():
        hid, _, rest = line.partition(":")
        ctrls, sep, path = rest.partition(":")
        if sep and hid.isdigit():
            out[ctrls] = (int(hid), path)
    return out


def parse_mountinfo(text: str, self_cgroup: str = "", cgroups: str = "") -> list[Hierarchy]:
    """Every cgroup hierarchy mounted according to the mountinfo `text`.

    `self_cgroup` is the text of `/proc/self/cgroup` (gives the v1 names and IDs);
    `cgroups` the text of `/proc/cgroups` (IDs by controller, and the controller names;
    used when a hierarchy is missing from `self_cgroup`). v2 controllers are left empty
    here (the caller reads `cgroup.controllers`). Order: v1 by hierarchy ID (unknown IDs
    last, in mount order), then v2.
    """
    known: set[str] = set()
    ids_by_ctrl: dict[str, int] = {}
    for line in cgroups.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#") and parts[1].isdigit():
            known.add(parts[0])
            ids_by_ctrl[parts[0]] = int(parts[1])
    by_set = {frozenset(k.split(",")): (k, hid) for k, (hid, _) in parse_proc_cgroup(self_cgroup).items() if k}

    chosen: dict[str, tuple[int, Hierarchy]] = {}  # major:minor -> (mount order, hierarchy)
    for n, line in enumerate(text.splitlines()):
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf, rf = left.split(), right.split()
        if len(lf) < 5 or len(rf) < 1 or rf[0] not in ("cgroup", "cgroup2"):
            continue
        devno, root, mount = lf[2], _unescape(lf[3]), _unescape(lf[4])
        if rf[0] == "cgroup2":
            h = Hierarchy("unified", 2, (), mount, root, 0)
        else:
            opts = rf[2].split(",") if len(rf) >= 3 else []
            ctrls = [o for o in opts if o.startswith("name=")
                     or (o in known if known else (o not in _V1_OPTIONS and "=" not in o))]
            if not ctrls:
                continue
            name, hid = by_set.get(frozenset(ctrls), (None, 0))
            if name is None:
                subsys = [c for c in ctrls if not c.startswith("name=")]
                named = [c for c in ctrls if c.startswith("name=")]
                name = ",".join(subsys + named)
                hid = ids_by_ctrl.get(subsys[0], 0) if subsys else 0
            h = Hierarchy(name, 1, tuple(name.split(",")), mount, root, hid)
        old = chosen.get(devno)
        if old is None or (old[1].root != "/" and root == "/"):
            chosen[devno] = (n, h)
    found = [h for _, h in sorted(chosen.values(), key=lambda x: x[0])]
    v1 = [h for h in found if h.version == 1]
    v1.sort(key=lambda h: (h.hierarchy_id == 0, h.hierarchy_id))
    return v1 + [h for h in found if h.version == 2]


def _find_ns_root(mount: str, depth: int, own: str, version: int) -> str | None:
    """The directory `depth` levels below `mount` whose cgroup `own` (a path relative to it)
    lists this process; None when none does (or more than one could, which cannot be)."""
    me = os.getpid()
    level = [mount]
    for _ in range(depth):
        below: list[str] = []
        for d in level:
            try:
                with os.scandir(d) as it:
                    below.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
        level = below
    rel = "" if own == "/" else own
    files = ("cgroup.procs", "cgroup.threads") if version == 2 else ("tasks",)
    found = []
    for d in level:
        for name in files:
            text = read_text(d + rel + "/" + name)
            if text is not None:
                if str(me) in text.split():
                    found.append(d)
                break
    return found[0] if len(found) == 1 else None


def read_text(path: str) -> str | None:
    try:
        return read_bytes(path).decode("utf-8", "replace").strip()
    except OSError:
        return None


def cgroup_line(data: bytes, h: Hierarchy) -> str | None:
    """The path of hierarchy `h` in the bytes of a `/proc/PID/cgroup`, looking only at its
    line (`ID:controllers:path`, v2 `0::path`); None when there is no such line. A v1
    hierarchy whose ID is unknown (0) is found by its controllers."""
    if h.version == 2:
        prefix = b"0::"
    elif h.hierarchy_id:
        prefix = b"%d:" % h.hierarchy_id
    else:
        return parse_proc_cgroup(data.decode("utf-8", "surrogateescape")).get(h.name, (0, None))[1]
    if data.startswith(prefix):
        i = 0
    else:
        i = data.find(b"\n" + prefix)
        if i < 0:
            return None
        i += 1
    start = i + 3 if h.version == 2 else data.index(b":", i + len(prefix)) + 1
    end = data.find(b"\n", start)
    return data[start:end if end >= 0 else len(data)].decode("utf-8", "surrogateescape")


class Mounts:
    """The mounted hierarchies as this process sees them (see the module docstring).

    Paths are injectable for tests: `mountinfo` is read for discovery and `proc` is the
    procfs root. Hierarchy names accepted by every method are the names of `hierarchies()`
    or any one controller of them (`Hierarchy.matches`); an unknown name raises KeyError.
    """

    def __init__(self, mountinfo: str = "/proc/self/mountinfo", proc: str = "/proc") -> None:
        self.mountinfo = mountinfo
        self.proc = proc
        self._hier: tuple[Hierarchy, ...] | None = None
        self._ns_roots: dict[tuple[str, str], str | None] = {}  # (mount, root) -> our namespace's root dir

    def hierarchies(self) -> tuple[Hierarchy, ...]:
        """Every mounted hierarchy, discovered afresh (cheap: three small reads)."""
        text = read_bytes(self.mountinfo).decode("utf-8", "replace")
        self_cg = read_text(f"{self.proc}/self/cgroup") or ""
        cgroups = read_text(f"{self.proc}/cgroups") or ""
        found = []
        for h in parse_mountinfo(text, self_cg, cgroups):
            if h.root.startswith("/.."):
                h = self._in_namespace(h, self_cg)
            if h.version == 2:
                ctrls = read_text(h.mount + "/cgroup.controllers")
                h = h.replace(controllers=tuple(ctrls.split()) if ctrls else ())
            found.append(h)
        self._hier = tuple(found)
        return self._hier

    def _in_namespace(self, h: Hierarchy, self_cgroup: str) -> Hierarchy:
        """A hierarchy mounted above the root of our cgroup namespace: mountinfo gives its
        root relative to that root (`/../..`: two levels up), and every path we read
        (/proc/PID/cgroup) is relative to it. The namespace's root is the directory that
        many levels below the mount in which our own cgroup lists us; the hierarchy is then
        taken as mounted there, at root `/`. Unresolved (the mount is not above us only, or
        we are not found) it is left as it is."""
        parts = h.root.split("/")[1:]
        if not parts or any(p != ".." for p in parts):
            return h
        key = (h.mount, h.root)
        if key not in self._ns_roots:
            mine = parse_proc_cgroup(self_cgroup)
            own = (mine.get("") if h.version == 2 else next(
                (v for k, v in mine.items() if k and set(k.split(",")) == set(h.controllers)), None))
            self._ns_roots[key] = None if own is None else _find_ns_root(h.mount, len(parts), own[1], h.version)
        where = self._ns_roots[key]
        return h if where is None else h.replace(mount=where, root="/")

    def ns_delegate(self, hierarchy: str) -> bool:
        """Whether the v2 hierarchy is mounted with `nsdelegate` (a cgroup namespace is then
        a delegation boundary: a task outside it cannot be moved, ENOENT)."""
        if self.hierarchy(hierarchy).version != 2:
            return False
        for line in read_bytes(self.mountinfo).decode("utf-8", "replace").splitlines():
            _, sep, right = line.partition(" - ")
            rf = right.split()
            if sep and len(rf) >= 3 and rf[0] == "cgroup2":
                return "nsdelegate" in rf[2].split(",")
        return False

    def _known(self) -> tuple[Hierarchy, ...]:
        return self._hier if self._hier is not None else self.hierarchies()

    def hierarchy(self, word: str) -> Hierarchy:
        """The hierarchy named `word` (its name or one of its controllers); KeyError if none."""
        for refresh in (False, True):
            h: Hierarchy | None = find_hierarchy(self.hierarchies() if refresh else self._known(), word)
            if h is not None:
                return h
        raise KeyError(f"no cgroup hierarchy named {word!r} is mounted")

    @staticmethod
    def _check_path(path: str) -> None:
        if not path.startswith("/") or "/../" in path + "/" or "/./" in path + "/":
            raise ValueError(f"{path!r} is not a cgroup path (absolute, without . or ..)")

    def _dir(self, hierarchy: str, path: str) -> tuple[Hierarchy, str]:
        self._check_path(path)
        h = self.hierarchy(hierarchy)
        return h, h.fs_path(path)
