"""Default input_fn / output_fn: JSON, CSV, NPY and raw bytes.

Decoders answer every input they cannot read with BadRequest (400) and a reason, including input
that would overflow them: nesting deeper than MAX_JSON_DEPTH, numbers out of a float's range or past
Python's digit limit, NaN/Infinity (not JSON), CSV fields over the csv module's limit, NPY headers
that disagree with the body. Encoders raise NotRepresentable when a prediction has no faithful form
in a type; the handler then tries the client's other acceptable types. JSON answers write NaN and
±Infinity as null (as JavaScript's JSON.stringify does), so they are always valid JSON. numpy is
imported only when an NPY payload arrives, so a JSON-only model never pays for it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from typing import Any

from sagezero_serve.errors import BadRequest, HTTPError
from sagezero_serve.media import CSV, ENCODABLE, JSON, NPY, OCTET, media_type

DECODABLE = ENCODABLE
MAX_JSON_DEPTH = 128
NPY_KINDS = "biuf"  # bool, signed, unsigned, float: what the JSON and CSV answers can carry too

_NOT_BRACKETS_OR_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
# Digits -> "0", e/E -> "e", "+" kept, everything else -> " ": the shape of the body's numbers, in C.
_NUMBER_SHAPE = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x65 if b in b"eE" else b if b == 0x2B else 0x20 for b in range(256)
)


class NotRepresentable(ValueError):  # noqa: N818 - a condition, not a failure of the server
    """The prediction has no faithful form in the asked-for media type."""


def decode(body: bytes, content_type: str) -> Any:
    ctype = media_type(content_type) or JSON
    if ctype == JSON:
        return decode_json(body)
    if ctype == CSV:
        return _decode_csv(body)
    if ctype == NPY:
        return _decode_npy(body)
    if ctype == OCTET:
        return body
    raise HTTPError(415, f"Content-Type {ctype!r:.80} is not supported; use one of {', '.join(DECODABLE)}")


# -- JSON -------------------------------------------------------------------------------------------
def _json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than limit; cheap for flat bodies.

    Each pass deletes every innermost [] and {} pair, so nesting drops by at least one level per pass.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    # Outside strings only: drop escapes (backslashes pair left to right), keep brackets and quotes,
    # then drop every odd quote-delimited part (the strings' contents).
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.translate(None, _NOT_BRACKETS_OR_QUOTES).split(b'"')[::2])
    for _ in range(limit):
        if not brackets:
            return False
        fewer = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if fewer == brackets:
            return False  # unbalanced: the parser names the error
        brackets = fewer
    return b"[]" in brackets or b"{}" in brackets


def _no_constants(name: str) -> Any:
    raise BadRequest(f"body has {name}, which is not JSON; send null or a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadRequest(f"number {text[:40]}{'…' if len(text) > 40 else ''} is out of range for a 64-bit float")
    return value


def _may_overflow_a_float(body: bytes) -> bool:
    """Whether a float literal might overflow: a 3-digit positive exponent, or 200+ integer digits
    (with a 2-digit exponent a literal needs 210 to pass 1.8e308). Cheap and over-inclusive.

    Checking every float with a parse_float hook costs a Python call per number (~50% slower on
    float-heavy bodies), so the hook runs only for bodies this says might need it.
    """
    shape = body.translate(_NUMBER_SHAPE)
    return b"e000" in shape or b"e+000" in shape or b"0" * 200 in shape


def decode_json(body: bytes) -> Any:
    if _json_depth_exceeds(body, MAX_JSON_DEPTH):
        raise BadRequest(f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
    hooks: dict[str, Any] = {"parse_constant": _no_constants}
    if _may_overflow_a_float(body):
        hooks["parse_float"] = _finite_float
    try:
        return json.loads(body, **hooks)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadRequest(f"body is not valid JSON: {e}") from None
    except RecursionError:
        raise BadRequest(f"JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:
        if "digits" in str(e):
            raise BadRequest(f"a number has more than {sys.get_int_max_str_digits()} digits") from None
        raise BadRequest(f"body is not valid JSON: {e}") from None


# -- CSV --------------------------------------------------------------------------------------------
def _decode_csv(body: bytes) -> list[list[float]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"CSV body is not UTF-8: {e}") from None
    rows: list[list[float]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            if not row:
                continue
            values = []
            for cell in row:
                try:
                    value = float(cell)
                except ValueError:
                    raise BadRequest(
                        f"CSV line {reader.line_num} has a value that is not a number: {cell!r:.40}"
                    ) from None
                if not math.isfinite(value):
                    raise BadRequest(f"CSV line {reader.line_num} has {cell.strip()!r:.40}; send finite numbers")
                values.append(value)
            rows.append(values)
    except csv.Error as e:
        raise BadRequest(f"CSV line {reader.line_num} cannot be read: {e}") from None
    return rows


# -- NPY --------------------------------------------------------------------------------------------
def _decode_npy(body: bytes) -> Any:
    import numpy as np
    from numpy.lib import format as npy_format

    buf = io.BytesIO(body)
    try:
        version = npy_format.read_magic(buf)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(buf)
        else:
            raise BadRequest(f".npy format version {version} is not supported; use 1.0 or 2.0 (numpy.save)")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as e:
        raise BadRequest(f"body is not a valid .npy array: {e}") from None
    if dtype.kind not in NPY_KINDS or dtype.hasobject or dtype.subdtype is not None:
        raise BadRequest(f".npy arrays of dtype {dtype.str!r} are not supported; send bool, integer or float")
    # numpy's header reader accepts any tuple of ints: a negative one would pass the size check
    # (math.prod((-1, -1)) == 1) and then fail in reshape.
    if not all(type(d) is int and d >= 0 for d in shape):
        raise BadRequest(f".npy header declares shape {shape!r:.80}; dimensions must be whole numbers of 0 or more")
    count = math.prod(shape)
    expected, carried = count * dtype.itemsize, len(body) - buf.tell()
    if expected != carried:
        raise BadRequest(f".npy header declares shape {shape} ({expected} bytes) but the body carries {carried}")
    array = np.frombuffer(body, dtype=dtype, count=count, offset=buf.tell())
    return array.reshape(shape, order="F" if fortran else "C").copy()


# -- encoders ---------------------------------------------------------------------------------------
def encode(prediction: Any, media: str) -> bytes:
    """The prediction in media; NotRepresentable when it has no faithful form there."""
    if media == JSON:
        return _encode_json(prediction)
    if media == CSV:
        return _encode_csv(prediction)
    if media == NPY:
        return _encode_npy(prediction)
    if media == OCTET:
        if isinstance(prediction, (bytes, bytearray, memoryview)):
            return bytes(prediction)
        raise NotRepresentable(f"application/octet-stream needs the model to return bytes, not {_kind(prediction)}")
    raise NotRepresentable(f"cannot encode {media!r}")


def _kind(value: Any) -> str:
    return type(value).__name__


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist") and not isinstance(value, (bytes, bytearray, memoryview)):
        return value.tolist()  # numpy arrays and scalars
    raise TypeError(f"{_kind(value)} is not JSON")


def _finite(value: Any) -> Any:
    """The value with NaN and ±Infinity replaced by None (JSON's null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes, bytearray, memoryview)):
        return _finite(value.tolist())
    return value


def _encode_json(prediction: Any) -> bytes:
    try:
        try:
            text = json.dumps(prediction, allow_nan=False, default=_plain)
        except ValueError as e:
            if "Out of range float" not in str(e):
                raise
            text = json.dumps(_finite(prediction), allow_nan=False, default=_plain)
    except (TypeError, ValueError, RecursionError) as e:
        raise NotRepresentable(f"the answer cannot be written as JSON: {e}") from None
    return text.encode()


def _encode_csv(prediction: Any) -> bytes:
    if hasattr(prediction, "tolist") and not isinstance(prediction, (bytes, bytearray, memoryview)):
        prediction = prediction.tolist()
    rows = prediction if isinstance(prediction, (list, tuple)) else [prediction]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for row in rows:
            cells = row if isinstance(row, (list, tuple)) else [row]
            for cell in cells:
                if cell is not None and not isinstance(cell, (str, int, float)):
                    raise NotRepresentable(f"text/csv needs rows of numbers or text, not {_kind(cell)}")
            writer.writerow(cells)
    except (csv.Error, ValueError) as e:
        if isinstance(e, NotRepresentable):
            raise
        raise NotRepresentable(f"the answer cannot be written as CSV: {e}") from None
    # Lone surrogates (from JSON escapes) cannot be UTF-8: written as \udXXX, so the answer stays UTF-8.
    return out.getvalue().encode("utf-8", "backslashreplace")


def _loses_an_int(value: Any) -> bool:
    """Whether a Python int in these nested lists has no exact float64 (beyond 2**53, not a multiple)."""
    if isinstance(value, (list, tuple)):
        return any(_loses_an_int(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 and int(float(value)) != value


def _encode_npy(prediction: Any) -> bytes:
    import numpy as np

    if isinstance(prediction, (str, bytes, bytearray, memoryview)):
        raise NotRepresentable(f"application/x-npy needs an array, not {_kind(prediction)}")
    try:
        array = np.asarray(prediction)
        if array.dtype.hasobject:
            raise NotRepresentable(f"application/x-npy needs a rectangular array of numbers, not {_kind(prediction)}")
        if array.dtype.kind == "f" and isinstance(prediction, (list, tuple)) and _loses_an_int(prediction):
            # numpy makes float64 of ints mixed with floats or past int64: 2**63 + 1 would come back changed.
            raise NotRepresentable("application/x-npy would carry its integers as float64, changing some")
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
    except (ValueError, TypeError, OverflowError) as e:
        if isinstance(e, NotRepresentable):
            raise
        raise NotRepresentable(f"the answer cannot be written as .npy: {e}") from None
    return buf.getvalue()
