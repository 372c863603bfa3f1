"""Every answer is valid for its content type: NaN/Infinity never make invalid JSON, output_fn's
value and media type are checked, Accept q-values decide, custom attributes come back byte for byte."""

from __future__ import annotations

import json
import logging
import math
import string
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("uvicorn")

from tests.serving import Client, server_thread, write_handler

FEW = settings(max_examples=40, deadline=None)
# The answer comes from a module-level value the test sets (the server runs in this process).
KNOB = """
ANSWER = None
def model_fn(d):
    return None
def predict_fn(data, model, context):
    return {"echo": data, "attrs": context.custom_attributes}
def output_fn(prediction, accept):
    return ANSWER
"""
ECHO = "def model_fn(d):\n    return None\ndef predict_fn(data, model):\n    return data\n"
PREDICT_ANSWER = (
    "import json\ndef model_fn(d):\n    return None\nANSWER = None\ndef predict_fn(data, model):\n    return ANSWER\n"
)


def strict_json(body: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(body, parse_constant=refuse)


@pytest.fixture(scope="module")
def knob(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Any]]:
    with server_thread(write_handler(tmp_path_factory.mktemp("knob"), KNOB)) as (client, _):
        yield client, sys.modules["sagezero_user_handler"]


@pytest.fixture(scope="module")
def predicted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Any]]:
    with server_thread(write_handler(tmp_path_factory.mktemp("pred"), PREDICT_ANSWER)) as (client, _):
        yield client, sys.modules["sagezero_user_handler"]


@pytest.fixture(scope="module")
def attributes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    source = "def model_fn(d):\n    return None\ndef predict_fn(data, model, context):\n    return context.custom_attributes\n"
    with server_thread(write_handler(tmp_path_factory.mktemp("attrs"), source)) as (client, _):
        yield client


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with server_thread(write_handler(tmp_path_factory.mktemp("echo"), ECHO)) as (client, _):
        yield client


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite_or_null(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=20,
)


@FEW
@given(value=json_values)
def test_json_answers_are_strict_json_with_nan_and_infinity_as_null(predicted: tuple[Client, Any], value: Any) -> None:
    client, module = predicted
    module.ANSWER = value
    r = client.invoke(b"{}")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert strict_json(r.body) == _finite_or_null(value)


@FEW
@given(values=st.lists(st.floats(width=32), min_size=1, max_size=10))
def test_numpy_answers_with_nan_are_valid_json_and_csv(predicted: tuple[Client, Any], values: list[float]) -> None:
    np = pytest.importorskip("numpy")
    client, module = predicted
    module.ANSWER = np.array(values, dtype=np.float32)
    r = client.invoke(b"{}")
    assert r.status == 200
    assert strict_json(r.body) == _finite_or_null(np.array(values, dtype=np.float32).tolist())
    r = client.invoke(b"{}", accept="text/csv")
    assert r.status == 200 and r.headers["content-type"] == "text/csv"
    assert len(r.body.decode().splitlines()) == len(values)


wrong_outputs = (
    st.integers(0, 10**6)
    | st.lists(st.integers(0, 255), max_size=5)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)
    | st.none()
    | st.floats()
    | st.booleans()
    | st.tuples(st.binary(), st.binary(), st.binary())
    | st.tuples(st.integers(), st.just("application/json"))
    | st.builds(object)
)


