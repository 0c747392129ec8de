"""The wire form of a `Snapshot`: bytes that travel (to another process, host or file) and
come back as an equal snapshot. No I/O here; the format is described in `docs/wire.md`.

    data = to_wire(snapshot)        # bytes
    snapshot = from_wire(data)      # raises WireError on anything but a valid v1 document

Layout (version 1): the 4 bytes `CTRW`, a 2-byte big-endian version, then one zlib stream
holding a 4-byte big-endian header length, the header (UTF-8 JSON: the hierarchies, their
cgroup paths in pre-order, each cgroup's child names and member counts) and the member
arrays (32-bit little-endian integers, each cgroup's sorted list delta-encoded).
"""

from __future__ import annotations

import json
import math
import sys
import zlib
from array import array
from bisect import bisect_right
from itertools import accumulate, chain, islice, repeat
from operator import sub
from types import MappingProxyType

from ctrtui.model.snapshot import Container, Hierarchy, HierarchySnapshot, Snapshot, join_path

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DELTA_MAGIC", "MAGIC", "VERSION", "Placement", "WireError", "apply_wire_delta", "find_in_wire", "from_wire",
           "to_wire", "to_wire_delta"]

MAGIC = b"CTRW"
VERSION = 1
_HEAD = len(MAGIC) + 2
_SWAP = sys.byteorder != "little"


class WireError(ValueError):
    """The bytes are not a snapshot this version of ctrtui can read (the message says why)."""


def _deltas(pids: array[int]) -> array[int]:
    """A sorted array as its first value and then the gaps between neighbours."""
    if len(pids) < 2:
        return pids
    out = array("i", pids)
    out[1:] = array("i", map(int.__sub__, pids[1:], pids[:-1]))
    return out


def _header(doc: dict[str, object], what: str) -> bytes:
    """The JSON header: UTF-8, compact. A name that is not UTF-8 (its bytes read with
    surrogateescape, e.g. U+DCFF for byte 0xff) has no UTF-8 form: then the whole header is
    written ASCII-only, such names as `\\udcff` escapes, which JSON reads back as they were."""
    try:
        text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as e:  # a NaN or infinite taken_at has no JSON form
        raise WireError(f"{what} cannot be written: {e}") from None
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def to_wire(snapshot: Snapshot, level: int = 1) -> bytes:
    """The version-1 wire form of `snapshot` (zlib `level` 1 favours speed; 0-9 allowed)."""
    hiers = []
    body = array("i")
    for hs in snapshot.hierarchies:
        h = hs.hierarchy
        paths, children, nthreads, nprocs = [], [], [], []
        for path, c in hs.containers.items():
            paths.append(path)
            names = []
            for ch in c.children:
                name = ch.rsplit("/", 1)[-1]
                if not name or join_path(path, name) != ch:
                    raise WireError(f"cgroup {path!r} in {h.name}: child {ch!r} is not a direct child path")
                names.append(name)
            children.append(names)
            nthreads.append(len(c.threads))
            nprocs.append(len(c.procs))
        for c in hs.containers.values():
            body.extend(_deltas(c.threads))
        for c in hs.containers.values():
            body.extend(_deltas(c.procs))
        hiers.append({
            "name": h.name, "version": h.version, "controllers": list(h.controllers),
            "mount": h.mount, "root": h.root, "hierarchy_id": h.hierarchy_id,
            "paths": paths, "children": children, "threads": nthreads, "procs": nprocs,
        })
    header = _header({"taken_at": snapshot.taken_at, "backend": snapshot.backend, "hierarchies": hiers}, "snapshot")
    if _SWAP:
        body.byteswap()
    payload = len(header).to_bytes(4, "big") + header + body.tobytes()
    return MAGIC + VERSION.to_bytes(2, "big") + zlib.compress(payload, level)


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise WireError(f"malformed snapshot: {what}")


def _is_str_list(x: object) -> bool:
    return isinstance(x, list) and all(map(isinstance, x, repeat(str)))


def _is_path_list(x: Any) -> bool:
    """A list of absolute paths (strings starting with /)."""
    return _is_str_list(x) and all(map(str.startswith, x, repeat("/")))


def _is_names_lists(x: object, n: int) -> bool:
    """`n` lists of child names: non-empty strings without a /. (Checked in bulk: the
    header of a 10,000-cgroup snapshot has 10,000 such lists.)"""
    if not (isinstance(x, list) and len(x) == n and all(map(isinstance, x, repeat(list)))):
        return False
    names = list(chain.from_iterable(x))
    return all(map(isinstance, names, repeat(str))) and all(names) and "/" not in "\0".join(names)


