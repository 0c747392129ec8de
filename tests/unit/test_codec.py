"""The agent protocol's codec (ctrtui/service/codec.py): every value that crosses comes back
equal after encode, JSON and decode (values from a real engine on a simulated world, and
hypothesis-made ones), and what a hostile host could send instead is refused with one
sentence naming it, never a traceback nor a value out of range."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrtui.engine.opvalues import OpRefusal, OpResult
from ctrtui.engine.values import OUTCOMES, VERDICT_KINDS, Outcome, Plan, Report, ScopeRequest, Verdict
from ctrtui.model import CgroupRef, Hierarchy, TaskInfo
from ctrtui.model.cgstats import PRESSURE, Figures
from ctrtui.remote import hostjson
from ctrtui.service import codec
from ctrtui.service.codec import CodecError
from ctrtui.service.local import LocalService
from ctrtui.service.values import BatchLog, Undone
from ctrtui.sources.simulated import SimKernel

SIDE = "host \x1b[31mevil"


@pytest.fixture(autouse=True)
def _dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _wire(obj: object) -> object:
    """What the other side reads: the JSON of one protocol line."""
    return json.loads(json.dumps(obj, allow_nan=False))


def _world(tmp_path: Path) -> tuple[LocalService, SimKernel, int]:
    k = SimKernel()
    k.add_hierarchy("freezer", 1, ["freezer"])
    k.mkdir("freezer", "/a")
    k.mkdir("freezer", "/b")
    pid = k.spawn("sleep", cgroups={"freezer": "/a"})
    return LocalService(k, journal_path=str(tmp_path / "journal.jsonl")), k, pid


def test_a_real_plan_report_undo_log_and_op_come_back_equal(tmp_path):
    s, k, pid = _world(tmp_path)
    plan = s.plan([pid, "0x10", pid + 1000], CgroupRef("freezer", "/b"))
    assert {v.kind for v in plan.verdicts} == {"move", "refused", "vanished"}
    back = codec.decode_plan(_wire(codec.encode_plan(plan)), SIDE)
    assert back == plan and back.verdicts[0].task == plan.verdicts[0].task
    report = s.apply(plan)
    assert codec.decode_report(_wire(codec.encode_report(report)), SIDE) == report
    undone = s.undo()
    got = codec.decode_undone(_wire(codec.encode_undone(undone)), SIDE)
    assert got.report == undone.report and got.op is None and got.warnings == undone.warnings
    made = s.cgroup_op("mkdir", CgroupRef("freezer", "/a/new"))
    op = codec.decode_op_result(_wire(codec.encode_op_result(made)), SIDE)
    assert codec.encode_op_result(op) == codec.encode_op_result(made) and op.sentence() == made.sentence()
    log = s.log()
    got_log = codec.decode_log(_wire(codec.encode_log(log)), SIDE)
    assert got_log.rows() == log.rows() and got_log.path == log.path and len(got_log.rows()) == 3
    figs = s.stats({"freezer": ["/", "/a", "/b"]}, 0)
    assert codec.decode_stats(_wire(codec.encode_stats(figs)), SIDE) == figs


def test_nothing_left_to_undo_and_a_refused_op_come_back():
    u = Undone(nothing_left="the journal has no batch", warnings=("w1",))
    got = codec.decode_undone(_wire(codec.encode_undone(u)), SIDE)
    assert (got.report, got.op, got.nothing_left, got.warnings) == (None, None, u.nothing_left, ("w1",))
    r = OpResult("rmdir", CgroupRef("freezer", "/x"), "refused", OpRefusal("EBUSY", "it has tasks", "move them"),
                 predicted=True)
    back = codec.decode_op_result(_wire(codec.encode_op_result(r)), SIDE)
    assert back.sentence() == r.sentence() and back.refusal is not None and back.refusal.errno == "EBUSY"


no_nul = st.characters(blacklist_characters="\0")  # no kernel text holds NUL
texts = st.text(alphabet=no_nul, max_size=40)
opt_texts = st.none() | texts
paths = st.lists(st.text(alphabet=st.characters(blacklist_characters="/\0"), min_size=1, max_size=8),
                 max_size=3).map(lambda parts: "/" + "/".join(parts))
pids = st.none() | st.integers(1, 2 ** 22)
u63 = st.integers(0, 2 ** 63 - 1)
errnos = st.none() | st.sampled_from(["ESRCH", "EPERM", "EBUSY", "E2BIG", "errno 1234"])  # errno_name's forms
refs = st.builds(CgroupRef, st.sampled_from(["freezer", "unified", "cpu,cpuacct"]), paths)
tasks = st.builds(TaskInfo, pid=st.integers(1, 2 ** 22), tgid=st.integers(1, 2 ** 22),
                  comm=st.text(alphabet=no_nul, max_size=15),
                  state=st.sampled_from(["S", "R", "Z"]), uid=st.integers(0, 2 ** 32 - 1),
                  euid=st.integers(0, 2 ** 32 - 1), suid=st.integers(0, 2 ** 32 - 1), start_time=u63, flags=u63,
                  threads=st.integers(0, 2 ** 31 - 1), cmdline=opt_texts, user=opt_texts,
                  cpu_percent=st.none() | st.floats(0, 1e6), rss=st.none() | u63, ppid=st.integers(0, 2 ** 22))
verdicts = st.builds(Verdict, texts, pids, st.sampled_from(VERDICT_KINDS), errno=errnos, hook=opt_texts,
                     reason=texts, advice=texts, warnings=st.lists(texts, max_size=2).map(tuple),
                     start_time=st.none() | u63, source=st.none() | paths, task=st.none() | tasks,
                     identity=st.none() | st.tuples(u63, u63, u63))
hierarchies = st.builds(Hierarchy, st.sampled_from(["freezer", "unified"]), st.integers(1, 2),
                        st.lists(st.sampled_from(["cpu", "io"]), max_size=2).map(tuple), texts, paths,
                        st.integers(0, 100))
scopes = st.builds(ScopeRequest, texts, opt_texts, st.lists(texts, max_size=3).map(tuple))
routes = st.one_of(st.tuples(st.sampled_from(["kernel", "systemd"]), st.none()), st.tuples(st.just("scope"), scopes))
plans = st.builds(lambda route, *a: Plan(*a, route=route[0], scope=route[1]), routes, refs, st.booleans(),
                  st.lists(verdicts, max_size=4).map(tuple), hierarchies, st.floats(0, 2e9))
outcomes = st.builds(Outcome, texts, pids, st.sampled_from(OUTCOMES), errno=errnos, hook=opt_texts, reason=texts,
                     advice=texts, warnings=st.lists(texts, max_size=2).map(tuple), source=st.none() | paths,
                     target=st.none() | paths, start_time=st.none() | u63)
reports = st.builds(Report, texts, refs, st.booleans(), st.lists(outcomes, max_size=4).map(tuple),
                    rolled_back=st.booleans(), undo_of=opt_texts, warnings=st.lists(texts, max_size=2).map(tuple),
                    journaled=st.booleans(), interrupted=st.none() | st.sampled_from(["SIGINT", "SIGTERM"]))
rates = st.none() | st.floats(0, 1e12)
figures = st.builds(Figures, cpu=rates, memory=st.none() | u63, read=rates, write=rates, pids=st.none() | u63,
                    pids_max=st.none() | u63, frozen=st.none() | st.booleans(), swap=st.none() | u63,
                    pressure=st.tuples(*[rates] * len(PRESSURE)))


@settings(max_examples=30, deadline=None)
@given(plans)
def test_any_plan_comes_back_equal(plan):
    assert codec.decode_plan(_wire(codec.encode_plan(plan)), SIDE) == plan


@settings(max_examples=30, deadline=None)
@given(reports)
def test_any_report_comes_back_equal(report):
    assert codec.decode_report(_wire(codec.encode_report(report)), SIDE) == report


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.sampled_from(["freezer", "unified"]), st.dictionaries(paths, figures, max_size=3)))
def test_any_stats_come_back_equal(stats):
    assert codec.decode_stats(_wire(codec.encode_stats(stats)), SIDE) == stats


@settings(max_examples=25, deadline=None)
@given(st.lists(texts, max_size=5))
def test_any_risks_come_back_equal(risks):
    assert codec.decode_risks(_wire(codec.encode_risks(risks)), SIDE) == risks


def test_errors_come_back_and_an_unknown_kind_is_refused():
    err = codec.encode_error("os-error", "freeze freezer:/a: Permission denied", "EACCES")
    assert codec.decode_error(_wire(err), SIDE) == ("os-error", "freeze freezer:/a: Permission denied", "EACCES")
    with pytest.raises(CodecError):
        codec.decode_error({**err, "kind": "oops"}, SIDE)
    with pytest.raises(CodecError):
        codec.decode_error({**err, "errno": "not an errno"}, SIDE)
    assert codec.decode_error({**err, "errno": "errno 1234"}, SIDE)[2] == "errno 1234"  # errno_name of a number


def test_infinite_figures_and_cpu_travel_as_unknown():
    x = Figures(cpu=math.inf, read=math.nan, pressure=(math.inf,) * len(PRESSURE))
    back = codec.decode_stats(_wire(codec.encode_stats({"h": {"/": x}})), SIDE)["h"]["/"]
    assert back.cpu is None and back.read is None and back.pressure == (None,) * len(PRESSURE)


def _plan_dict(tmp_path: Path) -> dict:
    s, _, pid = _world(tmp_path)
    return codec.encode_plan(s.plan([pid], CgroupRef("freezer", "/b")))  # type: ignore[return-value]


def _set(d: dict, dotted: str, value: object) -> dict:
    """A deep copy of `d` with the field at `dotted` (`verdicts.0.pid`) set to `value`
    (or removed when `value` is `...`)."""
    d = json.loads(json.dumps(d))
    keys = dotted.split(".")
    at = d
    for k in keys[:-1]:
        at = at[int(k)] if isinstance(at, list) else at[k]
    last: int | str = int(keys[-1]) if isinstance(at, list) else keys[-1]
    if value is ...:
        del at[last]
    else:
        at[last] = value
    return d


@pytest.mark.parametrize(("field", "value"), [
    ("verdicts.0.pid", 0), ("verdicts.0.pid", 2 ** 40), ("verdicts.0.pid", "1"), ("verdicts.0.pid", True),
    ("verdicts.0.kind", "moved"), ("verdicts.0.kind", None), ("verdicts.0.errno", "rm -rf"),
    ("verdicts.0.start_time", -1), ("verdicts.0.start_time", 2 ** 70), ("verdicts.0.reason", "x" * 70_000),
    ("verdicts.0.reason", "a\0b"), ("verdicts.0.source", "relative/path"), ("verdicts.0.warnings", "one"),
    ("verdicts.0.warnings", [1]), ("verdicts.0.identity", [1, -2]), ("verdicts.0.identity", list(range(9))),
    ("verdicts.0.task.uid", 2 ** 32), ("verdicts.0.task.comm", 5), ("verdicts.0.task.cpu_percent", 1e300 * 10),
    ("verdicts.0.task", []), ("verdicts.0", "move"), ("verdicts", {}), ("verdicts.0.text", ...),
    ("target.path", "a/b"), ("target", "freezer:/b"), ("hierarchy.version", 3), ("hierarchy.controllers", [None]),
    ("created", float("nan")), ("created", "now"), ("threads", 1),
    ("route", "dbus\x1b[31m"), ("route", None), ("route", ...), ("route", "scope"), ("scope", ...),
    ("scope", {"name": "w.scope", "slice": None, "properties": []}), ("scope", "w.scope"),
])
def test_a_hostile_plan_is_refused_with_one_sentence_naming_the_host(tmp_path, field, value):
    bad = _set(_plan_dict(tmp_path), field, value)
    with pytest.raises(CodecError) as e:
        codec.decode_plan(bad, SIDE)
    text = str(e.value)
    assert text.startswith(SIDE + " answered ") and "\n" not in text and len(text) < 400


def _scope_plan_dict() -> dict:
    plan = Plan(CgroupRef("unified", "/system.slice/w.scope"), False, (Verdict("7", 7, "move"),),
                Hierarchy("unified", 2, (), "/sys/fs/cgroup", "/", 0), 1.0, route="scope",
                scope=ScopeRequest("w.scope", "batch.slice", ("CPUWeight=50", "MemoryMax=1G")))
    d = _wire(codec.encode_plan(plan))
    assert isinstance(d, dict) and codec.decode_plan(d, SIDE) == plan
    return d


@pytest.mark.parametrize(("field", "value"), [
    ("scope.name", None), ("scope.name", 5), ("scope.name", "w" * 257), ("scope.name", "a\0b"), ("scope.name", ...),
    ("scope.slice", 1), ("scope.slice", "s" * 257), ("scope.properties", "CPUWeight=50"),
    ("scope.properties", [None]), ("scope.properties", ["p=" + "x" * 70_000]),
    ("scope.properties", ["A=1"] * 257), ("scope.properties", ...), ("scope", []), ("route", "kernel"),
])
def test_a_hostile_new_scope_is_refused_with_one_sentence_naming_the_host(field, value):
    bad = _set(_scope_plan_dict(), field, value)
    with pytest.raises(CodecError) as e:
        codec.decode_plan(bad, SIDE)
    text = str(e.value)
    assert text.startswith(SIDE + " answered ") and "\n" not in text and len(text) < 400, text


def test_a_scope_request_alone_comes_back_and_a_hostile_one_is_refused():
    req = ScopeRequest("w.scope", None, ("CPUWeight=50",))
    assert codec.decode_scope(_wire(codec.encode_scope(req)), SIDE) == req
    for bad in (None, [], {"name": "w.scope", "slice": None}, {"name": "w.scope", "slice": None, "properties": [3]}):
        with pytest.raises(CodecError, match="a new scope"):
            codec.decode_scope(bad, SIDE)


@pytest.mark.parametrize("value", [None, [], "plan", 5, {"verdicts": []}])
def test_what_is_not_a_plan_at_all_is_refused(value):
    with pytest.raises(CodecError, match="cannot be read"):
        codec.decode_plan(value, SIDE)


def test_hostile_reports_undos_ops_logs_and_stats_are_refused():
    report = codec.encode_report(Report("b1", CgroupRef("freezer", "/b"), False,
                                        (Outcome("1", 1, "moved", target="/b"),)))
    op = codec.encode_op_result(OpResult("mkdir", CgroupRef("freezer", "/n"), "done", batch_id="b2"))
    cases = [
        (codec.decode_report, _set(report, "outcomes.0.outcome", "teleported")),
        (codec.decode_report, _set(report, "journaled", "yes")),
        (codec.decode_report, _set(report, "outcomes", [None])),
        (codec.decode_op_result, _set(op, "op", "rm")),
        (codec.decode_op_result, _set(op, "outcome", "refused")),  # refused without its refusal
        (codec.decode_op_result, _set(op, "warnings", [["nested"]])),
        (codec.decode_undone, {"report": report, "op": op, "nothing_left": "", "warnings": []}),
        (codec.decode_undone, {"report": None, "op": None, "nothing_left": 3, "warnings": []}),
        (codec.decode_log, {"rows": [{"batch": "x"}], "path": None, "warnings": []}),
        (codec.decode_log, {"rows": "all", "path": None, "warnings": []}),
        (codec.decode_stats, {"h": {"relative": {}}}),
        (codec.decode_stats, {"h": {"/": {"cpu": None}}}),
        (codec.decode_stats, {f"h{i}": {} for i in range(65)}),
        (codec.decode_risks, ["fine", 7]),
        (codec.decode_risks, "one risk"),
    ]
    for decode, value in cases:
        with pytest.raises(CodecError) as e:
            decode(value, SIDE)
        assert str(e.value).startswith(SIDE), (decode, value)


def test_a_log_row_out_of_range_is_refused(tmp_path):
    s, _, pid = _world(tmp_path)
    s.apply(s.plan([pid], CgroupRef("freezer", "/b")))
    good = codec.encode_log(s.log())
    for field, value in [("rows.0.state", "exploded"), ("rows.0.counts.teleported", 1), ("rows.0.tasks", -1),
                         ("rows.0.writer_pid", 0), ("rows.0.op", "rm"), ("path", 5)]:
        with pytest.raises(CodecError):
            codec.decode_log(_set(good, field, value), SIDE)
    assert isinstance(codec.decode_log(good, SIDE), BatchLog)


def test_the_codec_bounds_integers_as_a_hosts_json_is_bounded():
    assert codec.MAX_INT == hostjson.MAX_INT
