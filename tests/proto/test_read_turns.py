"""`ReadTurns`: who reads a shared HTTP/2 connection, who waits, whom each read wakes.

Fixed sequences for each decision, then a state machine that drives it the way the
driver does (tasks that look, take the read, park, wait, are cancelled, time out)
in random interleavings, checking after every step: one reader at most, a parked
task with news is woken, a read never runs past a parked task's deadline unless the
task has a timer of its own, somebody has the turn whenever nobody reads and some
wait, nothing is woken twice, and in the end every task finishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from oxide_proto import ReadTurns


class Waiter:
    """What a driver would sleep on; here it only has a name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.wakes = 0  # how many times it was handed out to wake

    def __repr__(self) -> str:
        return f"Waiter({self.name})"


def test_the_first_task_reads_and_the_others_wait() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    assert turns.take()
    assert turns.reading
    assert not turns.take()
    assert turns.stop_reading() is None  # nobody waits
    assert not turns.reading
    assert turns.take()


def test_a_waiter_is_parked_by_its_stream_or_under_a_key_of_its_own() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    assert turns.park(1, Waiter("a"), None, 0.0) == (1, None)
    # The same stream again (a body waiting for window) and a wait for any read
    # each get a negative key, never the same one.
    again, _ = turns.park(1, Waiter("b"), None, 0.0)
    anyone, _ = turns.park(None, Waiter("c"), None, 0.0)
    assert again < 0 and anyone < 0 and again != anyone
    assert turns.waiting == 3


def test_a_waiter_waits_by_itself_unless_the_read_in_progress_ends_by_its_deadline() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    # No read in progress: the task keeps its own time.
    assert turns.park(1, Waiter("a"), 10.0, 4.0) == (1, 6.0)
    assert turns.park(3, Waiter("b"), 3.0, 4.0) == (3, 0.0)  # already past
    turns.read_done([1, 3], 4.0)
    # A read that ends by 10.0 (the reader's deadline) wakes those due later.
    assert turns.begin_read(10.0, 5.0, None) == 10.0
    assert turns.park(5, Waiter("c"), 12.0, 5.0) == (5, None)
    assert turns.park(7, Waiter("d"), 10.0, 5.0) == (7, None)
    assert turns.park(9, Waiter("e"), 8.0, 5.0) == (9, 3.0)
    assert turns.park(11, Waiter("f"), None, 5.0) == (11, None)


def test_a_read_ends_by_the_earliest_deadline_and_the_cores_timer_counts() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    assert turns.begin_read(None, 0.0, None) is None  # no limit at all
    turns.read_done([], 1.0)
    turns.park(1, Waiter("a"), 5.0, 1.0)
    assert turns.begin_read(None, 1.0, None) == 5.0
    turns.read_done([], 2.0)
    assert turns.begin_read(9.0, 2.0, None) == 5.0
    turns.read_done([], 3.0)
    assert turns.begin_read(4.0, 3.0, None) == 4.0
    turns.read_done([], 3.5)
    # The core's timer (a keepalive PING) ends the read before 5.0: a task that
    # parks now with a deadline after the timer keeps its own time.
    assert turns.begin_read(None, 3.5, 4.5) == 5.0
    assert turns.park(3, Waiter("b"), 6.0, 3.5) == (3, None)
    turns.read_done([], 4.0)
    assert turns.begin_read(None, 4.0, 4.5) == 5.0
    assert turns.park(5, Waiter("c"), 4.25, 4.0) == (5, 0.25)
    turns.read_done([], 4.1)
    # Past the earliest deadline: no read (the caller then calls `read_done`).
    assert turns.begin_read(None, 5.0, None) == 4.25


def test_a_read_wakes_the_streams_it_brought_news_to_and_the_waits_for_any_read() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    a, b, c = Waiter("a"), Waiter("b"), Waiter("c")
    turns.park(1, a, None, 0.0)
    turns.park(3, b, None, 0.0)
    turns.park(None, c, None, 0.0)
    assert turns.read_done([3, 99, 3], 1.0) == [b, c]  # an id may repeat
    assert turns.reads == 1
    assert turns.read_done([], 2.0) == []
    assert turns.read_done(None, 3.0) == [a]  # None: any stream may have news
    assert turns.waiting == 0
    assert turns.reads == 3


def test_a_read_past_a_deadline_wakes_that_waiter_once() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    a, b = Waiter("a"), Waiter("b")
    turns.park(1, a, 2.0, 0.0)
    turns.park(3, b, 5.0, 0.0)
    assert turns.read_done([], 1.0) == []
    assert turns.read_done([], 2.0) == [a]
    assert turns.read_done([1], 3.0) == []  # gone already
    assert turns.begin_read(None, 3.0, None) == 5.0  # the earliest left
    assert turns.read_done([], 5.0) == [b]


