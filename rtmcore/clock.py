"""Clocks for route aging (spec 1.10).

A :class:`RoutingTableManager` reads time from a clock.  By default it is the
wall clock, and a background thread fires route expiries when they are due.
A :class:`VirtualClock` is driven by the caller instead: nothing happens until
:meth:`VirtualClock.advance`, which fires every expiry that falls due, in time
order, each at its own time.  Simulations get the same result on every run.
"""
from __future__ import annotations

import threading
import time
import weakref

from . import errors as E


class VirtualClock:
    """A clock that only moves when told to.

    Parameters
    ----------
    start_ms : int
        The time the clock starts at, in milliseconds.

    Examples
    --------
    >>> import rtmcore
    >>> clock = rtmcore.VirtualClock()
    >>> rtm = rtmcore.RoutingTableManager(clock=clock)
    >>> rip = rtm.register_entity(rtmcore.PROTO_IP_RIP)
    >>> _ = rip.add_route_to_dest("10.0.0.0/8", time_to_live=30_000)
    >>> clock.advance(29_999); rtm.counts(4)
    (1, 1)
    >>> clock.advance(1); rtm.counts(4)
    (0, 0)
    """

    def __init__(self, start_ms: int = 0):
        if start_ms < 0:
            raise E.InvalidParameter("a clock starts at a non-negative time")
        self._now = int(start_ms)
        self._managers: "weakref.WeakSet" = weakref.WeakSet()

    def now(self) -> int:
        """Current time, ms."""
        return self._now

    def _attach(self, manager) -> None:
        self._managers.add(manager)
        manager._core.set_virtual_time(self._now)

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms`` and fire, in time order across every
        manager on this clock, each expiry that falls due (each at its time).
        If callbacks raise, the whole window is still processed and the first
        exception is raised at the end."""
        if ms < 0:
            raise E.InvalidParameter("time only moves forward")
        target = self._now + int(ms)
        error = None
        while True:
            due = []
            for m in list(self._managers):
                t = m._next_timer()
                if t is not None and t <= target:
                    due.append((t, id(m), m))
            if not due:
                break
            t, _, m = min(due)
            self._now = max(self._now, t)
            for other in list(self._managers):
                other._core.set_virtual_time(self._now)
            try:
                m.process_timers()
            except Exception as exc:  # noqa: BLE001 - the window is finished first
                error = error or exc
        self._now = target
        for m in list(self._managers):
            m._core.set_virtual_time(target)
        if error is not None:
            raise error

    def advance_to(self, ms: int) -> None:
        """Advance to the absolute time ``ms``."""
        self.advance(int(ms) - self._now)


class _TimerThread(threading.Thread):
    """Fires a wall-clock manager's due timers in the background."""

    def __init__(self, manager):
        super().__init__(name="rtmcore-timers", daemon=True)
        self._manager = weakref.ref(manager)
        self.wake = threading.Event()

    def run(self) -> None:
        while True:
            m = self._manager()
            if m is None:
                return
            t = m._next_timer()
            now = time.time() * 1000
            del m
            if t is None:
                self.wake.wait(1.0)
            elif t > now:
                self.wake.wait(min((t - now) / 1000.0, 1.0))
            else:
                m = self._manager()
                if m is None:
                    return
                try:
                    m.process_timers()
                except Exception:  # noqa: BLE001 - a callback's error must not kill the thread
                    pass
                del m
            self.wake.clear()
