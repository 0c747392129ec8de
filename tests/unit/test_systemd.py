"""The systemd client (ctrtui/sources/systemd.py) against a fake `busctl` on PATH that answers
as systemd 252's busctl does (shapes copied from the lab guest), or not at all, or with
hostile bytes; the property table (ctrtui/sources/systemd_props.py); detection on fake
/proc and /run trees. No bus, no cgroup is touched."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from ctrtui.model.systemd import systemd_unit, unit_kind, unit_place
from ctrtui.sources.systemd import (
    MAX_ANSWER,
    Systemd,
    SystemdError,
    detect,
    unit_object_path,
    valid_unit_name,
)
from ctrtui.sources.systemd_props import INFINITY, PropertyError, parse_properties, parse_property
from ctrtui.sources.systemd_risks import ACTIONS, FACTS, KINDS, PLACED_BY, REFUSALS, risk_for, risk_kind

FAKE = textwrap.dedent("""\
    #!{python}
    import json, os, sys, time
    args = sys.argv[1:]
    with open(os.environ["FAKE_BUSCTL_LOG"], "a") as f:
        f.write(json.dumps(args) + "\\n")
    plan_file = os.environ["FAKE_BUSCTL_PLAN"]
    plan = json.load(open(plan_file))
    line = " ".join(args)
    for rule in plan:
        if rule.get("match", "") in line and rule.get("times", 1) != 0:
            rule["times"] = rule.get("times", 1) - 1
            json.dump(plan, open(plan_file, "w"))
            time.sleep(rule.get("sleep", 0))
            out = rule.get("out", "")
            sys.stdout.write(out * rule.get("repeat", 1))
            sys.stderr.write(rule.get("err", ""))
            sys.exit(rule.get("rc", 0))
    sys.stderr.write("fake busctl: no rule for " + line + "\\n")
    sys.exit(99)
    """)

REFUSED = ("Sent message type=method_call sender=n/a destination=org.freedesktop.systemd1\n"
           "Got message type=error sender=:1.0 destination=:1.23 path=n/a interface=n/a member=n/a cookie=645 "
           "reply_cookie=2 signature=s error-name={name} error-message={message}\n"
           "Call failed: {message}\n")


class Fake:
    """The fake busctl's plan (rules matched in order on its joined argv) and its call log."""

    def __init__(self, tmp: Path) -> None:
        self.plan = tmp / "plan.json"
        self.log = tmp / "log"
        self.log.write_text("")

    def answer(self, *rules: dict[str, object]) -> None:
        self.plan.write_text(json.dumps(list(rules)))

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "busctl"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    f = Fake(tmp_path)
    monkeypatch.setenv("FAKE_BUSCTL_PLAN", str(f.plan))
    monkeypatch.setenv("FAKE_BUSCTL_LOG", str(f.log))
    f.answer()
    return f


def refused(name: str, message: str) -> dict[str, object]:
    return {"err": REFUSED.format(name=name, message=message), "rc": 1}


def test_unit_place_is_the_nearest_unit_unescaped():
    assert unit_place("/system.slice/x.scope/a/b") == ("x.scope", "scope", "a/b")
    assert unit_place("/system.slice/cron.service") == ("cron.service", "service", "")
    assert unit_place("/user.slice") == ("user.slice", "slice", "")
    assert unit_place("/system.slice/system-getty.slice/getty@tty1.service") == ("getty@tty1.service", "service", "")
    # cg_escape: a leading underscore is systemd's escape, not part of the unit's name
    assert unit_place("/system.slice/_cpu.service/x") == ("cpu.service", "service", "x")
    assert unit_place("/system.slice/dev-sda.swap") == ("dev-sda.swap", "swap", "")
    assert unit_place("/") is None and unit_place("/ctrtui-test-x/y") is None
    assert unit_place("/.service") is None  # a suffix alone names nothing
    # the model's classifiers are built on it: one answer for the engine, the risks, the tree and the client
    assert systemd_unit("/system.slice/_cpu.service/x") == "cpu.service" and unit_kind("/x/dev-sda.swap") == "swap"
    assert unit_kind("/system.slice/x.scope/a") is None and systemd_unit("/ctrtui-test-x/y") is None


