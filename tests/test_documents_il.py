"""`clearslate documents` on an Illinois run: the State's Attorney's motion to vacate and expunge
per court and deadline tier, the proposed order, the exhibit, and the clerk's notice letters to
the last known address in the records. The run folders are written here by hand, to the
contract of sources/il_canonical.py (fictional people only)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from clearslate.outputs.files import sha256_file
from clearslate.sources.il_canonical import IL_DETERMINATION_COLUMNS, IL_OUTCOMES
from test_documents import cli, flat, read_csv
from test_documents import pdf_pages as pdf_text

OFFICE = """\
office_name: Cook County State's Attorney's Office
attorney_name: Pat Q. Example
attorney_title: Assistant State's Attorney
bar_number: 6312345
address: [50 West Washington Street, "Chicago, IL 60602"]
phone: (312) 555-0100
district_attorney: Kim Example
contact:
  name: Clerk of the Circuit Court of Cook County
  phone: (312) 555-0199
"""
COOK = "CIRCUIT COURT OF COOK COUNTY"
WILL = "CIRCUIT COURT OF WILL COUNTY"
TIER_DATES = {"2013-2019": "2021-01-01", "2000-2012": "2023-01-01", "before-2000": "2025-01-01"}

# person, case, record date, tier, court, outcome, street, city, zip, grams, class
ROWS = [
    ("P1", "2016CR000101", "2016-03-02", "2013-2019", COOK, "vacate_and_expunge",
     "123 north main street", "Chicago", "60601", 10.0, "A"),
    ("P1", "2016CR000101", "2016-03-02", "2013-2019", COOK, "vacate_and_expunge",
     "123 north main street", "Chicago", "60601", 5.0, "B"),
    ("P2", "2005CR000202", "2005-07-09", "2000-2012", COOK, "vacate_and_expunge",
     "45 West Elm Avenue Apt 3", "Evanston", "60201", 20.0, "A"),
    ("P3", "2017CR000303", "2017-01-05", "2013-2019", COOK, "eligible_on_motion",
     "9 Oak St", "Chicago", "60614", 100.0, "4"),
    ("P4", "2018CR000404", "2018-05-05", "2013-2019", COOK, "review",
     "77 Pine St", "Chicago", "60614", None, "A"),
    ("P5", "2014CR000505", "2014-02-02", "2013-2019", COOK, "not_eligible",
     "5 Birch St", "Chicago", "60614", 800.0, "3"),
    ("P6", "2015CR000606", "2015-06-06", "2013-2019", COOK, "vacate_and_expunge",
     "TRANSIENT", "Chicago", "60614", 2.0, "B"),
    ("P7", "1998CR000707", "1998-08-08", "before-2000", COOK, "vacate_and_expunge",
     "1 Old Rd", "Joliet", "60431", 3.0, "C"),
    ("P7", "2012CR000708", "2012-12-12", "2000-2012", COOK, "vacate_and_expunge",
     "200 New Rd", "Joliet", "60432", 4.0, "A"),
    ("P8", "2019CR000808", "2019-01-01", "2013-2019", WILL, "vacate_and_expunge",
     "300 Maple Ln", "Joliet", "60435", 1.0, "B"),
    ("P9", "2016CR000909", "2016-09-09", "2013-2019", COOK, "expunge_arrest",
     "400 Cedar Ct", "Chicago", "60614", 1.0, None),
    # state-police rows (no court): the twin of P1's first conviction, and one of its own
    ("P1", "", "2016-03-02", "2013-2019", "", "vacate_and_expunge",
     "123 north main street", "Chicago", "60601", 10.0, "A"),
    ("P10", "", "2014-04-04", "2013-2019", "", "vacate_and_expunge",
     "500 Spruce St", "Chicago", "60614", 1.0, "B"),
]  # fmt: skip
ISP_TWIN, ISP_OWN = len(ROWS), len(ROWS) + 1  # their record ids: court:0:N


def write_il_run(folder: Path) -> Path:
    """A finished Illinois run as the law writes it: determinations.csv + manifest.json."""
    folder.mkdir(parents=True)
    columns = [c[0] for c in IL_DETERMINATION_COLUMNS]
    with (folder / "determinations.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        for i, (
            pid,
            case,
            rdate,
            tier,
            court,
            outcome,
            street,
            city,
            zip_,
            grams,
            cls,
        ) in enumerate(ROWS, start=2):
            assert outcome in IL_OUTCOMES
            section = "5" if pid == "P3" else "4"
            county = court.split(" OF ")[1].removesuffix(" COUNTY") if court else "COOK"
            w.writerow(
                {
                    "person_id": pid, "record_id": f"court:0:{i}",
                    "source": "court" if court else "isp",
                    "source_file": "court_export.csv", "source_line": i, "case_number": case,
                    "charge_seq": 1, "last_name": f"LAST{pid}", "first_name": "ALEX",
                    "middle_name": "Q" if pid == "P1" else "", "name_suffix": "JR" if pid == "P2" else "",
                    "dob": "1990-04-0" + pid[1], "sid": f"IL{pid}", "statute_raw": f"720 ILCS 550/{section}(a)",
                    "offense_class": cls or "", "grams": grams if grams is not None else "",
                    "attempt": "false", "disposition": "convicted", "disposition_raw": "GUILTY",
                    "disposition_date": rdate, "offense_date": rdate, "arrest_date": rdate,
                    "agency": "CHICAGO PD", "county": county,
                    "court": court, "fingerprinted": "true", "street": street, "city": city,
                    "state": "IL", "zip": zip_, "link_status": "linked",
                    "statute": f"il:720-550:{section}:a", "grams_inferred": "false",
                    "track": "conviction", "record_date": rdate, "tier": tier,
                    "deadline": TIER_DATES[tier], "outcome": outcome,
                    "review_reason": "missing_grams" if outcome == "review" else "",
                    "rule_id": f"il.crta.{outcome}", "citation": "20 ILCS 2630/5.2(i)",
                    "facts": "{}",
                }
            )  # fmt: skip
    return write_manifest(folder)


def write_manifest(folder: Path) -> Path:
    """The run's manifest.json, listing its determinations.csv as a run does."""
    det = folder / "determinations.csv"
    listed = {"file": det.name, "size": det.stat().st_size, "sha256": sha256_file(det)}
    manifest = {"jurisdiction": "il", "as_of": "2020-10-01", "law_version": "il-crta-test"}
    (folder / "manifest.json").write_text(json.dumps({**manifest, "outputs": [listed]}))
    return folder


