"""The agent: what runs on a remote host, answering the local side over stdin/stdout.

This package travels: when ctrtui is not installed on the host (or another version is), the
local side sends it, with the domain code it needs (model, sources, engine, cli), over the same
ssh channel, and the stub (`ctrtui.remote.stub.STUB`, sent by the local side) imports it from memory; nothing is written
on the host. So it imports only the standard library and those modules, and runs on Python 3.9.
docs/remote.md describes the protocol.

- `serve()`: the loop (JSON lines, requests answered in order, one at a time; exits at EOF).
- `ops.Agent`: the requests it answers, each validated before anything is read or written
  (`checks`); its service calls (`calls.ServiceCalls`): the host's `LocalService`.
"""

from __future__ import annotations

__all__ = ["serve"]


def serve(infile: object = None, outfile: object = None, isolate: bool = True) -> int:
    """Run the agent on `infile`/`outfile` (binary streams; default: this process's stdin and
    stdout) until EOF, a broken output or `bye`; 0. See `ctrtui.agent.loop.serve`."""
    from ctrtui.agent.loop import serve as run

    return run(infile, outfile, isolate)  # type: ignore[arg-type]
