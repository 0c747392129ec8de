"""The command line on a systemd host with pure cgroup v2 and controllers (the lab's guest),
reached both ways: installed in the guest (a venv, offline from the wheelhouse) and not
installed at all (`ctrtui --host root@127.0.0.x:PORT --ssh-config F`: the agent sent over
ssh onto the guest's own python3.11).

Each test makes its cgroups as `/ctrtui-test-<hex>` in the guest, starts its own `sleep`
there and removes both in a `finally`. Under TCG each ctrtui start in the guest takes
seconds: the scenarios are few and each does several things.
"""

from __future__ import annotations

import json
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.labguest import VENV, Guest
from tests.lab.conftest import local_env

CTRTUI = str(Path(sys.executable).with_name("ctrtui"))
CONTROLLERS = {"cpu", "cpuset", "io", "memory", "pids"}


class Way:
    """Runs `ctrtui ARGS` against the guest one way: `installed` (in the guest) or `agent`
    (here, with --host)."""

    def __init__(self, kind: str, guest: Guest, xdg: dict[str, str]) -> None:
        self.kind, self.guest, self.xdg = kind, guest, xdg

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        if self.kind == "installed":
            g = self.xdg["guest"]
            line = (f"XDG_STATE_HOME={g}/state XDG_CONFIG_HOME={g}/config NO_COLOR=1 "
                    f"{VENV}/bin/ctrtui {shlex.join(args)}")
            return self.guest.ssh(line, check=False, timeout=timeout)
        argv = [CTRTUI, "--host", self.guest.host, "--ssh-config", self.guest.config, "--timeout", "60", *args]
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              env=local_env(self.xdg["local"]))

    def json(self, *args: str, ok: tuple[int, ...] = (0,)) -> object:
        p = self.run(*args, "--json")
        assert p.returncode in ok, (self.kind, args, p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        assert "Traceback" not in p.stderr, p.stderr
        return json.loads(p.stdout)


@pytest.fixture(params=["installed", "agent"])
def way(request, guest, state) -> Way:
    if request.param == "installed":
        request.getfixturevalue("installed")
    return Way(request.param, guest, state)


@pytest.fixture
def scratch(guest) -> Iterator[tuple[str, int]]:
    """`/ctrtui-test-<hex>` with `origin/` holding a `sleep` this test started in the guest:
    (the top's path, the sleep's PID). Afterwards the sleep is killed and every cgroup under
    the top is thawed and removed, deepest first."""
    top = "/ctrtui-test-" + secrets.token_hex(4)
    d = "/sys/fs/cgroup" + top
    pid = int(guest.ssh(f"mkdir -p {d}/origin && (sh -c 'echo $$ > {d}/origin/cgroup.procs && exec sleep 900' "
                        "</dev/null >/dev/null 2>&1 &) && sleep 0.5 && cat " + f"{d}/origin/cgroup.procs").stdout)
    try:
        yield top, pid
    finally:
        guest.ssh(f"echo 0 > {d}/cgroup.freeze; kill -9 {pid}; "
                  f"for i in $(seq 50); do [ -s {d}/origin/cgroup.procs ] || break; sleep 0.1; done; "
                  f"find {d} -depth -type d -exec rmdir {{}} +", check=False)
        left = guest.ssh(f"test -e {d} && echo left || true", check=False).stdout
        assert "left" not in left, f"{d} could not be removed in the guest"


def where(guest: Guest, pid: int) -> str:
    return guest.ssh(f"cat /proc/{pid}/cgroup").stdout.strip()


def test_hierarchies_ls_and_tasks_see_systemds_pure_v2_tree(way):
    hiers = way.json("hierarchies")
    assert [h["name"] for h in hiers] == ["unified"], hiers  # no v1 hierarchy at all
    (h,) = hiers
    assert h["version"] == 2 and h["mount"] == "/sys/fs/cgroup"
    tree = way.json("ls")
    paths = {c["path"] for c in tree}
    for unit in ("/init.scope", "/system.slice/ssh.service", "/system.slice/systemd-journald.service",
                 "/user.slice/user-1000.slice/user@1000.service"):
        assert unit in paths, (unit, sorted(paths)[:50])
    init = way.json("tasks", "unified:/init.scope")
    assert [(t["pid"], t["comm"]) for t in init] == [(1, "systemd")]


def test_move_undo_and_stats_of_an_own_sleep(way, guest, scratch):
    top, pid = scratch
    assert way.json("mkdir", f"unified:{top}/target")["outcome"] == "done"
    assert where(guest, pid) == f"0::{top}/origin"
    assert [t["pid"] for t in way.json("tasks", f"unified:{top}/origin")] == [pid]
    (row,) = way.json("move", str(pid), "--to", f"unified:{top}/target")
    assert (row["outcome"], row["from"]) == ("moved", f"{top}/origin"), row
    assert where(guest, pid) == f"0::{top}/target"
    (back,) = way.json("undo")
    assert back["outcome"] == "moved" and back["undo_of"] == row["batch"], back
    assert where(guest, pid) == f"0::{top}/origin"
    # the figures of a v2 cgroup whose parent (the root) enables cpu, io, memory and pids
    stats = {s["path"]: s for s in way.json("ls", f"unified:{top}", "--stats", "--sample", "0.3")}
    s = stats[top]
    assert s["tasks"] == 1 and s["pids_current"] == 1 and s["pids_max"] is None, s  # pids.max `max`: no limit, null
    assert s["memory_bytes"] > 0 and s["cpu_percent"] is not None, s
    assert s["io_read_bytes_per_s"] is not None and s["frozen"] is False, s


def test_mkdir_freeze_thaw_rmdir(way, guest, scratch):
    top, pid = scratch
    d = "/sys/fs/cgroup" + top
    assert way.json("freeze", f"unified:{top}")["outcome"] == "done"
    assert "frozen 1" in guest.ssh(f"cat {d}/cgroup.events").stdout
    assert guest.ssh(f"cut -d' ' -f3 /proc/{pid}/stat").stdout.strip() in ("S", "D")  # frozen, not stopped
    assert way.json("thaw", f"unified:{top}")["outcome"] == "done"
    assert "frozen 0" in guest.ssh(f"cat {d}/cgroup.events").stdout
    assert way.json("mkdir", f"unified:{top}/new")["outcome"] == "done"
    assert guest.ssh(f"test -d {d}/new && echo yes").stdout.strip() == "yes"
    busy = way.json("rmdir", f"unified:{top}/origin", ok=(1,))
    assert (busy["outcome"], busy["errno"]) == ("refused", "EBUSY"), busy
    assert way.json("rmdir", f"unified:{top}/new")["outcome"] == "done"
    assert guest.ssh(f"test -d {d}/new || echo gone").stdout.strip() == "gone"
    # journaled, newest first (the agent's journal is the guest's root's: other tests' batches too)
    mine = [(b["op"], b["target"]) for b in way.json("log") if b["state"] == "done"
            and (b["target"] or "").startswith(top) and b["op"]]
    assert mine == [("rmdir", f"{top}/new"), ("mkdir", f"{top}/new"), ("thaw", top), ("freeze", top)], mine


def test_the_guest_is_a_systemd_host_with_pure_v2_controllers_and_a_delegated_user(guest):
    """What the lab promises (tests/lab/guest.py): systemd as PID 1, cgroup v2 alone at
    /sys/fs/cgroup enabling cpu, cpuset, io, memory and pids, and user `lab`'s manager owning
    its delegated subtree."""
    out = guest.ssh("cat /proc/1/comm; findmnt -n -t cgroup -o TARGET | wc -l; findmnt -n -t cgroup2 -o TARGET; "
                    "cat /sys/fs/cgroup/cgroup.subtree_control; "
                    "stat -c '%U %U' /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service "
                    "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.procs | tr '\\n' ' '").stdout
    comm, v1, v2, enabled, owners = out.splitlines()
    assert (comm, v1, v2) == ("systemd", "0", "/sys/fs/cgroup"), out
    assert set(enabled.split()) >= CONTROLLERS, enabled
    assert owners.split() == ["lab"] * 4, owners


def test_systemds_routes_through_the_agent_on_a_host_with_nothing_installed(guest, state, scratch):
    """`ctrtui move --host` against the guest's systemd 252 with ctrtui not installed there
    (the agent sent over ssh, on the guest's own python3 and busctl): a service that is not
    delegated refused as systemd refuses it (a dry run: nothing written), then `move --scope`
    of the test's own sleep into a new transient scope with a property, the route in the
    guest's journal, undone, and the emptied scope left to systemd, which collects it."""
    top, pid = scratch
    way = Way("agent", guest, state)
    name = f"ctrtui-test-{secrets.token_hex(4)}.scope"
    try:
        (row,) = way.json("move", str(pid), "--to", "unified:/system.slice/ssh.service", "--dry-run", ok=(1,))
        assert (row["outcome"], row["hook"]) == ("refused", "systemd-route"), row
        assert "not delegated" in row["reason"] and "--via kernel" in row["advice"], row
        (row,) = way.json("move", str(pid), "--scope", name, "-p", "CPUWeight=42")
        assert (row["outcome"], row["from"]) == ("moved", f"{top}/origin"), row
        assert any(f"systemctl stop of {name} kills the task" in r for r in row["risks"]), row
        assert where(guest, pid) == f"0::/system.slice/{name}"
        assert guest.ssh(["systemctl", "show", "-p", "CPUWeight", "--value", name]).stdout.strip() == "42"
        journal = guest.ssh("cat /root/.local/state/ctrtui/journal.jsonl").stdout.splitlines()
        intents = [json.loads(line) for line in journal if '"intent"' in line]
        assert [i.get("route") for i in intents if i.get("target") == f"/system.slice/{name}"] == ["scope"]
        (back,) = way.json("undo")
        assert back["outcome"] == "moved" and back["undo_of"] == row["batch"], back
        assert where(guest, pid) == f"0::{top}/origin"
        state_after = guest.ssh(f"for i in $(seq 50); do s=$(systemctl is-active {name}); "
                                f"[ \"$s\" = active ] || break; sleep 0.1; done; echo $s", check=False).stdout
        assert state_after.strip() in ("inactive", "unknown"), state_after  # emptied: systemd collected it
    finally:
        guest.ssh(["systemctl", "stop", name], check=False)  # gone already unless the test failed midway
