"""The one way kbtool overlaps work: items made on a thread a bounded number ahead of their
consumer, so reading a batch (mostly without the GIL) runs while the last is scored or written."""

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
    items: Iterable[_Item], depth: int = 1, *, lockstep: bool = False, name: str = "kbtool-ahead"
) -> Generator[_Item, None, None]:
    """`items`, made on a thread of their own (started at once) up to `depth` ahead of the consumer.

    `lockstep` bounds memory: the next item is begun only once the current one is taken. The
    producer's exception reaches the consumer in order. Closing early (even before iterating)
    stops the thread, which closes `items` in every case, so a reader lets go of its file.
    """
    return _Ahead(items, depth, lockstep, name)


class _Ahead(Generator[_Item, None, None]):
    def __init__(self, items: Iterable[_Item], depth: int, lockstep: bool, name: str) -> None:
        self._ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._worker = threading.Thread(
            target=self._produce, args=(items, lockstep), name=name, daemon=True
        )
        self._worker.start()
        self._items = self._consume()

    def _offer(self, entry: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self, items: Iterable[_Item], lockstep: bool) -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not self._offer(("item", item)):
                    return
                if lockstep:
                    self._ready.join()  # until the consumer has taken it
                    if self._stop.is_set():
                        return
            self._offer(("end", None))
        except BaseException as err:  # handed to the consumer, which raises it in order
            self._offer(("error", err))
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()

    def _consume(self) -> Generator[_Item, None, None]:
        try:
            while True:
                kind, payload = self._ready.get()
                self._ready.task_done()
                if kind == "end":
                    return
                if kind == "error":
                    raise payload
                yield payload
                del payload  # not kept alive while the next item is made
        finally:
            self._finish()

    def _finish(self) -> None:
        """Stop the producer and wait for it (it closes `items` on its way out)."""
        self._stop.set()
        # a producer waiting in put() sees `stop`; one waiting in join() needs the queue drained
        while self._worker.is_alive():
            try:
                self._ready.get_nowait()
                self._ready.task_done()
            except queue.Empty:
                self._worker.join(timeout=0.05)

    def send(self, value: None) -> _Item:
        return self._items.send(value)

    def throw(self, *args: Any) -> _Item:
        return self._items.throw(*args)

    def close(self) -> None:
        try:
            self._items.close()  # its `finally` stops the producer, if it ever started
        finally:
            self._finish()  # and this one if it never did

    def __del__(self) -> None:
        self._stop.set()  # dropped without close(): the producer ends at its next offer