@FEW
@given(value=wrong_outputs)
def test_output_fn_returning_the_wrong_type_is_a_logged_model_error(
    knob: tuple[Client, Any], value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, module = knob
    module.ANSWER = value
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        r = client.invoke(b"{}")
    assert r.status == 500 and r.headers["content-type"] == "application/json"
    assert "output_fn returned" in strict_json(r.body)["message"] and b"\0" not in r.body
    assert any(getattr(rec, "event", None) == "model_error" for rec in caplog.records)


header_safe_type = st.from_regex(r"[a-z0-9][a-z0-9.+-]{0,10}/[a-z0-9][a-z0-9.+-]{0,10}", fullmatch=True)


@FEW
@given(media=header_safe_type, body=st.binary(max_size=20) | st.text(max_size=20))
def test_output_fn_media_types_that_are_valid_reach_the_client(knob: tuple[Client, Any], media: str, body: Any) -> None:
    client, module = knob
    module.ANSWER = (body, media)
    r = client.invoke(b"{}")
    assert (r.status, r.headers["content-type"]) == (200, media)
    assert r.body == (body.encode() if isinstance(body, str) else body)


@FEW
@given(
    media=st.text(max_size=30).filter(lambda s: "/" not in s)
    | st.builds(lambda a, b: f"{a}/{b}", st.text(max_size=5), st.text(max_size=5)).filter(
        lambda s: (
            any(c not in string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~/" for c in s)  # HTTP's tchar
            or s.startswith("/")
            or s.endswith("/")
        )
    )
    | st.builds(lambda a, b: f"text/plain\r\n{a}: {b}", st.text(string.ascii_letters, min_size=1), st.text())
    | st.integers()
    | st.none()
)
def test_output_fn_media_types_that_are_not_media_types_are_a_model_error(knob: tuple[Client, Any], media: Any) -> None:
    client, module = knob
    module.ANSWER = (b"x", media)
    r = client.invoke(b"{}")
    assert r.status == 500 and "is not a media type" in strict_json(r.body)["message"]


def test_output_fn_without_a_type_is_labelled_with_the_best_concrete_accept(knob: tuple[Client, Any]) -> None:
    client, module = knob
    module.ANSWER = b"a,b\n"
    r = client.invoke(b"{}", accept="*/*, text/csv;q=0.5, text/plain;q=0.9")
    assert (r.status, r.headers["content-type"]) == (200, "text/plain")
    assert client.invoke(b"{}", accept="*/*").headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        (None, 200),
        ("application/*", 200),
        ("*/*;q=0.1", 200),
        ("application/json;q=0", 406),  # refused outright
        ("*/*;q=0", 406),
        ("*/*, application/json;q=0", 406),  # the most specific range refuses it
        ("image/png", 406),  # the handler's JSON is not what the client takes
        ("application/json;q=7", 400),
        ("application/json;;, nonsense", 400),
    ],
)
def test_output_fn_answers_honour_accept_too(knob: tuple[Client, Any], accept: str | None, status: int) -> None:
    """An output_fn chooses its own type; it still has to be one the client accepts (was: always 200)."""
    client, module = knob
    module.ANSWER = (b'{"a": 1}', "application/json")
    r = client.invoke(b"{}", accept=accept)
    assert r.status == status, r.body
    if status == 200:
        assert (r.headers["content-type"], r.body) == ("application/json", b'{"a": 1}')


@pytest.mark.parametrize(
    "accept",
    ['application/json;q=0, text/csv;ext="1,application/json"', 'text/csv;ext="a;q=0", application/json;q=0.5'],
)
def test_commas_and_semicolons_inside_quoted_accept_parameters_do_not_split_it(echo: Client, accept: str) -> None:
    r = echo.invoke(b"[1]", accept=accept)  # was 400: the quoted text was read as ranges or a q
    assert (r.status, r.headers["content-type"]) == (200, "text/csv"), r.body


def test_integers_an_npy_answer_would_change_go_out_as_json_or_406(echo: Client) -> None:
    """numpy reads [-1, 2**63 + 1, 0.5] as float64: an NPY answer silently changed the integer."""
    body = b"[-1, 9223372036854775809, 0.5]"
    r = echo.invoke(body, accept="application/x-npy")
    assert r.status == 406 and "application/json" in json.loads(r.body)["message"], r.body
    r = echo.invoke(body, accept="application/x-npy, application/json;q=0.5")
    assert (r.status, r.headers["content-type"], r.body) == (200, "application/json", body)


ENCODABLE = ["application/json", "text/csv", "application/x-npy", "application/octet-stream"]
RANGES = [*ENCODABLE, "text/*", "application/*", "*/*", "image/png", "text/plain"]


def effective_q(media: str, ranges: list[tuple[str, float]]) -> float:
    """RFC 9110: the most specific matching range gives the quality (first of equals)."""
    best: tuple[int, float] | None = None
    t, _ = media.split("/")
    for r, q in ranges:
        spec = 2 if r == media else 1 if r == f"{t}/*" else 0 if r == "*/*" else -1
        if spec >= 0 and (best is None or spec > best[0]):
            best = (spec, q)
    return best[1] if best else 0.0


@settings(max_examples=80, deadline=None)
@given(
    ranges=st.lists(
        st.tuples(st.sampled_from(RANGES), st.sampled_from([0.0, 0.001, 0.2, 0.5, 0.9, 1.0])), min_size=1, max_size=6
    ),
    request_type=st.sampled_from(["application/json", "text/csv"]),
)
def test_accept_q_values_choose_the_answer_and_q0_refuses(
    echo: Client, ranges: list[tuple[str, float]], request_type: str
) -> None:
    accept = ", ".join(f"{r};q={q:g}" for r, q in ranges)
    body = b"[[1.5, 2.0]]" if request_type == "application/json" else b"1.5,2.0\n"
    r = echo.invoke(body, request_type, accept=accept)
    # An echo of rows of numbers can be written as JSON, CSV or NPY, never as raw bytes.
    writable = {m: effective_q(m, ranges) for m in ENCODABLE[:3]}
    if max(writable.values()) == 0:
        assert r.status == 406, accept
        return
    assert r.status == 200, (accept, r.body)
    chosen = r.headers["content-type"]
    assert writable[chosen] == max(writable.values()) > 0, (accept, chosen)


