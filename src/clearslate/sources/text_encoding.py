"""UTF-16 text files, recognised from their first bytes: the one place every reader of a
file an office or a spreadsheet saved (research files, Illinois exports, address, decisions
and canonical files) learns it. Excel's "Unicode text" export starts with a byte-order mark;
the same export by other tools may not. Read as UTF-8 or Latin-1, every other byte of such a
file is a NUL: its header line was not found, or was taken for a person."""

from __future__ import annotations

import codecs
from pathlib import Path

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEAD_BYTES = 64  # enough to recognise UTF-16 without a byte-order mark (32 letters)


def utf16_codec(head: bytes) -> str | None:
    """The codec of a file that starts with `head` (its first HEAD_BYTES) if it is UTF-16,
    else None. With a byte-order mark "utf-16"; without one, a file whose first letters each
    have a NUL beside them, "utf-16-le" or "utf-16-be"."""
    if head.startswith(UTF16_BOMS):
        return "utf-16"
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0 : 2 * pairs : 2], head[1 : 2 * pairs : 2]
    if not odd.strip(b"\x00") and b"\x00" not in even:
        return "utf-16-le"
    if not even.strip(b"\x00") and b"\x00" not in odd:
        return "utf-16-be"
    return None


def decodes(path: Path, encoding: str, start: int = 0) -> bool:
    """Whether the file, from byte `start`, is valid text in `encoding` (read a block at a
    time: a file of any size)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            fh.seek(start)
            while block := fh.read(8 * 1024 * 1024):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def utf16_text(raw: bytes) -> str | None:
    """A whole file's text if it is UTF-16 (a byte that cannot be read becomes U+FFFD), else
    None."""
    codec = utf16_codec(raw[:HEAD_BYTES])
    return raw.decode(codec, errors="replace") if codec else None
