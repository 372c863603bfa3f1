"""Default input_fn / output_fn: JSON, CSV, NPY and raw bytes, with content negotiation.

Decoding failures raise BadRequest (400); an unsupported type raises 415/406. numpy is imported
only when an NPY payload arrives, so a JSON-only model never pays for it.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sagezero_serve.errors import BadRequest, HTTPError

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
OCTET = "application/octet-stream"
DECODABLE = (JSON, CSV, NPY, OCTET)
ENCODABLE = (JSON, CSV, NPY, OCTET)


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (header or "").split(";", 1)[0].strip().lower()


def decode(body: bytes, content_type: str) -> Any:
    ctype = media_type(content_type) or JSON
    if ctype == JSON:
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BadRequest(f"body is not valid JSON: {e}") from None
    if ctype == CSV:
        return _decode_csv(body)
    if ctype == NPY:
        return _decode_npy(body)
    if ctype == OCTET:
        return body
    raise HTTPError(415, f"Content-Type {ctype!r} is not supported; use one of {', '.join(DECODABLE)}")


def _decode_csv(body: bytes) -> list[list[float]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"CSV body is not UTF-8: {e}") from None
    rows: list[list[float]] = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        try:
            rows.append([float(cell) for cell in row])
        except ValueError:
            raise BadRequest(f"CSV line {n} has a value that is not a number: {row!r:.80}") from None
    return rows


def _decode_npy(body: bytes) -> Any:
    import numpy as np

    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise BadRequest(f"body is not a valid .npy array: {e}") from None


def negotiate(accept: str | None, request_type: str) -> str:
    """The response media type: the first acceptable one we can encode; JSON for */* or none."""
    wanted = [media_type(part) for part in (accept or "").split(",") if part.strip()]
    if not wanted:
        return JSON
    for w in wanted:
        if w in ENCODABLE:
            return w
        if w in ("*/*", "application/*"):
            req = media_type(request_type)
            return req if req in ENCODABLE else JSON
        if w == "text/*":
            return CSV
    raise HTTPError(406, f"Accept {accept!r} cannot be served; this model answers {', '.join(ENCODABLE)}")


def encode(prediction: Any, accept: str) -> bytes:
    if hasattr(prediction, "tolist") and accept != NPY:
        prediction = prediction.tolist()
    if accept == JSON:
        return json.dumps(prediction).encode()
    if accept == CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        rows = prediction if isinstance(prediction, list) else [prediction]
        for row in rows:
            writer.writerow(row if isinstance(row, (list, tuple)) else [row])
        return out.getvalue().encode()
    if accept == OCTET:
        if isinstance(prediction, (bytes, bytearray, memoryview)):
            return bytes(prediction)
        raise HTTPError(406, "application/octet-stream needs the model to return bytes; ask for application/json")
    if accept == NPY:
        import numpy as np

        buf = io.BytesIO()
        np.save(buf, np.asarray(prediction), allow_pickle=False)
        return buf.getvalue()
    raise HTTPError(406, f"cannot encode {accept!r}")