def test_unit_names_and_object_paths():
    assert valid_unit_name("work.scope", ".scope") and not valid_unit_name("work.service", ".scope")
    assert not valid_unit_name("a b.scope") and not valid_unit_name("x\x1b[2J.scope") and not valid_unit_name("")
    assert valid_unit_name("system-serial\\x2dgetty.slice", ".slice")
    assert unit_object_path("cron.service") == "/org/freedesktop/systemd1/unit/cron_2eservice"
    assert unit_object_path("a-b@1.scope") == "/org/freedesktop/systemd1/unit/a_2db_401_2escope"
    assert unit_object_path("é.scope").endswith("/_c3_a9_2escope")
    assert unit_object_path("1a2.scope").endswith("/_31a2_2escope")  # a leading digit is escaped


def test_placement_reads_delegate_from_the_units_own_interface(fake):
    fake.answer({"match": "Scope Delegate", "out": '{"type":"b","data":true}\n'},
                {"match": "Service Delegate", "out": '{"type":"b","data":false}\n'})
    sd = Systemd()
    where = sd.placement("/system.slice/box.scope/sub/deeper")
    assert where is not None and where.delegated and where.attachable
    assert (where.unit, where.kind, where.subcgroup) == ("box.scope", "scope", "sub/deeper")
    cron = sd.placement("/system.slice/cron.service")
    assert cron is not None and not cron.delegated and not cron.attachable
    assert sd.placement("/") is None
    first = fake.calls()[0]
    assert first[:4] == ["--system", "--json=short", "--timeout=25", "get-property"]
    assert first[4:] == ["org.freedesktop.systemd1", "/org/freedesktop/systemd1/unit/box_2escope",
                         "org.freedesktop.systemd1.Scope", "Delegate"]
    assert sd.calls == 2


def test_attach_sends_unit_subcgroup_and_pids(fake):
    fake.answer({"match": "AttachProcessesToUnit", "out": ""})
    Systemd().attach_processes_to_unit("box.scope", "sub/x", [10, 11])
    assert fake.calls()[0][3:] == ["call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "AttachProcessesToUnit", "ssau",
                                   "box.scope", "/sub/x", "2", "10", "11"]


def test_attach_refused_on_a_non_delegated_unit_says_systemds_name_and_message(fake):
    fake.answer(refused("org.freedesktop.DBus.Error.InvalidArgs",
                        "Process migration not available on non-delegated units."))
    with pytest.raises(SystemdError) as e:
        Systemd().attach_processes_to_unit("cron.service", "", [10])
    err = e.value
    assert err.name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert err.message == "Process migration not available on non-delegated units."
    text = str(err)
    assert text.startswith("The move of PID 10 into cron.service failed: systemd says \"Process migration not "
                           "available on non-delegated units\" (org.freedesktop.DBus.Error.InvalidArgs).")
    assert "Delegate=yes" in text and "--via kernel" in text and "\n" not in text


def test_a_refusal_without_the_debug_line_still_gives_systemds_message(fake):
    fake.answer({"err": "Call failed: Unit nosuch.service not loaded.\n", "rc": 1})
    with pytest.raises(SystemdError) as e:
        Systemd().attach_processes_to_unit("nosuch.service", "", [10])
    assert e.value.name == "" and e.value.message == "Unit nosuch.service not loaded."
    assert "systemd says \"Unit nosuch.service not loaded\"" in str(e.value)


def test_hostile_error_text_is_escaped_and_bounded(fake):
    evil = "\x1b]0;owned\x07\x1b[2J" + "A" * 5000
    fake.answer(refused("org.example.\x1b[31mEvil", evil))
    with pytest.raises(SystemdError) as e:
        Systemd().attach_processes_to_unit("x.scope", "", [10])
    text = str(e.value)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text
    assert len(text) < 1000 and e.value.name == ""  # a name that is not a D-Bus name is not believed


