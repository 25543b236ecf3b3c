"""`clearslate documents`: court documents and notice letters from a finished run.

    run folder ─▶ det ─(decisions)─▶ relief ─┬─▶ per court and relief: motion, order, exhibit
                                             ├─▶ per person with an address: a letter (EN/ES)
                                             └─▶ per case or person: the office's own form

DuckDB holds the tables; the heavy rendering (exhibits, letter batches, forms, address
normalisation) runs in worker processes, at most a few jobs ahead of what has been written,
so memory stays bounded however large the run. Every file is written whole or not at all;
``documents_manifest.json`` is written last: a folder without it holds no complete set.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import shutil
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb

from clearslate import __version__, database
from clearslate.documents.addresses import (
    Address,
    AddressFileError,
    AddressRow,
    Problem,
    RowError,
    normalise_many,
    read_address_file,
)
from clearslate.documents.data import (
    EXHIBIT_FIELDS,
    DocumentsError,
    Group,
    RunInfo,
    build_relief,
    display_name,
    dob_label,
    group_sections,
    groups,
    open_run,
    statute_label,
)
from clearslate.documents.decisions import (
    OVERRIDE_COLUMNS,
    Decisions,
    DecisionsFileError,
    empty_overrides,
    match_decisions,
    read_decisions,
)
from clearslate.documents.exhibit import (
    ExhibitRows,
    Paper,
    PaperJob,
    Rendered,
    TablesJob,
    render_paper,
    write_tables,
)
from clearslate.documents.forms import (
    INDEX_COLUMNS,
    FormError,
    FormJob,
    FormMap,
    fill_forms,
    load_form_map,
)
from clearslate.documents.jurisdictions import IL_TIERS, JURISDICTIONS, Jurisdiction, detect
from clearslate.documents.letters import LetterBatchJob, letter_blocks, render_letter_batch
from clearslate.documents.office import PLACEHOLDER_OFFICE, Office, OfficeError, load_office
from clearslate.documents.templates import TemplateError, environment, render
from clearslate.outputs.files import (
    atomic_path,
    make_private_dir,
    remove_partials,
    sha256_file,
    write_json,
)

MANIFEST = "documents_manifest.json"
OUTPUT_DIRS = ("court", "letters", "forms")
OUTPUT_FILES = (
    "overrides.csv",
    "input_errors.csv",
    "exceptions.csv",
    "mailing_manifest.csv",
    "documents_summary.json",
    "documents_timings.json",
    MANIFEST,
)
MAILING_COLUMNS = (
    "letter_id",
    "batch_file",
    "first_page",
    "pages",
    "subject_id",
    "cii_number",
    "recipient",
    "delivery_line_1",
    "delivery_line_2",
    "city",
    "state",
    "zip5",
    "zip4",
    "language",
    "dismissed",
    "reduced",
    "related",
)
EXCEPTION_COLUMNS = ("subject_id", "cii_number", "name", "reason_code", "reason", "address_lines")
INPUT_ERROR_COLUMNS = ("source_file", "line", "column", "reason")
ADDRESS_CHUNK = 1000
FORMS_PER_JOB = 200


@dataclass
class DocumentsOptions:
    run_dir: Path
    out: Path
    office: Path | None = None
    addresses: Path | None = None
    decisions: Path | None = None
    templates: Path | None = None
    batch_size: int = 500
    form: Path | None = None
    form_map: Path | None = None
    date: dt.date | None = None  # the letters' date; default: the run's as-of date
    jobs: int | None = None  # worker processes; None: the machine's cores for large runs
    force: bool = False
    on_motion: bool = False  # Illinois: also eligible_on_motion (more than 30 g, on motion)
    memory_limit: str = "1GB"


@dataclass
class DocumentsResult:
    out: Path
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


Progress = Callable[[str], None]


class _Inline:
    """An executor that runs each job when it is submitted (``--jobs 1``)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs what it dislikes in a file ("invalid pdf header", "EOF marker not found") to
    stderr; for the office's form our own message already says what is wrong and what to do."""
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterator[list[Any]] | list) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


def _prepare_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DocumentsError(f"{out}: exists and is not a folder. Choose another --out.")
    if (out / MANIFEST).exists() and not force:
        raise DocumentsError(
            f"{out}: holds documents made earlier ({MANIFEST}). Choose a new --out folder, or "
            "add --force to replace them."
        )
    try:
        make_private_dir(out)
    except OSError as exc:
        raise DocumentsError(f"{out}: cannot write here ({exc.strerror}).") from None
    # Earlier documents must not be mixed with these (a stale letter batch could be mailed).
    for name in OUTPUT_FILES:
        (out / name).unlink(missing_ok=True)
    for name in OUTPUT_DIRS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    remove_partials(out)


