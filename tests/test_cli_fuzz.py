"""The fuzz tier: arbitrary stack configs, traces, JSON files and simulator overrides through the
parsers. Whatever the input, the answer is a value or the parser's own one-line error type, never
another exception. Bounded: fixed example counts, no deadline, derandomized when CI is set."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sagezero.jsonfile import JsonFileError, read_json
from sagezero.settings import CAMEL_TO_FIELD
from sagezero.simulate import traffic as tg
from sagezero.simulate.scenario import PROFILE_KEYS, Scenario, ScenarioError, apply_all, check_profile
from sagezero.stackconfig import StackConfig, StackConfigError, load_bounded_yaml, load_stack, parse_stack_config

pytestmark = pytest.mark.fuzz

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),  # NaN and infinities included
    st.text(max_size=50),
    st.sampled_from(["scale-to-zero", "serverless", "ml.c5.xlarge", "ml.g5.xlarge", "acme", "a" * 5000]),
)
KEYS = st.one_of(st.sampled_from(sorted(CAMEL_TO_FIELD)), st.sampled_from(sorted(PROFILE_KEYS)),
                 st.sampled_from(["name", "uri", "context", "retainImages"]), st.text(max_size=12))  # fmt: skip
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                      max_leaves=25)  # fmt: skip
TOP_KEYS = st.sampled_from(["sagezero:tenants", "sagezero:defaults", "sagezero:image", "sagezero:traffic",
                            "sagezero:other", "aws:region"])  # fmt: skip
TENANT = st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "Bad!", ""])},
                               optional={k: VALUES for k in ("maxCopies", "instanceType", "scaleInCooldownS")})  # fmt: skip


T = TypeVar("T")


def outcome(fn: Callable[[], T], error: type[Exception]) -> tuple[T | None, str | None]:
    """The value, or the text of the parser's own error; any other exception fails the test."""
    try:
        return fn(), None
    except error as e:
        return None, str(e)


def _parsed(values: dict[Any, Any]) -> StackConfig | None:
    try:
        return parse_stack_config("fuzz", values)
    except StackConfigError as e:
        text = str(e)
        assert text.startswith("stack 'fuzz' has ") and "\n  - " in text
        assert all(len(line) <= 700 for line in text.splitlines()), "a value is quoted in full"
        return None


@given(st.dictionaries(TOP_KEYS, st.one_of(VALUES, st.lists(TENANT, max_size=3)), max_size=5))
@settings(max_examples=300)
def test_any_stack_config_values_parse_or_fail_by_key(values: dict[str, Any]) -> None:
    config = _parsed(values)
    if config is not None:
        for tenant in config.tenants:
            for value in vars(tenant.settings).values():
                assert not (isinstance(value, float) and not math.isfinite(value))


NUMBERS = st.one_of(st.floats(), st.integers(-(10**6), 10**6), st.sampled_from([0, 1, 5, 60, 300, 1024]))
NUMERIC_KEYS = sorted(k for k, f in CAMEL_TO_FIELD.items() if f.endswith(("_s", "_mb", "_count", "_copies", "_value",
                                                                          "_cores", "_adjustment", "_periods", "_datapoints")))  # fmt: skip


