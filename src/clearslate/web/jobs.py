"""Batches and document sets, built one at a time in a background thread.

A run calls the same `clearslate.run.run` as the command line (Illinois:
`clearslate.illinois_run.run_illinois`), then writes its impact report, keeps its rows for the
person pages and fills the review queue. Progress is read live from the run's RunMeter
(`clearslate.progress`), as the command line's bar reads it.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import shutil
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clearslate.outputs.files import make_private_dir, write_json, write_text
from clearslate.progress import RunMeter
from clearslate.web import audit, results
from clearslate.web.db import Database, review_items, runs
from clearslate.web.errors import log_unexpected

# Where the web server's own stages after the run begin on the bar; the run (its meter's
# fraction) takes the bar up to the first of them.
AFTER_RUN = {
    "ca": {"Writing the impact report": 80, "Preparing the review queue": 88},
    "il": {"Writing the impact report": 85, "Preparing the review queue": 92},
}
DECISION_COLUMNS = ("subject_id", "source_file", "source_line", "decision", "reviewer", "note")


# A removed run's status; its folder takes the name REMOVING_PREFIX + id before it is
# deleted (app.remove_run).
REMOVED = "removed"
REMOVING_PREFIX = "removing-"


def run_dir(data_dir: Path, run_id: int) -> Path:
    return data_dir / "runs" / str(run_id)


@dataclass
class _Live:
    jurisdiction: str = "ca"
    meter: RunMeter = field(default_factory=lambda: RunMeter("Queued"))


class Jobs:
    def __init__(self, db: Database, data_dir: Path, office: Path | None = None) -> None:
        self.db = db
        self.data_dir = data_dir
        self.office = office
        self._queue: queue.Queue[tuple[Callable[[int], None], int] | None] = queue.Queue()
        self._live: dict[int, _Live] = {}
        self._thread = threading.Thread(target=self._work, name="clearslate-jobs", daemon=True)
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        """Runs left queued or running by a server that stopped cannot resume: say so."""
        with self.db.write() as conn:
            conn.execute(
                sa.update(runs)
                .where(runs.c.status.in_(("queued", "running")))
                .values(status="failed", error="The server stopped during the run; start it again.")
            )
            conn.execute(
                sa.update(runs)
                .where(runs.c.documents_status.in_(("queued", "running")))
                .values(documents_status="failed", documents_error="The server stopped; sign-off "
                        "stands, build the documents again.")
            )  # fmt: skip
        self._finish_removals()
        self._thread.start()

    def _finish_removals(self) -> None:
        """A run folder renamed for removal when the server stopped: deleted if the removal
        was committed, else given its name back (the run is still there)."""
        for leftover in (self.data_dir / "runs").glob(f"{REMOVING_PREFIX}*"):
            run_id = leftover.name.removeprefix(REMOVING_PREFIX)
            with self.db.read() as conn:
                status = conn.execute(
                    sa.select(runs.c.status).where(runs.c.id == int(run_id))
                ).scalar() if run_id.isdecimal() else None  # fmt: skip
            if status is not None and status != REMOVED:
                leftover.rename(run_dir(self.data_dir, int(run_id)))
            else:
                shutil.rmtree(leftover, ignore_errors=True)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)

    def wait_idle(self, timeout: float = 120) -> bool:
        return self._idle.wait(timeout)

    def submit_run(self, run_id: int, jurisdiction: str = "ca") -> None:
        self._live[run_id] = _Live(jurisdiction=jurisdiction)
        self._submit(self._run, run_id)

    def submit_documents(self, run_id: int) -> None:
        self._submit(self._documents, run_id)

    def _submit(self, fn: Callable[[int], None], run_id: int) -> None:
        self._idle.clear()
        self._queue.put((fn, run_id))

    def progress(self, run_id: int) -> tuple[str, float] | None:
        """The live stage and percentage of a run in progress, else None."""
        live = self._live.get(run_id)
        if live is None:
            return None
        stage = live.meter.stage
        after = AFTER_RUN[live.jurisdiction]
        if stage in after:
            return stage, float(after[stage])
        return stage, min(after.values()) * live.meter.fraction()

    def _work(self) -> None:
        while True:
            try:
                task = self._queue.get(timeout=0.5)
            except queue.Empty:
                self._idle.set()
                continue
            if task is None:
                self._idle.set()
                return
            fn, run_id = task
            try:
                fn(run_id)
            except Exception as exc:  # outside the job's own handlers: the worker goes on
                self._job_failed(fn, run_id, exc)
            if self._queue.empty():
                self._idle.set()

    def _job_failed(self, fn: Callable[[int], None], run_id: int, exc: Exception) -> None:
        """A job that raised past its own handlers (its first database read, say): the run or
        its documents are marked failed, by the error's kind only, and the next job runs."""
        log_unexpected(f"job {getattr(fn, '__name__', fn)} of run {run_id}", exc)
        self._live.pop(run_id, None)
        fail = self._fail_run if fn == self._run else self._fail_docs
        try:
            fail(run_id, "", f"unexpected error ({type(exc).__name__})")
        except Exception as again:  # the database itself, most likely: the restart says it
            log_unexpected(f"marking run {run_id} failed", again)

    # ---- a run ---------------------------------------------------------------------------

    def _set_run(self, run_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(**values))

    def _meter(self, run_id: int) -> RunMeter:
        live = self._live.setdefault(run_id, _Live())
        return live.meter

    def _stage(self, run_id: int, name: str) -> None:
        """One of the web server's own stages begins: before the run, or after it (`AFTER_RUN`)."""
        live = self._live.get(run_id)
        if live is not None:
            live.meter.begin(name)

    def _run(self, run_id: int) -> None:
        from clearslate.documents.data import DocumentsError
        from clearslate.policy import PolicyError
        from clearslate.report.build import build_report
        from clearslate.report.data import ReportError
        from clearslate.run import RunError
        from clearslate.sources.il_mapping import MappingError

        with self.db.read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).one()
        folder = run_dir(self.data_dir, run_id)
        try:
            self._set_run(run_id, status="running", stage="Starting")
            self._stage(run_id, "Starting")
            decide = self._decide_il if row.jurisdiction == "il" else self._decide_ca
            result = decide(row, folder)
            keep_read(folder, row, result)
            self._stage(run_id, "Writing the impact report")
            build_report(folder / "results", pdf=False)
            self._stage(run_id, "Preparing the review queue")
            items = results.review_rows(folder / "results", results.LAYOUTS[row.jurisdiction])
            with self.db.write() as conn:
                conn.execute(sa.delete(review_items).where(review_items.c.run_id == run_id))
                for start in range(0, len(items), 1000):
                    conn.execute(
                        sa.insert(review_items),
                        [{"run_id": run_id, **i} for i in items[start : start + 1000]],
                    )
                conn.execute(
                    sa.update(runs)
                    .where(runs.c.id == run_id)
                    .values(status="done", stage="Done", evaluated=result.evaluated,
                            outcomes=json.dumps(result.outcomes))
                )  # fmt: skip
                audit.record(conn, row.created_by, "run_done", f"run {run_id}", {
                    "rows_read": result.read.rows_read, "evaluated": result.evaluated,
                    "outcomes": result.outcomes, "review_items": len(items),
                })  # fmt: skip
        except (RunError, PolicyError, ReportError, MappingError, DocumentsError) as exc:
            self._fail_run(run_id, row.created_by, str(exc))
        except Exception as exc:  # a defect: its text may quote a record, so only its kind
            log_unexpected(f"run {run_id}", exc)
            self._fail_run(run_id, row.created_by, f"unexpected error ({type(exc).__name__})")
        finally:
            self._live.pop(run_id, None)

    def _decide_ca(self, row: Any, folder: Path) -> Any:
        from clearslate.policy import load_policy
        from clearslate.run import RunOptions
        from clearslate.run import run as run_batch

        def stage(name: str, con: Any) -> None:
            if name == "Deciding":  # the rows are read: keep their facts for explain
                results.keep_ca_rows(con, folder)

        return run_batch(
            RunOptions(
                inputs=sorted((folder / "uploads").iterdir()),
                outputs=folder / "results",
                counties=None if row.county == "ALL" else row.county.split(","),
                as_of=row.as_of,
                policy=load_policy(folder / row.policy_file),
                policy_source=row.policy_label,
                force=True,
            ),
            stage=stage,
            meter=self._meter(row.id),
        )

    def _decide_il(self, row: Any, folder: Path) -> Any:
        from clearslate.il_policy import load_il_policy
        from clearslate.illinois_run import ILRunOptions, run_illinois

        def stage(name: str, con: Any) -> None:
            if name == "Deciding":  # the records are read and linked: keep them for explain
                results.keep_il_rows(con, folder)

        uploads = folder / "uploads"
        mapping = {k: folder / f"{k}_mapping.yaml" for k in ("court", "isp")}
        return run_illinois(
            ILRunOptions(
                outputs=folder / "results",
                as_of=row.as_of,
                policy=load_il_policy(folder / row.policy_file),
                policy_source=row.policy_label,
                court_exports=sorted((uploads / "court").glob("*")),
                isp_exports=sorted((uploads / "isp").glob("*")),
                court_mapping=mapping["court"] if mapping["court"].exists() else None,
                isp_mapping=mapping["isp"] if mapping["isp"].exists() else None,
                force=True,
            ),
            stage=stage,
            meter=self._meter(row.id),
        )

    def _fail_run(self, run_id: int, actor: str, message: str) -> None:
        with self.db.write() as conn:
            message = self._plain(conn, run_id, message)
            conn.execute(
                sa.update(runs).where(runs.c.id == run_id).values(status="failed", error=message)
            )
            audit.record(conn, actor, "run_failed", f"run {run_id}", {"error": message})

    # ---- documents -----------------------------------------------------------------------

    def _documents(self, run_id: int) -> None:
        from clearslate.documents import DocumentsError, DocumentsOptions, make_documents

        folder = run_dir(self.data_dir, run_id)
        self._set_docs(run_id, "running")
        with self.db.read() as conn:
            signer, jurisdiction = conn.execute(
                sa.select(runs.c.signed_off_by, runs.c.jurisdiction).where(runs.c.id == run_id)
            ).one()
        addresses = folder / "addresses.csv"
        try:
            with self.db.read() as conn:
                decisions = folder / "decisions.csv"
                write_text(decisions, decisions_csv(conn, run_id))
            result = make_documents(
                DocumentsOptions(
                    run_dir=folder / "results",
                    out=folder / "documents",
                    office=self.office if self.office and self.office.exists() else None,
                    addresses=addresses if addresses.exists() else None,
                    decisions=decisions,
                    # Illinois: the on-motion papers too (their own folders), so that an
                    # attorney's eligible_on_motion decision yields its motion
                    on_motion=jurisdiction == "il",
                    force=True,
                    jobs=1,
                )
            )
            zip_folder(folder / "documents", folder / "documents.zip")
            write_json(folder / DOCUMENTS_FILE, {"warnings": result.warnings,
                                                 "office": result.summary.get("office")})  # fmt: skip
        except DocumentsError as exc:
            self._fail_docs(run_id, signer or "", str(exc))
            return
        except Exception as exc:  # as for a run: only its kind
            log_unexpected(f"documents of run {run_id}", exc)
            self._fail_docs(run_id, signer or "", f"unexpected error ({type(exc).__name__})")
            return
        with self.db.write() as conn:
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(documents_status="done"))
            audit.record(conn, signer or "", "documents_built", f"run {run_id}", {
                "decisions": result.summary.get("decisions", {}), "warnings": result.warnings,
            })  # fmt: skip

    def _set_docs(self, run_id: int, status: str) -> None:
        self._set_run(run_id, documents_status=status, documents_error=None)

    def _fail_docs(self, run_id: int, actor: str, message: str) -> None:
        with self.db.write() as conn:
            message = self._plain(conn, run_id, message)
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id)
                .values(documents_status="failed", documents_error=message)
            )
            audit.record(conn, actor, "documents_failed", f"run {run_id}", {"error": message})

    def _plain(self, conn: sa.Connection, run_id: int, message: str) -> str:
        inputs = conn.execute(sa.select(runs.c.inputs).where(runs.c.id == run_id)).scalar()
        folder = run_dir(self.data_dir, run_id)
        return plain_message(message, folder, upload_names(folder, inputs or "[]"))