@FEW
@given(
    q=st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=6).filter(
        lambda s: not _is_qvalue(s) and "," not in s and ";" not in s
    )
)
def test_a_malformed_q_value_is_400(echo: Client, q: str) -> None:
    r = echo.invoke(b"[1]", accept=f"application/json;q={q}")
    assert r.status == 400 and "is not a weight from 0 to 1" in strict_json(r.body)["message"]


def _is_qvalue(s: str) -> bool:
    import re

    return re.fullmatch(r"\s*(0(\.\d{0,3})?|1(\.0{0,3})?|\.\d{1,3})\s*", s) is not None


@FEW
@given(attrs=st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=300).map(lambda s: s.strip(" \t")))
def test_custom_attributes_pass_through_intact(attributes: Client, attrs: str) -> None:
    sent = attrs.encode("utf-8")
    r = attributes.invoke(b"{}", **{"X-Amzn-SageMaker-Custom-Attributes": sent.decode("latin-1")})
    assert r.status == 200
    assert strict_json(r.body) == attrs  # what the handler saw
    assert r.headers["x-amzn-sagemaker-custom-attributes"].encode("latin-1") == sent  # what came back


header_bytes = st.binary(max_size=200).map(lambda b: bytes(c for c in b if c >= 0x80 or 0x21 <= c <= 0x7E))


@FEW
@given(sent=header_bytes)
def test_custom_attributes_that_are_not_utf8_come_back_byte_for_byte(attributes: Client, sent: bytes) -> None:
    r = attributes.invoke(b"{}", **{"X-Amzn-SageMaker-Custom-Attributes": sent.decode("latin-1")})
    assert r.status == 200
    assert r.headers["x-amzn-sagemaker-custom-attributes"].encode("latin-1") == sent
    try:
        expected = sent.decode("utf-8")
    except UnicodeDecodeError:
        expected = sent.decode("latin-1")  # the handler sees ISO-8859-1 text when the bytes are not UTF-8
    assert strict_json(r.body) == expected


def test_custom_attributes_over_1024_characters_are_400(attributes: Client) -> None:
    r = attributes.invoke(b"{}", **{"X-Amzn-SageMaker-Custom-Attributes": "é".encode().decode("latin-1") * 1025})
    assert r.status == 400 and "over 1024 characters" in strict_json(r.body)["message"]


def test_a_prediction_that_fits_only_refused_types_is_406_naming_the_others(predicted: tuple[Client, Any]) -> None:
    client, module = predicted
    module.ANSWER = b"\x00raw"
    r = client.invoke(b"{}", accept="application/json")
    assert r.status == 406
    message = strict_json(r.body)["message"]
    assert "bytes is not JSON" in message and "this answer can be sent as" in message
    assert "application/octet-stream" in message.rsplit("sent as", 1)[1]
    r = client.invoke(b"{}", accept="application/json, */*;q=0.1")
    assert (r.status, r.headers["content-type"], r.body) == (200, "application/octet-stream", b"\x00raw")


def test_a_prediction_that_fits_no_type_is_a_model_error(
    predicted: tuple[Client, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, module = predicted
    module.ANSWER = {"when": object()}
    with caplog.at_level(logging.ERROR):
        r = client.invoke(b"{}")
    assert r.status == 500 and "fits no response type" in strict_json(r.body)["message"]
    assert "object at 0x" not in r.body.decode()
    assert any(getattr(rec, "event", None) == "model_error" for rec in caplog.records)


def test_a_csv_answer_never_holds_a_python_repr(predicted: tuple[Client, Any]) -> None:
    client, module = predicted
    module.ANSWER = [{"a": 1}]
    r = client.invoke(b"{}", accept="text/csv")
    assert r.status == 406 and "text/csv needs rows of numbers or text, not dict" in strict_json(r.body)["message"]


def test_lone_surrogates_from_json_stay_valid_in_every_answer(echo: Client) -> None:
    r = echo.invoke(b'["\\ud800x"]')
    assert r.status == 200 and strict_json(r.body) == ["\ud800x"]
    r = echo.invoke(b'["\\ud800x"]', accept="text/csv")
    assert r.status == 200 and r.body.decode("utf-8") == "\\ud800x\n"
