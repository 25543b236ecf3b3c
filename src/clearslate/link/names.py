"""Given names and their nicknames (a small, public-domain-style list of common US forms).

The linker compares first names through `canonical_first_name`, so BILL and WILLIAM agree; the
synthetic generator draws nicknames from the same table. An office can rely on the table being
wider than the generator's use of it: a name not in it compares as itself.
"""

from __future__ import annotations

from typing import Final

# formal name → nicknames
NICKNAMES: Final[dict[str, tuple[str, ...]]] = {
    "WILLIAM": ("BILL", "BILLY", "WILL", "WILLIE"),
    "ROBERT": ("BOB", "BOBBY", "ROB", "ROBBIE"),
    "JAMES": ("JIM", "JIMMY", "JAMIE"),
    "JOHN": ("JACK", "JOHNNY"),
    "MICHAEL": ("MIKE", "MIKEY"),
    "RICHARD": ("RICK", "RICKY", "DICK", "RICH"),
    "JOSEPH": ("JOE", "JOEY"),
    "THOMAS": ("TOM", "TOMMY"),
    "CHARLES": ("CHUCK", "CHARLIE"),
    "ANTHONY": ("TONY",),
    "DANIEL": ("DAN", "DANNY"),
    "CHRISTOPHER": ("CHRIS",),
    "DAVID": ("DAVE",),
    "EDWARD": ("ED", "EDDIE"),
    "ANDREW": ("ANDY", "DREW"),
    "MATTHEW": ("MATT",),
    "STEVEN": ("STEVE",),
    "KENNETH": ("KEN", "KENNY"),
    "DONALD": ("DON", "DONNIE"),
    "RONALD": ("RON", "RONNIE"),
    "TIMOTHY": ("TIM", "TIMMY"),
    "GREGORY": ("GREG",),
    "FRANCISCO": ("PACO", "FRANK"),
    "ALEJANDRO": ("ALEX",),
    "TERRENCE": ("TERRY",),
    "LAWRENCE": ("LARRY",),
    "RAYMOND": ("RAY",),
    "GERALD": ("JERRY",),
    "ELIZABETH": ("LIZ", "BETH", "BETTY"),
    "JENNIFER": ("JEN", "JENNY"),
    "PATRICIA": ("PAT", "PATTY", "TRISH"),
    "MARGARET": ("PEGGY", "MAGGIE"),
    "KATHERINE": ("KATE", "KATHY", "KATIE"),
    "SUSAN": ("SUE", "SUSIE"),
    "DEBORAH": ("DEB", "DEBBIE"),
    "REBECCA": ("BECKY",),
    "ANGELA": ("ANGIE",),
    "GUADALUPE": ("LUPE",),
    "JESSICA": ("JESS",),
    "VICTORIA": ("VICKY", "TORI"),
    "CYNTHIA": ("CINDY",),
    "PAMELA": ("PAM",),
}

_CANONICAL: Final[dict[str, str]] = {
    nick: formal for formal, nicks in NICKNAMES.items() for nick in nicks
}


def canonical_first_name(name: str | None) -> str | None:
    """The formal form of a first name (BILL → WILLIAM); other names unchanged."""
    if name is None:
        return None
    return _CANONICAL.get(name, name)
