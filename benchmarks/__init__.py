"""ctrtui's benchmark suite (issue 4): `python -m benchmarks [--quick] [--json FILE]`.

Figures, their targets and how each is measured: benchmarks/RESULTS.md. The real-kernel
figures build their own `ctrtui-test-bench-*` world (benchmarks/world.py); the UI figures use
the simulated generator.
"""

from __future__ import annotations

#: key -> (bound, unit): a figure meets its target when it is <= the bound (written as the
#: issue's table writes it: `1.0`, `16 ms`). Keys are issue 4's table, then the journal's (issue 7),
#: then issue 9's, then issue 12's, then issue 11's, then issue 16's, 18's, 20's and 21's.
TARGETS: dict[str, tuple[float, str]] = {
    "snapshot_vs_floor": (1.2, ""),
    "ls_vs_systemd_cgls": (1.0, ""),
    "ls_vs_lscgroup": (1.0, ""),
    "cli_start_vs_python": (1.5, ""),  # issue 9: with argparse as the one parser
    "move_1000_vs_raw": (2.0, ""),
    "move_1000_vs_cgclassify": (1.5, ""),
    "first_paint_s": (0.5, " s"),
    "first_paint_vs_textual": (2.0, ""),
    "key_latency_ms_p50": (16, " ms"),
    "key_latency_ms_p95": (50, " ms"),
    "refresh_ms": (100, " ms"),
    "snapshot_bytes_per_task": (100, " B"),
    # issue 7: undo reads the journal from its end, so its cost does not follow the length
    "undo_1mb_s": (0.5, " s"),
    "undo_200mb_s": (0.5, " s"),
    "undo_200mb_vs_1mb": (1.2, ""),
    "undo_1mb_rss_mb": (64, " MB"),
    "undo_200mb_rss_mb": (64, " MB"),
    "rotate_200mb_s": (10, " s"),
    "rotate_200mb_rss_mb": (64, " MB"),
    # issue 9: the model at full size (once wall-clock assertions in tests), the wire form
    "generate_world_s": (5.0, " s"),
    "sim_snapshot_ms": (1000, " ms"),
    "wire_bytes_per_task": (16, " B"),
    "wire_encode_ms": (250, " ms"),
    "wire_decode_ms": (250, " ms"),
    # issue 10: the same key and refresh figures of a trivial Textual app, measured in the same
    # run as ctrtui's (columns on): the machine's own floor, so a slow machine shows as one
    "textual_key_ms_p50": (16, " ms"),
    "textual_key_ms_p95": (50, " ms"),
    "textual_refresh_ms": (100, " ms"),
    # issue 12: the TUI left alone (read-only, default settings), htop -d 20 beside it
    "idle_small_pct": (0.5, " %"),
    "idle_small_vs_htop": (5.0, ""),
    "idle_small_rss_mb": (64, " MB"),
    "idle_10k_pct": (2.0, " %"),
    "idle_10k_vs_htop": (20.0, ""),
    "idle_10k_rss_mb": (64, " MB"),
    # issue 11: remote hosts over ssh (real sshd on loopback addresses)
    "remote_ls_10k_ratio": (3.0, ""),
    "fleet_50_hosts_s": (15.0, " s"),
    # issue 11: a refresh of a remote host's 10k-cgroup tree over the agent's channel sends a delta
    "refresh_bytes_full_10k": (1_000_000, " B"),
    "refresh_bytes_unchanged_10k": (1024, " B"),
    "refresh_bytes_churn_10k": (8192, " B"),
    "refresh_churn_vs_full": (0.1, ""),
    # issue 11: the terminal UI on remote hosts (first paint never waits for the other hosts)
    "tui_first_paint_1_host_s": (2.0, " s"),
    "tui_first_paint_10_hosts_s": (2.0, " s"),
    # issue 16: a malicious host (a fake ssh) costs the machine running ctrtui little memory
    "hostile_flood_rss_mb": (128, " MB"),
    "hostile_bomb_rss_mb": (128, " MB"),
    # issue 20: the root row's machine figures (/proc) cost each refresh of a tree showing it
    "stats_root_ms": (1.0, " ms"),
    # issue 21: the history recorder (ctrtui record) and questions asked of a day's recording
    "record_cpu_pct_machine": (0.5, " %"),
    "record_mb_per_h_machine": (50, " MB"),
    "record_cpu_pct_10k": (0.5, " %"),
    "record_mb_per_h_10k": (50, " MB"),
    "where_24h_10k_s": (1.0, " s"),
    "ls_at_24h_10k_s": (1.0, " s"),
    # the cgroups' figures in the recording (S records, every 12 samples of 5 s): their share of
    # the recorder's 0.5 % of a core a fifth (60 ms a minute), their bytes what the 50 MB/h
    # leave beside the members' ~44 MB/h
    "record_stats_cpu_ms_10k": (60, " ms"),
    "record_stats_mb_per_h_10k": (6, " MB"),
    # issue 18: the lab, a qemu guest with systemd and pure cgroup v2 (benchmarks/lab.py; under
    # TCG here). The guest's ls beside its own systemd-cgls; what the lab tier costs CI: a
    # second run finds the image and boots in under a minute, the tier stays under 10 minutes
    "lab_ls_vs_systemd_cgls": (1.0, ""),
    "lab_build_cached_s": (1.0, " s"),
    "lab_boot_s": (60.0, " s"),
    # issue 20: systemd over D-Bus in the lab's guest (TCG): one AttachProcessesToUnit (a busctl
    # run), a transient scope with its job waited for, and that scope of a running task beside
    # systemd-run --scope of a new one
    "lab_dbus_attach_ms": (500, " ms"),
    "lab_dbus_scope_ms": (1000, " ms"),
    "lab_scope_vs_systemd_run": (1.5, ""),
    # the whole `ctrtui move --scope` command beside systemd-run --scope (TCG: an interpreter
    # start alone is ~0.35 s there, systemd-run ~0.5 s)
    "lab_move_scope_vs_systemd_run": (6.0, ""),
    "lab_build_cold_s": (300.0, " s"),
    "lab_tier_s": (600.0, " s"),
}
KEYS: tuple[str, ...] = tuple(TARGETS)


def target_text(key: str) -> str:
    """The target of `key` as shown in the table and the JSON: `<= 1.2`, `<= 16 ms`."""
    bound, unit = TARGETS[key]
    return f"<= {bound}{unit}"


def met(key: str, value: float) -> bool:
    """True when `value` meets the target of `key`."""
    return value <= TARGETS[key][0]