def _private_dir(path: Path) -> Path:
    make_private_dir(path)
    return path


def _county_name(county: str) -> str:
    return " ".join(w.capitalize() for w in county.split()) if county else ""


def _context(g: Group, office: Office, info: RunInfo, date: dt.date, con: Any) -> dict[str, Any]:
    where = JURISDICTIONS[info.jurisdiction]
    return {
        "office": office.context(),
        "court": g.court,
        "county": g.county,
        "county_name": _county_name(g.county),
        "relief": g.relief,
        "serving": g.track == "serving",
        "related": g.track == "related",
        "relief_title": g.title,
        "citations": list(g.citations),
        "citation_text": "; ".join(g.citations),
        "counts": {
            "convictions": g.convictions,
            "people": g.people,
            "cases": g.cases,
            "reviewed": g.reviewed,
        },
        "sections": group_sections(con, g, where.section_prefix, where.offences),
        "tier": g.track if info.jurisdiction == "il" else None,
        "on_motion": g.relief == "eligible_on_motion",
        "exhibit": "A",
        "as_of": info.as_of,
        "date": date,
        "law_version": info.law_version,
    }


SAMPLE_LETTER: dict[str, Any] = {
    "letter_id": "0000-0000",
    "person": {
        "name": "Sample Person",
        "doj_name": "PERSON,SAMPLE",
        "subject_id": "0",
        "cii_number": "",
        "dob": "01/01/1970",
    },
    "address": {"lines": ["SAMPLE PERSON", "1 MAIN ST", "LOS ANGELES CA 90012"]},
    "first_language": "en",
    "county": "LOS ANGELES",
    "county_name": "Los Angeles",
    "convictions": [
        {
            "case_number": "BA000001",
            "court": "CASC LOS ANGELES",
            "county": "LOS ANGELES",
            "code_section": "HS 11357(a)",
            "section": "11357",
            "offense_en": "Possession of cannabis",
            "offense_es": "Posesión de cannabis",
            "date": dt.date(2001, 2, 3),
            "relief": "dismiss",
            "felony": False,
            "serving": False,
            "related": False,
        },
        {
            "case_number": None,
            "court": "CASC LOS ANGELES",
            "county": "LOS ANGELES",
            "code_section": "HS 11359",
            "section": "11359",
            "offense_en": "Possession of cannabis for sale",
            "offense_es": "Posesión de cannabis para la venta",
            "date": None,
            "relief": "reduce",
            "felony": True,
            "serving": True,
            "related": False,
        },
        {
            "case_number": "BA000002",
            "court": "CASC LOS ANGELES",
            "county": "LOS ANGELES",
            "code_section": "PC 148(a)(1)",
            "section": "",
            "offense_en": "Related charge",
            "offense_es": "Cargo relacionado",
            "date": dt.date(2001, 2, 3),
            "relief": "dismiss",
            "felony": False,
            "serving": False,
            "related": True,
        },
    ],
    "counts": {"total": 3, "dismissed": 1, "reduced": 1, "related": 1},
}


def _sample_letter(where: Jurisdiction) -> dict[str, Any]:
    """A letter that uses every branch of the templates: rendered before any batch is made, so
    that a template that fails does so at once. Its convictions get the jurisdiction's kinds
    of relief and the fields every conviction has."""
    letter = {**SAMPLE_LETTER, "convictions": []}
    reliefs = (*where.decisions[:2], where.reliefs[0])
    for c, relief in zip(SAMPLE_LETTER["convictions"], reliefs, strict=True):
        letter["convictions"].append({**c, **_IL_EXTRA, "relief": relief})
    return letter


_IL_EXTRA = {"offense_class": "A", "tier": "2013-2019", "record_date": dt.date(2015, 3, 4),
             "deadline": dt.date(2021, 1, 1)}  # fmt: skip


