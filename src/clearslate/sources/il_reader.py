"""Read Illinois court and state-police exports into the canonical table `il_records`.

Each file is scanned by DuckDB as text (every column VARCHAR, strict CSV), then its office's
mapping (`il_mapping.py`) turns its columns and codes into canonical fields in one SQL step.
Three kinds of problem are kept apart:

* a **run-level** problem (missing file, header without a mapped column) stops the run with an
  `InputError` saying what to do;
* a **rejected row** (broken CSV record, required field empty or unreadable) is left out and
  listed in `il_rejects` with file, physical line, column and reason;
* a **bad value in a good row** (a date that is no date, an unknown disposition code) becomes
  NULL and is listed in `il_warnings`: it is never guessed.

Every data record of a file is either kept or rejected: `rows_read = rows_kept + rows_rejected`
is checked for each file. Messages carry no field values (they are personal data).

Physical lines: when every record is one line (no blank lines, no line ends inside quotes, the
usual export), lines come from DuckDB's record order and its rejects. Otherwise the file is read
by the strict line reader of `ca_doj` instead, which also handles a quote never closed (only
that line is rejected) and Latin-1 files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from clearslate.database import insert_rows
from clearslate.sources.ca_doj import (
    _REASONS,
    BOM,
    ROWS_PER_INSERT,
    TOO_LONG,
    InputError,
    _LineWindow,
    _split_record,
    _sql_str,
    _strict_record,
    check_input_path,
    record_limit,
    runaway_lines,
    text_lines,
    too_long_reason,
    unparsed_reason,
)
from clearslate.sources.il_canonical import IL_RECORD_COLUMNS, create_sql
from clearslate.sources.il_mapping import (
    BOOLEAN_SPELLINGS,
    CANONICAL_TYPES,
    CODED_FIELDS,
    GRAM_UNITS,
    NAME_PARTS,
    SUFFIX_SPELLINGS,
    FieldSpec,
    Mapping,
    bundled_mapping,
    load_mapping,
)
from clearslate.sources.line_ends import newlines_in
from clearslate.sources.text_encoding import HEAD_BYTES, decodes, utf16_codec

__all__ = ["FileRead", "InputError", "Issue", "ReadResult", "read_illinois"]

ISSUE_COLUMNS = '"file" VARCHAR, "line" BIGINT, "column" VARCHAR, "reason" VARCHAR'

_SWALLOWED = "a quote is opened and never closed; this line was skipped and reading went on"


@dataclass(frozen=True)
class Issue:
    """A rejected row or a bad value: where it is and why, never the value itself."""

    file: str
    line: int
    column: str | None
    reason: str


@dataclass
class FileRead:
    path: str
    source: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_rejected: int = 0
    encoding: str = "utf-8"


@dataclass
class ReadResult:
    files: list[FileRead]
    rejects: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_kept(self) -> int:
        return sum(f.rows_kept for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)


def read_illinois(
    con: duckdb.DuckDBPyConnection,
    court_files: Sequence[Path | str] = (),
    isp_files: Sequence[Path | str] = (),
    court_mapping: Mapping | Path | str | None = None,
    isp_mapping: Mapping | Path | str | None = None,
) -> ReadResult:
    """Read the exports into `il_records`, `il_rejects` and `il_warnings` (replacing them).

    A mapping is a `Mapping`, a path to its YAML file, or None for the one shipped for the
    generated exports (`il_mappings/court_generated.yaml`, `isp_generated.yaml`)."""
    mappings = {
        "court": _as_mapping(court_mapping, "court_generated"),
        "isp": _as_mapping(isp_mapping, "isp_generated"),
    }
    for source, mapping in mappings.items():
        if mapping.source != source:
            raise InputError(
                f"the {source} mapping says 'source: {mapping.source}'; give the {source} "
                "export's mapping"
            )
    jobs = [("court", Path(p)) for p in court_files] + [("isp", Path(p)) for p in isp_files]
    for _, path in jobs:
        check_input_path(path, "export", flag=None)
    con.execute("DROP TABLE IF EXISTS il_records")
    con.execute(create_sql("il_records", IL_RECORD_COLUMNS))
    con.execute(f"CREATE OR REPLACE TABLE il_rejects ({ISSUE_COLUMNS})")
    con.execute(f"CREATE OR REPLACE TABLE il_warnings ({ISSUE_COLUMNS})")
    result = ReadResult(files=[])
    index = {"court": 0, "isp": 0}
    for source, path in jobs:
        info = FileRead(path=str(path), source=source)
        _read_file(con, path, index[source], mappings[source], info)
        index[source] += 1
        result.files.append(info)
    for table, issues in (("il_rejects", result.rejects), ("il_warnings", result.warnings)):
        rows = con.execute(f'SELECT * FROM {table} ORDER BY "file", "line", "column"').fetchall()
        issues.extend(Issue(*row) for row in rows)
    return result


def _as_mapping(value: Mapping | Path | str | None, default: str) -> Mapping:
    if value is None:
        return bundled_mapping(default)
    return value if isinstance(value, Mapping) else load_mapping(value)


# ---------------------------------------------------------------------------------------------
# Scanning: the file's records as text, with their physical lines, into `_il_raw`.


def _read_file(
    con: duckdb.DuckDBPyConnection, path: Path, file_index: int, mapping: Mapping, info: FileRead
) -> None:
    header, info.encoding = _header(path, mapping)
    missing = [c for c in mapping.columns() if c not in header]
    if missing:
        # Only the mapping's names: a first line that is no header holds a person's data.
        none_found = set(missing) == set(mapping.columns())
        lost = " None of them is in line 1: is the header line missing?" if none_found else ""
        raise InputError(
            f"{path}: the header has no column {', '.join(repr(c) for c in missing)}, which the "
            f"{mapping.source} mapping reads. Check the mapping's column names against line 1."
            + lost
        )
    raw_cols = ", ".join(f"{_q(c)} VARCHAR" for c in header)
    con.execute(f'CREATE OR REPLACE TEMP TABLE _il_raw ("line" BIGINT, {raw_cols})')
    con.execute(f"CREATE OR REPLACE TEMP TABLE _il_bad ({ISSUE_COLUMNS})")
    # (A line of thousands of fields costs DuckDB's strict scan minutes: `runaway_lines`.)
    if info.encoding != "utf-8" or runaway_lines(path) or not _scan_with_duckdb(con, path, header):
        con.execute("DELETE FROM _il_raw; DELETE FROM _il_bad")
        _scan_line_by_line(con, path, header, info.encoding)
    good = con.execute("SELECT count(*) FROM _il_raw").fetchall()[0][0]
    broken = con.execute("SELECT count(*) FROM _il_bad").fetchall()[0][0]
    con.execute("INSERT INTO il_rejects SELECT * FROM _il_bad")
    kept, rejected = _map_rows(con, path, file_index, mapping)
    info.rows_read = good + broken
    info.rows_kept = kept
    info.rows_rejected = broken + rejected
    if info.rows_read != info.rows_kept + info.rows_rejected:  # the accounting must close
        raise AssertionError(f"{path}: rows read != rows kept + rows rejected")


def _header(path: Path, mapping: Mapping) -> tuple[list[str], str]:
    """The header's column names and the file's encoding (UTF-16, UTF-8, else Latin-1).
    Messages name only columns the mapping reads: line 1 may be a person's row when the header
    is missing."""
    with path.open("rb") as fh:
        head = fh.read(1024 * 1024)
    if encoding := utf16_codec(head[:HEAD_BYTES]):
        # (a line end is two bytes in UTF-16: decode first, then take the first line)
        text = head[: len(head) // 2 * 2].decode(encoding, errors="replace")
        text = text.split("\n", 1)[0]
    else:
        encoding = "utf-8" if decodes(path, "utf-8") else "latin-1"
        text = head.split(b"\n", 1)[0].removeprefix(BOM).decode(encoding, errors="replace")
    parsed = _strict_record(text.rstrip("\r\n"))
    names = [n.strip() for n in parsed[0]] if parsed else []
    if not names or not any(names):
        raise InputError(f"{path}: line 1 is not a header of column names.")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        known = [repr(n) for n in dupes if n in mapping.columns()]
        raise InputError(
            f"{path}: line 1 names a column more than once"
            + (f" ({', '.join(known)})" if known else "")
            + " (or the header line is missing): check that the file starts with its header"
            " and that each column is named once."
        )
    return names, encoding


def _scan_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, header: list[str]) -> bool:
    """DuckDB's strict scan. False (nothing kept) when records do not sit one per line."""
    columns = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in header) + "}"
    max_record = record_limit(con)  # bounded buffers (see record_limit; the default: 1 GiB)
    con.execute("DROP TABLE IF EXISTS _il_rej; DROP TABLE IF EXISTS _il_scan")
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _il_seg AS SELECT * FROM read_csv(
                {_sql_str(str(path))}, columns = {columns}, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                store_rejects = true, rejects_table = '_il_rej', rejects_scan = '_il_scan',
                max_line_size = {max_record}, buffer_size = {2 * max_record})"""
        )
    except duckdb.OutOfMemoryException:
        raise  # not the file's fault: the line-by-line reader would hold all of it
    except duckdb.Error:
        return False
    rejects = con.execute(
        "SELECT DISTINCT line, column_name, error_type, csv_line FROM _il_rej ORDER BY line"
    ).fetchall()
    good = con.execute("SELECT count(*) FROM _il_seg").fetchall()[0][0]
    if any(err == "INVALID ENCODING" for _, _, err, _ in rejects):
        return False
    if any("\n" in (text or "").strip("\r\n") for *_, text in rejects):
        return False
    newlines, blank, ends_with_newline = _line_facts(path)
    records = good + len({line for line, *_ in rejects})
    if blank or newlines != records + (1 if ends_with_newline else 0):
        return False  # line ends inside quotes, blank lines or a quote never closed
    # One record per line: good rows fill, in order, the lines DuckDB did not reject.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _il_rejline AS SELECT unnest(?::BIGINT[]) AS line",
        [[line for line, *_ in rejects]],
    )
    cols = ", ".join(f"s.{_q(c)}" for c in header)
    con.execute(
        f"""INSERT INTO _il_raw
            WITH free AS (
                SELECT line, row_number() OVER (ORDER BY line) - 1 AS k
                FROM range(2, {records + 2}) t(line) ANTI JOIN _il_rejline USING (line))
            SELECT free.line, {cols} FROM (SELECT rowid AS k, * FROM _il_seg) s JOIN free
            USING (k)"""
    )
    seen: set[int] = set()
    for line, column, err, text in rejects:
        if line in seen:
            continue
        seen.add(line)
        # (DuckDB's field-count reasons are the DOJ reader's; replaced below)
        reason = _REASONS.get(err, f"unreadable record ({err.lower()})")
        if err == TOO_LONG:
            reason = too_long_reason(max_record)
        if err in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            parsed = _strict_record((text or "").strip("\r\n"))
            column = None  # a field count, not one column, is wrong
            reason = _field_count_reason(len(parsed[0]) if parsed else 0, len(header))
        con.execute("INSERT INTO _il_bad VALUES (?, ?, ?, ?)", [str(path), line, column, reason])
    return True


def _field_count_reason(fields: int, width: int) -> str:
    many = "too few" if fields < width else "too many"
    return f"{many} fields: {fields} where the header has {width}"


def _line_facts(path: Path) -> tuple[int, bool, bool]:
    """(newline count, some line is blank, the file ends with a newline)."""
    newlines, blank, tail = 0, False, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            newlines += newlines_in(chunk)
            probe = tail + chunk
            blank = blank or b"\n\n" in probe or b"\n\r\n" in probe
            tail = probe[-2:]
    return newlines, blank, tail.endswith(b"\n")


def _scan_line_by_line(
    con: duckdb.DuckDBPyConnection, path: Path, header: list[str], encoding: str
) -> None:
    """The slow, sure reader: a record is one line, or several when a quoted field holds a line
    end; a quote never closed rejects its first line only, and reading goes on at the next.
    It holds a few hundred lines (each of `record_limit` at most: a longer one is rejected for
    its length, as DuckDB's scan does) and `ROWS_PER_INSERT` rows at a time, not the file."""
    width, max_record = len(header), record_limit(con)
    types = ["BIGINT", *["VARCHAR"] * width]
    good: list[list[object]] = []
    bad: list[list[object]] = []
    with text_lines(path, encoding) as text:
        lines = _LineWindow(text, max_record)
        i = 1
        while lines.has(i):
            start = i
            record, i = lines.record(start)
            if record is None:
                bad.append([str(path), start + 1, None, too_long_reason(max_record)])
                continue
            if not record.strip("\r\n"):
                continue  # a blank line is no record
            fields = _split_record(record) if record.count('"') % 2 == 0 else None
            swallowed = i - start > 1 and (
                fields is None
                or len(fields) != width
                or any(len(_split_record(lines[k]) or ()) == width for k in range(start + 1, i))
            )
            if swallowed:
                i = start + 1
                bad.append([str(path), start + 1, None, _SWALLOWED])
            elif fields is None:
                bad.append([str(path), start + 1, None, unparsed_reason(record)])
            elif len(fields) != width:
                bad.append([str(path), start + 1, None, _field_count_reason(len(fields), width)])
            else:
                good.append([start + 1, *fields])
                if len(good) == ROWS_PER_INSERT:
                    insert_rows(con, "_il_raw", types, good)
                    good = []
    insert_rows(con, "_il_raw", types, good)
    insert_rows(con, "_il_bad", ["VARCHAR", "BIGINT", "VARCHAR", "VARCHAR"], bad)


# ---------------------------------------------------------------------------------------------
# Mapping: `_il_raw` → canonical fields, rejects and warnings, in SQL.


def _map_rows(
    con: duckdb.DuckDBPyConnection, path: Path, file_index: int, mapping: Mapping
) -> tuple[int, int]:
    """Map `_il_raw` into `il_records`; return (rows kept, rows rejected)."""
    exprs = _field_exprs(con, mapping)
    selects = [f"{e.value} AS {_q('v_' + name)}" for name, e in exprs.items()]
    selects += [f"{e.raw} AS {_q('r_' + name)}" for name, e in exprs.items() if e.raw]
    selects += [f"{e.known_null} AS {_q('k_' + name)}" for name, e in exprs.items() if e.known_null]
    joins = ""
    if "full_name" in mapping.fields:
        joins = f"LEFT JOIN _il_names n ON n.raw = {_text(mapping.fields['full_name'].column)}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _il_stage AS SELECT r.line, {', '.join(selects)} "
        f"FROM _il_raw r {joins}"
    )
    file_sql = _sql_str(str(path))
    required = set(mapping.required)
    # A row is rejected for its first required field that is empty or unreadable.
    for name in mapping.required:
        raw, column = exprs[name].raw, exprs[name].column
        reason_empty = f"required field '{name}' is empty"
        reason_bad = f"required field '{name}' cannot be read"
        reason = (
            f"CASE WHEN {_q('r_' + name)} IS NULL THEN {_sql_str(reason_empty)} "
            f"ELSE {_sql_str(reason_bad)} END"
            if raw
            else _sql_str(reason_empty)
        )
        con.execute(
            f"""INSERT INTO il_rejects SELECT {file_sql}, line, {_sql_str(column or "")}, {reason}
                FROM _il_stage WHERE {_q("v_" + name)} IS NULL"""
        )
        con.execute(f"DELETE FROM _il_stage WHERE {_q('v_' + name)} IS NULL")
    for name, e in exprs.items():
        if not e.raw or name in required:
            continue
        known = f"AND NOT {_q('k_' + name)}" if e.known_null else ""
        what = "date" if CANONICAL_TYPES.get(name) == "DATE" else "value"
        con.execute(
            f"""INSERT INTO il_warnings SELECT {file_sql}, line, {_sql_str(e.column or "")},
                    {_sql_str(f"{name}: {_problem(name, what)}; left empty")}
                FROM _il_stage
                WHERE {_q("r_" + name)} IS NOT NULL AND {_q("v_" + name)} IS NULL {known}"""
        )
    kept = con.execute("SELECT count(*) FROM _il_stage").fetchall()[0][0]
    rejected = con.execute("SELECT count(*) FROM _il_raw").fetchall()[0][0] - kept
    record_id = f"'{mapping.source}:{file_index}:' || line"
    values = []
    for name, kind, _ in IL_RECORD_COLUMNS:
        if name == "record_id":
            values.append(record_id)
        elif name == "source":
            values.append(_sql_str(mapping.source))
        elif name == "source_file":
            values.append(file_sql)
        elif name == "source_line":
            values.append("line")
        elif name == "disposition_raw":
            raw_dispo = "disposition" in exprs and exprs["disposition"].raw
            values.append(_q("r_disposition") if raw_dispo else "NULL")
        elif name in exprs:
            values.append(f"CAST({_q('v_' + name)} AS {kind})")
        else:
            values.append(f"CAST(NULL AS {kind})")
    con.execute(f"INSERT INTO il_records SELECT {', '.join(values)} FROM _il_stage ORDER BY line")
    return kept, rejected