READ_FILE = "read.json"  # in the run's folder: what the run read, for its page
DOCUMENTS_FILE = "documents.json"  # beside it: the documents' warnings, for the page


def keep_read(folder: Path, row: Any, result: Any) -> None:
    """What the run read, for its page: rows read, accepted, rejected (errors.csv) and, in
    Illinois, values left empty (warnings.csv), with the notes `clearslate run` prints under
    these counts, each file named as it was uploaded."""
    from clearslate import illinois_run, run

    names = upload_names(folder, row.inputs)

    def name(path: str) -> str:
        return names.get(path, Path(path).name)

    il = row.jurisdiction == "il"
    read = result.read
    write_json(folder / READ_FILE, {
        "rows_read": read.rows_read, "rows_accepted": read.rows_accepted,
        "rows_rejected": len(read.rejects), "warnings": len(read.warnings) if il else None,
        "notes": illinois_run.run_notes(result, name) if il
                 else run.run_notes(result, name, county="the county"),
    })  # fmt: skip


def upload_names(folder: Path, inputs: str) -> dict[str, str]:
    """Each uploaded file of a run, by its path in the run's folder (as given and resolved):
    its name as the user gave it. `inputs` is the run's list of names (JSON; Illinois: by
    kind of export), in the order app.run_new numbered the files (01-…)."""
    given = json.loads(inputs)
    by_folder = {"": given} if isinstance(given, list) else given
    names: dict[str, str] = {}
    for sub, listed in by_folder.items():
        uploads = folder / "uploads" / sub
        for i, name in enumerate(listed, 1):
            for path in uploads.glob(f"{i:02d}-*"):
                names[str(path)] = names[str(path.resolve())] = name
    return names


