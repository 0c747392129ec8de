"""The demo world has every marker the UI and the engine show off; the generator builds
worlds of the asked size, fast and deterministically."""

from __future__ import annotations

import errno

import pytest

from ctrtui.sources import open_backend
from ctrtui.sources.demo import demo_world, generate_world


@pytest.fixture(scope="module")
def demo():
    return demo_world()


def _err(k, hier, path, pid, file="cgroup.procs"):
    try:
        k.write_pid(hier, path, file, str(pid).encode())
        return None
    except OSError as e:
        return e.errno


def test_open_backend_demo():
    k = open_backend("demo")
    assert k.kind == "demo" and k.snapshot().backend == "demo"


def test_hierarchies_like_this_machine(demo):
    hs = demo.hierarchies()
    assert [h.name for h in hs] == ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                    "blkio", "pids", "name=systemd", "unified"]
    assert [h.hierarchy_id for h in hs] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert hs[-1].version == 2


def test_size_and_users(demo):
    live = [t for t in demo.tasks.values() if not t.dead]
    assert 200 <= len(live) <= 600
    users = {demo.task_details([t.pid])[t.pid].user for t in live}
    assert {"root", "alice", "bob", "www-data", "postgres"} <= users
    assert any(t.tgid == t.pid and len(t.group) > 5 for t in live)   # multi-threaded processes


def test_systemd_layout(demo):
    snap = demo.snapshot()
    for name in ("name=systemd", "unified", "cpu", "memory"):
        h = snap[name]
        assert "/init.scope" in h and 1 in h["/init.scope"].procs
        for unit in ("ssh.service", "cron.service", "nginx.service", "postgresql@15-main.service",
                     "docker.service", "containerd.service"):
            assert f"/system.slice/{unit}" in h
            assert len(h[f"/system.slice/{unit}"].procs) >= 1
        assert "/user.slice/user-1000.slice/session-3.scope" in h
        assert any(p.startswith("/system.slice/docker-") and p.endswith(".scope") for p in h.containers)
        assert any("/libpod-" in p for p in h.containers)
        assert any("cri-containerd-" in p and "kubepods-burstable-pod" in p for p in h.containers)
    assert len(snap["unified"]["/system.slice/nginx.service"].procs) == 3


def test_marker_threaded_subtree(demo):
    base = "/system.slice/mediaserver.service"
    types = {p: demo.cgroup_state("unified", base + p).cgroup_type for p in ("", "/workers", "/io", "/sidecar")}
    assert types == {"": "domain threaded", "/workers": "threaded", "/io": "threaded",
                     "/sidecar": "domain invalid"}
    u = demo.snapshot(["unified"])["unified"]
    assert len(u[base + "/workers"].threads) >= 2 and len(u[base + "/io"].threads) >= 2
    assert _err(demo, "unified", base + "/sidecar", 1) == errno.EOPNOTSUPP


def test_marker_ebusy(demo):
    assert "hugetlb" in demo.cgroup_state("unified", "/kubepods.slice").subtree_control
    sleeper = next(t.pid for t in demo.tasks.values() if t.comm == "sleep")
    assert _err(demo, "unified", "/kubepods.slice", sleeper) == errno.EBUSY


def test_marker_empty_cpuset(demo):
    s = demo.cgroup_state("cpuset", "/isolated")
    assert s.cpuset_cpus == "" and s.cpuset_mems == ""
    sleeper = next(t.pid for t in demo.tasks.values() if t.comm == "sleep")
    assert _err(demo, "cpuset", "/isolated", sleeper) == errno.ENOSPC


def test_marker_frozen(demo):
    frozen = [p for p in demo.snapshot(["freezer"])["freezer"].containers
              if demo.cgroup_state("freezer", p).freezer_state == "FROZEN"]
    assert len(frozen) == 1 and frozen[0].startswith("/system.slice/docker-")
    redis = next(t for t in demo.tasks.values() if t.comm == "redis-server")
    assert demo.task_state(redis.pid).state == "D"


