"""De-identified copies of DOJ research files, for an office to share when it reports a problem.

`clearslate redact` reads research files with the same reader as `clearslate run` (so it rejects
the same bad rows) and writes a copy in which every identifier is a pseudonym and every date of
a person is moved by that person's own number of days, while everything a decision reads is
kept: structure (95 columns, row order, header or not), counts, charges, counties, courts,
dispositions, sentences, comment text (scrubbed), gender and race.

Everything is set-based DuckDB SQL over the rows the reader loaded; no Python loop over rows.

Pseudonyms
    Keyed SHA-256 of the value with a secret salt: 32 random bytes that are never written
    anywhere, unless `--seed` is given (then the salt is derived from the seed, so the same
    seed gives the same copy; anyone who knows the seed can test a guessed value, so a seeded
    copy is for tests, not for sharing).

    * SUBJECT_ID: 16 digits (a leading 9), one per person; two people never share one.
    * CII_NUMBER / REQ_CII_NUMBER, PRI_SSN / REQ_SSN, PRI_CDL / REQ_CDL, FBI_NUMBER, PRI_IDN,
      PRI_INN, OFN and the FE_NUM_* numbers (dockets, bookings, court cases, ...): the same
      value always gets the same pseudonym (OFN 'BA000001' in OFN and in FE_NUM_CRT_CASE
      alike), of the same shape: a digit for a digit, a letter for a letter, the rest and the
      padding kept. Blank values and DOJ's literal NULL stay as they are. A pseudonym is never
      one of the file's original values of that kind.
    * PRI_NAME / REQ_NAME: a fictional name made of syllables, per person and name, in the
      file's LAST,FIRST M shape.

Dates
    PRI_DOB, REQ_DOB, CYC_DATE, STP_EVENT_DATE and DISP_DATE of one person move together by the
    same number of days, 1 to 182 forwards or backwards (never 0), so order and intervals
    within a person are kept (age at each event too). A partial date stays partial: YYYYMM00
    moves with its month's 15th; YYYY0000 keeps its year. Text that is no date (20190231,
    99999999) is kept as it is.

    The shift must not change a decision, so a person's shift is drawn only from the days
    that move no date across a line a decision draws:

    * Prop 64's effective date (2016-11-09) for every conviction date;
    * 1 March for the birth date, so that "birth date + N years" moves by the same days (a
      29 February birthday falls on 1 March in other years);
    * with `--compute-at` (the as-of date of the run to reproduce) and the run's policy: the
      years-since, crime-free and age lines of the policy (and of its flow), the as-of date
      for the end of each sentence (still serving), and the 7-year window of gogen's summary.

    Without `--compute-at` the lines that depend on the as-of date are not known, and a
    decision that depends on one may differ for a person whose date sits near it. When no
    shift other than 0 keeps a person's dates within their lines (a conviction exactly on a
    line that is drawn both ways, or one on a line and another the day before the next),
    other shifts are tried (any, then up to a week, then one day) and the first under which
    the run's own rules decide each of the person's convictions as before is kept
    (`_settle`). If none is found, privacy comes first: the person is moved anyway and
    counted in `RedactResult.unconstrained`.

Free text
    COMMENT_TEXT keeps its charges; the row's own identifiers found in it are replaced by their
    pseudonyms, the words of the person's names by XXXX, runs of 7 or more digits by XXXXXXX
    and dates written as 1/2/2015 by XX/XX/XXXX.

Kept as they are (they are not identifiers on their own, and decisions or reports read some):
    RECORD_ID, gender, race, eye and hair colour, height, weight, place of birth,
    citizenship, agency codes, CYC_AGE. They are quasi-identifiers: a copy is de-identified,
    not anonymous, and is to be shared as confidential data.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from clearslate import database
from clearslate.engine.decide import _plus_years, add_years
from clearslate.engine.facts import build_facts
from clearslate.laws.ca_prop64 import prop64_law
from clearslate.outputs.files import atomic_path, make_private_dir
from clearslate.policy import DEFAULT_POLICY, Policy
from clearslate.run import StopOnSignal, exit_for_signal, remove_stale_workdirs, workdir_prefix
from clearslate.sources.ca_doj import InputError, Reject, read_doj_files
from clearslate.sources.ca_doj_layout import DOJ_COLUMNS

MAX_SHIFT_DAYS = 182  # half a year: a year-only date (YYYY0000) keeps its year
SENTENCE_MARGIN_DAYS = 3  # month arithmetic on a shifted date may land up to 3 days apart
GOGEN_RECENT_YEARS = 7  # gogen.json: CountSubjectsNoConvictionLast7Years

DATE_COLUMNS = ("REQ_DOB", "PRI_DOB", "CYC_DATE", "STP_EVENT_DATE", "DISP_DATE")
NAME_COLUMNS = ("REQ_NAME", "PRI_NAME")
# Identifier columns and their kind: one pseudonym per value within a kind.
ID_COLUMNS: dict[str, str] = {
    "REQ_CII_NUMBER": "cii",
    "CII_NUMBER": "cii",
    "REQ_SSN": "ssn",
    "PRI_SSN": "ssn",
    "REQ_CDL": "cdl",
    "PRI_CDL": "cdl",
    "PRI_IDN": "idn",
    "PRI_INN": "idn",
    "FBI_NUMBER": "fbi",
    "OFN": "case",
    **{
        c: "case"
        for c in DOJ_COLUMNS
        if c.startswith("FE_NUM_") and c != "FE_NUM_ORDER"  # FE_NUM_ORDER is an order
    },
}
# Syllables of the fictional names: consonants and pairs rare in names, so that a fictional
# name is never a real one of the file.
_SYLLABLES = (
    "BA", "BE", "BO", "BU", "DA", "DE", "DU", "FA", "FE", "FO", "FU", "GA", "GO", "GU", "KA",
    "KE", "KI", "KO", "KU", "VA", "VE", "VI", "VO", "VU", "ZA", "ZE", "ZI", "ZO", "ZU", "XA",
    "XE", "XO",
)  # fmt: skip


# The line of a sentence still served is the day after the as-of date (_boundaries): the
# last date there is (9999-12-31) has none, and was an OverflowError.
LATEST_AS_OF = dt.date.max - dt.timedelta(days=1)


class RedactError(Exception):
    """A problem the person can act on (missing input, output that exists, ...)."""


@dataclass
class RedactResult:
    outputs: list[Path]
    rows_read: int
    rows_written: int
    rejects: list[Reject]
    people: int
    unconstrained: int  # people moved across a decision line (no other shift kept them)
    boundaries: list[str] = field(default_factory=list)  # the lines kept, for the report
    seeded: bool = False


def redact(
    inputs: Sequence[Path],
    output: Path,
    *,
    seed: int | None = None,
    as_of: dt.date | None = None,
    policy: Policy | None = None,
    force: bool = False,
    memory_limit: str = "1GB",
) -> RedactResult:
    """Write a de-identified copy of `inputs` to `output` (a file; a folder for several)."""
    inputs = [Path(p) for p in inputs]
    if not inputs:
        raise RedactError("give the research file to de-identify.")
    if as_of is not None and as_of > LATEST_AS_OF:
        raise RedactError(f"--compute-at {as_of}: give a date up to {LATEST_AS_OF}.")
    targets = _targets(inputs, Path(output), force)
    salt = (
        hashlib.sha256(f"clearslate-redact-seed:{seed}".encode()).hexdigest()
        if seed is not None
        else secrets.token_hex(32)
    )
    remove_stale_workdirs()
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix("redact-")))
    stop = StopOnSignal()
    try:
        with stop:
            con = database.connect(
                ":memory:",
                config={
                    "memory_limit": memory_limit,
                    "temp_directory": str(workdir),
                    "preserve_insertion_order": True,
                },
            )
            stop.con = con
            try:
                return _redact(con, inputs, targets, salt, seed, as_of, policy)
            finally:
                stop.con = None
                con.close()
    except BaseException as exc:
        if stop.signum is not None:
            exit_for_signal(stop.signum, "No partial copy was left; run again.")
        if isinstance(exc, OSError | duckdb.IOException):
            full = getattr(exc, "errno", None) == errno.ENOSPC or "No space left" in str(exc)
            what = "no space left on the disk" if full else "a file could not be written or read"
            raise RedactError(
                f"{output}: {what}. No partial copy was left; free some space or choose "
                "another --output (for temporary files: set TMPDIR), then run again."
            ) from exc
        if isinstance(exc, duckdb.OutOfMemoryException | duckdb.FatalException):
            raise RedactError(
                f"not enough memory or temporary disk space at --memory-limit {memory_limit}: "
                f"raise it, or free space in {workdir.parent} (or set TMPDIR), then run again."
            ) from exc
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _redact(
    con: duckdb.DuckDBPyConnection,
    inputs: list[Path],
    targets: list[Path],
    salt: str,
    seed: int | None,
    as_of: dt.date | None,
    policy: Policy | None,
) -> RedactResult:
    try:
        read = read_doj_files(con, inputs)
    except InputError as exc:
        raise RedactError(str(exc)) from None
    con.execute("SET VARIABLE redact_salt = ?", [salt])
    _macros(con)
    build_facts(con)
    boundaries = _boundaries(con, as_of, policy or DEFAULT_POLICY)
    unconstrained, people = _shifts(con)
    if unconstrained and as_of is not None:
        unconstrained = _settle(con, as_of, policy or DEFAULT_POLICY)
    _pseudonyms(con)
    written = 0
    for index, target in enumerate(targets):
        written += _write(con, index, target, read.files[index].has_header)
    return RedactResult(
        outputs=targets,
        rows_read=read.rows_read,
        rows_written=written,
        rejects=read.rejects,
        people=people,
        unconstrained=unconstrained,
        boundaries=boundaries,
        seeded=seed is not None,
    )


def _targets(inputs: list[Path], output: Path, force: bool) -> list[Path]:
    """The file to write for each input: `output` itself, or `output/<name>` for several."""
    if len(inputs) == 1:
        targets = [output]
        if output.is_dir():
            raise RedactError(f"{output}: is a folder. Give the file to write with --output.")
        if not output.parent.is_dir():
            raise RedactError(f"{output.parent}: no such folder. Create it or choose another.")
    else:
        if output.exists() and not output.is_dir():
            raise RedactError(
                f"{output}: exists and is not a folder. With several inputs --output is a "
                "folder: the copies keep their names in it."
            )
        names = [p.name for p in inputs]
        if len(set(names)) < len(names):
            names = [f"{i + 1}_{n}" for i, n in enumerate(names)]
        targets = [output / n for n in names]
    originals = {p.resolve() for p in inputs if p.exists()}
    for t in targets:
        if t.resolve() in originals:
            raise RedactError(f"{t}: is an input. The copy must not replace the original.")
        if t.exists() and not force:
            raise RedactError(f"{t}: exists. Choose another --output, or add --force.")
    if len(inputs) > 1:
        make_private_dir(output)
    return targets


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP MACRO _hex(kind, v) AS
            sha256(getvariable('redact_salt') || chr(31) || kind || chr(31) || v);
        CREATE OR REPLACE TEMP MACRO _int(kind, v) AS ('0x' || left(_hex(kind, v), 15))::BIGINT;
        -- byte i (0-based, wrapping) of a 64-byte key, as 0..255
        CREATE OR REPLACE TEMP MACRO _byte(h, i) AS ('0x' || substr(h, 2 * (i % 64) + 1, 2))::INT;
        -- a pseudonym of the same shape: a digit for a digit, a letter for a letter
        CREATE OR REPLACE TEMP MACRO _shape(v, h) AS array_to_string(list_transform(
            range(length(v)), lambda i: CASE
                WHEN substr(v, i + 1, 1) BETWEEN '0' AND '9' THEN chr(48 + _byte(h, i) % 10)
                WHEN substr(v, i + 1, 1) BETWEEN 'A' AND 'Z' THEN chr(65 + _byte(h, i) % 26)
                WHEN substr(v, i + 1, 1) BETWEEN 'a' AND 'z' THEN chr(97 + _byte(h, i) % 26)
                ELSE substr(v, i + 1, 1) END), '');
        -- the value with its surrounding spaces put back around a new core
        CREATE OR REPLACE TEMP MACRO _repad(v, core) AS
            substr(v, 1, length(v) - length(ltrim(v))) || core
            || substr(v, length(rtrim(v)) + 1);
        """
    )


