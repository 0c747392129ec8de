"""User policy: protected PIDs, commands and cgroups refuse with EPERM, hook `policy`."""

from __future__ import annotations

import os

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


# ------------------------------------------------------------------- never silently off


def _load(tmp_path, text: str, hierarchies=None) -> Policy:
    f = tmp_path / "policy.toml"
    f.write_text(text)
    return Policy.load(str(f), hierarchies)


@pytest.mark.parametrize("rule, line", [
    ('"freezr:/x"', 3),
    ('{ pattern = "/x", hierarchy = "freezr" }', 3),
    ('{ pattern = "/x", hierarchy = "name=systmd", direction = "in" }', 3),
])
def test_a_rule_naming_an_unknown_hierarchy_is_an_error_naming_file_line_and_key(k, tmp_path, rule, line):
    text = f'[protect]\ncgroups = [\n    {rule},\n]\n'
    with pytest.raises(CtrtuiError) as info:
        _load(tmp_path, text, k.hierarchies())
    msg = str(info.value)
    assert f"{tmp_path / 'policy.toml'} line {line}: protect.cgroups[0]" in msg, msg
    assert "not mounted" in msg and "freezer" in msg and "correct the name" in msg, msg


def test_an_unknown_hierarchy_refuses_every_move_when_the_engine_finds_it(k, tmp_path):
    """A policy loaded without the hierarchies (a plugin, an old caller) is checked by its hook
    against the backend's: every move is refused with the sentence, none goes ahead unprotected."""
    policy = _load(tmp_path, '[protect]\ncgroups = ["freezr:/a"]\n')
    e = AttachEngine(k, policy=policy, load_entry_points=False)
    v = verdict(e, k.spawn("sleep"), "freezer:/a")
    assert (v.kind, v.errno, v.hook) == ("refused", "EPERM", "policy")
    assert "freezr" in v.reason and "while the policy cannot be used" in v.reason and "Fix the policy" in v.advice


def test_known_controllers_not_mounted_are_accepted_and_comma_lists_protect_each_part(tmp_path):
    k = SimKernel()
    k.add_hierarchy("cpu", 1, ["cpu"])
    k.add_hierarchy("cpuacct", 1, ["cpuacct"])  # mounted apart, as on this project's machine
    for h in ("cpu", "cpuacct"):
        k.makedirs(h, "/a")
        k.makedirs(h, "/db")
    text = '[protect]\ncgroups = ["rdma:/x", { pattern = "/db", hierarchy = "cpu,cpuacct", direction = "in" }]\n'
    e = AttachEngine(k, policy=_load(tmp_path, text, k.hierarchies()), load_entry_points=False)
    p = k.spawn("sleep")
    assert verdict(e, p, "cpu:/db").hook == "policy"
    assert verdict(e, p, "cpuacct:/db").hook == "policy"
    assert verdict(e, p, "cpu:/a").kind == "move"


def test_a_command_longer_than_comm_matches_the_program_name(k, tmp_path):
    policy = _load(tmp_path, '[protect]\ncommands = ["systemd-journald", "networkd-dispatcher*"]\n',
                   k.hierarchies())
    e = AttachEngine(k, policy=policy, load_entry_points=False)
    journald = k.spawn("systemd-journald", "/lib/systemd/systemd-journald")
    upload = k.spawn("systemd-journal-upload", "/lib/systemd/systemd-journal-upload --save-state")
    script = k.spawn("networkd-dispatcher", "/usr/bin/python3 /usr/bin/networkd-dispatcher --run-startup-triggers")
    vim = k.spawn("vim", "vim networkd-dispatcher")
    assert k.task_state(journald).comm == k.task_state(upload).comm == "systemd-journal"  # cut to 15 bytes
    v = verdict(e, journald, "freezer:/a")
    assert v.hook == "policy" and "program name 'systemd-journald'" in v.reason and "15 bytes" in v.reason
    assert verdict(e, upload, "freezer:/a").kind == "move"  # same comm, another program
    v = verdict(e, script, "freezer:/a")
    assert v.hook == "policy" and "'networkd-dispatcher'" in v.reason
    assert verdict(e, vim, "freezer:/a").kind == "move"


