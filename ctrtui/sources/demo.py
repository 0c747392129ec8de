"""The demo world (`ctrtui --demo`) and a generator of large simulated worlds.

`demo_world(seed)` is a hybrid machine like the one ctrtui is developed on: nine v1
hierarchies (`cpu`, `cpuacct`, `cpuset`, `memory`, `devices`, `freezer`, `blkio`, `pids`,
`name=systemd`) and v2 `unified`, laid out by systemd (init.scope, system.slice services,
user.slice sessions), docker, podman and a kubelet, with kernel threads, several users,
and one example of every situation the attach engine has to refuse or explain:

- `unified:/system.slice/mediaserver.service` is `domain threaded` with threaded children
  `workers` and `io` (its threads spread over them) and a `domain invalid` child `sidecar`;
- `unified:/kubepods.slice` has `hugetlb` in cgroup.subtree_control (a move into it: EBUSY);
- `cpuset:/isolated` has empty cpuset.cpus and cpuset.mems (a move into it: ENOSPC);
- `freezer:/system.slice/docker-<id>.scope` of the redis container is FROZEN (docker pause);
- kthreadd (PID 2) and PF_NO_SETAFFINITY kernel threads (EINVAL), other kernel threads;
- a zombie (`git`, in bob's session) and tasks of root, alice, bob, www-data, postgres,
  redis and nobody.

The writer is root: the `ctrtui` process alice started with sudo in her session.
`demo_world(seed, systemd=True)` (`--backend demo:systemd`) is the same world with systemd
playing PID 1 (a `SystemdSimKernel`): user@1000/1001.service and the docker scopes delegated.

`generate_world(cgroups, tasks, seed)` builds big worlds (two levels, e.g. 100 x 100) for
benchmarks and UI scale tests.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ctrtui.sources.simkernel.systemd import SystemdSimKernel
from ctrtui.sources.simulated import SimKernel

V1 = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd")
SYSTEMD_MANAGED = ("cpu", "cpuacct", "memory", "devices", "blkio", "pids", "name=systemd", "unified")
"""Hierarchies whose tree systemd lays out (cpuset and freezer stay flat, except for what
docker and the kubelet put there)."""
MB = 1 << 20

USERS = {0: "root", 1: "daemon", 33: "www-data", 100: "_apt", 101: "messagebus",
         102: "systemd-network", 103: "systemd-resolve", 108: "postgres", 999: "redis",
         1000: "alice", 1001: "bob", 65534: "nobody"}

#: Kernel threads: (comm, PF_NO_SETAFFINITY, state). kthreadd itself is added first.
KTHREADS = [
    ("pool_workqueue_release", False, "S"), ("kworker/R-rcu_g", True, "I"),
    ("kworker/R-sync_", True, "I"), ("kworker/R-slub_", True, "I"),
    ("kworker/R-netns", True, "I"), ("kworker/0:0H-events_highpri", True, "I"),
    ("kworker/u8:0-events_unbound", True, "I"), ("kworker/R-mm_pe", True, "I"),
    ("rcu_tasks_kthread", False, "I"), ("ksoftirqd/0", True, "S"), ("rcu_preempt", False, "I"),
    ("rcu_exp_par_gp_kthread_worker/0", False, "S"), ("migration/0", True, "S"),
    ("idle_inject/0", True, "S"), ("cpuhp/0", True, "S"), ("cpuhp/1", True, "S"),
    ("idle_inject/1", True, "S"), ("migration/1", True, "S"), ("ksoftirqd/1", True, "S"),
    ("kworker/1:0H-events_highpri", True, "I"), ("kdevtmpfs", False, "S"),
    ("kworker/R-inet_", True, "I"), ("kauditd", False, "S"), ("khungtaskd", False, "S"),
    ("oom_reaper", False, "S"), ("kworker/R-write", True, "I"), ("kcompactd0", False, "S"),
    ("ksmd", False, "S"), ("khugepaged", False, "S"), ("kworker/R-kinte", True, "I"),
    ("kworker/R-kbloc", True, "I"), ("irq/9-acpi", False, "S"), ("kswapd0", False, "S"),
    ("ecryptfs-kthread", False, "S"), ("kworker/R-kthro", True, "I"),
    ("scsi_eh_0", False, "S"), ("kworker/R-scsi_", True, "I"), ("jbd2/sda1-8", False, "S"),
    ("kworker/R-ext4-", True, "I"), ("kworker/0:1-events", True, "I"),
    ("kworker/1:2-mm_percpu_wq", True, "I"), ("kworker/u8:3-flush-8:0", True, "I"),
    ("kworker/1:1H-kblockd", True, "I"), ("kworker/0:2-cgroup_destroy", True, "I"),
]


class _Demo:
    """Helper that lays out units in every systemd-managed hierarchy and starts processes."""

    def __init__(self, k: SimKernel, rng: random.Random):
        self.k, self.rng = k, rng

    def unit(self, path: str, also: Sequence[str] = ()) -> dict[str, str]:
        """Create `path` in each systemd-managed hierarchy (and in `also`); returns the
        cgroups dict for spawn()."""
        where = {}
        for h in (*SYSTEMD_MANAGED, *also):
            self.k.makedirs(h, path)
            where[h] = path
        return where

    def proc(self, where: dict[str, str], comm: str, cmdline: str, uid: int = 0,
             threads: int = 1, rss_mb: float = 8, cpu: float = 0.0, state: str = "S",
             parent: int | None = None, wait: float = 0.5) -> int:
        self.k.tick(wait * (0.5 + self.rng.random()))
        rss = int(rss_mb * MB * (0.8 + 0.4 * self.rng.random()))
        return self.k.spawn(comm, cmdline, uid=uid, threads=threads, cgroups=where,
                            state=state, rss=rss, cpu=cpu, parent=parent)

    def hexid(self, n: int = 64) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def uuid(self) -> str:
        h = self.hexid(32)
        return f"{h[:8]}_{h[8:12]}_{h[12:16]}_{h[16:20]}_{h[20:]}"


def demo_world(seed: int = 0, systemd: bool = False) -> SimKernel:
    """The realistic hybrid demo world; the same for the same seed (see module docstring).
    With `systemd`, systemd plays PID 1 managing `unified` and `name=systemd` (a
    `SystemdSimKernel`): the user managers and the docker scopes are delegated, as systemd
    and docker make them."""
    rng = random.Random(seed)
    k = SystemdSimKernel(identity="demo:systemd") if systemd else SimKernel()
    for uid, name in USERS.items():
        k.add_user(uid, name)
    for name in V1:
        k.add_hierarchy(name, 1, [name])
    k.add_hierarchy("unified", 2, ["hugetlb"])
    d = _Demo(k, rng)
    _boot(d)
    sshd, containerd_u = _system_services(d)
    _threaded_subtree(d)
    _containers(d, containerd_u)
    _kubepods(d)
    k.mkdir("cpuset", "/isolated")   # an admin's cpuset that was never configured: empty cpus and mems
    ctrtui = _sessions(d, sshd)
    k.set_writer(0, 0, pid=ctrtui)
    k.tick(300)
    if isinstance(k, SystemdSimKernel):
        docker = [p.rsplit("/", 1)[1] for p in k.snapshot(["unified"])["unified"].containers
                  if p.startswith("/system.slice/docker-")]
        k.play_systemd(("unified", "name=systemd"), ("user@1000.service", "user@1001.service", *docker))
    return k


def _boot(d: _Demo) -> None:
    """systemd (PID 1), kthreadd (PID 2) and its kernel threads."""
    k = d.k
    init = d.unit("/init.scope")
    k.spawn("systemd", "/sbin/init", cgroups=init, rss=12 * MB, pid=1)
    k.set_last_pid(1)
    k.spawn("kthreadd", kthread=True, pid=2)
    k.set_last_pid(2)
    for comm, nsa, state in KTHREADS:
        k.tick(0.01)
        k.spawn(comm, kthread=True, no_setaffinity=nsa, state=state)


def _system_services(d: _Demo) -> tuple[int, dict[str, str]]:
    """The services of system.slice; returns sshd's PID and containerd's unit (for the
    containers' shims)."""
    k = d.k
    k.tick(2.0)
    k.set_last_pid(180)
    sysd = [("systemd-journald", "/lib/systemd/systemd-journald", 0, 1, 48),
            ("systemd-udevd", "/lib/systemd/systemd-udevd", 0, 1, 10),
            ("systemd-network", "/lib/systemd/systemd-networkd", 102, 1, 9),
            ("systemd-resolve", "/lib/systemd/systemd-resolved", 103, 1, 12)]
    for comm, cmd, uid, th, rss in sysd:
        d.proc(d.unit(f"/system.slice/{cmd.rsplit('/', 1)[1]}.service"), comm, cmd, uid, th, rss)
    k.set_last_pid(480)
    d.proc(d.unit("/system.slice/dbus.service"), "dbus-daemon",
           "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only",
           101, 1, 5)
    d.proc(d.unit("/system.slice/systemd-logind.service"), "systemd-logind", "/lib/systemd/systemd-logind", 0, 1, 8)
    d.proc(d.unit("/system.slice/rsyslog.service"), "rsyslogd", "/usr/sbin/rsyslogd -n -iNONE", 0, 4, 6)
    d.proc(d.unit("/system.slice/polkit.service"), "polkitd", "/usr/lib/polkit-1/polkitd --no-debug", 0, 3, 9)
    d.proc(d.unit("/system.slice/cron.service"), "cron", "/usr/sbin/cron -f", 0, 1, 3)
    getty = d.unit("/system.slice/system-getty.slice/getty@tty1.service")
    d.proc(getty, "agetty", "/sbin/agetty -o -p -- \\u --noclear - linux", 0, 1, 2)
    sshd = d.proc(d.unit("/system.slice/ssh.service"), "sshd",
                  "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", 0, 1, 9)
    nginx_u = d.unit("/system.slice/nginx.service")
    nginx = d.proc(nginx_u, "nginx", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", 0, 1, 6)
    for _ in range(2):
        d.proc(nginx_u, "nginx", "nginx: worker process", 33, 1, 9, cpu=0.3, parent=nginx)
    pg_u = d.unit("/system.slice/postgresql@15-main.service")
    pg = d.proc(pg_u, "postgres", "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main "
                "-c config_file=/etc/postgresql/15/main/postgresql.conf", 108, 3, 64)
    for name in ("checkpointer", "background writer", "walwriter", "autovacuum launcher",
                 "logical replication launcher", "alice app 127.0.0.1(50412) idle",
                 "alice app 127.0.0.1(50418) SELECT"):
        d.proc(pg_u, "postgres", f"postgres: 15/main: {name}", 108, 1, 20,
               cpu=2.5 if "SELECT" in name else 0.0, state="R" if "SELECT" in name else "S", parent=pg)
    containerd_u = d.unit("/system.slice/containerd.service")
    d.proc(containerd_u, "containerd", "/usr/bin/containerd", 0, 14, 48, cpu=0.4)
    d.proc(d.unit("/system.slice/docker.service"), "dockerd",
           "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock", 0, 18, 96, cpu=0.2)
    kubelet = d.unit("/system.slice/kubelet.service")
    d.proc(kubelet, "kubelet", "/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml "
           "--container-runtime-endpoint=unix:///run/containerd/containerd.sock", 0, 16, 110, cpu=1.8)
    return sshd, containerd_u


def _threaded_subtree(d: _Demo) -> None:
    """A threaded subtree in v2: mediaserver.service is the thread domain of `workers` and
    `io`, and its domain child `sidecar` is `domain invalid`."""
    k = d.k
    media = "/system.slice/mediaserver.service"
    media_u = d.unit(media)
    for sub in ("workers", "io", "sidecar"):
        k.mkdir("unified", f"{media}/{sub}")
    k.set_type("unified", f"{media}/workers")
    k.set_type("unified", f"{media}/io")     # sidecar stays a domain: now `domain invalid`
    ms = d.proc(media_u, "mediaserver", "/opt/media/bin/mediaserver --config /etc/media.toml",
                0, 9, 180, cpu=6.0, state="R")
    for i, tid in enumerate(k.thread_ids(ms)[1:]):
        sub = "workers" if i < 5 else "io"
        k.tasks[tid].comm = f"{'worker' if sub == 'workers' else 'io'}-{i}"
        k.write_pid("unified", f"{media}/{sub}", "cgroup.threads", str(tid).encode())


def _containers(d: _Demo, containerd_u: dict[str, str]) -> None:
    """Docker containers (systemd cgroup driver), each also in cpuset and freezer (the
    redis one paused), and a podman (libpod) container."""
    k = d.k
    for image, comm, cmd, uid, th, rss, cpu in (
            ("nginx", "nginx", "nginx: master process nginx -g daemon off;", 0, 1, 8, 0.0),
            ("redis", "redis-server", "redis-server *:6379", 999, 5, 40, 0.5),
            ("app", "python3", "python3 -m gunicorn app:wsgi --workers 2", 1000, 1, 60, 1.2)):
        cid = d.hexid()
        scope = f"/system.slice/docker-{cid}.scope"
        where = d.unit(scope, also=("cpuset", "freezer"))
        k.set_cpuset("cpuset", "/system.slice", cpus="0-1", mems="0")
        k.set_cpuset("cpuset", scope, cpus="0-1", mems="0")
        d.proc(containerd_u, "containerd-shim", f"/usr/bin/containerd-shim-runc-v2 -namespace moby -id {cid} "
               "-address /run/containerd/containerd.sock", 0, 11, 10)
        main = d.proc(where, comm, cmd, uid, th, rss, cpu)
        if image == "nginx":
            for _ in range(2):
                d.proc(where, "nginx", "nginx: worker process", 101, 1, 6, parent=main)
        if image == "app":
            for _ in range(2):
                d.proc(where, "gunicorn", "python3 -m gunicorn app:wsgi --workers 2", 1000, 2, 55,
                       cpu=0.8, parent=main)
        if image == "redis":
            k.set_freezer("freezer", scope, "FROZEN")   # `docker pause`

    # -- podman (libpod) container
    pid_ = d.hexid()
    d.proc(d.unit(f"/machine.slice/libpod-conmon-{pid_}.scope"), "conmon",
           f"/usr/bin/conmon --api-version 1 -c {pid_} -u {pid_} -r /usr/bin/crun", 0, 2, 2)
    d.proc(d.unit(f"/machine.slice/libpod-{pid_}.scope"), "httpd", "httpd -DFOREGROUND", 0, 1, 12)


def _kubepods(d: _Demo) -> None:
    """Kubepods: burstable, besteffort and guaranteed pods (cri-containerd), and
    `hugetlb` enabled in /kubepods.slice (a move into it: EBUSY)."""
    k = d.k
    for qos in ("burstable", "besteffort", None):
        parent = "/kubepods.slice" + (f"/kubepods-{qos}.slice" if qos else "")
        for app, cmd, uid, th in (("coredns", "/coredns -conf /etc/coredns/Corefile", 65534, 9),
                                  ("metrics-server", "/metrics-server --secure-port=10250", 65534, 7)):
            if qos == "besteffort" and app == "metrics-server":
                continue
            pod = f"{parent}/kubepods-{qos + '-' if qos else ''}pod{d.uuid()}.slice"
            for c, (ccomm, ccmd, cuid, cth) in enumerate((("pause", "/pause", 65535, 1), (app, cmd, uid, th))):
                scope = f"{pod}/cri-containerd-{d.hexid()}.scope"
                where = d.unit(scope, also=("cpuset", "freezer"))
                for p in _ancestors(scope):
                    k.set_cpuset("cpuset", p, cpus="0-1", mems="0")
                d.proc(where, ccomm[:15], ccmd, cuid, cth, 1 if c == 0 else 30, cpu=0.0 if c == 0 else 0.6)
    k.set_subtree_control("unified", "/", "+hugetlb")
    k.set_subtree_control("unified", "/kubepods.slice", "+hugetlb")


def _sessions(d: _Demo, sshd: int) -> int:
    """alice's and bob's sessions and user managers (bob's `git` a zombie); returns the PID
    of the `ctrtui` alice started with sudo (the writer)."""
    k = d.k
    k.tick(3600 * 20)
    k.set_last_pid(2200)
    for uid in (1000, 1001):  # alice, bob
        us = f"/user.slice/user-{uid}.slice"
        mgr = d.unit(f"{us}/user@{uid}.service/init.scope")
        d.proc(mgr, "systemd", "/lib/systemd/systemd --user", uid, 1, 10)
        d.proc(mgr, "(sd-pam)", "(sd-pam)", uid, 1, 4)
        d.unit(f"{us}/user@{uid}.service/app.slice")
    alice_s = d.unit("/user.slice/user-1000.slice/session-3.scope")
    priv = d.proc(alice_s, "sshd", "sshd: alice [priv]", 0, 1, 10, parent=sshd)
    net = d.proc(alice_s, "sshd", "sshd: alice@pts/0", 1000, 1, 7, parent=priv)
    bash = d.proc(alice_s, "bash", "-bash", 1000, 1, 5, parent=net)
    d.proc(alice_s, "vim", "vim notes/cgroups.md", 1000, 1, 14, parent=bash)
    d.proc(alice_s, "python3", "python3 train.py --epochs 40", 1000, 8, 900, cpu=85.0, state="R", parent=bash)
    k.tick(600)
    sudo = d.proc(alice_s, "sudo", "sudo ctrtui", 0, 1, 6, parent=bash)
    k.tick(30)
    ctrtui = d.proc(alice_s, "ctrtui", "/usr/bin/python3 /usr/local/bin/ctrtui", 0, 3, 70, cpu=1.5, parent=sudo)
    k.tick(3600 * 2)
    bob_s = d.unit("/user.slice/user-1001.slice/session-7.scope")
    bsh = d.proc(bob_s, "sshd", "sshd: bob [priv]", 0, 1, 10, parent=sshd)
    bnet = d.proc(bob_s, "sshd", "sshd: bob@pts/1", 1001, 1, 7, parent=bsh)
    tmux = d.proc(bob_s, "tmux: server", "tmux new -s build", 1001, 1, 6, parent=bnet)
    bb = d.proc(bob_s, "bash", "-bash", 1001, 1, 5, parent=tmux)
    d.proc(bob_s, "htop", "htop", 1001, 1, 5, cpu=0.7, parent=bb)
    make = d.proc(bob_s, "make", "make -j4", 1001, 1, 4, parent=bb)
    for i in range(4):
        d.proc(bob_s, "cc1", f"/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet src/mod{i}.c -O2", 1001, 1,
               120, cpu=48.0, state="R", parent=make)
    zombie = d.proc(bob_s, "git", "git fetch --all", 1001, 1, 9, parent=bb)
    k.exit(zombie)
    d.proc(bob_s, "sleep", "sleep infinity", 65534, 1, 1, parent=bb)
    return ctrtui


def _ancestors(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1)]


COMMS = ("python3", "node", "java", "nginx", "postgres", "bash", "sleep", "worker", "redis-server",
         "gunicorn", "sidekiq", "php-fpm", "ruby", "envoy", "dotnet", "celery", "httpd", "go-app")


def generate_world(cgroups: int = 10_000, tasks: int = 100_000, seed: int = 0,
                   hierarchies: Sequence[str] = ("freezer", "unified")) -> SimKernel:
    """A large world: exactly `cgroups` cgroups (besides each root) in two levels
    (about sqrt(N) groups of about sqrt(N) children: 100 x 99 plus 100 for 10,000) and
    exactly `tasks` tasks (threads), in the same places in every hierarchy. About 5% of
    the processes have 2-16 threads; in v1 hierarchies a few of those have a thread in
    another cgroup than their leader. Deterministic for a seed. The writer is root (a
    `ctrtui` process in the root cgroup, counted in `tasks`)."""
    rng = random.Random(seed)
    k = SimKernel(pid_max=32768 if tasks < 30_000 else 4_194_304)
    for uid, name in ((0, "root"), (33, "www-data"), (1000, "alice"), (1001, "bob"), (1002, "carol")):
        k.add_user(uid, name)
    for h in hierarchies:
        k.add_hierarchy(h, 2 if h in ("unified", "cgroup2") else 1, [] if h == "unified" else [h])
    names = [h.name for h in k.hierarchies()]
    top = max(1, math.isqrt(cgroups))
    tops: list[str] = []
    leaves: list[str] = []
    for i in range(min(top, cgroups)):
        tops.append(f"/group-{i:03d}")
    for j in range(cgroups - len(tops)):
        leaves.append(f"{tops[j % len(tops)]}/cg-{j // len(tops):03d}")
    for h in names:
        for p in tops:
            k.mkdir(h, p)
        for p in leaves:
            k.mkdir(h, p)
    homes = leaves or tops or ["/"]
    uids = (0, 33, 1000, 1001, 1002)
    writer = k.spawn("ctrtui", "/usr/bin/python3 -m ctrtui", cpu=1.0) if tasks else None
    made = 1 if tasks else 0
    v1 = [h.name for h in k.hierarchies() if h.version == 1]
    while made < tasks:
        threads = 1
        if rng.random() < 0.05:
            threads = min(tasks - made, rng.randint(2, 16))
        path = homes[rng.randrange(len(homes))]
        comm = COMMS[rng.randrange(len(COMMS))]
        pid = k.spawn(comm, f"/usr/bin/{comm} --instance {made}", uid=uids[rng.randrange(5)],
                      threads=threads, cgroups={h: path for h in names},
                      state="R" if rng.random() < 0.03 else "S",
                      rss=rng.randint(1, 400) * MB, cpu=round(rng.random() * 2, 1))
        if threads > 1 and v1 and rng.random() < 0.1:
            tid = k.thread_ids(pid)[-1]
            for h in v1:
                k.place(tid, h, homes[rng.randrange(len(homes))])
        made += threads
    if writer is not None:
        k.set_writer(0, 0, pid=writer)
    k.snapshot()  # build every cgroup's member arrays now (the kernel keeps its lists, too)
    return k


__all__ = ["demo_world", "generate_world"]
