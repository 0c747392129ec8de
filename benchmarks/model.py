"""Figures of the model and the simulated world at full size (10,000 cgroups, 100,000
tasks: `generate_world`, as the UI figures use): building the world, its snapshot, and the
snapshot's wire form (`ctrtui.model.wire`, format in docs/wire.md).

These were wall-clock assertions in the tests once; timing never fails a test, so they are
figures here and the tests keep only what they check.
"""

from __future__ import annotations

import gc
import pickle
import statistics
import time

MODEL_KEYS = ("generate_world_s", "sim_snapshot_ms", "wire_bytes_per_task", "wire_encode_ms",
              "wire_decode_ms")
CGROUPS, TASKS, SEED = 10_000, 100_000, 1


def _timed(fn, runs: int) -> tuple[float, list[float], object]:
    """Median seconds of `runs` calls of `fn` (gc off while timing), every run, the last result."""
    times = []
    out = None
    for _ in range(runs):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(times), times, out


def run_model(ctx) -> None:
    ctx.measure(MODEL_KEYS, _model)


def _model(ctx) -> dict[str, float]:
    from ctrtui.model.wire import from_wire, to_wire
    from ctrtui.sources.demo import generate_world

    runs = ctx.runs
    built, built_all, kernel = _timed(lambda: generate_world(CGROUPS, TASKS, seed=SEED), max(1, runs // 2))

    def fresh():
        kernel.forget_snapshots()  # a snapshot built from nothing, not one sharing the last's arrays
        return kernel.snapshot()

    snap_s, snap_all, snap = _timed(fresh, runs)
    enc_s, enc_all, data = _timed(lambda: to_wire(snap), runs)
    dec_s, dec_all, back = _timed(lambda: from_wire(data), runs)
    assert [len(h.containers) for h in back.hierarchies] == [len(h.containers) for h in snap.hierarchies]
    tasks = len({t for hs in snap.hierarchies for c in hs.containers.values() for t in c.threads})
    delta = _delta_figures(kernel, snap, runs)
    pickled = pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)
    pk_s, _, _ = _timed(lambda: pickle.loads(pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)), runs)
    ms = lambda xs: [round(x * 1000, 1) for x in xs]  # noqa: E731
    world = {"cgroups": {hs.name: len(hs.containers) for hs in snap.hierarchies}, "tasks": tasks,
             "memberships": sum(hs.total(True) + hs.total(False) for hs in snap.hierarchies)}
    ctx.meta_for("generate_world_s", runs_s=[round(x, 2) for x in built_all], **world)
    ctx.meta_for("sim_snapshot_ms", runs_ms=ms(snap_all), note="SimKernel.snapshot() after forget_snapshots()")
    ctx.meta_for("wire_bytes_per_task", wire_bytes=len(data), pickle_bytes=len(pickled), tasks=tasks,
                 pickle_round_trip_ms=round(pk_s * 1000, 1), delta_after_1pct_churn=delta,
                 note="to_wire(snapshot of every hierarchy) ÷ distinct tasks; pickle for comparison")
    ctx.meta_for("wire_encode_ms", runs_ms=ms(enc_all))
    ctx.meta_for("wire_decode_ms", runs_ms=ms(dec_all))
    return {"generate_world_s": built, "sim_snapshot_ms": snap_s * 1000,
            "wire_bytes_per_task": len(data) / tasks, "wire_encode_ms": enc_s * 1000,
            "wire_decode_ms": dec_s * 1000}


def _delta_figures(kernel, base, runs: int) -> dict:
    """A remote refresh's cost: `SimKernel.churn(0.01)` (1% of the tasks moved), then the
    delta from `base` to the new snapshot (`to_wire_delta`), its size and times."""
    from ctrtui.model.wire import apply_wire_delta, to_wire_delta

    kernel.churn(0.01, seed=SEED)
    new = kernel.snapshot()
    enc_s, _, data = _timed(lambda: to_wire_delta(base, new), runs)
    dec_s, _, _ = _timed(lambda: apply_wire_delta(base, data), runs)
    return {"bytes": len(data), "encode_ms": round(enc_s * 1000, 1), "apply_ms": round(dec_s * 1000, 1)}
