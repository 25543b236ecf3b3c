"""`clearslate documents`: court documents, notice letters, reviewers' decisions, addresses,
templates and the office's own form, on a generated run (fictional people only)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from clearslate import database
from clearslate.cli_documents import documents, generate_addresses
from clearslate.documents.addresses import Address, Problem, normalise, read_address_file
from clearslate.documents.layout import parse_markup
from clearslate.documents.office import OfficeError, load_office
from clearslate.policy import load_policy
from clearslate.run import RunOptions, run
from clearslate.synth import generate_doj_file
from clearslate.synth.addresses import generate_addresses as make_addresses

runner = CliRunner()
OFFICE = """\
office_name: Los Angeles County District Attorney's Office
attorney_name: Jane Q. Prosecutor
bar_number: 123456
address:
  - 211 West Temple Street, Suite 1200
  - Los Angeles, CA 90012
phone: (213) 555-0100
email: prop64@da.example.gov
contact:
  phone: (213) 555-0199
"""


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(documents)
    app.command("generate-addresses")(generate_addresses)
    return app


APP = _app()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(APP, ["documents", *args])
    return result.exit_code, result.output


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def pdf_pages(path: Path) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(str(path), strict=True).pages]


def flat(text: str) -> str:
    """Text with its line breaks as spaces (a title may wrap)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run with every outcome (dismiss, reduce, not_eligible, review), an office file and a
    synthetic address file."""
    d = tmp_path_factory.mktemp("docs")
    doj = d / "la.csv"
    generate_doj_file(doj, county="LOS ANGELES", rows=3000, seed=5)
    policy = d / "policy.yaml"
    policy.write_text('name: test\ndismiss: ["11357", "11358"]\nreduce: ["11359", "11360"]\n')
    run(
        RunOptions(
            inputs=[doj],
            outputs=d / "run",
            counties=["LOS ANGELES"],
            as_of=dt.date(2020, 7, 1),
            policy=load_policy(policy),
            gogen_bundle=False,
        )
    )
    (d / "office.yaml").write_text(OFFICE)
    make_addresses(d / "run", d / "addresses.csv", seed=2)
    return d


@pytest.fixture(scope="module")
def docs(base: Path) -> Path:
    code, out = cli(
        str(base / "run"), "--out", str(base / "out"), "--office", str(base / "office.yaml"),
        "--addresses", str(base / "addresses.csv"), "--batch-size", "40", "--jobs", "1",
    )  # fmt: skip
    assert code == 0, out
    return base / "out"


def determinations(base: Path) -> list[dict[str, str]]:
    return read_csv(base / "run" / "determinations.csv")


def exhibits(out: Path) -> list[Path]:
    return sorted(out.glob("court/*/*/exhibit.csv"))


def key(r: dict[str, str]) -> tuple[str, str, str]:
    return (r["subject_id"], r["cnt_order"], r["source_line"])


# ---------------------------------------------------------------------------------------------
# Court documents


def test_every_eligible_conviction_is_in_exactly_one_exhibit(base: Path, docs: Path) -> None:
    dets = determinations(base)
    assert {d["outcome"] for d in dets} == {"dismiss", "reduce", "not_eligible", "review"}
    eligible = Counter(key(d) for d in dets if d["outcome"] in ("dismiss", "reduce"))
    listed: Counter[tuple[str, str, str]] = Counter()
    for path in exhibits(docs):
        rows = read_csv(path)
        listed.update(key(r) for r in rows)
        # the motion and the order each carry the exhibit: a cover sheet, then the same rows,
        # numbered, in the same order, with the title and headings repeated on every page
        for paper in ("motion", "order"):
            all_pages = pdf_pages(path.with_name(f"{paper}.pdf"))
            cover = next(i for i, p in enumerate(all_pages) if flat(p).startswith("EXHIBIT A"))
            pages = all_pages[cover + 1 :]
            assert pages and "IT IS ORDERED" not in "".join(pages)
            text = "\n".join(pages)
            numbered = re.findall(r"^(\d+) (\S+) ", text, re.M)
            assert [int(n) for n, _ in numbered] == list(range(1, len(rows) + 1))
            for (_n, case), r in zip(numbered, rows, strict=True):
                assert case == (r["case_number"] or "(none)")
                assert r["name"] in text
            assert all("No. Case number Count Name Date of birth CII" in p for p in pages)
            assert all(f"Page {i} of {len(pages)}" in p for i, p in enumerate(pages, 1))
    assert listed == eligible
    assert max(listed.values()) == 1


def test_no_review_or_not_eligible_conviction_goes_out(base: Path, docs: Path) -> None:
    dets = determinations(base)
    held = {key(d) for d in dets if d["outcome"] in ("review", "not_eligible")}
    assert held
    for path in exhibits(docs):
        assert not held & {key(r) for r in read_csv(path)}
    only_held = {d["subject_id"] for d in dets} - {
        d["subject_id"] for d in dets if d["outcome"] in ("dismiss", "reduce")
    }
    mailed = {r["subject_id"] for r in read_csv(docs / "mailing_manifest.csv")}
    assert only_held and not only_held & mailed


def test_groups_by_court_and_relief_with_their_citations(base: Path, docs: Path) -> None:
    summary = json.loads((docs / "documents_summary.json").read_text())
    folders = {g["folder"]: g for g in summary["court_documents"]}
    assert "court/casc-los-angeles/dismiss" in folders
    assert "court/casc-los-angeles/reduce" in folders
    reduce = folders["court/casc-los-angeles/reduce"]
    for path in exhibits(docs):
        relief = {r["relief"] for r in read_csv(path)}
        assert len(relief) == 1
    motion = flat("\n".join(pdf_pages(docs / reduce["folder"] / "motion.pdf")))
    assert "PEOPLE'S MOTION TO REDESIGNATE CANNABIS CONVICTIONS" in motion
    assert "11361.8(e), (f)" in motion
    for g in summary["court_documents"]:
        if g["track"] == "serving":
            text = flat("\n".join(pdf_pages(docs / g["folder"] / "motion.pdf")))
            assert "RECALL SENTENCES" in text and "11361.8(a)-(c)" in text


def test_motion_and_order_are_on_pleading_paper(docs: Path) -> None:
    folder = docs / "court" / "casc-los-angeles" / "dismiss"
    for name, title in (("motion", "PEOPLE'S MOTION TO DISMISS AND SEAL"),
                        ("order", "[PROPOSED] ORDER DISMISSING AND SEALING")):  # fmt: skip
        pages = pdf_pages(folder / f"{name}.pdf")
        summary = json.loads((docs / "documents_summary.json").read_text())
        (entry,) = [g for g in summary["court_documents"] if g["folder"].endswith("les/dismiss")]
        assert len(pages) == entry[f"{name}_pages"] + 1 + entry["exhibit_pages"]
        pages = pages[: entry[f"{name}_pages"]]  # the pleading; then the exhibit (above)
        first = flat(pages[0])
        for text in ("Jane Q. Prosecutor (SBN 123456)", "Los Angeles County District Attorney's",
                     "Telephone: (213) 555-0100", "SUPERIOR COURT OF THE STATE OF CALIFORNIA",
                     "FOR THE COUNTY OF LOS ANGELES", "THE PEOPLE OF THE STATE OF",
                     "Plaintiff,", "Defendants.", "Case No.: See Exhibit A", title):  # fmt: skip
            assert text in first, (name, text)
        for i, page in enumerate(pages, start=1):
            numbers = [int(n) for n in re.findall(r"^(\d{1,2})$", page, re.M)]
            assert set(range(1, 29)) <= set(numbers), (name, i)
            assert f"- {i} -" in page
    order = flat("\n".join(pdf_pages(folder / "order.pdf")))
    assert "IT IS ORDERED" in order and "Judge of the Superior Court" in order
    assert "11590" in order


def test_exhibit_csv_and_xlsx_agree(docs: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = docs / "court" / "casc-los-angeles" / "reduce" / "exhibit.csv"
    rows = read_csv(path)
    wb = openpyxl.load_workbook(path.with_suffix(".xlsx"), read_only=True)
    ws = wb.worksheets[0]
    sheet = list(ws.iter_rows(values_only=True))
    assert list(sheet[0]) == list(rows[0].keys())
    assert len(sheet) == len(rows) + 1
    for r, x in zip(rows, sheet[1:], strict=True):
        assert str(x[0]) == r["row"] and (x[1] or "") == r["case_number"]
        assert x[3] == r["name"]
        date = x[9]
        assert date is None or date.date().isoformat() == r["disposition_date"]
    wb.close()


# ---------------------------------------------------------------------------------------------
# Letters


def test_every_person_with_an_address_has_exactly_one_letter(base: Path, docs: Path) -> None:
    dets = determinations(base)
    with_relief = {d["subject_id"] for d in dets if d["outcome"] in ("dismiss", "reduce")}
    manifest = read_csv(docs / "mailing_manifest.csv")
    exceptions = read_csv(docs / "exceptions.csv")
    mailed = [r["subject_id"] for r in manifest]
    assert len(mailed) == len(set(mailed))
    assert set(mailed) | {e["subject_id"] for e in exceptions} == with_relief
    assert not set(mailed) & {e["subject_id"] for e in exceptions}
    assert {e["reason_code"] for e in exceptions} >= {"no_address", "deceased"}
    # read every batch: each letter's first page is where the manifest says, once
    firsts: Counter[str] = Counter()
    for batch in sorted({r["batch_file"] for r in manifest}):
        rows = [r for r in manifest if r["batch_file"] == batch]
        assert len(rows) <= 40
        pages = pdf_pages(docs / batch)
        assert sum(int(r["pages"]) for r in rows) == len(pages)
        for r in rows:
            first = pages[int(r["first_page"]) - 1]
            assert f"Letter {r['letter_id']} \u00b7 Page 1 of {r['pages']}" in first
            assert r["recipient"] in first and r["delivery_line_1"] in first
            start = int(r["first_page"]) - 1
            letter = "\n".join(pages[start : start + int(r["pages"])])
            assert "Good news about your record" in letter
            assert "Buenas noticias sobre su récord" in letter
        for p in pages:  # the first pages the PDFs hold, whatever the manifest says
            for letter_id in re.findall(r"Letter (\d{4}-\d{4}) \u00b7 Page 1 of", p):
                firsts[letter_id] += 1
    assert dict(firsts) == dict.fromkeys((r["letter_id"] for r in manifest), 1)


def test_letters_are_in_mailing_order_and_name_each_conviction(base: Path, docs: Path) -> None:
    manifest = read_csv(docs / "mailing_manifest.csv")
    zips = [(r["zip5"], r["zip4"]) for r in manifest]
    assert zips == sorted(zips)
    dets = determinations(base)
    by_person: dict[str, list[dict[str, str]]] = {}
    for d in dets:
        if d["outcome"] in ("dismiss", "reduce"):
            by_person.setdefault(d["subject_id"], []).append(d)
    pages: dict[str, list[str]] = {}
    for r in manifest[:60]:
        if r["batch_file"] not in pages:
            pages[r["batch_file"]] = pdf_pages(docs / r["batch_file"])
        first = int(r["first_page"]) - 1
        text = flat("\n".join(pages[r["batch_file"]][first : first + int(r["pages"])]))
        for d in by_person[r["subject_id"]]:
            if d["case_number"]:
                assert f"case {d['case_number']}" in text
                assert f"caso {d['case_number']}" in text
        counted = int(r["dismissed"]) + int(r["reduced"]) + int(r["related"])
        assert counted == len(by_person[r["subject_id"]])
        if int(r["reduced"]):
            assert "Reduced to a misdemeanor" in text and "Reducida a delito menor" in text
        if int(r["dismissed"]):
            assert "you may say that you were not convicted of it" in text


def test_spanish_first_when_the_address_file_says_so(docs: Path) -> None:
    manifest = read_csv(docs / "mailing_manifest.csv")
    spanish = next(r for r in manifest if r["language"] == "es")
    first = pdf_pages(docs / spanish["batch_file"])[int(spanish["first_page"]) - 1]
    assert "Buenas noticias" in first and "Good news" not in first


def test_address_normalisation_to_publication_28() -> None:
    a = normalise("123 north main street apt 4", "", "los angeles", "California", "90012-1234")
    assert a == Address("123 N MAIN ST", "APT 4", "LOS ANGELES", "CA", "90012", "1234")
    assert a.delivery_lines() == ["123 N MAIN ST APT 4"]
    assert a.last_line == "LOS ANGELES CA 90012-1234"
    b = normalise("4500 W. Sunset Blvd., Apt. 12", "", "Los Angeles", "ca", "90027")
    assert isinstance(b, Address) and b.line1 == "4500 W SUNSET BLVD" and b.line2 == "APT 12"
    for box in ("PO Box 77", "P.O. Box 77", "post office box 77", "P O BOX #77"):
        c = normalise(box, "", "Compton", "CA", "90220")
        assert isinstance(c, Address) and c.line1 == "PO BOX 77", box
    assert normalise("Rural Route 2 Box 5", "", "X", "CA", "93501").line1 == "RR 2 BOX 5"  # type: ignore[union-attr]
    assert normalise("general delivery", "", "Pomona", "CA", "91766").line1 == "GENERAL DELIVERY"  # type: ignore[union-attr]
    for fields, code in (
        (("TRANSIENT", "", "Los Angeles", "CA", "90012"), "not_mailable"),
        (("1 Main St", "", "Los Angeles", "CA", ""), "no_zip"),
        (("1 Main St", "", "Los Angeles", "CA", "9001"), "bad_zip"),
        (("1 Main St", "", "Los Angeles", "XX", "90012"), "bad_state"),
        (("1 Main St", "", "", "CA", "90012"), "no_city"),
        (("Main Street", "", "Los Angeles", "CA", "90012"), "no_house_number"),
        (("", "", "Los Angeles", "CA", "90012"), "no_street"),
    ):
        p = normalise(*fields)
        assert isinstance(p, Problem) and p.code == code, (fields, p)


def test_an_unclosed_quote_in_the_address_file_loses_only_its_line(
    base: Path, tmp_path: Path
) -> None:
    """An unclosed quote on line 5 took every later row into one field: 1 letter went out."""
    lines = (base / "addresses.csv").read_text().splitlines(keepends=True)
    good = read_address_file(base / "addresses.csv")
    fields = lines[4].split(",")
    fields[3] = '"' + fields[3]
    lines[4] = ",".join(fields)
    bad = tmp_path / "addresses.csv"
    bad.write_text("".join(lines))
    got = read_address_file(bad)
    assert [(e.line, e.column) for e in got.errors] == [(5, "")]
    assert "never closed" in got.errors[0].reason
    assert [r.line for r in got.rows] == [r.line for r in good.rows if r.line != 5]


def test_plain_language_reading_level() -> None:
    """The English letter's wording (without names and numbers) reads at about grade 6-8
    (Flesch-Kincaid, with a plain syllable count)."""
    text = Path(__file__).parents[1] / "src/clearslate/documents/templates/letter_en.j2"
    body = re.sub(r"\{[{%#].*?[}%#]\}", " ", text.read_text(), flags=re.S)
    body = re.sub(r"^[-#|]+ ?", "", body, flags=re.M).replace("**", "")
    sentences = [s for s in re.split(r"[.!?:]+\s", body) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z']+", body)

    def syllables(word: str) -> int:
        w = word.lower().rstrip("e") or word.lower()
        return max(1, len(re.findall(r"[aeiouy]+", w)))

    grade = (
        0.39 * len(words) / len(sentences)
        + 11.8 * sum(syllables(w) for w in words) / len(words)
        - 15.59
    )
    assert grade <= 8.5, grade


# ---------------------------------------------------------------------------------------------
# Reviewers' decisions


def test_decisions_override_and_every_row_is_listed(base: Path, tmp_path: Path) -> None:
    dets = determinations(base)
    review = next(d for d in dets if d["outcome"] == "review")
    dismissed = next(d for d in dets if d["outcome"] == "dismiss")
    not_eligible = next(d for d in dets if d["outcome"] == "not_eligible")
    decisions = tmp_path / "decisions.csv"
    with decisions.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject_id", "cnt_order", "source_file", "source_line", "decision",
                    "reviewer", "note"])  # fmt: skip
        w.writerow([review["subject_id"], review["cnt_order"], "", "", "dismiss", "A. Reviewer",
                    "checked the court file"])  # fmt: skip
        w.writerow(["", "", "la.csv", dismissed["source_line"], "not_eligible", "A. Reviewer",
                    "challenged"])  # fmt: skip
        w.writerow([not_eligible["subject_id"], not_eligible["cnt_order"], "", "", "Reduce",
                    "B. Reviewer", ""])  # fmt: skip
        w.writerow(["99999999", "101002001000", "", "", "dismiss", "A. Reviewer", ""])
        w.writerow([review["subject_id"], review["cnt_order"], "", "", "maybe", "A. Reviewer", ""])
        w.writerow([review["subject_id"], review["cnt_order"], "", "", "dismiss", "", ""])
        w.writerow([review["subject_id"], review["cnt_order"], "", "", "reduce", "C. Other", ""])
    out = tmp_path / "out"
    code, output = cli(
        str(base / "run"), "--out", str(out), "--office", str(base / "office.yaml"),
        "--decisions", str(decisions), "--jobs", "1",
    )  # fmt: skip
    assert code == 0, output
    assert "4 row(s) of decisions.csv were not applied" in output
    rows = read_csv(out / "overrides.csv")
    assert [r["line"] for r in rows] == ["2", "3", "4", "5", "6", "7", "8"]
    assert [r["status"] for r in rows] == [
        "applied", "applied", "applied", "error", "error", "error", "error"
    ]  # fmt: skip
    assert rows[0]["previous_outcome"] == "review" and rows[0]["decision"] == "dismiss"
    assert "no conviction of this run" in rows[3]["error"]
    assert "line 2 already decides this conviction as dismiss" in rows[6]["error"]
    errors = read_csv(out / "input_errors.csv")
    assert [(e["line"], e["column"]) for e in errors] == [
        ("5", "cnt_order"), ("6", "decision"), ("7", "reviewer"), ("8", "decision")
    ]  # fmt: skip
    assert all(e["source_file"] == "decisions.csv" for e in errors)
    listed = {key(r): (path, r) for path in exhibits(out) for r in read_csv(path)}
    assert key(review) in listed and "dismiss" in str(listed[key(review)][0])
    assert listed[key(review)][1]["decided_by"] == "decision line 2 (A. Reviewer)"
    assert key(not_eligible) in listed and "reduce" in str(listed[key(not_eligible)][0])
    assert key(dismissed) not in listed
    summary = json.loads((out / "documents_summary.json").read_text())
    assert summary["decisions"] == {"rows": 7, "applied": 3, "confirmed": 0, "duplicate": 0,
                                    "error": 4}  # fmt: skip


def test_a_note_or_reviewer_that_a_spreadsheet_would_run_is_written_as_text(
    base: Path, tmp_path: Path
) -> None:
    """Found by the web hostile pass: a note such as =HYPERLINK(...) went into overrides.csv
    as it was, and a spreadsheet opening the documents' tables would run it."""
    dets = [d for d in determinations(base) if d["outcome"] == "review"][:3]
    notes = ['=HYPERLINK("http://example.invalid","open")', "-2 priors, see file", "plain"]
    decisions = tmp_path / "decisions.csv"
    with decisions.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["subject_id", "cnt_order", "decision", "reviewer", "note"])
        for d, note in zip(dets, notes, strict=True):
            w.writerow([d["subject_id"], d["cnt_order"], "dismiss", "@reviewer", note])
    out = tmp_path / "out"
    code, output = cli(str(base / "run"), "--out", str(out), "--decisions", str(decisions),
                       "--jobs", "1")  # fmt: skip
    assert code == 0, output
    listed = read_csv(out / "overrides.csv")
    assert [r["note"] for r in listed] == ["'" + notes[0], "'" + notes[1], "plain"]
    assert {r["reviewer"] for r in listed} == {"'@reviewer"}
    assert {r["status"] for r in listed} == {"applied"}


