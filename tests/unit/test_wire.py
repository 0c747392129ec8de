"""The snapshot travels: `ctrtui.model.wire` (docs/wire.md) and pickling give back an equal
snapshot, members included, for hypothesis-built snapshots and generated worlds; damaged,
foreign or newer-version bytes are refused with a WireError that says why."""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctrtui.model import Container, Hierarchy, HierarchySnapshot, Snapshot, diff, join_path
from ctrtui.model.wire import MAGIC, VERSION, WireError, find_in_wire, from_wire, to_wire
from ctrtui.sources.demo import demo_world, generate_world


def facts(s: Snapshot):
    """Everything a snapshot holds (Container equality ignores members, so compare these)."""
    return (s.taken_at, s.backend, [
        (h.hierarchy.to_dict(), [(p, c.children, c.threads.tolist(), c.procs.tolist())
                                 for p, c in h.containers.items()])
        for h in s.hierarchies])


def same(a: Snapshot, b: Snapshot) -> None:
    assert facts(a) == facts(b)
    for h in b.hierarchies:
        for c in h.containers.values():
            assert isinstance(c.threads, array) and c.threads.typecode == "i"
            assert isinstance(c.procs, array) and c.procs.typecode == "i"


# ------------------------------------------------------------------ hypothesis-built snapshots

NAMES = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=12)
PIDS = st.sets(st.integers(1, 2**31 - 1), max_size=12).map(lambda s: array("i", sorted(s)))


@st.composite
def hierarchy_snapshots(draw, index: int = 0) -> HierarchySnapshot:
    version = draw(st.sampled_from([1, 2]))
    h = Hierarchy(draw(NAMES), version, tuple(draw(st.lists(NAMES, max_size=3))),
                  "/sys/fs/cgroup/" + draw(NAMES), draw(st.sampled_from(["/", "/sub"])),
                  0 if version == 2 else draw(st.integers(0, 2**31)))
    root = draw(st.sampled_from(["/", "/a/b"]))
    paths = [root]
    kids: dict[str, list[str]] = {root: []}
    for _ in range(draw(st.integers(0, 12))):
        parent = draw(st.sampled_from(paths))
        child = join_path(parent, draw(NAMES))
        if child not in kids:
            kids[parent].append(child)
            kids[child] = []
            paths.append(child)
    missing = draw(st.booleans())  # a child named by its parent but not in the snapshot
    containers = []
    for p in paths:
        children = tuple(sorted(kids[p]))
        if missing and p == root:
            children += (join_path(p, "gone"),) if join_path(p, "gone") not in kids else ()
        containers.append(Container(p, children, draw(PIDS), draw(PIDS)))
    return HierarchySnapshot.build(h, containers)


SNAPSHOTS = st.builds(
    lambda hs, t, b: Snapshot(tuple(hs), t, b),
    st.lists(hierarchy_snapshots(), max_size=4),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)


def placements(snap: Snapshot, tid: int):
    """What `find_in_wire` must say of `tid`, from the snapshot itself."""
    return [(hs.hierarchy, list(hs.containers), (hs.find(tid, threads=True) or [None])[0])
            for hs in snap.hierarchies]


@settings(deadline=None)  # as above
@given(SNAPSHOTS, st.integers(1, 2**31 - 1))
def test_find_in_wire_says_what_the_decoded_snapshot_says(snap, other):
    """The partial decoder `where` reads a full snapshot with: each hierarchy's paths and the
    first cgroup listing the TID, for every TID of the snapshot and one that may be in none."""
    data = to_wire(snap)
    tids = {t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads}
    for tid in sorted(tids)[:20] + [other]:
        assert find_in_wire(data, tid) == placements(snap, tid)