def _problem(name: str, what: str) -> str:
    if what == "date":
        return "not a date in the mapping's formats"
    if name == "grams":
        return "not an amount (a number, optionally with g, kg, oz or lb)"
    if name in ("last_name", "first_name", "middle_name"):
        return "the full name does not follow the mapping's layout"
    return "a code the mapping does not list"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(column: str | None) -> str:
    return f"nullif(trim(r.{_q(column or '')}), '')"


@dataclass(frozen=True)
class _Expr:
    """How one canonical field is computed from a row of `_il_raw`."""

    value: str  # SQL of the canonical value
    raw: str | None = None  # SQL of the trimmed text, when the value can be unreadable
    column: str | None = None  # the export's column
    known_null: str | None = None  # SQL: the text is a known code with no value


def _field_exprs(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> dict[str, _Expr]:
    out: dict[str, _Expr] = {}
    for name, spec in mapping.fields.items():
        if name == "full_name":
            _parse_names(con, spec)
            raw = _text(spec.column)
            for part in NAME_PARTS:
                # only the last name can be "unreadable"; the others may simply be absent
                out[part] = _Expr(f"n.{part}", raw if part == "last_name" else None, spec.column)
        elif spec.constant is not None:
            out[name] = _Expr(_literal(spec.constant))
        else:
            out[name] = _value_expr(name, spec, _text(spec.column), spec.column)
    return out


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return _sql_str(str(value))


def _value_expr(name: str, spec: FieldSpec, raw: str, column: str | None) -> _Expr:
    kind = CANONICAL_TYPES[name]
    upper = f"upper({raw})"
    codes = _codes(name, spec)
    if codes is not None:
        cases = " ".join(
            f"WHEN {_sql_str(k)} THEN {_literal(v)}" for k, v in codes.items() if v is not None
        )
        known_null = [_sql_str(k) for k, v in codes.items() if v is None]
        return _Expr(
            f"CASE {upper} {cases} END" if cases else "NULL",
            raw,
            column,
            f"coalesce({upper} IN ({', '.join(known_null)}), FALSE)" if known_null else None,
        )
    if kind == "DATE":
        formats = "[" + ", ".join(_sql_str(f) for f in spec.formats or []) + "]"
        parsed = f"try_strptime({raw}, {formats})::DATE"
        plausible = f"{parsed} BETWEEN DATE '1850-01-01' AND DATE '2100-12-31'"
        return _Expr(f"CASE WHEN {plausible} THEN {parsed} END", raw, column)
    if kind == "INTEGER":
        # a whole number or unreadable: DuckDB's cast alone reads '1.5' as 2 and '0x10' as 16
        whole = f"regexp_full_match({raw}, '[+-]?[0-9]+')"
        return _Expr(f"CASE WHEN {whole} THEN try_cast({raw} AS INTEGER) END", raw, column)
    if name == "grams":
        pattern = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+) *(G|GR|GRS|GRAM|GRAMS|KG|OZ|LB|LBS)?\.?$"
        number = f"try_cast(regexp_extract({upper}, {_sql_str(pattern)}, 1) AS DOUBLE)"
        unit = f"regexp_extract({upper}, {_sql_str(pattern)}, 3)"
        factor = " ".join(
            f"WHEN {unit} IN ({units}) THEN {GRAM_UNITS[u]!r}"
            for u, units in (
                ("kg", "'KG'"),
                ("oz", "'OZ'"),
                ("lb", "'LB', 'LBS'"),
                ("g", "'G', 'GR', 'GRS', 'GRAM', 'GRAMS'"),
            )
        )
        value = f"{number} * CASE {factor} ELSE {GRAM_UNITS[spec.unit or 'g']!r} END"
        return _Expr(value, raw, column)
    if name in ("last_name", "first_name", "middle_name", "county", "state"):
        return _Expr(upper, None, column)
    return _Expr(raw, None, column)