def test_marker_kthreads(demo):
    kd = demo.task_state(2)
    assert kd.comm == "kthreadd" and kd.kthread
    nsa = [t for t in demo.tasks.values() if t.kthread and demo.task_state(t.pid).no_setaffinity]
    plain = [t for t in demo.tasks.values() if t.kthread and not demo.task_state(t.pid).no_setaffinity]
    assert any(t.comm.startswith("ksoftirqd") for t in nsa)
    assert any(t.comm.startswith("migration") for t in nsa)
    assert any(t.comm.startswith("kworker") for t in nsa)
    assert len(plain) >= 3
    assert _err(demo, "freezer", "/", 2, "tasks") == errno.EINVAL


def test_marker_zombie(demo):
    z = [t for t in demo.tasks.values() if t.dead]
    assert len(z) == 1 and demo.task_state(z[0].pid).state == "Z"
    assert demo.task_cgroups(z[0].pid)["unified"] == "/user.slice/user-1001.slice/session-7.scope"


def test_writer_is_root_ctrtui(demo):
    assert demo.writer().euid == 0
    assert demo.task_state(demo.writer_pid).comm == "ctrtui"


def test_demo_deterministic_and_seeded():
    a, b, c = demo_world(0), demo_world(0), demo_world(1)
    sa, sb, sc = a.snapshot(), b.snapshot(), c.snapshot()
    assert [list(h.containers) for h in sa.hierarchies] == [list(h.containers) for h in sb.hierarchies]
    assert a.task_details(a.tasks) == b.task_details(b.tasks)
    assert [list(h.containers) for h in sa.hierarchies] != [list(h.containers) for h in sc.hierarchies]


@pytest.mark.parametrize("cgroups,tasks", [(1, 1), (10, 50), (500, 3000)])
def test_generator_sizes(cgroups, tasks):
    k = generate_world(cgroups, tasks, seed=3)
    snap = k.snapshot()
    assert snap.names() == ["freezer", "unified"]
    for h in snap.hierarchies:
        assert len(h.containers) == cgroups + 1
        assert h.total(threads=True) == tasks
    assert len(k.tasks) == tasks


def test_generator_deterministic():
    a, b = generate_world(200, 2000, seed=7), generate_world(200, 2000, seed=7)
    c = generate_world(200, 2000, seed=8)
    sa, sb, sc = a.snapshot(), b.snapshot(), c.snapshot()
    assert [(p, list(x.threads)) for p, x in sa["freezer"].containers.items()] == \
           [(p, list(x.threads)) for p, x in sb["freezer"].containers.items()]
    assert [(p, list(x.threads)) for p, x in sa["freezer"].containers.items()] != \
           [(p, list(x.threads)) for p, x in sc["freezer"].containers.items()]


def test_generator_hierarchies_and_spread_threads():
    k = generate_world(100, 5000, seed=1, hierarchies=("freezer", "pids", "unified"))
    snap = k.snapshot()
    assert snap.names() == ["freezer", "pids", "unified"]
    fz = snap["freezer"]
    listed = sum(len(c.procs) for c in fz.containers.values())
    assert listed > len({p for c in fz.containers.values() for p in c.procs})  # a TGID in 2 places
    un = snap["unified"]
    assert sum(len(c.procs) for c in un.containers.values()) == len(
        {p for c in un.containers.values() for p in c.procs})                 # never in v2
    multi = [t for t in k.tasks.values() if t.tgid == t.pid and len(t.group) > 1]
    assert multi


def test_generator_10k_100k():
    """The size the benchmarks use (their figures: `generate_world_s`, `sim_snapshot_ms`)."""
    k = generate_world(10_000, 100_000)
    snap = k.snapshot()
    assert len(snap["freezer"].containers) == 10_001
    assert snap["unified"].total() == 100_000
