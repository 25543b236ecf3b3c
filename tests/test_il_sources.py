"""Illinois readers: mappings, rejected rows and warnings with their place, row accounting."""

from __future__ import annotations

import csv
import io
import tracemalloc
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearslate.sources.ca_doj import runaway_lines
from clearslate.sources.il_canonical import IL_RECORD_COLUMNS
from clearslate.sources.il_mapping import (
    MappingError,
    bundled_mapping,
    load_mapping,
    mapping_from_dict,
)
from clearslate.sources.il_reader import InputError, read_illinois, split_name
from clearslate.synth.illinois import COURT_COLUMNS, generate_illinois

GOOD = {
    "CASE_NUMBER": "2016MC000001",
    "DEFENDANT_NAME": "DOE, JOHN Q JR",
    "DEFENDANT_DOB": "04/05/1980",
    "SEX": "M",
    "STATUTE": "720 ILCS 550/4(b)",
    "CHARGE_NO": "1",
    "CHARGE_CLASS": "MB",
    "AMOUNT_GRAMS": "7.5",
    "ATTEMPT": "N",
    "DISPOSITION": "FG",
    "DISPOSITION_DATE": "06/01/2016",
    "ARREST_DATE": "01/02/2016",
    "FP_FLAG": "Y",
}


def court_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COURT_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def read_court(path: Path, mapping=None):
    con = duckdb.connect()
    result = read_illinois(con, [path], [], court_mapping=mapping)
    return con, result


# -- mappings ---------------------------------------------------------------------------------


