"""History: a recording of which task sat in which cgroup, sample after sample, and the
questions asked of it (`ctrtui record`, `ls --at`, `tasks --at`, `where`, `diff`). The file
format is described in docs/history.md. No Textual here: the domain side only."""

from ctrtui.history.store import (
    DEFAULT_FULL_EVERY,
    DEFAULT_MAX_SIZE,
    VERSION,
    HistoryError,
    Recorder,
    Recording,
    default_history_dir,
)

__all__ = ["DEFAULT_FULL_EVERY", "DEFAULT_MAX_SIZE", "VERSION", "HistoryError", "Recorder", "Recording",
           "default_history_dir"]
