"""The agent's history calls (docs/remote.md, "history"): this host's recordings read for the
local side's `ls --at` (and its `--stats`: `history_figures`), `tasks --at`, `where`, `diff`
and `replay --host`, and its recorder
run for `record --host` (`HistoryCalls`, a part of `ServiceCalls`: ctrtui/agent/calls.py).

TIME words are parsed here (`3m ago`, `HH:MM` and batch ids mean this host's clock and
recording); `source`/`directory` name a place on this host, read only when this agent's user
(or root) owns it and never through a symbolic link (ctrtui/history/files.py). The recorder
samples once per `recorder_sample` request and is closed by `recorder_close`, or when the
connection goes (`close`, at EOF): a sample is written whole within one request, so the file
never keeps a torn tail.
"""

from __future__ import annotations

from ctrtui.agent import checks as ck

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ctrtui.service.local import LocalService

__all__ = ["HistoryCalls", "MAX_TIME"]

MAX_TIME = 200
"""The longest TIME word (characters)."""
PLACE = 4096
"""The longest recording place (a path on this host)."""


def _time(name: str, v: Any) -> str:
    return ck.str_(name, v, MAX_TIME)


def _place(name: str, v: Any) -> str:
    place = ck.str_(name, v, PLACE)
    if not place:
        raise ck.bad(f"'{name}' is empty: give a recording's directory or file, or leave it out")
    return place


class HistoryCalls:
    """The history calls of one connection (see the module)."""

    _hierarchy: Callable[[str, Any], str]  # ServiceCalls': the hierarchy mounted here a word names

    def _service(self, journal: bool = True) -> LocalService:
        raise NotImplementedError  # ServiceCalls'

    def _run(self, fn: Any, *args: Any, **kw: Any) -> Any:
        raise NotImplementedError  # ServiceCalls'

    def op_history_sample(self, args: Any) -> dict[str, object]:
        from ctrtui.service.historycodec import MAX_SAMPLES, encode_sample

        a = ck.args("history_sample", args, {"source": ck.optional(_place), "at": ck.optional(_time),
                                             "index": ck.optional(ck.int_(0, MAX_SAMPLES))})
        if a.get("at") is not None and a.get("index") is not None:
            raise ck.bad("'history_sample' takes 'at' or 'index', not both")
        return encode_sample(self._run(self._service().history_sample, a.get("source"), a.get("at"), a.get("index")))

    def op_history_figures(self, args: Any) -> dict[str, object]:
        from ctrtui.service.historycodec import MAX_SAMPLES, encode_figures

        a = ck.args("history_figures", args, {"hierarchy": ck.word, "paths": ck.list_(ck.path),
                                              "index": ck.int_(0, MAX_SAMPLES), "source": ck.optional(_place)},
                    ("hierarchy", "paths", "index"))
        return encode_figures(self._run(self._service().history_figures, a["hierarchy"], a["paths"], a["index"],
                                        a.get("source")))

    def op_history_timeline(self, args: Any) -> dict[str, object]:
        from ctrtui.service.historycodec import encode_timeline

        a = ck.args("history_timeline", args, {"source": ck.optional(_place)})
        return encode_timeline(self._run(self._service().history_timeline, a.get("source")))

    def op_history_warnings(self, args: Any) -> list[str]:
        ck.args("history_warnings", args, {})
        return list(self._run(self._service().history_warnings))

    def op_history_where(self, args: Any) -> list[dict[str, object]]:
        from ctrtui.service.historycodec import encode_where

        a = ck.args("history_where", args, {"pid": ck.int_(1, 1 << 22), "since": ck.optional(_time),
                                            "until": ck.optional(_time), "source": ck.optional(_place)}, ("pid",))
        return encode_where(self._run(self._service().history_where, a["pid"], a.get("since"), a.get("until"),
                                      a.get("source")))

    def op_history_diff(self, args: Any) -> dict[str, object]:
        from ctrtui.service.historycodec import encode_diff

        a = ck.args("history_diff", args, {"t1": _time, "t2": _time, "source": ck.optional(_place)}, ("t1", "t2"))
        return encode_diff(self._run(self._service().history_diff, a["t1"], a["t2"], a.get("source")))

    def op_recorder_open(self, args: Any) -> dict[str, object] | None:
        from ctrtui.service.historycodec import encode_recorder

        a = ck.args("recorder_open", args, {
            "directory": ck.optional(_place), "max_size": ck.int_(64 * 1024, 1 << 50),
            "full_every": ck.int_(1, 1_000_000), "names": ck.optional(ck.list_(ck.word, 1000)),
            "subtree": ck.optional(ck.path), "stats_every": ck.optional(ck.int_(0, 1_000_000))},
            ("max_size", "full_every"))
        names = a.get("names")
        if names is not None:
            names = [self._hierarchy(f"names[{i}]", w) for i, w in enumerate(names)]
        return encode_recorder(self._run(self._service().recorder_open, a.get("directory"), a["max_size"],
                                         a["full_every"], names, a.get("subtree"), a.get("stats_every")))

    def op_recorder_sample(self, args: Any) -> dict[str, object] | None:
        from ctrtui.service.historycodec import encode_recorder

        ck.args("recorder_sample", args, {})
        return encode_recorder(self._run(self._service().recorder_sample))

    def op_recorder_close(self, args: Any) -> dict[str, object] | None:
        from ctrtui.service.historycodec import encode_recorder

        ck.args("recorder_close", args, {})
        return encode_recorder(self._run(self._service().recorder_close))