# --------------------------------------------------------------------------- dates


def _boundaries(con: duckdb.DuckDBPyConnection, as_of: dt.date | None, policy: Policy) -> list[str]:
    """The lines no date may cross, as tables `_conv_lines(b)` (a conviction date stays on its
    side of b: before it, or on or after it) and `_dob_plus(years)` (with `_asof_line`: the
    date `birth + years` stays on its side of the as-of line)."""
    law = prop64_law(as_of or dt.date.max)  # the date only picks the law's version
    conv: dict[dt.date, str] = {law.effective_date: "Prop 64 effective date"}
    dob_plus: dict[int, str] = {}
    if as_of is not None:

        def before(years: int, what: str) -> None:  # a date before as_of - N years
            conv[add_years(as_of, -years)] = what

        def on_or_before(years: int, what: str) -> None:  # a date on or before as_of - N years
            conv[add_years(as_of, -years) + dt.timedelta(days=1)] = what

        ar = policy.additional_relief
        if ar.years_since_conviction:
            on_or_before(ar.years_since_conviction, "years since conviction")
        if ar.years_crime_free:
            before(ar.years_crime_free, "years crime-free")
        if ar.age_threshold:
            dob_plus[ar.age_threshold] = "age threshold"
        # gogen.json counts convictions after as_of - 7 years: a date on or before it is out.
        on_or_before(GOGEN_RECENT_YEARS, "gogen summary 7-year window")
        for step in policy.flow or ():
            for name, value in step.when:
                _flow_line(name, value, before, on_or_before, conv, dob_plus)
    for name, value in _flow_fixed_dates(policy):
        conv[value] = name
    con.execute("CREATE OR REPLACE TEMP TABLE _conv_lines (b DATE)")
    con.execute("INSERT INTO _conv_lines SELECT unnest(?::DATE[])", [sorted(conv)])
    con.execute("CREATE OR REPLACE TEMP TABLE _dob_plus (years INTEGER)")
    con.execute("INSERT INTO _dob_plus SELECT unnest(?::INTEGER[])", [sorted(dob_plus)])
    con.execute("CREATE OR REPLACE TEMP TABLE _asof_line (b DATE)")
    if as_of is not None:
        # sentence_end > as_of (serving) and birth + N years <= as_of: the line is as_of + 1
        con.execute("INSERT INTO _asof_line VALUES (?)", [as_of + dt.timedelta(days=1)])
    lines = [f"{d.isoformat()} ({what})" for d, what in sorted(conv.items())]
    lines += [f"birth + {n} years vs {as_of} ({what})" for n, what in sorted(dob_plus.items())]
    if as_of is not None:
        lines.append(f"end of each sentence vs {as_of} (still serving)")
    lines.append("1 March, for birth dates")
    return lines