@pytest.fixture(scope="module")
def il(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("il")
    write_il_run(d / "run")
    (d / "office.yaml").write_text(OFFICE)
    code, out = cli(str(d / "run"), "--out", str(d / "out"), "--office", str(d / "office.yaml"),
                    "--jobs", "1")  # fmt: skip
    assert code == 0, out
    return d


def rows_with(outcome: str) -> set[str]:
    return {r[1] for r in ROWS if r[5] == outcome}


def test_every_vacated_conviction_is_in_exactly_one_exhibit_per_court_and_tier(il: Path) -> None:
    out = il / "out"
    folders = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("court/*/*/*.csv"))
    assert folders == [
        "court/circuit-court-of-cook-county/vacate-and-expunge-2000-2012",
        "court/circuit-court-of-cook-county/vacate-and-expunge-2013-2019",
        "court/circuit-court-of-cook-county/vacate-and-expunge-before-2000",
        "court/circuit-court-of-will-county/vacate-and-expunge-2013-2019",
    ]
    listed: Counter[str] = Counter()
    for folder in folders:
        rows = read_csv(out / folder / "exhibit.csv")
        assert {r["tier"] for r in rows} == {folder.rsplit("expunge-", 1)[1]}
        listed.update(r["record_id"] for r in rows)
        for paper in ("motion", "order"):
            pages = pdf_text(out / folder / f"{paper}.pdf")
            cover = next(i for i, p in enumerate(pages) if flat(p).startswith("EXHIBIT A"))
            table = "\n".join(pages[cover + 1 :])
            assert "No. Case number Name Date of birth Statute Class Disposition" in table
            for r in rows:
                assert r["case_number"] in table and r["name"] in table
    expected = Counter(
        f"court:0:{i}" for i, r in enumerate(ROWS, 2) if r[5] == "vacate_and_expunge"
    )
    # the state police's twin of a court record is left out: each conviction once
    assert listed == expected - Counter([f"court:0:{ISP_TWIN}"])
    cook = read_csv(out / folders[1] / "exhibit.csv")
    assert [r["case_number"] for r in cook if r["record_id"] == f"court:0:{ISP_OWN}"] == [""]
    summary = json.loads((out / "documents_summary.json").read_text())
    # newest records first within a court (the statutory order of the deadlines)
    cook = [g["track"] for g in summary["court_documents"] if "COOK" in g["court"]]
    assert cook == ["2013-2019", "2000-2012", "before-2000"]


def test_review_not_eligible_arrest_and_on_motion_stay_out(il: Path) -> None:
    out = il / "out"
    text = " ".join(p.read_text() for p in out.glob("court/*/*/exhibit.csv"))
    for outcome in ("review", "not_eligible", "expunge_arrest", "eligible_on_motion"):
        for case in rows_with(outcome):
            assert case not in text, outcome
    mailed = {r["subject_id"] for r in read_csv(out / "mailing_manifest.csv")}
    assert not mailed & {"P3", "P4", "P5", "P9"}


