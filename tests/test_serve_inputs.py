"""Inputs that overflow the decoders get 400 with a reason, never 500: nesting, digits, floats past a
double, NaN, huge CSV fields, NPY headers that lie. Generated inputs, real HTTP."""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("uvicorn")

from tests.serving import Client, server_thread, write_handler

ECHO = "def model_fn(d):\n    return None\ndef predict_fn(data, model):\n    return data\n"
FEW = settings(max_examples=40, deadline=None)


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    with server_thread(write_handler(tmp_path_factory.mktemp("echo"), ECHO)) as (client, _):
        yield client


@pytest.fixture(scope="module")
def sample() -> Iterator[Client]:
    with server_thread() as (client, _):
        yield client


def _bad(r: object, text: str, status: int = 400) -> None:
    assert getattr(r, "status") == status, getattr(r, "body")  # noqa: B009
    assert text in json.loads(getattr(r, "body"))["message"]  # noqa: B009


@FEW
@given(depth=st.integers(129, 20_000), inner=st.sampled_from(["[]", "{}"]))
def test_nesting_past_the_limit_is_400(echo: Client, depth: int, inner: str) -> None:
    body = ("[" * (depth - 1) + inner + "]" * (depth - 1)).encode()
    _bad(echo.invoke(body), "nests deeper than 128 levels")


@FEW
@given(
    depth=st.integers(1, 128),
    prefix=st.sampled_from(["", "\\", '"', '\\"', "\\\\"]),
    inner=st.integers(129, 400),
)
def test_nesting_up_to_the_limit_round_trips_and_brackets_in_strings_do_not_count(
    echo: Client, depth: int, prefix: str, inner: int
) -> None:
    value: object = [prefix + "[" * inner + "{}" + "]" * inner]  # brackets and escapes inside a string
    for _ in range(depth - 1):
        value = [value]
    r = echo.invoke(json.dumps(value).encode())
    assert r.status == 200 and json.loads(r.body) == value


@FEW
@given(digits=st.integers(sys.get_int_max_str_digits() + 1, 50_000), sign=st.sampled_from(["", "-"]))
def test_integers_past_the_digit_limit_are_400(echo: Client, digits: int, sign: str) -> None:
    _bad(echo.invoke(f"[{sign}{'7' * digits}]".encode()), f"more than {sys.get_int_max_str_digits()} digits")


@FEW
@given(mantissa=st.integers(1, 9), exponent=st.integers(309, 10**6), sign=st.sampled_from(["", "-"]))
def test_floats_past_a_double_are_400(echo: Client, mantissa: int, exponent: int, sign: str) -> None:
    _bad(echo.invoke(f"[{sign}{mantissa}.5e{exponent}]".encode()), "out of range for a 64-bit float")


@FEW
@given(data=st.data())
def test_long_mantissas_past_a_double_are_400(echo: Client, data: st.DataObject) -> None:
    digits = data.draw(st.integers(210, 400))
    exponent = data.draw(st.integers(max(0, 309 - digits), 99))  # 9.99…e(d-1) x 10^exp > 1.8e308
    _bad(echo.invoke(f"[{'9' * digits}.0e{exponent}]".encode()), "out of range for a 64-bit float")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(echo: Client, token: str) -> None:
    _bad(echo.invoke(f'{{"x": [{token}]}}'.encode()), f"body has {token}, which is not JSON")


@FEW
@given(
    value=st.integers(min_value=2**1024, max_value=10**4000) | st.integers(max_value=-(2**1024), min_value=-(10**4000))
)
def test_integers_past_the_models_range_are_400(sample: Client, value: int) -> None:
    _bad(sample.invoke(json.dumps([[value, 1, 2, 3]]).encode()), "outside the model's range")


