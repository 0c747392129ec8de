"""The command line across hosts (ctrtui/cli/hosts.py) with fake hosts: each fake host runs the
real command line on the demo world in-process (`ctrtui --demo COMMAND ...` built from the
`cli` op's options), or answers what the test tells it (hostile text, a failure, an exit
code). Through real sshd: tests/real/test_cli_hosts_real.py."""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
from types import SimpleNamespace

import pytest

from ctrtui.cli import hosts as clihosts
from ctrtui.cli.listing import hierarchies_lines, ls_lines, stats_lines, tasks_lines
from ctrtui.remote.errors import EXIT_HOST, HostError
from ctrtui.report import log_lines
from tests.clihelpers import isolated_dirs, run  # noqa: F401 - isolated_dirs is autouse

_RUN = threading.Lock()  # the demo command line prints to sys.stdout: one fake host at a time

FLAGS = {"stats": "--stats", "threads": "--threads", "dry_run": "--dry-run", "all_or_nothing": "--all-or-nothing",
         "no_journal": "--no-journal", "json": "--json"}


def argv_of(command: str, options: dict) -> list[str]:
    """`ctrtui --demo COMMAND ...` for the `cli` op's options (dest names)."""
    argv = ["--demo", command]
    for key, value in options.items():
        if key in FLAGS:
            argv += [FLAGS[key]] if value else []
        elif key in ("cgroup", "batch"):
            argv += [value] if value is not None else []
        elif key == "pids":
            argv += value
        elif key == "target":
            argv += ["--to", value]
        elif key == "stats_interval":
            argv += ["--sample", str(value)]
        elif key == "stats_sort":
            argv += ["--sort", value]
        elif key == "limit":
            argv += ["--limit", str(value)]
        else:
            raise AssertionError(f"an option the cli op does not take: {key}")
    return argv


def demo_answer(command: str, options: dict) -> SimpleNamespace:
    from ctrtui.main import main

    with _RUN, contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(argv_of(command, options))
    return SimpleNamespace(exit=code, stdout=out.getvalue(), stderr=err.getvalue())


class Channel:
    def __init__(self, name, answer):
        self.name, self.answer, self.sent, self.closed = name, answer, [], False

    def cli(self, command, options, timeout=None):
        self.sent.append((command, options))
        if self.answer is None:
            return demo_answer(command, options)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    def close(self):
        self.closed = True

    def left_open(self, how=None):
        return []  # the host's journal holds no open batch


class Fleet:
    """The fake `connect`: host name -> its answer (None: the demo world's own)."""

    def __init__(self, **answers):
        self.answers = answers
        self.channels: dict[str, Channel] = {}
        self.options = None
        self.sent: list = []

    def __call__(self, spec, options):
        self.options = options
        answer = self.answers.get(spec.name.replace(".", "_"))
        if isinstance(answer, HostError):
            raise answer
        ch = self.channels[spec.name] = Channel(spec.name, answer)
        ch.sent = self.sent
        return ch


@pytest.fixture
def fleet(monkeypatch):
    def install(**answers):
        f = Fleet(**answers)
        monkeypatch.setattr(clihosts, "CONNECT", f)
        return f
    return install


def dead(name="dead"):
    return HostError(name, "unreachable", "ssh: connect to host dead port 22: Connection refused",
                     "check the host name and port.")


# ------------------------------------------------------------------- options


def test_hosts_before_and_after_the_subcommand_add_up_in_order(capsys, fleet, tmp_path):
    f = fleet()
    hosts = tmp_path / "hosts"
    hosts.write_text("# the web tier\nweb3\n\nroot@web4:2222  # a comment\n")
    rc, out, err = run(capsys, "--host", "web1", "hierarchies", "--host", "web2", "--hosts", str(hosts))
    assert rc == 0, err
    assert list(f.channels) == ["web1", "web2", "web3", "root@web4:2222"]
    hosts_in_rows = [line.split()[0] for line in out.splitlines()[1:]]
    assert list(dict.fromkeys(hosts_in_rows)) == ["web1", "web2", "web3", "root@web4:2222"]