def test_the_motion_is_the_states_attorneys_illinois_paper(il: Path) -> None:
    folder = il / "out/court/circuit-court-of-cook-county/vacate-and-expunge-2013-2019"
    motion = flat("\n".join(pdf_text(folder / "motion.pdf")))
    for text in ("IN THE CIRCUIT COURT OF COOK COUNTY, ILLINOIS", "THE PEOPLE OF THE STATE OF",
                 "PEOPLE'S MOTION TO VACATE AND EXPUNGE CANNABIS CONVICTIONS",
                 "Pat Q. Example (ARDC No. 6312345)", "Kim Example, State's Attorney",
                 "720 ILCS 550/4", "20 ILCS 2630/5.2(i)", "725 ILCS 120/3(c)",
                 "records of 2013-2019", "Case No.: See Exhibit A"):  # fmt: skip
        assert text in motion, text
    assert "Health" not in motion and "California" not in motion
    first = pdf_text(folder / "motion.pdf")[0]
    assert not re.search(r"^28$", first, re.M)  # no numbered lines on Illinois papers
    order = flat("\n".join(pdf_text(folder / "order.pdf")))
    assert "IT IS ORDERED" in order and "is vacated" in order and "are expunged" in order
    assert "A copy of Exhibit A is attached to this order" in order


def test_the_clerks_letters_go_to_the_last_known_address(il: Path) -> None:
    out = il / "out"
    manifest = read_csv(out / "mailing_manifest.csv")
    exceptions = read_csv(out / "exceptions.csv")
    with_relief = {r[0] for r in ROWS if r[5] == "vacate_and_expunge"}
    assert sorted(r["subject_id"] for r in manifest) == sorted(with_relief - {"P6"})
    assert [(e["subject_id"], e["reason_code"]) for e in exceptions] == [("P6", "not_mailable")]
    by_id = {r["subject_id"]: r for r in manifest}
    assert by_id["P1"]["delivery_line_1"] == "123 N MAIN ST"  # Publication 28
    assert by_id["P7"]["delivery_line_1"] == "200 NEW RD"  # the newest record's address
    for r in manifest:
        pages = pdf_text(out / r["batch_file"])
        start = int(r["first_page"]) - 1
        letter = flat("\n".join(pages[start : start + int(r["pages"])]))
        assert f"Letter {r['letter_id']}" in letter
        assert "vacated and expunged" in letter and "anuló y borró" in letter
        assert "Clerk of the Circuit Court of Cook County" in letter
        for row in ROWS:
            if row[0] == r["subject_id"] and row[5] == "vacate_and_expunge":
                assert f"case {row[1]}" in letter and f"caso {row[1]}" in letter
    assert int(by_id["P1"]["dismissed"]) == 2  # the first kind of relief: vacated


