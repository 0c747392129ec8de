"""The terminal driver: Textual's `LinuxDriver`, with an input thread that sleeps until there
is something to read.

Textual's input thread waits for the terminal with a 0.1 s timeout, ten times a second
whatever happens, to hand on an escape key whose sequence never came and to see whether it
should stop. Measured left alone in a pseudo-terminal that is 0.12–0.15 % of a core: a
third of what an idle ctrtui costs on this machine, for a UI that otherwise draws nothing
for seconds (benchmarks/RESULTS.md, issue 12). Here the thread waits with no timeout while
the parser has nothing pending, and until the pending escape is due when it has; stopping
wakes it through a pipe (the stop `Event` writes to it when set).

Only the loop differs from Textual's `LinuxDriver.run_input_thread` (same parser, decoder
and events); it leans on `Parser._timeout_time`, which `textual>=8.2,<9` has
(tests/unit/test_driver.py checks it is there and behaves so).
"""

from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver


class WakingEvent(threading.Event):
    """An Event that, when set, also makes a pipe readable (to wake a `select`); cleared,
    it drains the pipe."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        os.set_blocking(self.write_fd, False)

    def set(self) -> None:
        super().set()
        try:
            os.write(self.write_fd, b"x")
        except (BlockingIOError, OSError):
            pass  # full (it is readable then) or closed

    def clear(self) -> None:
        super().clear()
        self.drain()

    def drain(self) -> None:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def wait_for(timeout_time: float | None, now: float) -> float | None:
    """How long the input thread may sleep: until a pending escape is due, else for good."""
    return None if timeout_time is None else max(0.0, timeout_time - now)


class QuietLinuxDriver(LinuxDriver):
    """`LinuxDriver` whose input thread sleeps until input comes, a pending escape is due,
    or it is told to stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = WakingEvent()

    def close(self) -> None:
        super().close()
        event = self.exit_event
        if isinstance(event, WakingEvent):
            event.close()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, without the 0.1 s polling)."""
        event = self.exit_event
        assert isinstance(event, WakingEvent)
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(event.read_fd, selectors.EVENT_READ)

        fileno = self.fileno
        EVENT_READ = selectors.EVENT_READ

        parser = XTermParser(self._debug)
        feed = parser.feed
        tick = parser.tick

        decode = getincrementaldecoder("utf-8")().decode
        read = os.read

        def process_selector_events(selector_events: list[tuple[selectors.SelectorKey, int]],
                                    final: bool = False) -> None:
            ours = [(key, mask) for key, mask in selector_events if key.fd == fileno]
            for last, (_key, mask) in loop_last(ours):
                if mask & EVENT_READ:
                    unicode_data = decode(read(fileno, 1024 * 4), final=final and last)
                    if not unicode_data:
                        break  # stdin is a pipe that ended
                    for message in feed(unicode_data):
                        self.process_message(message)
            for message in tick():
                self.process_message(message)

        try:
            while not event.is_set():
                process_selector_events(selector.select(wait_for(parser._timeout_time, get_time())))
            selector.unregister(self.fileno)
            selector.unregister(event.read_fd)
            process_selector_events(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _message in feed(""):
                    pass
            except (EOFError, ParseError):
                pass


def quiet(chosen: type[Driver]) -> type[Driver]:
    """The driver to run with: Textual's `chosen`, except that its Linux driver is replaced by
    `QuietLinuxDriver`, whose input thread sleeps until input comes instead of waking ten
    times a second."""
    return QuietLinuxDriver if chosen is LinuxDriver else chosen
