"""Link the people of `il_records` across sources: `il_person_links` and `il_link_review`.

1. **Identities.** The rows of one court case (or one ISP arrest) that name the same person the
   same way are one *identity*; names are cleaned (upper case, letters only), nicknames mapped to
   the formal name (`names.py`), addresses abbreviated (WEST → W, STREET → ST).
2. **Scoring** with Splink (Fellegi-Sunter, DuckDB backend) on first name (exact / nickname /
   Jaro-Winkler), last name, middle initial, suffix (JR vs SR is strong evidence *against*),
   date of birth (exact / day and month swapped / one digit / same year), SID and address.
   u probabilities come from a seeded random sample of pairs and m probabilities from EM on
   the input; on small inputs (or `training: fixed`) both come from the documented values in
   `linking.yaml`.
3. **Clustering** that cannot chain people together: pairs at or above `accept` are merged in
   order of probability, and a merge is refused when the two groups disagree on a suffix
   (JR / SR), an SID, or a birth date that is not a slip of the other. Refused pairs and pairs in
   the review band (`review_from` ≤ p < `accept`) that ended in different people are listed in
   `il_link_review` for a person to decide: they are never merged silently.

`person_id` is a hash of the person's first record id, so the same inputs and settings give the
same ids.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import duckdb

from clearslate.database import insert_rows
from clearslate.link.names import NICKNAMES
from clearslate.link.settings import COMPARISON_LEVELS, LinkSettings, load_link_settings
from clearslate.progress import Parts, no_parts, within
from clearslate.sources.il_canonical import IL_PERSON_LINK_COLUMNS, create_sql

REVIEW_COLUMNS = (
    ("record_id_l", "VARCHAR", "a record of the one identity"),
    ("record_id_r", "VARCHAR", "a record of the other identity"),
    ("person_id_l", "VARCHAR", "the person the first record was linked to"),
    ("person_id_r", "VARCHAR", "the person the second record was linked to"),
    ("match_probability", "DOUBLE", "the pair's match probability"),
    ("link_fields", "VARCHAR", "the fields that agree"),
    ("reason", "VARCHAR", "'uncertain' or 'conflict: suffix|sid|dob'"),
)


@dataclass
class LinkResult:
    records: int
    identities: int
    persons: int
    linked_records: int
    review_records: int
    review_pairs: int
    pairs_scored: int
    training: str
    prior: float
    seconds: float


def link_people(
    con: duckdb.DuckDBPyConnection, settings: LinkSettings | None = None, part: Parts = no_parts
) -> LinkResult:
    """Link `il_records` into `il_person_links` and `il_link_review` (both replaced). `part`
    is told each step as it begins, with its share of the linking (20,000 synthetic people:
    0.34 s the identities, 3.32 s Splink's scores, 0.71 s the clusters and links written)."""
    started = time.perf_counter()
    settings = settings or load_link_settings()
    part(0.08, None)
    _identities(con)
    identities = con.execute("SELECT count(*) FROM _il_ident").fetchall()[0][0]
    training, prior = "none", 0.0
    pairs: list[tuple] = []
    if identities > 1:  # (the scoring's own steps are 0.76 of the linking)
        pairs, training, prior = _score(con, settings, identities, within(part, 0.76))
    part(0.16, None)
    nodes = {
        uid: (suffix, sid, dob)
        for uid, suffix, sid, dob in con.execute(
            "SELECT unique_id, name_suffix, sid, dob_str FROM _il_ident"
        ).fetchall()
    }
    person_of, best, weakest, review = _cluster(nodes, pairs, settings)
    _write(con, person_of, best, weakest, review)
    counts = con.execute(
        """SELECT count(*), count(DISTINCT person_id),
                  count(*) FILTER (WHERE link_status = 'linked'),
                  count(*) FILTER (WHERE link_status = 'review')
           FROM il_person_links"""
    ).fetchall()[0]
    return LinkResult(
        records=counts[0],
        identities=identities,
        persons=counts[1],
        linked_records=counts[2],
        review_records=counts[3],
        review_pairs=len(review),
        pairs_scored=len(pairs),
        training=training,
        prior=prior,
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------------------------
# 1. Identities


def _letters(col: str) -> str:
    return f"nullif(regexp_replace(upper(trim({col})), '[^A-Z]', '', 'g'), '')"


_STREET_WORDS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "STREET": "ST",
    "AVENUE": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "PLACE": "PL",
    "COURT": "CT",
    "LANE": "LN",
    "PARKWAY": "PKWY",
    "APARTMENT": "APT",
}


def _identities(con: duckdb.DuckDBPyConnection) -> None:
    street = "regexp_replace(upper(trim(street)), '[^A-Z0-9 ]', '', 'g')"
    for word, abbr in _STREET_WORDS.items():
        street = f"regexp_replace({street}, '\\b{word}\\b', '{abbr}', 'g')"
    nick = " ".join(f"WHEN '{n}' THEN '{formal}'" for formal, ns in NICKNAMES.items() for n in ns)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _il_rec AS
            SELECT record_id, source,
                   coalesce(CASE WHEN source = 'court' THEN case_number ELSE arrest_id END,
                            record_id) AS grp,
                   {_letters("last_name")} AS last_name,
                   {_letters("first_name")} AS first_name,
                   left({_letters("middle_name")}, 1) AS middle_initial,
                   name_suffix, dob,
                   nullif(regexp_replace(upper(sid), '[^A-Z0-9]', '', 'g'), '') AS sid,
                   nullif(trim(regexp_replace({street}, ' +', ' ', 'g')), '') AS street,
                   nullif(left(regexp_replace(zip, '[^0-9]', '', 'g'), 5), '') AS zip
            FROM il_records"""
    )
    key = "source, grp, last_name, first_name, middle_initial, name_suffix, dob, sid, street, zip"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _il_rec_ident AS
            SELECT record_id, min(record_id) OVER (PARTITION BY {key}) AS unique_id
            FROM _il_rec;
            CREATE OR REPLACE TABLE _il_ident AS
            SELECT DISTINCT ON (i.unique_id) i.unique_id, r.source, r.last_name, r.first_name,
                   CASE r.first_name {nick} ELSE r.first_name END AS first_canon,
                   r.middle_initial, r.name_suffix, r.dob, strftime(r.dob, '%Y%m%d') AS dob_str,
                   r.sid, r.street, r.zip
            FROM _il_rec r JOIN _il_rec_ident i USING (record_id)
            ORDER BY i.unique_id"""
    )