def _is_count_list(x: object, n: int) -> bool:
    return (isinstance(x, list) and len(x) == n and set(map(type, x)) <= {int}
            and (not x or (min(x) >= 0 and max(x) <= MAX_HIERARCHY_MEMBERS)))


MAX_HEADER = 16 * 1024 * 1024
"""The longest header (bytes) a reader unpacks: a 100,000-cgroup tree's is about 10 MB."""
MAX_HEADER_CONTAINERS = 1 << 19
"""The most JSON lists and objects a header may hold (a children list per cgroup)."""
MAX_HIERARCHY_MEMBERS = 1 << 22
"""The most TIDs, and the most TGIDs, one hierarchy may list: every task of a host sits in
one cgroup of each hierarchy, and no Linux has more than 2^22 PIDs (PID_MAX_LIMIT)."""
MAX_MEMBERS = 1 << 25
"""The most member integers (TIDs and TGIDs, all hierarchies) a snapshot may announce."""


def _announced(doc: object) -> tuple[int, str | None]:
    """How many member integers the header announces (its `threads` and `procs` counts that
    are counts), and why that is too many (None when it is not)."""
    hiers = doc.get("hierarchies") if isinstance(doc, dict) else None
    total = 0
    for hd in hiers if isinstance(hiers, list) else ():
        for key in ("threads", "procs"):
            counts = hd.get(key) if isinstance(hd, dict) else None
            if not isinstance(counts, list):
                n = 0
            elif set(map(type, counts)) <= {int} and (not counts or min(counts) >= 0):
                n = sum(counts)  # the well-formed header: in bulk
            else:
                n = sum(v for v in counts if type(v) is int and v > 0)
            if n > MAX_HIERARCHY_MEMBERS:
                return n, f"a hierarchy announces {n} {key} lists' members, more than a host can have"
            total += n
    if total > MAX_MEMBERS:
        return total, f"it announces {total} members in all, more than {MAX_MEMBERS}"
    return total, None


def _unpack(data: bytes, magic: bytes, what: str) -> tuple[Any, array[int]]:
    """The JSON header and the member integers of a wire `what` ("snapshot" or "snapshot
    delta") that starts with `magic`; WireError when it is not one, of another version, or
    damaged. The full form and the delta share this framing.

    Nothing is unpacked beyond what the header announces: the zlib stream is read in steps
    with `max_length` (the header length, checked against MAX_HEADER, then the member data
    the header's counts announce, checked against the tree a host can have), and a stream
    that holds more, or bytes after its end, is refused. A small answer cannot unpack into
    gigabytes (a zlib bomb)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"a wire {what} is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD or data[:len(magic)] != magic:
        raise WireError(f"not a ctrtui {what} (it does not start with the bytes {magic.decode()})")
    version = int.from_bytes(data[len(magic):_HEAD], "big")
    if version != VERSION:
        raise WireError(f"{what} wire version {version} is not supported "
                        f"(this ctrtui reads version {VERSION}); upgrade ctrtui on this side")
    z = zlib.decompressobj()
    pending = data[_HEAD:]

    def take(n: int) -> bytes:
        nonlocal pending
        parts, got = [], 0
        try:
            while got < n:
                chunk = z.decompress(pending, n - got)
                pending = z.unconsumed_tail
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except zlib.error as e:
            raise WireError(f"damaged {what}: the compressed body does not unpack ({e})") from None
        return b"".join(parts)

    head = take(4)
    _check(len(head) == 4, "no header length")
    hlen = int.from_bytes(head, "big")
    if hlen > MAX_HEADER:
        raise WireError(f"malformed {what}: its header would be {hlen} bytes, more than {MAX_HEADER}")
    header = take(hlen)
    _check(len(header) == hlen, "header longer than the data")
    if header.count(b"[") + header.count(b"{") > MAX_HEADER_CONTAINERS:
        raise WireError(f"malformed {what}: its header holds more than {MAX_HEADER_CONTAINERS} lists and objects")
    try:
        doc = json.loads(header.decode(), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise WireError(f"malformed {what}: the header is not JSON ({e})") from None
    members, too_many = _announced(doc)
    if too_many:
        raise WireError(f"malformed {what}: {too_many}")
    raw = take(4 * members + 8)  # a little more than announced: what is left over is named below
    if len(raw) > 4 * members + 4:
        raise WireError(f"malformed {what}: more member data than its header announces")
    if not z.eof:
        raise WireError(f"damaged {what}: the compressed body does not unpack (it ends early)")
    if z.unused_data:
        raise WireError(f"malformed {what}: {len(z.unused_data)} bytes follow the compressed body")
    _check(len(raw) % 4 == 0, "member data is not a whole number of 32-bit integers")
    body = array("i")
    body.frombytes(raw)
    if _SWAP:
        body.byteswap()
    return doc, body


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _time_ok(t: object) -> bool:
    """A `taken_at` a float holds: a finite number of seconds (an int of 400 digits is not)."""
    if type(t) is float:
        return math.isfinite(t)
    return type(t) is int and -(2 ** 1023) < t < 2 ** 1023


def _hierarchy_of(i: int, hd: object) -> tuple[Hierarchy, list[str], list[list[str]], list[int], list[int]]:
    """Hierarchy `i` of a whole form's header, every field checked: its description, its
    cgroup paths, each one's child names and its thread and process counts."""
    _check(isinstance(hd, dict), f"hierarchy {i} is not an object")
    get: Any = hd.get  # type: ignore[attr-defined]  # a dict, checked above
    name, ver, ctrls = get("name"), get("version"), get("controllers")
    mount, root, hid = get("mount"), get("root"), get("hierarchy_id")
    _check(isinstance(name, str), f"hierarchy {i} has no name")
    _check(ver in (1, 2) and type(ver) is int, f"hierarchy {name!r}: version is not 1 or 2")
    _check(_is_str_list(ctrls), f"hierarchy {name!r}: controllers is not a list of names")
    _check(isinstance(mount, str) and isinstance(root, str), f"hierarchy {name!r}: mount or root is not a string")
    _check(type(hid) is int and 0 <= hid < 2 ** 63, f"hierarchy {name!r}: hierarchy_id is not an integer")
    paths, children = get("paths"), get("children")
    _check(_is_path_list(paths), f"hierarchy {name!r}: paths is not a list of absolute cgroup paths")
    _check(len(set(paths)) == len(paths), f"hierarchy {name!r}: a cgroup path appears twice")
    n = len(paths)
    _check(_is_names_lists(children, n), f"hierarchy {name!r}: children is not a list of child names per cgroup")
    nthreads, nprocs = get("threads"), get("procs")
    _check(_is_count_list(nthreads, n) and _is_count_list(nprocs, n),
           f"hierarchy {name!r}: member counts do not match the cgroups")
    return Hierarchy(name, ver, tuple(ctrls), mount, root, hid), paths, children, nthreads, nprocs