def _flow_line(
    name: str,
    value: Any,
    before: Any,
    on_or_before: Any,
    conv: dict[dt.date, str],
    dob_plus: dict[int, str],
) -> None:
    """The line of one condition of a policy flow that depends on the as-of date."""
    if name == "years_since_any_conviction_over":
        before(int(value), name)
    elif name == "no_conviction_within_years":
        on_or_before(int(value), name)
    elif name == "age_at_as_of_at_least":
        dob_plus[int(value)] = name
    elif name == "age_at_as_of_at_most":
        dob_plus[int(value) + 1] = name


def _flow_fixed_dates(policy: Policy) -> list[tuple[str, dt.date]]:
    out = []
    for step in policy.flow or ():
        for name, value in step.when:
            if name in ("convicted_before", "convicted_on_or_after"):
                d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
                out.append((name, d))
    return out


# Flow conditions whose line redact keeps (a test checks that every dated condition of the
# policy vocabulary is here, so that a new one is not missed).
FLOW_CONDITIONS_KEPT = frozenset(
    {
        "convicted_before",
        "convicted_on_or_after",
        "on_or_after_effective_date",
        "sentence_completed",
        "all_sentences_completed",
        "under_21_at_conviction",
        "age_at_as_of_at_least",
        "age_at_as_of_at_most",
        "years_since_any_conviction_over",
        "no_conviction_within_years",
        "superstrike_prior",
        "pc290_prior",
        "two_priors",
    }
)