def _people(con: duckdb.DuckDBPyConnection, first_relief: str) -> dict[str, dict[str, Any]]:
    rows = con.execute(
        """SELECT subject_id, first(cii_number ORDER BY det_id), first(name ORDER BY det_id),
                  first(dob ORDER BY det_id), bool_or(deceased),
                  count(*) FILTER (WHERE relief = $1),
                  count(*) FILTER (WHERE relief <> $1), mode(county)
           FROM relief GROUP BY subject_id ORDER BY subject_id""",
        [first_relief],
    ).fetchall()
    return {
        r[0]: {
            "subject_id": r[0],
            "cii_number": r[1] or "",
            "name": r[2] or "",
            "dob": r[3],
            "deceased": bool(r[4]),
            "dismissed": r[5],
            "reduced": r[6],
            "county": r[7] or "",
        }
        for r in rows
    }


@dataclass
class _Mail:
    subject_id: str
    address: Address
    recipient: str
    greeting_name: str
    language: str


def _record_addresses(con: duckdb.DuckDBPyConnection) -> dict[str, list[AddressRow]]:
    """Illinois: each person's last known address, from their records that get relief (the
    street, city, state and ZIP of the newest record that has a street). Its ``line`` is the
    record's line in its source file."""
    rows = con.execute(
        """SELECT subject_id, arg_max(source_line, k), arg_max(street, k), arg_max(city, k),
                  arg_max(state, k), arg_max(zip, k)
           FROM (SELECT *, (coalesce(record_date, disposition_date, DATE '1900-01-01'),
                            source_file, source_line) AS k
                 FROM relief WHERE nullif(trim(street), '') IS NOT NULL)
           GROUP BY subject_id ORDER BY subject_id"""
    ).fetchall()
    return {
        sid: [AddressRow(line or 0, sid, "", "", (street, "", city, state, zip_), "en")]
        for sid, line, street, city, state, zip_ in rows
    }


def _match_addresses(
    rows: list[AddressRow], people: dict[str, dict[str, Any]], errors: list[RowError], name: str
) -> tuple[dict[str, list[AddressRow]], int]:
    by_cii: dict[str, list[str]] = {}
    for sid, p in people.items():
        if p["cii_number"]:
            by_cii.setdefault(p["cii_number"], []).append(sid)
    matched: dict[str, list[AddressRow]] = {}
    unmatched = 0
    for r in rows:
        sid_a = r.subject_id if r.subject_id in people else None
        sids_b = by_cii.get(r.cii_number, []) if r.cii_number else []
        if len(sids_b) > 1 and sid_a is None:
            errors.append(
                RowError(
                    name,
                    r.line,
                    "cii_number",
                    "this CII belongs to several people in the run; give subject_id",
                )
            )
            continue
        sid_b = sids_b[0] if sids_b else None
        if sid_a and sid_b and sid_a != sid_b:
            errors.append(
                RowError(
                    name, r.line, "cii_number", "subject_id and cii_number name different people"
                )
            )
            continue
        sid = sid_a or sid_b
        if sid is None:
            unmatched += 1  # someone with no relief in this run (or not in it at all)
            continue
        matched.setdefault(sid, []).append(r)
    return matched, unmatched


def make_documents(opts: DocumentsOptions, progress: Progress = lambda _s: None) -> DocumentsResult:
    started = time.perf_counter()
    warnings: list[str] = []
    if opts.batch_size < 1:
        raise DocumentsError("--batch-size must be 1 or more (letters per PDF file).")
    try:  # `--jobs 1000` started a thousand processes
        database.check_at_most_one_per_cpu("--jobs", opts.jobs)
    except ValueError as exc:
        raise DocumentsError(str(exc)) from None
    if (opts.form is None) != (opts.form_map is None):
        raise DocumentsError("--form and --form-map go together: give both or neither.")
    try:
        if opts.office is None:
            office = PLACEHOLDER_OFFICE
            warnings.append(
                "no --office file: the documents carry placeholders such as [OFFICE NAME]; "
                "they are drafts, not for filing or mailing."
            )
        else:
            office = load_office(opts.office)
        where = detect(opts.run_dir)
        env = environment(opts.templates, where.templates)
        if opts.form and opts.form_map:
            with _quiet_pypdf():
                form_map = load_form_map(opts.form_map, opts.form)
        else:
            form_map = None
    except (OfficeError, TemplateError, FormError) as exc:
        raise DocumentsError(str(exc)) from None
    new_out = not opts.out.exists()
    _prepare_out(opts.out, opts.force)
    workdir = Path(tempfile.mkdtemp(prefix="clearslate-docs-"))
    con = database.connect(
        ":memory:",
        config={
            "memory_limit": opts.memory_limit,
            "temp_directory": str(workdir / "spill"),
            "threads": 1,  # its queries are small; the cores are for the rendering workers
        },
    )
    con.execute("SET enable_progress_bar = false")
    done = False
    try:
        summary = _make(con, opts, office, env, form_map, workdir, warnings, progress)
        done = True
    except (TemplateError, FormError, OfficeError, AddressFileError, DecisionsFileError) as exc:
        raise DocumentsError(str(exc)) from None
    finally:
        con.close()
        shutil.rmtree(workdir, ignore_errors=True)
        if not done and new_out and not any(opts.out.iterdir()):
            opts.out.rmdir()  # a refused run leaves no empty --out folder behind
    seconds = time.perf_counter() - started
    write_json(opts.out / "documents_timings.json", {"seconds": round(seconds, 3)})
    return DocumentsResult(opts.out, summary, warnings, seconds)


