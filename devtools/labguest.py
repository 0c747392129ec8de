"""The lab: a small Debian 12 guest (systemd 252 as PID 1, pure cgroup v2 with controllers)
booted with qemu, for the `lab` tier (tests/lab/, docs/testing.md).

    from devtools.labguest import LAB_OK, LAB_WHY, Guest, image

    img = image()                     # built once per recipe, then cached
    with Guest(img) as g:             # boots a throwaway overlay of it; stopped on exit
        g.ssh(["systemd-cgls", "--no-pager"])

Everything comes from Debian packages: `mmdebstrap bookworm` with the host's own apt sources
builds the guest's tree, whose own /boot gives the kernel and initrd for `-kernel`/`-initrd`,
and `mkfs.ext4 -d` turns the tree into a raw ext4 image. The image is cached in
`$CTRTUI_LAB_CACHE` (default /var/cache/ctrtui-lab) under the SHA-256 of the recipe (the
`RECIPE` text below and the build function's source), built in a temp dir there and renamed
into place only when complete, so a killed build never leaves a half image that looks good.
`python -m devtools.labguest build` builds it ahead (what .ci/run does), `--rebuild` throws
the cached one away first.

The guest boots a qcow2 overlay of the cached image (the image itself is never written),
with user networking `restrict=on` (no route out of the guest) and its sshd forwarded
from one 127.0.0.x address only. Root logs in with the lab's own key, made at build time
with the guest's host key, which the lab's known_hosts pins (`HostKeyAlias ctrtui-lab`); the
client config (`Guest.config`, for `ssh -F` and ctrtui's `--ssh-config`) makes ssh touch
nothing under ~/.ssh. The guest also has a non-root user `lab` (uid 1000) whose
`user@1000.service` runs from boot (lingering) with systemd's delegated subtree.

/dev/kvm is used only where the CPU has vmx or svm; elsewhere (a nested software hypervisor,
or no kvm) qemu emulates with TCG, where everything in the guest is many times slower (a bare
`python3 -c pass` takes ~0.35 s there).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import inspect
import io
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
QEMU_IMG = shutil.which("qemu-img") or "/usr/bin/qemu-img"
MMDEBSTRAP = shutil.which("mmdebstrap") or "/usr/bin/mmdebstrap"
MKFS = shutil.which("mkfs.ext4") or "/usr/sbin/mkfs.ext4"
SSH = shutil.which("ssh") or "/usr/bin/ssh"
SCP = shutil.which("scp") or "/usr/bin/scp"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
SOURCES = "/etc/apt/sources.list.d/debian.sources"
DEBIAN_PACKAGES = "qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client"
CACHE = os.environ.get("CTRTUI_LAB_CACHE") or "/var/cache/ctrtui-lab"
ALIAS = "ctrtui-lab"
#: The venv in the guest that `Guest.install` installs the wheelhouse into.
VENV = "/opt/ctrtui-lab"

# What the guest is made of. Any change here (or in _build) is a new image.
PACKAGES = ("systemd systemd-sysv dbus libpam-systemd udev openssh-server python3 python3-venv "
            "linux-image-amd64 initramfs-tools procps iproute2 kmod").split()
FILES: dict[str, str] = {
    "etc/hostname": "ctrtui-lab\n",
    "etc/hosts": "127.0.0.1 localhost\n127.0.1.1 ctrtui-lab\n",
    "etc/fstab": "/dev/vda / ext4 defaults,noatime 0 1\n",
    # qemu's user network: a fixed address, no DHCP wait, nothing to wait online for
    "etc/systemd/network/10-lab.network": "[Match]\nName=en* eth*\n\n[Network]\nAddress=10.0.2.15/24\n"
                                          "Gateway=10.0.2.2\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
    # systemd 252 enables cpu, memory and pids for its slices by default: also io, and
    # cpuset through AllowedMemoryNodes= on the top slices (docs/testing.md, the lab tier)
    "etc/systemd/system.conf.d/ctrtui-lab.conf": "[Manager]\nDefaultCPUAccounting=yes\nDefaultIOAccounting=yes\n"
                                                 "DefaultMemoryAccounting=yes\nDefaultTasksAccounting=yes\n",
    "etc/systemd/system/system.slice.d/ctrtui-lab.conf": "[Slice]\nAllowedMemoryNodes=0\n",
    "etc/systemd/system/user.slice.d/ctrtui-lab.conf": "[Slice]\nAllowedMemoryNodes=0\n",
    # delegate every controller to the user manager (Debian's default is cpu memory pids)
    "etc/systemd/system/user@.service.d/ctrtui-lab.conf": "[Service]\nDelegate=yes\n",
    "var/lib/systemd/linger/lab": "",
    "etc/ssh/sshd_config.d/ctrtui-lab.conf": "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                                             "KbdInteractiveAuthentication no\nUseDNS no\n",
}
MASKED = ("apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer", "e2scrub_all.timer", "fstrim.timer",
          "systemd-networkd-wait-online.service", "systemd-timesyncd.service", "getty@tty1.service")
ENABLED = {"systemd-networkd.service": "multi-user.target.wants", "ssh.service": "multi-user.target.wants"}
RECIPE = repr((PACKAGES, sorted(FILES.items()), MASKED, sorted(ENABLED.items())))


def _kvm_usable() -> bool:
    """KVM only on a CPU with hardware virtualisation (vmx/svm): a nested software hypervisor
    (kvm_pvm) offers /dev/kvm too, but a stock kernel crawls under it."""
    try:
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "").split()
    except OSError:
        return False
    return ("vmx" in flags or "svm" in flags) and os.access("/dev/kvm", os.R_OK | os.W_OK)


KVM = _kvm_usable()
ACCEL = ["-accel", "kvm", "-cpu", "host"] if KVM else ["-accel", "tcg,thread=multi", "-cpu", "max"]


def _check() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "the lab tier needs root (mmdebstrap builds the guest's tree as root)"
    if os.uname().machine != "x86_64":
        return False, f"the lab guest is amd64; this machine is {os.uname().machine}"
    for prog in (QEMU, QEMU_IMG, MMDEBSTRAP, MKFS, SSH, SSH_KEYGEN):
        if not os.access(prog, os.X_OK):
            return False, (f"{prog} is not installed; the lab tier runs a qemu guest "
                           f"(Debian: apt-get install {DEBIAN_PACKAGES})")
    if not os.path.exists(SOURCES):
        return False, f"{SOURCES} is missing: the guest is built from the host's own Debian apt sources"
    return True, ""


LAB_OK, LAB_WHY = _check()
"""True when the lab can run here; else LAB_WHY says why the lab tier skips."""


class LabError(Exception):
    """The guest could not be built or booted (the message says why, with the tool's own words)."""


def recipe_hash() -> str:
    h = hashlib.sha256()
    h.update(RECIPE.encode())
    h.update(inspect.getsource(_build).encode())
    return h.hexdigest()[:16]


def image_dir() -> Path:
    return Path(CACHE) / recipe_hash()


def _run(argv: list[str], what: str, timeout: float, **kw) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        raise LabError(f"{what}: {argv[0]} did not finish in {timeout:.0f} s") from e
    if p.returncode != 0:
        raise LabError(f"{what}: {shlex.join(argv[:3])}... exited {p.returncode}:\n{(p.stderr or p.stdout)[-3000:]}")
    return p


def _keygen(path: Path, kind: str = "ed25519") -> str:
    _run([SSH_KEYGEN, "-q", "-t", kind, "-N", "", "-C", ALIAS, "-f", str(path)], "ssh-keygen", 60)
    return path.with_name(path.name + ".pub").read_text().strip()


def _build(work: Path) -> None:
    """Build the guest into `work` (an empty dir): tree/ (removed at the end), rootfs.img,
    vmlinuz, initrd.img, id_ed25519 (the lab's client key) and known_hosts."""
    tree = work / "tree"
    _run([MMDEBSTRAP, "--quiet", "--mode=root", "--variant=minbase", "--include=" + ",".join(PACKAGES),
          "bookworm", str(tree), SOURCES], "mmdebstrap bookworm", 1800)
    for rel, text in FILES.items():
        f = tree / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    systemd = tree / "etc/systemd/system"
    for unit in MASKED:
        (systemd / unit).unlink(missing_ok=True)
        (systemd / unit).symlink_to("/dev/null")
    for unit, wants in ENABLED.items():
        (systemd / wants).mkdir(parents=True, exist_ok=True)
        link = systemd / wants / unit
        if not link.is_symlink() and not link.exists():
            link.symlink_to(f"/lib/systemd/system/{unit}")
    # the lab's client key, root's only authorized key; the guest's host keys, pinned
    _keygen(work / "id_ed25519")
    ssh = tree / "root/.ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    (ssh / "authorized_keys").write_text((work / "id_ed25519.pub").read_text())
    for old in (tree / "etc/ssh").glob("ssh_host_*"):
        old.unlink()
    pinned = []
    for kind in ("ed25519", "rsa"):
        key = tree / f"etc/ssh/ssh_host_{kind}_key"
        pinned.append(f"{ALIAS} {_keygen(key, kind).rsplit(' ', 1)[0]}\n")
    (work / "known_hosts").write_text("".join(pinned))
    # the non-root user, with a delegated subtree (user@1000.service, lingering)
    _run(["chroot", str(tree), "useradd", "--uid", "1000", "--create-home", "--shell", "/bin/bash", "lab"],
         "useradd lab", 60)
    (tree / "etc/machine-id").write_text("")  # made at first boot
    boot = tree / "boot"
    kernel = sorted(boot.glob("vmlinuz-*"))
    initrd = sorted(boot.glob("initrd.img-*"))
    if not kernel or not initrd:
        raise LabError(f"the guest tree has no kernel or initrd in /boot: {sorted(os.listdir(boot))}")
    shutil.copy(kernel[-1], work / "vmlinuz")
    shutil.copy(initrd[-1], work / "initrd.img")
    used = int(_run(["du", "-s", "--block-size=1M", str(tree)], "du", 300).stdout.split()[0])
    _run([MKFS, "-q", "-F", "-L", "lab", "-d", str(tree), str(work / "rootfs.img"), f"{used + 1024}M"],
         "mkfs.ext4 -d", 900)
    shutil.rmtree(tree)


def image(rebuild: bool = False, log: Callable[[str], None] | None = None, cache: Path | None = None) -> Path:
    """The directory of the built image for the current recipe in `cache` (default CACHE),
    built first when missing (one build at a time: a lock file in the cache). Returns it."""
    cache = cache or Path(CACHE)
    final = cache / recipe_hash()
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if rebuild and final.exists():
            shutil.rmtree(final)
        if (final / "rootfs.img").exists():
            return final
        for stale in cache.glob(".build-*"):  # a build that was killed
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
        try:
            if log:
                log(f"building the lab guest into {final} (Debian 12, ~2 min, ~800 MB)")
            _build(work)
            work.rename(final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return final


def _free_address() -> tuple[str, int]:
    """A loopback address 127.0.0.x and a port free on it (x in 100..250: devtools/sshd.py
    picks its hosts from the whole range and tells a taken port by the bind)."""
    for _ in range(50):
        addr = f"127.0.0.{random.randint(100, 250)}"
        with socket.socket() as s:
            try:
                s.bind((addr, 0))
            except OSError:
                continue
            return addr, s.getsockname()[1]
    raise LabError("no free port on 127.0.0.100-250")


def _die_with_parent() -> None:
    """In the qemu child: killed when the test process dies, whatever killed it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Guest:
    """One boot of the lab image: a throwaway overlay, qemu, sshd reachable as
    `root@ADDR:PORT` with `config`. `close()` (or the `with` exit) stops qemu and removes the
    overlay; nothing is left running."""

    def __init__(self, img: Path, *, memory_mb: int = 1536, cpus: int = 2, boot_timeout: float = 600) -> None:
        self.image = img
        self.tmp = Path(tempfile.mkdtemp(prefix="ctrtui-lab-"))
        self.addr, self.port = _free_address()
        self.host = f"root@{self.addr}:{self.port}"
        self.config = str(self.tmp / "ssh_config")
        self.console = self.tmp / "console.log"
        self.proc: subprocess.Popen | None = None
        self.boot_seconds = 0.0
        key = self.tmp / "id_ed25519"
        shutil.copy(img / "id_ed25519", key)
        key.chmod(0o600)
        shutil.copy(img / "known_hosts", self.tmp / "known_hosts")
        Path(self.config).write_text(
            f"Host {self.addr} {ALIAS}\n  HostName {self.addr}\n  Port {self.port}\n  User root\n"
            f"  HostKeyAlias {ALIAS}\n  IdentityFile {key}\n  IdentitiesOnly yes\n  IdentityAgent none\n"
            f"  UserKnownHostsFile {self.tmp / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n  UpdateHostKeys no\n  ControlMaster no\n  ControlPath none\n"
            "  BatchMode yes\n  LogLevel ERROR\n"
            "Host *\n  BatchMode yes\n  IdentitiesOnly yes\n  IdentityAgent none\n"
            f"  UserKnownHostsFile {self.tmp / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n")
        try:
            self._boot(memory_mb, cpus, boot_timeout)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Guest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _boot(self, memory_mb: int, cpus: int, timeout: float) -> None:
        overlay = self.tmp / "overlay.qcow2"
        _run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(self.image / "rootfs.img"),
              str(overlay)], "qemu-img create", 60)
        argv = [QEMU, *ACCEL, "-smp", str(cpus), "-m", str(memory_mb), "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none", "-serial", f"file:{self.console}", "-no-reboot",
                "-kernel", str(self.image / "vmlinuz"), "-initrd", str(self.image / "initrd.img"),
                "-append", "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 mitigations=off",
                "-drive", f"file={overlay},if=virtio,format=qcow2,cache=unsafe",
                "-nic", f"user,model=virtio-net-pci,restrict=on,hostfwd=tcp:{self.addr}:{self.port}-:22",
                "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0"]
        start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp / "qemu.err", "w"), preexec_fn=_die_with_parent)
        deadline = start + timeout
        while True:
            if self.proc.poll() is not None:
                raise LabError(f"qemu exited {self.proc.returncode} while booting: "
                               f"{(self.tmp / 'qemu.err').read_text()[-2000:]}{self.console_tail()}")
            p = subprocess.run(self.ssh_argv(["true"], connect_timeout=5), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise LabError(f"the guest's sshd did not answer in {timeout:.0f} s (ssh: {p.stderr.strip()[-300:]})"
                               f"{self.console_tail()}")
            time.sleep(2)
        self.boot_seconds = time.monotonic() - start

    def console_tail(self, n: int = 3000) -> str:
        try:
            return "\nthe guest's console ends with:\n" + self.console.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def ssh_argv(self, command: list[str] | str, *, connect_timeout: float = 10, user: str = "root") -> list[str]:
        remote = command if isinstance(command, str) else shlex.join(command)
        return [SSH, "-F", self.config, "-T", "-o", f"ConnectTimeout={int(connect_timeout)}", "-l", user,
                "--", self.addr, remote]

    def ssh(self, command: list[str] | str, *, timeout: float = 600, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run `command` (argv, or one shell line) in the guest as root."""
        argv = self.ssh_argv(command)
        p = subprocess.run(argv, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise LabError(f"in the guest, {command if isinstance(command, str) else shlex.join(command)} exited "
                           f"{p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        return p

    def put(self, local: Path | str, remote: str, timeout: float = 600) -> None:
        """Copy a file or a directory (recursively) into the guest."""
        _run([SCP, "-F", self.config, "-q", "-r", "-p", str(local), f"{self.addr}:{remote}"], "scp", timeout)

    def copy_in(self, dest: str, base: Path, names: list[str], timeout: float = 600) -> None:
        """Copy `names` (files or directories under `base`, without __pycache__) to `dest` in
        the guest, through one ssh (a tar on stdin)."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name in names:
                tar.add(base / name, arcname=name, filter=lambda t: None if "__pycache__" in t.name else t)
        p = subprocess.run(self.ssh_argv(f"mkdir -p {shlex.quote(dest)} && tar -C {shlex.quote(dest)} -xzf -"),
                           input=buf.getvalue(), capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise LabError(f"copying {names} into the guest failed: {p.stderr.decode(errors='replace')[-2000:]}")

    def install(self, checkout: Path, venv: str = VENV, extras: str = "test") -> str:
        """Install `checkout` (with `extras`) into a venv `venv` in the guest, offline: `pip
        wheel` of it and its dependencies here, copied in, installed with `--no-index` (the
        guest reaches no package index). Returns the venv's ctrtui."""
        with tempfile.TemporaryDirectory(prefix="ctrtui-lab-wheels-") as tmp:
            pip = wheelhouse(Path(tmp) / "wheels", checkout, extras)
            self.copy_in("/root", Path(tmp), ["wheels"])
        # Under TCG, ensurepip alone takes minutes: the venv is made without pip and pip runs
        # from its wheel; the wheelhouse is the resolved set already (--no-deps), and nothing
        # is byte-compiled ahead (ctrtui's first start in the guest compiles what it imports)
        self.ssh(f"python3 -m venv --without-pip {venv} && {venv}/bin/python /root/wheels/{pip.name}/pip install "
                 "-q --no-index --no-deps --no-compile --disable-pip-version-check /root/wheels/*.whl", timeout=1200)
        return f"{venv}/bin/ctrtui"

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wheelhouse(dest: Path, checkout: Path, extras: str = "test") -> Path:
    """`pip wheel` of this checkout and its dependencies (with `extras`), and of pip itself,
    into `dest`: what the guest installs from, offline. Built on the host, which may reach a
    package index. Returns pip's wheel."""
    _run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(dest), f"{checkout}[{extras}]", "pip"],
         "pip wheel", 900)
    pips = sorted(dest.glob("pip-*.whl"))
    if not pips:
        raise LabError(f"pip wheel left no pip wheel in {dest}")
    return pips[-1]


def main(argv: list[str]) -> int:
    if not LAB_OK:  # `build` is not an error then: the lab tier skips with the same reason
        print(f"lab: not built: {LAB_WHY}", file=sys.stderr)
        return 0 if argv[:1] == ["build"] else 2
    if not argv or argv[0] not in ("build", "path", "boot"):
        print("usage: python -m devtools.labguest build [--rebuild] | path | boot", file=sys.stderr)
        return 2
    if argv[0] == "path":
        print(image_dir())
        return 0
    start = time.monotonic()
    try:
        img = image(rebuild="--rebuild" in argv, log=lambda s: print(f"lab: {s}", file=sys.stderr))
        print(f"lab: image {img} ready in {time.monotonic() - start:.1f} s", file=sys.stderr)
        if argv[0] == "boot":
            with Guest(img) as g:
                print(f"lab: booted in {g.boot_seconds:.1f} s; ssh -F {g.config} {g.addr} (Enter stops it)",
                      file=sys.stderr)
                sys.stdin.readline()
    except LabError as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
