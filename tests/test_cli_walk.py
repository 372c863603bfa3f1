"""Every subcommand, every kind of bad input: exit 2 and one line naming the flag, file (and line) or
key, never a traceback. Inputs are generated (hypothesis); each case knows what it broke, so the
test checks that the answer names it, not only that something was said."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sagezero.settings import EndpointSettings, camel
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.fuzz

FOLDER = None  # in Case.files: make a folder, not a file


@dataclass(frozen=True)
class Case:
    """One bad invocation. `{d}` in argv, files and names stands for a fresh temporary folder."""

    argv: list[str]
    names: list[str]
    """Text the error must contain: the flag, the file (with its line) or the key that is wrong."""
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    lines: int = 1
    """How many lines the answer may have (a stack config lists every problem, one per line)."""


@pytest.fixture(autouse=True, scope="module")
def no_aws() -> Iterator[None]:
    """A case that slipped past validation would reach AWS: make that an immediate, visible exit 1."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1",
                           "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}.items():  # fmt: skip
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


def check(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = str(Path(tmp).resolve())
        for name, data in case.files.items():
            path = Path(name.replace("{d}", d))
            if data is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        argv = [a.replace("{d}", d) for a in case.argv]
        result = run_cli(argv)
    lines = result.err.rstrip("\n").split("\n")  # a terminal breaks lines at \n only
    assert result.code == 2, (argv, result)
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.err.endswith("\n") and 1 <= len(lines) <= case.lines, result.err
    assert lines[0].startswith("sagezero"), result.err
    assert all(len(line) <= 1100 for line in lines), "a value is quoted in full"
    for name in case.names:
        assert name.replace("{d}", d) in result.err, (name, result.err)


# ---- generated values ---------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=30)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


NON_FINITE = st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e999"])
NEGATIVE = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(repr)
NOT_A_NUMBER = TEXT.filter(lambda t: not _is_float(t))
BAD_NUMBER = st.one_of(NON_FINITE, NEGATIVE, NOT_A_NUMBER)
BAD_WHOLE = st.one_of(BAD_NUMBER, st.floats(0.01, 1e6).filter(lambda x: not x.is_integer()).map(repr))
BAD_AWS_NAME = st.one_of(
    TEXT.filter(lambda t: not t.replace("-", "").isascii() or not t.replace("-", "").isalnum()),
    st.text("abc-", min_size=64, max_size=80),
    st.sampled_from(["-e", "e-", "a_b", "a.b", ""]),
)
NOT_UTF8 = st.binary(min_size=1, max_size=200).filter(lambda b: not _decodes(b))


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _flag(flag: str, value: str) -> list[str]:
    return [f"{flag}={value}"]  # the `=` form: a value that starts with '-' stays a value


# ---- flags --------------------------------------------------------------------------------------

BODY = {"{d}/body.json": b"{}"}
NUMBER_FLAGS = [
    (["warm", "--endpoint", "e"], "--hold-minutes", BAD_NUMBER | st.just("0") | st.floats(10081, 1e9).map(repr), {}),
    (["warm", "--endpoint", "e", "--wait"], "--timeout", BAD_NUMBER | st.just("0"), {}),
    (["invoke", "--endpoint", "e", "{d}/body.json"], "--deadline", BAD_NUMBER, BODY),
    (["simulate"], "--requests-per-day", BAD_NUMBER, {}),
    (["simulate"], "--sessions-per-day", BAD_NUMBER, {}),
    (["simulate"], "--hold-minutes", BAD_NUMBER, {}),
    (["simulate"], "--deadline", BAD_NUMBER, {}),
    (["simulate"], "--days", BAD_WHOLE | st.integers(367, 10**6).map(str) | st.just("0"), {}),
    (["simulate"], "--seed", BAD_WHOLE, {}),
    (["serve"], "--port", BAD_WHOLE | st.integers(65536, 10**9).map(str) | st.just("0"), {}),
    (["local", "run"], "--port", BAD_WHOLE | st.just("0"), {}),
    (["local", "invoke", "{d}/body.json"], "--port", BAD_WHOLE | st.integers(65536, 10**6).map(str), BODY),
]


@st.composite
def number_flag_cases(draw: st.DrawFn) -> Case:
    prefix, flag, values, files = draw(st.sampled_from(NUMBER_FLAGS))
    return Case([*prefix, *_flag(flag, draw(values))], [flag], files)


OPS = ["warm", "status", "verify", "teardown"]
NAME_FLAGS = ["--endpoint", "--inference-component"]


@st.composite
def name_flag_cases(draw: st.DrawFn) -> Case:
    command = draw(st.sampled_from([*OPS, "invoke"]))
    extra = ["{d}/body.json"] if command == "invoke" else []
    flag = draw(st.sampled_from([*NAME_FLAGS, "--region"]))
    value = draw(BAD_AWS_NAME if flag != "--region" else TEXT.filter(lambda t: "-" not in t or not t.isascii()))
    given_flags = _flag(flag, value) if flag == "--endpoint" else ["--endpoint", "e", *_flag(flag, value)]
    return Case([command, *given_flags, *extra], [flag], BODY)


@st.composite
def header_cases(draw: st.DrawFn) -> Case:
    flag = draw(st.sampled_from(["--content-type", "--accept"]))
    value = draw(
        st.one_of(
            st.text(min_size=1, max_size=20).filter(lambda t: not all(" " <= c <= "~" for c in t)),
            st.text("ab", min_size=1025, max_size=1100),
        )
    )
    prefix = draw(st.sampled_from([["invoke", "--endpoint", "e"], ["local", "invoke"]]))
    return Case([*prefix, "{d}/body.json", *_flag(flag, value)], [flag], BODY)


@st.composite
def image_ref_cases(draw: st.DrawFn) -> Case:
    prefix, flag = draw(st.sampled_from([(["local", "build"], "--tag"), (["local", "build"], "--base-image"),
                                         (["local", "run"], "--tag")]))  # fmt: skip
    value = draw(st.one_of(st.sampled_from(["-rm", "--privileged", "UPPER:x", "a b", "a:", ""]),
                           TEXT.filter(lambda t: not t.isascii() or " " in t)))  # fmt: skip
    return Case([*prefix, *_flag(flag, value)], [flag])


@given(st.one_of(number_flag_cases(), name_flag_cases(), header_cases(), image_ref_cases()))
@settings(max_examples=150)
def test_bad_flag_values_are_one_line_naming_the_flag(case: Case) -> None:
    check(case)


# ---- files --------------------------------------------------------------------------------------

BAD_JSON_FILES = st.one_of(
    NOT_UTF8,
    TEXT.filter(lambda t: not _json_loads(t)).map(str.encode),
    st.sampled_from([b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999}', b"[" * 5000 + b"]" * 5000]),
)


def _json_loads(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@st.composite
def file_cases(draw: st.DrawFn) -> Case:
    """A file argument that is missing, a folder, empty, binary, not JSON, or JSON with NaN."""
    kind = draw(st.sampled_from(["outputs", "export", "sim-export", "policy", "prices", "request", "local-request",
                                 "trace"]))  # fmt: skip
    path = "{d}/in.json"
    content: bytes | None = draw(st.one_of(st.none(), BAD_JSON_FILES))  # None: a folder
    if kind in ("request", "local-request"):
        content = None  # any bytes are a valid body (application/octet-stream): only a folder is wrong
    missing = draw(st.booleans()) and kind != "trace"
    files = {} if missing else {path: content}
    argv = {
        "outputs": [draw(st.sampled_from(OPS)), "--outputs", path],
        "export": ["check", path],
        "sim-export": ["simulate", "--days", "1", "--export", path],
        "policy": ["check", "{d}/export.json", "--policy-config", path],
        "prices": ["simulate", "--days", "1", "--prices", path],
        "request": ["invoke", "--endpoint", "e", path],
        "local-request": ["local", "invoke", path],
        "trace": ["simulate", "--days", "1", "--client", "retry", "--traffic", "{d}/in.jsonl"],
    }[kind]
    if kind == "policy":
        files["{d}/export.json"] = json.dumps({"deployment": {"resources": []}}).encode()
    if kind == "trace":
        files = {"{d}/in.jsonl": content}
        path = "{d}/in.jsonl"
    return Case(argv, [path], files)


@st.composite
def outputs_with_bad_names(draw: st.DrawFn) -> Case:
    """Stack outputs that parse, but whose names AWS would refuse: caught before any call."""
    field_name = draw(st.sampled_from(["endpoint_name", "inference_component_name"]))
    tenant = {"endpoint_name": "e", "inference_component_name": "e-ic", field_name: draw(BAD_AWS_NAME)}
    data = json.dumps({"acme": tenant}).encode()
    return Case(
        [draw(st.sampled_from(OPS)), "--outputs", "{d}/o.json"],
        ["{d}/o.json", "acme", field_name],
        {"{d}/o.json": data},
    )


@st.composite
def empty_request_cases(draw: st.DrawFn) -> Case:
    prefix = draw(st.sampled_from([["invoke", "--endpoint", "e"], ["local", "invoke"]]))
    return Case([*prefix, "{d}/empty"], ["{d}/empty", "empty"], {"{d}/empty": b""})


@st.composite
def folder_flag_cases(draw: st.DrawFn) -> Case:
    """Folders that must exist (and hold a model), and output files whose folder must exist."""
    kind = draw(st.sampled_from(["serve", "local-run", "project", "png", "html"]))
    state = draw(st.sampled_from(["missing", "file", "empty-folder"]))
    target = "{d}/x"
    files: dict[str, bytes | None] = {}
    if state == "file":
        files[target] = b"data"
    elif state == "empty-folder":
        files[target] = FOLDER
    if kind in ("png", "html"):
        flag = f"--{kind}"
        # a folder where the file should go, or a file under a folder that does not exist
        out = target if state == "empty-folder" else "{d}/nowhere/x." + kind
        return Case(["simulate", "--days", "1", flag, out], [flag], files)
    flag = "--project-dir" if kind == "project" else "--model-dir"
    if kind == "project" and state == "empty-folder":
        return Case(["plan", flag, target], ["no Pulumi.yaml", target], files)
    argv = {"serve": ["serve"], "local-run": ["local", "run"], "project": ["simulate"]}[kind]
    return Case([*argv, flag, target], [flag], files)


@given(st.one_of(file_cases(), empty_request_cases(), folder_flag_cases(), outputs_with_bad_names()))
@settings(max_examples=150)
def test_bad_files_and_folders_are_one_line_naming_the_path(case: Case) -> None:
    check(case)


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [(["status", "--outputs", "-"], b"\xff\xfe", "--outputs standard input: not UTF-8 text (byte 0xff at offset 0)"),
     (["verify", "--outputs", "-"], b"{nope", "--outputs standard input:1: not JSON"),
     (["invoke", "--endpoint", "e", "-"], b"", "request file standard input: is empty; nothing was sent"),
     (["local", "invoke", "-"], b"", "request file standard input: is empty")],
)  # fmt: skip
def test_standard_input_is_named_as_such(argv: list[str], stdin: bytes, message: str) -> None:
    result = run_cli(argv, stdin)
    assert result.code == 2 and result.err.startswith(f"sagezero: {message}"), result.err
    assert result.err.count("\n") == 1


def test_an_oversized_request_is_refused_before_sending() -> None:
    big = {"{d}/big": b"x" * (6 * 1024 * 1024 + 1)}
    check(Case(["invoke", "--endpoint", "e", "{d}/big"], ["{d}/big", "larger than 6,291,456 bytes"], big))
    check(Case(["local", "invoke", "{d}/big"], ["{d}/big", "larger than"], big))


# ---- traces: the line of the bad row ------------------------------------------------------------

EPOCH = 1_764_000_000
BAD_TIMESTAMPS = st.one_of(
    NON_FINITE,
    st.integers(-(10**12), -1).map(str),
    st.integers(253_402_300_800, 10**15).map(str),
    TEXT.filter(lambda t: not _is_float(t) and not set(t) & set(',"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')),
    st.just(str(EPOCH + 400 * 86_400)),
)
BAD_SERVICE = st.one_of(NON_FINITE, NEGATIVE, st.floats(3.6e6 + 1, 1e12).map(repr), st.just("fast"))


@st.composite
def bad_trace_rows(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 30))
    rows = [f"{EPOCH + 60 * i},{draw(st.integers(1, 5000))}" for i in range(n)]
    at = draw(st.integers(0, n))
    kind = draw(st.sampled_from(["timestamp", "service", "ragged", "binary"]))
    if kind == "timestamp":
        bad = f"{draw(BAD_TIMESTAMPS)},100"
    elif kind == "service":
        bad = f"{EPOCH},{draw(BAD_SERVICE)}"
    elif kind == "ragged":
        bad = draw(st.sampled_from([f"{EPOCH}", f"{EPOCH},1,2", f"{EPOCH},1,2,3"]))
    else:
        bad = f"{EPOCH},\udcff"
    rows.insert(at, bad)
    text = "timestamp,service_ms\n" + "\n".join(rows) + "\n"
    data = text.encode("utf-8", "surrogateescape")
    return Case(["simulate", "--days", "1", "--client", "retry", "--traffic", "{d}/t.csv"],
                [f"{{d}}/t.csv:{at + 2}"], {"{d}/t.csv": data})  # fmt: skip


@st.composite
def bad_jsonl_rows(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 20))
    rows = [json.dumps({"timestamp": EPOCH + i, "service_ms": 100}) for i in range(n)]
    at = draw(st.integers(0, n))
    bad = draw(st.sampled_from([
        '{"timestamp": NaN}', '{"timestamp": Infinity}', '{"timestamp": -Infinity}', '{"timestamp": 1e999}',
        '{"timestamp": [1]}', '{"timestamp": true}', '{"timestamp": {"a": 1}}', '{"timestamp": ' + "9" * 400 + "}",
        '[1, 2]', '"text"', '{"timestamp": 1', '{"timestamp": 1764000000, "service_s": "nan"}',
        '{"timestamp": 1764000000, "event": "logout"}', '{"timestamp": 1764000000, "event": [1]}',
        '{"timestamp": 1764000000, "service_ms": [1]}',
    ]))  # fmt: skip
    rows.insert(at, bad)
    return Case(["simulate", "--days", "1", "--client", "retry", "--traffic", "{d}/t.jsonl"],
                [f"{{d}}/t.jsonl:{at + 1}"], {"{d}/t.jsonl": ("\n".join(rows) + "\n").encode()})  # fmt: skip