def _document(data: bytes) -> tuple[dict[str, Any], array[int]]:
    """A whole form's header (its top fields checked) and its member integers (all positive)."""
    doc, body = _unpack(data, MAGIC, "snapshot")
    _check(isinstance(doc, dict), "header is not an object")
    _check(_time_ok(doc.get("taken_at")), "taken_at is not a number")
    _check(isinstance(doc.get("backend"), str), "backend is not a string")
    _check(isinstance(doc.get("hierarchies"), list), "hierarchies is not a list")
    if len(body) and min(body) <= 0:
        raise WireError("malformed snapshot: member lists are not positive, strictly ascending PIDs")
    return doc, body


def from_wire(data: bytes) -> Snapshot:
    """The snapshot in `data` (as `to_wire` wrote it). Raises WireError when `data` is not
    a ctrtui snapshot, has a version this code does not know, or is damaged."""
    doc, body = _document(data)
    pos = 0
    out = []
    for i, hd in enumerate(doc["hierarchies"]):
        h, paths, children, nthreads, nprocs = _hierarchy_of(i, hd)
        n = len(paths)
        lists = []
        try:
            for counts in (nthreads, nprocs):
                for k in counts:
                    _check(pos + k <= len(body), f"hierarchy {h.name!r}: member data ends early")
                    lists.append(array("i", accumulate(body[pos:pos + k])) if k > 1 else body[pos:pos + k])
                    pos += k
        except OverflowError:
            raise WireError(f"malformed snapshot: hierarchy {h.name!r} has a PID beyond 32 bits") from None
        containers = {
            p: Container(p, tuple([join_path(p, ch) for ch in kids]), lists[j], lists[n + j])
            for j, (p, kids) in enumerate(zip(paths, children))
        }
        out.append(HierarchySnapshot(h, MappingProxyType(containers)))
    _check(pos == len(body), f"{len(body) - pos} member values left over after the last hierarchy")
    return Snapshot(tuple(out), float(doc["taken_at"]), doc["backend"])


Placement = tuple[Hierarchy, list[str], "str | None"]
"""One hierarchy of a snapshot as `find_in_wire` gives it: its description, its cgroup
paths in the snapshot's order, and the first cgroup whose thread list holds the TID (None:
none does)."""

_PID_MAX = 2 ** 31 - 1