def test_a_host_named_twice_is_contacted_once(capsys, fleet):
    f = fleet()
    rc, _, err = run(capsys, "hierarchies", "--host", "a", "--host", "b", "--host", "a")
    assert rc == 0, err
    assert list(f.channels) == ["a", "b"]


def test_connect_options_come_from_the_command_line(capsys, fleet, monkeypatch):
    monkeypatch.setenv("CTRTUI_SSH_CONFIG", "/etc/from-env")
    f = fleet()
    rc, _, err = run(capsys, "hierarchies", "--host", "a", "--sudo", "--remote-python", "/opt/py/bin/python3",
                     "--timeout", "2.5")
    assert rc == 0, err
    o = f.options
    assert (o.sudo, o.python, o.timeout, o.ssh_config) == (True, "/opt/py/bin/python3", 2.5, "/etc/from-env")
    rc, _, _ = run(capsys, "hierarchies", "--host", "a", "--ssh-config", "/etc/mine")
    assert (f.options.sudo, f.options.python, f.options.timeout, f.options.ssh_config) == \
        (False, "python3", 10.0, "/etc/mine")


@pytest.mark.parametrize("argv, words", [
    (["ls", "--host=-oProxyCommand=x"], "--host: '-oProxyCommand=x' is not a host"),
    (["ls", "--host", "web1:99999"], "outside 1..65535"),
    (["ls", "--hosts", "/nonexistent/hosts"], "cannot be read"),
    (["ls", "--host", "a", "--timeout", "0"], "--timeout 0.0"),
    (["ls", "--host", "a", "--timeout", "nan"], "--timeout nan"),
    (["ls", "--host", "a", "--jobs", "0"], "--jobs 0"),
    (["ls", "--host", "a", "--remote-python=-c"], "--remote-python -c"),
    (["ls", "--host", "a", "--demo"], "--demo"),
    (["ls", "--host", "a", "--journal", "j.jsonl"], "--journal names a file on this machine"),
    (["undo", "--host", "a", "--policy", "p.toml"], "--policy names a file on this machine"),
    (["move", "1", "--to", "freezer:/", "--host", "a", "--host", "b"],
     "ctrtui: `move` and `undo` take one host: a PID or a batch id means something different on each host "
     "(run `move` once per host)\n"),
    (["undo", "--host", "a", "--host", "b"],
     "ctrtui: `move` and `undo` take one host: a PID or a batch id means something different on each host "
     "(run `undo` once per host)\n"),
    (["move", "12x", "--to", "freezer:/", "--host", "a"], "12x"),
    (["move", "0", "--to", "freezer:/", "--host", "a"], "0"),
    (["move", "5000000", "--to", "freezer:/", "--host", "a"], "5000000"),
    (["move", "1", "--to", "freezer:/a/../b", "--host", "a"], "'..' are not allowed"),
    (["tasks", ":/x", "--host", "a"], ":/x"),
    (["ls", "--stats", "--sample", "-1", "--host", "a"], "--sample -1.0"),
    (["log", "--limit", "-3", "--host", "a"], "--limit"),
    (["mkdir", "freezer:/", "--host", "a"], "give the new cgroup's path"),
    (["sudo-less", "--sudo"], None),
])
def test_bad_input_is_one_line_and_exit_2_before_any_host_is_contacted(capsys, fleet, argv, words):
    f = fleet()
    if argv[0] == "sudo-less":
        rc, out, err = run(capsys, "ls", "--sudo", "--demo")
        words = "--sudo applies to remote hosts"
    else:
        rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("ctrtui: "), err
    assert words in err
    assert f.channels == {}