def _make(
    con: duckdb.DuckDBPyConnection,
    opts: DocumentsOptions,
    office: Office,
    env: Any,
    form_map: FormMap | None,
    workdir: Path,
    warnings: list[str],
    progress: Progress,
) -> dict[str, Any]:
    progress("Reading the run")
    where = detect(opts.run_dir)
    info = open_run(con, opts.run_dir, where.code)
    date = opts.date or info.as_of
    input_errors: list[RowError] = []
    decisions: Decisions | None = None
    if opts.decisions is not None:
        try:
            decisions = read_decisions(opts.decisions, where.decisions)
        except DecisionsFileError as exc:
            raise DocumentsError(str(exc)) from None
        match_decisions(con, decisions, where.tiered_decisions)
        for r in decisions.errors:
            input_errors.append(RowError(opts.decisions.name, r.line, r.column, r.error))
        if decisions.errors:
            warnings.append(
                f"{len(decisions.errors)} row(s) of {opts.decisions.name} were not applied "
                "(overrides.csv, input_errors.csv)."
            )
    else:
        empty_overrides(con)
    reliefs = where.reliefs
    if opts.on_motion:
        if where.code != "il":
            raise DocumentsError("--include-on-motion is for Illinois runs only.")
        reliefs += ("eligible_on_motion",)
    build_relief(con, info, reliefs)
    tiers = {t: i for i, t in enumerate(IL_TIERS)}
    the_groups = groups(
        con,
        where.title,
        (lambda g: (g.court, tiers.get(g.track, 9), g.relief)) if where.code == "il" else None,
    )
    total = sum(g.convictions for g in the_groups)
    jobs = (
        opts.jobs
        if opts.jobs is not None
        else (min(database.usable_cpus(), 4) if total > 5000 else 1)
    )
    executor: Any = (
        ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
        if jobs > 1
        else _Inline()
    )
    try:
        return _render_all(
            con,
            opts,
            office,
            env,
            form_map,
            workdir,
            warnings,
            progress,
            info,
            date,
            decisions,
            input_errors,
            the_groups,
            executor,
            jobs,
        )
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _render_all(
    con: duckdb.DuckDBPyConnection,
    opts: DocumentsOptions,
    office: Office,
    env: Any,
    form_map: FormMap | None,
    workdir: Path,
    warnings: list[str],
    progress: Progress,
    info: RunInfo,
    date: dt.date,
    decisions: Decisions | None,
    input_errors: list[RowError],
    the_groups: list[Group],
    executor: Any,
    jobs: int,
) -> dict[str, Any]:
    out = opts.out
    where = JURISDICTIONS[info.jurisdiction]
    people = _people(con, where.reliefs[0])

    # 1. Addresses: read and match here, normalise in the workers (the slow part).
    address_rows: list[AddressRow] = []
    matched: dict[str, list[AddressRow]] = {}
    unmatched = 0
    norm_futures: list[tuple[list[AddressRow], Future[Any]]] = []
    if opts.addresses is not None:
        progress("Reading addresses")
        try:
            af = read_address_file(opts.addresses)
        except AddressFileError as exc:
            raise DocumentsError(str(exc)) from None
        input_errors += af.errors
        if af.errors:  # said, as for --decisions: the rows are not lost without a word
            warnings.append(
                f"{len(af.errors)} row(s) of {opts.addresses.name} have a problem "
                "(input_errors.csv)."
            )
        address_rows = af.rows
        matched, unmatched = _match_addresses(af.rows, people, input_errors, opts.addresses.name)
    elif info.jurisdiction == "il":
        progress("Addresses from the records")
        matched = _record_addresses(con)
    matched_from_records = opts.addresses is None and info.jurisdiction == "il"
    if matched:
        todo = [r for sid in sorted(matched) for r in matched[sid]]
        for i in range(0, len(todo), ADDRESS_CHUNK):
            chunk = todo[i : i + ADDRESS_CHUNK]
            norm_futures.append((chunk, executor.submit(normalise_many, [r.fields for r in chunk])))

    # 2. Court documents: per group, the motion and the order, each with the exhibit attached,
    #    and the exhibit as CSV and XLSX, rendered in the workers.
    progress("Court documents")
    court_dir = _private_dir(out / "court")
    court_futures: list[tuple[Group, list[Future[Rendered]]]] = []
    group_out: list[dict[str, Any]] = []
    for gi, g in enumerate(the_groups):
        folder = court_dir / g.folder
        folder.mkdir(parents=True, exist_ok=True)
        for p in (folder, folder.parent):
            os.chmod(p, 0o700)
        ctx = _context(g, office, info, date, con)
        rows_file = workdir / f"group_{gi}.parquet"
        cols = ", ".join(EXHIBIT_FIELDS + JURISDICTIONS[info.jurisdiction].extra_fields)
        con.execute(
            f"""COPY (SELECT {cols}, row_number() OVER (
                         ORDER BY case_number NULLS LAST, name, subject_id, cnt_order, det_id) AS n
                      FROM relief WHERE court_key = ? AND relief = ? AND track = ?
                      ORDER BY n) TO {database.sql_string(str(rows_file))} (FORMAT parquet)""",
            [g.court, g.relief, g.track],
        )
        try:
            ex_meta, ex_blocks = render(env, "exhibit.j2", ctx)
            papers = [
                Paper(folder / f"{name}.pdf", *render(env, f"{name}.j2", ctx))
                for name in ("motion", "order")
            ]
        except TemplateError as exc:
            raise DocumentsError(str(exc)) from None
        rows = ExhibitRows(rows_file, ex_meta, ex_blocks, ctx["exhibit"], info.jurisdiction)
        # three jobs that the workers run side by side: the motion, the order, the tables
        jobs_of_group = [executor.submit(render_paper, PaperJob(p, office, rows)) for p in papers]
        tables = TablesJob(folder / "exhibit.csv", folder / "exhibit.xlsx", rows)
        jobs_of_group.append(executor.submit(write_tables, tables))
        court_futures.append((g, jobs_of_group))
        group_out.append(
            {
                "court": g.court,
                "relief": g.relief,
                "track": g.track,
                "county": g.county,
                "folder": f"court/{g.folder}",
                "convictions": g.convictions,
                "people": g.people,
                "cases": g.cases,
                "decided_by_review": g.reviewed,
                "citations": list(g.citations),
            }
        )

    # 3. Who gets a letter, and who does not and why.
    progress("Normalising addresses")
    by_row: dict[int, Address | Problem] = {}
    for chunk, fut in norm_futures:
        for row, res in zip(chunk, fut.result(), strict=True):
            by_row[id(row)] = res
    mail: list[_Mail] = []
    exceptions: list[list[Any]] = []
    reasons: Counter[str] = Counter()
    for sid, p in people.items():
        rows = matched.get(sid, [])
        lines = " ".join(str(r.line) for r in rows)

        def exception(code: str, reason: str, p: dict[str, Any] = p, lines: str = lines) -> None:
            exceptions.append([p["subject_id"], p["cii_number"], p["name"], code, reason, lines])
            reasons[code] += 1

        if p["deceased"]:
            exception("deceased", "the DOJ record says the person has died")
            continue
        if not rows:
            exception(
                "no_address",
                "no address in the address file"
                if opts.addresses
                else (
                    "no address in the records" if matched_from_records else "no address file given"
                ),
            )
            continue
        good: list[tuple[AddressRow, Address]] = []
        first_problem: Problem | None = None
        for r in rows:
            res = by_row[id(r)]
            if isinstance(res, Address):
                good.append((r, res))
            elif first_problem is None:
                first_problem = res
        distinct = {a for _, a in good}
        if not good:
            assert first_problem is not None
            exception(first_problem.code, first_problem.reason)
            continue
        if len(distinct) > 1:
            exception("conflicting_addresses", f"{len(distinct)} different addresses on file")
            continue
        row, addr = good[0]
        shown = row.name.strip() if row.name.strip() else display_name(p["name"])
        mail.append(_Mail(sid, addr, shown.upper(), shown, row.language))
    mail.sort(
        key=lambda m: (m.address.zip5, m.address.zip4, people[m.subject_id]["name"], m.subject_id)
    )

    # 4. Letters, in mailing order, a bounded number of batches ahead of what is written.
    progress("Letters")
    letters_dir = _private_dir(out / "letters")
    if mail:
        try:  # a template that fails on a letter fails here, before any batch is made
            for lang in ("en", "es"):
                letter_blocks(env, _sample_letter(where), office.context(), date, lang)
        except TemplateError as exc:
            raise DocumentsError(str(exc)) from None
    con.execute(
        "CREATE OR REPLACE TABLE mail_order AS SELECT unnest($1) AS subject_id, unnest($2) AS seq",
        [[m.subject_id for m in mail], list(range(len(mail)))],
    )
    pending: deque[tuple[LetterBatchJob, list[_Mail], Future[Any]]] = deque()
    office_ctx = office.context()
    letter_pages = 0
    batch_files = 0

    def collect(manifest_writer: Any) -> None:
        nonlocal letter_pages
        job, batch_mail, fut = pending.popleft()
        result = fut.result()
        page = 1
        for letter, m, pages in zip(job.letters, batch_mail, result.pages, strict=True):
            a = m.address
            dl = a.delivery_lines()
            manifest_writer.writerow(
                [
                    letter["letter_id"],
                    f"letters/{job.path.name}",
                    page,
                    pages,
                    m.subject_id,
                    people[m.subject_id]["cii_number"],
                    m.recipient,
                    dl[0],
                    dl[1] if len(dl) > 1 else "",
                    a.city,
                    a.state,
                    a.zip5,
                    a.zip4,
                    m.language,
                    letter["counts"]["dismissed"],
                    letter["counts"]["reduced"],
                    letter["counts"]["related"],
                ]
            )
            page += pages
            letter_pages += pages

    limit = max(2, 2 * jobs)
    with (
        atomic_path(out / "mailing_manifest.csv") as manifest_tmp,
        manifest_tmp.open("w", newline="", encoding="utf-8") as manifest_fh,
    ):
        manifest_writer = csv.writer(manifest_fh, lineterminator="\n")
        manifest_writer.writerow(MAILING_COLUMNS)
        for bi, (batch_mail, letters) in enumerate(
            _letter_batches(con, mail, people, opts.batch_size, where), start=1
        ):
            path = letters_dir / f"letters_{bi:04d}.pdf"
            job = LetterBatchJob(path, letters, office_ctx, opts.templates, date, where.templates)
            pending.append((job, batch_mail, executor.submit(render_letter_batch, job)))
            batch_files += 1
            while len(pending) >= limit:
                collect(manifest_writer)
        while pending:
            collect(manifest_writer)

    # 5. The office's own form.
    forms_out: dict[str, Any] = {}
    if form_map is not None and opts.form is not None:
        progress("Forms")
        forms_dir = _private_dir(out / "forms")
        index: list[list[Any]] = []
        fpending: deque[Future[Any]] = deque()
        for items in _form_items(con, form_map, FORMS_PER_JOB, where):
            fjob = FormJob(
                opts.form, form_map, items, office_ctx, opts.templates, forms_dir, where.templates
            )
            fpending.append(executor.submit(fill_forms, fjob))
            while len(fpending) >= limit:
                index += fpending.popleft().result().index
        while fpending:
            index += fpending.popleft().result().index
        _write_csv(forms_dir / "index.csv", INDEX_COLUMNS, index)
        forms_out = {
            "form": opts.form.name,
            "per": form_map.per,
            "files": len(index),
            "continuation_pages": sum(r[-1] for r in index),
        }

    # 6. Wait for the exhibits; then the lists, the summary and the manifest.
    progress("Finishing")
    for (g, futures), entry in zip(court_futures, group_out, strict=True):
        motion, order, tables = (f.result() for f in futures)
        if {motion.rows, order.rows, tables.rows} != {g.convictions}:  # a defect, not a warning
            raise DocumentsError(
                f"internal check failed: exhibit {g.folder} has {tables.rows} rows, "
                f"{g.convictions} expected. Please report this."
            )
        entry["motion_pages"], entry["order_pages"] = motion.pages, order.pages
        entry["exhibit_pages"] = motion.exhibit_pages
    if decisions is not None:
        _write_csv(out / "overrides.csv", OVERRIDE_COLUMNS, [r.row() for r in decisions.rows])
    else:
        _write_csv(out / "overrides.csv", OVERRIDE_COLUMNS, [])
    _write_csv(
        out / "input_errors.csv",
        INPUT_ERROR_COLUMNS,
        sorted([e.source_file, e.line, e.column, e.reason] for e in input_errors),
    )
    _write_csv(out / "exceptions.csv", EXCEPTION_COLUMNS, exceptions)
    statuses = Counter(r.status for r in decisions.rows) if decisions else Counter()
    summary: dict[str, Any] = {
        "clearslate_version": __version__,
        "as_of": info.as_of.isoformat(),
        "letter_date": date.isoformat(),
        "office": "placeholder" if office.placeholder else "given",
        "convictions_with_relief": sum(g.convictions for g in the_groups),
        "people_with_relief": len(people),
        "court_documents": group_out,
        "decisions": {
            "rows": len(decisions.rows) if decisions else 0,
            **{s: statuses.get(s, 0) for s in ("applied", "confirmed", "duplicate", "error")},
        },
        "addresses": {
            "rows": len(address_rows),
            "matched_people": len(matched),
            "rows_for_no_one_with_relief": unmatched,
        },
        "letters": {
            "letters": len(mail),
            "pages": letter_pages,
            "files": batch_files,
            "batch_size": opts.batch_size,
            "exceptions": len(exceptions),
            "exceptions_by_reason": dict(sorted(reasons.items())),
        },
        "input_errors": len(input_errors),
        "forms": forms_out,
    }
    write_json(out / "documents_summary.json", summary)
    _write_manifest(out, opts, info)
    return summary


