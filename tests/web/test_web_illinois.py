"""An Illinois run through the workspace: the form (per-field errors), the run to completion,
outcome counts, report, the determinations table, a person's page with the rule tree
(audited), the review queue by review reason, decided one by one and in bulk (arrests listed,
not decided), sign-off building the Illinois documents with every decision applied, and the
roles."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from clearslate.web.db import Database, review_items, runs
from clearslate.web.results import IL_ARREST_NOTE, IL_NO_TIER_NOTE, IL_TWIN_NOTE
from conftest import csrf_of


@pytest.fixture(scope="session")
def il_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from clearslate.synth.illinois import generate_illinois

    out = tmp_path_factory.mktemp("il")
    generate_illinois(out, people=200, seed=5)
    return out


def _post_il(c, exports: Path, **extra):
    token = csrf_of(c, "/runs/new")
    data = {"csrf": token, "jurisdiction": "il", "il_policy": "il:cook-county",
            "as_of": "2024-01-01"} | extra.pop("data", {})  # fmt: skip
    files = [
        ("court_files", ("court_export.csv", (exports / "court_export.csv").read_bytes())),
        ("isp_files", ("isp_export.csv", (exports / "isp_export.csv").read_bytes())),
        *extra.pop("files", []),
    ]
    return c.post("/runs/new", data=data, files=files)


def _audit(ws, action: str) -> list[dict]:
    with ws.db.read() as conn:
        rows = conn.execute(
            sa.text("SELECT target, detail FROM audit_log WHERE action = :a ORDER BY id"),
            {"a": action},
        ).fetchall()
    return [{"target": t, **json.loads(d)} for t, d in rows]


def test_illinois_run_results_person_and_queue(workspace_factory, il_exports):
    ws = workspace_factory(None)
    ana = ws.login("ana")
    r = _post_il(ana, il_exports)
    assert r.status_code == 303, r.text
    run_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert ws.app.state.ws.jobs.wait_idle(300)
    progress = ana.get(f"/runs/{run_id}/progress").json()
    assert progress["status"] == "done", progress
    results = ws.data_dir / "runs" / str(run_id) / "results"
    summary = json.loads((results / "summary.json").read_text())
    assert json.loads((results / "manifest.json").read_text())["jurisdiction"] == "il"

    page = ana.get(f"/runs/{run_id}")
    assert f"{summary['charges']['evaluated']:,} cannabis charges decided" in page.text
    for outcome, n in summary["outcomes"].items():
        label = outcome.replace("_", " ")
        row = rf'outcome={outcome}">{label}</a></th>\s*<td class="num">{n:,}</td>'
        assert re.search(row, page.text), outcome
    report = ana.get(f"/runs/{run_id}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]

    review_total = summary["outcomes"]["review"]
    assert review_total > 0
    table = ana.get(f"/runs/{run_id}/determinations?outcome=review")
    assert f"{review_total:,} determinations" in table.text
    assert (
        '<th scope="col">Review reason</th>' in table.text
        and '<th scope="col">Tier</th>' in table.text
    )

    rel = duckdb.sql(f"SELECT * FROM '{results / 'determinations.parquet'}'")
    det = [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]
    one = next(d for d in det if d["outcome"] == "review")
    person_id = one["person_id"]
    # The search finds a person by case number (or SID); a search is audited, without the query.
    key = one["case_number"] or one["sid"]
    found = ana.get(f"/runs/{run_id}/determinations", params={"q": key})
    assert f"/people/{person_id}" in found.text
    expected = sum(any(key.lower() in (d[c] or "").lower() for c in ("case_number", "sid"))
                   or d["person_id"] == key for d in det)  # fmt: skip
    assert f"{expected:,} determinations" in found.text
    assert _audit(ws, "search")[-1] == {"target": f"run {run_id}", "results": expected}

    person = ana.get(f"/runs/{run_id}/people/{person_id}")
    assert person.status_code == 200
    assert "Why: the decision tree" in person.text
    for d in det:  # each charge's deciding rule is the fired step of its tree
        if d["person_id"] == person_id:
            fired = r'<li class="fired">\s*<span[^>]*>✔</span>\s*<span[^>]*>decided:</span>\s*'
            assert re.search(fired + rf"<code>{re.escape(d['rule_id'])}</code>", person.text)
    assert _audit(ws, "person_view")[-1] == {"target": f"run {run_id}", "subject_id": person_id}
    assert ana.get(f"/runs/{run_id}/people/no-such-person").status_code == 404

    att = ws.login("att")
    with ws.db.read() as conn:
        items = conn.execute(
            sa.select(review_items).where(review_items.c.run_id == run_id)
            .order_by(review_items.c.det_row)
        ).fetchall()  # fmt: skip
    assert len(items) == review_total
    # Arrest-track items are listed, not decided: the documents take no decision on them.
    review_rows = {(d["source_file"], d["source_line"]): d for d in det if d["outcome"] == "review"}
    tracks = {i.id: review_rows[(i.source_file, i.source_line)]["track"] for i in items}
    assert {i.not_decidable == IL_ARREST_NOTE for i in items if tracks[i.id] == "arrest"} <= {True}
    decidable = [i for i in items if i.not_decidable is None]
    held = [i for i in items if i.not_decidable is not None]
    # Decided here: convictions and pending or unknown dispositions (no track) that have a
    # deadline tier, which a motion can file.
    tiers = {i.id: review_rows[(i.source_file, i.source_line)]["tier"] for i in items}
    assert decidable and {tracks[i.id] for i in decidable} <= {"conviction", None}
    assert all(tiers[i.id] for i in decidable)
    assert {
        i.not_decidable == IL_NO_TIER_NOTE
        for i in held
        if not tiers[i.id] and tracks[i.id] != "arrest"
    } == {True}
    assert {i.not_decidable for i in held if tracks[i.id] != "arrest" and tiers[i.id]} <= {
        IL_TWIN_NOTE}  # fmt: skip
    queue = att.get(f"/runs/{run_id}/review?status=all")
    assert f"{len(decidable):,} open" in queue.text
    for reason, n in summary["review_reasons"].items():
        assert re.search(rf">{reason}</a></th>\s*<td class=\"num\">{n:,}</td>", queue.text), reason
    first_reason = next(iter(summary["review_reasons"]))
    by_reason = att.get(f"/runs/{run_id}/review", params={"reason": first_reason, "status": "all"})
    assert f"{summary['review_reasons'][first_reason]:,} item(s) match" in by_reason.text
    page_ids = {int(m) for m in re.findall(rf'action="/runs/{run_id}/review/(\d+)"', queue.text)}
    assert page_ids and page_ids <= {i.id for i in decidable}
    if held:  # listed with the reason they are not decided here
        listed = att.get(f"/runs/{run_id}/review", params={"status": "not_decidable"})
        assert f"{len(held):,} item(s) match" in listed.text
        assert "Not decided here:" in listed.text
        assert 'class="decide"' not in listed.text and 'id="bulk-h"' not in listed.text
    person_page = att.get(f"/runs/{run_id}/people/{decidable[0].subject_id}")
    assert f'action="/runs/{run_id}/review/{decidable[0].id}"' in person_page.text
    token = csrf_of(att, f"/runs/{run_id}/review")

    # One by one: a decision the documents accept; California's is refused, as is a held item.
    one, two = decidable[0], decidable[1]
    r = att.post(f"/runs/{run_id}/review/{one.id}", data={"csrf": token, "decision": "dismiss"})
    assert r.status_code == 400 and "vacate and expunge" in r.text
    for item, decision in ((one, "vacate_and_expunge"), (two, "eligible_on_motion")):
        r = att.post(f"/runs/{run_id}/review/{item.id}", data={"csrf": token,
                     "decision": decision, "note": "checked the file"})  # fmt: skip
        assert r.status_code == 303, r.text
    if held:
        r = att.post(f"/runs/{run_id}/review/{held[0].id}",
                     data={"csrf": token, "decision": "not_eligible"})  # fmt: skip
        assert r.status_code == 409 and held[0].not_decidable[:40] in r.text
    ana_token = csrf_of(ana, f"/runs/{run_id}")
    r = ana.post(
        f"/runs/{run_id}/review/{one.id}", data={"csrf": ana_token, "decision": "not_eligible"}
    )
    assert r.status_code == 403
    # Not signed off while items are open.
    r = att.post(f"/runs/{run_id}/sign-off", data={"csrf": token})
    assert r.status_code == 409 and f"{len(decidable) - 2} review items are still open" in r.text

    # In bulk: the open items of the first reason, then every open one left.
    for params, decision in (
        ({"reason": first_reason}, "vacate_and_expunge"),
        ({}, "not_eligible"),
    ):
        page = att.get(f"/runs/{run_id}/review", params=params)
        count = re.search(r'name="count" value="(\d+)"', page.text)
        assert count, params
        r = att.post(f"/runs/{run_id}/review/bulk", data={"csrf": token, "decision": decision,
                     "count": count.group(1), "status": "open", **params})  # fmt: skip
        assert r.status_code == 303, r.text
    with ws.db.read() as conn:
        decided = {r.id: r for r in conn.execute(
            sa.select(review_items).where(review_items.c.run_id == run_id))}  # fmt: skip
    assert all(decided[i.id].decision for i in decidable)
    assert all(decided[i.id].decision is None for i in held)
    assert decided[two.id].decision == "eligible_on_motion"
    assert "0 open" in att.get(f"/runs/{run_id}/review").text
    # Every decision audited, by whom, with the item's person but no name.
    audited = {}
    for entry in _audit(ws, "decision"):
        audited[int(entry["target"].rsplit(" ", 1)[1])] = entry
    assert set(audited) == {i.id for i in decidable}
    assert all(audited[i.id]["decision"] == decided[i.id].decision for i in decidable)
    assert audited[decidable[-1].id].get("bulk") is True

    # Sign-off builds the Illinois documents with the decisions.
    ready = att.get(f"/runs/{run_id}").text
    assert f"({len(decidable):,} decisions; {len(held):,} not decided here" in ready
    assert ana.post(f"/runs/{run_id}/sign-off", data={"csrf": ana_token}).status_code == 403
    r = att.post(f"/runs/{run_id}/sign-off", data={"csrf": token})
    assert r.status_code == 303, r.text
    assert ws.app.state.ws.jobs.wait_idle(300)
    assert _audit(ws, "sign_off")[-1]["decisions"] == len(decidable)
    with ws.db.read() as conn:
        status = conn.execute(sa.select(runs.c.documents_status, runs.c.documents_error)
                              .where(runs.c.id == run_id)).one()  # fmt: skip
    assert status.documents_status == "done", status.documents_error
    r = att.post(
        f"/runs/{run_id}/review/{one.id}", data={"csrf": token, "decision": "not_eligible"}
    )
    assert r.status_code == 409
    docs = ws.data_dir / "runs" / str(run_id) / "documents"
    with (docs / "overrides.csv").open(newline="") as fh:
        overrides = list(csv.DictReader(fh))
    assert len(overrides) == len(decidable)
    assert {o["status"] for o in overrides} == {"applied"}
    assert {(o["source_line"], o["decision"]) for o in overrides} == {
        (str(i.source_line), decided[i.id].decision) for i in decidable}  # fmt: skip
    exhibits = list(docs.rglob("exhibit*.csv"))
    assert exhibits
    filed = set()
    for path in exhibits:
        with path.open(newline="") as fh:
            filed |= {(r["source_file"], int(r["source_line"])) for r in csv.DictReader(fh)}
    by_line = {(Path(k[0]).name, k[1]): d for k, d in
               ((k, d) for d in det for k in [(d["source_file"], d["source_line"])])}  # fmt: skip
    still_review = {(Path(i.source_file).name, i.source_line) for i in held} | {
        (Path(i.source_file).name, i.source_line) for i in decidable
        if decided[i.id].decision == "not_eligible"}  # fmt: skip
    assert not filed & still_review
    for key in filed:  # every filed row: relief by the run, or by an attorney's decision
        assert by_line[key]["outcome"] != "review" or key in {
            (Path(i.source_file).name, i.source_line) for i in decidable
        }
    assert (Path(one.source_file).name, one.source_line) in filed
    assert any("eligible-on-motion" in str(p) for p in exhibits)
    zipped = att.get(f"/runs/{run_id}/documents.zip")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"

    # Roles as for California: no results for the administrator, no queue for the analyst.
    adm = ws.login("adm")
    assert adm.get(f"/runs/{run_id}/determinations").status_code == 403
    assert adm.get(f"/runs/{run_id}/people/{person_id}").status_code == 403
    assert ana.get(f"/runs/{run_id}/review").status_code == 403
    anonymous = ws.client().get(f"/runs/{run_id}/people/{person_id}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # No personal data in the audit log's run entries.
    done = _audit(ws, "run_done")[-1]
    assert done["outcomes"] == summary["outcomes"] and person_id not in json.dumps(done)


def test_illinois_form_marks_each_wrong_field(workspace_factory, il_exports):
    ws = workspace_factory(None, run_jobs=False)
    ana = ws.login("ana")
    token = csrf_of(ana, "/runs/new")
    r = ana.post("/runs/new", data={"csrf": token, "jurisdiction": "il", "il_policy": "il:nope",
                                    "as_of": "2024-13-01"})  # fmt: skip
    assert r.status_code == 400
    for field in ("court_files", "il_policy", "as_of"):
        assert f'id="{field}-error"' in r.text, field
    r = _post_il(ana, il_exports, files=[
        ("court_mapping", ("court.yaml", b"source: court\nfields: [oops")),
        ("isp_mapping", ("isp.yaml", b"source: court\nfields:\n  last_name: {column: LAST}\n")),
    ])  # fmt: skip
    assert r.status_code == 400
    assert 'id="court_mapping-error"' in r.text and "not valid YAML at line 2," in r.text
    assert "give the isp export&#39;s mapping" in r.text
    twice = b"source: court\nsource: isp\nfields:\n  last_name: {column: LAST}\n"
    r = _post_il(ana, il_exports, files=[("court_mapping", ("court.yaml", twice))])
    assert r.status_code == 400 and "source: given twice (first on line 1)" in r.text
    r = ana.post("/runs/new", data={"csrf": token, "jurisdiction": "xx", "as_of": "2024-01-01"})
    assert r.status_code == 400 and 'id="jurisdiction-error"' in r.text
    with ws.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar_one() == 0
    # A good form is queued as an Illinois run, its files in their folders.
    r = _post_il(ana, il_exports)
    assert r.status_code == 303
    folder = ws.data_dir / "runs" / r.headers["location"].rsplit("/", 1)[1]
    assert sorted(p.name for p in (folder / "uploads").rglob("*.csv")) == [
        "01-court_export.csv", "01-isp_export.csv"]  # fmt: skip
    with ws.db.read() as conn:
        assert conn.execute(sa.select(runs.c.jurisdiction)).scalar_one() == "il"


def test_migration_adds_jurisdiction_to_an_older_database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.migrate()
    with db.write() as conn:  # the database as revision 0001 left it before Illinois runs
        conn.execute(sa.text("ALTER TABLE runs DROP COLUMN jurisdiction"))
        conn.execute(sa.text("ALTER TABLE review_items DROP COLUMN not_decidable"))
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
        conn.execute(sa.text(
            "INSERT INTO runs (created_by, created_at, county, as_of, policy_label, policy_file, "
            "inputs, status, stage) VALUES ('ana', '2020-07-01', 'ALL', '2020-07-01', 'p', "
            "'policy.yaml', '[]', 'done', 'Done')"))  # fmt: skip
    db.migrate()
    with db.read() as conn:
        assert conn.execute(sa.select(runs.c.jurisdiction)).scalar_one() == "ca"
        columns = {c["name"] for c in sa.inspect(conn).get_columns("review_items")}
        assert "not_decidable" in columns
    db.dispose()
