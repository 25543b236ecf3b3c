"""Disclosure control for published counts: small cells and the cells that would reveal them.

Every count in a report is a *variable* with a global name; a count shown in several tables
(the outcome totals, for example) is one variable, so it is either shown everywhere or
suppressed everywhere. Tables add *equations*: the cells of a row add up to its total, the
rows of a column add up to the column total.

Primary suppression hides every count from 1 to 10 (shown as "<11"). Secondary (complementary)
suppression then hides more cells until no suppressed count can be computed exactly from
the published ones through any combination of the equations: a suppressed variable is
exactly derivable when the unit vector of that variable lies in the row space of the
equations restricted to the suppressed variables (checked with exact rational arithmetic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

SMALL_MIN = 1
SMALL_MAX = 10
SUPPRESSED_TEXT = "<11"  # a count from 1 to 10 (primary suppression)
COMPLEMENT_TEXT = "—"  # a count hidden so that no count under 11 can be worked out


def is_small(value: int) -> bool:
    return SMALL_MIN <= value <= SMALL_MAX


@dataclass
class Equation:
    """sum(parts) == total."""

    parts: tuple[str, ...]
    total: str

    def members(self) -> tuple[str, ...]:
        return (*self.parts, self.total)


@dataclass
class Disclosure:
    """The counts of one report, their equations, and which of them are suppressed."""

    values: dict[str, int] = field(default_factory=dict)
    shared: set[str] = field(default_factory=set)  # shown in more than one table
    totals: set[str] = field(default_factory=set)  # margins (a total of other cells)
    equations: list[Equation] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)  # primary and secondary
    primary: set[str] = field(default_factory=set)  # the counts from 1 to 10

    def add(self, key: str, value: int, *, shared: bool = False) -> str:
        old = self.values.get(key)
        if old is not None and old != value:
            raise ValueError(f"count {key!r} given twice with different values: {old}, {value}")
        self.values[key] = int(value)
        if shared:
            self.shared.add(key)
        return key

    def add_equation(self, parts: Iterable[str], total: str) -> None:
        parts = tuple(parts)
        for key in (*parts, total):
            if key not in self.values:
                raise KeyError(key)
        if sum(self.values[p] for p in parts) != self.values[total]:
            raise ValueError(
                f"cells do not add up to {total!r}: "
                f"{sum(self.values[p] for p in parts)} != {self.values[total]}"
            )
        self.totals.add(total)
        self.equations.append(Equation(parts, total))

    # ---- suppression ---------------------------------------------------------------------

    def apply(self) -> set[str]:
        """Primary then secondary suppression; returns (and keeps) the suppressed set."""
        suppressed = {k for k, v in self.values.items() if is_small(v)}
        self.primary = set(suppressed)
        published_zeros: set[str] = set()  # complements given back: they are 0 whatever is hidden
        while True:
            exposed = derivable(self.equations, suppressed)
            if not exposed:
                break
            # One complement at a time, then look again: the fewest cells are hidden.
            choice = None
            for key in sorted(exposed):
                choice = self._complement(key, suppressed | published_zeros)
                if choice is not None:
                    break
            if choice is None:
                # Every equation of the exposed cells is already hidden: widen the search to
                # any equation with a hidden member (always progresses; all hidden is safe).
                fallback = sorted(
                    (self.values[m] == 0, self.values[m], m)
                    for eq in self.equations
                    if any(x in suppressed for x in eq.members())
                    for m in eq.members()
                    if m not in suppressed and m not in published_zeros
                )
                if not fallback:
                    # Every equation with a hidden member is all hidden: what is still derived
                    # follows from sums of hidden counts alone, so it is 0 (e.g. a column of
                    # zeros). A hidden 0 reveals nothing: publish those complements again.
                    zeros = {k for k in exposed - self.primary if self.values[k] == 0}
                    if not zeros:
                        raise RuntimeError("disclosure control could not protect every small count")
                    suppressed -= zeros
                    published_zeros |= zeros
                    continue
                choice = fallback[0][2]
            suppressed.add(choice)
        # Clean up: publish again every complement that is not needed, largest first.
        for key in sorted(suppressed - self.primary, key=lambda k: (-self.values[k], k)):
            suppressed.discard(key)
            if derivable(self.equations, suppressed):
                suppressed.add(key)
        self.suppressed = suppressed
        return suppressed

    def _complement(self, key: str, suppressed: set[str]) -> str | None:
        """A published cell to hide with `key`: in an equation of `key` with the fewest
        hidden members, the least informative candidate (an interior cell before a total,
        a cell of one table before a shared one, then the smallest positive count)."""
        options = []
        for eq in self.equations:
            members = eq.members()
            if key not in members:
                continue
            hidden = sum(1 for m in members if m in suppressed)
            for m in members:
                if m not in suppressed:  # (also excludes the zeros given back)
                    value = self.values[m]
                    rank = (hidden, m in self.shared, m in self.totals, value == 0, value, m)
                    options.append((rank, m))
        return min(options)[1] if options else None

    # ---- reading -------------------------------------------------------------------------

    def shown(self, key: str) -> int | None:
        """The published value, or None when suppressed."""
        return None if key in self.suppressed else self.values[key]

    def hidden_text(self, key: str) -> str:
        """What a suppressed count shows: "<11" for a small count, "—" for a complement."""
        return SUPPRESSED_TEXT if key in self.primary else COMPLEMENT_TEXT


def derivable(equations: Iterable[Equation], suppressed: set[str]) -> set[str]:
    """The suppressed variables whose exact value follows from the equations and the
    published values: those whose unit vector is a row of the reduced row echelon form of
    the equations' coefficients on the suppressed variables."""
    unknowns = sorted(suppressed)
    index = {k: i for i, k in enumerate(unknowns)}
    rows: list[dict[int, Fraction]] = []
    for eq in equations:
        row: dict[int, Fraction] = {}
        for p in eq.parts:
            if p in index:
                row[index[p]] = row.get(index[p], Fraction(0)) + 1
        if eq.total in index:
            row[index[eq.total]] = row.get(index[eq.total], Fraction(0)) - 1
        row = {c: v for c, v in row.items() if v != 0}
        if row:
            rows.append(row)
    reduced = rref(rows)
    return {unknowns[next(iter(r))] for r in reduced if len(r) == 1}


def rref(rows: list[dict[int, Fraction]]) -> list[dict[int, Fraction]]:
    """Reduced row echelon form of sparse rows (column -> coefficient), exact."""
    pivots: dict[int, dict[int, Fraction]] = {}  # pivot column -> its row (pivot 1)
    for row in rows:
        row = dict(row)
        # eliminate every kept pivot from the new row (substitution may bring in others)
        while cols := [c for c in row if c in pivots]:
            col = min(cols)
            factor = row[col]
            for c, v in pivots[col].items():
                nv = row.get(c, Fraction(0)) - factor * v
                if nv:
                    row[c] = nv
                else:
                    row.pop(c, None)
        if not row:
            continue
        col = min(row)
        lead = row[col]
        row = {c: v / lead for c, v in row.items()}
        # eliminate the new pivot from the rows already kept
        for pcol, prow in pivots.items():
            if col in prow:
                factor = prow[col]
                for c, v in row.items():
                    nv = prow.get(c, Fraction(0)) - factor * v
                    if nv:
                        prow[c] = nv
                    else:
                        prow.pop(c, None)
                pivots[pcol] = prow
        pivots[col] = row
    return list(pivots.values())