def _codes(name: str, spec: FieldSpec) -> dict[str, object] | None:
    """Upper-case code → canonical value for a coded field (None if the field is not coded)."""
    if name not in CODED_FIELDS:
        return None
    if name == "name_suffix":
        base: dict[str, object] = dict(SUFFIX_SPELLINGS)
    elif name in ("attempt", "fingerprinted"):
        base = dict(BOOLEAN_SPELLINGS)
    else:
        base = {str(v).upper(): v for v in CODED_FIELDS[name]}
    if spec.values is not None:
        base = {str(k).strip().upper(): v for k, v in spec.values.items()}
    return base


def _parse_names(con: duckdb.DuckDBPyConnection, spec: FieldSpec) -> None:
    """`_il_names`: every distinct full name of the file split into its parts (few distinct
    names, so plain Python). A name that does not follow the layout gets no parts."""
    names = con.execute(
        f"SELECT DISTINCT {_text(spec.column)} FROM _il_raw r WHERE {_text(spec.column)} IS NOT NULL"
    ).fetchall()
    rows = [[raw, *split_name(raw, spec.layout or "")] for (raw,) in names]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _il_names (raw VARCHAR, last_name VARCHAR, "
        "first_name VARCHAR, middle_name VARCHAR, name_suffix VARCHAR)"
    )
    insert_rows(con, "_il_names", ["VARCHAR"] * 5, rows)