# ---------------------------------------------------------------------------------------------
# 2. Scoring


def _jw(col: str, at: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {at}'


def _null(*cols: str) -> dict:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return {"sql_condition": cond, "label_for_charts": "missing", "is_null_level": True}


def _level(sql: str, label: str) -> dict:
    return {"sql_condition": sql, "label_for_charts": label}


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "else"}

# comparison → its levels after the null level, in the order of `fixed_m`
_LEVELS: dict[str, tuple[dict, list[dict]]] = {
    "first_name": (
        _null("first_name"),
        [
            _level('"first_name_l" = "first_name_r"', "exact"),
            _level('"first_canon_l" = "first_canon_r"', "nickname"),
            _level(_jw("first_name", 0.92), "jw>=0.92"),
            _level(_jw("first_name", 0.80), "jw>=0.80"),
            _ELSE,
        ],
    ),
    "last_name": (
        _null("last_name"),
        [
            _level('"last_name_l" = "last_name_r"', "exact"),
            _level(_jw("last_name", 0.92), "jw>=0.92"),
            _level(_jw("last_name", 0.80), "jw>=0.80"),
            _ELSE,
        ],
    ),
    "middle_initial": (
        _null("middle_initial"),
        [_level('"middle_initial_l" = "middle_initial_r"', "same initial"), _ELSE],
    ),
    "name_suffix": (
        {
            "sql_condition": '"name_suffix_l" IS NULL AND "name_suffix_r" IS NULL',
            "label_for_charts": "neither",
            "is_null_level": True,
        },
        [
            _level('"name_suffix_l" = "name_suffix_r"', "same"),
            _level('"name_suffix_l" <> "name_suffix_r"', "different (JR vs SR)"),
            _ELSE,  # one has a suffix, the other none
        ],
    ),
    "dob": (
        _null("dob"),
        [
            _level('"dob_l" = "dob_r"', "exact"),
            _level(
                'year("dob_l") = year("dob_r") AND month("dob_l") = day("dob_r") '
                'AND day("dob_l") = month("dob_r")',
                "day and month swapped",
            ),
            _level('damerau_levenshtein("dob_str_l", "dob_str_r") <= 1', "one digit"),
            _level('year("dob_l") = year("dob_r")', "same year"),
            _ELSE,
        ],
    ),
    "sid": (_null("sid"), [_level('"sid_l" = "sid_r"', "exact"), _ELSE]),
    "address": (
        {
            "sql_condition": '("street_l" IS NULL AND "zip_l" IS NULL) '
            'OR ("street_r" IS NULL AND "zip_r" IS NULL)',
            "label_for_charts": "missing",
            "is_null_level": True,
        },
        [
            _level('"street_l" = "street_r"', "same street"),
            _level(_jw("street", 0.90), "similar street"),
            _level('"zip_l" = "zip_r"', "same ZIP"),
            _ELSE,
        ],
    ),
}
assert {k: len(v[1]) for k, v in _LEVELS.items()} == COMPARISON_LEVELS


