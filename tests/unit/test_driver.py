"""The terminal driver's input thread (ctrtui/ui/driver.py): how long it sleeps, the Event
that wakes it, and the parser state it relies on (Textual's, `textual>=8.2,<9`)."""

from __future__ import annotations

import selectors
import threading

from textual import events
from textual._time import get_time
from textual._xterm_parser import XTermParser

from ctrtui.ui.driver import WakingEvent, wait_for


def test_it_sleeps_for_good_unless_an_escape_is_pending():
    assert wait_for(None, 100.0) is None
    assert wait_for(100.25, 100.0) == 0.25
    assert wait_for(99.0, 100.0) == 0.0  # overdue: look now


def test_a_lone_escape_sets_the_parsers_timeout_and_its_tick_hands_it_on():
    parser = XTermParser(False)
    assert parser._timeout_time is None  # nothing pending: the thread may sleep for good
    assert list(parser.feed("a")) and parser._timeout_time is None
    assert list(parser.feed("\x1b")) == []  # a sequence may follow: held back
    due = parser._timeout_time
    assert due is not None and 0 < due - get_time() <= 1.0
    assert list(parser.tick()) == [] or due <= get_time()  # not yet due (or a slow machine)
    parser._timeout_time = get_time()  # due now
    keys = [e for e in parser.tick() if isinstance(e, events.Key)]
    assert [k.key for k in keys] == ["escape"]
    assert parser._timeout_time is None


def test_setting_the_event_wakes_a_select_and_clearing_it_drains():
    event = WakingEvent()
    try:
        selector = selectors.SelectSelector()
        selector.register(event.read_fd, selectors.EVENT_READ)
        assert selector.select(0) == []
        woke: list[object] = []
        waiter = threading.Thread(target=lambda: woke.append(selector.select(10)))
        waiter.start()
        event.set()
        waiter.join(10)
        assert woke and woke[0] and event.is_set()
        event.clear()
        assert not event.is_set() and selector.select(0) == []
        event.set()
        event.set()  # twice: still one readable pipe, drained by one clear
        event.clear()
        assert selector.select(0) == []
        selector.close()
    finally:
        event.close()