@pytest.mark.parametrize("argv, words", [
    (["--host", "web1", "--cgroup", "unified:/x"], "--cgroup names a cgroup of one machine"),
    (["--host", "web1", "--journal", "j"], "--journal names a file on this machine"),
    (["--host", "bad host"], "is not a host"),
    (["--sudo"], "--sudo applies to remote hosts"),
    (["--host", "local", "--sudo"], "--sudo applies to remote hosts"),
])
def test_the_terminal_ui_checks_its_hosts(capsys, fleet, argv, words):
    f = fleet()
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and words in err and len(err.splitlines()) == 1
    assert f.channels == {}


def test_local_alone_is_this_machine_as_without_host(capsys, fleet):
    f = fleet()
    for argv in (["hierarchies"], ["ls", "freezer:/"], ["tasks", "freezer:/", "--json"]):
        expected = run(capsys, "--demo", *argv)
        assert run(capsys, "--demo", "--host", "local", *argv) == expected
    assert f.channels == {}


# ------------------------------------------------------------------- one host


def test_one_host_prints_what_the_host_printed_scrubbed(capsys, fleet):
    fleet(web1=SimpleNamespace(exit=1, stdout="moved 1\x1b[2J\nline\rtwo\u2028\x85\n",
                               stderr="ctrtui: \x1b]0;pwned\x07 no\n"))
    rc, out, err = run(capsys, "freeze", "freezer:/x", "--host", "web1")
    assert rc == 1
    assert out == "moved 1\\x1b[2J\nline\\x0dtwo\\u2028\\u0085\n"
    assert err == "ctrtui: \\x1b]0;pwned\\x07 no\n"


@pytest.mark.parametrize("argv", [["hierarchies"], ["ls"], ["ls", "freezer:/", "--json"], ["tasks", "freezer:/"],
                                  ["log"], ["rmdir", "freezer:/nonexistent"]])
def test_one_host_output_is_the_commands_own(capsys, fleet, argv):
    fleet()
    assert run(capsys, *argv, "--host", "web1") == run(capsys, "--demo", *argv)


def test_one_host_that_cannot_be_used_is_one_line_and_exit_3(capsys, fleet):
    fleet(web1=dead("web1"))
    rc, out, err = run(capsys, "ls", "--host", "web1", "--json")
    assert rc == EXIT_HOST == 3
    assert out == ""
    assert err == "web1: ssh: connect to host dead port 22: Connection refused (check the host name and port)\n"


def test_ls_stats_sort_goes_to_the_host_and_a_bad_one_is_refused_here(capsys, fleet):
    f = fleet(a=SimpleNamespace(exit=0, stdout="", stderr=""))
    run(capsys, "ls", "--stats", "--sample", "0", "--sort", "io_some", "--host", "a")
    assert f.sent == [("ls", {"json": False, "cgroup": None, "stats": True, "stats_interval": 0.0,
                              "stats_sort": "io_some"})]
    rc, out, err = run(capsys, "ls", "--stats", "--sort", "load", "--host", "a")
    assert rc == 2 and out == "" and "--sort load" in err and len(f.sent) == 1


def test_an_answer_that_is_not_an_exit_code_and_output_is_a_protocol_error(capsys, fleet):
    fleet(web1=SimpleNamespace(exit="0", stdout="", stderr=""))
    rc, _, err = run(capsys, "ls", "--host", "web1")
    assert rc == 3 and err.startswith("web1: the host's answer")


def test_the_cli_op_options_are_typed_dest_names(capsys, fleet):
    f = fleet(a=SimpleNamespace(exit=0, stdout="", stderr=""))
    run(capsys, "move", " 12", "34", "--to", "freezer:/x", "--dry-run", "--host", "a")
    run(capsys, "ls", "--stats", "--sample", "1.5", "--host", "a")
    run(capsys, "undo", "--host", "a")
    run(capsys, "log", "-n", "3", "--host", "a", "--json")
    assert f.sent == [
        ("move", {"json": False, "pids": [" 12", "34"], "target": "freezer:/x", "threads": False, "dry_run": True,
                  "all_or_nothing": False, "no_journal": False}),
        ("ls", {"json": False, "cgroup": None, "stats": True, "stats_interval": 1.5}),
        ("undo", {"json": False, "batch": None}),
        ("log", {"json": True, "limit": 3}),
    ]


