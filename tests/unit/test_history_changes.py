"""The recorder's changes between two snapshots of a hierarchy (`ctrtui.history.writer.changes`)
are what a per-cgroup set difference says, whether the backend shares Containers and arrays
from one snapshot to the next (the simulated kernel) or builds every one anew (a decoded
snapshot, the real kernel's read)."""

from __future__ import annotations

import random
from array import array

from ctrtui.history.writer import changes
from ctrtui.model import Container, Hierarchy, HierarchySnapshot
from ctrtui.model.wire import from_wire, to_wire
from ctrtui.sources.demo import generate_world
from ctrtui.sources.simulated import SimKernel


def expected(old, new):
    """The changes by their definition: per cgroup, the TIDs it gained (the thread is there
    now), those it lost and nobody gained (gone), and each process listed or unlisted."""
    oc = old.containers if old is not None else {}
    threads: dict[int, str | None] = {}
    gone = set()
    procs = []
    for p, c in new.containers.items():
        o = oc.get(p)
        ot, op = (set(o.threads), set(o.procs)) if o is not None else (set(), set())
        for tid in set(c.threads) - ot:
            threads[tid] = p
        gone |= ot - set(c.threads)
        procs += [(pid, p, True) for pid in set(c.procs) - op]
        procs += [(pid, p, False) for pid in op - set(c.procs)]
    for p, o in oc.items():
        if p not in new.containers:
            gone |= set(o.threads)
    threads.update(dict.fromkeys(gone - threads.keys()))
    return threads, sorted(procs)


def churned_world(seed: int) -> tuple[SimKernel, list]:
    """A generated world, with threads (a process of several tasks) and a v1 hierarchy, and
    the snapshots taken while tasks move, come and go and cgroups are made and removed."""
    k = generate_world(60, 600, seed=seed)
    rng = random.Random(seed)
    snaps = [k.snapshot()]
    for step in range(6):
        paths = [p for p in snaps[-1]["unified"].containers if p in snaps[-1]["freezer"].containers]
        tids = [t for c in snaps[-1]["unified"].containers.values() for t in c.threads if t != 1]
        for tid in rng.sample(tids, 30):
            for h in ("freezer", "unified"):
                if tid in k.tasks:
                    k.place(tid, h, rng.choice(paths))
        leader = k.spawn(f"p{step}", threads=3, cgroups={"unified": paths[3], "freezer": paths[3]})
        k.place(k.add_thread(leader), "freezer", paths[4])  # a v1 process listed in two cgroups
        k.exit(rng.choice(tids), reap=True)
        k.mkdir("unified", f"/made{step}")
        empty = [p for p, c in snaps[-1]["freezer"].containers.items()
                 if p.count("/") == 2 and not c.threads and not c.children]
        if empty:
            k.rmdir("freezer", empty[0])
        snaps.append(k.snapshot())
    return k, snaps


def test_changes_between_shared_and_rebuilt_snapshots_are_the_set_differences():
    for seed in (1, 2, 3):
        _, snaps = churned_world(seed)
        decoded = [from_wire(to_wire(s)) for s in snaps]  # nothing shared: every Container new
        for series in (snaps, decoded):
            for a, b in zip(series, series[1:], strict=False):
                for hs in b.hierarchies:
                    ev = changes(a.get(hs.name), hs)
                    assert (ev.threads, ev.procs) == expected(a.get(hs.name), hs)
            first = series[0]["unified"]
            ev = changes(None, first)
            assert (ev.threads, ev.procs) == expected(None, first)


def test_a_removed_cgroups_tasks_are_gone_unless_seen_elsewhere():
    """A cgroup gone between two reads took its tasks' places with it (a real read can race a
    rmdir after the tasks left): those not listed anywhere now are gone from the hierarchy."""
    h = Hierarchy("freezer", 1, ("freezer",), "/sys/fs/cgroup/freezer", "/", 3)
    a = array("i", [5, 6])
    old = HierarchySnapshot.build(h, [Container("/", ("/x",), array("i", [1]), array("i", [1])),
                                      Container("/x", (), a, a)])
    new = HierarchySnapshot.build(h, [Container("/", (), array("i", [1, 6]), array("i", [1, 6]))])
    ev = changes(old, new)
    assert (ev.threads, ev.procs) == expected(old, new) == ({6: "/", 5: None}, [(6, "/", True)])