def _comparisons(settings: LinkSettings, fixed: bool) -> list:
    from splink.comparison_library import CustomComparison

    out = []
    for name, (null, levels) in _LEVELS.items():
        levels = [dict(level) for level in levels]
        if fixed:
            fixed_mu = zip(levels, settings.fixed_m[name], settings.fixed_u[name], strict=True)
            for level, m, u in fixed_mu:
                level["m_probability"], level["u_probability"] = m, u
        out.append(CustomComparison([null, *levels], output_column_name=name))
    return out


def _score(
    con: duckdb.DuckDBPyConnection, settings: LinkSettings, identities: int, part: Parts
) -> tuple[list[tuple], str, float]:
    """Scored pairs (uid_l, uid_r, p, fields, veto) at or above `review_from`, the training
    used and the prior. A pair with a veto is never linked automatically:

    * the first names are unrelated (not nicknames of each other, Jaro-Winkler < 0.8): twins,
      or an alias;
    * neither an SID nor a birth date (or a slip of it) in common: name and address alone
      cannot tell a father from his son when the suffix is left off.

    `part` is told each of Splink's steps as it begins, with its share of the scoring
    (20,000 synthetic people, EM: 1.22 s the u probabilities, 0.20 and 0.63 s the two EM
    sessions, 0.85 s the predictions, of 3.26 s)."""
    try:
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError:
        raise ImportError(
            "linking people needs Splink: pip install 'clearslate[illinois]' (splink==5.0.0)"
        ) from None
    logging.getLogger("splink").setLevel(logging.ERROR)
    training = settings.training
    if training == "em" and identities < settings.min_records_for_em:
        training = "fixed"  # too few records for EM to settle: the documented values
    creator = SettingsCreator(
        link_type="dedupe_only",
        comparisons=_comparisons(settings, fixed=training == "fixed"),
        blocking_rules_to_generate_predictions=[
            block_on("sid"),
            block_on("dob"),
            block_on("last_name", "first_canon"),
            block_on("first_canon", "substr(dob_str, 1, 4)"),
            block_on("last_name", "zip"),
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        linker_uid="clearslate",
    )
    db_api = DuckDBAPI(connection=con.cursor())  # its own cursor: Splink fetches lazily
    table = db_api.register("_il_ident", table_name="il_identities")
    linker = Linker(table, creator, log_level=None)
    exact = [
        "l.sid = r.sid",
        "l.dob = r.dob AND l.last_name = r.last_name AND l.first_canon = r.first_canon",
    ]
    part(0.02, None)
    if settings.prior != "estimate":
        linker._settings_obj._probability_two_random_records_match = settings.prior
    elif training == "fixed":
        linker._settings_obj._probability_two_random_records_match = settings.fixed_prior
    else:
        linker.training.estimate_probability_two_random_records_match(exact, recall=0.7)
    prior = linker._settings_obj._probability_two_random_records_match
    if training == "em":
        part(0.37, None)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=settings.u_max_pairs, seed=settings.seed
        )
        part(0.06, None)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("dob"), estimate_without_term_frequencies=True
        )
        part(0.19, None)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("last_name", "first_canon"), estimate_without_term_frequencies=True
        )
    part(0.26, None)
    predictions = linker.inference.predict(threshold_match_probability=settings.review_from)
    part(0.10, None)
    weights = ", ".join(f'"mw_{name}"' for name in _LEVELS)
    rows = con.execute(
        f"""SELECT p.unique_id_l, p.unique_id_r, p.match_probability,
                   a.first_canon <> b.first_canon
                     AND jaro_winkler_similarity(a.first_name, b.first_name) < 0.8,
                   coalesce(a.sid = b.sid, FALSE), a.dob_str, b.dob_str, {weights}
            FROM {predictions.physical_name} p
            JOIN _il_ident a ON a.unique_id = p.unique_id_l
            JOIN _il_ident b ON b.unique_id = p.unique_id_r"""
    ).fetchall()
    pairs = []
    for uid_l, uid_r, p, other_first, same_sid, dob_l, dob_r, *weights in rows:
        # a field "drove" the link if it weighs for it
        fields = ",".join(n for n, w in zip(_LEVELS, weights, strict=True) if w and w > 0)
        left, right = sorted((uid_l, uid_r))
        veto = None
        if other_first:
            veto = "conflict: first name"  # twins, or an alias
        elif not same_sid and not (dob_l and dob_r and _dobs_compatible(dob_l, dob_r)):
            veto = "uncertain: no birth date or SID in common"  # a father or his son?
        pairs.append((left, right, float(p), fields, veto))
    predictions.drop_table_from_database_and_remove_from_cache()
    return pairs, training, float(prior)


