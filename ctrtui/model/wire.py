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
import sys
import zlib
from array import array
from itertools import accumulate
from types import MappingProxyType

from ctrtui.model.snapshot import Container, Hierarchy, HierarchySnapshot, Snapshot, join_path

__all__ = ["MAGIC", "VERSION", "WireError", "from_wire", "to_wire"]

MAGIC = b"CTRW"
VERSION = 1
_HEAD = len(MAGIC) + 2
_SWAP = sys.byteorder != "little"


class WireError(ValueError):
    """The bytes are not a snapshot this version of ctrtui can read (the message says why)."""


def _deltas(pids: array) -> array:
    """A sorted array as its first value and then the gaps between neighbours."""
    if len(pids) < 2:
        return pids
    out = array("i", pids)
    out[1:] = array("i", map(int.__sub__, pids[1:], pids[:-1]))
    return out


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
    try:
        header = json.dumps({"taken_at": snapshot.taken_at, "backend": snapshot.backend,
                             "hierarchies": hiers}, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False).encode()
    except ValueError as e:  # a NaN or infinite taken_at has no JSON form
        raise WireError(f"snapshot cannot be written: {e}") from None
    if _SWAP:
        body.byteswap()
    payload = len(header).to_bytes(4, "big") + header + body.tobytes()
    return MAGIC + VERSION.to_bytes(2, "big") + zlib.compress(payload, level)


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise WireError(f"malformed snapshot: {what}")


def _is_str_list(x: object) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


def _is_count_list(x: object, n: int) -> bool:
    return (isinstance(x, list) and len(x) == n
            and all(type(v) is int and v >= 0 for v in x))


def from_wire(data: bytes) -> Snapshot:
    """The snapshot in `data` (as `to_wire` wrote it). Raises WireError when `data` is not
    a ctrtui snapshot, has a version this code does not know, or is damaged."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireError(f"a wire snapshot is bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < _HEAD or data[:len(MAGIC)] != MAGIC:
        raise WireError("not a ctrtui snapshot (it does not start with the bytes CTRW)")
    version = int.from_bytes(data[len(MAGIC):_HEAD], "big")
    if version != VERSION:
        raise WireError(f"snapshot wire version {version} is not supported "
                        f"(this ctrtui reads version {VERSION}); upgrade ctrtui on this side")
    try:
        payload = zlib.decompress(data[_HEAD:])
    except zlib.error as e:
        raise WireError(f"damaged snapshot: the compressed body does not unpack ({e})") from None
    _check(len(payload) >= 4, "no header length")
    hlen = int.from_bytes(payload[:4], "big")
    _check(4 + hlen <= len(payload), "header longer than the data")
    try:
        doc = json.loads(payload[4:4 + hlen].decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise WireError(f"malformed snapshot: the header is not JSON ({e})") from None
    raw = payload[4 + hlen:]
    _check(len(raw) % 4 == 0, "member data is not a whole number of 32-bit integers")
    body = array("i")
    body.frombytes(raw)
    if _SWAP:
        body.byteswap()
    _check(isinstance(doc, dict), "header is not an object")
    taken_at, backend, hiers = doc.get("taken_at"), doc.get("backend"), doc.get("hierarchies")
    _check(type(taken_at) in (int, float), "taken_at is not a number")
    _check(isinstance(backend, str), "backend is not a string")
    _check(isinstance(hiers, list), "hierarchies is not a list")
    if len(body) and min(body) <= 0:
        raise WireError("malformed snapshot: member lists are not positive, strictly ascending PIDs")
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
        _check(type(hid) is int, f"hierarchy {name!r}: hierarchy_id is not an integer")
        paths, children = hd.get("paths"), hd.get("children")
        _check(_is_str_list(paths) and all(p.startswith("/") for p in paths),
               f"hierarchy {name!r}: paths is not a list of absolute cgroup paths")
        _check(len(set(paths)) == len(paths), f"hierarchy {name!r}: a cgroup path appears twice")
        n = len(paths)
        _check(isinstance(children, list) and len(children) == n
               and all(_is_str_list(c) and all(s and "/" not in s for s in c) for c in children),
               f"hierarchy {name!r}: children is not a list of child names per cgroup")
        nthreads, nprocs = hd.get("threads"), hd.get("procs")
        _check(_is_count_list(nthreads, n) and _is_count_list(nprocs, n),
               f"hierarchy {name!r}: member counts do not match the cgroups")
        lists = []
        try:
            for counts in (nthreads, nprocs):
                for k in counts:
                    _check(pos + k <= len(body), f"hierarchy {name!r}: member data ends early")
                    lists.append(array("i", accumulate(body[pos:pos + k])) if k > 1 else body[pos:pos + k])
                    pos += k
        except OverflowError:
            raise WireError(f"malformed snapshot: hierarchy {name!r} has a PID beyond 32 bits") from None
        containers = {
            p: Container(p, tuple([join_path(p, ch) for ch in kids]), lists[j], lists[n + j])
            for j, (p, kids) in enumerate(zip(paths, children))
        }
        h = Hierarchy(name, ver, tuple(ctrls), mount, root, hid)
        out.append(HierarchySnapshot(h, MappingProxyType(containers)))
    _check(pos == len(body), f"{len(body) - pos} member values left over after the last hierarchy")
    return Snapshot(tuple(out), float(taken_at), backend)