def _shifts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """`_shift(subject_id, d)`: each person's days, drawn from the shifts that keep every
    constrained date within its lines. Returns (people moved across a line, people)."""
    m = MAX_SHIFT_DAYS
    years = [r[0] for r in con.execute("SELECT years FROM _dob_plus").fetchall()]
    aged = " UNION ALL ".join(
        f"SELECT d.subject_id, {_plus_years('d.dob', n)} AS x, a.b, 0 AS margin "
        "FROM dob d, _asof_line a"
        for n in years
    ) or (
        "SELECT NULL::VARCHAR AS subject_id, NULL::DATE AS x, NULL::DATE AS b, 0 AS margin "
        "WHERE false"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _shift AS
        WITH conv AS (  -- conviction dates and the lines around them
            SELECT c.subject_id, c.event_date AS x,
                   max(l.b) FILTER (WHERE l.b <= c.event_date) AS lo_b,
                   min(l.b) FILTER (WHERE l.b > c.event_date) AS hi_b, 0 AS margin
            FROM convictions c, _conv_lines l
            WHERE c.event_date IS NOT NULL
            GROUP BY ALL
        ),
        dob AS (SELECT DISTINCT subject_id, dob FROM rows_x WHERE dob IS NOT NULL),
        march AS (  -- a birth date stays between two 1 Marches
            SELECT subject_id, dob AS x,
                   make_date(year(dob) - CASE WHEN month(dob) < 3 THEN 1 ELSE 0 END, 3, 1)
                     AS lo_b,
                   make_date(year(dob) + CASE WHEN month(dob) < 3 THEN 0 ELSE 1 END, 3, 1)
                     AS hi_b, 0 AS margin
            FROM dob
        ),
        aged AS (  -- birth + N years stays on its side of the as-of line
            {aged}
        ),
        sentence AS (  -- the end of a sentence stays on its side of the as-of line
            SELECT c.subject_id, c.sentence_end AS x, a.b, {SENTENCE_MARGIN_DAYS} AS margin
            FROM convictions c, _asof_line a WHERE c.sentence_end IS NOT NULL
        ),
        limits AS (
            SELECT subject_id, x, lo_b, hi_b, margin FROM conv
            UNION ALL SELECT subject_id, x, lo_b, hi_b, margin FROM march
            UNION ALL
            SELECT subject_id, x, CASE WHEN b <= x THEN b END, CASE WHEN b > x THEN b END, margin
            FROM (SELECT * FROM aged UNION ALL SELECT * FROM sentence)
        ),
        windows AS (  -- days each date may move: [lo, hi], 0 always in it
            SELECT subject_id,
                   max(least(coalesce(lo_b - x + margin, -{m}), 0)) AS lo,
                   min(greatest(coalesce(hi_b - x - 1 - margin, {m}), 0)) AS hi
            FROM limits GROUP BY subject_id
        ),
        people AS (
            SELECT p.subject_id,
                   greatest(coalesce(w.lo, -{m}), -{m}) AS lo,
                   least(coalesce(w.hi, {m}), {m}) AS hi
            FROM (SELECT DISTINCT subject_id FROM rows_x) p LEFT JOIN windows w USING (subject_id)
        ),
        opened AS (  -- nowhere to go but 0: move anyway (privacy first), and count it
            SELECT subject_id, lo = 0 AND hi = 0 AS unconstrained,
                   CASE WHEN lo = 0 AND hi = 0 THEN -{m} ELSE lo END AS lo,
                   CASE WHEN lo = 0 AND hi = 0 THEN {m} ELSE hi END AS hi
            FROM people
        )
        SELECT subject_id, unconstrained,
               -- one of the hi - lo non-zero days of [lo, hi], by the person's key
               (CASE WHEN k < -lo THEN lo + k ELSE k + lo + 1 END)::INTEGER AS d
        FROM (SELECT *, _int('shift', subject_id) % (hi - lo) AS k FROM opened)
        """
    )
    unconstrained, people = con.execute(
        "SELECT count(*) FILTER (WHERE unconstrained), count(*) FROM _shift"
    ).fetchone()
    return unconstrained, people


# The shifts `_settle` tries, round by round: any (a settled person's dates should move as
# far as anyone's), then up to a week, then one day (a small move crosses the fewest lines).
# The sign alternates from round to round, so both ways are tried at every size.
SETTLE_SPANS = (MAX_SHIFT_DAYS,) * 6 + (7,) * 4 + (1,) * 2


def _settle(con: duckdb.DuckDBPyConnection, as_of: dt.date, policy: Policy) -> int:
    """For the few people no shift kept within their lines (a conviction on a line drawn
    both ways, or on one line and the day before the next), try other shifts and keep the
    first under which the run's own rules (this as-of date and policy, every county) decide
    each of their convictions as before. Returns how many are still unsettled.

    It decides only these people's rows, through the facts tables: they are rebuilt from
    `_pin_rows`, so nothing after this may read them."""
    from clearslate.engine.pipeline import decide_rows

    cols = ", ".join(f'r."{c}"' for c in DOJ_COLUMNS)
    shifted = ", ".join(
        f'{_shifted_date(c)} AS "{c}"' if c in DATE_COLUMNS else f'r."{c}"' for c in DOJ_COLUMNS
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pin_rows AS
            SELECT r.row_id, r.file_index, r.source_file, r.source_line, {cols}
            FROM doj_rows r JOIN _shift s ON s.subject_id = trim(r.SUBJECT_ID)
            WHERE s.unconstrained"""
    )
    decided = "SELECT row_id, outcome, rule_id, sentence_status FROM determinations"
    decide_rows(con, counties=None, as_of=as_of, policy=policy, table="_pin_rows")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _pin_before AS {decided}")
    for k, span in enumerate(SETTLE_SPANS):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _cand AS
                SELECT subject_id,
                       (CASE WHEN (_int('settle', subject_id) + {k}) % 2 = 0 THEN 1 ELSE -1 END
                        * (1 + _int('settle{k}', subject_id) % {span}))::INTEGER AS d
                FROM _shift WHERE unconstrained"""
        )
        if not con.execute("SELECT count(*) FROM _cand").fetchone()[0]:
            return 0
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _pin_try AS
                SELECT r.row_id, r.file_index, r.source_file, r.source_line, {shifted}
                FROM _pin_rows r JOIN _cand s ON s.subject_id = trim(r.SUBJECT_ID)"""
        )
        decide_rows(con, counties=None, as_of=as_of, policy=policy, table="_pin_try")
        # A row decided otherwise, or decided on one side only, keeps its person unsettled.
        con.execute(
            f"""UPDATE _shift SET d = c.d, unconstrained = false FROM _cand c
                WHERE _shift.subject_id = c.subject_id AND c.subject_id NOT IN (
                    SELECT trim(SUBJECT_ID) FROM _pin_rows WHERE row_id IN (SELECT row_id FROM (
                        (SELECT * FROM _pin_before EXCEPT {decided})
                        UNION ALL ({decided} EXCEPT SELECT * FROM _pin_before))))"""
        )
        con.execute(
            "DELETE FROM _pin_rows WHERE trim(SUBJECT_ID) IN "
            "(SELECT subject_id FROM _shift WHERE NOT unconstrained)"
        )
    return con.execute("SELECT count(*) FROM _shift WHERE unconstrained").fetchone()[0]


