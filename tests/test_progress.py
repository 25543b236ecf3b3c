"""The progress of a run: its RunMeter's arithmetic, what real runs tell it (every stage,
every part, each bundle writer's place in its lines), and the command line's bar."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pytest
from rich.console import Console

from clearslate import run as run_module
from clearslate.cli import _RunProgress
from clearslate.policy import DEFAULT_POLICY
from clearslate.progress import DONE, Gauge, Place, RunMeter, within
from clearslate.run import RunOptions, run
from clearslate.synth import generate_doj_file

STAGES = ["Reading research files", "Deciding", "Writing outputs"]


def test_the_meter_adds_up_stages_parts_and_gauges() -> None:
    meter = RunMeter()
    assert (meter.stage, meter.fraction()) == ("Starting", 0.0)
    meter.plan({"Reading": 0.4, "Writing": 0.6})
    read = Place()
    meter.begin("Reading", read)
    assert meter.fraction() == 0.0  # (a place not yet set)
    read.reach(1, 4)
    assert meter.fraction() == pytest.approx(0.1)
    meter.begin("Writing")
    assert (meter.stage, meter.fraction()) == ("Writing", pytest.approx(0.4))
    meter.part(0.5, None)  # a part without a gauge moves the bar when it is done
    assert meter.fraction() == pytest.approx(0.4)
    statement = [0.5]
    meter.part(0.5, lambda: statement[0])
    assert meter.fraction() == pytest.approx(0.4 + 0.6 * (0.5 + 0.25))
    statement[0] = 0.1  # a gauge that goes back (DuckDB's, at times) does not move it back
    assert meter.fraction() == pytest.approx(0.85)
    statement[0] = 7.0  # nor one past its end beyond its part
    assert meter.fraction() == pytest.approx(1.0)
    meter.begin(DONE)
    assert (meter.stage, meter.fraction()) == (DONE, 1.0)
    meter.begin("Writing the impact report")  # a stage not in the plan: the bar stays
    assert meter.fraction() == 1.0


def test_a_gauge_that_fails_or_does_not_know_counts_as_not_begun() -> None:
    def closed() -> float:
        raise RuntimeError("connection closed")

    unknown: Gauge = lambda: None  # noqa: E731
    for gauge in (closed, unknown):
        meter = RunMeter()
        meter.plan({"Reading": 1.0})
        meter.begin("Reading", gauge)
        assert meter.fraction() == 0.0


def test_parts_within_a_part_share_it() -> None:
    meter = RunMeter()
    meter.plan({"Writing": 1.0})
    meter.begin("Writing")
    meter.part(0.2, None)
    files = within(meter.part, 0.5)
    files(0.25, lambda: 1.0)  # a quarter of the half that the files take
    assert meter.fraction() == pytest.approx(0.2 + 0.125)
    files(0.75, lambda: 0.0)
    assert meter.fraction() == pytest.approx(0.325)
    meter.part(0.3, lambda: 1.0)
    assert meter.fraction() == pytest.approx(1.0)


def test_a_place_is_not_known_until_the_work_sets_it() -> None:
    place = Place()
    assert place() is None
    place.reach(2, 8)
    assert place() == 0.25
    place.reach(0, 0)  # (nothing to write: done)
    assert place() == 1.0


class _Recorded(RunMeter):
    """A RunMeter that keeps what the run told it: (stage, part's share or None for the
    stage's beginning, the fraction just after)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, float | None, float]] = []

    def begin(self, stage: str, gauge: Gauge | None = None) -> None:
        super().begin(stage, gauge)
        self.log.append((stage, None, self.fraction()))

    def part(self, share: float, gauge: Gauge | None = None) -> None:
        super().part(share, gauge)
        self.log.append((self.stage, share, self.fraction()))

    def shares(self, stage: str) -> list[float]:
        return [s for name, s, _ in self.log if name == stage and s is not None]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three research files, one for each way the bundle's full files are written: as its
    lines are (lean, as Go writes them), from its records quoted again (its space-padded
    fields bare: not as Go writes them), and by DuckDB's COPY (Latin-1: not read lean)."""
    folder = tmp_path_factory.mktemp("progress")
    lean, bare, latin = folder / "lean.csv", folder / "bare.csv", folder / "latin.csv"
    generate_doj_file(lean, county="LOS ANGELES", rows=3000, seed=5)
    generate_doj_file(bare, county="LOS ANGELES", rows=2000, seed=6)
    text = bare.read_text(encoding="utf-8")
    assert '"          "' in text
    bare.write_text(text.replace('"          "', "          "), encoding="utf-8")
    generate_doj_file(latin, county="LOS ANGELES", rows=1000, seed=7)
    text = latin.read_text(encoding="utf-8")
    comma = text.index('",', text.index("\n"))  # the end of the first record's name
    latin.write_bytes((text[:comma] + "\u00c9" + text[comma:]).encode("latin-1"))
    return [lean, bare, latin]


def _run(inputs: list[Path], out: Path, **options: object) -> tuple[RunOptions, _Recorded]:
    settings: dict[str, object] = {"counties": ["LOS ANGELES"], **options}
    opts = RunOptions(
        inputs=inputs,
        outputs=out,
        as_of=dt.date(2020, 7, 1),
        policy=DEFAULT_POLICY,
        **settings,  # type: ignore[arg-type]
    )
    meter = _Recorded()
    run(opts, meter=meter)
    return opts, meter


@pytest.fixture
def places(monkeypatch: pytest.MonkeyPatch) -> dict[Place, list[tuple[float, float]]]:
    """Each Place a writer set in the run (kept here: an id could be a later one's): (done,
    total) as it went."""
    reached: dict[Place, list[tuple[float, float]]] = {}
    real = Place.reach

    def reach(self: Place, done: float, total: float) -> None:
        reached.setdefault(self, []).append((done, total))
        real(self, done, total)

    monkeypatch.setattr(Place, "reach", reach)
    return reached


@pytest.mark.parametrize("statewide", [False, True], ids=["one county", "statewide"])
def test_a_full_run_tells_its_meter_each_stage_each_part_and_each_writers_place(
    inputs: list[Path],
    tmp_path: Path,
    places: dict[Place, list[tuple[float, float]]],
    statewide: bool,
) -> None:
    options = {"counties": None} if statewide else {}
    opts, meter = _run(inputs, tmp_path / "out", **options)
    plan = run_module._plan(opts)
    assert [name for name, share, _ in meter.log if share is None] == [*STAGES, DONE]
    # each stage begins where the plan puts it, and its parts add up to the whole stage
    begun = {name: f for name, share, f in meter.log if share is None}
    assert begun["Deciding"] == pytest.approx(plan.read)
    assert begun["Writing outputs"] == pytest.approx(plan.read + plan.decide)
    assert math.fsum(meter.shares("Deciding")) == pytest.approx(1.0)
    writing = meter.shares("Writing outputs")
    assert math.fsum(writing) == pytest.approx(1.0)
    # the bundle's part is the input files', each by its bytes
    sizes = [p.stat().st_size for p in inputs]
    by_file = writing[1:4]
    assert math.fsum(by_file) == pytest.approx(plan.bundles)
    assert [s / plan.bundles for s in by_file] == pytest.approx([s / sum(sizes) for s in sizes])
    fractions = [f for _, _, f in meter.log]
    assert fractions == sorted(fractions)
    assert (meter.stage, meter.fraction()) == (DONE, 1.0)
    # the writers' places go forward to the end of their lines: one for each file written
    # from its lines (statewide, every file; one county, all but the COPYs' Latin-1 file)
    assert len(places) == (3 if statewide else 2)
    for reached in places.values():
        assert [done for done, _ in reached] == sorted(done for done, _ in reached)
        assert len({total for _, total in reached}) == 1
        assert reached[-1][0] == reached[-1][1] > 0


def test_decisions_only_tell_the_meter_their_own_plan(inputs: list[Path], tmp_path: Path) -> None:
    opts, meter = _run(inputs[:1], tmp_path / "out", gogen_bundle=False)
    plan = run_module._plan(opts)
    assert plan.bundles == 0
    begun = {name: f for name, share, f in meter.log if share is None}
    assert list(begun) == [*STAGES, DONE]
    assert begun["Writing outputs"] == pytest.approx(plan.read + plan.decide)
    assert meter.shares("Writing outputs") == [plan.determinations, plan.summaries]
    assert meter.fraction() == 1.0


def test_every_plan_adds_up_to_the_whole_run() -> None:
    for plan in (run_module._FULL, run_module._STATEWIDE, run_module._DECISIONS):
        assert math.fsum(plan.stages().values()) == pytest.approx(1.0)
        parts = (plan.bundle_rows, plan.bundles, plan.determinations, plan.summaries)
        assert math.fsum(parts) == pytest.approx(1.0)


def test_the_command_lines_bar_shows_the_stage_the_run_and_its_pace(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    generate_doj_file(rows, county="LOS ANGELES", rows=500, seed=3)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with _RunProgress(console, [rows]) as progress:
        meter = progress.meter
        meter.plan(dict.fromkeys(STAGES, 1 / 3))
        meter.begin("Reading research files")
        meter.begin("Deciding", lambda: 0.5)
        progress.show()
        progress._progress.refresh()
    shown = screen.getvalue()
    assert "Deciding" in shown and "50%" in shown
    assert "rows/s" in shown  # (500 rows, estimated from the file's first lines)