def test_a_decisions_file_without_its_columns_is_refused(base: Path, tmp_path: Path) -> None:
    decisions = tmp_path / "d.csv"
    decisions.write_text("subject_id,decision\n1,dismiss\n")
    code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--decisions",
                       str(decisions), "--jobs", "1")  # fmt: skip
    assert code == 1
    assert "d.csv, line 1: the decisions file needs the column(s)" in output


def test_an_unclosed_quote_rejects_its_line_and_every_later_row_applies(
    base: Path, tmp_path: Path
) -> None:
    """An unclosed quote took the rest of the file into one note: 17 decisions were lost with
    exit 0. Now only its line is rejected; a quoted note with a comma or a line break reads."""
    dets = [d for d in determinations(base) if d["outcome"] == "review"][:8]
    rows = [f"{d['subject_id']},{d['cnt_order']},not_eligible,A. Reviewer," for d in dets]
    rows[0] += '"court file, page 2"'
    rows[1] += '"two\nlines"'
    rows[2] += '"quote ""closed"" late'  # "closed" by the stray quote two rows on
    rows[4] += 'stray" quote'
    rows[5] += '"unclosed note'  # no quote after it: the file ends inside it
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("subject_id,cnt_order,decision,reviewer,note\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    code, output = cli(str(base / "run"), "--out", str(out), "--decisions", str(decisions),
                       "--jobs", "1")  # fmt: skip
    assert code == 0, output
    listed = read_csv(out / "overrides.csv")
    status = {int(r["line"]): r["status"] for r in listed}
    # the file's lines: 2, 3 and 4 (the note's line break), 5 to 10
    assert status == {2: "applied", 3: "applied", 5: "error", 6: "applied", 7: "applied",
                      8: "error", 9: "applied", 10: "applied"}  # fmt: skip
    assert [r["note"] for r in listed[:2]] == ["court file, page 2", "two\nlines"]
    errors = read_csv(out / "input_errors.csv")
    assert [(e["line"], e["column"]) for e in errors] == [("5", ""), ("8", "")]
    assert "closing quote" in errors[0]["reason"] and "never closed" in errors[1]["reason"]
    assert "6 applied, 0 confirmed, 0 duplicate, 2 rejected" in output