def _shifted_date(column: str) -> str:
    """SQL: the column's date moved by the person's `s.d` days, in the column's own form."""
    v = f'r."{column}"'
    core = f"trim({v})"
    full = f"try_strptime({core}, '%Y%m%d')::DATE"
    return f"""CASE
        WHEN regexp_full_match({core}, '(18|19|20|21)[0-9]{{6}}') AND {full} IS NOT NULL
          THEN _repad({v}, strftime({full} + s.d, '%Y%m%d'))
        WHEN regexp_full_match({core}, '(18|19|20|21)[0-9]{{2}}(0[1-9]|1[0-2])00')
          THEN _repad({v}, strftime(make_date(left({core}, 4)::INT, substr({core}, 5, 2)::INT, 15)
                                    + s.d, '%Y%m') || '00')
        ELSE {v} END"""


# --------------------------------------------------------------------------- pseudonyms


def _pseudonyms(con: duckdb.DuckDBPyConnection) -> None:
    """`_ids(kind, v, p)`, `_subjects(subject_id, p)`, `_names(subject_id, v, p)`: every
    distinct value and its pseudonym, none of them equal to an original value of its kind."""
    parts = [
        f"SELECT DISTINCT '{kind}' AS kind, trim(\"{col}\") AS v FROM doj_rows"
        for col, kind in ID_COLUMNS.items()
    ]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ids AS
        SELECT DISTINCT kind, v, NULL::VARCHAR AS p FROM ({" UNION ALL ".join(parts)})
        WHERE v <> '' AND upper(v) <> 'NULL'
        """
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _subjects AS
           SELECT DISTINCT trim(SUBJECT_ID) AS v, NULL::VARCHAR AS p FROM doj_rows"""
    )
    name_parts = [
        f'SELECT DISTINCT trim(SUBJECT_ID) AS subject_id, trim("{c}") AS v FROM doj_rows'
        for c in NAME_COLUMNS
    ]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _names AS
            SELECT DISTINCT subject_id, v, NULL::VARCHAR AS p
            FROM ({" UNION ALL ".join(name_parts)}) WHERE v <> ''"""
    )
    syllables = "[" + ", ".join(f"'{s}'" for s in _SYLLABLES) + "]"
    n = len(_SYLLABLES)
    # LAST,FIRST M (or FIRST LAST without a comma): 3 + 2 syllables and an initial if the
    # original has a middle name.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP MACRO _syl(h, i) AS {syllables}[1 + _byte(h, i) % {n}];
        CREATE OR REPLACE TEMP MACRO _fake_name(v, h) AS CASE WHEN contains(v, ',')
            THEN _syl(h, 0) || _syl(h, 1) || _syl(h, 2) || ',' || _syl(h, 3) || _syl(h, 4)
                 || CASE WHEN regexp_matches(v, ',.*\\S\\s+\\S')
                         THEN ' ' || chr(65 + _byte(h, 5) % 26) ELSE '' END
            ELSE _syl(h, 3) || _syl(h, 4) || ' ' || _syl(h, 0) || _syl(h, 1) || _syl(h, 2) END
        """
    )
    # Round r draws again for the values whose pseudonym was an original value (or, for
    # SUBJECT_ID, another person's): a handful of rounds settle all of them.
    for r in range(20):
        key = f"'{r}:' || "
        con.execute(
            f"""
            UPDATE _ids SET p = _shape(v, _hex(kind || '1', {key}v) || _hex(kind || '2', {key}v))
            WHERE p IS NULL;
            UPDATE _subjects SET p = CASE WHEN v = '' THEN '' ELSE
                '9' || lpad((_int('subject', {key}v) % 1000000000000000)::VARCHAR, 15, '0') END
            WHERE p IS NULL;
            UPDATE _names SET p = _fake_name(v, _hex('name', {key}subject_id || chr(31) || v))
            WHERE p IS NULL;
            UPDATE _ids i SET p = NULL FROM _ids o WHERE o.kind = i.kind AND o.v = i.p;
            UPDATE _subjects s SET p = NULL
            WHERE s.v <> '' AND (s.p IN (SELECT v FROM _subjects)
                 OR s.p IN (SELECT p FROM _subjects GROUP BY p HAVING count(*) > 1));
            UPDATE _names m SET p = NULL WHERE m.p IN (SELECT v FROM _names);
            """
        )
        left = con.execute(
            """SELECT (SELECT count(*) FROM _ids WHERE p IS NULL)
                    + (SELECT count(*) FROM _subjects WHERE p IS NULL)
                    + (SELECT count(*) FROM _names WHERE p IS NULL)"""
        ).fetchone()[0]
        if not left:
            return
    raise RedactError("could not draw distinct pseudonyms; run again (a new salt).")


