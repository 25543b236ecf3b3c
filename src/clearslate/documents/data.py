"""The run's determinations as the documents see them: after the reviewers' decisions, only
the convictions that get relief (dismiss or reduce), grouped by court and kind of relief."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from clearslate.database import sql_string
from clearslate.laws.ca_prop64 import prop64_law

# The determinations' columns the documents read (a run may have more).
REQUIRED_COLUMNS = (
    "subject_id", "cii_number", "name", "dob", "county", "court", "case_number", "cnt_order",
    "source_file", "source_line", "code_section_raw", "statute", "felony", "disposition_date",
    "outcome", "citation", "rule_id", "sentence_status", "facts",
)  # fmt: skip


class DocumentsError(Exception):
    """A documents-level error: nothing usable can be written; the message says what to do."""


@dataclass(frozen=True)
class RunInfo:
    run_dir: Path
    as_of: dt.date
    counties: str
    law_version: str
    manifest: dict[str, Any]
    jurisdiction: str = "ca"


@dataclass(frozen=True)
class Group:
    """One motion: the convictions of one court that get one kind of relief."""

    court: str
    relief: str  # dismiss | reduce
    track: str  # CA: completed | serving (HS 11361.8(a)-(c)) | related; IL: the deadline tier
    county: str
    convictions: int
    people: int
    cases: int
    reviewed: int
    citations: tuple[str, ...]
    title: str  # the words of the relief, e.g. "Dismiss and seal"

    @property
    def folder(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.court.lower()).strip("-") or "court"
        relief = self.relief.replace("_", "-")
        kind = relief if self.track == "completed" else f"{relief}-{self.track}"
        return f"{slug}/{kind}"


def _sql_path(path: Path) -> str:
    return sql_string(str(path))


# An Illinois run's determinations (sources/il_canonical.py) as the table ``det``: the person
# is the subject, the state id stands where California's CII does, the charge's record id is
# its key (as CNT_ORDER is in California), the name is "LAST SUFFIX,FIRST MIDDLE" as DOJ
# writes it, and the deadline tier becomes the track (build_relief).
IL_DET_SQL = """
    WITH src AS (SELECT row_number() OVER () AS det_id, *,
                        regexp_extract(statute_raw, '550/(\\d+)', 1) AS section
                 FROM {source}),
    -- a state-police row for a conviction the court's export also has (same person, section
    -- and disposition date, and the same case number when it has one): the court's row is
    -- the one filed, so that no conviction is listed twice
    twin AS (SELECT i.det_id FROM src i JOIN src c
               ON i.source <> 'court' AND c.source = 'court' AND i.person_id = c.person_id
              AND i.section = c.section AND i.disposition_date = c.disposition_date
              AND (nullif(trim(i.case_number), '') IS NULL OR i.case_number = c.case_number))
    SELECT det_id,
           person_id AS subject_id, sid AS cii_number,
           concat_ws(' ', upper(last_name), nullif(name_suffix, '')) || ','
             || concat_ws(' ', first_name, nullif(middle_name, '')) AS name,
           strftime(TRY_CAST(dob AS DATE), '%Y%m%d') AS dob, county,
           -- a state-police record names no court: its county's circuit court
           coalesce(nullif(trim(court), ''), 'CIRCUIT COURT OF ' || county || ' COUNTY') AS court,
           nullif(trim(case_number), '') AS case_number, record_id AS cnt_order,
           source_file, source_line, statute_raw AS code_section_raw,
           NULL AS statute,  -- the papers print the citation as given (statute_raw)
           offense_class IN ('X', '1', '2', '3', '4') AS felony,
           TRY_CAST(disposition_date AS DATE) AS disposition_date, outcome, citation, rule_id,
           NULL::VARCHAR AS sentence_status, section,
           false AS deceased, coalesce(TRY_CAST(attempt AS BOOLEAN), false) AS attempt,
           false AS related_charge, offense_class,
           TRY_CAST(record_date AS DATE) AS record_date, TRY_CAST(deadline AS DATE) AS deadline,
           tier, street, city, state, zip
    FROM src WHERE det_id NOT IN (SELECT det_id FROM twin)