def test_bundled_mappings_load() -> None:
    assert bundled_mapping("court_generated").source == "court"
    assert bundled_mapping("isp_generated").fields["fingerprinted"].constant is True


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"last_nam": {"column": "X"}}, "fields.last_nam: not a canonical field"),
        ({"last_name": {"column": "L"}, "dob": {"column": "D"}}, "needs 'formats'"),
        (
            {
                "last_name": {"column": "L"},
                "disposition": {"column": "D", "values": {"G": "gilty"}},
            },
            "'gilty'",
        ),
        ({"last_name": {"column": "L", "constant": "X"}}, "exactly one of 'column' or 'constant'"),
        ({"full_name": {"column": "N", "layout": "FIRST LAST"}}, "'layout' must be one of"),
        ({"first_name": {"column": "F"}}, "a name is needed"),
        ({"last_name": {"column": "L"}, "sex": {"constant": "Q"}}, "constant 'Q'"),
    ],
)
def test_mapping_errors_name_the_field(fields: dict, message: str) -> None:
    with pytest.raises(MappingError) as err:
        mapping_from_dict({"source": "court", "fields": fields}, "m.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("m.yaml:")


def test_mapping_required_must_be_mapped(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("source: isp\nfields: {last_name: {column: L}}\nrequired: [sid]\n")
    with pytest.raises(MappingError, match="required: 'sid' is not mapped"):
        load_mapping(path)
    path.write_text("source: isp\nfields: [unclosed\n")
    with pytest.raises(MappingError, match="not valid YAML at line"):
        load_mapping(path)


def test_mapping_date_format_duckdb_cannot_use_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as err:
        mapping_from_dict(
            {"source": "court", "fields": {"last_name": {"column": "L"},
                                           "dob": {"column": "D", "formats": ["%Q"]}}},
            "m.yaml",
        )  # fmt: skip
    assert "fields.dob: date format '%Q' cannot be used" in str(err.value)


def test_mapping_key_given_twice_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("source: isp\nfields:\n  last_name: {column: L}\n  last_name: {column: M}\n")
    with pytest.raises(MappingError, match=r"m.yaml, line 4, column 3: last_name: given twice"):
        load_mapping(path)
    path.write_text("source: court\nsource: isp\nfields: {last_name: {column: L}}\n")
    with pytest.raises(MappingError, match=r"line 2, column 1: source: given twice"):
        load_mapping(path)
    path.write_text("source: isp\nfields:\n  last_name: {column: L}\n  sex: {column: S, unit: g}\n")
    with pytest.raises(MappingError, match=r"line 4: fields.sex: 'unit' is for grams only"):
        load_mapping(path)


@pytest.mark.parametrize("source", ["court", "isp"])
def test_export_without_its_header_names_no_value(tmp_path: Path, source: str) -> None:
    generate_illinois(tmp_path, people=20, seed=3)
    lines = (tmp_path / f"{source}_export.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "headless.csv"
    path.write_text("".join(lines[2:]))  # line 1 is now a person's row
    files = ([path], []) if source == "court" else ([], [path])
    with pytest.raises(InputError) as err:
        read_illinois(duckdb.connect(), *files)
    message = str(err.value)
    for value in next(csv.reader([lines[2]])):
        if len(value.strip()) >= 3:
            assert value.strip() not in message, "a value of the row is repeated"
    assert "header line is missing" in message
    # A real header naming a column twice: that name is one the mapping reads, so it is said.
    header = lines[0].replace("SEX", "STATUTE") if source == "court" else lines[0]
    path.write_text(header + "".join(lines[1:]))
    if source == "court":
        with pytest.raises(InputError, match="names a column more than once \\('STATUTE'\\)"):
            read_illinois(duckdb.connect(), [path], [])


def test_header_without_a_mapped_column_stops_the_run(tmp_path: Path) -> None:
    path = tmp_path / "court.csv"
    path.write_text('CASE_NUMBER,DEFENDANT_NAME\n1,"DOE, J"\n')
    with pytest.raises(InputError, match="'STATUTE'") as err:
        read_court(path)
    assert "line 1" in str(err.value)


@pytest.mark.parametrize(
    ("full", "layout", "parts"),
    [
        ("DOE, JOHN Q JR", "LAST, FIRST MIDDLE SUFFIX", ("DOE", "JOHN", "Q", "JR")),
        (
            "de la cruz, maria  elena",
            "LAST, FIRST MIDDLE SUFFIX",
            ("DE LA CRUZ", "MARIA", "ELENA", None),
        ),
        ("SMITH SR., JAMES", "LAST, FIRST MIDDLE SUFFIX", ("SMITH", "JAMES", None, "SR")),
        ("DOE JOHN", "LAST, FIRST MIDDLE SUFFIX", (None, None, None, None)),
        ("John Lee Doe III", "FIRST MIDDLE LAST SUFFIX", ("DOE", "JOHN", "LEE", "III")),
    ],
)
def test_split_name(full: str, layout: str, parts: tuple) -> None:
    assert split_name(full, layout) == parts


# -- rows -------------------------------------------------------------------------------------


def test_good_row_maps_to_canonical_fields(tmp_path: Path) -> None:
    con, result = read_court(court_csv(tmp_path / "c.csv", [GOOD]))
    assert (result.rows_read, result.rows_kept, result.warnings) == (1, 1, [])
    cols = [c[0] for c in IL_RECORD_COLUMNS]
    assert [r[0] for r in con.execute("DESCRIBE il_records").fetchall()] == cols
    row = dict(zip(cols, con.execute("SELECT * FROM il_records").fetchone(), strict=True))
    assert row["record_id"] == "court:0:2"
    assert (row["last_name"], row["first_name"], row["middle_name"], row["name_suffix"]) == (
        "DOE",
        "JOHN",
        "Q",
        "JR",
    )
    assert str(row["dob"]) == "1980-04-05"
    assert (row["offense_class"], row["grams"], row["attempt"]) == ("B", 7.5, False)
    assert (row["disposition"], row["disposition_raw"], row["fingerprinted"]) == (
        "convicted",
        "FG",
        True,
    )


def test_rejects_carry_file_line_column_and_reason(tmp_path: Path) -> None:
    path = court_csv(
        tmp_path / "c.csv",
        [GOOD, {**GOOD, "CASE_NUMBER": ""}, GOOD, {**GOOD, "DEFENDANT_NAME": "NOCOMMA"}, GOOD],
    )
    text = path.read_text().splitlines()
    text.insert(3, "just,three,fields")  # becomes line 4
    path.write_text("\n".join(text) + "\n")
    con, result = read_court(path)
    got = {(r.line, r.column, r.reason) for r in result.rejects}
    assert got == {
        (3, "CASE_NUMBER", "required field 'case_number' is empty"),
        (4, None, "too few fields: 3 where the header has 25"),
        (6, "DEFENDANT_NAME", "required field 'last_name' cannot be read"),
    }
    assert all(r.file == str(path) for r in result.rejects)
    assert (result.rows_read, result.rows_kept, result.rows_rejected) == (6, 3, 3)
    lines = [r[0] for r in con.execute("SELECT source_line FROM il_records ORDER BY 1").fetchall()]
    assert lines == [2, 5, 7]
    assert con.execute("SELECT count(*) FROM il_rejects").fetchone()[0] == 3


def test_a_line_of_rows_run_together_is_one_reject_on_its_line(tmp_path: Path) -> None:
    """300 rows whose line ends were lost, on one line: DuckDB's strict scan would report
    each of its 7,200 fields too many, with the whole line (minutes and gigabytes for more);
    the line-by-line reader rejects the line once and keeps every other row on its line."""
    path = court_csv(tmp_path / "c.csv", [GOOD] * 310)
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *rows[:5], "".join(rows[5:305]), *rows[305:]]) + "\n")
    assert runaway_lines(path)
    con, result = read_court(path)
    assert [(r.line, r.column, r.reason) for r in result.rejects] == [
        (7, None, "too many fields: 7201 where the header has 25")
    ]
    assert (result.rows_read, result.rows_kept, result.rows_rejected) == (11, 10, 1)
    lines = [r[0] for r in con.execute("SELECT source_line FROM il_records ORDER BY 1").fetchall()]
    assert lines == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]