def test_start_transient_scope_types_its_properties_and_waits_for_the_job(fake):
    fake.answer({"match": "StartTransientUnit", "out": '{"type":"o","data":["/org/freedesktop/systemd1/job/7"]}\n'},
                {"match": "Job ActiveState SubState", "times": 2,
                 "out": '{"type":"(uo)","data":[7,"/org/freedesktop/systemd1/job/7"]}\n'
                        '{"type":"s","data":"inactive"}\n{"type":"s","data":"dead"}\n'},
                {"match": "Job ActiveState SubState",
                 "out": '{"type":"(uo)","data":[0,"/"]}\n{"type":"s","data":"active"}\n'
                        '{"type":"s","data":"running"}\n'})
    started = Systemd().start_transient_scope("work.scope", [10, 11], slice="batch.slice",
                                              properties=["CPUWeight=50", "MemoryMax=1G", "CPUQuota=20%",
                                                          "Delegate=yes", "Description=a b"])
    assert started == ("work.scope", "/org/freedesktop/systemd1/job/7", "active", "running")
    calls = fake.calls()
    assert calls[0][3:] == [
        "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
        "StartTransientUnit", "ssa(sv)a(sa(sv))", "work.scope", "fail", "7", "PIDs", "au", "2", "10", "11",
        "Slice", "s", "batch.slice", "CPUWeight", "t", "50", "MemoryMax", "t", str(1 << 30),
        "CPUQuotaPerSecUSec", "t", "200000", "Delegate", "b", "true", "Description", "s", "a b", "0"]
    assert len(calls) == 4  # the start, two polls while the job ran, the poll that saw it gone
    assert calls[1][4:] == ["org.freedesktop.systemd1", "/org/freedesktop/systemd1/unit/work_2escope",
                            "org.freedesktop.systemd1.Unit", "Job", "ActiveState", "SubState"]


def test_a_scope_that_is_not_active_after_its_job_is_an_error(fake):
    fake.answer({"match": "StartTransientUnit", "out": '{"type":"o","data":["/org/freedesktop/systemd1/job/8"]}\n'},
                {"match": "Job ActiveState",
                 "out": '{"type":"(uo)","data":[0,"/"]}\n{"type":"s","data":"failed"}\n'
                        '{"type":"s","data":"\\u001b[2Jfailed"}\n'})
    with pytest.raises(SystemdError) as e:
        Systemd().start_transient_scope("w.scope", [10], properties={"TasksMax": "infinity"})
    assert "the scope is failed (\\x1b[2Jfailed)" in str(e.value) and "journalctl -u w.scope" in str(e.value)
    assert fake.calls()[0][11:17] == ["2", "PIDs", "au", "1", "10", "TasksMax"]
    assert fake.calls()[0][17:20] == ["t", str(INFINITY), "0"]


def test_a_job_that_never_finishes_times_out_with_its_path(fake):
    fake.answer({"match": "StartTransientUnit", "out": '{"type":"o","data":["/org/freedesktop/systemd1/job/9"]}\n'},
                {"match": "Job ActiveState", "times": -1,
                 "out": '{"type":"(uo)","data":[9,"/org/freedesktop/systemd1/job/9"]}\n'
                        '{"type":"s","data":"activating"}\n{"type":"s","data":"start"}\n'})
    with pytest.raises(SystemdError) as e:
        Systemd().start_transient_scope("w.scope", [10], wait=0.3)
    assert "job /org/freedesktop/systemd1/job/9 had not finished after 0 s" in str(e.value)
    assert "systemctl list-jobs" in str(e.value)


def test_scope_refusals_from_systemd_name_the_scope(fake):
    fake.answer(refused("org.freedesktop.systemd1.UnitExists",
                        "Unit w.scope was already loaded or has a fragment file."))
    with pytest.raises(SystemdError) as e:
        Systemd().start_transient_scope("w.scope", [10])
    assert e.value.name == "org.freedesktop.systemd1.UnitExists"
    assert str(e.value).startswith("A new scope w.scope for PID 10 failed: systemd says")
    assert "choose another name" in str(e.value)
    fake.answer(refused("org.freedesktop.DBus.Error.UnixProcessIdUnknown", "Process with ID 99 does not exist."))
    with pytest.raises(SystemdError, match="has exited"):
        Systemd().start_transient_scope("w2.scope", [99])


