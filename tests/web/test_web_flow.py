"""The whole flow through the pages: upload and run, results, person, review, sign-off,
documents; and the decisions file the documents were built from."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from conftest import csrf_of, start_run

FORMULA = '=HYPERLINK("http://example.invalid","checked")'


def test_run_review_sign_off_and_documents(workspace, research_file):
    ana = workspace.login("ana")
    run_id = start_run(ana, research_file)
    assert workspace.app.state.ws.jobs.wait_idle(300)
    progress = ana.get(f"/runs/{run_id}/progress").json()
    assert progress["status"] == "done", progress
    page = ana.get(f"/runs/{run_id}")
    assert "Outcomes" in page.text and "Impact report" in page.text
    report = ana.get(f"/runs/{run_id}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]

    table = ana.get(f"/runs/{run_id}/determinations?outcome=review")
    assert table.status_code == 200
    summary = json.loads(
        (workspace.data_dir / "runs" / str(run_id) / "results" / "summary.json").read_text()
    )
    review_total = summary["outcomes"]["review"]
    assert f"{review_total:,} determinations" in table.text

    # A person's page explains each decision from the run's kept rows: the rule that
    # decided it, as determinations.csv has it.
    with (
        workspace.data_dir / "runs" / str(run_id) / "results" / "determinations.csv"
    ).open() as fh:
        decided = next(csv.DictReader(fh))
    person = ana.get(f"/runs/{run_id}/people/{decided['subject_id']}")
    assert person.status_code == 200
    assert "Why: the decision tree" in person.text
    assert f"<code>{decided['rule_id']}</code>" in person.text

    att = workspace.login("att")
    queue = att.get(f"/runs/{run_id}/review")
    assert f"{review_total:,} open" in queue.text
    token = csrf_of(att, f"/runs/{run_id}/review")
    # One by one for the first item, then the rest in bulk.
    first = int(queue.text.split(f"/runs/{run_id}/review/", 1)[1].split('"', 1)[0])
    r = att.post(
        f"/runs/{run_id}/review/{first}",
        data={"csrf": token, "decision": "reduce", "note": FORMULA},
    )
    assert r.status_code == 303
    r = att.post(f"/runs/{run_id}/sign-off", data={"csrf": token})
    assert r.status_code == 409  # items still open
    r = att.post(f"/runs/{run_id}/review/bulk", data={"csrf": token, "status": "open", "reason": "",
                 "q": "", "count": str(review_total - 1), "decision": "dismiss", "note": "bulk"})  # fmt: skip
    assert r.status_code == 303, r.text
    exported = att.get(f"/runs/{run_id}/decisions.csv").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == review_total
    assert [r["note"] for r in rows if r["decision"] == "reduce"] == ["'" + FORMULA]
    r = att.post(f"/runs/{run_id}/sign-off", data={"csrf": token})
    assert r.status_code == 303
    assert workspace.app.state.ws.jobs.wait_idle(300)
    page = att.get(f"/runs/{run_id}")
    assert "Download all documents" in page.text, page.text
    z = att.get(f"/runs/{run_id}/documents.zip")
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "documents_manifest.json" in names
    overrides = zipfile.ZipFile(io.BytesIO(z.content)).read("overrides.csv").decode()
    listed = list(csv.DictReader(io.StringIO(overrides)))
    assert len(listed) == review_total and {r["status"] for r in listed} == {"applied"}
    # a note a spreadsheet would run as a formula is text in every table it reaches
    assert [r["note"] for r in listed if r["decision"] == "reduce"] == ["'" + FORMULA]


def test_office_policy_form_marks_each_wrong_field(workspace_factory):
    from clearslate.web import policy_form
    from conftest import csrf_of

    ws = workspace_factory(None, run_jobs=False)
    adm = ws.login("adm")
    page = adm.get("/admin/policies/new?from=dismiss-all")
    assert 'value="dismiss-all-office"' in page.text
    token = csrf_of(adm, "/admin/policies")
    form = {k: v for k, v in _form_values("dismiss-all").items() if v is not False}
    bad = form | {"csrf": token, "dismiss": "11357, 99999", "age_threshold": "ten",
                  "misdemeanors": "route", "flow": "- when: [x"}  # fmt: skip
    r = adm.post("/admin/policies/new", data=bad)
    assert r.status_code == 400
    for field in ("dismiss", "age_threshold", "route_to", "flow"):
        assert f'id="{field}-error"' in r.text, field
    assert "99999&#34; is not a Prop 64 section" in r.text
    good = form | {"csrf": token, "name": "our-policy", "reduce": "11359, 11360",
                   "dismiss": "11357, 11358"}  # fmt: skip
    r = adm.post("/admin/policies/new", data=good)
    assert r.status_code == 303, r.text
    with ws.db.read() as conn:
        import sqlalchemy as sa

        from clearslate.web.db import policies

        text = conn.execute(sa.select(policies.c.text)).scalar_one()
    saved = policy_form.load_text(text)  # what `clearslate run --policy` reads
    assert saved.name == "our-policy" and saved.reduce == ("11359", "11360")
    ana = ws.login("ana")
    assert "our-policy (this office)" in ana.get("/runs/new").text


def _form_values(shipped: str) -> dict:
    from clearslate.policy import SHIPPED_POLICIES, load_policy
    from clearslate.web.policy_form import form_from_policy

    values = form_from_policy(load_policy(SHIPPED_POLICIES[shipped])).values
    return {k: ("on" if v is True else v) for k, v in values.items()}
