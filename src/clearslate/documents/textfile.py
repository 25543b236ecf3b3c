"""The office's own CSV files (addresses, reviewers' decisions) as text, in whatever encoding
a spreadsheet saved them: UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode
text"; with or without a byte-order mark), or Windows-1252 / Latin-1 (Excel's "CSV" on
Windows). Reading them as UTF-8 only stopped at the first accented name, and every row after
it was lost."""

from __future__ import annotations

from pathlib import Path

from clearslate.sources.text_encoding import utf16_text


def read_office_text(path: Path) -> str:
    """The file's text (OSError if it cannot be read)."""
    return office_text(path.read_bytes())


def office_text(raw: bytes) -> str:
    """The text of an office file's bytes (the workspace checks an upload before saving it)."""
    if (text := utf16_text(raw)) is not None:
        return text
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte is a letter