# --------------------------------------------------------------------------- writing


def _comment_sql() -> str:
    """COMMENT_TEXT with the row's identifiers, name words, long numbers and dates replaced."""
    text = 'r."COMMENT_TEXT"'
    for col in ID_COLUMNS:
        alias = f"i_{col.lower()}"
        # replace(t, '', x) is t: each step names `text` once (no exponential SQL)
        text = (
            f'replace({text}, CASE WHEN length(trim(r."{col}")) >= 4 AND {alias}.p IS NOT '
            f"NULL THEN trim(r.\"{col}\") ELSE '' END, coalesce({alias}.p, ''))"
        )
    words = (
        "array_to_string(list_filter(regexp_split_to_array(upper(r.PRI_NAME || ' ' || "
        "r.REQ_NAME), '[^A-Z]+'), lambda w: length(w) >= 3), '|')"
    )
    text = f"""CASE WHEN {words} = '' THEN {text}
                    ELSE regexp_replace({text}, '\\b(' || {words} || ')\\b', 'XXXX', 'gi') END"""
    text = f"regexp_replace({text}, '[0-9]{{7,}}', 'XXXXXXX', 'g')"
    text = (
        f"regexp_replace({text}, '\\b[0-9]{{1,2}}[/-][0-9]{{1,2}}[/-][0-9]{{2,4}}\\b', "
        "'XX/XX/XXXX', 'g')"
    )
    return f'CASE WHEN trim(r."COMMENT_TEXT") = \'\' THEN r."COMMENT_TEXT" ELSE {text} END'


