"""The inference server over real HTTP on loopback: every route, content type, error code and limit."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from tests.serving import EXAMPLES, MODEL_DIR, Client, eventually, server_process, server_thread, write_handler

SLOW_HANDLER = """
import threading, time
gate = threading.Event()
def model_fn(model_dir):
    return "m"
def predict_fn(data, model):
    time.sleep(float(data.get("sleep", 0)))
    return {"ok": True}
"""


GATED_HANDLER = """
import pathlib, time
def model_fn(model_dir):
    return "m"
def predict_fn(data, model):
    pathlib.Path(data["started"]).touch()
    deadline = time.monotonic() + 30  # a bound, so a test that never releases fails instead of hanging
    while not pathlib.Path(data["release"]).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"ok": True}
"""
"""A prediction that says when it runs and holds its worker until the test releases it: what runs
at once is then known, not assumed from a sleep long enough on an idle machine."""


def _gated(tmp_path: Path, name: str) -> bytes:
    return json.dumps({"started": str(tmp_path / f"started-{name}"), "release": str(tmp_path / "release")}).encode()


@pytest.fixture(scope="module")
def sample() -> object:
    with server_thread() as (client, _app):
        yield client


def test_ping_ready_with_sample_model(sample: Client) -> None:
    r = sample.request("GET", "/ping")
    assert (r.status, json.loads(r.body)) == (200, {"status": "ready"})


def test_json_prediction_matches_the_example(sample: Client) -> None:
    r = sample.invoke((EXAMPLES / "request.json").read_bytes())
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.body == (EXAMPLES / "response.json").read_bytes()


def test_csv_in_csv_out(sample: Client) -> None:
    r = sample.invoke((EXAMPLES / "request.csv").read_bytes(), "text/csv", accept="text/csv")
    assert r.status == 200
    assert r.headers["content-type"] == "text/csv"
    assert r.body == (EXAMPLES / "response.csv").read_bytes()


def test_npy_in_npy_out(sample: Client) -> None:
    import io

    import numpy as np

    rows = json.loads((EXAMPLES / "request.json").read_text())["instances"]
    buf = io.BytesIO()
    np.save(buf, np.array(rows, dtype=float))
    r = sample.invoke(buf.getvalue(), "application/x-npy", accept="application/x-npy")
    assert r.status == 200
    got = np.load(io.BytesIO(r.body))
    assert got.tolist() == json.loads((EXAMPLES / "response.json").read_text())


def test_accept_wildcard_follows_the_request_type(sample: Client) -> None:
    r = sample.invoke((EXAMPLES / "request.csv").read_bytes(), "text/csv", accept="*/*")
    assert (r.status, r.headers["content-type"]) == (200, "text/csv")


@pytest.mark.parametrize(
    ("body", "ctype", "accept", "status", "text"),
    [
        (b'{"not valid json', "application/json", None, 400, "not valid JSON"),
        (b"1,2,x,4\n", "text/csv", None, 400, "CSV line 1"),
        (b"not an array", "application/x-npy", None, 400, "not a valid .npy"),
        (b"[[1, 2]]", "application/json", None, 400, "row 0 must be 4 numbers"),
        (b"<a/>", "application/xml", None, 415, "Content-Type 'application/xml' is not supported"),
        (b"[[1, 2, 3, 4]]", "application/json", "image/png", 406, "Accept 'image/png' cannot be served"),
    ],
)
def test_bad_requests_get_a_short_json_error(
    sample: Client, body: bytes, ctype: str, accept: str | None, status: int, text: str
) -> None:
    r = sample.invoke(body, ctype, accept=accept)
    assert r.status == status
    doc = json.loads(r.body)
    assert text in doc["message"]
    assert "Traceback" not in r.body.decode()


def test_body_over_the_limit_is_413_and_the_server_keeps_serving(sample: Client) -> None:
    big = b"[" + b"0," * (3 * 1024 * 1024) + b"0]"  # ~6.3 MB
    r = sample.invoke(big)
    assert r.status == 413
    assert "6291456-byte limit" in json.loads(r.body)["message"]
    assert sample.invoke((EXAMPLES / "request.json").read_bytes()).status == 200


def test_limit_is_configurable_and_enforced_on_chunked_bodies() -> None:
    with server_thread(SAGEZERO_MAX_BODY_BYTES="100") as (client, _):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
        conn.putrequest("POST", "/invocations")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for _ in range(3):
            chunk = b"[" + b" " * 60 + b"]"
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        assert r.status == 413
        conn.close()


def test_routes_and_methods(sample: Client) -> None:
    assert sample.request("GET", "/invocations").status == 405
    assert sample.request("POST", "/ping").status == 405
    r = sample.request("GET", "/nope")
    assert r.status == 404 and "no route /nope" in json.loads(r.body)["message"]
    params = json.loads(sample.request("GET", "/execution-parameters").body)
    assert params["MaxPayloadInMB"] == 6


def test_handler_exception_is_500_without_traceback_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = write_handler(
        tmp_path, "def model_fn(d):\n    return 1\ndef predict_fn(x, m):\n    raise RuntimeError('secret detail')\n"
    )
    with caplog.at_level(logging.ERROR), server_thread(model) as (client, _):
        r = client.invoke(b"[1]")
    assert r.status == 500
    doc = json.loads(r.body)
    assert doc["error"] == "Internal Server Error"
    assert "RuntimeError" in doc["message"] and "secret detail" not in doc["message"]
    assert any(rec.exc_info and "secret detail" in str(rec.exc_info[1]) for rec in caplog.records)


def test_custom_attributes_reach_the_handler_and_come_back(tmp_path: Path) -> None:
    model = write_handler(
        tmp_path,
        "def model_fn(d):\n    return None\n"
        "def predict_fn(data, model, context):\n    return {'attrs': context.custom_attributes, 'accept': context.accept}\n",
    )
    with server_thread(model) as (client, _):
        r = client.invoke(b"{}", **{"X-Amzn-SageMaker-Custom-Attributes": "tenant=acme,trace=1"})
    assert r.status == 200
    assert json.loads(r.body) == {"attrs": "tenant=acme,trace=1", "accept": ""}
    assert r.headers["x-amzn-sagemaker-custom-attributes"] == "tenant=acme,trace=1"


def test_user_input_fn_rejections_are_400(tmp_path: Path) -> None:
    model = write_handler(
        tmp_path,
        "def input_fn(body, content_type):\n    raise ValueError('need a user id')\n"
        "def predict_fn(d, m):\n    return d\n",
    )
    with server_thread(model) as (client, _):
        r = client.invoke(b"{}")
    assert r.status == 400 and "need a user id" in json.loads(r.body)["message"]


def test_ping_is_503_until_the_model_has_loaded(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    model = write_handler(
        tmp_path,
        f"import pathlib, time\ndef model_fn(d):\n    while not pathlib.Path({str(gate)!r}).exists():\n"
        "        time.sleep(0.01)\n    return 'm'\ndef predict_fn(x, m):\n    return m\n",
    )
    with server_thread(model, wait=False) as (client, _):
        deadline = time.monotonic() + 5
        while True:
            try:
                r = client.request("GET", "/ping", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.01)
        assert (r.status, json.loads(r.body)) == (503, {"status": "loading"})
        inv = client.invoke(b"{}")
        assert inv.status == 503 and inv.headers["retry-after"] == "1"
        gate.write_text("go")
        client.wait_ready(5)
        assert client.invoke(b"{}").status == 200


def test_ping_answers_while_predictions_run(tmp_path: Path) -> None:
    model = write_handler(tmp_path, GATED_HANDLER)
    with server_thread(model, SAGEZERO_WORKERS="2") as (client, _), ThreadPoolExecutor(4) as pool:
        slow = [pool.submit(client.invoke, _gated(tmp_path, str(i))) for i in range(2)]
        eventually(lambda: all((tmp_path / f"started-{i}").exists() for i in range(2)), "both predictions run")
        try:
            assert client.request("GET", "/ping").status == 200
            # Answered while both predictions still run (held until released): it did not queue behind them.
            running = [not f.done() for f in slow]
        finally:
            (tmp_path / "release").touch()
        assert all(f.result().status == 200 for f in slow)
    assert running == [True, True], "/ping waited behind predictions"


def test_bounded_queue_answers_429_when_full(tmp_path: Path) -> None:
    model = write_handler(tmp_path, GATED_HANDLER)
    with (
        server_thread(model, SAGEZERO_WORKERS="1", SAGEZERO_MAX_QUEUE="1") as (client, app),
        ThreadPoolExecutor(4) as pool,
    ):
        busy = [pool.submit(client.invoke, _gated(tmp_path, str(i))) for i in range(2)]
        # One prediction runs (held), the other waits in the queue: the server is at its limit.
        eventually(lambda: app.in_flight == 2 and any(tmp_path.glob("started-*")), "one running, one queued")  # type: ignore[attr-defined]
        try:
            r = client.invoke(_gated(tmp_path, "third"))
            assert r.status == 429 and r.headers["retry-after"] == "1"
            assert not (tmp_path / "started-third").exists()
        finally:
            (tmp_path / "release").touch()
        assert sorted(f.result().status for f in busy) == [200, 200]


def test_sigterm_finishes_in_flight_work_and_exits_zero(tmp_path: Path) -> None:
    model = write_handler(tmp_path, SLOW_HANDLER)
    with server_process(model) as (client, proc):
        client.wait_ready()
        result: dict[str, int] = {}
        t = threading.Thread(target=lambda: result.setdefault("status", client.invoke(b'{"sleep": 1.0}').status))
        t.start()
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        t.join(timeout=10)
        assert proc.wait(timeout=10) == 0
    assert result == {"status": 200}


def test_model_load_failure_stops_the_server_with_exit_1(tmp_path: Path) -> None:
    model = write_handler(tmp_path, "def model_fn(d):\n    raise FileNotFoundError('weights.bin')\n")
    with server_process(model) as (_client, proc):
        assert proc.wait(timeout=20) == 1
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
    assert '"event": "model_load_failed"' in out and "weights.bin" in out


@pytest.mark.parametrize(
    ("env", "text"),
    [
        ({"SAGEMAKER_BIND_TO_PORT": "eighty"}, "SAGEMAKER_BIND_TO_PORT='eighty' is not a whole number"),
        ({"SAGEZERO_WORKERS": "0"}, "SAGEZERO_WORKERS=0 is outside 1-512"),
        ({"SAGEZERO_HANDLER": "missing_module_xyz"}, "handler module 'missing_module_xyz' cannot be imported"),
    ],
)
def test_bad_environment_fails_start_with_the_variable_named(env: dict[str, str], text: str) -> None:
    with server_process(MODEL_DIR, **env) as (_client, proc):
        assert proc.wait(timeout=20) == 1
        assert proc.stdout is not None
        assert text in proc.stdout.read().decode()


def test_only_serve_is_accepted() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "sagezero_serve", "train"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2 and "expected `serve`" in proc.stderr


def test_bind_to_port_overrides_the_default() -> None:
    from sagezero_serve.config import ServeConfig

    assert ServeConfig.from_env({}).port == 8080
    assert ServeConfig.from_env({"SAGEMAKER_BIND_TO_PORT": "9090"}).port == 9090


def test_ray_example_keeps_every_ray_path_under_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Ray handler example, with a recording stand-in for `ray` (Ray itself is not a dependency)."""
    import runpy
    import sys
    import types

    calls: dict[str, object] = {}

    def init(**kwargs: object) -> None:
        calls.update(kwargs)

    def remote(fn: object) -> object:
        return types.SimpleNamespace(remote=fn)

    fake = types.SimpleNamespace(init=init, remote=remote, get=list)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setenv("RAY_TMPDIR", "/tmp/ray")
    from tests.conftest import ROOT

    mod = runpy.run_path(str(ROOT / "image" / "examples" / "ray_handler" / "inference.py"))
    model = mod["model_fn"]("/opt/ml/model")
    assert mod["predict_fn"]({"instances": [[1.0, 2.0]]}, model) == [3.0]
    from sagezero_serve import BadRequest

    bad_inputs: list[object] = [{"rows": []}, [[1.0, "x"]], [[10**400]], [[float("nan")]], "text"]
    for bad in bad_inputs:
        with pytest.raises(BadRequest, match="expected"):
            mod["predict_fn"](bad, model)
    assert calls["_temp_dir"] == "/tmp/ray" and calls["include_dashboard"] is False
    assert "/tmp/ray/spill" in str(calls["_system_config"])


def test_sagezero_serve_runs_a_model_folder_without_docker() -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.serving import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagezero.cli", "serve", "--model-dir", str(MODEL_DIR), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ},
    )  # fmt: skip
    try:
        client = Client(port)
        client.wait_ready()
        assert client.invoke((EXAMPLES / "request.json").read_bytes()).body == (EXAMPLES / "response.json").read_bytes()
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


def test_octet_stream_round_trip(tmp_path: Path) -> None:
    model = write_handler(
        tmp_path,
        "def model_fn(d):\n    return None\n"
        "def predict_fn(data, model):\n    return bytes(reversed(data)) if isinstance(data, bytes) else data\n",
    )
    with server_thread(model) as (client, _):
        r = client.invoke(b"\x00\x01\x02", "application/octet-stream", accept="application/octet-stream")
        assert (r.status, r.headers["content-type"], r.body) == (200, "application/octet-stream", b"\x02\x01\x00")
        r = client.invoke(b"[1]", "application/json", accept="application/octet-stream")
        assert r.status == 406 and "needs the model to return bytes" in json.loads(r.body)["message"]
