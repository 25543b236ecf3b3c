"""Work begun early, on the cores the run leaves idle, and finished at normal priority once
the run needs it.

Deciding keeps 1.4 of 2 cores busy (DuckDB's small tables are one row group, read by one
thread), so about a core-second goes unused at 1M rows; the input's SHA-256 and the check
that its lines are as Go writes them, both needed only later, can use it. (The SHA-256 is
begun before the read: where the input is read from the disk, the look for long lines
leaves the cores idle, and the hash reads the pages it reads.) Run beside
deciding at the same priority, they slowed it by 0.3-0.7 s (docs/performance.md, "Tried and
dropped"); at the lowest priority (Linux: nice 19, a thread's own) they take only what it
leaves idle. A thread cannot be given its priority back without privileges, so what is left
of the work when the run needs it (`hurry`) goes on on a thread of normal priority.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")

# The work: a generator that does a step (an 8 MB block, say) between yields and returns its
# result. A step is short: `hurry` waits for the one under way.
Steps = Generator[None, None, T]

_LOWEST = 19  # nice


def run_steps(steps: Steps[T]) -> T:
    """All of `steps`, here and now; their result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def idle_priority_here() -> bool:
    """Give the calling thread the lowest priority; False where that cannot be done for one
    thread (not Linux, or refused)."""
    if sys.platform != "linux":
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOWEST)
    except OSError:
        return False
    return True


class IdleWork(Generic[T]):
    """`steps` begun now on a thread of the lowest priority, and finished on one of normal
    priority from `hurry()` on. Where a thread's priority cannot be set (not Linux), the work
    waits for `hurry()` instead: at normal priority it would take the cores from what runs
    now."""

    def __init__(self, steps: Steps[T], name: str) -> None:
        self._steps = steps
        self._name = name
        self._hurried = threading.Event()
        self._result: Future[T] = Future()
        self._idle = threading.Thread(target=self._run, args=(True,), name=name, daemon=True)
        self._idle.start()

    def hurry(self) -> Future[T]:
        """The work's result to come: what is left of it goes on at normal priority."""
        if not self._hurried.is_set():
            self._hurried.set()
            self._idle.join()  # (the step under way: the run waits for it, so it has a core)
            if not self._result.done():
                threading.Thread(
                    target=self._run, args=(False,), name=self._name, daemon=True
                ).start()
        return self._result

    def _run(self, idle: bool) -> None:
        if idle and not idle_priority_here():
            return  # (hurry() starts it)
        try:
            while not (idle and self._hurried.is_set()):
                next(self._steps)
        except StopIteration as done:
            self._result.set_result(done.value)
        except BaseException as exc:  # (given to whoever waits for the result)
            self._result.set_exception(exc)