"""


def open_run(con: duckdb.DuckDBPyConnection, run_dir: Path, jurisdiction: str = "ca") -> RunInfo:
    """Check the run folder and load its determinations into the table ``det``."""
    from clearslate.report.data import (
        ReportError,
        determinations_file,
        manifest_as_of,
        read_manifest,
        unreadable,
    )

    try:
        manifest = read_manifest(run_dir)
        as_of = manifest_as_of(manifest, run_dir / "manifest.json")
        # The letters and motions are filed as the run's: its determinations must be the file
        # it wrote (size and SHA-256 as manifest.json lists them), as for the report.
        path = determinations_file(run_dir, manifest)
    except ReportError as exc:
        raise DocumentsError(str(exc)) from None
    if path.suffix == ".parquet":
        source = f"read_parquet({_sql_path(path)}, file_row_number = true)"
        row_id = "file_row_number + 1"
    else:
        types = {"source_line": "BIGINT"}
        if jurisdiction == "ca":
            types |= {"felony": "BOOLEAN", "disposition_date": "DATE", "sentence_end": "DATE"}
        cols = ", ".join(f"'{c}': '{t}'" for c, t in types.items())
        source = (
            f"read_csv({_sql_path(path)}, header = true, all_varchar = true, types = {{{cols}}})"
        )
        row_id = "row_number() OVER ()"
    try:
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error:
        raise DocumentsError(unreadable(path)) from None
    if jurisdiction == "il":
        from clearslate.sources.il_canonical import IL_DETERMINATION_COLUMNS

        required: tuple[str, ...] = tuple(c[0] for c in IL_DETERMINATION_COLUMNS)
    else:
        required = REQUIRED_COLUMNS
    missing = [c for c in required if c not in have]
    if missing:
        raise DocumentsError(
            f"{run_dir}: the determinations lack the column(s) {', '.join(missing)}; "
            "re-run `clearslate run` with this version."
        )
    if jurisdiction == "il":
        con.execute("CREATE OR REPLACE TABLE det AS " + IL_DET_SQL.format(source=source))
    else:
        # Parquet's rows carry file_row_number (their order); the CSV's are numbered here.
        exclude = "file_row_number, facts" if path.suffix == ".parquet" else "facts"
        con.execute(
            f"""CREATE OR REPLACE TABLE det AS
            SELECT {row_id} AS det_id,
                   * EXCLUDE ({exclude}) REPLACE (nullif(trim(case_number), '') AS case_number),
                   json_extract_string(facts, '$.prop64_section') AS section,
                   coalesce(TRY_CAST(json_extract_string(facts, '$.deceased') AS BOOLEAN), false)
                     AS deceased,
                   coalesce(TRY_CAST(json_extract_string(facts, '$.attempt') AS BOOLEAN), false)
                     AS attempt,
                   coalesce(TRY_CAST(json_extract_string(facts, '$.related_charge') AS BOOLEAN),
                            false) AS related_charge,
                   NULL::VARCHAR AS offense_class, NULL::DATE AS record_date,
                   NULL::DATE AS deadline
            FROM {source}"""
        )
    return RunInfo(
        run_dir=run_dir,
        as_of=as_of,
        counties=str(manifest.get("counties", "")),
        law_version=str(manifest.get("law_version", "")),
        manifest=manifest,
        jurisdiction=jurisdiction,
    )


# The citation of an Illinois conviction whose outcome a reviewer changed (law notes §2.3:
# the practitioners' citation; the notes mark the State's Attorney's standing UNCERTAIN).
IL_RELIEF_CITATION = "20 ILCS 2630/5.2(i); 410 ILCS 705/10-5"


def build_relief(con: duckdb.DuckDBPyConnection, info: RunInfo, reliefs: tuple[str, ...]) -> None:
    """The table ``relief``: every conviction that gets relief (an outcome in ``reliefs``)
    after the decisions (table ``overrides``), with the citation of its relief, the court it
    is filed in and its track (California: completed, serving or related; Illinois: the
    deadline tier)."""
    if info.jurisdiction == "il":
        citation = "$il"
        track = "tier"
        params: dict[str, Any] = {"il": IL_RELIEF_CITATION}
    else:
        law = prop64_law(info.as_of)
        citation = """CASE WHEN related_charge THEN $related
                    WHEN NOT coalesce(felony, false) THEN $misd
                    WHEN sentence_status = 'serving' THEN
                         CASE relief WHEN 'dismiss' THEN $ds ELSE $rs END
                    ELSE CASE relief WHEN 'dismiss' THEN $dc ELSE $rc END END"""
        track = """CASE WHEN related_charge THEN 'related'
                        WHEN relief_citation LIKE '%11361.8(a)-(c)%' THEN 'serving'
                        ELSE 'completed' END"""
        params = {
            "misd": law.cite("misdemeanor"),
            "related": law.citations.get("related_clear", "Office discretion, not Prop 64 relief"),
            "ds": law.cite("dismiss_serving"),
            "rs": law.cite("reduce_serving"),
            "dc": law.cite("dismiss_completed"),
            "rc": law.cite("reduce_completed"),
        }
    params["reliefs"] = list(reliefs)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE relief AS
        WITH x AS (
            SELECT d.*, o.decision, o.reviewer, o.note AS review_note,
                   o.line AS decision_line,
                   coalesce(o.decision, d.outcome) AS relief,
                   o.det_id IS NOT NULL AND o.decision <> d.outcome AS overridden
            FROM det d LEFT JOIN overrides o USING (det_id)
        )
        SELECT *,
               CASE WHEN NOT overridden THEN citation ELSE {citation} END AS relief_citation,
               coalesce(nullif(trim(court), ''), 'UNKNOWN COURT') AS court_key,
               CASE WHEN overridden THEN 'decision line ' || decision_line || ' (' || reviewer || ')'
                    ELSE rule_id END AS decided_by
        FROM x WHERE list_contains($reliefs, relief)
        """,
        params,
    )
    con.execute(
        f"""ALTER TABLE relief ADD COLUMN track VARCHAR;
           UPDATE relief SET track = {track}"""
    )


