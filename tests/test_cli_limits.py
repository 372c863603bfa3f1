"""Inputs a hostile review found to crash or hang a command: each is now one line naming what is
wrong (exit 2, or 1 for a live answer), never a traceback, a MemoryError or a wait without end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sagezero.simulate import traffic as tg
from tests.conftest import ROOT, run_cli
from tests.test_cli_walk import Case, _stack_files, check, no_aws

__all__ = ["no_aws"]  # fixture


def stack_files(config: bytes) -> dict[str, bytes | None]:
    return {
        **_stack_files(config),
        "{d}/__main__.py": (ROOT / "__main__.py").read_bytes(),
        "{d}/image/Dockerfile": b"FROM scratch\n",
    }


# ---- request volumes the simulator cannot hold in memory ------------------------------------------


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--traffic", "poisson", "--requests-per-day", "1e8", "--days", "366"], ["requestsPerDay × days", "50,000,000"]),
        (["--traffic", "sessions", "--sessions-per-day", "1e7", "--set", "requestsPerSession=1e5"],
         ["sessionsPerDay × requestsPerSession × days", "50,000,000"]),
    ],
)  # fmt: skip
def test_an_expected_request_count_too_large_to_simulate_is_refused_up_front(argv: list[str], names: list[str]) -> None:
    check(Case(["simulate", *argv], names))


# ---- trace files: regular files of bounded size and rows ---------------------------------------------


def test_a_trace_that_is_a_device_is_not_read() -> None:
    check(Case(["simulate", "--traffic", "/dev/zero"], ["/dev/zero: not a regular file"]))


def test_a_trace_that_is_a_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "t.csv"
    os.mkfifo(fifo)  # opening it would block until a writer came
    check(Case(["simulate", "--traffic", str(fifo)], [f"{fifo}: not a regular file"]))


def test_a_trace_in_a_stack_config_that_is_a_device_is_not_read(tmp_path: Path) -> None:
    config = b"config:\n  sagezero:tenants: [{name: a}]\n  sagezero:traffic: {kind: trace, trace: /dev/zero}\n"
    check(Case(["simulate", "--project-dir", "{d}", "--stack", "bad"], ["/dev/zero: not a regular file"],
               stack_files(config)))  # fmt: skip
    for name, data in stack_files(config).items():  # plan shows it in its cost line and goes on
        path = Path(name.replace("{d}", str(tmp_path)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data or b"")
    # in its own process: a plan that gets as far as running the program must not share this one's streams
    result = subprocess.run(
        [sys.executable, "-m", "sagezero.cli", "plan", "--no-policy", "--project-dir", str(tmp_path), "--stack", "bad"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr and "/dev/zero: not a regular file" in result.stdout + result.stderr, result


def test_a_trace_over_the_byte_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tg, "MAX_TRACE_BYTES", 100)
    trace = tmp_path / "t.csv"
    trace.write_text("timestamp\n" + "1732525200\n" * 20)
    check(Case(["simulate", "--traffic", str(trace)], [f"{trace}: 230 bytes is larger than the 100 bytes"]))


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl"])
def test_a_trace_over_the_row_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(tg, "MAX_TRACE_ROWS", 5)
    trace = tmp_path / name
    rows = ['{"timestamp": 1732525200}'] * 6 if name.endswith("jsonl") else ["timestamp", *["1732525200"] * 6]
    trace.write_text("\n".join(rows) + "\n")
    check(Case(["simulate", "--traffic", str(trace)], [f"{trace}: more than 5 rows"]))


# ---- client values: the simulator keeps the real client's limits (clientbehaviour) ----------------


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["warm", "--endpoint", "e", "--hold-minutes", "1e300"], ["--hold-minutes", "between 1 second and 7 days"]),
        (["warm", "--endpoint", "e", "--hold-minutes", "1e15"], ["--hold-minutes", "between 1 second and 7 days"]),
        (["invoke", "--endpoint", "e", "--deadline", "1e9", "x"], ["--deadline", "<= 86400"]),
        (["simulate", "--days", "1", "--hold-minutes", "1e300", "--client", "warm"], ["--hold-minutes", "7 days"]),
        (["simulate", "--days", "1", "--deadline", "1e300"], ["--deadline", "<= 86400"]),
        (["simulate", "--days", "1", "--set", "holdMinutes=0"], ["holdMinutes: hold must be between 1 second"]),
        (["simulate", "--days", "1", "--set", "deadlineS=1e9"], ["deadlineS: deadline must be from 0 to 86400"]),
    ],
)  # fmt: skip
def test_client_values_the_real_client_refuses_are_refused(argv: list[str], names: list[str]) -> None:
    check(Case(argv, names))


def test_a_traffic_profile_with_a_hold_the_client_refuses_is_refused() -> None:
    config = b"config:\n  sagezero:tenants: [{name: a}]\n  sagezero:traffic: {kind: poisson, holdMinutes: 0, days: 1}\n"
    check(Case(["simulate", "--project-dir", "{d}", "--stack", "bad"], ["holdMinutes: hold must be between 1 second"],
               stack_files(config)))  # fmt: skip


# ---- mechanics overrides the model cannot run with ---------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("tracking_period_s=0", "expected a finite number > 0"),  # was ZeroDivisionError
        ("alarm_action_repeat_s=0", "expected a finite number > 0"),  # was a simulation without end
        ("copy_concurrency=0", "expected a whole number > 0"),
        ("tracking_scale_out_datapoints=0", "expected a whole number > 0"),
    ],
)
def test_a_mechanics_override_the_model_cannot_run_with_is_refused(setting: str, expected: str) -> None:
    check(Case(["simulate", "--days", "1", "--set", setting], [setting.split("=", maxsplit=1)[0], expected]))


def test_invoke_refuses_to_read_standard_input_twice() -> None:
    check(Case(["invoke", "--outputs", "-", "-"], ["both read standard input"]))


# ---- JSON with an integer longer than Python converts ---------------------------------------------

BIG = b'{"a": ' + b"1" * 5000 + b"}"


@pytest.mark.parametrize(
    ("argv", "files"),
    [
        (["warm", "--outputs", "{d}/o.json"], {"{d}/o.json": BIG}),
        (["simulate", "--days", "1", "--prices", "{d}/p.json"], {"{d}/p.json": BIG}),
        (
            ["plan", "--policy-config", "{d}/c.json", "--project-dir", "{d}", "--stack", "bad"],
            {**stack_files(b"config: {}\n"), "{d}/c.json": BIG},
        ),
    ],
)
def test_a_json_integer_too_long_to_read_names_the_file(argv: list[str], files: dict[str, bytes | None]) -> None:
    check(Case(argv, [next(name for name in files if name.endswith(".json"))], files))


def test_engine_json_text_with_an_integer_too_long_to_read_names_the_key() -> None:
    value = '[{"name": "a", "maxCopies": ' + "1" * 5000 + "}]"
    config = ("config:\n  sagezero:tenants: '" + value + "'\n").encode()
    check(Case(["plan", "--no-policy", "--project-dir", "{d}", "--stack", "bad"],
               ["sagezero:tenants", "a number too long to read"], stack_files(config), lines=3))  # fmt: skip


def test_engine_json_text_of_an_assumed_role_with_an_integer_too_long_to_read_is_no_crash() -> None:
    value = '[{"roleArn": ' + "1" * 5000 + "}]"
    config = ("config:\n  sagezero:tenants: [{name: a}]\n  aws:assumeRoles: '" + value + "'\n").encode()
    check(Case(["simulate", "--project-dir", "{d}", "--stack", "bad"], ["aws-native:assumeRole"], stack_files(config),
               lines=3))  # fmt: skip


# ---- local invoke against something that is not an HTTP server -----------------------------------


def test_local_invoke_against_a_non_http_answer_is_one_line(tmp_path: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def answer_garbage() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    body = tmp_path / "b.json"
    body.write_text("[1]")
    try:
        result = run_cli(["local", "invoke", "--port", str(port), str(body)])
    finally:
        thread.join(timeout=10)
        server.close()
    assert result.code == 1 and result.err == f"sagezero: 127.0.0.1:{port} did not answer HTTP\n", result


# ---- YAML scalars PyYAML parses but cannot construct ------------------------------------------------


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("sagezero:foo: 2001-13-45", ["line 3: sagezero:foo: '2001-13-45'", "month must be in 1..12"]),
        ("sagezero:defaults: {scaleInCooldownS: !!int abc}", ["line 3: sagezero:defaults.scaleInCooldownS: 'abc'"]),
        ("sagezero:defaults: {maxCopies: " + "1" * 5000 + "}", ["line 3: sagezero:defaults.maxCopies", "5,000 characters"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", [["simulate"], ["plan", "--no-policy"]])
def test_a_yaml_scalar_that_cannot_be_constructed_names_file_line_and_key(
    line: str, names: list[str], command: list[str]
) -> None:
    config = f"config:\n  sagezero:tenants: [{{name: a}}]\n  {line}\n".encode()
    check(Case([*command, "--project-dir", "{d}", "--stack", "bad"], ["Pulumi.bad.yaml", *names],
               stack_files(config), lines=2))  # fmt: skip


# ---- long values are quoted as an excerpt, so the expectation survives ------------------------------

NINES, XS, KS = "9" * 1000, "x" * 4000, "k" * 4000


@pytest.mark.parametrize(
    ("argv", "config", "names"),
    [
        (["--set", f"scaleInCooldownS={NINES}"], None, ["(1,000 characters)", "is outside 0-3600"]),
        (["--sweep", f"scaleInCooldownS={NINES},1"], None, ["(1,0", "expected finite values"]),
        (["--sweep", "holdMinutes=0..inf:3"], None, ["expected finite LO and HI"]),
        ([], f"sagezero:defaults: {{instanceType: {XS}}}", ["(4,000 characters) is not one of AWS's"]),
        ([], f"aws-native:region: {XS}", ["(4,000 characters) differs from aws:region"]),
        ([], f"sagezero:traffic: {{kind: {KS}}}", ["(4,000 characters) must be one of"]),
    ],
)  # fmt: skip
def test_a_long_value_is_quoted_as_an_excerpt(argv: list[str], config: str | None, names: list[str]) -> None:
    if config is None:
        check(Case(["simulate", "--days", "1", *argv], names))
    else:
        text = f"config:\n  sagezero:tenants: [{{name: a}}]\n  {config}\n".encode()
        check(Case(["simulate", "--project-dir", "{d}", "--stack", "bad"], names, stack_files(text), lines=3))