def test_find_in_wire_in_a_generated_world():
    snap = generate_world(300, 3000, seed=5).snapshot()
    data = to_wire(snap)
    tids = sorted({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
    for tid in tids[::97] + [tids[-1], 4194304]:
        assert find_in_wire(data, tid) == placements(snap, tid)


DECODERS = pytest.mark.parametrize("decode", [from_wire, lambda data: find_in_wire(data, 5)],
                                   ids=["from_wire", "find_in_wire"])
"""Both readers of the whole form refuse the same bytes."""


@settings(deadline=None)  # as above
@given(SNAPSHOTS)
def test_wire_round_trip_of_built_snapshots(snap):
    data = to_wire(snap)
    assert data[:4] == MAGIC and int.from_bytes(data[4:6], "big") == VERSION
    back = from_wire(data)
    same(snap, back)
    assert back == snap
    assert from_wire(bytearray(data)) == snap and from_wire(memoryview(data)) == snap


@given(SNAPSHOTS)
def test_pickle_round_trip_of_built_snapshots(snap):
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        same(snap, pickle.loads(pickle.dumps(snap, protocol=proto)))


# ------------------------------------------------------------------ generated worlds


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 60), st.integers(0, 300), st.integers(0, 2**16), st.floats(0, 1))
def test_wire_and_pickle_round_trip_of_generated_worlds(cgroups, tasks, seed, churn):
    k = generate_world(cgroups, tasks, seed=seed)
    before = k.snapshot()
    if tasks:
        k.churn(churn, seed=seed)
    snap = k.snapshot()
    same(snap, from_wire(to_wire(snap)))
    same(snap, pickle.loads(pickle.dumps(snap)))
    d = diff(before, snap)
    assert pickle.loads(pickle.dumps(d)) == d


def test_demo_world_pickles_and_travels():
    snap = demo_world().snapshot()
    same(snap, pickle.loads(pickle.dumps(snap)))
    same(snap, from_wire(to_wire(snap, level=9)))
    assert len(to_wire(snap, level=9)) <= len(to_wire(snap, level=1))


def test_names_that_are_not_utf8_travel_whole_and_as_deltas():
    from ctrtui.model.wire import apply_wire_delta, to_wire_delta
    from ctrtui.sources.hostile import hostile_world

    world = hostile_world()
    snap = world.snapshot()
    assert any("\udcff" in p for hs in snap.hierarchies for p in hs.containers)  # byte 0xff, surrogateescape
    data = to_wire(snap)
    same(snap, from_wire(data))
    header = zlib.decompress(data[6:])[4:]
    assert b"\\udcff" in header  # escaped in the (then ASCII-only) header
    world.spawn("late")
    new = world.snapshot()
    same(new, apply_wire_delta(snap, to_wire_delta(snap, new)))


def test_encoding_refuses_a_taken_at_without_a_json_form():
    with pytest.raises(WireError, match="cannot be written"):
        to_wire(Snapshot((), float("nan")))


def test_encoding_refuses_a_child_that_is_not_a_direct_child():
    h = Hierarchy("freezer", 1, ("freezer",), "/sys/fs/cgroup/freezer")
    bad = Snapshot((HierarchySnapshot.build(h, [Container("/", ("/a/b",))]),), 0.0)
    with pytest.raises(WireError, match="not a direct child"):
        to_wire(bad)


# ------------------------------------------------------------------ refusals


def _doc(snap: Snapshot) -> tuple[dict, bytes]:
    payload = zlib.decompress(to_wire(snap)[6:])
    n = int.from_bytes(payload[:4], "big")
    return json.loads(payload[4:4 + n]), payload[4 + n:]


def _pack(doc: object, body: bytes = b"", version: int = VERSION) -> bytes:
    header = json.dumps(doc).encode()
    return MAGIC + version.to_bytes(2, "big") + zlib.compress(len(header).to_bytes(4, "big") + header + body)


SMALL = Snapshot((HierarchySnapshot.build(
    Hierarchy("freezer", 1, ("freezer",), "/sys/fs/cgroup/freezer", "/", 7),
    [Container("/", ("/a",), array("i", [1, 5, 9]), array("i", [1, 5])),
     Container("/a", (), array("i", [7]), array("i", [7]))]),), 12.5, "demo")


