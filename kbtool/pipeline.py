"""Overlapping a producer with its consumer: items made on a thread, a bounded number ahead.

Reading a batch of a register (pyarrow and numpy, mostly without the GIL) then runs while the
previous batch is scored, staged or written (`kbtool zscore`, `kbtool import`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

_Item = TypeVar("_Item")


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ahead(
    items: Iterable[_Item],
    depth: int = 1,
    *,
    lockstep: bool = False,
    name: str = "kbtool-read-ahead",
) -> Generator[_Item, None, None]:
    """`items`, produced on a thread of their own up to `depth` ahead of the consumer.

    With `lockstep` the thread starts on the next item only once the consumer has taken the
    current one: one item in use and one in the making, never a third waiting in between (the
    import's bound on memory, ~0.15 GB a batch of 500k rows). The producer's exception reaches
    the consumer in order. When the consumer stops early (closing this generator) the thread
    stops too; `items` is closed on that thread in every case, so a reader lets go of its file.
    """
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not offer(("item", item)):
                    return
                if lockstep:
                    ready.join()  # until the consumer has taken it
                    if stop.is_set():
                        return
            offer(("end", None))
        except BaseException as err:  # handed to the consumer, which raises it in order
            offer(("error", err))
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            kind, payload = ready.get()
            ready.task_done()
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield payload
            del payload  # not kept alive while the next item is made
    finally:
        stop.set()
        # a producer waiting in put() sees `stop`; one waiting in join() needs the queue drained
        while worker.is_alive():
            try:
                ready.get_nowait()
                ready.task_done()
            except queue.Empty:
                worker.join(timeout=0.05)