@given(
    defaults=st.dictionaries(st.sampled_from(NUMERIC_KEYS), NUMBERS, max_size=3),
    tenant=st.dictionaries(st.sampled_from(NUMERIC_KEYS), NUMBERS, max_size=3),
)
@settings(max_examples=200)
def test_numbers_in_settings_are_finite_or_refused_by_key(defaults: dict[str, Any], tenant: dict[str, Any]) -> None:
    """Near-valid configs (one tenant, CPU instance, numeric settings only), so most examples get past
    the other checks and a non-finite number has to be caught by name."""
    base = {"instanceType": "ml.c5.xlarge", "accelerators": 0}
    values = {"sagezero:defaults": {**base, **defaults}, "sagezero:tenants": [{"name": "a", **tenant}]}
    config = _parsed(values)
    bad = {k for k, v in {**defaults, **tenant}.items() if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        assert config is None
        with pytest.raises(StackConfigError) as e:
            parse_stack_config("fuzz", values)
        assert all(f".{k}: expected a finite number" in str(e.value) for k in bad)
    if config is not None:
        assert all(
            not (isinstance(v, float) and not math.isfinite(v)) for v in vars(config.tenants[0].settings).values()
        )


@given(st.dictionaries(TOP_KEYS, VALUES.map(lambda v: yaml.safe_dump(v) if isinstance(v, (dict, list)) else v)))
@settings(max_examples=100)
def test_engine_json_text_parses_or_fails_by_key(values: dict[str, Any]) -> None:
    _parsed(values)


YAML_TEXT = st.one_of(
    st.text(max_size=300),
    VALUES.map(lambda v: yaml.safe_dump({"config": v})),
    st.builds(lambda head, tail: head + tail, st.sampled_from(["config:\n  sagezero:tenants: ", "config: &a\n  x: "]),
              st.text(alphabet="[]{}&*!|>-:,'\" \nab0.", max_size=80)),
)  # fmt: skip


@given(YAML_TEXT)
@settings(max_examples=300)
def test_any_stack_file_loads_or_fails_with_one_line_per_problem(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Pulumi.fuzz.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
        _, error = outcome(lambda: load_stack(Path(tmp), "fuzz"), StackConfigError)
    assert error is None or all(len(line) <= 700 for line in error.splitlines())


@given(st.integers(2, 30), st.integers(1, 12))
@settings(max_examples=30)
def test_aliases_never_expand_past_the_bound(width: int, depth: int) -> None:
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
    leaves = width**depth
    doc, error = outcome(lambda: load_bounded_yaml("\n".join(lines)), yaml.YAMLError)
    if error is not None:
        assert leaves > 50_000 and "aliases" in error
    else:
        assert leaves <= 100_000 and doc is not None and len(doc) == depth


EPOCHS = st.one_of(st.integers(1_764_000_000, 1_764_000_000 + 400 * 86_400).map(str),
                   st.sampled_from(["nan", "inf", "-inf", "-1", "1e999", "2026-11-25T09:00:00Z", "9999-12-31T23:59:59"]))  # fmt: skip
TRACE_LINE = st.one_of(
    st.builds(lambda t, s: f"{t},{s}", EPOCHS, st.sampled_from(["100", "", "nan", "-5", "4e6", "1e999"])),
    st.text(alphabet="0123456789.,-:TZe+naif \"", max_size=40),
    st.builds(lambda t, s: f"{t},{s}", st.one_of(st.integers(), st.floats().map(repr), st.text(max_size=8)),
              st.one_of(st.integers(), st.floats().map(repr), st.just(""))),
    st.builds(lambda d: __import__("json").dumps(d), st.dictionaries(
        st.sampled_from(["timestamp", "service_ms", "service_s", "tenant", "event"]),
        st.one_of(st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=10), st.none(), st.booleans()))),
)  # fmt: skip
HEADERS = st.sampled_from(["timestamp", "timestamp,service_ms", "timestamp,service_s,tenant,event",
                           "timestamp,timestamp", "service_ms", ""])  # fmt: skip


@given(
    suffix=st.sampled_from([".csv", ".jsonl"]),
    header=HEADERS,
    lines=st.lists(TRACE_LINE, max_size=12),
    tail=st.binary(max_size=8),
    tenant=st.sampled_from([None, "acme"]),
)
@settings(max_examples=300)
def test_any_trace_loads_or_fails_naming_the_file(
    suffix: str, header: str, lines: list[str], tail: bytes, tenant: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        body = "\n".join(([header] if suffix == ".csv" else []) + lines).encode("utf-8", "surrogateescape")
        path.write_bytes(body + tail)
        traffic, error = outcome(lambda: tg.load_trace(path, tenant=tenant), tg.TrafficError)
    if traffic is None:
        assert error is not None and error.startswith(str(path)) and "\n" not in error
        return
    assert traffic.arrivals.size > 0 and bool((traffic.arrivals >= 0).all())
    assert math.isfinite(traffic.horizon_s) and traffic.days <= tg.MAX_DAYS + 1
    assert bool((traffic.service_s >= 0).all()) and bool((traffic.service_s <= 3600).all())


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode)
       | st.sampled_from([b"[" * 100_000, b'{"a":' * 50_000, b"[1e999]", b'{"a": NaN}', b"\xef\xbb\xbf{}"]))  # fmt: skip