def plain_message(message: str, folder: Path, names: Mapping[str, str]) -> str:
    """`message` without the server's paths: an uploaded file by its name as the user gave it,
    another file of the run (addresses.csv, results/…) by its place in the run's folder."""
    for path in sorted(names, key=len, reverse=True):
        message = message.replace(path, names[path])
    for root in sorted({str(folder), str(folder.resolve())}, key=len, reverse=True):
        message = message.replace(root + "/", "").replace(root, "the run's folder")
    return message


def decisions_csv(conn: sa.Connection, run_id: int) -> str:
    """The attorneys' decisions in the `clearslate documents --decisions` format. Convictions
    are named by source file and line, which name exactly one conviction of the run. A note
    is written as text a spreadsheet will not run (`spreadsheet_text`)."""
    from clearslate.documents.decisions import spreadsheet_text

    query = (
        sa.select(review_items)
        .where(review_items.c.run_id == run_id, review_items.c.decision.is_not(None))
        .order_by(review_items.c.det_row)
    )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(DECISION_COLUMNS)
    for r in conn.execute(query):
        w.writerow([r.subject_id, r.source_file, r.source_line, r.decision, r.decided_by,
                    spreadsheet_text(r.note or "")])  # fmt: skip
    return buf.getvalue()


def zip_folder(folder: Path, target: Path) -> None:
    tmp = target.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder))
    tmp.replace(target)


def new_run_folder(data_dir: Path, run_id: int) -> Path:
    folder = run_dir(data_dir, run_id)
    if folder.exists():  # left by a run whose row was never committed
        shutil.rmtree(folder)
    make_private_dir(folder / "uploads")
    return folder