def split_name(full: str, layout: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(last, first, middle, suffix) of a full name written in `layout`, upper case; all None
    if the name does not follow it. A suffix is recognised anywhere as its own word."""
    text = " ".join(full.upper().replace(".", " ").split())
    if layout == "LAST, FIRST MIDDLE SUFFIX":
        if text.count(",") < 1:
            return (None, None, None, None)
        last_part, rest = text.split(",", 1)
        last_words = last_part.split()
        rest_words = rest.replace(",", " ").split()
    else:  # "FIRST MIDDLE LAST SUFFIX"
        words = text.replace(",", " ").split()
        words_wo = [w for w in words if w not in SUFFIX_SPELLINGS]
        if len(words_wo) < 2:
            return (None, None, None, None)
        last_words, rest_words = [words_wo[-1]], words_wo[:-1]
        rest_words += [w for w in words if w in SUFFIX_SPELLINGS]
    suffixes = [SUFFIX_SPELLINGS[w] for w in last_words + rest_words if w in SUFFIX_SPELLINGS]
    last_words = [w for w in last_words if w not in SUFFIX_SPELLINGS]
    rest_words = [w for w in rest_words if w not in SUFFIX_SPELLINGS]
    if not last_words:
        return (None, None, None, None)
    first = rest_words[0] if rest_words else None
    middle = " ".join(rest_words[1:]) or None
    return (" ".join(last_words), first, middle, suffixes[-1] if suffixes else None)