def test_bad_values_are_null_with_a_warning(tmp_path: Path) -> None:
    path = court_csv(
        tmp_path / "c.csv",
        [
            {**GOOD, "DEFENDANT_DOB": "31/31/1980"},
            {**GOOD, "DISPOSITION": "ZZ", "AMOUNT_GRAMS": "a lot"},
            {**GOOD, "CHARGE_CLASS": "FM", "AMOUNT_GRAMS": "2 OZ"},
        ],
    )
    con, result = read_court(path)
    warned = {(w.line, w.column) for w in result.warnings}
    assert warned == {(2, "DEFENDANT_DOB"), (3, "DISPOSITION"), (3, "AMOUNT_GRAMS")}
    assert all("31/31" not in w.reason and "ZZ" not in w.reason for w in result.warnings)
    rows = con.execute(
        "SELECT dob, disposition, disposition_raw, grams, offense_class FROM il_records "
        "ORDER BY source_line"
    ).fetchall()
    assert rows[0][0] is None
    assert rows[1][1:4] == (None, "ZZ", None)
    assert rows[2][3] == pytest.approx(56.699, abs=0.001)
    assert rows[2][4] is None  # FM is a known code with no class: no warning
    assert result.rows_kept == 3


def test_a_charge_number_is_a_whole_number_or_unreadable(tmp_path: Path) -> None:
    """A cast alone read '1.5' as charge 2 and '0x10' as 16: a charge taken for another."""
    numbers = ["1.5", "0x10", "1e1", " 3 ", "+4", "x"]
    path = court_csv(tmp_path / "c.csv", [{**GOOD, "CHARGE_NO": n} for n in numbers])
    con, result = read_court(path)
    assert {w.line for w in result.warnings if w.column == "CHARGE_NO"} == {2, 3, 4, 7}
    seqs = con.execute("SELECT charge_seq FROM il_records ORDER BY source_line").fetchall()
    assert [s for (s,) in seqs] == [None, None, None, 3, 4, None]


def test_quoted_newline_blank_line_and_stray_quote_keep_physical_lines(tmp_path: Path) -> None:
    path = court_csv(tmp_path / "c.csv", [GOOD] * 4)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("720 ILCS 550/4(b)", '"720 ILCS\n550/4(b)"')  # record spans 2-3
    lines.insert(2, "")  # blank line 4
    lines.insert(3, 'x,"never closed,1')  # line 5
    path.write_text("\n".join(lines) + "\n")
    con, result = read_court(path)
    assert [(r.line, r.reason[:20]) for r in result.rejects] == [(5, "a quote is opened an")]
    got = [r[0] for r in con.execute("SELECT source_line FROM il_records ORDER BY 1").fetchall()]
    assert got == [2, 6, 7, 8]
    assert result.rows_read == result.rows_kept + result.rows_rejected == 5


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_cr_inside_an_unquoted_field_is_one_reject_on_its_line(tmp_path: Path, end: str) -> None:
    """As in the DOJ reader: a lone CR in an unquoted field was a line end to the
    line-by-line reader, so the line was two rejects and every later row a line too high."""
    path = court_csv(tmp_path / "c.csv", [GOOD] * 4)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("720 ILCS 550/4(b)", "720 ILCS\r550/4(b)")
    path.write_bytes((end.join(lines) + end).encode())
    con, result = read_court(path)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (3, "a carriage return (CR) inside an unquoted field: quote the field or remove the CR")
    ]
    got = [r[0] for r in con.execute("SELECT source_line FROM il_records ORDER BY 1").fetchall()]
    assert got == [2, 4, 5]
    assert result.rows_read == result.rows_kept + result.rows_rejected == 4