# ---------------------------------------------------------------------------------------------
# The office file, the run folder, the output folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (OFFICE.replace("bar_number: 123456", "bar_number: 12345678"),
         "line 3, column 13: bar_number: a bar number is 1 to 7 digits"),
        (OFFICE.replace("phone: (213) 555-0100", "phone: 555-0100"),
         "line 7, column 8: phone: a telephone number needs at least 10 digits"),
        (OFFICE + "atorney_title: Deputy\n", "atorney_title: unknown key. Did you mean "
         "'attorney_title'?"),
        (OFFICE.replace("attorney_name: Jane Q. Prosecutor\n", ""), "attorney_name: is required"),
        # misspelt: the unknown key is said first, not the "required" it leaves behind
        (OFFICE.replace("attorney_name:", "attorney_nam:"), "attorney_nam: unknown key. Did "
         "you mean 'attorney_name'? (1 more problem in this file)"),
        (OFFICE + "bar_number: 7654321\n", "bar_number: given twice (first on line 3)"),
        ("- a list\n", "the office file must be a YAML mapping"),
        ("office_name: [unclosed\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_the_office_file_is_checked(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(text)
    with pytest.raises(OfficeError) as exc:
        load_office(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_no_office_file_gives_marked_drafts(base: Path, tmp_path: Path) -> None:
    code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--jobs", "1")
    assert code == 0, output
    assert "placeholders" in output
    first = pdf_pages(next((tmp_path / "o").glob("court/*/dismiss/motion.pdf")))[0]
    assert "[OFFICE NAME]" in first
    assert not list((tmp_path / "o").glob("letters/*.pdf"))  # no addresses, no letters


def test_run_level_errors_exit_1(base: Path, tmp_path: Path) -> None:
    code, output = cli(str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 1 and "holds no complete run (no manifest.json)" in output
    code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--form",
                       str(base / "office.yaml"))  # fmt: skip
    assert code == 1 and "--form and --form-map go together" in output


def test_a_run_edited_after_the_run_is_refused_and_leaves_no_out_folder(
    base: Path, tmp_path: Path
) -> None:
    """The refusal came after `--out` was made: an empty folder was left behind. A folder
    that was there before is the office's own and stays."""
    edited = tmp_path / "run"
    shutil.copytree(base / "run", edited)
    determinations = edited / "determinations.csv"
    determinations.write_text("\n".join(determinations.read_text().splitlines()[:5]) + "\n")
    (edited / "determinations.parquet").unlink(missing_ok=True)
    out = tmp_path / "o"
    code, output = cli(str(edited), "--out", str(out), "--jobs", "1")
    assert code == 1 and "determinations.csv: changed since the run" in output, output
    assert not out.exists()
    out.mkdir()
    code, output = cli(str(edited), "--out", str(out), "--jobs", "1")
    assert code == 1 and out.is_dir()


def test_an_empty_out_and_more_jobs_than_cpus_are_refused(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out ""` wrote every document into the current folder; `--jobs 1000` started a
    thousand processes."""
    monkeypatch.chdir(tmp_path)
    code, output = cli(str(base / "run"), "--out", "", "--jobs", "1")
    assert code == 1 and "--out is empty" in output
    assert list(tmp_path.iterdir()) == []
    cpus = database.usable_cpus()  # as the bound counts them (the affinity)
    code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--jobs", str(cpus + 1))
    assert code == 1
    assert f"--jobs {cpus + 1}: this machine has {cpus} CPUs; give at most {cpus}." in output
    assert not (tmp_path / "o").exists()


def test_earlier_documents_are_not_replaced_without_force(base: Path, docs: Path) -> None:
    code, output = cli(str(base / "run"), "--out", str(docs), "--jobs", "1")
    assert code == 1 and "add --force" in output


# ---------------------------------------------------------------------------------------------
# Templates


def test_templates_can_be_overridden_by_file_name(base: Path, tmp_path: Path) -> None:
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "letter_en.j2").write_text(
        "# Notice for {{ person.name }}\n\nYour {{ counts.total }} conviction(s): "
        "{% for c in convictions %}{{ c.code_section }} {% endfor %}\n"
    )
    (tdir / "motion.j2").write_text(
        "---\ntitle: A CUSTOM MOTION FOR {{ court }}\n---\nCustom wording, "
        "{{ counts.convictions }} convictions.\n"
    )
    out = tmp_path / "o"
    code, output = cli(
        str(base / "run"), "--out", str(out), "--office", str(base / "office.yaml"),
        "--addresses", str(base / "addresses.csv"), "--templates", str(tdir), "--jobs", "1",
    )  # fmt: skip
    assert code == 0, output
    letters = "\n".join(pdf_pages(out / "letters" / "letters_0001.pdf"))
    assert "Notice for " in letters and "Good news" not in letters
    assert "Buenas noticias" in letters  # letter_es.j2 is still the shipped one
    motion = flat(pdf_pages(out / "court" / "casc-los-angeles" / "dismiss" / "motion.pdf")[0])
    assert "A CUSTOM MOTION FOR CASC LOS ANGELES" in motion and "Custom wording" in motion
    manifest = json.loads((out / "documents_manifest.json").read_text())
    assert {t["file"] for t in manifest["inputs"]["templates"]} == {"letter_en.j2", "motion.j2"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("letter_es.j2", "Hola {{ person.nmae }}\n", "letter_es.j2, line 1: 'dict object' has no "
         "attribute 'nmae'"),
        ("order.j2", "line one\n{% if %}\n", "order.j2, line 2: template syntax error"),
        ("letters.j2", "x", "unknown template file(s) letters.j2"),
        ("exhibit.j2", "---\ntitle: x\n", "the front matter opened on line 1 never closes"),
    ],
)  # fmt: skip
def test_template_errors_name_the_file_and_line(
    base: Path, tmp_path: Path, name: str, text: str, message: str
) -> None:
    tdir = tmp_path / "t"
    tdir.mkdir()
    (tdir / name).write_text(text)
    code, output = cli(
        str(base / "run"), "--out", str(tmp_path / "o"), "--office", str(base / "office.yaml"),
        "--addresses", str(base / "addresses.csv"), "--templates", str(tdir), "--jobs", "1",
    )  # fmt: skip
    assert code == 1, output
    assert message in output


def test_markup() -> None:
    meta, blocks = parse_markup(
        "---\ntitle: T: with colon\n---\n# Head\n\nA para\ncontinued.\n- item one\n  more\n"
        "- item two\n> quoted\n|kept  line\n|> right\n===\n\\# not a heading\n"
    )
    assert meta == {"title": "T: with colon"}
    assert [(b.kind, b.text) for b in blocks] == [
        ("title", "Head"), ("para", "A para continued."), ("bullet", "item one more"),
        ("bullet", "item two"), ("quote", "quoted"), ("lines", "kept  line\n\tright"),
        ("break", ""), ("para", "# not a heading"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The office's own fillable form


def _make_form(path: Path) -> None:
    """A fillable PDF made here with reportlab's AcroForm API."""
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    c.drawString(72, 750, "TEST FORM: PETITION/APPLICATION (HS 11361.8)")
    c.acroForm.textfield(name="DefendantName", x=72, y=700, width=300, height=18)
    c.acroForm.textfield(name="CaseNumber", x=72, y=670, width=200, height=18)
    c.acroForm.textfield(name="BarNumber", x=300, y=670, width=100, height=18)
    c.acroForm.checkbox(name="Dismiss", x=72, y=640, size=14)
    c.acroForm.checkbox(name="Reduce", x=120, y=640, size=14)
    for i in (1, 2):
        c.acroForm.textfield(name=f"Section{i}", x=72, y=640 - 30 * i, width=200, height=18)
    c.save()


def test_fills_the_offices_own_form_with_continuation_pages(base: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.pdf"
    _make_form(form)
    fmap = tmp_path / "map.yaml"
    fmap.write_text(
        "name: Test form\nper: person\nfields:\n  DefendantName: '{{ name }}'\n"
        "  CaseNumber: '{{ rows[0].case_number }}'\n  BarNumber: '{{ office.bar_number }}'\n"
        "  Dismiss: '{{ dismiss }}'\n  Reduce: '{{ reduce }}'\n"
        "rows:\n  count: 2\n  fields:\n    'Section{n}': '{{ row.code_section }}'\n"
    )
    out = tmp_path / "o"
    code, output = cli(
        str(base / "run"), "--out", str(out), "--office", str(base / "office.yaml"),
        "--form", str(form), "--form-map", str(fmap), "--jobs", "1",
    )  # fmt: skip
    assert code == 0, output
    index = read_csv(out / "forms" / "index.csv")
    dets = [d for d in determinations(base) if d["outcome"] in ("dismiss", "reduce")]
    assert {r["subject_id"] for r in index} == {d["subject_id"] for d in dets}
    by_person = Counter(d["subject_id"] for d in dets)
    for r in index:
        assert int(r["counts"]) == by_person[r["subject_id"]]
        assert (int(r["continuation_pages"]) > 0) == (int(r["counts"]) > 2)
    one = next(r for r in index if int(r["counts"]) > 2)
    reader = PdfReader(str(out / "forms" / one["file"]))
    fields = {k: v.get("/V") for k, v in (reader.get_fields() or {}).items()}
    assert fields["DefendantName"] == one["name"] and fields["BarNumber"] == "123456"
    mine = [d for d in dets if d["subject_id"] == one["subject_id"]]
    assert fields["Dismiss"] == ("/Yes" if any(d["outcome"] == "dismiss" for d in mine) else "/Off")
    assert fields["Section1"] and fields["Section2"]
    cont = flat("\n".join(p.extract_text() for p in reader.pages[1:]))
    assert "CONTINUATION OF TEST FORM" in cont and f"Counts 3 to {one['counts']}" in cont


def test_a_form_map_naming_a_missing_field_is_refused(base: Path, tmp_path: Path) -> None:
    form = tmp_path / "form.pdf"
    _make_form(form)
    fmap = tmp_path / "map.yaml"
    fmap.write_text("per: case\nfields:\n  DefendantNme: '{{ name }}'\n")
    code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--form", str(form),
                       "--form-map", str(fmap))  # fmt: skip
    assert code == 1
    assert "map.yaml, line 3, column 3: the form form.pdf has no field 'DefendantNme'" in output
    assert "Did you mean 'DefendantName'?" in output


def test_a_garbage_form_is_refused_in_our_words_only(
    base: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pypdf logged "invalid pdf header: b'\\x82...'" and "EOF marker not found" besides our
    message."""
    form = tmp_path / "form.pdf"
    form.write_bytes(b"\x82\x00 not a PDF at all" * 10)
    fmap = tmp_path / "map.yaml"
    fmap.write_text("per: case\nfields:\n  DefendantName: '{{ name }}'\n")
    with caplog.at_level(logging.WARNING):
        code, output = cli(str(base / "run"), "--out", str(tmp_path / "o"), "--form", str(form),
                           "--form-map", str(fmap))  # fmt: skip
    assert code == 1 and "form.pdf: cannot read the PDF form" in output
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")] == []


# ---------------------------------------------------------------------------------------------
# Reproducible, parallel, private, valid


def test_same_run_gives_the_same_bytes_with_one_or_two_workers(
    base: Path, docs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    code, output = cli(
        str(base / "run"), "--out", str(out), "--office", str(base / "office.yaml"),
        "--addresses", str(base / "addresses.csv"), "--batch-size", "40", "--jobs", "2",
    )  # fmt: skip
    assert code == 0, output
    first = json.loads((docs / "documents_manifest.json").read_text())
    again = json.loads((out / "documents_manifest.json").read_text())
    assert first["outputs"] == again["outputs"]
    assert (out.stat().st_mode & 0o777) == 0o700
    assert all((p.stat().st_mode & 0o077) == 0 for p in out.rglob("*") if p.is_file())


def test_synthetic_addresses_are_seeded(base: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    make_addresses(base / "run", a, seed=2)
    make_addresses(base / "run", b, seed=2)
    assert a.read_bytes() == b.read_bytes() == (base / "addresses.csv").read_bytes()
    result = runner.invoke(
        APP, ["generate-addresses", str(base / "run"), "--output", str(a), "--force"]
    )
    assert result.exit_code == 0, result.output


def test_generate_addresses_refuses_plainly(base: Path, tmp_path: Path) -> None:
    """It replaced an existing --output (the office's real file, maybe) without a word, and
    failed with "unexpected error" on a folder, a quote in the run's path, an Illinois run and
    a broken Parquet file; it did not read manifest.json."""

    def gen(run_dir: Path, *args: str) -> tuple[int, str]:
        result = runner.invoke(APP, ["generate-addresses", str(run_dir), *args])
        return result.exit_code, result.output

    real = tmp_path / "real.csv"
    real.write_text("the office's own file\n")
    code, output = gen(base / "run", "--output", str(real))
    assert code == 1 and "real.csv: exists. Choose another --output, or add --force." in output
    assert real.read_text() == "the office's own file\n"
    code, output = gen(base / "run", "--output", str(tmp_path))
    assert code == 1 and "a folder. Give the file to write" in output
    quoted = tmp_path / "q'dir"
    shutil.copytree(base / "run", quoted)
    code, output = gen(quoted, "--output", str(tmp_path / "q.csv"))
    assert code == 0, output
    make_addresses(base / "run", tmp_path / "same.csv")
    assert (tmp_path / "q.csv").read_bytes() == (tmp_path / "same.csv").read_bytes()
    il = tmp_path / "il"
    shutil.copytree(base / "run", il)
    manifest = json.loads((il / "manifest.json").read_text())
    (il / "manifest.json").write_text(json.dumps({**manifest, "jurisdiction": "il"}))
    code, output = gen(il, "--output", str(tmp_path / "il.csv"))
    assert code == 1 and "an Illinois run: generate-addresses makes addresses for" in output
    broken = tmp_path / "broken"
    shutil.copytree(base / "run", broken)
    (broken / "determinations.parquet").write_bytes(b"not parquet")
    code, output = gen(broken, "--output", str(tmp_path / "b.csv"))
    assert code == 1
    assert "determinations.parquet: cannot be read" in output and "run again" in output
    assert not (tmp_path / "b.csv").exists()
    (broken / "manifest.json").unlink()
    code, output = gen(broken, "--output", str(tmp_path / "b.csv"))
    assert code == 1 and "holds no complete run (no manifest.json)" in output
    assert "unexpected" not in output


def test_pages_render_to_png(docs: Path, tmp_path: Path) -> None:
    """The PDFs render with poppler (pdftoppm); the pages were also looked at by eye."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    folder = docs / "court" / "casc-los-angeles" / "dismiss"
    for pdf in (folder / "motion.pdf", folder / "order.pdf", docs / "letters/letters_0001.pdf"):
        prefix = tmp_path / pdf.stem
        subprocess.run(
            ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf), str(prefix)],
            check=True, capture_output=True,
        )  # fmt: skip
        (png,) = tmp_path.glob(f"{pdf.stem}*.png")
        assert png.stat().st_size > 2000


def test_related_convictions_get_their_own_motion(base: Path, tmp_path: Path) -> None:
    """Policy related_convictions: clear dismisses charges filed with a cannabis charge; that
    is not HS 11361.8 relief, so they get a motion of their own and their own letter words."""
    policy = tmp_path / "related.yaml"
    policy.write_text('name: related\ndismiss: ["11357", "11358", "11359", "11360"]\n'
                      "related_convictions: clear\n")  # fmt: skip
    pol = load_policy(policy)
    run(
        RunOptions(
            inputs=[base / "la.csv"], outputs=tmp_path / "run", counties=["LOS ANGELES"],
            as_of=dt.date(2020, 7, 1), policy=pol, gogen_bundle=False,
        )
    )  # fmt: skip
    dets = read_csv(tmp_path / "run" / "determinations.csv")
    related = [d for d in dets if json.loads(d["facts"]).get("related_charge")]
    assert any(d["outcome"] == "dismiss" for d in related)  # the generated file has some
    out = tmp_path / "o"
    code, output = cli(str(tmp_path / "run"), "--out", str(out), "--office",
                       str(base / "office.yaml"), "--jobs", "1")  # fmt: skip
    assert code == 0, output
    rows = read_csv(out / "court" / "casc-los-angeles" / "dismiss-related" / "exhibit.csv")
    assert {key(r) for r in rows} == {key(d) for d in related if d["outcome"] == "dismiss"}
    motion = flat("\n".join(pdf_pages(out / "court/casc-los-angeles/dismiss-related/motion.pdf")))
    assert "PEOPLE'S MOTION TO DISMISS RELATED CONVICTIONS" in motion
    assert "does not itself reach these convictions" in motion and "LEGAL REVIEW" in motion
    main = read_csv(out / "court" / "casc-los-angeles" / "dismiss" / "exhibit.csv")
    assert not {key(r) for r in rows} & {key(r) for r in main}


def test_a_run_with_only_the_csv_determinations_is_read(
    base: Path, docs: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(base / "run", run_dir)
    (run_dir / "determinations.parquet").unlink()
    code, output = cli(str(run_dir), "--out", str(tmp_path / "o"), "--jobs", "1")
    assert code == 0, output
    for path in exhibits(tmp_path / "o"):
        twin = docs / path.relative_to(tmp_path / "o")
        assert path.read_bytes() == twin.read_bytes()