def find_in_wire(data: bytes, tid: int) -> list[Placement]:
    """Where `tid` is in the snapshot `data`, without building the snapshot: per hierarchy
    (in order) its description, its cgroup paths and the first cgroup listing `tid` among
    its threads, as `from_wire(data)[name].find(tid, threads=True)[0]` would say. The
    member lists are decoded in bulk (running sums over each hierarchy's whole thread
    section, no list per cgroup). Refuses, with the same WireError, everything `from_wire`
    refuses."""
    doc, body = _document(data)
    pos = 0
    out: list[Placement] = []
    for i, hd in enumerate(doc["hierarchies"]):
        h, paths, _, nthreads, nprocs = _hierarchy_of(i, hd)
        place = None
        for counts, threads in ((nthreads, True), (nprocs, False)):
            total = sum(counts)
            _check(pos + total <= len(body), f"hierarchy {h.name!r}: member data ends early")
            section = body[pos:pos + total]
            pos += total
            if not threads and sum(section) <= _PID_MAX:
                continue  # no list of the section can sum beyond 32 bits
            values = _decoded(section, counts)
            if values and max(values) > _PID_MAX:
                raise WireError(f"malformed snapshot: hierarchy {h.name!r} has a PID beyond 32 bits")
            if threads:
                try:
                    at = values.index(tid)
                except ValueError:
                    continue
                place = paths[bisect_right(list(accumulate(counts, initial=0)), at) - 1]
        out.append((h, paths, place))
    _check(pos == len(body), f"{len(body) - pos} member values left over after the last hierarchy")
    return out


def _decoded(section: array[int], counts: list[int]) -> list[int]:
    """The member lists of `section` (each delta-encoded, `counts` long), decoded and
    concatenated: running sums over the whole section minus each list's start."""
    sums = list(accumulate(section, initial=0))
    starts = map(sums.__getitem__, accumulate(counts[:-1], initial=0))
    return list(map(sub, islice(sums, 1, None), chain.from_iterable(map(repeat, starts, counts))))


# ---------------------------------------------------------------------------- deltas

DELTA_MAGIC = b"CTRD"


def to_wire_delta(base: Snapshot, new: Snapshot, level: int = 1) -> bytes:
    """The version-1 wire form of `new` as a change from `base` (a snapshot the reader
    holds): per hierarchy only the cgroups whose children or members differ, and the cgroup
    order only when cgroups came or went. `apply_wire_delta(base, data)` gives `new` back."""
    old_by = {hs.name: hs for hs in base.hierarchies}
    hiers = []
    body = array("i")
    for hs in new.hierarchies:
        h = hs.hierarchy
        entry: dict[str, object] = {"name": h.name, "version": h.version, "controllers": list(h.controllers),
                       "mount": h.mount, "root": h.root, "hierarchy_id": h.hierarchy_id}
        old = old_by.get(hs.name)
        oc = old.containers if old is not None else {}
        paths = list(hs.containers)
        entry["cgroups"] = len(paths)
        if old is None or list(oc) != paths:
            entry["paths"] = paths
        changed = []
        for i, (path, c) in enumerate(hs.containers.items()):
            o = oc.get(path)
            if o is not None and (o is c or (o.children == c.children and o.threads == c.threads
                                             and o.procs == c.procs)):
                continue
            changed.append((i, path, c))
        entry["changed"] = [i for i, _, _ in changed]
        children = []
        for _, path, c in changed:
            names = []
            for ch in c.children:
                name = ch.rsplit("/", 1)[-1]
                if not name or join_path(path, name) != ch:
                    raise WireError(f"cgroup {path!r} in {h.name}: child {ch!r} is not a direct child path")
                names.append(name)
            children.append(names)
        entry["children"] = children
        entry["threads"] = [len(c.threads) for _, _, c in changed]
        entry["procs"] = [len(c.procs) for _, _, c in changed]
        for _, _, c in changed:
            body.extend(_deltas(c.threads))
        for _, _, c in changed:
            body.extend(_deltas(c.procs))
        hiers.append(entry)
    header = _header({"base_taken_at": base.taken_at, "taken_at": new.taken_at, "backend": new.backend,
                      "hierarchies": hiers}, "snapshot delta")
    if _SWAP:
        body.byteswap()
    payload = len(header).to_bytes(4, "big") + header + body.tobytes()
    return DELTA_MAGIC + VERSION.to_bytes(2, "big") + zlib.compress(payload, level)