def _citation_parts(citations: list[str]) -> tuple[str, ...]:
    parts: list[str] = []
    for c in citations:
        for p in c.split(";"):
            p = p.strip()
            if p and p not in parts:
                parts.append(p)
    return tuple(parts)


def groups(con: duckdb.DuckDBPyConnection, title: Any, order: Any = None) -> list[Group]:
    """The groups, by court, relief and track; ``title(relief, track)`` names the relief and
    ``order(group)`` sorts them (default: as listed)."""
    rows = con.execute(
        """SELECT court_key, relief, track, mode(county) AS county, count(*) AS n,
                  count(DISTINCT subject_id) AS people,
                  count(DISTINCT coalesce(case_number, '#' || subject_id)) AS cases,
                  count(*) FILTER (WHERE decision_line IS NOT NULL) AS reviewed,
                  list(DISTINCT relief_citation ORDER BY relief_citation) AS citations
           FROM relief GROUP BY ALL ORDER BY court_key, relief, track"""
    ).fetchall()
    out = [
        Group(
            court=r[0],
            relief=r[1],
            track=r[2],
            county=r[3] or "",
            convictions=r[4],
            people=r[5],
            cases=r[6],
            reviewed=r[7],
            citations=_citation_parts(list(r[8])),
            title=title(r[1], r[2]),
        )
        for r in rows
    ]
    return sorted(out, key=order) if order else out


def group_sections(
    con: duckdb.DuckDBPyConnection, g: Group, prefix: str, offences: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    rows = con.execute(
        """SELECT coalesce(nullif(section, ''), '?'), count(*) FROM relief
           WHERE court_key = ? AND relief = ? AND track = ? GROUP BY ALL ORDER BY 1""",
        [g.court, g.relief, g.track],
    ).fetchall()
    return [
        {
            "code": f"{prefix}{s}",
            "section": s,
            "title": offences.get(s, ("Cannabis offense",))[0],
            "count": n,
        }
        for s, n in rows
    ]


EXHIBIT_FIELDS = (
    "case_number",
    "cnt_order",
    "name",
    "dob",
    "cii_number",
    "statute",
    "code_section_raw",
    "felony",
    "disposition_date",
    "relief",
    "track",
    "relief_citation",
    "sentence_status",
    "subject_id",
    "source_file",
    "source_line",
    "decided_by",
    "attempt",
    "det_id",
)


def statute_label(statute: str | None, raw: str | None, attempt: bool = False) -> str:
    """``ca:hs:11357:c`` -> ``HS 11357(c)``; the DOJ text when there is no statute id."""
    label = ""
    if statute:
        parts = statute.split(":")
        if len(parts) >= 3:
            label = f"{parts[1].upper()} {parts[2]}" + "".join(f"({p})" for p in parts[3:])
    if not label:
        label = (raw or "").strip()
    return label + (" (attempt)" if attempt and label else "")


def count_number(cnt_order: str | None) -> str:
    """The count within the court event: digits 7-9 of DOJ's 12-digit CNT_ORDER."""
    if cnt_order and len(cnt_order) == 12 and cnt_order.isdigit():
        return str(int(cnt_order[6:9]))
    return ""


def dob_label(dob: str | None) -> str:
    """DOJ's PRI_DOB (YYYYMMDD; 00 for an unknown month or day) as MM/DD/YYYY."""
    if not dob:
        return ""
    d = dob.strip()
    if len(d) == 8 and d.isdigit():
        y, m, day = d[:4], d[4:6], d[6:]
        if m == "00":
            return y
        if day == "00":
            return f"{m}/{y}"
        return f"{m}/{day}/{y}"
    return d


_NAME_PART = re.compile(r"([A-Za-z]+)")


def _title(word: str) -> str:
    return _NAME_PART.sub(lambda m: m.group(1).capitalize(), word.lower())


def display_name(raw: str | None) -> str:
    """DOJ's ``LAST,FIRST MIDDLE`` as ``First Middle Last``."""
    if not raw:
        return ""
    last, _, first = raw.partition(",")
    words = [_title(w) for w in (first.split() + last.split())]
    return " ".join(words)