def test_on_motion_convictions_only_when_asked(il: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, output = cli(str(il / "run"), "--out", str(out), "--office", str(il / "office.yaml"),
                       "--include-on-motion", "--jobs", "1")  # fmt: skip
    assert code == 0, output
    folder = out / "court/circuit-court-of-cook-county/eligible-on-motion-2013-2019"
    assert [r["case_number"] for r in read_csv(folder / "exhibit.csv")] == ["2017CR000303"]
    assert "more than 30 grams" in flat("\n".join(pdf_text(folder / "motion.pdf")))


def test_addresses_and_decisions_override_as_in_california(il: Path, tmp_path: Path) -> None:
    addresses = tmp_path / "addresses.csv"
    addresses.write_text(
        "subject_id,address_line_1,city,state,zip,language\n"
        "P6,10 Lake Shore Drive,Chicago,IL,60611,es\n"
    )
    decisions = tmp_path / "decisions.csv"
    review_line = next(i for i, r in enumerate(ROWS, 2) if r[5] == "review")
    decisions.write_text(
        "person_id,record_id,decision,reviewer\n"
        f"P4,court:0:{review_line},vacate_and_expunge,A. Reviewer\n"
        "P1,court:0:2,dismiss,A. Reviewer\n"
    )
    out = tmp_path / "o"
    code, output = cli(str(il / "run"), "--out", str(out), "--office", str(il / "office.yaml"),
                       "--addresses", str(addresses), "--decisions", str(decisions),
                       "--jobs", "1")  # fmt: skip
    assert code == 0, output
    manifest = read_csv(out / "mailing_manifest.csv")
    # the address file replaces the records' addresses: only P6 is in it
    assert [(r["subject_id"], r["language"]) for r in manifest] == [("P6", "es")]
    exceptions = {e["subject_id"]: e["reason_code"] for e in read_csv(out / "exceptions.csv")}
    assert exceptions["P4"] == exceptions["P1"] == "no_address"  # P4: relief by the decision
    overrides = read_csv(out / "overrides.csv")
    assert [o["status"] for o in overrides] == ["applied", "error"]
    assert "vacate_and_expunge, eligible_on_motion or not_eligible" in overrides[1]["error"]
    rows = read_csv(
        out / "court/circuit-court-of-cook-county/vacate-and-expunge-2013-2019/exhibit.csv"
    )
    reviewed = [r for r in rows if r["case_number"] == "2018CR000404"]
    assert len(reviewed) == 1 and reviewed[0]["decided_by"].startswith("decision line 2")


def test_a_decision_to_vacate_a_record_of_no_tier_is_refused_on_its_row(
    il: Path, tmp_path: Path
) -> None:
    """A record whose date falls in no deadline tier is a review item (il.crta.review.no_tier);
    a reviewer's "vacate" for it made a motion group of no tier, whose exhibit matched no row:
    documents stopped with "internal check failed". Motions are filed per tier, so the row is
    refused (file, line, column, reason) and every other row still applies."""
    run = tmp_path / "run"
    shutil.copytree(il / "run", run)
    det = run / "determinations.csv"
    with det.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    review = next(r for r in rows if r["outcome"] == "review")
    review.update(tier="", deadline="", rule_id="il.crta.review.no_tier")
    with det.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    write_manifest(run)  # a run that decided so
    not_eligible = next(r for r in rows if r["outcome"] == "not_eligible")
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(
        "person_id,record_id,decision,reviewer\n"
        f"{review['person_id']},{review['record_id']},vacate_and_expunge,A. Reviewer\n"
        f"{not_eligible['person_id']},{not_eligible['record_id']},vacate_and_expunge,A. Reviewer\n"
    )
    out = tmp_path / "o"
    code, output = cli(str(run), "--out", str(out), "--office", str(il / "office.yaml"),
                       "--decisions", str(decisions), "--jobs", "1")  # fmt: skip
    assert code == 0, output
    assert "1 row(s) of decisions.csv were not applied" in " ".join(output.split())
    overrides = read_csv(out / "overrides.csv")
    assert [o["status"] for o in overrides] == ["error", "applied"]
    assert "falls in no deadline tier" in overrides[0]["error"]
    errors = read_csv(out / "input_errors.csv")
    assert [(e["source_file"], e["line"], e["column"]) for e in errors] == [
        ("decisions.csv", "2", "decision")
    ]
    listed = {r["record_id"] for p in out.glob("court/*/*/exhibit.csv") for r in read_csv(p)}
    assert review["record_id"] not in listed and not_eligible["record_id"] in listed


def test_an_unknown_jurisdiction_is_refused(il: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(il / "run", run)
    (run / "manifest.json").write_text(json.dumps({"jurisdiction": "zz", "as_of": "2020-10-01"}))
    code, output = cli(str(run), "--out", str(tmp_path / "o"))
    assert code == 1 and "jurisdiction 'zz'" in output and "Traceback" not in output


def test_illinois_pages_render(il: Path, tmp_path: Path) -> None:
    """The PDFs render with poppler (pdftoppm); the pages were also looked at by eye."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    folder = il / "out/court/circuit-court-of-cook-county/vacate-and-expunge-2013-2019"
    for pdf in (folder / "motion.pdf", il / "out/letters/letters_0001.pdf"):
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / pdf.stem)], check=True, capture_output=True)  # fmt: skip
        (png,) = tmp_path.glob(f"{pdf.stem}*.png")
        assert png.stat().st_size > 2000


def test_the_office_can_replace_an_illinois_template(il: Path, tmp_path: Path) -> None:
    mine = tmp_path / "templates"
    mine.mkdir()
    shipped = Path(__file__).parents[1] / "src/clearslate/documents/templates/il/letter_en.j2"
    text = shipped.read_text(encoding="utf-8")
    (mine / "letter_en.j2").write_text(text.replace("Dear ", "Hello "), encoding="utf-8")
    out = tmp_path / "o"
    code, output = cli(str(il / "run"), "--out", str(out), "--office", str(il / "office.yaml"),
                       "--templates", str(mine), "--jobs", "1")  # fmt: skip
    assert code == 0, output
    letters = flat("\n".join(pdf_text(out / "letters/letters_0001.pdf")))
    assert "Hello " in letters and "Dear " not in letters
    assert "anuló y borró" in letters  # the Spanish letter is still the shipped one
