"""The hosts of one UI session, kept current (`HostFeed`): connecting in the background,
measuring round trips, reconnecting, switching the shown host, finding a PID or a command on
every host at once.

Every contact with a host runs in a thread worker of its own (group `host-N`), bounded by
the host's timeout (`ctrtui.ui.hostviews.call_with_timeout`), and comes back as a `HostChanged`
message: a host that hangs holds only its own worker, never the UI nor the other hosts. The
first host to answer is shown at once (the first paint never waits for the others). A host
that is dead (it could not be reached, or stopped answering) is tried again by itself after
`RETRY_DELAYS` (2, 4, 8 ... 60 s), and at once on `r`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

from ctrtui.text import display
from ctrtui.ui.hostviews import CONNECTING, DEAD, Hit, HostView, Link, call_with_timeout, reason_of
from ctrtui.ui.messages import HostChanged

if TYPE_CHECKING:
    from ctrtui.ui.screenside import ScreenSide
    from ctrtui.ui.session import Session

PROBE_PERIOD = 10.0
"""Seconds between two round-trip probes of every connected host."""
FIND_LIMIT = 200
"""At most this many hits of a find across hosts are listed."""
POOL = 16
"""At most this many hosts are asked at the same time by a find."""
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
"""Seconds before a dead host is tried again by itself: the first, second... retry; the last
repeats."""


class HostFeed:
    """The app's hosts: which one is shown, their states, and the workers that reach them."""

    def __init__(self, side: ScreenSide, session: Session, views: Sequence[HostView], jobs: int = POOL) -> None:
        self.side = side
        self.session = session
        """What is shown (the hierarchy a find's hit is looked for in first)."""
        self.gate = threading.BoundedSemaphore(max(1, jobs))
        """At most `jobs` hosts are being reached at once (the others wait their turn; a
        host's timeout counts from its turn)."""
        self.views: list[HostView] = list(views)
        """Every host, in the order given."""
        self.current: HostView | None = None
        """The host shown (None until one is reached)."""

    @property
    def many(self) -> bool:
        """More than one host: the status bar names the shown one."""
        return len(self.views) > 1

    def view(self, name: str) -> HostView | None:
        return next((v for v in self.views if v.name == name), None)

    # ------------------------------------------------------------------ connect, probe

    def start(self) -> None:
        """Reach every host not reached yet (each in its own worker) and arm the probes."""
        for view in self.views:
            if view.link is None and view.state == CONNECTING:
                self.connect(view)
        if self.many or any(not v.local for v in self.views):
            self.side.set_interval(PROBE_PERIOD, self.probe_all)

    def connect(self, view: HostView) -> None:
        """Reach `view` in a thread worker; `HostChanged` says how it went."""
        view.state, view.reason = CONNECTING, None
        view.attempts += 1
        self.side.run_named(self._reach, view, name=f"connect {view.name}", group=f"host-{self.views.index(view)}")

    def _reach(self, view: HostView) -> None:
        """Reach `view` (thread worker "connect NAME", at most `jobs` at once) and post how it
        went as `HostChanged`."""
        try:
            with self.gate:
                link = view.reach()
                if link.pid_max is None:
                    link.pid_max = link.backend.pid_max
            rtt = view.measure_link(link)
        except Exception as exc:  # noqa: BLE001 - a host that cannot be used is a state, not a crash
            self.side.post_message(HostChanged(view, error=exc).to(self.changed))
            return
        self.side.post_message(HostChanged(view, link=link, rtt_ms=rtt).to(self.changed))

    def reconnect(self, view: HostView) -> None:
        """Let go of `view`'s connection and reach it again (the switcher's `r`, the main
        screen's `r` on a dead host, a retry that is due)."""
        self._cancel_retry(view)
        if view.local:
            self.probe(view)
            return
        old = view.link
        view.link = None
        if old is not None and old.close is not None:
            self.side.run_named(old.close, name="close", group="host-close")
        self.connect(view)
        self.side.update_status()

    def retry_dead(self) -> list[HostView]:
        """Reach every dead host again now (`r` while no host is shown); the hosts retried."""
        dead = [v for v in self.views if v.state == DEAD and not v.local]
        for view in dead:
            self.reconnect(view)
        return dead

    def _schedule_retry(self, view: HostView) -> None:
        """Try the dead `view` again by itself after its next delay of `RETRY_DELAYS`."""
        if view.local or self.side.closing():
            return
        self._cancel_retry(view)
        n = view.extra.get("retries", 0)
        delay = RETRY_DELAYS[min(n, len(RETRY_DELAYS) - 1)]
        view.extra["retries"] = n + 1
        view.extra["retry_at"] = time.monotonic() + delay
        view.extra["retry"] = self.side.set_timer(delay, partial(self._retry_due, view), name=f"retry {view.name}")

    def _cancel_retry(self, view: HostView) -> None:
        timer = view.extra.pop("retry", None)
        view.extra.pop("retry_at", None)
        if timer is not None:
            timer.stop()

    def _retry_due(self, view: HostView) -> None:
        view.extra.pop("retry", None)
        view.extra.pop("retry_at", None)
        if view.state == DEAD and view in self.views and not self.side.closing():
            self.reconnect(view)

    def retry_in(self, view: HostView) -> float | None:
        """Seconds until `view` is tried again by itself (None: no retry is due)."""
        at = view.extra.get("retry_at")
        return max(0.0, at - time.monotonic()) if isinstance(at, float) else None

    def unreachable(self, view: HostView) -> str:
        """What the status bar says of the dead `view`: the keys first (they stay in view on a
        narrow terminal), then why (`view.reason`, scrubbed already) and the next retry."""
        due = self.retry_in(view)
        return (f"unreachable (r retries, H hosts): {view.reason or 'no reason given'}"
                + (f" (tried again in {math.ceil(due)} s)" if due is not None else ""))

    def waiting(self) -> str:
        """What the main area says while no host is shown: connecting, or why none could be
        reached and what to do."""
        dead = [v for v in self.views if v.state == DEAD]
        n = len(self.views)
        if not dead or len(dead) < n:
            return f"Connecting to {n} host{'s' if n != 1 else ''}…" + (
                f" ({len(dead)} unreachable so far: H lists them)" if dead else "")
        if n == 1:
            view = dead[0]
            return (f"Host {display(view.name)} is unreachable (r retries now, H picks another host): "
                    f"{view.reason or 'no reason given'}. It is also tried again by itself, every few seconds, "
                    "then every minute.")
        return (f"None of the {n} hosts could be reached (r retries them now, H lists them): "
                + "; ".join(f"{display(v.name)}: {v.reason or 'no reason given'}" for v in dead)
                + ". They are also tried again by themselves.")

    def probe(self, view: HostView) -> None:
        """Measure one round trip to `view` in a worker."""
        if view.link is None or view.state == DEAD or view.extra.get("probing"):
            return  # not reached, dead (r reconnects it), or the last probe is still out
        view.extra["probing"] = True
        self.side.run_named(self._measure, view, name=f"probe {view.name}", group=f"probe-{self.views.index(view)}")

    def _measure(self, view: HostView) -> None:
        """One round trip to `view` (thread worker "probe NAME"), posted as `HostChanged`."""
        try:
            rtt = view.measure()
        except Exception as exc:  # noqa: BLE001 - a host that stopped answering is a state
            self.side.post_message(HostChanged(view, error=exc).to(self.changed))
            return
        finally:
            view.extra["probing"] = False
        self.side.post_message(HostChanged(view, rtt_ms=rtt).to(self.changed))

    def probe_all(self) -> None:
        """Probe every remote host; the shown one only when no read of it is under way (its
        channel answers one request at a time: a probe behind a big snapshot would measure
        the snapshot, not the host)."""
        for view in self.views:
            if not view.local and not (view is self.current and self.side.live.refreshing):
                self.probe(view)

    def changed(self, event: HostChanged) -> None:
        """A connect or probe came back: update the host, show it if none is shown yet."""
        view = event.view
        if not isinstance(view, HostView) or view not in self.views:
            return
        side = self.side
        if event.error is not None:
            view.failed(event.error)
            self._schedule_retry(view)
            if view is self.current:
                side.notify(f"Host {display(view.name)} is not answering: {view.reason}", severity="error",
                           title="Host dead", timeout=8)
            elif self.current is None:
                side.say(self.waiting())
        elif isinstance(event.link, Link):
            view.extra.pop("retries", None)
            self._cancel_retry(view)
            view.connected(event.link, event.rtt_ms)
            for note in event.link.notes:  # e.g. a batch a dropped connection left open there
                side.notify(f"{display(view.name)}: {note}", severity="warning", title="Open batch", timeout=15)
            if self.current is None or self.current.link is None:
                side.use_host(view)
            elif view is self.current:
                side.use_host(view)  # reconnected: read it again
        elif event.rtt_ms is not None:
            view.answered(event.rtt_ms)
        side.update_status()
        self.switcher_changed()

    def failed(self, error: BaseException) -> bool:
        """A worker reading the shown host failed with `error`: when it is a host's error
        (the connection dropped, the agent died, a timeout), the host is shown as dead and
        True (the app then says so once)."""
        from ctrtui.remote.errors import HostError

        view = self.current
        if view is None or view.local or not isinstance(error, HostError):
            return False  # not the host's failure (a RemoteOpError: the host answered, and said no)
        if view.state == CONNECTING:
            return True  # being reconnected: the read failed on the connection let go
        was = view.state
        view.failed(error)
        if was != DEAD:
            self._schedule_retry(view)
        self.side.update_status()
        self.switcher_changed()
        return was == DEAD

    # ------------------------------------------------------------------ H, F: the switcher, find on hosts

    def switcher_changed(self) -> None:
        """A host's state changed: the host switcher, when open, shows it."""
        from ctrtui.ui.screens.hosts import HostSwitcher

        if not self.side.closing() and isinstance(self.side.screen, HostSwitcher):
            self.side.screen.show_hosts()

    def choose(self) -> None:
        """`H`: every host with its state; enter shows one, `r` reconnects it."""
        from ctrtui.ui.screens.hosts import HostSwitcher

        if self.side.closing():
            return
        def chosen(view: HostView | None) -> None:
            if view is not None and view is not self.current:
                if view.link is None:
                    self.side.notify(f"Host {display(view.name)} is not connected: {view.reason or 'connecting…'}",
                                    severity="warning")
                    return
                self.side.use_host(view)

        self.side.show_screen(HostSwitcher(self), chosen)

    def find_on_hosts(self) -> None:
        """`F`: find a PID or a command on every connected host; enter jumps to the hit."""
        from ctrtui.ui.screens.findhosts import FindOnHosts

        if self.side.closing():
            return
        self.side.show_screen(FindOnHosts(self), self.jump_to)

    def jump_to(self, hit: Hit | None) -> None:
        """Show the host of `hit` (switching to it), its hierarchy, the task's cgroup and row."""
        if hit is None:
            return
        view = self.view(hit.host)
        if view is None or view.link is None:
            return

        def there() -> None:
            if hit.hierarchy != self.session.hier and hit.hierarchy in self.session.hierarchy_names:
                self.side.navigator.switch(hit.hierarchy)
            self.side.navigator.find_pid(hit.pid)

        if view is self.current and self.session.hs is not None:
            there()
        else:
            view.hier = hit.hierarchy
            self.side.use_host(view, then=there)

    def close_all(self, wait: float = 2.0) -> None:
        """Let go of every host's connection (each in a thread of its own, waited for at
        most `wait` seconds in all: a dead host does not hold the exit)."""
        threads = [threading.Thread(target=v.close, daemon=True, name=f"ctrtui close {v.name}")
                   for v in self.views if v.link is not None and not v.local]
        for t in threads:
            t.start()
        deadline = time.monotonic() + wait
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------ find on every host

    def find(self, query: str) -> tuple[list[Hit], list[str]]:
        """Ask every reached host (in parallel, each bounded by its timeout) for `query`: a
        PID (digits) or a piece of a command line; (hits, one sentence per host that could
        not be asked). Blocking: call it in a thread worker."""
        views = [v for v in self.views if v.usable]
        problems = [f"{display(v.name)}: {v.reason or 'not connected'}" for v in self.views if not v.usable]
        hits: list[Hit] = []
        if not views:
            return hits, problems
        with ThreadPoolExecutor(max_workers=min(POOL, len(views)), thread_name_prefix="ctrtui find") as pool:
            shown = self.session.hier
            futures = [(v, pool.submit(call_with_timeout, partial(find_on, v, query, shown if v is self.current
                                                                  else v.hier or shown), v.timeout,
                                       f"host {display(v.name)}")) for v in views]
            for v, fut in futures:
                try:
                    hits.extend(fut.result())
                except Exception as exc:  # noqa: BLE001 - one host's failure is one line, not the end
                    problems.append(f"{display(v.name)}: {reason_of(exc)}")
        return hits[:FIND_LIMIT], problems