def _letter_batches(
    con: duckdb.DuckDBPyConnection,
    mail: list[_Mail],
    people: dict[str, dict[str, Any]],
    batch_size: int,
    where: Jurisdiction,
) -> Iterator[tuple[list[_Mail], list[dict[str, Any]]]]:
    """Each person's letter context, in mailing order, batch by batch."""
    cur = con.execute(
        """SELECT m.seq, r.case_number, r.court, r.county, r.statute, r.code_section_raw,
                  r.attempt, r.section, r.disposition_date, r.relief, r.felony, r.track,
                  r.offense_class, r.record_date, r.deadline
           FROM relief r JOIN mail_order m USING (subject_id)
           ORDER BY m.seq, r.disposition_date NULLS LAST, r.case_number NULLS LAST, r.cnt_order,
                    r.det_id"""
    )
    batch_mail: list[_Mail] = []
    letters: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    seq = -1

    def finish(seq: int) -> dict[str, Any]:
        m = mail[seq]
        p = people[m.subject_id]
        batch_no = seq // batch_size + 1
        # the first kind of relief (dismiss; vacate and expunge), then the others
        dismissed = sum(1 for c in current if c["relief"] == where.reliefs[0] and not c["related"])
        related = sum(1 for c in current if c["related"])
        return {
            "letter_id": f"{batch_no:04d}-{seq % batch_size + 1:04d}",
            "person": {
                "name": m.greeting_name,
                "doj_name": p["name"],
                "subject_id": m.subject_id,
                "cii_number": p["cii_number"],
                "dob": dob_label(p["dob"]),
            },
            "address": {"lines": [m.recipient, *m.address.delivery_lines(), m.address.last_line]},
            "first_language": m.language,
            "county": p["county"],
            "county_name": _county_name(p["county"]),
            "convictions": list(current),
            "counts": {
                "total": len(current),
                "dismissed": dismissed,
                "reduced": len(current) - dismissed - related,
                "related": related,
            },
        }

    while rows := cur.fetchmany(4096):
        for r in rows:
            if r[0] != seq:
                if seq >= 0:
                    letters.append(finish(seq))
                    batch_mail.append(mail[seq])
                    if len(letters) == batch_size:
                        yield batch_mail, letters
                        batch_mail, letters = [], []
                seq = r[0]
                current = []
            section = r[7] or ""
            offence = where.offence(section, r[11] == "related")
            current.append(
                {
                    "case_number": r[1],
                    "court": r[2],
                    "county": r[3],
                    "code_section": statute_label(r[4], r[5], bool(r[6])),
                    "section": section,
                    "offense_en": offence[0],
                    "offense_es": offence[1],
                    "date": r[8],
                    "relief": r[9],
                    "felony": r[10],
                    "serving": r[11] == "serving",
                    "related": r[11] == "related",
                    "offense_class": r[12],
                    "tier": r[11] if where.code == "il" else None,
                    "record_date": r[13],
                    "deadline": r[14],
                }
            )
    if seq >= 0:
        letters.append(finish(seq))
        batch_mail.append(mail[seq])
    if letters:
        yield batch_mail, letters


