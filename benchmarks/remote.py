"""What a refresh costs on the wire to a remote host (issue 11): the bytes a `RemoteReader`
snapshot refresh moves through the agent's channel, for a 10,000-cgroup freezer tree that does
not change and for one that churns between refreshes.

The agent runs as it does on a host (`PYTHON -c STUB`, the same protocol and bundle logic), here
as a local subprocess: the figures are the protocol's own bytes (requests and answers, both
directions, as `AgentChannel.bytes_sent/bytes_received` count them), which ssh then carries with
its own small per-packet overhead. The first refresh is whole (`full`); every later one is a delta
against the snapshot the agent last sent. Churn: between two refreshes the world's own sleep
processes (100 of them) move to other leaves with raw writes, so every refresh carries 100
departures and 100 arrivals in the tree.
"""

from __future__ import annotations

import random
import statistics
import sys

from benchmarks.timing import Skip

REFRESH_KEYS = ("refresh_bytes_full_10k", "refresh_bytes_unchanged_10k", "refresh_bytes_churn_10k",
                "refresh_churn_vs_full")


def _bytes(channel: object) -> int:
    return int(channel.bytes_sent) + int(channel.bytes_received)  # type: ignore[attr-defined]


def refresh_bytes(ctx: object, world: object) -> dict[str, float]:
    from ctrtui.agent.stub import STUB
    from ctrtui.remote.channel import AgentChannel
    from ctrtui.remote.errors import HostError
    from ctrtui.remote.reader import RemoteReader

    try:
        channel = AgentChannel.open([sys.executable, "-c", STUB], name="bench", timeout=60)
    except HostError as e:
        raise Skip(f"the agent did not start: {e}") from None
    runs = 3 if getattr(ctx, "quick", False) else 10
    leaves = [f"{world.top}/g{g:02d}/c{c:02d}"  # type: ignore[attr-defined]
              for g in range(world.size.groups) for c in range(world.size.per_group)]  # type: ignore[attr-defined]
    rng = random.Random(11)
    try:
        reader = RemoteReader(channel)
        names = ["freezer"]
        before = _bytes(channel)
        first = reader.snapshot(names)
        full = _bytes(channel) - before
        cgroups = sum(1 for _ in first["freezer"].walk())
        unchanged: list[int] = []
        for _ in range(runs):
            before = _bytes(channel)
            reader.snapshot(names)
            unchanged.append(_bytes(channel) - before)
        churn: list[int] = []
        for _ in range(runs):
            for pid in world.sleep_pids:  # type: ignore[attr-defined]
                leaf = rng.choice(leaves)
                with open(world.procs_file("freezer", leaf), "w") as f:  # type: ignore[attr-defined]
                    f.write(str(pid))
            before = _bytes(channel)
            reader.snapshot(names)
            churn.append(_bytes(channel) - before)
        if reader.full_snapshots != 1:
            raise RuntimeError(f"expected one whole snapshot and deltas after it, got {reader.full_snapshots} whole")
    finally:
        channel.close()
    med_u, med_c = statistics.median(unchanged), statistics.median(churn)
    ctx.meta_for("refresh_bytes_full_10k", cgroups=cgroups,  # type: ignore[attr-defined]
                 unchanged=unchanged, churn=churn, moved_per_refresh=len(world.sleep_pids))  # type: ignore[attr-defined]
    return {"refresh_bytes_full_10k": full, "refresh_bytes_unchanged_10k": med_u,
            "refresh_bytes_churn_10k": med_c, "refresh_churn_vs_full": med_c / full}
