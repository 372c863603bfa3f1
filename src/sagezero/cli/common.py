"""What every command shares: exit codes, the one-line failure, and argument types that refuse bad
values (NaN, infinities, negative durations, names AWS would refuse) before anything runs.

A user who mistypes a flag should read one line naming the flag and what it expects, not a usage
block or a traceback; so the parser's own errors come out in the same shape as ours.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from sagezero import quote

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in sagezero, not bad input
_MAX_LINE = 1000
_EXCERPT = quote.LIMIT


class UsageError(Exception):
    """Bad input from the user: reported as one message, exit code 2."""


def excerpt(value: object, limit: int = _EXCERPT) -> str:
    """A value in a message: its first characters and its length (`sagezero.quote`), never a megabyte."""
    return quote.excerpt(value, limit)


def clip(message: str) -> str:
    """Every line of a message at most ~1000 characters, keeping its start and its end (the
    expectation usually comes last), so a huge value quoted deep inside cannot flood a terminal."""
    return "\n".join(
        f"{line[: _MAX_LINE // 2]} … {line[-_MAX_LINE // 3 :]}" if len(line) > _MAX_LINE else line
        for line in message.split("\n")  # only newlines: a "\r" inside a quoted value is not a line break
    )


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    sys.stderr.write(f"sagezero: {clip(message)}\n")
    raise SystemExit(code)


def need_pulumi() -> None:
    try:
        import pulumi  # noqa: F401
    except ImportError:
        fail("this command needs the Pulumi SDKs: pip install 'sagezero[pulumi]'")


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line: `sagezero warm: argument --hold-minutes: ...`."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {clip(message)} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


# ---- argument types -----------------------------------------------------------------------------


def number(what: str, *, lo: float = 0.0, hi: float | None = None, lo_open: bool = False) -> Callable[[str], float]:
    """A finite number within bounds; NaN and infinities are refused wherever a number is read."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        in_range = (value > lo if lo_open else value >= lo) and (hi is None or value <= hi)
        if not (math.isfinite(value) and in_range):
            bound = f"> {lo:g}" if lo_open else f">= {lo:g}"
            upper = f" and <= {hi:g}" if hi is not None else ""
            raise argparse.ArgumentTypeError(f"expected {what}: a finite number {bound}{upper}, got {excerpt(text)}")
        return value

    parse.__name__ = what
    return parse


def whole(what: str, *, lo: int = 0, hi: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = lo - 1
        if value < lo or (hi is not None and value > hi):
            upper = f" to {hi}" if hi is not None else " or more"
            raise argparse.ArgumentTypeError(f"expected {what}: a whole number from {lo}{upper}, got {excerpt(text)}")
        return value

    parse.__name__ = what
    return parse


def hold_minutes(raw: str) -> float:
    """A warm hold in minutes, within the limits `warm` and the simulator share (clientbehaviour)."""
    from sagezero import clientbehaviour as behaviour

    minutes = number("minutes to hold", lo=0, lo_open=True)(raw)
    if (problem := behaviour.hold_minutes_problem(minutes)) is not None:
        raise argparse.ArgumentTypeError(f"{problem}, got {excerpt(raw)} minutes")
    return minutes


def deadline_seconds(raw: str) -> float:
    """`invoke`'s retry deadline, within the limits RetryPolicy and the simulator share."""
    from sagezero import clientbehaviour as behaviour

    return number("a deadline in seconds", hi=behaviour.DEADLINE_MAX_S)(raw)


port = whole("a TCP port", lo=1, hi=65535)

_AWS_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def aws_name(what: str) -> Callable[[str], str]:
    """A SageMaker endpoint / inference component name as AWS accepts it (checked here, so a typo is
    a usage error rather than an API validation failure after credentials were looked up)."""

    def parse(text: str) -> str:
        if len(text) > 63 or not _AWS_NAME.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"expected {what}: 1-63 letters, digits or hyphens, starting and ending with a letter or digit, "
                f"got {excerpt(text)}"
            )
        return text

    parse.__name__ = what
    return parse


def region(text: str) -> str:
    if not _REGION.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected an AWS region such as eu-west-1, got {excerpt(text)}")
    return text


def header_value(what: str) -> Callable[[str], str]:
    """An HTTP header value SageMaker accepts: printable ASCII, at most 1024 characters."""

    def parse(text: str) -> str:
        if not text or len(text) > 1024 or not all(" " <= c <= "~" for c in text):
            raise argparse.ArgumentTypeError(f"expected {what}: 1-1024 printable ASCII characters, got {excerpt(text)}")
        return text

    parse.__name__ = what
    return parse


def text(what: str, *, pattern: str = r"[^\x00-\x1f\x7f]{1,256}") -> Callable[[str], str]:
    """A short, single-line name (tenant, stack, tag): control characters and empty values refused."""
    compiled = re.compile(pattern)

    def parse(value: str) -> str:
        if not compiled.fullmatch(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {excerpt(value)}")
        return value

    parse.__name__ = what
    return parse


# ---- files --------------------------------------------------------------------------------------


def existing_dir(path_text: str, flag: str) -> Path:
    path = Path(path_text)
    if not path.exists():
        fail(f"{flag} {path}: no such folder")
    if not path.is_dir():
        fail(f"{flag} {path}: not a folder")
    return path


def read_bytes(path_text: str, what: str, *, limit: int) -> bytes:
    """A whole input file (or standard input for `-`), at most `limit` bytes; every way the path can be
    wrong (missing, a folder, unreadable, too big) is one line naming it."""
    if path_text == "-":
        data = sys.stdin.buffer.read(limit + 1)
        source = "standard input"
    else:
        path = Path(path_text)
        if path.is_dir():
            fail(f"{what} {path}: is a folder, expected a file")
        try:
            with path.open("rb") as f:
                data = f.read(limit + 1)
        except FileNotFoundError:
            fail(f"{what} {path}: no such file")
        except OSError as e:
            fail(f"{what} {path}: cannot read ({e.strerror or e})")
        source = str(path)
    if len(data) > limit:
        fail(f"{what} {source}: larger than {limit:,} bytes")
    return data


def read_text(path_text: str, what: str, *, limit: int) -> str:
    """As `read_bytes`, decoded as UTF-8; a binary file is named with the offset of its first bad byte."""
    data = read_bytes(path_text, what, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        source = "standard input" if path_text == "-" else path_text
        fail(f"{what} {source}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); is it binary?")


def output_file(path_text: str, flag: str) -> Path:
    """A file the command will write: its folder must exist and the path must not be a folder."""
    path = Path(path_text)
    if path.is_dir():
        fail(f"{flag} {path}: is a folder, expected a file name")
    if not path.parent.is_dir():
        fail(f"{flag} {path}: no such folder {path.parent}")
    return path