@given(st.one_of(bad_trace_rows(), bad_jsonl_rows()))
@settings(max_examples=120)
def test_a_bad_trace_row_is_named_by_file_and_line(case: Case) -> None:
    check(case)


@pytest.mark.parametrize(
    ("header", "name"),
    [("timestamp,timestamp\n1,2\n", "t.csv:1: column 'timestamp' appears more than once"),
     ("timestamp,tenant,tenant\n1,a,b\n", "t.csv:1: column 'tenant' appears more than once"),
     ("time,service_ms\n1,2\n", "expected a CSV header with a 'timestamp' column")],
)  # fmt: skip
def test_trace_headers(header: str, name: str) -> None:
    check(Case(["simulate", "--days", "1", "--traffic", "{d}/t.csv"], [name], {"{d}/t.csv": header.encode()}))


# ---- --set and --sweep --------------------------------------------------------------------------

NUMERIC_SETTINGS = [
    camel(f.name)
    for f in dataclasses.fields(EndpointSettings)
    if f.metadata.get("min") is not None and f.metadata["min"] >= 0
]
PROFILE_NUMBERS = ["requestsPerDay", "sessionsPerDay", "holdMinutes", "deadlineS", "weekend", "serviceMs", "days"]


@st.composite
def set_cases(draw: st.DrawFn) -> Case:
    key = draw(st.sampled_from([*NUMERIC_SETTINGS, *PROFILE_NUMBERS, "instance_provision_s", "copy_stop_s"]))
    value = draw(st.one_of(NON_FINITE, NEGATIVE))
    if key == "instance_provision_s" and draw(st.booleans()):
        value = f"1..{value}"
    return Case(["simulate", "--days", "1", f"--set={key}={value}"], ["--set", key])


