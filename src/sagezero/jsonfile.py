"""Read a user-supplied JSON file, turning every way it can be wrong into one line naming the file.

Missing, a folder, unreadable, binary, not JSON, or nested deeper than any real document: each is a
JsonFileError whose message starts with the path. With `finite=True`, NaN, Infinity and numbers
that overflow to it (not JSON, though Python's parser takes them, and numbers no range check
compares right with) are refused too; stack exports keep them, because the policy rules judge an
infinite value as a finding. Pure: no Pulumi, no boto3; callers wrap the message in their own error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sagezero.boundedfile import FileProblemError, NotUtf8Error, read_bytes, utf8

MAX_BYTES = 256 * 1024 * 1024  # far above any stack export, below what would exhaust memory


class JsonFileError(ValueError):
    """The file is missing or not JSON; the message starts with its path."""


class _NotFiniteError(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to inf
        raise _NotFiniteError(f"the number {text[:40]} is too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise _NotFiniteError(f"{name} is not a JSON number")


def loads(text: str, where: str, *, finite: bool = True) -> Any:
    """Parse `text` (with `finite`, finite numbers only); errors name `where` and the line."""
    strict: dict[str, Any] = {"parse_float": _finite_float, "parse_constant": _no_constant} if finite else {}
    try:
        return json.loads(text, **strict)
    except json.JSONDecodeError as e:
        raise JsonFileError(f"{where}:{e.lineno}: not valid JSON ({e.msg}, column {e.colno})") from None
    except _NotFiniteError as e:
        raise JsonFileError(f"{where}: {e}") from None
    except RecursionError:
        raise JsonFileError(f"{where}: nested too deeply to be read") from None
    except ValueError as e:  # an integer of more digits than Python converts (4,300)
        raise JsonFileError(f"{where}: not readable as JSON ({str(e)[:80]})") from None


def read_json(path: Path, *, limit: int = MAX_BYTES, finite: bool = False) -> Any:
    try:
        text = utf8(read_bytes(path, limit, expected="a JSON file"), bom=False)
    except FileProblemError as e:
        raise JsonFileError(f"{path}: {e}") from None
    except NotUtf8Error as e:
        raise JsonFileError(f"{path}: not UTF-8 text (byte 0x{e.byte:02x} at offset {e.offset})") from None
    return loads(text, str(path), finite=finite)
