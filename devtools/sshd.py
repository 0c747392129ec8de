"""Real OpenSSH servers for the tests and the benchmarks: several "hosts" on loopback
addresses, and their faults.

    from devtools.sshd import SSHD_OK, SSHD_WHY, SshLab

    with SshLab() as lab:
        host = lab.start_host()                 # an sshd on 127.0.0.x:PORT (x in 2..250)
        argv = ssh_argv(host.spec, ["echo", "hi"], config=lab.config)
        subprocess.run(argv, ...)               # runs through the real sshd, as root

Each `SshLab` owns one temp dir with a client key pair, a known_hosts file and a client
config (`lab.config`, for `ssh -F` or `CTRTUI_SSH_CONFIG`) that makes the client touch
nothing under `~/.ssh` (IdentitiesOnly with the lab's key, the lab's known_hosts, no agent,
no ControlMaster, StrictHostKeyChecking yes). Each `start_host()` is one `sshd -D -e -f
CONFIG` with its own host key (already in the lab's known_hosts), the lab's public key as its
only authorized key, listening only on one 127.0.0.x address and a free port: several hosts
are several sshd on different addresses. A host's sessions get their own `$HOME` (an empty
dir of the host), so root's shell start-up files are not read and each host has its own
`$XDG_STATE_HOME` (and so its own ctrtui journal). `start_host(cgroup_namespace=True)` starts
that sshd inside `ctrtui-test-*` cgroups, a new cgroup namespace rooted there and a private
mount namespace where those hierarchies are mounted again (under the host's temp dir), as in
a container: its sessions see those cgroups as `/`, so two hosts see different cgroups.

Faults: `closed_port()` (a loopback port nothing listens on: connection refused),
`silent_host()` (accepts TCP and never speaks: the banner exchange times out),
`wrong_key_config()` (a client config whose key no host authorizes), `changed_key_config(h)`
(a client config whose known_hosts holds another key for `h`).

Everything is stopped in `SshLab.close()` (or the `with` exit): each sshd killed and reaped,
its children (sessions) checked gone, the cgroups removed (deepest first,
`devtools.cgroupdirs.rmdir_tree`). Tests use the `sshlab` fixture of tests/real/conftest.py
(session-scoped: starting an sshd costs ~50 ms, a key pair ~10 ms); benchmarks/remote.py and
benchmarks/tuihosts.py start their own.
Nothing here contacts any address outside 127.0.0.0/8.
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ctrtui.remote.ssh import HostSpec, parse_host
from devtools.cgroupdirs import rmdir_tree

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh") or "/usr/bin/ssh"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
PRIVSEP_DIR = "/run/sshd"  # Debian's sshd refuses to start without its privilege-separation dir


def _check() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "the sshd tests need root (sshd runs as root to log in as root over loopback)"
    for prog in (SSHD, SSH, SSH_KEYGEN):
        if not os.access(prog, os.X_OK):
            return False, f"{prog} is not installed (Debian: apt-get install openssh-server openssh-client)"
    return True, ""


SSHD_OK, SSHD_WHY = _check()
"""True when real sshd tests can run here; else SSHD_WHY says why they skip."""


class SshdError(Exception):
    """The test sshd could not be set up (the message says why, with sshd's own words)."""


def _keygen(path: str, comment: str) -> str:
    """A fresh ed25519 key pair at `path` (no passphrase); returns the public key line."""
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(path + ".pub") as f:
        return f.read().strip()


def _known_hosts_line(address: str, port: int, pubkey: str) -> str:
    kind, blob = pubkey.split()[:2]
    return f"[{address}]:{port} {kind} {blob}\n"


def _write(path: str, text: str, mode: int = 0o644) -> None:
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _client_config(key: str, known_hosts: str) -> str:
    return "".join(f"{line}\n" for line in (
        "Host *",
        f"  IdentityFile {key}",
        "  IdentitiesOnly yes",
        "  IdentityAgent none",
        "  AddKeysToAgent no",
        f"  UserKnownHostsFile {known_hosts}",
        "  GlobalKnownHostsFile /dev/null",
        "  StrictHostKeyChecking yes",
        "  UpdateHostKeys no",
        "  CheckHostIP no",
        "  HashKnownHosts no",
        "  ControlMaster no",
        "  ControlPath none",
        "  PasswordAuthentication no",
        "  KbdInteractiveAuthentication no",
        "  ForwardAgent no",
        "  ForwardX11 no",
        "  ClearAllForwardings yes",
        "  ServerAliveInterval 5",
        "  LogLevel ERROR",
        "  User root",
    ))


def _free_port(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _port_busy(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError:
            return True
    return False


def _children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (the sshd's sessions)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


@dataclass
class SshHost:
    """One running test sshd."""

    address: str
    port: int
    dir: str
    host_pubkey: str
    proc: subprocess.Popen | None = None
    user: str = "root"
    cgroups: list[str] = field(default_factory=list)  # cgroup dirs made for its namespace
    log: str = ""

    @property
    def name(self) -> str:
        """`root@127.0.0.x:PORT`, the way a user would write the host."""
        return f"{self.user}@{self.address}:{self.port}"

    @property
    def spec(self) -> HostSpec:
        return parse_host(self.name)

    @property
    def home(self) -> str:
        """The `$HOME` of this host's sessions (its journal is under `home/.local/state`)."""
        return os.path.join(self.dir, "home")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self) -> str:
        """What this sshd logged (it runs with -e: to stderr, kept in a file)."""
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def session_pids(self) -> list[int]:
        """The sshd's descendants now (its per-connection children and their commands)."""
        return _descendants(self.proc.pid) if self.running and self.proc else []

    def stop(self) -> None:
        """Kill this sshd and every session it started, reap it, and check nothing of it is
        left (idempotent). Raises SshdError when a child outlives the kill."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        left: list[int] = []
        if proc.poll() is None:
            kids = _descendants(proc.pid)
            proc.kill()
            for pid in kids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait(timeout=10)
            deadline = time.monotonic() + 5
            left = kids
            while left and time.monotonic() < deadline:
                left = [pid for pid in left if not gone(pid)]
                if left:
                    time.sleep(0.01)
        else:
            proc.wait()
        _remove_cgroups(self.cgroups)
        self.cgroups = []
        if left:
            raise SshdError(f"sshd {self.name}: processes {left} outlived the kill")


def gone(pid: int) -> bool:
    """True when process `pid` has exited (gone, or a zombie waiting to be reaped)."""
    return _state(pid) in (None, "Z")


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2]


# ---------------------------------------------------------------------- cgroup namespace

_NS_HIERARCHIES = ("freezer", "pids", "cpu", "cpuset", "unified")


def _cgroup_mounts() -> dict[str, tuple[str, str]]:
    """Mount point and `mount` arguments of each hierarchy a namespaced host gets a cgroup of
    its own in (word -> (mount point, "-t TYPE -o OPTIONS" as a list joined by spaces))."""
    from ctrtui.sources.cgroupfs import CgroupFS

    mounted = {("unified" if h.version == 2 else c): h for h in CgroupFS().hierarchies()
               if "memory" not in h.controllers or h.version == 2  # the memory hierarchy is never touched
               for c in (h.controllers if h.version == 1 else ("unified",))}
    missing = [word for word in _NS_HIERARCHIES if word not in mounted]
    if missing or os.geteuid() != 0:
        why = f"{', '.join(missing)} not mounted" if missing else "not root"
        raise SshdError(f"a host in its own cgroup namespace needs the real cgroup hierarchies "
                        f"{', '.join(_NS_HIERARCHIES)}, as root: {why}")
    out = {}
    for word in _NS_HIERARCHIES:
        h = mounted[word]
        how = "-t cgroup2" if h.version == 2 else "-t cgroup -o " + ",".join(h.controllers)
        out[word] = (h.mount, how)
    return out


def _cgroup_dirs() -> dict[str, str]:
    return {word: mount for word, (mount, _) in _cgroup_mounts().items()}


def _make_cgroups(name: str) -> list[str]:
    made: list[str] = []
    try:
        for word, mount in _cgroup_dirs().items():
            d = os.path.join(mount, name)
            os.mkdir(d)
            made.append(d)
            if word == "cpuset":
                for key in ("cpus", "mems"):
                    file = "cpuset." + key if os.path.exists(os.path.join(d, "cpuset." + key)) else key
                    with open(os.path.join(mount, file)) as f:
                        value = f.read().strip()
                    with open(os.path.join(d, file), "w") as f:
                        f.write(value or "\n")
    except BaseException:
        _remove_cgroups(made)
        raise
    return made


def _remove_cgroups(dirs: list[str]) -> None:
    """Remove the namespaced host's cgroups (and any child a test made inside), deepest
    first; a task still inside (a session that just exited) is waited for briefly."""
    for top in dirs:
        for d, e in rmdir_tree(top, wait=5):
            raise SshdError(f"cannot remove the test cgroup {d}: {e}")


# ---------------------------------------------------------------------- the lab


class SshLab:
    """A temp dir with a client identity and config, and the sshd "hosts" started in it."""

    def __init__(self) -> None:
        if not SSHD_OK:
            raise SshdError(SSHD_WHY)
        self.dir = tempfile.mkdtemp(prefix="ctrtui-sshd-")
        os.chmod(self.dir, 0o755)
        self.key = os.path.join(self.dir, "client_key")
        self.pubkey = _keygen(self.key, "ctrtui-test-client")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        _write(self.known_hosts, "")
        self.config = os.path.join(self.dir, "ssh_config")
        _write(self.config, _client_config(self.key, self.known_hosts))
        self.hosts: list[SshHost] = []
        self._used: set[str] = set()
        self._lock = threading.Lock()
        os.makedirs(PRIVSEP_DIR, mode=0o755, exist_ok=True)

    def __enter__(self) -> SshLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def env(self) -> dict[str, str]:
        """This process's environment with `CTRTUI_SSH_CONFIG` set to the lab's config."""
        return dict(os.environ, CTRTUI_SSH_CONFIG=self.config)

    def _address(self) -> str:
        """A loopback address 127.0.0.x (x in 2..250) this lab uses for nothing else yet."""
        with self._lock:
            free = [f"127.0.0.{x}" for x in range(2, 251) if f"127.0.0.{x}" not in self._used]
            if not free:
                raise SshdError("all of 127.0.0.2..250 are in use by this lab")
            address = random.choice(free)
            self._used.add(address)
            return address

    # ------------------------------------------------------------------ hosts

    def start_host(self, *, cgroup_namespace: bool = False, timeout: float = 10) -> SshHost:
        """Start one sshd on a fresh 127.0.0.x and a free port; return once it speaks SSH.
        With `cgroup_namespace`, it runs in `ctrtui-test-*` cgroups (freezer, pids, cpu,
        cpuset, unified) and its own cgroup namespace rooted there."""
        last = ""
        for _ in range(5):  # another process may take the port between choosing and binding it
            address = self._address()
            port = _free_port(address)
            try:
                return self._start(address, port, cgroup_namespace, timeout)
            except _PortTaken as e:
                last = str(e)
        raise SshdError(f"no free loopback address/port for sshd after 5 tries: {last}")

    def _start(self, address: str, port: int, cgroup_namespace: bool, timeout: float) -> SshHost:
        d = tempfile.mkdtemp(prefix=f"host-{address}-", dir=self.dir)
        os.chmod(d, 0o755)
        os.makedirs(os.path.join(d, "home"), mode=0o700)
        host_key = os.path.join(d, "host_key")
        host = SshHost(address, port, d, _keygen(host_key, f"ctrtui-test-host-{address}"))
        _write(os.path.join(d, "authorized_keys"), self.pubkey + "\n", 0o600)
        config = os.path.join(d, "sshd_config")
        _write(config, "".join(f"{line}\n" for line in (
            f"ListenAddress {address}:{port}",
            f"HostKey {host_key}",
            f"AuthorizedKeysFile {d}/authorized_keys",
            f"PidFile {d}/sshd.pid",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthenticationMethods publickey",
            "PermitUserEnvironment no",
            "AllowAgentForwarding no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PermitTunnel no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "MaxStartups 200",
            "MaxSessions 50",
            "LoginGraceTime 30",
            # The session's HOME: root's own start-up files are not read, the journal is the host's.
            f"SetEnv HOME={d}/home XDG_STATE_HOME={d}/home/.local/state",
            "LogLevel INFO",
        )))
        host.log = os.path.join(d, "sshd.log")
        argv = [SSHD, "-D", "-e", "-f", config]
        if cgroup_namespace:
            argv = self._namespaced(host, argv)
        with open(host.log, "wb") as log:
            try:
                host.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             start_new_session=True)
            except BaseException:
                _remove_cgroups(host.cgroups)
                raise
        try:
            self._wait_ready(host, timeout)
        except BaseException:
            with contextlib.suppress(SshdError):
                host.stop()
            raise
        with open(self.known_hosts, "a") as f:
            f.write(_known_hosts_line(address, port, host.host_pubkey))
        self.hosts.append(host)
        return host

    @staticmethod
    def _namespaced(host: SshHost, argv: list[str]) -> list[str]:
        """`argv` (the sshd) run in the host's own `ctrtui-test-sshd-*` cgroups and in a new
        cgroup namespace rooted there, with a private mount namespace in which those
        hierarchies are mounted again under the host's own dir (`DIR/cgroup/WORD`): seen from
        the host's sessions, the mounts' root is their namespace's root, as in a container.
        The original mounts stay (their root shows as `/..` there; ctrtui prefers a mount
        whose root is `/`). Nothing is mounted outside the new mount namespace, which goes
        away with its last process (the sshd and its sessions)."""
        host.cgroups = _make_cgroups(f"ctrtui-test-sshd-{os.urandom(4).hex()}")
        procs = [os.path.join(c, "cgroup.procs") for c in host.cgroups]
        mounts = []
        for word, (_, how) in _cgroup_mounts().items():
            target = os.path.join(host.dir, "cgroup", word)
            os.makedirs(target)
            mounts.append(f"mount {how} ctrtui-test {shlex.quote(target)}")
        inner = " && ".join([*mounts, "exec " + shlex.join(argv)])
        # The shell moves itself into the host's cgroups, then unshare starts the namespaces.
        script = ('for f in "$@"; do echo $$ > "$f" || exit 1; done; '
                  "exec unshare --cgroup --mount --propagation private -- sh -c " + shlex.quote(inner))
        return ["sh", "-c", script, "sh", *procs]

    def _wait_ready(self, host: SshHost, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert host.proc is not None
            if host.proc.poll() is not None:
                said = host.stderr_text().strip()
                if "Address already in use" in said:
                    raise _PortTaken(said)
                raise SshdError(f"sshd on {host.address}:{host.port} exited with status "
                                f"{host.proc.returncode}: {said[-2000:]}")
            # Its own log line first: a banner alone could come from another server on the port.
            if f"Server listening on {host.address} port {host.port}." in host.stderr_text():
                try:
                    with socket.create_connection((host.address, host.port), timeout=1) as s:
                        if s.recv(64).startswith(b"SSH-"):
                            return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise SshdError(f"sshd on {host.address}:{host.port} did not answer within {timeout} s: "
                                f"{host.stderr_text()[-2000:]}")
            time.sleep(0.01)

    def stop_host(self, host: SshHost) -> None:
        """Stop one host now (it stays in the lab's list, stopped; close() skips it)."""
        host.stop()

    # ------------------------------------------------------------------ faults

    def closed_port(self) -> HostSpec:
        """A host on a loopback address and port where nothing listens (connection refused)."""
        address = self._address()
        port = _free_port(address)
        return parse_host(f"root@{address}:{port}")

    @contextlib.contextmanager
    def silent_host(self) -> Iterator[HostSpec]:
        """A host that accepts TCP connections and never says a word: ssh waits for the
        server's banner until its ConnectTimeout."""
        address = self._address()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        accepted: list[socket.socket] = []
        stop = threading.Event()
        try:
            s.bind((address, 0))
            s.listen(64)
            s.settimeout(0.05)

            def accept() -> None:
                while not stop.is_set():
                    try:
                        conn, _ = s.accept()
                    except TimeoutError:
                        continue
                    except OSError:
                        return
                    accepted.append(conn)  # held open, never written to

            t = threading.Thread(target=accept, daemon=True)
            t.start()
            yield parse_host(f"root@{address}:{s.getsockname()[1]}")
        finally:
            stop.set()
            s.close()
            for c in accepted:
                c.close()

    def _alt_dir(self, name: str) -> str:
        d = tempfile.mkdtemp(prefix=name + "-", dir=self.dir)
        os.chmod(d, 0o755)
        return d

    def wrong_key_config(self) -> str:
        """A client config like the lab's, but with a key no host authorizes."""
        d = self._alt_dir("wrong-key")
        key = os.path.join(d, "key")
        _keygen(key, "ctrtui-test-stranger")
        config = os.path.join(d, "ssh_config")
        _write(config, _client_config(key, self.known_hosts))
        return config

    def changed_key_config(self, host: SshHost) -> str:
        """A client config like the lab's, whose known_hosts holds another key (of the
        same type) for `host`: ssh must refuse with its "REMOTE HOST IDENTIFICATION HAS
        CHANGED" warning."""
        d = self._alt_dir("changed-key")
        other = _keygen(os.path.join(d, "other_host_key"), "ctrtui-test-impostor")
        known = os.path.join(d, "known_hosts")
        _write(known, _known_hosts_line(host.address, host.port, other))
        config = os.path.join(d, "ssh_config")
        _write(config, _client_config(self.key, known))
        return config

    def unknown_host_config(self) -> str:
        """A client config like the lab's with an empty known_hosts (no host is known yet)."""
        d = self._alt_dir("unknown")
        known = os.path.join(d, "known_hosts")
        _write(known, "")
        config = os.path.join(d, "ssh_config")
        _write(config, _client_config(self.key, known))
        return config

    # ------------------------------------------------------------------ clean-up

    def close(self) -> None:
        """Stop every host, remove the temp dir. Raises SshdError
        (after stopping everything) when a host left a process behind."""
        problems: list[str] = []
        for host in self.hosts:
            try:
                host.stop()
            except Exception as e:  # keep stopping the others
                problems.append(str(e))
        self.hosts.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise SshdError("; ".join(problems))


class _PortTaken(SshdError):
    """sshd could not bind its address: someone took the port first."""
