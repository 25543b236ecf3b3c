"""Linking quality against known truth (synthetic data): pairwise precision and recall.

Counted over pairs of records: a pair is *predicted* when both records have the same
`person_id`, *true* when both have the same true person. Recall is also given with the review
band merged in, i.e. if the reviewer accepted every pair in `il_link_review`: a true pair that
is neither linked nor in review is a miss no one will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from clearslate.database import insert_rows
from clearslate.sources.ca_doj import _sql_str


@dataclass
class Quality:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    correct_with_review: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def recall_with_review(self) -> float:
        return self.correct_with_review / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def true_pairs_in_review(self) -> int:
        return self.correct_with_review - self.correct_pairs

    @property
    def missed_outside_review(self) -> int:
        return self.true_pairs - self.correct_with_review


def load_truth(con: duckdb.DuckDBPyConnection, path: Path, file_index: int = 0) -> None:
    """`il_truth(record_id, true_id)` from a generator's truth.csv (one file per source)."""
    con.execute(
        f"""CREATE OR REPLACE TABLE il_truth AS
            SELECT source || ':{file_index}:' || source_line AS record_id, person_id AS true_id
            FROM read_csv({_sql_str(str(path))}, all_varchar = true)"""
    )


def pairwise_quality(con: duckdb.DuckDBPyConnection) -> Quality:
    """Compare `il_person_links` (and `il_link_review`) with `il_truth`."""
    pairs = "sum(n * (n - 1) // 2)"
    # persons joined through review pairs: a union-find over the few review pairs
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for a, b in con.execute("SELECT person_id_l, person_id_r FROM il_link_review").fetchall():
        ra, rb = sorted((find(a), find(b)))
        if ra != rb:
            parent[rb] = ra
    con.execute("CREATE OR REPLACE TEMP TABLE _il_merged (person_id VARCHAR, merged VARCHAR)")
    if parent:
        insert_rows(con, "_il_merged", ["VARCHAR", "VARCHAR"], [(p, find(p)) for p in parent])
    row = con.execute(
        f"""WITH j AS (SELECT l.person_id, coalesce(m.merged, l.person_id) AS merged, t.true_id
                       FROM il_person_links l JOIN il_truth t USING (record_id)
                       LEFT JOIN _il_merged m USING (person_id))
            SELECT (SELECT {pairs} FROM (SELECT count(*) AS n FROM j GROUP BY true_id)),
                   (SELECT {pairs} FROM (SELECT count(*) AS n FROM j GROUP BY person_id)),
                   (SELECT {pairs} FROM (SELECT count(*) AS n FROM j GROUP BY person_id, true_id)),
                   (SELECT {pairs} FROM (SELECT count(*) AS n FROM j GROUP BY merged, true_id))"""
    ).fetchall()[0]
    return Quality(*(int(v or 0) for v in row))
