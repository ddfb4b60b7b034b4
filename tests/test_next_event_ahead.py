"""The next event is read and built in a thread while the job draws this one
(jobs.runner.EventRun.scenes): the same events in the same order, errors where they belong,
nothing left running when the job stops early."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ispyrender.jobs.runner import _ahead


def test_items_come_in_order_one_at_a_time_made_in_another_thread():
    running = 0
    most = 0
    threads: set[int] = set()

    def items() -> Iterator[int]:
        nonlocal running, most
        for i in range(20):
            running += 1
            most = max(most, running)
            threads.add(threading.get_ident())
            time.sleep(0.002)
            running -= 1
            yield i

    assert list(_ahead(items())) == list(range(20))
    assert most == 1  # never two items in the making at once
    assert threading.get_ident() not in threads


def test_the_next_item_is_made_while_the_caller_works_on_this_one():
    made_at: list[float] = []

    def items() -> Iterator[int]:
        for i in range(4):
            time.sleep(0.05)
            made_at.append(time.perf_counter())
            yield i

    start = time.perf_counter()
    for _ in _ahead(items()):
        time.sleep(0.05)  # the caller's own work: drawing
    # Serially 8 x 50 ms; overlapped about 5 x 50 ms.
    assert time.perf_counter() - start < 0.35


def test_an_error_is_raised_where_its_item_is_asked_for():
    def items() -> Iterator[int]:
        yield 0
        yield 1
        raise ValueError("event 2 is broken")

    got = []
    with pytest.raises(ValueError, match="event 2 is broken"):
        for item in _ahead(items()):
            got.append(item)
    assert got == [0, 1]


def test_stopping_early_closes_the_items_and_leaves_no_thread():
    closed = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.set()

    before = {t.name for t in threading.enumerate()}
    with pytest.raises(KeyboardInterrupt):
        for item in _ahead(items()):
            if item == 3:
                raise KeyboardInterrupt
    assert closed.is_set()
    left = {t.name for t in threading.enumerate()} - before
    assert not any(name.startswith("ispyrender-next-event") for name in left)
