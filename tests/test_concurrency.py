"""kbtool.concurrency.ahead: items made on a thread ahead of their consumer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from kbtool.concurrency import ahead


def test_read_ahead_hands_on_the_reader_error_in_order() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("damaged line 3")

    seen: list[object] = []
    with pytest.raises(ValueError, match="damaged line 3"):
        for item in ahead(failing(), depth=1):
            seen.append(item)
    assert seen == [1, 2]


def test_read_ahead_stops_the_reader_when_the_consumer_stops() -> None:
    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            number = 0
            while True:
                number += 1
                yield number
        finally:
            closed.append(True)

    items = ahead(endless(), depth=2)
    assert next(items) == 1
    items.close()  # joins the producer thread, which closes `endless` on its way out
    assert closed == [True]


def counting(made: list[int], limit: int = 10) -> Iterator[int]:
    for number in range(1, limit + 1):
        made.append(number)
        yield number


@pytest.mark.parametrize("lockstep", [True, False])
def test_items_arrive_whole_and_in_order(lockstep: bool) -> None:
    made: list[int] = []
    assert list(ahead(counting(made), depth=2, lockstep=lockstep)) == list(range(1, 11))
    assert made == list(range(1, 11))


def test_lockstep_makes_one_item_at_most_beyond_the_one_in_use() -> None:
    """The import's memory bound: while the consumer holds item 1, only item 2 may be made.

    Without lockstep a depth-1 queue lets the producer reach item 3 meanwhile (one queued, one
    being made), which the second half checks so that the bound is seen to matter."""
    for lockstep, most in ((True, 2), (False, 3)):
        made: list[int] = []
        items = ahead(counting(made), depth=1, lockstep=lockstep)
        assert next(items) == 1
        deadline = time.monotonic() + 5
        while len(made) < most and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # room for the producer to overstep, were it able to
        assert len(made) == most
        items.close()
    assert not [t for t in threading.enumerate() if t.name == "kbtool-read-ahead"]


def test_the_producer_starts_before_the_first_item_is_asked_for() -> None:
    """kbtool zscore starts reading its file, then imports pandas and the writers: the reading
    thread must be at work meanwhile, not wait for the first next()."""
    made: list[int] = []
    items = ahead(counting(made), depth=2)
    deadline = time.monotonic() + 5
    while len(made) < 3 and time.monotonic() < deadline:  # two queued, one in the making
        time.sleep(0.01)
    assert made == [1, 2, 3]
    assert list(items) == list(range(1, 11))


def test_closing_a_generator_never_iterated_stops_its_producer() -> None:
    closed: list[bool] = []

    def endless() -> Iterator[int]:
        try:
            while True:
                yield 1
        finally:
            closed.append(True)

    items = ahead(endless(), depth=1, name="kbtool-test-never-iterated")
    time.sleep(0.05)
    items.close()
    assert closed == [True]
    assert not [t for t in threading.enumerate() if t.name == "kbtool-test-never-iterated"]
