"""Fuzz tier: the server over HTTP with generated bodies, content types and Accept headers.

Whatever arrives, the answer is never a 5xx (these handlers have no documented model errors), never
a traceback, and always valid for the content type it claims; no request leaves an error record in
the log. Bounded: a fixed number of examples, no deadline, derandomized when CI is set, so it runs
in every fast-tier run (marker `fuzz`; `-m fuzz` runs it alone).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

pytest.importorskip("uvicorn")

from tests.serving import MODEL_DIR, Client, server_thread, write_handler

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=int(os.environ.get("SAGEZERO_FUZZ_EXAMPLES", "200")),
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() in ("1", "true", "yes"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMIT = 64 * 1024
ECHO = "def model_fn(d):\n    return None\ndef predict_fn(data, model):\n    return data\n"
KNOWN = ["application/json", "text/csv", "application/x-npy", "application/octet-stream"]
ERROR_EVENTS = {"server_error", "handler_error", "model_error", "uncaught"}

# Header values http.client can send: visible ISO-8859-1 characters and spaces (no controls).
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=40)
media = st.sampled_from([*KNOWN, "text/*", "application/*", "*/*", "*", "image/png", "text/plain", "x/y+json"])
variants = st.builds(
    lambda m, upper, param: (m.upper() if upper else m) + param,
    media,
    st.booleans(),
    st.sampled_from(["", "; charset=utf-8", ";charset=latin-1", " ;  v=1", ';q="x"']),
)
content_types = variants | header_text
q_values = st.sampled_from(["0", "0.0", "1", "0.5", ".3", "1.000", "0.001", "2", "-1", "0.5x", "", "nan", "1e0"])
accepts = (
    st.none()
    | header_text
    | st.lists(st.builds(lambda m, q: f"{m};q={q}", variants, q_values) | variants, min_size=1, max_size=5).map(
        ", ".join
    )
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30,
)


def _npy(array: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


npy_dtypes: st.SearchStrategy[Any] = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(),
    hnp.byte_string_dtypes(),
)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)
npy_bodies = hnp.arrays(npy_dtypes, shapes).map(_npy)
# Floats that JSON cannot carry as numbers, in every float width and byte order.
npy_non_finite = hnp.arrays(
    hnp.floating_dtypes(), shapes, elements=st.sampled_from([float("nan"), float("inf"), -float("inf"), 1.5])
).map(_npy)
csv_cells = (
    st.floats().map(repr) | st.integers().map(str) | st.text(max_size=6) | st.sampled_from(["nan", "inf", "", " 1 "])
)
csv_bodies = st.lists(st.lists(csv_cells, min_size=1, max_size=5), max_size=6).map(
    lambda rows: "".join(",".join(r) + "\n" for r in rows).encode("utf-8", "surrogatepass")
)


def typed(media_type: str) -> st.SearchStrategy[str]:
    """Mostly the body's own type (in any case, with parameters), sometimes any content type."""
    own = st.builds(
        lambda upper, param: (media_type.upper() if upper else media_type) + param,
        st.booleans(),
        st.sampled_from(["", "; charset=utf-8", " ; v=1"]),
    )
    return st.one_of(own, own, own, content_types)


json_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.tuples(json_values, st.integers(0, 40)).map(lambda t: json.dumps(t[0]).encode()[: -t[1] or None]),
    st.integers(1, 400).map(lambda d: b"[" * d + b"1" + b"]" * d),
    st.integers(4000, 6000).map(lambda n: b"[" + b"9" * n + b"]"),
    st.sampled_from(
        [b"[NaN]", b"[1e999]", b"[-Infinity]", b'"\\ud800"', b"\xef\xbb\xbf[1]", b"[" + b"0," * 40000 + b"0]"]
    ),
)
npy_all = st.one_of(
    npy_bodies,
    npy_non_finite,
    st.tuples(npy_bodies, st.integers(-60, 60)).map(lambda t: t[0][: t[1]] if t[1] < 0 else t[0] + b"\0" * t[1]),
)
requests = st.one_of(
    st.tuples(json_bodies, typed("application/json")),
    st.tuples(csv_bodies, typed("text/csv")),
    st.tuples(npy_all, typed("application/x-npy")),
    st.tuples(st.binary(max_size=300), typed("application/octet-stream")),
)


@pytest.fixture(scope="module", params=["echo", "sample"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    model = write_handler(tmp_path_factory.mktemp("echo"), ECHO) if request.param == "echo" else MODEL_DIR
    with server_thread(model, SAGEZERO_MAX_BODY_BYTES=str(LIMIT)) as (client, _):
        yield client


def _valid(content_type: str, body: bytes) -> None:
    if content_type == "application/json":
        json.loads(body, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    elif content_type == "text/csv":
        list(csv.reader(io.StringIO(body.decode("utf-8"))))
    elif content_type == "application/x-npy":
        np.load(io.BytesIO(body), allow_pickle=False)
    else:
        assert content_type == "application/octet-stream", content_type


@FUZZ
@given(request=requests, accept=accepts)
def test_any_request_gets_a_clear_valid_answer(
    server: Client, caplog: pytest.LogCaptureFixture, request: tuple[bytes, str], accept: str | None
) -> None:
    body, content_type = request
    caplog.clear()
    with caplog.at_level(logging.INFO):
        r = server.invoke(body, content_type, accept=accept)
    assert r.status in (200, 400, 406, 413, 415), (r.status, r.body[:300])
    if r.status == 200:
        _valid(r.headers["content-type"], r.body)
    else:
        assert r.headers["content-type"] == "application/json"
        doc = json.loads(r.body)
        assert set(doc) == {"error", "message"} and "Traceback" not in doc["message"]
    bad = [rec for rec in caplog.records if rec.exc_info or getattr(rec, "event", None) in ERROR_EVENTS]
    assert not bad, [rec.getMessage() for rec in bad]
