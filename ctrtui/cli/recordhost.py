"""`ctrtui record --host H`: the recorder runs on the host, inside its agent, and the file stays
there (default the host user's `$XDG_STATE_HOME/ctrtui/history`); this command keeps it going
in the foreground: one `recorder_sample` request every `--interval` (the cgroups' figures read
there every `--stats-every` samples), until `--samples N`,
Ctrl-C or SIGTERM here, or the connection goes.

A stop never tears the host's file: a sample is written whole within one request, the signals
are blocked here while it runs and waited for between samples (as the local `record` does,
ctrtui/history/run.py), and then `recorder_close` closes the file and lets go of its lock.
When the connection itself went (Ctrl-C in a terminal reaches ssh too), the agent sees EOF
and closes the recorder there (ctrtui/agent/loop.py): the command says so and ends.
"""

from __future__ import annotations

import signal
import sys
import time

from ctrtui.cli.common import EXIT_OK, print_json
from ctrtui.text import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ctrtui.service.protocol import Service
    from ctrtui.service.values import RecorderState

__all__ = ["record_on_host"]

_STOP = (signal.SIGINT, signal.SIGTERM)


def record_on_host(service: Service, args: argparse.Namespace, max_size: int, names: Sequence[str] | None,
                   subtree: str | None) -> int:
    """Record on the host of `service` (a `RemoteService`) with the options of `args`
    (checked by the caller); prints what the local `record` prints, the place being the host's."""
    from ctrtui.remote.errors import HostError

    host = display(getattr(service, "host", "the host"))
    state = service.recorder_open(args.history_to, max_size, args.full_every, names, subtree, args.stats_every)
    for w in state.warnings:
        print(f"ctrtui: warning: {display(w)}", file=sys.stderr)
    print(f"ctrtui: recording on {host} into {display(state.directory)} every {args.record_interval:g} s; "
          "stop with Ctrl-C or SIGTERM", file=sys.stderr)
    gone: HostError | None = None
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP)
    try:
        state = _loop(service, args.record_interval, args.samples, state)
    except HostError as e:
        gone = e
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if gone is None:
        try:
            state = service.recorder_close() or state
        except HostError as e:
            gone = e
    if gone is not None:
        if gone.kind not in ("dropped", "agent-died"):
            raise gone
        print(f"ctrtui: the connection to {host} went ({display(gone.message)}); the agent there closed the "
              "recording when it saw it go", file=sys.stderr)
    if args.json:
        print_json({"host": getattr(service, "host", None), "directory": state.directory, "samples": state.samples,
                    "bytes": state.bytes_written})
    else:
        print(f"recorded {state.samples} samples ({state.bytes_written} bytes) into {display(state.directory)} on "
              f"{host}")
    return EXIT_OK


def _loop(service: Service, interval: float, samples: int | None, state: RecorderState) -> RecorderState:
    """A sample every `interval` seconds until `samples` (None: no end), SIGINT or SIGTERM
    (blocked by the caller: waited for here, between samples)."""
    seen = set(state.warnings)
    n = 0
    while samples is None or n < samples:
        began = time.monotonic()
        state = service.recorder_sample()
        for w in state.warnings:
            if w not in seen:
                seen.add(w)
                print(f"ctrtui: warning: {display(w)}", file=sys.stderr)
        n += 1
        if samples is not None and n >= samples:
            break
        if signal.sigtimedwait(_STOP, max(0.0, interval - (time.monotonic() - began))) is not None:
            break
    return state
