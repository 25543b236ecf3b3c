"""How far a run has come, as a share of its whole time, for a progress bar polled from
another thread (the command line's, the web server's).

A run is a plan of stages, each a share of its time as measured (a 10M-row file: see
docs/performance.md); the stage under way is a sequence of parts, each a share of the stage;
and a part's gauge says how far through it the work is, from a measure of the work itself:
the bytes of the inputs read, the lines of a file written, DuckDB's progress of the one
statement the part runs. The bar so moves once from 0 to 100 over the whole run, and its
time left is that of the run, not of the statement under way.

The run sets where it is, the poller reads it: each is one tuple replaced whole, so a poll
never sees half of a change, and what a poll shows never goes back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

# The stage of a run that has ended: the bar is full.
DONE = "Done"
# How far through its part the work is, from 0 to 1; None while it is not known.
Gauge = Callable[[], float | None]
# part(share, gauge): the next part of the work under way begins (the one before is done),
# `share` of it, measured by `gauge` (None: the bar moves when the part is done).
Parts = Callable[[float, Gauge | None], None]


def no_parts(_share: float, _gauge: Gauge | None) -> None:
    """The `Parts` of work that no bar follows (the engine's, called by `explain`)."""


def within(parts: Parts, share: float) -> Parts:
    """The `Parts` of a part that is `share` of the work: their shares are of that part."""
    return lambda part, gauge: parts(share * part, gauge)


class _Where(NamedTuple):
    stage: str
    before: float  # the share of the run in the stages done
    share: float  # the stage's share of the run
    parts_before: float  # the share of the stage in its parts done
    part: float  # the part's share of the stage
    gauge: Gauge | None


class RunMeter:
    """Where a run is (`stage`, `fraction`). The run names its `plan`, then `begin`s each
    stage in it, and within a stage each `part` with the gauge of its work. A stage not in
    the plan (the web server's own, after a run) takes no share: it names what is under
    way, and the bar stays where it was."""

    def __init__(self, stage: str = "Starting") -> None:
        self._plan: Mapping[str, float] = {}
        self._where = _Where(stage, 0.0, 0.0, 0.0, 0.0, None)
        self._shown = 0.0

    @property
    def stage(self) -> str:
        return self._where.stage

    def plan(self, shares: Mapping[str, float]) -> None:
        """The run's stages in order, each with its share of the run's time (together 1)."""
        self._plan = shares

    def begin(self, stage: str, gauge: Gauge | None = None) -> None:
        """The next stage (the one before is done): measured as a whole by `gauge`, or by
        the parts the run then names."""
        where = self._where
        before = 1.0 if stage == DONE else where.before + where.share
        whole = 1.0 if gauge is not None else 0.0
        self._where = _Where(stage, before, self._plan.get(stage, 0.0), 0.0, whole, gauge)

    def part(self, share: float, gauge: Gauge | None = None) -> None:
        """The next part of the stage under way (the one before is done): `share` of the
        stage, its work measured by `gauge` (None: the bar moves when the part is done)."""
        where = self._where
        self._where = where._replace(
            parts_before=where.parts_before + where.part, part=share, gauge=gauge
        )

    def fraction(self) -> float:
        """How far the run has come, from 0 to 1: never less than a poll showed before."""
        _stage, before, share, parts_before, part, gauge = self._where
        reached = 0.0
        if gauge is not None:
            try:
                reached = min(max(gauge() or 0.0, 0.0), 1.0)
            except Exception:  # (DuckDB between two statements, or its connection closing)
                reached = 0.0
        now = before + share * min(parts_before + part * reached, 1.0)
        self._shown = max(self._shown, min(now, 1.0))
        return self._shown


def percent_gauge(percent: Callable[[], float | None]) -> Gauge:
    """The gauge of a percentage that is None or negative while it is not known (DuckDB's)."""

    def gauge() -> float | None:
        value = percent()
        return value / 100 if value is not None and value >= 0 else None

    return gauge


def statement_gauge(con: Any) -> Gauge:
    """DuckDB's progress of the statement under way on `con` (a part of one statement)."""
    return percent_gauge(con.query_progress)


class Place:
    """A gauge that the work sets as it goes (`reach`), on another thread than the poller's:
    a writer's place in the lines it writes."""

    def __init__(self) -> None:
        self.reached: float | None = None

    def reach(self, done: float, total: float) -> None:
        self.reached = done / total if total > 0 else 1.0

    def __call__(self) -> float | None:
        return self.reached
