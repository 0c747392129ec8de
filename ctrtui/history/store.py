"""The old home of the recording's reading and writing, split into records.py (the format),
files.py (the place), lock.py, writer.py (Recorder), index.py and reader.py (Recording),
where.py: what code outside ctrtui/history still imports from here is re-exported."""

from ctrtui.history.reader import Recording  # moved: ctrtui.history.reader

__all__ = ["Recording"]