def test_bad_input_is_refused_before_busctl_runs(fake):
    sd = Systemd()
    for bad in (lambda: sd.start_transient_scope("w.service", [1]),
                lambda: sd.start_transient_scope("w.scope", []),
                lambda: sd.start_transient_scope("w.scope", [0]),
                lambda: sd.start_transient_scope("w.scope", [1], slice="x"),
                lambda: sd.attach_processes_to_unit("a b", "", [1])):
        with pytest.raises(SystemdError):
            bad()
    with pytest.raises(PropertyError, match="'Nice' is not a property ctrtui sets"):
        sd.start_transient_scope("w.scope", [1], properties=["Nice=5"])
    assert fake.calls() == [] and sd.calls == 0


def test_answers_of_the_wrong_shape_are_errors_not_crashes(fake):
    sd = Systemd()
    shapes = ['{"type":"b"}\n', "[1,2]\n", "not json\n", '{"type":"b","data":true}\n{"type":"b","data":true}\n']
    for out in shapes:
        fake.answer({"match": "Delegate", "out": out})
        with pytest.raises(SystemdError, match="busctl"):
            sd.placement("/x.scope")
    fake.answer({"match": "StartTransientUnit", "out": '{"type":"o","data":["/etc/passwd"]}\n'})
    with pytest.raises(SystemdError, match="not a job path"):
        sd.start_transient_scope("w.scope", [10])