def test_program_name():
    from ctrtui.engine.policy import program_name

    assert program_name("systemd-journal", "/lib/systemd/systemd-journald") == "systemd-journald"
    assert program_name("networkd-dispat", "/usr/bin/python3 /usr/bin/networkd-dispatcher -v") == \
        "networkd-dispatcher"
    assert program_name("gmain", "/usr/libexec/some-long-daemon --x") == "some-long-daemon"  # a renamed thread
    assert program_name("kthreadd", "") is None and program_name("x", None) is None


@pytest.mark.parametrize("pattern, words", [
    ("/usr/sbin/sshd", "never a path"),
    ("bin/sshd*", "never a path"),
    ("x" * 256, "longer than any program name"),
])
def test_a_command_that_can_never_match_is_an_error(tmp_path, pattern, words):
    with pytest.raises(CtrtuiError) as info:
        _load(tmp_path, f'[protect]\ncommands = ["sshd",\n  "{pattern}"]\n')
    msg = str(info.value)
    assert f"{tmp_path / 'policy.toml'} line 3: protect.commands[1]" in msg and words in msg, msg


def test_globs_that_fit_comm_keep_matching_comm(k, tmp_path):
    """`[...]` classes and `?` count one byte, `*` none: `systemd-journa?` (15) still matches comm."""
    e = AttachEngine(k, policy=_load(tmp_path, '[protect]\ncommands = ["systemd-journa?", "[st]ystemd-[j]ournal*"]\n'),
                     load_entry_points=False)
    p = k.spawn("systemd-journald", "/lib/systemd/systemd-journald")
    v = verdict(e, p, "freezer:/a")
    assert v.hook == "policy" and "its command 'systemd-journal'" in v.reason


def test_absurd_nesting_is_a_clean_error(tmp_path):
    for text in ("[protect]\npids = " + "[" * 5000 + "]" * 5000 + "\n",
                 "[protect]\ncgroups = [" + "{a = " * 5000 + "1" + "}" * 5000 + "]\n"):
        with pytest.raises(CtrtuiError, match="nested too deeply"):
            _load(tmp_path, text)
    # 5,000 dotted levels are read without recursion, and are keys no policy has
    with pytest.raises(CtrtuiError, match="unknown key protect.a"):
        _load(tmp_path, "[protect." + ".".join(["a"] * 5000) + "]\n")


def _default_at(tmp_path, monkeypatch):
    cfg = tmp_path / "cfg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    return cfg / "ctrtui" / "policy.toml"


def test_a_dangling_default_policy_symlink_is_an_error(tmp_path, monkeypatch):
    f = _default_at(tmp_path, monkeypatch)
    f.parent.mkdir(parents=True)
    f.symlink_to(tmp_path / "gone.toml")
    with pytest.raises(CtrtuiError) as info:
        Policy.load_default()
    assert str(f) in str(info.value) and "does not exist" in str(info.value) and "gone.toml" in str(info.value)
    f.unlink()
    f.parent.rmdir()
    f.parent.symlink_to(tmp_path / "unmounted")  # the directory on the way is the dangling link
    with pytest.raises(CtrtuiError, match="symlink"):
        Policy.load_default()


def test_a_missing_default_policy_is_no_policy(tmp_path, monkeypatch):
    f = _default_at(tmp_path, monkeypatch)
    assert Policy.load_default() == Policy()
    f.parent.parent.mkdir()
    (f.parent).write_text("a file where the directory would be")
    assert Policy.load_default() == Policy()


def test_a_default_policy_that_is_a_directory_or_a_fifo_is_an_error_and_never_blocks(tmp_path, monkeypatch):
    f = _default_at(tmp_path, monkeypatch)
    f.mkdir(parents=True)
    with pytest.raises(CtrtuiError, match="a directory"):
        Policy.load_default()
    f.rmdir()
    os.mkfifo(f)
    with pytest.raises(CtrtuiError, match="not a regular file"):
        Policy.load_default()


def test_a_policy_file_too_large_is_an_error(tmp_path):
    with pytest.raises(CtrtuiError, match="more than a policy can be"):
        _load(tmp_path, "# " + "x" * (1 << 20) + "\n")