def test_latin1_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    court_csv(path, [{**GOOD, "DEFENDANT_NAME": "EXAMPLEÑA, JOSÉ"}])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    con, result = read_court(path)
    assert result.rows_kept == 1
    assert con.execute("SELECT last_name, first_name FROM il_records").fetchone() == (
        "EXAMPLEÑA",
        "JOSÉ",
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_read(tmp_path: Path, encoding: str) -> None:
    """An export saved as UTF-16 (with a byte-order mark, or without one) was read as
    Latin-1: its header was not found, and the run stopped asking whether the header line
    was missing."""
    path = tmp_path / "c.csv"
    court_csv(path, [{**GOOD, "DEFENDANT_NAME": "EXAMPLEÑA, JOSÉ"}, GOOD])
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    con, result = read_court(path)
    assert result.rows_kept == 2 and not result.rejects
    assert result.files[0].encoding == encoding
    first = con.execute("SELECT source_line, last_name FROM il_records ORDER BY 1").fetchone()
    assert first == (2, "EXAMPLEÑA")


def test_generated_exports_read_cleanly(tmp_path: Path) -> None:
    generate_illinois(tmp_path, people=150, seed=5)
    con = duckdb.connect()
    result = read_illinois(con, [tmp_path / "court_export.csv"], [tmp_path / "isp_export.csv"])
    assert result.rejects == [] and result.warnings == []
    truth_rows = len((tmp_path / "truth.csv").read_text().splitlines()) - 1
    assert result.rows_kept == truth_rows
    sources = dict(con.execute("SELECT source, count(*) FROM il_records GROUP BY 1").fetchall())
    assert set(sources) == {"court", "isp"}
    assert con.execute("SELECT count(*) FROM il_records WHERE dob IS NULL").fetchone()[0] > 0


_cell = st.text(alphabet=st.sampled_from(list('ab,"\n\r 1/Ñ')), max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=30), max_size=6))
def test_arbitrary_rows_never_crash_and_rows_add_up(tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "fuzz.csv"
    body = "\n".join(",".join(r) for r in rows)
    path.write_text(",".join(COURT_COLUMNS) + "\n" + body + "\n", encoding="utf-8")
    con, result = read_court(path)
    assert result.rows_read == result.rows_kept + result.rows_rejected
    kept = con.execute("SELECT count(*) FROM il_records").fetchone()[0]
    assert kept == result.rows_kept
    assert all(r.line >= 2 for r in result.rejects + result.warnings)


def test_docs_schema_table_matches_the_contract() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "illinois.md").read_text(encoding="utf-8")
    section = doc.split("### The canonical schema", 1)[1].split("### How an office", 1)[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| `")]
    got = [(name.strip(" `"), kind.strip(), meaning.strip()) for name, kind, meaning in rows]
    assert got == list(IL_RECORD_COLUMNS)


def test_the_line_by_line_reader_holds_a_few_rows_not_the_file(tmp_path: Path) -> None:
    """A Latin-1 export is read line by line. That reader held the whole file in Python (its
    bytes, its text, its lines and every row: some 150 MB for these 100,000 rows of 11 MB);
    it now holds a few hundred lines and 10,000 rows at a time (Python's own allocations,
    traced; DuckDB's table is not Python's)."""
    path = tmp_path / "c.csv"
    row = {**GOOD, "DEFENDANT_NAME": "EXAMPLEÑA, JOSÉ"}
    with path.open("w", encoding="latin-1", newline="") as fh:
        writer = csv.DictWriter(fh, COURT_COLUMNS, lineterminator="\n", restval="")
        writer.writeheader()
        for i in range(100_000):
            writer.writerow({**row, "CASE_NUMBER": f"2016MC{i:06d}"})
    tracemalloc.start()
    try:
        con, result = read_court(path)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.rows_kept, result.rows_rejected) == (100_000, 0)
    assert con.execute("SELECT max(source_line) FROM il_records").fetchone() == (100_001,)
    assert peak < 40 * 2**20, f"{peak / 2**20:.0f} MiB"