# ------------------------------------------------------------------- several hosts


def _body(line: str, width: int) -> str:
    return line[width + 2:]


@pytest.mark.parametrize("argv", [["hierarchies"], ["ls"], ["ls", "freezer:/"], ["tasks", "freezer:/"]])
def test_several_hosts_make_one_table_with_a_host_column(capsys, fleet, argv):
    fleet()
    _, local, _ = run(capsys, "--demo", *argv)
    rc, out, err = run(capsys, *argv, "--host", "web1", "--host", "db.example:2222")
    assert rc == 0, err
    local_lines = local.splitlines()
    lines = out.splitlines()
    w = len("db.example:2222")
    assert lines[0] == f"{'HOST':<{w}}  {local_lines[0]}"  # one header
    rows = lines[1:]
    assert len(rows) == 2 * (len(local_lines) - 1)
    half = len(rows) // 2
    assert all(r.startswith(f"{'web1':<{w}}  ") for r in rows[:half])
    assert all(r.startswith("db.example:2222  ") for r in rows[half:])
    # each host's rows are the local command's rows, the columns as wide
    assert [_body(r, w) for r in rows[:half]] == local_lines[1:]
    assert [_body(r, w) for r in rows[half:]] == local_lines[1:]


def test_several_hosts_json_is_one_array_with_a_host_field(capsys, fleet):
    fleet(c=dead("c"))
    _, local, _ = run(capsys, "--demo", "tasks", "freezer:/", "--json")
    local_rows = json.loads(local)
    rc, out, err = run(capsys, "tasks", "freezer:/", "--json", "--host", "a", "--host", "c", "--host", "b")
    assert rc == 3
    items = json.loads(out)
    n = len(local_rows)
    assert [i["host"] for i in items] == ["a"] * n + ["c"] + ["b"] * n  # in the order the hosts were given
    assert all(next(iter(i)) == "host" for i in items)  # the host first
    assert [{k: v for k, v in i.items() if k != "host"} for i in items[:n]] == local_rows
    assert items[n] == {"host": "c", "error": {"kind": "unreachable", "message": dead().message,
                                               "hint": "check the host name and port."}}
    assert err == "c: ssh: connect to host dead port 22: Connection refused (check the host name and port)\n"


def test_several_hosts_json_objects_gain_a_host(capsys, fleet):
    fleet()
    rc, out, err = run(capsys, "mkdir", "freezer:/new", "--json", "--host", "a", "--host", "b")
    assert rc == 0, err
    items = json.loads(out)
    assert [i["host"] for i in items] == ["a", "b"]
    assert all(i["op"] == "mkdir" and i["outcome"] == "done" for i in items)


def test_a_hosts_own_host_field_does_not_pass_for_ours(capsys, fleet):
    fleet(a=SimpleNamespace(exit=0, stdout='[{"host": "b", "x": 1}]', stderr=""))
    rc, out, _ = run(capsys, "log", "--json", "--host", "a", "--host", "b")
    assert json.loads(out)[0] == {"host": "a", "x": 1}


def test_several_hosts_sentences_are_prefixed_with_the_host(capsys, fleet):
    fleet()
    _, local, _ = run(capsys, "--demo", "mkdir", "freezer:/new")
    rc, out, err = run(capsys, "mkdir", "freezer:/new", "--host", "a", "--host", "b")
    assert rc == 0, err
    batch = re.compile(r"batch [0-9T]+-[0-9a-f]+")
    line = batch.sub("B", local.strip())
    assert batch.sub("B", out).splitlines() == [f"a: {line}", f"b: {line}"]