def find_on(view: HostView, query: str, prefer: str | None = None) -> list[Hit]:
    """`query` on one host (blocking): a PID's cgroup, or every task whose command line holds
    `query` (case-insensitive), with its cgroup in the hierarchy `prefer` (the one shown there,
    or the one shown now) when the host has it, else the one it would open on."""
    from ctrtui.ui.start import start_hierarchy

    backend = view.backend
    if backend is None:
        return []
    query = query.strip()
    mounted = backend.hierarchies()
    hiers = [h.name for h in mounted]
    if not hiers:
        return []
    shown = start_hierarchy(mounted, prefer)
    if query.isdigit():
        pid = int(query)
        cgroups = backend.task_cgroups(pid)
        if not cgroups:
            return []
        hier = shown if shown in cgroups else next((h for h in hiers if h in cgroups), None)
        if hier is None:
            return []
        info = backend.task_details([pid]).get(pid)
        return [Hit(view.name, pid, info.comm if info is not None else "", hier, cgroups[hier])]
    hier = shown or hiers[0]
    snap = backend.snapshot([hier])
    hs = snap.get(hier)
    if hs is None:
        return []
    where: dict[int, str] = {}
    for c in hs.containers.values():
        for pid in c.procs:
            where.setdefault(pid, c.path)
    infos = backend.task_details(sorted(where))
    needle = query.casefold()
    out = []
    for pid, info in infos.items():
        text = info.cmdline or info.comm
        if needle in (text or "").casefold() or needle in (info.comm or "").casefold():
            out.append(Hit(view.name, pid, text or info.comm or "", hier, where.get(pid, "/")))
            if len(out) >= FIND_LIMIT:
                break
    return out
