"""Whose turn it is to read a shared HTTP/2 connection, and whom each read wakes.

The streams of one HTTP/2 connection belong to several tasks, but the socket has one
reader at a time. One task reads for everyone (the core buffers each stream's events)
while the others wait, each until a read brings news for its own stream (the core
names those streams, `HTTPConnection.take_news`), until its deadline, or until it is
its turn to read. A read that brings a hundred responses wakes their hundred tasks at
once, and nobody else: there is no lock passed down one task at a time.

`ReadTurns` makes these decisions and nothing else: the driver asks it whether a task
may read or must wait (and how long by itself), when the read it starts ends, which
waiters a read wakes and who reads next when a waiter leaves; the driver makes the
waiters, sleeps, reads the socket and wakes whom it is told to. It holds the waiters
as opaque objects (`W`: whatever the driver waits on) and keeps no clock: every
question that needs the time takes `now`, a monotonic time, as deadlines are.

A waiter's deadline holds while another task reads: the read in progress ends by the
earliest deadline among the waiters, so a waiter whose deadline comes after that end
needs no timer of its own (`park` says so), and a read past a waiter's deadline wakes
it to raise its own timeout.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["ReadTurns"]

W = TypeVar("W")


class ReadTurns(Generic[W]):
    """The reading role of one shared connection, and the tasks waiting meanwhile.

    A task that needs input calls `take`: True, it reads (`begin_read`, the socket,
    `read_done`, until its stream has its event, then `stop_reading`); False, it makes
    a waiter and `park`s it, waits, and when it runs again (woken, timed out or
    cancelled) calls `unpark`, then looks at its stream again. A task that stops
    looking (its event came, its deadline passed, it failed or was cancelled) calls
    `pass_on` so that somebody reads when nobody does. It takes no lock: a driver
    whose tasks are threads asks under its own.
    """

    __slots__ = (
        "_any_key",
        "_any_waiting",
        "_deadlines",
        "_earliest",
        "_parked",
        "_read_until",
        "_turn",
        "reading",
        "reads",
    )

    def __init__(self) -> None:
        # Whether a task holds the reading role.
        self.reading = False
        # Reads done so far: a task that saw this many before it looked at the core
        # waits for a read only if no other came since.
        self.reads = 0
        # The waiting tasks, oldest first, by the stream each waits for (a negative
        # key: a task that waits for any read, such as a body waiting for
        # flow-control window). A woken task leaves this dict at once; its
        # deadline stays in `_deadlines` until it runs (`unpark`).
        self._parked: dict[int, W] = {}
        self._deadlines: dict[int, float] = {}
        # The earliest deadline of `_deadlines`, or earlier: the end of the next read.
        self._earliest: float | None = None
        self._any_key = 0  # the last negative key handed out
        self._any_waiting = 0  # tasks under a negative key, parked or woken, until `unpark`
        # The key of the task woken to read next, until it runs (one at a time).
        self._turn: int | None = None
        # When the read in progress ends at the latest (None: no read, or no limit).
        self._read_until: float | None = None

    @property
    def waiting(self) -> int:
        """How many tasks wait, not yet woken."""
        return len(self._parked)

    @property
    def turn(self) -> int | None:
        """The key of the task woken to read next, until it runs (`unpark`)."""
        return self._turn

    def take(self) -> bool:
        """Takes the reading role when nobody holds it: True, the caller reads."""
        if self.reading:
            return False
        self.reading = True
        return True

    def park(
        self, stream_id: int | None, waiter: W, deadline: float | None, now: float
    ) -> tuple[int, float | None]:
        """Parks `waiter`, a task waiting for news of `stream_id` (None: for any read),
        until `deadline` (None: none).

        Returns the key to `unpark` it by, and how long the task waits at most by
        itself: no limit when the read in progress ends by its deadline (that read
        wakes it then).
        """
        parked = self._parked
        if stream_id is None or stream_id in parked:
            # A stream already waited for (a body waiting for window while its
            # response is awaited) waits under a key of its own: woken by any read.
            self._any_key -= 1
            key = self._any_key
            self._any_waiting += 1
        else:
            key = stream_id
        parked[key] = waiter
        if deadline is None:
            return key, None
        self._deadlines[key] = deadline
        earliest = self._earliest
        if earliest is None or deadline < earliest:
            self._earliest = deadline
        until = self._read_until
        if until is not None and until <= deadline:
            return key, None
        return key, max(deadline - now, 0.0)

    def unpark(self, key: int, waiter: W) -> None:
        """The task waiting under `key` runs again (woken, timed out or cancelled)."""
        parked = self._parked
        if parked.get(key) is waiter:
            del parked[key]
        self._deadlines.pop(key, None)
        if key < 0:
            self._any_waiting -= 1
        if self._turn == key:
            self._turn = None

    def pass_on(self) -> W | None:
        """When nobody reads and nobody was woken to, the oldest waiting task: the
        driver wakes it to read next (it finds its event and passes on in turn, or
        reads). None: nobody to wake."""
        parked = self._parked
        if parked and not self.reading and self._turn is None:
            key = next(iter(parked))
            self._turn = key
            return parked.pop(key)
        return None

    def stop_reading(self) -> W | None:
        """The reader lets go of the role; returns whom to wake to read next (`pass_on`)."""
        self.reading = False
        self._read_until = None
        # `pass_on`, without the call (once a read that brought the reader's event).
        parked = self._parked
        if parked and self._turn is None:
            key = next(iter(parked))
            self._turn = key
            return parked.pop(key)
        return None

    def begin_read(self, deadline: float | None, now: float, timer: float | None) -> float | None:
        """When the read the reader starts at `now` ends: by its own `deadline` and
        the earliest of the waiters' (None: no limit).

        The driver reads only when that is None or after `now`; `timer` (the core's
        next timer, which also ends the read) tells `park` whether a waiter can
        count on this read to end by its deadline. Otherwise it reads nothing: its
        own deadline passed (it raises its timeout), or a waiter's did
        (`read_done` wakes that waiter).
        """
        until = deadline
        earliest = self._earliest
        if earliest is not None and (until is None or earliest < until):
            until = earliest
        if until is None or until > now:
            self._read_until = (
                until if timer is None or (until is not None and until < timer) else timer
            )
        return until

    def read_done(self, news: list[int] | None, now: float) -> list[W]:
        """A read ended at `now` (with or without bytes) bringing news to the streams
        `news` (None: to any stream, as `take_news` says); returns the waiters to
        wake: those of these streams, those waiting for any read, and those whose
        deadline passed (each raises its own timeout)."""
        self.reads += 1
        self._read_until = None
        parked = self._parked
        woken: list[W] = []
        earliest = self._earliest
        if earliest is not None and earliest <= now:
            deadlines = self._deadlines
            for key in [key for key, deadline in deadlines.items() if deadline <= now]:
                del deadlines[key]
                waiter = parked.pop(key, None)
                if waiter is not None:
                    woken.append(waiter)
            self._earliest = min(deadlines.values(), default=None)
        if not parked:
            return woken
        if news is None:
            woken += parked.values()
            parked.clear()
            return woken
        for stream_id in news:
            waiter = parked.pop(stream_id, None)
            if waiter is not None:
                woken.append(waiter)
        if self._any_waiting:
            for key in [key for key in parked if key < 0]:
                woken.append(parked.pop(key))
        return woken