@settings(max_examples=200)
def test_any_json_file_reads_or_fails_naming_the_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.json"
        path.write_bytes(data)
        _, error = outcome(lambda: read_json(path), JsonFileError)
        value, strict_error = outcome(lambda: read_json(path, finite=True), JsonFileError)
    assert error is None or (error.startswith(str(path)) and "\n" not in error)
    assert strict_error is None or (strict_error.startswith(str(path)) and "\n" not in strict_error)
    assert _all_finite(value)


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    return True


@given(st.dictionaries(st.one_of(st.sampled_from(sorted(PROFILE_KEYS)), st.text(max_size=8)), NUMBERS | VALUES,
                       max_size=6))  # fmt: skip
@settings(max_examples=300)
def test_any_traffic_profile_is_typed_or_refused(raw: dict[str, Any]) -> None:
    try:
        profile = check_profile(raw, "sagezero:traffic")
    except ScenarioError:
        return
    numbers = [v for v in profile.values() if isinstance(v, (int, float))]
    numbers += [w for v in profile.values() if isinstance(v, list) for w in v]
    assert all(math.isfinite(v) and v >= 0 for v in numbers)


ASSIGNMENT_KEYS = st.one_of(st.sampled_from(sorted(CAMEL_TO_FIELD)), st.sampled_from(sorted(PROFILE_KEYS)),
                            st.sampled_from(["instance_provision_s", "copy_stop_s", "image_size_gb"]), st.text(max_size=8))  # fmt: skip
ASSIGNMENT_VALUES = st.one_of(st.text(max_size=12), st.floats().map(repr), st.integers().map(str),
                              st.builds(lambda a, b: f"{a}..{b}", st.floats(), st.floats()))  # fmt: skip


@given(st.lists(st.tuples(ASSIGNMENT_KEYS, ASSIGNMENT_VALUES), min_size=1, max_size=4))
@settings(max_examples=300)
def test_any_override_applies_or_is_refused(assignments: list[tuple[str, str]]) -> None:
    from sagezero.settings import EndpointSettings

    try:
        client = apply_all(Scenario("fuzz", EndpointSettings(), {}), assignments).client()
    except ScenarioError:
        return
    assert math.isfinite(client.hold_s) and client.hold_s >= 0
    assert math.isfinite(client.deadline_s) and client.deadline_s >= 0


SERVICE = st.sampled_from(["100", "", "nan", "-5", "4e6", "1e999", "inf", "0"])


@given(
    good=st.lists(st.integers(1_764_000_000, 1_764_100_000), min_size=1, max_size=8),
    odd=st.tuples(EPOCHS, SERVICE),
    at=st.integers(0, 8),
    jsonl=st.booleans(),
)
@settings(max_examples=200)
def test_one_odd_row_among_good_ones_is_read_right_or_named_by_line(
    good: list[int], odd: tuple[str, str], at: int, jsonl: bool
) -> None:
    """Near-valid traces: a row that passes must give finite, in-range times; one that fails is named."""
    at = min(at, len(good))
    rows = [(str(t), "100") for t in good]
    rows.insert(at, odd)
    with tempfile.TemporaryDirectory() as tmp:
        if jsonl:
            path = Path(tmp) / "t.jsonl"
            path.write_text("".join(f'{{"timestamp": "{t}", "service_ms": "{ms}"}}\n' for t, ms in rows))
        else:
            path = Path(tmp) / "t.csv"
            path.write_text("timestamp,service_ms\n" + "".join(f"{t},{ms}\n" for t, ms in rows))
        traffic, error = outcome(lambda: tg.load_trace(path), tg.TrafficError)
    if traffic is None:
        assert error is not None and error.startswith(f"{path}:")
        line = at + (1 if jsonl else 2)
        assert f"{path}:{line}:" in error or f"({path}:{line})" in error, error
        return
    assert bool(np.isfinite(traffic.arrivals).all()) and bool((traffic.arrivals >= 0).all())
    assert bool(np.isfinite(traffic.service_s).all()) and traffic.days <= tg.MAX_DAYS