def test_each_hosts_stderr_is_prefixed_and_scrubbed(capsys, fleet):
    fleet(a=SimpleNamespace(exit=2, stdout="", stderr="ctrtui: no cgroup freezer:/x\x1b[1m\n"),
          b=SimpleNamespace(exit=0, stdout="[]", stderr="ctrtui: warning: torn line\n"))
    rc, out, err = run(capsys, "tasks", "freezer:/x", "--host", "a", "--host", "b")
    assert rc == 2
    assert err.splitlines() == ["a: ctrtui: no cgroup freezer:/x\\x1b[1m", "b: ctrtui: warning: torn line"]
    assert out.splitlines() == [f"{'HOST':<4}  {tasks_lines([])[0]}"]


def test_one_dead_host_among_live_ones_exit_3_and_the_others_output_intact(capsys, fleet):
    fleet(dead=dead())
    _, local, _ = run(capsys, "--demo", "ls", "freezer:/")
    rc, out, err = run(capsys, "ls", "freezer:/", "--host", "a", "--host", "dead", "--host", "b")
    assert rc == 3
    assert err.splitlines() == ["dead: ssh: connect to host dead port 22: Connection refused "
                                "(check the host name and port)"]
    rows = out.splitlines()[1:]
    assert [_body(r, 4) for r in rows] == local.splitlines()[1:] * 2


@pytest.mark.parametrize("codes, expected", [
    ((0, 0), 0), ((0, 1), 1), ((1, 2), 2), ((2, 0), 2), ((1, "dead"), 3), (("dead", 0), 3), ((130, 1), 130),
])
def test_exit_code_a_host_that_failed_first_then_the_highest(capsys, fleet, codes, expected):
    answers = {f"h{i}": dead(f"h{i}") if c == "dead" else SimpleNamespace(exit=c, stdout="", stderr="")
               for i, c in enumerate(codes)}
    fleet(**answers)
    rc, _, _ = run(capsys, "freeze", "freezer:/x", *[w for h in answers for w in ("--host", h)])
    assert rc == expected


@pytest.mark.parametrize("stdout", ["not json", '{"a": 1', '[1, 2]', '"text"', '[{"pid": "\\u001b"}]'])
def test_a_host_whose_listing_cannot_be_read_is_its_own_failure(capsys, fleet, stdout):
    fleet(a=SimpleNamespace(exit=0, stdout=stdout, stderr=""))
    rc, out, err = run(capsys, "tasks", "freezer:/", "--host", "a", "--host", "b")
    assert rc == 3
    assert err.startswith("a: the host") and len(err.splitlines()) == 1
    assert "\x1b" not in out
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"b"}


def test_hostile_values_in_a_hosts_rows_are_escaped(capsys, fleet):
    rows = [{"pid": 7, "tgid": 7, "user": "r\x1bt", "state": "S\x07", "comm": "x\x1b]0;t\x07", "threads": 1,
             "cmdline": ""}]
    fleet(a=SimpleNamespace(exit=0, stdout=json.dumps(rows), stderr=""))
    rc, out, _ = run(capsys, "tasks", "freezer:/", "--host", "a", "--host", "b")
    assert rc == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "x\\x1b]0;t\\x07" in out


STATS_ROW = {"hierarchy": "freezer", "path": "/", "tasks": 3, "tasks_recursive": 3, "cpu_percent": None,
             "memory_bytes": None, "io_read_bytes_per_s": None, "io_write_bytes_per_s": None, "pids_current": None,
             "pids_max": None, "frozen": None}