@FEW
@given(cell=st.sampled_from(["nan", "inf", "-inf", "Infinity", "NaN", "1e999", "-1E400"]), col=st.integers(0, 3))
def test_csv_non_finite_values_are_400(sample: Client, cell: str, col: int) -> None:
    row = ["1", "2", "3", "4"]
    row[col] = cell
    _bad(sample.invoke(("1,2,3,4\n" + ",".join(row) + "\n").encode(), "text/csv"), "CSV line 2 has")


@settings(max_examples=5, deadline=None)
@given(size=st.integers(131_073, 2_000_000), quoted=st.booleans())
def test_huge_csv_fields_are_400(sample: Client, size: int, quoted: bool) -> None:
    field = "1" * size
    body = (f'"{field}"' if quoted else field) + ",2,3,4\n"
    _bad(sample.invoke(body.encode(), "text/csv"), "field larger than field limit")


def _npy(array: object) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


@FEW
@given(rows=st.integers(1, 50), cut=st.integers(-400, 400).filter(lambda n: n != 0))
def test_npy_whose_header_disagrees_with_the_body_is_400(echo: Client, rows: int, cut: int) -> None:
    body = _npy([[1.0, 2.0]] * rows)
    body = body[:cut] if cut < 0 else body + b"\0" * cut
    _bad(
        echo.invoke(body, "application/x-npy"),
        "body is not a valid .npy" if len(body) < 128 else ".npy header declares",
    )


@pytest.mark.parametrize(
    "array",
    [
        pytest.param(lambda np: np.array([1 + 2j]), id="complex"),
        pytest.param(lambda np: np.array(["a"]), id="unicode"),
        pytest.param(lambda np: np.zeros(2, dtype=[("a", "<f8")]), id="structured"),
        pytest.param(lambda np: np.array(["2026-01-01"], dtype="datetime64[D]"), id="datetime"),
    ],
)
def test_npy_dtypes_without_a_json_form_are_400(echo: Client, array: object) -> None:
    np = pytest.importorskip("numpy")
    assert callable(array)
    _bad(echo.invoke(_npy(array(np)), "application/x-npy"), "are not supported; send bool, integer or float")


def test_npy_with_a_huge_declared_shape_is_refused_before_allocating(echo: Client) -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }"
    header += b" " * (63 - len(header) % 64) + b"\n"
    body = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    _bad(echo.invoke(body, "application/x-npy"), "but the body carries 0")


@pytest.mark.parametrize("shape", ["(-1, -1)", "(-2, 3, -1)", "(-1,)", "(True, 1)"])
def test_npy_with_negative_or_non_integer_dimensions_is_400(echo: Client, shape: str) -> None:
    # math.prod((-1, -1)) == 1: one float's bytes would pass the size check, then reshape fails (was 500).
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape.encode()
    header += b" " * (63 - len(header) % 64) + b"\n"
    body = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 8
    _bad(echo.invoke(body, "application/x-npy"), "dimensions must be whole numbers of 0 or more")


@FEW
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=20))
def test_valid_npy_round_trips(echo: Client, values: list[float]) -> None:
    import numpy as np

    r = echo.invoke(_npy(np.array(values, dtype=np.float32)), "application/x-npy", accept="application/x-npy")
    assert r.status == 200
    assert np.load(io.BytesIO(r.body)).tolist() == np.array(values, dtype=np.float32).tolist()


@pytest.mark.parametrize(
    ("raises", "name"),
    [("RecursionError('deep')", "RecursionError"), ("OverflowError('big')", "OverflowError")],
)
def test_user_input_fn_overflowing_is_400(tmp_path: Path, raises: str, name: str) -> None:
    model = write_handler(tmp_path, f"def input_fn(body, ct):\n    raise {raises}\n" + ECHO)
    with server_thread(model) as (client, _):
        _bad(client.invoke(b"[1]"), f"input rejected by input_fn: {name}")


def test_a_json_body_that_is_finite_keeps_its_floats_exactly(echo: Client) -> None:
    values = [0.1, -0.0, 1e308, 5e-324, math.pi]
    r = echo.invoke(json.dumps(values).encode())
    assert json.loads(r.body) == values