def _select_sql(file_index: int) -> str:
    cols = []
    joins = [
        "JOIN _shift s ON s.subject_id = trim(r.SUBJECT_ID)",
        "JOIN _subjects subj ON subj.v = trim(r.SUBJECT_ID)",
    ]
    for c in NAME_COLUMNS:
        joins.append(
            f"LEFT JOIN _names n_{c.lower()} ON n_{c.lower()}.subject_id = trim(r.SUBJECT_ID) "
            f'AND n_{c.lower()}.v = trim(r."{c}")'
        )
    for c, kind in ID_COLUMNS.items():
        joins.append(
            f"LEFT JOIN _ids i_{c.lower()} ON i_{c.lower()}.kind = '{kind}' "
            f'AND i_{c.lower()}.v = trim(r."{c}")'
        )
    for c in DOJ_COLUMNS:
        if c == "SUBJECT_ID":
            expr = "_repad(r.SUBJECT_ID, subj.p)"
        elif c in DATE_COLUMNS:
            expr = _shifted_date(c)
        elif c in NAME_COLUMNS:
            expr = f'coalesce(_repad(r."{c}", n_{c.lower()}.p), r."{c}")'
        elif c in ID_COLUMNS:
            expr = f'coalesce(_repad(r."{c}", i_{c.lower()}.p), r."{c}")'
        elif c == "COMMENT_TEXT":
            expr = _comment_sql()
        else:
            expr = f'r."{c}"'
        # An empty field is written empty, not as "" (DuckDB's way to tell it from NULL).
        cols.append(f"nullif({expr}, '') AS \"{c}\"")
    return (
        f"SELECT {', '.join(cols)} FROM doj_rows r {' '.join(joins)} "
        f"WHERE r.file_index = {file_index} ORDER BY r.row_id"
    )


def _write(con: duckdb.DuckDBPyConnection, file_index: int, target: Path, header: bool) -> int:
    with atomic_path(target) as tmp:
        path = database.sql_string(str(tmp))
        con.execute(
            f"""COPY ({_select_sql(file_index)}) TO {path}
                (FORMAT csv, HEADER {"true" if header else "false"}, DELIMITER ',',
                 QUOTE '"', ESCAPE '"', NEW_LINE '\\n')"""
        )
    return con.execute(f"SELECT count(*) FROM doj_rows WHERE file_index = {file_index}").fetchone()[
        0
    ]