@pytest.mark.parametrize(("argv", "stdout", "words"), [
    (["hierarchies"], "[" * 100000 + "]" * 100000, "cannot be read: it is not JSON, or JSON nested too deep"),
    (["hierarchies", "--json"], "[{\"a\": " + "[" * 900 + "]" * 900 + "}]", "nests deeper than 8"),
    (["ls", "--stats"], json.dumps([{**STATS_ROW, "memory_bytes": 10 ** 400}]), "integer beyond 64 bits"),
    (["ls", "--stats", "--json"], json.dumps([{**STATS_ROW, "cpu_percent": 10 ** 300 * 1.0}]), "beyond 64 bits"),
    (["tasks", "freezer:/"], "[" + "{}," * 300000 + "{}]", "more than 262144 lists and objects"),
], ids=["deep", "deep-json", "huge-int", "huge-float", "crowded"])
def test_a_hosts_json_too_deep_too_big_or_with_huge_numbers_is_that_hosts_error(capsys, fleet, argv, stdout, words):
    """Issue 16: with two hosts, deep JSON was a RecursionError traceback and a 400-digit
    memory figure an OverflowError traceback; now it is one sentence for that host, exit 3,
    and the other host's rows are all there."""
    fleet(a=SimpleNamespace(exit=0, stdout=stdout, stderr=""))
    rc, out, err = run(capsys, *argv, "--host", "a", "--host", "b")
    assert rc == 3
    assert err.startswith("a: the host") and words in err and len(err.splitlines()) == 1
    if "--json" in argv:
        items = json.loads(out)
        assert items[0]["host"] == "a" and "error" in items[0] and {i["host"] for i in items[1:]} == {"b"}
    else:
        assert {line.split()[0] for line in out.splitlines()[1:]} == {"b"}


def test_one_hosts_long_name_does_not_pad_every_row(capsys, fleet):
    rows = [{"name": "n" * 100000, "version": 1, "cgroups": 1, "tasks": 1, "mount": "/m"}]
    fleet(a=SimpleNamespace(exit=0, stdout=json.dumps(rows), stderr=""))
    rc, out, err = run(capsys, "hierarchies", "--host", "a", "--host", "b")
    assert rc == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines if line.startswith("b ")) < 200
    assert len(out) < 100000 + 10000


# ------------------------------------------------------------------- the renderers are the local text


@pytest.mark.parametrize("world", ["--demo", "--demo=hostile"])
@pytest.mark.parametrize("argv, lines", [
    (["hierarchies"], hierarchies_lines), (["ls"], ls_lines), (["ls", "freezer:/"], ls_lines),
    (["tasks", "freezer:/"], tasks_lines),
])
def test_a_listing_drawn_from_its_json_rows_is_the_local_text(capsys, world, argv, lines):
    _, text, _ = run(capsys, world, *argv)
    _, rows, _ = run(capsys, world, *argv, "--json")
    assert "\n".join(lines(json.loads(rows))) + "\n" == text


def test_the_log_drawn_from_its_json_rows_is_the_local_text(capsys):
    run(capsys, "--demo", "mkdir", "freezer:/a")
    _, text, _ = run(capsys, "--demo", "log")
    _, rows, _ = run(capsys, "--demo", "log", "--json")
    assert text and "\n".join(log_lines(json.loads(rows))) + "\n" == text


@pytest.mark.parametrize("world", ["--demo", "--demo=hostile"])
def test_the_stats_drawn_from_their_json_rows_are_the_local_text(capsys, world):
    # the demo's rates change from one run to the next: compare the paths and task counts
    _, text, _ = run(capsys, world, "ls", "--stats", "--sample", "0")
    _, rows, _ = run(capsys, world, "ls", "--stats", "--sample", "0", "--json")
    drawn = stats_lines(json.loads(rows))
    local = text.splitlines()
    w = local[0].index("Tasks") + len("Tasks")
    assert drawn[0] == local[0]
    assert [line[:w] for line in drawn] == [line[:w] for line in local]


def test_a_log_with_no_batch_on_any_host_prints_nothing(capsys, fleet):
    fleet()
    _, local_out, _ = run(capsys, "--demo", "log")
    rc, out, err = run(capsys, "log", "--host", "a", "--host", "b")
    assert rc == 0 and out == local_out == ""