def _form_items(
    con: duckdb.DuckDBPyConnection, form_map: FormMap, per_job: int, where: Jurisdiction
) -> Iterator[list[dict[str, Any]]]:
    key = "subject_id" if form_map.per == "person" else "subject_id, court_key, case_number"
    cur = con.execute(
        f"""SELECT subject_id, court_key, case_number, name, dob, cii_number, county, statute,
                   code_section_raw, attempt, disposition_date, felony, relief, track,
                   relief_citation, cnt_order
            FROM relief ORDER BY {key}, disposition_date NULLS LAST, cnt_order, det_id"""
    )
    items: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    current_key: tuple[Any, ...] | None = None
    used: set[str] = set()

    def start(r: tuple[Any, ...]) -> dict[str, Any]:
        base = f"{form_map.per}_{r[0]}" + (
            f"_{r[2] or 'no-case'}" if form_map.per == "case" else ""
        )
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in base)
        name, k = safe, 1
        while name in used:
            k += 1
            name = f"{safe}_{k}"
        used.add(name)
        return {
            "file": f"{name}.pdf",
            "subject_id": r[0],
            "court": r[1],
            "case_number": r[2] or "",
            "name": r[3] or "",
            "display_name": display_name(r[3]),
            "dob": dob_label(r[4]),
            "cii_number": r[5] or "",
            "county": r[6] or "",
            "rows": [],
            "reliefs": [],
            "dismiss": False,
            "reduce": False,
            "serving": False,
            "sections": [],
        }

    while rows := cur.fetchmany(4096):
        for r in rows:
            k = (r[0],) if form_map.per == "person" else (r[0], r[1], r[2])
            if k != current_key:
                if current is not None:
                    items.append(current)
                    if len(items) == per_job:
                        yield items
                        items = []
                current, current_key = start(r), k
            assert current is not None
            row = {
                "row": len(current["rows"]) + 1,
                "case_number": r[2] or "",
                "count": "",
                "code_section": statute_label(r[7], r[8], bool(r[9])),
                "code_section_raw": r[8] or "",
                "disposition_date": r[10],
                "felony": r[11],
                "level": "" if r[11] is None else ("felony" if r[11] else "misdemeanor"),
                "relief": r[12],
                "relief_label": where.title(r[12], r[13]).lower(),
                "citation": r[14],
                "cnt_order": r[15],
            }
            current["rows"].append(row)
            current[r[12]] = True
            current["serving"] = current["serving"] or r[13] == "serving"
            if r[12] not in current["reliefs"]:
                current["reliefs"].append(r[12])
            if row["code_section"] not in current["sections"]:
                current["sections"].append(row["code_section"])
    if current is not None:
        items.append(current)
    if items:
        yield items


