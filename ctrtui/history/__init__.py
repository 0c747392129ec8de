"""History: a recording of which task sat in which cgroup, sample after sample, and the
questions asked of it (`ctrtui record`, `ls --at`, `tasks --at`, `where`, `diff`). The file
format is described in docs/history.md. No Textual here: the domain side only.

The modules, lower first: `records` (the format), `files` (where a recording lives, how its
files are opened), `lock`, `stats` (the cgroups' figures: the `S` record), `writer`
(Recorder), `index` (records read and decoded), `where`,
`reader` (Recording), `replay` (a recording as a read-only backend), `query`, `run`."""

from ctrtui.history.files import default_history_dir
from ctrtui.history.reader import Recording
from ctrtui.history.records import DEFAULT_FULL_EVERY, DEFAULT_MAX_SIZE, VERSION, HistoryError
from ctrtui.history.writer import Recorder

__all__ = ["DEFAULT_FULL_EVERY", "DEFAULT_MAX_SIZE", "VERSION", "HistoryError", "Recorder", "Recording",
           "default_history_dir"]