# ---------------------------------------------------------------------------------------------
# 3. Clustering


def _dobs_compatible(a: str, b: str) -> bool:
    """Equal, day and month swapped, or one digit changed or two neighbours swapped."""
    if a == b or (a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]):
        return True
    diff = [i for i in range(8) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and (a[diff[1]] == b[diff[0]])
    )


class _Groups:
    """Union-find whose groups remember their suffixes, SIDs and birth dates."""

    def __init__(self, nodes: dict[str, tuple]) -> None:
        self.parent = {uid: uid for uid in nodes}
        self.facts = {
            uid: ({s} - {None}, {i} - {None}, {d} - {None}) for uid, (s, i, d) in nodes.items()
        }

    def find(self, uid: str) -> str:
        root = uid
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[uid] != root:
            self.parent[uid], uid = root, self.parent[uid]
        return root

    def conflict(self, a: str, b: str) -> str | None:
        (sa, ia, da), (sb, ib, db) = self.facts[a], self.facts[b]
        if len(sa | sb) > 1:
            return "suffix"
        if len(ia | ib) > 1:
            return "sid"
        if any(not _dobs_compatible(x, y) for x in da for y in db):
            return "dob"
        return None

    def union(self, a: str, b: str) -> None:
        keep, gone = sorted((a, b))
        self.parent[gone] = keep
        fk, fg = self.facts[keep], self.facts.pop(gone)
        self.facts[keep] = (fk[0] | fg[0], fk[1] | fg[1], fk[2] | fg[2])


