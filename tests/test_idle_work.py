"""Work begun at the lowest priority and finished at normal priority (`idle_work`)."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from clearslate import idle_work
from clearslate.idle_work import IdleWork, Steps, run_steps

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value")


def _nice_here() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _steps(seen: list[int], gate: threading.Event, after: int) -> Steps[str]:
    """Three steps, a wait for `gate`, then `after` more; each notes its thread's nice."""
    for _ in range(3):
        seen.append(_nice_here())
        yield
    gate.wait()
    for _ in range(after):
        seen.append(_nice_here())
        time.sleep(0.001)
        yield
    return "done"


@linux_only
def test_work_begins_at_the_lowest_priority_and_ends_at_normal_priority_once_hurried() -> None:
    seen: list[int] = []
    gate = threading.Event()
    base = _nice_here()
    work = IdleWork(_steps(seen, gate, after=200), "test")
    deadline = time.monotonic() + 10
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [19, 19, 19]  # begun, before anyone asked for it
    hurrying = threading.Thread(target=work.hurry)
    hurrying.start()
    time.sleep(0.1)  # (hurry() now waits for the step under way)
    gate.set()
    hurrying.join()
    assert work.hurry().result(timeout=10) == "done"
    # The step under way when hurried ends at 19; every later one runs at normal priority.
    assert seen[:4] == [19] * 4
    assert seen[-1] == base
    first_normal = seen.index(base)
    assert set(seen[first_normal:]) == {base}
    assert len(seen) == 203


def test_an_error_in_the_work_is_raised_by_its_result() -> None:
    def failing() -> Steps[None]:
        yield
        raise ValueError("bad block")

    work = IdleWork(failing(), "test")
    with pytest.raises(ValueError, match="bad block"):
        work.hurry().result(timeout=10)


def test_work_hurried_at_once_or_when_done_gives_its_result() -> None:
    def count(to: int) -> Steps[int]:
        total = 0
        for i in range(to):
            total += i
            yield
        return total

    assert IdleWork(count(1000), "test").hurry().result(timeout=10) == sum(range(1000))
    done = IdleWork(count(10), "test")
    deadline = time.monotonic() + 10
    while not done.hurry().done() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done.hurry().result() == sum(range(10))
    assert run_steps(count(5)) == 10


def test_where_a_threads_priority_cannot_be_set_the_work_waits_to_be_hurried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At normal priority beside deciding it would slow the deciding (0.3-0.7 s at 1M rows)."""
    monkeypatch.setattr(idle_work.sys, "platform", "darwin")
    seen: list[int] = []
    gate = threading.Event()
    gate.set()
    base = _nice_here()
    work = IdleWork(_steps(seen, gate, after=2), "test")
    time.sleep(0.2)
    assert seen == []
    assert work.hurry().result(timeout=10) == "done"
    assert seen == [base] * 5