def test_small_snapshot_layout_is_as_documented():
    doc, body = _doc(SMALL)
    assert doc == {"taken_at": 12.5, "backend": "demo", "hierarchies": [{
        "name": "freezer", "version": 1, "controllers": ["freezer"], "mount": "/sys/fs/cgroup/freezer",
        "root": "/", "hierarchy_id": 7, "paths": ["/", "/a"], "children": [["a"], []],
        "threads": [3, 1], "procs": [2, 1]}]}
    payload = zlib.decompress(to_wire(SMALL)[6:])
    header = payload[4:4 + int.from_bytes(payload[:4], "big")]
    assert header == json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()  # compact
    # threads of every cgroup, then procs of every cgroup; each list delta-encoded
    assert list(struct.unpack("<7i", body)) == [1, 4, 4, 7, 1, 4, 7]


@pytest.mark.parametrize("data,message", [
    (b"", "does not start with the bytes CTRW"),
    (b"PK\x03\x04 not ours", "does not start with the bytes CTRW"),
    (MAGIC + b"\x00\x02" + b"whatever", "version 2 is not supported"),
    (MAGIC + b"\x00\x00", "version 0 is not supported"),
    (MAGIC + b"\x00\x01" + b"not zlib", "compressed body does not unpack"),
    (MAGIC + b"\x00\x01" + zlib.compress(b"\x00\x00"), "no header length"),
    (MAGIC + b"\x00\x01" + zlib.compress(b"\x00\x00\x00\x09{}"), "header longer than the data"),
    (MAGIC + b"\x00\x01" + zlib.compress(b"\x00\x00\x00\x02{x"), "header is not JSON"),
    (_pack([]), "header is not an object"),
    (_pack({"taken_at": "now", "backend": "x", "hierarchies": []}), "taken_at is not a number"),
    (_pack({"taken_at": 1, "backend": None, "hierarchies": []}), "backend is not a string"),
    (_pack({"taken_at": 1, "backend": "x", "hierarchies": {}}), "hierarchies is not a list"),
    (_pack({"taken_at": 1, "backend": "x", "hierarchies": []}, b"\x01\x00\x00"), "whole number"),
    (_pack({"taken_at": 1, "backend": "x", "hierarchies": []}, b"\x01\x00\x00\x00"),
     "^malformed snapshot: 1 member values left over"),
    (_pack({"taken_at": 1, "backend": "x", "hierarchies": [3]}), "hierarchy 0 is not an object"),
])
@DECODERS
def test_bad_input_is_refused_with_a_reason(data, message, decode):
    with pytest.raises(WireError, match=message):
        decode(data)


def test_not_bytes_is_refused():
    with pytest.raises(WireError, match="bytes, not str"):
        from_wire("CTRW")  # type: ignore[arg-type]


@pytest.mark.parametrize("change,message", [
    (lambda h: h.update(name=3), "has no name"),
    (lambda h: h.update(version=3), "version is not 1 or 2"),
    (lambda h: h.update(version=True), "version is not 1 or 2"),
    (lambda h: h.update(controllers="freezer"), "controllers is not a list"),
    (lambda h: h.update(mount=None), "mount or root"),
    (lambda h: h.update(hierarchy_id=1.5), "hierarchy_id"),
    (lambda h: h.update(paths=["/", "a"]), "absolute cgroup paths"),
    (lambda h: h.update(paths=["/", "/"]), "appears twice"),
    (lambda h: h.update(children=[["a"]]), "child names"),
    (lambda h: h.update(children=[["a/b"], []]), "child names"),
    (lambda h: h.update(children=[[""], []]), "child names"),
    (lambda h: h.update(threads=[3]), "member counts"),
    (lambda h: h.update(procs=[2, -1]), "member counts"),
    (lambda h: h.update(threads=[3, 2]), "ends early"),
    (lambda h: h.update(threads=[2, 1]), "left over"),
    (lambda h: h.update(children=[["a", 3], []]), "child names"),
    (lambda h: h.update(children=[{"a": 1}, []]), "child names"),
    (lambda h: h.update(paths=["/", 3]), "absolute cgroup paths"),
    (lambda h: h.update(procs=[2, True]), "member counts"),
    (lambda h: h.update(procs=[2, 1.0]), "member counts"),
])
@DECODERS
def test_damaged_header_is_refused_with_a_reason(change, message, decode):
    doc, body = _doc(SMALL)
    change(doc["hierarchies"][0])
    with pytest.raises(WireError, match=message):
        decode(_pack(doc, body))


