"""The prediction workers: daemon threads whose results come back to the event loop as asyncio futures.

Not a ThreadPoolExecutor, because its threads are joined at interpreter exit: a prediction that runs
past the graceful-shutdown limit would then hold the process until SIGKILL. These threads never
block exit, and the loop side can give up on a future (answering 503) without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return  # the request already gave up (shutdown)
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class Pool:
    def __init__(self, workers: int, name: str = "predict") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        self._lock = threading.Lock()
        self.busy = 0  # predictions running now
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run fn(*args) on a worker; the future resolves on the calling loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((loop, future, fn, args))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, args = job
            with self._lock:
                self.busy += 1
            try:
                result: tuple[bool, Any] = (True, fn(*args))
            except BaseException as e:  # handed to the request, which decides what it means
                result = (False, e)
            finally:
                with self._lock:
                    self.busy -= 1
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, future, *result)

    def shutdown(self) -> None:
        """Stop the workers once their current job ends; never waits for it."""
        for _ in self._threads:
            self._jobs.put(None)