@st.composite
def set_shape_cases(draw: st.DrawFn) -> Case:
    text = draw(st.one_of(TEXT.filter(lambda t: "=" not in t), TEXT.map(lambda t: t.replace("=", "") + "=")))
    return Case(["simulate", "--days", "1", f"--set={text}"], ["--set", "expected KEY=VALUE"])


@st.composite
def hourly_cases(draw: st.DrawFn) -> Case:
    weights = draw(st.lists(st.floats(0, 10, allow_nan=False).map(repr), min_size=1, max_size=30))
    if len(weights) == 24:
        weights[draw(st.integers(0, 23))] = draw(st.one_of(NON_FINITE, NEGATIVE))
    return Case(["simulate", "--days", "1", "--set", "hourly=" + ",".join(weights)], ["hourly"])


@given(st.one_of(set_cases(), set_shape_cases(), hourly_cases()))
@settings(max_examples=100)
def test_bad_set_values_are_refused_by_key(case: Case) -> None:
    check(case)


def test_set_takes_a_list_for_hourly() -> None:
    night_owls = ",".join(["1"] * 6 + ["0"] * 18)
    result = run_cli(["simulate", "--days", "1", "--traffic", "poisson", "--set", f"hourly={night_owls}", "--json"])
    assert result.code == 0, result.err
    assert json.loads(result.out)["traffic"]["requests"] > 0