def apply_wire_delta(base: Snapshot, data: bytes) -> Snapshot:
    """The snapshot that `data` (from `to_wire_delta(base, new)`) describes, given the same
    `base`. Unchanged cgroups are `base`'s own Container objects. Raises WireError when the
    bytes are damaged, of another version, or made against another base."""
    doc, body = _unpack(data, DELTA_MAGIC, "snapshot delta")
    _check(isinstance(doc, dict), "header is not an object")
    if not _time_ok(doc.get("base_taken_at")):
        raise WireError("malformed snapshot delta: base_taken_at is not a number")
    if doc.get("base_taken_at") != base.taken_at:
        raise WireError(f"this delta was made against the snapshot taken at {doc.get('base_taken_at')!r}, "
                        f"not the one taken at {base.taken_at!r}: ask for a whole snapshot")
    taken_at, backend, hiers = doc.get("taken_at"), doc.get("backend"), doc.get("hierarchies")
    _check(_time_ok(taken_at), "taken_at is not a number")
    _check(isinstance(backend, str), "backend is not a string")
    _check(isinstance(hiers, list), "hierarchies is not a list")
    if len(body) and min(body) <= 0:
        raise WireError("malformed snapshot delta: member lists are not positive, strictly ascending PIDs")
    old_by = {hs.name: hs for hs in base.hierarchies}
    pos = 0
    out = []
    for i, hd in enumerate(hiers):
        _check(isinstance(hd, dict), f"hierarchy {i} is not an object")
        name, ver, ctrls = hd.get("name"), hd.get("version"), hd.get("controllers")
        mount, root, hid = hd.get("mount"), hd.get("root"), hd.get("hierarchy_id")
        _check(isinstance(name, str), f"hierarchy {i} has no name")
        _check(ver in (1, 2) and type(ver) is int, f"hierarchy {name!r}: version is not 1 or 2")
        _check(_is_str_list(ctrls), f"hierarchy {name!r}: controllers is not a list of names")
        _check(isinstance(mount, str) and isinstance(root, str), f"hierarchy {name!r}: mount or root is not a string")
        _check(type(hid) is int and 0 <= hid < 2 ** 63, f"hierarchy {name!r}: hierarchy_id is not an integer")
        old = old_by.get(name)
        oc = old.containers if old is not None else {}
        if "paths" not in hd and (old is None or hd.get("cgroups") != len(oc)):
            raise WireError(f"this delta refers to cgroups of {name} that the base snapshot does not have: "
                            "ask for a whole snapshot")
        paths = hd.get("paths", list(oc))
        _check(hd.get("cgroups") == len(paths) if isinstance(paths, list) else False,
               f"hierarchy {name!r}: the cgroup count does not match its paths")
        _check(_is_path_list(paths),
               f"hierarchy {name!r}: paths is not a list of absolute cgroup paths")
        _check(len(set(paths)) == len(paths), f"hierarchy {name!r}: a cgroup path appears twice")
        changed, children = hd.get("changed"), hd.get("children")
        _check(isinstance(changed, list) and all(type(j) is int and 0 <= j < len(paths) for j in changed)
               and len(set(changed)) == len(changed), f"hierarchy {name!r}: changed is not a list of cgroup indexes")
        n = len(changed)
        _check(_is_names_lists(children, n),
               f"hierarchy {name!r}: children is not a list of child names per changed cgroup")
        nthreads, nprocs = hd.get("threads"), hd.get("procs")
        _check(_is_count_list(nthreads, n) and _is_count_list(nprocs, n),
               f"hierarchy {name!r}: member counts do not match the changed cgroups")
        lists = []
        try:
            for counts in (nthreads, nprocs):
                for k in counts:
                    _check(pos + k <= len(body), f"hierarchy {name!r}: member data ends early")
                    lists.append(array("i", accumulate(body[pos:pos + k])) if k > 1 else body[pos:pos + k])
                    pos += k
        except OverflowError:
            raise WireError(f"malformed snapshot delta: hierarchy {name!r} has a PID beyond 32 bits") from None
        fresh = {paths[j]: (j, m) for m, j in enumerate(changed)}
        containers = {}
        for p in paths:
            if p in fresh:
                _, m = fresh[p]
                containers[p] = Container(p, tuple([join_path(p, ch) for ch in children[m]]), lists[m], lists[n + m])
            else:
                c = oc.get(p)
                if c is None:
                    raise WireError(f"this delta names cgroup {p!r} in {name} as unchanged, but the base "
                                    "snapshot does not have it: ask for a whole snapshot")
                containers[p] = c
        h = Hierarchy(name, ver, tuple(ctrls), mount, root, hid)
        out.append(HierarchySnapshot(h, MappingProxyType(containers)))
    _check(pos == len(body), f"{len(body) - pos} member values left over after the last hierarchy")
    return Snapshot(tuple(out), float(taken_at), backend)
