"""Read a user-named file with a size bound, so a huge, special or binary file is refused, not swallowed.

Pure. The stack config, JSON inputs and traffic traces each word their own errors (file and line
shapes differ by format), so these raise small exceptions that carry the facts and the callers
format them.
"""

from __future__ import annotations

from pathlib import Path


class FileProblemError(ValueError):
    """The file cannot be read whole; the message says why, without the path (callers add it)."""


class NotUtf8Error(ValueError):
    """The bytes are not UTF-8 text: where the first bad byte is."""

    def __init__(self, line: int, offset: int, byte: int) -> None:
        super().__init__(f"line {line}: not UTF-8 text (byte 0x{byte:02x})")
        self.line, self.offset, self.byte = line, offset, byte


def read_bytes(path: Path, limit: int, *, expected: str = "a file", too_large: str = "") -> bytes:
    """At most `limit` bytes of `path`; a folder, a missing or unreadable file, or a larger one is refused."""
    if path.is_dir():
        raise FileProblemError(f"is a folder, expected {expected}")
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)  # never more, whatever the file (or device) is
    except FileNotFoundError:
        raise FileProblemError("no such file") from None
    except OSError as e:
        raise FileProblemError(f"cannot read ({e.strerror or e})") from None
    if len(data) > limit:
        raise FileProblemError(too_large or f"larger than {limit:,} bytes")
    return data


def utf8(data: bytes, *, bom: bool = True) -> str:
    """The text (a UTF-8 byte-order mark dropped when `bom`), or NotUtf8Error naming the first bad byte."""
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as e:
        raise NotUtf8Error(data[: e.start].count(b"\n") + 1, e.start, data[e.start]) from None