def _cluster(
    nodes: dict[str, tuple], pairs: list[tuple], settings: LinkSettings
) -> tuple[dict[str, str], dict[str, tuple[float, str]], dict[str, float], list[tuple]]:
    """(identity → person root, identity → its best accepted link, person root → its weakest
    accepted link, review pairs)."""
    groups = _Groups(nodes)
    held: list[tuple] = []  # (l, r, p, fields, reason)
    accepted: list[tuple] = []
    unions: list[tuple[str, float]] = []
    for left, right, p, fields, veto in sorted(pairs, key=lambda x: (-x[2], x[0], x[1])):
        if p < settings.accept or veto:
            held.append((left, right, p, fields, veto or "uncertain"))
            continue
        a, b = groups.find(left), groups.find(right)
        if a == b:
            accepted.append((left, right, p, fields))
            continue
        reason = groups.conflict(a, b)
        if reason:
            held.append((left, right, p, fields, f"conflict: {reason}"))
            continue
        groups.union(a, b)
        unions.append((left, p))
        accepted.append((left, right, p, fields))
    person_of = {uid: groups.find(uid) for uid in nodes}
    weakest: dict[str, float] = {}
    for uid, p in unions:  # in falling probability: the last one of a person is its weakest
        weakest[person_of[uid]] = p
    best: dict[str, tuple[float, str]] = {}
    for left, right, p, fields in accepted:  # sorted by probability: the first is the best
        for uid in (left, right):
            best.setdefault(uid, (p, fields))
    # one review pair per two persons (the most probable): what a person decides is whether
    # the two are one
    review, seen = [], set()
    for held_pair in held:  # sorted by probability
        key = tuple(sorted((person_of[held_pair[0]], person_of[held_pair[1]])))
        if key[0] != key[1] and key not in seen:
            seen.add(key)
            review.append(held_pair)
    return person_of, best, weakest, review


# ---------------------------------------------------------------------------------------------
# Output


def person_id(root: str) -> str:
    return "P" + hashlib.sha256(root.encode()).hexdigest()[:12].upper()


def _write(
    con: duckdb.DuckDBPyConnection,
    person_of: dict[str, str],
    best: dict[str, tuple[float, str]],
    weakest: dict[str, float],
    review: list[tuple],
) -> None:
    in_review = {uid for pair in review for uid in pair[:2]}
    size: dict[str, int] = {}
    for root in person_of.values():
        size[root] = size.get(root, 0) + 1
    rows = []
    for uid, root in person_of.items():
        # the weakest automatic link holding the person together; the row's own best link's fields
        p, fields = weakest.get(root, 1.0), best.get(uid, (None, None))[1]
        status = "review" if uid in in_review else "linked" if size[root] > 1 else "single"
        rows.append((uid, person_id(root), p, status, fields))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _il_ident_link (unique_id VARCHAR, person_id VARCHAR, "
        "match_probability DOUBLE, link_status VARCHAR, link_fields VARCHAR)"
    )
    insert_rows(con, "_il_ident_link", ["VARCHAR", "VARCHAR", "DOUBLE", "VARCHAR", "VARCHAR"], rows)
    con.execute("DROP TABLE IF EXISTS il_person_links")
    con.execute(create_sql("il_person_links", IL_PERSON_LINK_COLUMNS))
    con.execute(
        """INSERT INTO il_person_links
           SELECT i.record_id, l.person_id, l.match_probability, l.link_status, l.link_fields
           FROM _il_rec_ident i JOIN _il_ident_link l USING (unique_id)
           ORDER BY i.record_id"""
    )
    con.execute("DROP TABLE IF EXISTS il_link_review")
    con.execute(create_sql("il_link_review", REVIEW_COLUMNS))
    insert_rows(
        con,
        "il_link_review",
        [kind for _, kind, _ in REVIEW_COLUMNS],
        [
            (left, right, person_id(person_of[left]), person_id(person_of[right]), p, f, why)
            for left, right, p, f, why in sorted(review, key=lambda x: (x[0], x[1]))
        ],
    )
