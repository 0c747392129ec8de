"""The cgroup-namespace rules on a real systemd host (the lab's guest: pure cgroup v2 mounted
by systemd with `nsdelegate`). The installed ctrtui runs inside a cgroup namespace
(`unshare --cgroup`) rooted at `/ctrtui-test-<hex>/ns`, over the guest's own /sys/fs/cgroup
mount (its mountinfo root reads `/../..`): it sees the namespace's cgroups, moves a task of
the namespace between two of them, and predicts the kernel's ENOENT for a task outside the
namespace (hook `cgroup-namespace`), which the kernel then gives.

The test makes its cgroups as `/ctrtui-test-<hex>` in the guest, starts its own two `sleep`s
there and kills them and removes the cgroups, deepest first, in a `finally`.
"""

from __future__ import annotations

import json
import secrets
import shlex

from devtools.labguest import VENV


def test_inside_a_cgroup_namespace_list_move_and_the_kernels_refusal_outside(installed, state):
    guest = installed
    top = "/ctrtui-test-" + secrets.token_hex(4)
    d = "/sys/fs/cgroup" + top

    def inside(command: str) -> str:
        """A shell line that runs `command` in a new cgroup namespace rooted at `top/ns`."""
        return "sh -c " + shlex.quote(f"echo $$ > {d}/ns/cgroup.procs && exec unshare --cgroup sh -c "
                                      + shlex.quote(command))

    def ctrtui(*args: str, ok: tuple[int, ...] = (0,)) -> object:
        g = state["guest"]
        p = guest.ssh(inside(f"XDG_STATE_HOME={g}/state XDG_CONFIG_HOME={g}/config NO_COLOR=1 "
                             f"{VENV}/bin/ctrtui {shlex.join(args)} --json"), check=False, timeout=300)
        assert p.returncode in ok, (args, p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        assert "Traceback" not in p.stderr, p.stderr
        return json.loads(p.stdout)

    def where(pid: int) -> str:
        return guest.ssh(f"cat /proc/{pid}/cgroup").stdout.strip()

    pids: list[int] = []
    try:
        guest.ssh(f"mkdir -p {d}/ns/a {d}/ns/b {d}/other")
        mine = int(guest.ssh(f"({inside(f'echo $$ > {d}/ns/a/cgroup.procs && exec sleep 900')} "
                             f"</dev/null >/dev/null 2>&1 &); sleep 0.5; cat {d}/ns/a/cgroup.procs").stdout)
        pids.append(mine)
        out = int(guest.ssh(f"(sh -c 'echo $$ > {d}/other/cgroup.procs && exec sleep 900' "
                            f"</dev/null >/dev/null 2>&1 &); sleep 0.5; cat {d}/other/cgroup.procs").stdout)
        pids.append(out)
        # what the kernel shows a task of the namespace: its mount's root above, an outsider's `/..`
        seen = guest.ssh(inside(f"grep cgroup2 /proc/self/mountinfo | cut -d' ' -f4; cat /proc/{out}/cgroup"))
        assert seen.stdout.split() == ["/../..", "0::/../other"], seen.stdout

        # 1. the namespace's own cgroups, and a move of its own task between two of them
        assert {c["path"] for c in ctrtui("ls", "unified:/")} == {"/", "/a", "/b"}
        assert [t["pid"] for t in ctrtui("tasks", "unified:/a")] == [mine]
        (plan,) = ctrtui("move", str(mine), "--to", "unified:/b", "--dry-run")
        assert (plan["outcome"], plan["from"], plan["errno"]) == ("would-move", "/a", None), plan
        (row,) = ctrtui("move", str(mine), "--to", "unified:/b")
        assert (row["outcome"], row["from"]) == ("moved", "/a"), row
        assert where(mine) == f"0::{top}/ns/b"

        # 2. a task outside the namespace: ENOENT predicted, refused, and the kernel's own answer
        (plan,) = ctrtui("move", str(out), "--to", "unified:/b", "--dry-run", ok=(0, 1))
        assert (plan["outcome"], plan["errno"], plan["hook"], plan["from"]) == (
            "refused", "ENOENT", "cgroup-namespace", "/../other"), plan
        assert "nsdelegate" in plan["reason"], plan
        (row,) = ctrtui("move", str(out), "--to", "unified:/b", ok=(1,))
        assert (row["outcome"], row["errno"], row["hook"]) == ("refused", "ENOENT", "cgroup-namespace"), row
        assert where(out) == f"0::{top}/other"
        # coreutils' echo names the errno (dash's builtin says "I/O error" for any failed write)
        kernel = guest.ssh(inside(f"/bin/echo {out} > {d}/ns/b/cgroup.procs"), check=False)
        assert kernel.returncode != 0 and "No such file or directory" in kernel.stderr, kernel.stderr
        assert where(out) == f"0::{top}/other"
    finally:
        guest.ssh(f"kill -9 {' '.join(map(str, pids)) or 0}; "
                  f"for i in $(seq 50); do [ -z \"$(cat $(find {d} -name cgroup.procs) 2>/dev/null)\" ] && break; "
                  f"sleep 0.1; done; find {d} -depth -type d -exec rmdir {{}} +", check=False)
        left = guest.ssh(f"test -e {d} && echo left || true", check=False).stdout
        assert "left" not in left, f"{d} could not be removed in the guest"
