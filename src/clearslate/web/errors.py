"""The workspace's log (`clearslate.web`): an unexpected error by its kind and where it was
raised, never its message. A message may quote what the failing code was handling: a database
error quotes its SQL parameters (a name searched, a research file's names, CII and case
numbers), and the log goes wherever the server's standard error goes."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

log = logging.getLogger("clearslate.web")


def log_unexpected(what: str, exc: BaseException) -> None:
    """Log `exc`, an error no code expected while doing `what` (no personal data in it): its
    kind and its frames (file, line, function; innermost first), nothing of its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    log.error("%s: unexpected error %s at %s", what, type(exc).__name__, where)