def test_the_turn_to_read_goes_to_the_oldest_waiter_one_at_a_time() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    a, b = Waiter("a"), Waiter("b")
    turns.park(3, a, None, 0.0)
    turns.park(1, b, None, 0.0)
    assert turns.pass_on() is None  # somebody reads
    assert turns.stop_reading() is a
    assert turns.turn == 3
    assert turns.pass_on() is None  # `a` has the turn until it runs
    turns.unpark(3, a)
    assert turns.turn is None
    # `a` found its event and passes on: `b` reads next.
    assert turns.pass_on() is b
    assert turns.turn == 1
    turns.unpark(1, b)
    assert turns.pass_on() is None
    assert turns.take()


def test_a_cancelled_waiter_leaves_and_the_turn_moves_on() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    a, b, c = Waiter("a"), Waiter("b"), Waiter("c")
    turns.park(1, a, None, 0.0)
    key, _ = turns.park(None, b, 1.0, 0.0)
    turns.park(5, c, None, 0.0)
    turns.unpark(key, b)  # cancelled while parked
    assert turns.read_done([], 2.0) == []  # its deadline no longer counts, nor its wait
    assert turns.stop_reading() is a
    turns.unpark(1, a)  # woken for its turn, then cancelled before it looked
    assert turns.pass_on() is c


def test_a_woken_waiter_that_runs_late_does_not_free_a_later_one_on_its_key() -> None:
    turns: ReadTurns[Waiter] = ReadTurns()
    turns.take()
    a, b = Waiter("a"), Waiter("b")
    turns.park(1, a, None, 0.0)
    assert turns.read_done([1], 1.0) == [a]
    turns.park(1, b, None, 1.0)  # another task of stream 1, before `a` ran
    turns.unpark(1, a)
    assert turns.read_done([1], 2.0) == [b]


# -- random interleavings, the way the driver asks ---------------------------------------


@dataclass
class Task:
    """A task of the model: waits for `stream` (None: for any read) until `deadline`."""

    name: int
    stream: int | None
    deadline: float | None
    seen: int  # reads done when it started (a task waiting for any read)
    state: str = "running"  # running (will look), parked, reading, done
    waiter: Waiter | None = None
    key: int = 0
    timer: float | None = None  # when its own timer wakes it, while parked
    woken: bool = False  # the scheduler handed its waiter out


@dataclass
class Read:
    """The read in progress: when it ends at the latest (None: no limit)."""

    ends: float | None


class TurnsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.turns: ReadTurns[Waiter] = ReadTurns()
        self.now = 0.0
        self.tasks: list[Task] = []
        self.next_stream = 1
        self.events: set[int] = set()  # streams with a buffered event
        self.read: Read | None = None

    # The driver's part.

    def live(self, state: str) -> list[Task]:
        return [task for task in self.tasks if task.state == state]

    def reader(self) -> Task | None:
        readers = self.live("reading")
        return readers[0] if readers else None

    def wake(self, waiter: Waiter | None) -> None:
        if waiter is None:
            return
        waiter.wakes += 1
        assert waiter.wakes == 1, f"{waiter} woken twice"
        (task,) = [task for task in self.tasks if task.waiter is waiter]
        assert task.state in ("parked", "running"), f"woke {task}"
        assert not task.woken
        task.woken = True
        task.state = "running"

    def finish(self, task: Task) -> None:
        task.state = "done"
        self.wake(self.turns.pass_on())

    def stop_reading(self, task: Task) -> None:
        assert task.state == "reading"
        self.read = None
        task.state = "done"
        self.wake(self.turns.stop_reading())

    # What may happen, in any order.

    @rule(
        for_any_read=st.booleans(),
        timeout=st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 5.0])),
    )
    def start(self, for_any_read: bool, timeout: float | None) -> None:
        stream = None
        if not for_any_read:
            stream = self.next_stream
            self.next_stream += 2
        deadline = None if timeout is None else self.now + timeout
        self.tasks.append(Task(len(self.tasks), stream, deadline, self.turns.reads))

    @precondition(lambda self: self.live("running"))
    @rule(data=st.data())
    def look(self, data: st.DataObject) -> None:
        self.look_at(data.draw(st.sampled_from(self.live("running"))))

    def look_at(self, task: Task) -> None:
        """A running task looks at its stream (after leaving its wait), and reads,
        parks or is done."""
        turns = self.turns
        if task.waiter is not None:
            turns.unpark(task.key, task.waiter)
            task.waiter = None
            task.timer = None
            if task.stream is None:
                # A task waiting for any read returns after one wait.
                self.finish(task)
                return
        if task.stream is None and turns.reads != task.seen:
            task.state = "done"  # a read came since it looked: nothing to wait for
            return
        if task.stream is not None and task.stream in self.events:
            self.finish(task)
            return
        if task.deadline is not None and self.now >= task.deadline:
            self.finish(task)  # its timeout
            return
        if turns.take():
            task.state = "reading"
            return
        task.state = "parked"
        task.woken = False
        task.waiter = Waiter(str(task.name))
        task.key, wait = turns.park(task.stream, task.waiter, task.deadline, self.now)
        if task.stream is not None and task.key > 0:
            assert task.key == task.stream
        task.timer = None if wait is None else self.now + wait
        if wait is not None:
            assert task.deadline is not None and wait == max(task.deadline - self.now, 0.0)
        elif task.deadline is not None:
            # No timer of its own: the read in progress ends by its deadline.
            ends = None if self.read is None else self.read.ends
            assert ends is not None and ends <= task.deadline, "nobody wakes it in time"

    @precondition(lambda self: self.reader() is not None and self.read is None)
    @rule(timer=st.one_of(st.none(), st.sampled_from([0.5, 3.0])))
    def begin_read(self, timer: float | None) -> None:
        self.begin(timer)

    def begin(self, timer: float | None) -> None:
        reader = self.reader()
        assert reader is not None
        until = self.turns.begin_read(
            reader.deadline, self.now, None if timer is None else self.now + timer
        )
        if reader.deadline is not None:
            assert until is not None and until <= reader.deadline
        for task in self.live("parked") + self.live("running"):
            if task.waiter is not None and task.deadline is not None and not task.woken:
                assert until is not None and until <= task.deadline, "read past a deadline"
        if until is None or until > self.now:
            ends = until
            if timer is not None and (ends is None or self.now + timer < ends):
                ends = self.now + timer
            self.read = Read(ends)
            return
        if reader.deadline is not None and reader.deadline <= self.now:
            self.stop_reading(reader)  # the reader's timeout
            return
        self.done_reading(None, [])  # no read: a waiter's deadline passed

    @precondition(lambda self: self.read is not None)
    @rule(
        took=st.sampled_from([0.0, 0.5, 1.0, 4.0]),
        news=st.one_of(st.none(), st.lists(st.integers(1, 30), max_size=6)),
    )
    def end_read(self, took: float, news: list[int] | None) -> None:
        self.done_reading(took, news)

    def done_reading(self, took: float | None, news: list[int] | None) -> None:
        """The read ends `took` seconds on (None: there was none) with `news`."""
        reader = self.reader()
        assert reader is not None
        ends = None if self.read is None else self.read.ends
        if took is not None and ends is not None and self.now + took >= ends:
            # The read timed out (or the core's timer came first): no bytes.
            self.now = ends
            news = []
            if reader.deadline is not None and self.now >= reader.deadline:
                self.read = None
                self.stop_reading(reader)  # the reader's timeout
                self.fire_timers()
                return
        elif took is not None:
            self.now += took
        self.read = None
        if news is None:
            self.events.update(t.stream for t in self.tasks if t.stream is not None)
        else:
            self.events.update(news)
        for waiter in self.turns.read_done(news, self.now):
            self.wake(waiter)
        for task in self.live("parked"):
            assert task.deadline is None or task.deadline > self.now, "past its deadline"
            assert task.stream is not None, "a wait for any read outlived a read"
        if reader.stream is None or reader.stream in self.events:
            self.stop_reading(reader)
        self.fire_timers()

    @precondition(lambda self: self.read is None)
    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0]))
    def tick(self, seconds: float) -> None:
        """Time passes while no read is in progress (tasks are slow to run)."""
        self.now += seconds
        self.fire_timers()

    def fire_timers(self) -> None:
        for task in self.live("parked"):
            if task.timer is not None and task.timer <= self.now:
                task.state = "running"  # its own timer: the waiter stays parked

    @precondition(lambda self: self.live("parked") or self.live("running"))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        task = data.draw(st.sampled_from(self.live("parked") + self.live("running")))
        if task.waiter is not None:
            self.turns.unpark(task.key, task.waiter)
            task.waiter = None
        self.finish(task)

    # What holds after every step.

    @invariant()
    def one_reader_at_most(self) -> None:
        readers = self.live("reading")
        assert len(readers) <= 1
        assert self.turns.reading == bool(readers)

    @invariant()
    def news_wakes_its_task(self) -> None:
        for task in self.live("parked"):
            assert task.stream is None or task.stream not in self.events, f"{task} slept on"

    @invariant()
    def somebody_has_the_turn(self) -> None:
        """When nobody reads and some wait, exactly one waiter was woken to read."""
        parked = [t for t in self.tasks if t.waiter is not None and not t.woken]
        if self.turns.reading or not parked:
            return
        turn = self.turns.turn
        assert turn is not None, "tasks wait and nobody reads"
        holders = [t for t in self.tasks if t.waiter is not None and t.key == turn]
        assert len(holders) == 1 and holders[0].woken and holders[0].state == "running"

    @invariant()
    def counts_agree(self) -> None:
        parked = [t for t in self.tasks if t.waiter is not None and not t.woken]
        assert self.turns.waiting == len(parked)

    def teardown(self) -> None:
        """Every task finishes once reads bring everything: nothing waits forever."""
        for _ in range(10 * len(self.tasks) + 10):
            running = self.live("running")
            if running:
                self.look_at(running[0])
                continue
            reader = self.reader()
            if reader is None:
                assert not self.live("parked"), "tasks wait and nobody reads or runs"
                break
            if self.read is None:
                self.begin(None)
                continue
            self.done_reading(0.0, None)
        assert all(task.state == "done" for task in self.tasks), self.tasks


TestTurnsMachine = TurnsMachine.TestCase
TestTurnsMachine.settings = settings(
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