@given(
    key=st.sampled_from(["holdMinutes", "scaleInCooldownS"]),
    spec=st.sampled_from(["0..inf:3", "nan..5:3", "1,nan", "inf,1", "-inf..0:2"]),
)
@settings(max_examples=10)
def test_sweep_refuses_non_finite_values(key: str, spec: str) -> None:
    check(Case(["simulate", "--days", "1", "--sweep", f"{key}={spec}"], ["finite"]))


# ---- stack config -------------------------------------------------------------------------------


def _stack_files(config: object) -> dict[str, bytes | None]:
    return {"{d}/Pulumi.yaml": (ROOT / "Pulumi.yaml").read_bytes(), "{d}/Pulumi.bad.yaml": config}  # type: ignore[dict-item]


@st.composite
def bad_setting_cases(draw: st.DrawFn) -> Case:
    key = draw(st.sampled_from(NUMERIC_SETTINGS))
    value = draw(st.one_of(st.sampled_from([math.nan, math.inf, -math.inf]), st.floats(max_value=-1e-9, allow_nan=False,
                                                                                   allow_infinity=False)))  # fmt: skip
    where = draw(st.sampled_from(["defaults", "tenant"]))
    tenants: list[dict[str, object]] = [{"name": "a"}]
    config: dict[str, object] = {"sagezero:tenants": tenants}
    if where == "defaults":
        config["sagezero:defaults"] = {key: value}
        name = f"sagezero:defaults.{key}"
    else:
        tenants[0][key] = value
        name = f"sagezero:tenants[0].{key}"
    command = draw(st.sampled_from([["plan", "--no-policy"], ["simulate", "--days", "1"]]))
    text = yaml.safe_dump({"config": config}).encode()
    return Case([*command, "--project-dir", "{d}", "--stack", "bad"], [name], _stack_files(text), lines=8)


