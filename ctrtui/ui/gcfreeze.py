"""Keep Python's full garbage collections out of the way of key presses.

A big world means hundreds of thousands of long-lived objects (snapshot containers, task
details, the simulated kernel's tasks). CPython's full (generation 2) collection walks all
of them: 60-150 ms each on this kind of machine, landing on whatever key is being handled.
After a big load the app moves everything alive into the permanent generation
(`gc.freeze()`), so later collections walk only what was made since; reference counting
still frees frozen objects as usual. Young garbage is collected first, and the app unfreezes
when it exits, so nothing is kept for good.
"""

from __future__ import annotations

import gc

BIG_LOAD = 10_000
"""A load of at least this many objects (containers, task details) is worth a freeze."""


def settle(size: int) -> bool:
    """After loading `size` objects: collect the young generations and freeze what is
    alive, when the load was big. Returns whether it froze."""
    if size < BIG_LOAD or not gc.isenabled():
        return False
    gc.collect(1)
    gc.freeze()
    return True


def release() -> None:
    """Let the collector see everything again (the app is closing)."""
    gc.unfreeze()
