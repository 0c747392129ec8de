"""User policy: protected PIDs, commands and cgroups refuse with EPERM, hook `policy`."""

from __future__ import annotations

import pytest

from ctrtui.engine import AttachEngine, Policy
from ctrtui.errors import CtrtuiError
from ctrtui.model import CgroupRef
from ctrtui.sources.simulated import SimKernel

POLICY = """
[protect]
pids = [PROTECTED]
commands = ["sshd", "systemd*"]
cgroups = [
    "/init.scope",
    "unified:/system.slice/*",
    { pattern = "/quarantine*", direction = "in" },
    { pattern = "/kubepods/*", hierarchy = "freezer", direction = "out" },
]
"""


@pytest.fixture
def k() -> SimKernel:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.add_hierarchy("unified", 2, ["pids"])
    for h in ("freezer", "unified"):
        for path in ("/a", "/init.scope", "/system.slice", "/system.slice/ssh.service", "/quarantine",
                     "/kubepods", "/kubepods/pod1"):
            k.makedirs(h, path)
    return k


def engine_for(k, tmp_path, protected: int = 999) -> AttachEngine:
    f = tmp_path / "policy.toml"
    f.write_text(POLICY.replace("PROTECTED", str(protected)))
    return AttachEngine(k, policy=Policy.load(str(f)), load_entry_points=False)


def verdict(e, pid, target, threads=False):
    return e.plan([pid], CgroupRef.parse(target), threads=threads).verdicts[0]


def test_protected_pid_and_its_threads(k, tmp_path):
    p = k.spawn("worker", threads=2)
    e = engine_for(k, tmp_path, protected=p)
    v = verdict(e, p, "freezer:/a")
    assert (v.kind, v.errno, v.hook) == ("refused", "EPERM", "policy")
    assert "protect.pids" in v.reason and str(tmp_path / "policy.toml") in v.reason
    assert "Edit the policy" in v.advice
    tid = k.thread_ids(p)[1]
    assert verdict(e, tid, "freezer:/a", threads=True).hook == "policy"


def test_protected_commands_exact_and_glob(k, tmp_path):
    e = engine_for(k, tmp_path)
    sshd, journald, sleep = k.spawn("sshd"), k.spawn("systemd-journal"), k.spawn("sleep")
    assert verdict(e, sshd, "freezer:/a").hook == "policy"
    v = verdict(e, journald, "freezer:/a")
    assert v.hook == "policy" and "'systemd*'" in v.reason
    assert verdict(e, sleep, "freezer:/a").kind == "move"


def test_protected_cgroups_in_out_and_by_hierarchy(k, tmp_path):
    e = engine_for(k, tmp_path)
    init = k.spawn("init", cgroups={"freezer": "/init.scope", "unified": "/init.scope"})
    free = k.spawn("sleep")
    # both directions, any hierarchy
    assert verdict(e, init, "freezer:/a").hook == "policy"
    v = verdict(e, free, "unified:/init.scope")
    assert v.hook == "policy" and "from moves in" in v.reason
    # hierarchy-specific: unified:/system.slice/* only
    svc = k.spawn("svc", cgroups={"freezer": "/system.slice/ssh.service", "unified": "/system.slice/ssh.service"})
    assert verdict(e, svc, "unified:/a").hook == "policy"
    assert verdict(e, svc, "freezer:/a").kind == "move"
    # 'in' only
    assert verdict(e, free, "freezer:/quarantine").hook == "policy"
    q = k.spawn("q", cgroups={"freezer": "/quarantine"})
    assert verdict(e, q, "freezer:/a").kind == "move"
    # 'out' only, freezer only
    pod = k.spawn("pod", cgroups={"freezer": "/kubepods/pod1", "unified": "/kubepods/pod1"})
    v = verdict(e, pod, "freezer:/a")
    assert v.hook == "policy" and "moves out" in v.reason and "/kubepods/*" in v.reason
    assert verdict(e, pod, "unified:/a").kind == "move"
    assert verdict(e, free, "freezer:/kubepods/pod1").kind == "move"


def test_policy_refusal_is_final_at_apply(k, tmp_path):
    e = engine_for(k, tmp_path)
    sshd = k.spawn("sshd")
    r = e.apply(e.plan([sshd], CgroupRef("freezer", "/a")))
    assert r.outcomes[0].outcome == "refused" and r.outcomes[0].errno == "EPERM"
    assert k.task_cgroups(sshd)["freezer"] == "/"


def test_empty_policy_protects_nothing_and_default_path_is_optional(k, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "none"))
    assert not Policy.load_default()
    (tmp_path / "cfg" / "ctrtui").mkdir(parents=True)
    (tmp_path / "cfg" / "ctrtui" / "policy.toml").write_text('[protect]\ncommands = ["sleep"]\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    e = AttachEngine(k, load_entry_points=False)  # reads the default policy file
    p = k.spawn("sleep")
    assert verdict(e, p, "freezer:/a").hook == "policy"


@pytest.mark.parametrize("text, words", [
    ("[protect\n", "not valid TOML"),
    ("[other]\n", "unknown section 'other'"),
    ("[protect]\nfoo = 1\n", "unknown key protect.foo"),
    ("[protect]\npids = [0]\n", "protect.pids"),
    ("[protect]\npids = ['1']\n", "protect.pids"),
    ("[protect]\ncommands = [1]\n", "protect.commands"),
    ("[protect]\ncgroups = 'x'\n", "protect.cgroups must be a list"),
    ("[protect]\ncgroups = ['relative']\n", "protect.cgroups[0]"),
    ("[protect]\ncgroups = [{pattern = '/x', direction = 'sideways'}]\n", "'direction'"),
    ("[protect]\ncgroups = [{pattern = '/x', colour = 'red'}]\n", "unknown key 'colour'"),
    ("[protect]\ncgroups = [3]\n", "pattern string or a table"),
])
def test_invalid_policy_names_file_and_problem(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(CtrtuiError) as info:
        Policy.load(str(f))
    assert str(f) in str(info.value) and words in str(info.value), str(info.value)


def test_unreadable_policy_file(tmp_path):
    with pytest.raises(CtrtuiError, match="cannot read policy file .*missing.toml"):
        Policy.load(str(tmp_path / "missing.toml"))
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(CtrtuiError, match="not UTF-8"):
        Policy.load(str(tmp_path / "bin.toml"))


def test_unreadable_policy_file_names_errno_and_what_to_do(tmp_path):
    with pytest.raises(CtrtuiError) as e:
        Policy.load(str(tmp_path / "missing.toml"))
    assert "ENOENT" in str(e.value) and "--policy" in str(e.value)
