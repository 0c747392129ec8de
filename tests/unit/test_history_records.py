"""A full snapshot's task table (`ctrtui.history.records.TaskTable`, docs/history.md) reads
back what was packed, and a table whose TIDs are not ascending positive numbers is damaged."""

from __future__ import annotations

import pytest

from ctrtui.history.records import Damaged, TaskTable


def table(tids):
    return TaskTable.encode(tids, [(100 + t, t, f"c{t}") for t in tids])


def test_a_task_table_reads_back_what_was_packed():
    t = TaskTable.decode(table([1, 7, 300, 4194304]))
    assert t.get(300) == [300, 400, 300, "c300"] and t.get(8) is None and 1 in t


@pytest.mark.parametrize("tids", [[5, 3], [3, 3], [0, 4], [-2, 4], [1, 9, 9, 12]])
def test_a_task_table_not_ascending_positive_is_damaged(tids):
    with pytest.raises(Damaged, match="not ascending positive TIDs"):
        TaskTable.decode(table(tids))