@st.composite
def bad_stack_file_cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["bomb", "binary", "huge-text", "unknown-key", "bad-yaml"]))
    if kind == "bomb":
        width = draw(st.integers(4, 12))
        depth = next(d for d in range(1, 20) if width**d > 200_000) + draw(st.integers(0, 2))
        lines = ["config:", f"  l0: &l0 [{', '.join(['x'] * width)}]"]
        lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
        lines.append(f"  sagezero:tenants: *l{depth - 1}")
        data, name = ("\n".join(lines) + "\n").encode(), "aliases"
    elif kind == "binary":
        data, name = b"config:\n  sagezero:tenants: [a]\n" + draw(NOT_UTF8), "not UTF-8"
    elif kind == "huge-text":
        data = yaml.safe_dump({"config": {"sagezero:tenants": [{"name": "a", "modelDataUrl": "s" * 200_000}]}}).encode()
        name = "sagezero:tenants[0].modelDataUrl: a 200,000-character value"
    elif kind == "unknown-key":
        key = draw(st.text("abcdefghij", min_size=1, max_size=10))
        data = yaml.safe_dump({"config": {"sagezero:tenants": ["a"], f"sagezero:x{key}": 1}}).encode()
        name = f"sagezero:x{key}: unknown key"
    else:
        data, name = b"config:\n  sagezero:tenants: [\n", "Pulumi.bad.yaml: line 3: not valid YAML"
    return Case(["plan", "--no-policy", "--project-dir", "{d}", "--stack", "bad"], [name], _stack_files(data), lines=3)


@given(st.one_of(bad_setting_cases(), bad_stack_file_cases()))
@settings(max_examples=60)
def test_bad_stack_config_names_the_key_or_the_file(case: Case) -> None:
    check(case)


# ---- the parser itself --------------------------------------------------------------------------

COMMANDS = ["plan", "check", "serve", "local", "warm", "invoke", "status", "verify", "teardown", "simulate"]


@given(
    command=st.sampled_from(COMMANDS),
    flag=st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=15).map(lambda t: "--zz" + t),
)
@settings(max_examples=40)
def test_unknown_flags_are_one_line(command: str, flag: str) -> None:
    prefix = {"local": ["local", "build"], "check": ["check", "x.json"], "invoke": ["invoke", "x"]}.get(
        command, [command]
    )
    check(Case([*prefix, flag], [flag]))


@pytest.mark.parametrize(
    ("argv", "name"),
    [([], "COMMAND"), (["nope"], "nope"), (["check"], "export"), (["invoke", "--endpoint", "e"], "file"),
     (["local"], "ACTION"), (["simulate", "--client", "sometimes"], "--client"), (["warm", "--hold-minutes"], "--hold-minutes"),
     (["warm"], "--endpoint NAME"), (["warm", "--endpoint", "e", "--outputs", "x"], "not both"),
     (["simulate", "--tenant", "acme"], "--tenant needs --stack or --export"),
     (["simulate", "--stack", "dev", "--export", "x.json"], "--export and --stack are two sources of tenants"),
     (["simulate", "--days", "1", "--traffic", "/no/a\rb.csv"], "no such file")],  # a \r is not a line break
)  # fmt: skip
def test_missing_and_conflicting_arguments_are_one_line(argv: list[str], name: str) -> None:
    check(Case(argv, [name]))