@pytest.mark.parametrize("values,message", [
    ([1, 4, 0, 7, 1, 4, 7], "strictly ascending"),       # a repeated PID (delta 0)
    ([1, 4, -2, 7, 1, 4, 7], "strictly ascending"),      # a descending PID
    ([0, 4, 4, 7, 1, 4, 7], "strictly ascending"),       # PID 0
    ([2**31 - 1, 4, 4, 7, 1, 4, 7], "beyond 32 bits"),   # the sum overflows
    ([1, 4, 4, 7, 2**31 - 1, 4, 7], "beyond 32 bits"),   # in a process list
    ([1, 4, 4, 2**31 - 1, 1, 4, 7], None),               # a list of one: no sum
])
@DECODERS
def test_bad_member_data_is_refused(values, message, decode):
    doc, _ = _doc(SMALL)
    if message is None:
        decode(_pack(doc, struct.pack("<7i", *values)))
    else:
        with pytest.raises(WireError, match=message):
            decode(_pack(doc, struct.pack("<7i", *values)))
    assert from_wire(_pack(doc, struct.pack("<7i", 1, 4, 4, 7, 1, 4, 7))) == SMALL
    assert find_in_wire(_pack(doc, struct.pack("<7i", 1, 4, 4, 7, 1, 4, 7)), 9) == placements(SMALL, 9)


# ------------------------------------------------------------------ deltas (remote refresh)

from ctrtui.model.wire import DELTA_MAGIC, apply_wire_delta, to_wire_delta  # noqa: E402


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 40), st.integers(1, 200), st.integers(0, 2**16), st.floats(0, 1), st.booleans())
def test_delta_round_trip_of_a_changing_world(cgroups, tasks, seed, churn, reshape):
    k = generate_world(cgroups, tasks, seed=seed)
    base = k.snapshot()
    k.churn(churn, seed=seed)
    if reshape:  # cgroups come and go too
        k.mkdir("freezer", f"/new-{seed}")
        k.mkdir("unified", f"/new-{seed}")
    new = k.snapshot()
    data = to_wire_delta(base, new)
    assert data[:4] == DELTA_MAGIC
    back = apply_wire_delta(from_wire(to_wire(base)), data)  # the reader's copy of the base
    same(new, back)


@settings(deadline=None)  # timing never fails a test: a loaded machine took over hypothesis's 200 ms
@given(SNAPSHOTS, SNAPSHOTS)
def test_delta_between_any_two_built_snapshots(base, new):
    same(new, apply_wire_delta(base, to_wire_delta(base, new)))


def test_a_delta_carries_only_what_changed_and_reuses_the_base():
    k = generate_world(400, 4000, seed=3)
    base = k.snapshot()
    k.churn(0.01, seed=3)
    new = k.snapshot()
    delta = to_wire_delta(base, new)
    assert len(delta) * 5 < len(to_wire(new))
    back = apply_wire_delta(base, delta)
    same(new, back)
    old_fz, new_fz = base["freezer"].containers, back["freezer"].containers
    reused = [p for p in new_fz if new_fz[p] is old_fz.get(p)]
    assert len(reused) > len(new_fz) * 0.8  # unchanged cgroups are the base's own objects
    assert to_wire_delta(base, base) and apply_wire_delta(base, to_wire_delta(base, base)) == base