def test_an_endless_answer_is_cut_at_the_bound(fake):
    fake.answer({"match": "Delegate", "out": "x" * 65536, "repeat": MAX_ANSWER // 65536 + 2})
    with pytest.raises(SystemdError, match=f"longer than {MAX_ANSWER} bytes"):
        Systemd().placement("/x.scope")


def test_a_hung_busctl_is_killed_after_the_timeout(fake):
    fake.answer({"match": "Delegate", "sleep": 30})
    sd = Systemd(timeout=0.2)  # busctl is told --timeout=1; ctrtui kills it after 1.24 s
    with pytest.raises(SystemdError, match="gave no answer"):
        sd.placement("/x.scope")


def test_no_busctl_says_what_is_missing(tmp_path):
    with pytest.raises(SystemdError, match="busctl could not be run"):
        Systemd(busctl=str(tmp_path / "nope")).version()


def test_properties_are_parsed_into_dbus_types():
    assert parse_property("CPUWeight=50") == ("CPUWeight", "t", ("50",))
    assert parse_property("MemoryMax=512M").args == (str(512 << 20),)
    assert parse_property("MemoryHigh=1.5G").args == (str(3 << 29),)
    assert parse_property("MemoryLow=4096").args == ("4096",)
    assert parse_property("MemorySwapMax=infinity").args == (str(INFINITY),)
    assert parse_property("CPUQuota=150%") == ("CPUQuotaPerSecUSec", "t", ("1500000",))
    assert parse_property("TasksMax=100").args == ("100",)
    assert parse_property("IOAccounting=off").args == ("false",)
    assert parse_property("CollectMode=inactive-or-failed").args == ("inactive-or-failed",)
    assert [p.args for p in parse_properties(["CPUWeight=5", "CPUWeight=7"])] == [("7",)]
    for bad, said in (("CPUWeight=0", "from 1 to 10000"), ("CPUWeight=x", "from 1 to 10000"),
                      ("MemoryMax=-1", "a size in bytes"), ("MemoryMax=1Q", "a size in bytes"),
                      ("MemoryMax=", "a size in bytes"), ("CPUQuota=50", "percentage"),
                      ("TasksMax=lots", "number of tasks"), ("Delegate=maybe", "yes or no"),
                      ("Description=\x1b[2J", "printable text"), ("CollectMode=never", "inactive"),
                      ("CPUWeight", "not PROPERTY=VALUE"), ("ExecStart=/bin/sh", "is not a property")):
        with pytest.raises(PropertyError, match=said) as e:
            parse_property(bad)
        assert "\x1b" not in str(e.value)


def _tree(tmp: Path, comm: str | None, mountinfo: str, booted: bool = True) -> tuple[str, str]:
    proc, run = tmp / "proc", tmp / "run"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "mountinfo").write_text(mountinfo)
    if comm is not None:
        (proc / "1").mkdir()
        (proc / "1" / "comm").write_text(comm + "\n")
    if booted:
        (run / "systemd" / "system").mkdir(parents=True)
    return str(proc), str(run)


V2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V1 = ("30 23 0:26 / /sys/fs/cgroup/systemd rw shared:4 - cgroup cgroup rw,xattr,name=systemd\n"
      "31 23 0:27 / /sys/fs/cgroup/pids rw shared:5 - cgroup cgroup rw,pids\n")


@pytest.mark.parametrize(("comm", "mounts", "booted", "expect"), [
    ("systemd", V2, True, (True, "unified", "/sys/fs/cgroup", "")),
    ("systemd", V1, True, (True, "name=systemd", "/sys/fs/cgroup/systemd", "")),
    ("systemd", "", True, (False, "", "", "neither a cgroup v2 nor a name=systemd")),
    ("init", V2, True, (False, "", "", "PID 1 is 'init', not systemd")),
    ("systemd", V2, False, (False, "", "", "not the init system")),
    (None, V2, True, (False, "", "", "cannot tell")),
])
def test_detect(tmp_path, comm, mounts, booted, expect):
    got = detect(*_tree(tmp_path, comm, mounts, booted))
    assert got[:3] == expect[:3] and expect[3] in got.reason


def test_an_old_busctl_without_json_says_which_systemd_is_needed(fake):
    fake.answer({"err": "busctl: unrecognized option '--json=short'\n", "rc": 1})
    with pytest.raises(SystemdError, match="systemd 240 or newer") as e:
        Systemd().version()
    assert "--via kernel" in str(e.value)


def test_risk_kind_maps_units_to_the_measured_kinds():
    assert risk_kind("service", False) == "service" and risk_kind("scope", True) == "delegated-scope"
    assert risk_kind("service", True) == "delegated-service" and risk_kind("slice", False) == "slice"
    assert risk_kind("socket", False) == "service" and risk_kind("slice", True) == "delegated-service"


def test_every_fact_has_its_three_actions_and_refusals_name_who_refused():
    assert set(FACTS) == {(k, p) for k in KINDS for p in PLACED_BY} - {("new-scope", "kernel")}
    for key, row in FACTS.items():
        assert tuple(row) == ACTIONS and set(row.values()) <= {"killed", "left", "moved", "not-applicable", "refused"}
        assert (set(row.values()) == {"refused"}) == (key in REFUSALS)


@pytest.mark.parametrize("key", sorted(FACTS))
def test_the_risk_wording_follows_the_facts(key):
    kind, placed = key
    row, text = FACTS[key], risk_for(kind, placed, "w\x1b[2J.service")
    assert text.endswith(".") and "\x1b" not in text
    if key in REFUSALS:
        assert ("not delegated" if placed == "systemd" else "EBUSY") in text
        return
    assert "w\\x1b[2J.service" in text
    for action, outcome in row.items():
        said = {"killed": "kills the task", "left": "where it is", "not-applicable": "does not apply"}[outcome]
        assert f"systemctl {action}" in text and said in text


def test_an_unmeasured_kind_is_said_to_be_unmeasured():
    assert "has not measured" in risk_for("automount", "kernel", "x.automount")


def test_docs_table_is_the_facts():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "systemd.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip(" `") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and (cells[0], cells[1]) in FACTS:
            rows[(cells[0], cells[1])] = dict(zip(ACTIONS, cells[2:], strict=True))
    assert rows == FACTS


def test_control_group_of_a_unit(fake):
    fake.answer({"match": "Scope ControlGroup", "out": '{"type":"s","data":"/batch.slice/w.scope"}\n'},
                {"match": "Scope ControlGroup", "out": '{"type":"s","data":"relative\\u001b"}\n'})
    sd = Systemd()
    assert sd.control_group("w.scope") == "/batch.slice/w.scope"
    with pytest.raises(SystemdError, match="not a cgroup path"):
        sd.control_group("w.scope")
    with pytest.raises(SystemdError, match="not the name of a unit that has a cgroup"):
        sd.control_group("x.timer")
    assert fake.calls()[0][4:] == ["org.freedesktop.systemd1", "/org/freedesktop/systemd1/unit/w_2escope",
                                   "org.freedesktop.systemd1.Scope", "ControlGroup"]
