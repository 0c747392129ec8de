"""The service layer: what every front end (the command line, and in time the terminal UI
and the agent) asks of ctrtui, as typed operations returning model and engine values.

- protocol.py: `Service`, the operations (reading, planning, applying, undoing, the log,
  cgroup ops), as a `typing.Protocol`;
- local.py: `LocalService`, the service of this machine (a backend, the attach engine with
  its policy and journal, the cgroup ops);
- recordings.py: `HistoryOps`, the history operations of `LocalService`;
- values.py: the values only the service returns (`Undone`, `BatchLog`, a recording's);
- codec.py, historycodec.py: every value of a service call as the agent's protocol carries it.

Nothing is imported here: a front end imports the module it needs, when it needs it.
"""

PROTOCOL = 4
"""The version of the agent's protocol (docs/remote.md), here where both ends read it (the
agent, ctrtui/agent/lines.py; the local side, ctrtui/remote/channel.py): bumped on every
change the other side could not read. 2: the service calls (ctrtui/agent/calls.py), their
values encoded by ctrtui/service/codec.py. 3: systemd's routes (`plan` takes `via`, the
`plan_scope` call, a plan carries its `route` and new scope). 4: the history calls
(`history_sample`, `history_timeline`, `history_where`, `history_diff`, `recorder_open`,
`recorder_sample`, `recorder_close`: ctrtui/agent/historycalls.py)."""