def test_a_delta_against_another_base_is_refused():
    k = generate_world(20, 100, seed=4)
    a = k.snapshot()
    k.tick(1.0)
    k.mkdir("freezer", "/added")
    c = k.snapshot()  # one cgroup more, nothing else changed
    k.churn(0.5, seed=4)
    b = k.snapshot()
    other = Snapshot(a.hierarchies, a.taken_at + 1, a.backend)
    with pytest.raises(WireError, match="ask for a whole snapshot"):
        apply_wire_delta(other, to_wire_delta(a, b))
    # the same taken_at but without a cgroup the delta says is unchanged
    gutted = Snapshot(tuple(HierarchySnapshot(h.hierarchy, {}) for h in a.hierarchies), a.taken_at, a.backend)
    with pytest.raises(WireError, match="does not have it"):
        apply_wire_delta(gutted, to_wire_delta(a, c))         # the order is sent: a cgroup came
    with pytest.raises(WireError, match="base snapshot does not have"):
        apply_wire_delta(gutted, to_wire_delta(a, b))         # the order is the base's
    with pytest.raises(WireError, match="base snapshot does not have"):
        apply_wire_delta(Snapshot((), a.taken_at), to_wire_delta(a, b))
    with pytest.raises(WireError, match="not a ctrtui snapshot delta"):
        apply_wire_delta(a, to_wire(b))
    with pytest.raises(WireError, match="delta wire version 7"):
        apply_wire_delta(a, DELTA_MAGIC + b"\x00\x07" + to_wire_delta(a, b)[6:])
    with pytest.raises(WireError, match="does not unpack"):
        apply_wire_delta(a, DELTA_MAGIC + b"\x00\x01garbage")


# ------------------------------------------------------------------ hostile senders (issue 16)


def _bomb(doc: dict, zeros: int) -> bytes:
    """`doc`'s header, then `zeros` bytes more than it announces, compressed: about 1 KB per MB."""
    header = json.dumps(doc).encode()
    z = zlib.compressobj(9)
    parts = [z.compress(len(header).to_bytes(4, "big") + header)]
    chunk = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(z.compress(chunk))
    parts.append(z.flush())
    return MAGIC + VERSION.to_bytes(2, "big") + b"".join(parts)


def test_a_zlib_bomb_is_refused_before_it_unpacks():
    data = _bomb({"taken_at": 1, "backend": "x", "hierarchies": []}, 1 << 30)  # 1 GiB of zeros
    assert len(data) < 2 * 1024 * 1024
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(WireError, match="more member data than its header announces"):
            from_wire(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # what was unpacked: the header and a few bytes, not the GiB


def test_a_header_length_is_checked_before_anything_is_unpacked():
    with pytest.raises(WireError, match="header would be 2147483648 bytes"):
        from_wire(MAGIC + VERSION.to_bytes(2, "big") + zlib.compress((1 << 31).to_bytes(4, "big") + b"{}"))


@pytest.mark.parametrize("doc,message", [
    ({"taken_at": 10 ** 400, "backend": "x", "hierarchies": []}, "taken_at is not a number"),
    ({"taken_at": 1e400, "backend": "x", "hierarchies": []}, "taken_at is not a number"),
    ({"taken_at": 1, "backend": "x", "hierarchies": [{"threads": [1 << 23], "procs": []}]}, "more than a host"),
    ({"taken_at": 1, "backend": "x", "hierarchies": [{"threads": [1 << 22], "procs": [1 << 22]}] * 5},
     "members in all"),
], ids=["huge-int-time", "infinite-time", "members-of-a-hierarchy", "members-in-all"])
def test_numbers_beyond_what_a_host_can_have_are_refused(doc, message):
    header = json.dumps(doc).replace("Infinity", "1e400").encode()
    with pytest.raises(WireError, match=message):
        from_wire(MAGIC + VERSION.to_bytes(2, "big") + zlib.compress(len(header).to_bytes(4, "big") + header))


def test_a_deep_or_crowded_header_is_a_wire_error():
    for header in (b"[" * 100000 + b"]" * 100000, b"[" + b"[]," * 600000 + b"[]]"):
        with pytest.raises(WireError, match="not JSON|lists and objects"):
            from_wire(MAGIC + VERSION.to_bytes(2, "big") + zlib.compress(len(header).to_bytes(4, "big") + header))


def test_bytes_after_the_stream_and_a_truncated_stream_are_refused():
    good = to_wire(SMALL)
    with pytest.raises(WireError, match="follow the compressed body"):
        from_wire(good + b"junk")
    with pytest.raises(WireError, match="ends early|does not unpack"):
        from_wire(good[:-3])