def _file_entry(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    return {"file": path.name, "sha256": sha256_file(path) if path.is_file() else None}


def _write_manifest(out: Path, opts: DocumentsOptions, info: RunInfo) -> None:
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file()
        and p.name not in (MANIFEST, "documents_timings.json")
        and not p.name.startswith(".partial-")
    )
    run_manifest = info.run_dir / "manifest.json"
    write_json(
        out / MANIFEST,
        {
            "clearslate_version": __version__,
            "run": {
                "folder": info.run_dir.name,
                "manifest_sha256": sha256_file(run_manifest),
                "as_of": info.as_of.isoformat(),
                "law_version": info.law_version,
            },
            "inputs": {
                "office": _file_entry(opts.office),
                "addresses": _file_entry(opts.addresses),
                "decisions": _file_entry(opts.decisions),
                "form": _file_entry(opts.form),
                "form_map": _file_entry(opts.form_map),
                "templates": (
                    [_file_entry(p) for p in sorted(opts.templates.glob("*.j2"))]
                    if opts.templates
                    else []
                ),
            },
            "options": {
                "batch_size": opts.batch_size,
                "date": (opts.date or info.as_of).isoformat(),
            },
            "outputs": [
                {
                    "file": str(p.relative_to(out)),
                    "size": p.stat().st_size,
                    "sha256": sha256_file(p),
                }
                for p in files
            ],
        },
    )
