"""Deciding on Spark: the engine's own statements, in DuckDB's SQL, transpiled by SQLGlot and
run by a Spark session (as Splink runs its SQL on either engine), for California and Illinois.

`SparkConnection` stands where the engine takes a DuckDB connection (`decide_rows`,
`decide_il`): it runs each statement on Spark and answers the few calls the engine makes of a
connection. A `CREATE TABLE` is computed once and kept (a local checkpoint), so
that a later statement does not compute again every step before it; a `CREATE VIEW` stays a
query, as in DuckDB.

What Spark does not do here: reading the inputs (clearslate's readers, with every rejected
line on its line, are DuckDB's), linking Illinois's people (Splink has a Spark backend of its
own), and the writers. docs/spark.md says why and how to run it; tests/test_spark_engine.py
checks that Spark decides as DuckDB does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

try:
    import sqlglot
    from sqlglot import exp
except ImportError as missing:  # pragma: no cover - the extra is installed where tests run
    raise ImportError(
        "Deciding on Spark needs the `spark` extra: pip install 'clearslate[spark]'"
    ) from missing

from clearslate.engine.il_decide import decide_il
from clearslate.engine.pipeline import decide_rows
from clearslate.il_policy import ILPolicy
from clearslate.policy import Policy

if TYPE_CHECKING:  # (for the type hints only: the caller brings its Spark session)
    import pyarrow
    from pyspark.sql import DataFrame, SparkSession

# DuckDB's functions of a number of years, months or days as an interval to add to a date,
# which SQLGlot writes for Spark as they are (Spark has none of them): make_interval, the
# number at its argument for the unit.
_INTERVALS = {"TO_YEARS": 0, "TO_MONTHS": 1, "TO_DAYS": 3}
# strptime's formats as Spark's datetime patterns: the engine reads DOJ's dates, YYYYMMDD,
# only where the text is 8 characters (on which the two agree: tests/test_spark_engine.py).
_DATE_PATTERNS = {"%Y%m%d": "yyyyMMdd"}


def _spark_function(node: exp.Expression) -> exp.Expression:
    """One node of a DuckDB statement that SQLGlot would write as Spark cannot run it, as
    Spark's equivalent; any other node as it is."""
    if isinstance(node, exp.ToDays):  # (the one of the three SQLGlot parses by name)
        number, position = node.this, _INTERVALS["TO_DAYS"]
    elif isinstance(node, exp.Anonymous) and node.name.upper() in _INTERVALS:
        number, position = node.expressions[0], _INTERVALS[node.name.upper()]
    elif isinstance(node, exp.Anonymous) and node.name.upper() == "TRY_STRPTIME":
        text, form = node.expressions
        pattern = exp.Literal.string(_DATE_PATTERNS[form.name])
        return exp.Anonymous(this="TRY_TO_TIMESTAMP", expressions=[text, pattern])
    elif isinstance(node, exp.RegexpFullMatch):  # Spark's RLIKE finds; anchored, it matches
        pattern = exp.Literal.string(f"^(?:{node.expression.name})$")
        return exp.RegexpLike(this=node.this, expression=pattern)
    else:
        return node
    args = [exp.Literal.number(0)] * position + [number]
    return exp.Anonymous(this="MAKE_INTERVAL", expressions=args)


def to_spark_sql(statement: exp.Expression) -> str:
    """One statement parsed from DuckDB's SQL, as Spark SQL."""
    return statement.transform(_spark_function).sql(dialect="spark")


class SparkConnection:
    """The calls the engine makes of a DuckDB connection, on a Spark session."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._rows: list[tuple[Any, ...]] = []
        self.description: list[tuple[Any, ...]] | None = None

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> SparkConnection:
        """Run one or more statements; a query's rows are then `fetchall()`'s."""
        if parameters:
            raise ValueError(
                "SparkConnection takes no statement parameters: give the values as a table "
                "(database.create_table_from_columns)"
            )
        for statement in sqlglot.parse(sql, read="duckdb"):
            if statement is not None:
                self._run(statement)
        return self

    def _run(self, statement: exp.Expression) -> None:
        self._rows, self.description = [], None
        if isinstance(statement, exp.Drop):
            for table in statement.args["tables"]:
                self.unregister(table.name)
        elif isinstance(statement, exp.Create):
            table = self.spark.sql(to_spark_sql(statement.expression))
            if statement.kind == "TABLE":
                table = table.localCheckpoint()  # computed once, here (eager)
            table.createOrReplaceTempView(statement.this.name)
        else:
            result = self.spark.sql(to_spark_sql(statement))
            self.description = [
                (f.name, f.dataType.simpleString(), None, None, None, None, f.nullable)
                for f in result.schema.fields
            ]
            self._rows = [tuple(row) for row in result.collect()]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def register(self, name: str, table: pyarrow.Table | DataFrame) -> None:
        """`name` as a view of an Arrow table or a Spark DataFrame."""
        if not hasattr(table, "createOrReplaceTempView"):
            table = self.spark.createDataFrame(table)
        table.createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def query_progress(self) -> float:
        return -1  # (no gauge: the bar moves at each step)


def decide_on_spark(
    spark: SparkSession,
    rows: DataFrame,
    *,
    policy: Policy,
    as_of: dt.date,
    counties: Sequence[str] | None,
) -> DataFrame:
    """Decide every evaluated conviction of `rows` on Spark; return the determinations, one
    row per conviction, with the columns of DuckDB's `determinations` table.

    `rows` has `row_id` (input order), `file_index`, `source_file`, `source_line` and either
    the row facts (`facts.ROW_FACTS`, as clearslate's reader writes them) or the 95 raw DOJ
    columns, as text."""
    con = SparkConnection(spark)
    con.register("doj_rows", rows)
    decide_rows(con, counties=counties, as_of=as_of, policy=policy)  # type: ignore[arg-type]
    return spark.table("determinations")


def decide_il_on_spark(
    spark: SparkSession,
    records: DataFrame,
    links: DataFrame,
    *,
    policy: ILPolicy,
    as_of: dt.date,
) -> DataFrame:
    """Decide every cannabis charge of Illinois `records` (the `il_records` columns) whose
    people are linked in `links` (the `il_person_links` columns) on Spark; return the
    determinations, with the columns of DuckDB's `il_determinations` table."""
    con = SparkConnection(spark)
    con.register("il_records", records)
    con.register("il_person_links", links)
    decide_il(con, policy, as_of)  # type: ignore[arg-type]
    return spark.table("il_determinations")
