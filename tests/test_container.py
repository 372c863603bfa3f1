"""The image in a real container: built from a locally made base, run read-only as a non-root user."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagezero import localdocker
from tests import docker_env
from tests.conftest import ROOT
from tests.serving import EXAMPLES, eventually, free_port, write_handler

pytestmark = pytest.mark.container
TAG = "sagezero-serve:test"

# The seed's failure: a library that writes its scratch files under HOME/TMPDIR (as Ray does) must work
# when only /tmp is writable.
SCRATCH_HANDLER = """
import os, tempfile, pathlib
def model_fn(model_dir):
    home = pathlib.Path(os.environ["HOME"]) / ".cache" / "lib"
    home.mkdir(parents=True, exist_ok=True)
    (home / "state").write_text("ok")
    ray_dir = pathlib.Path(os.environ["RAY_TMPDIR"]) / "session"
    ray_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=None, delete=False) as f:
        f.write(b"x")
    return {"home": str(home), "tmp": f.name, "ray": str(ray_dir)}
def predict_fn(data, model):
    try:
        open("/opt/ml/model/escape", "w")
        escaped = True
    except OSError:
        escaped = False
    return {**model, "root_writable": escaped, "uid": os.getuid()}
"""


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    base = docker_env.require()
    with docker_env.docker_host():
        localdocker.build(ROOT / "image", TAG, base_image=base)
        yield TAG


@pytest.fixture
def container(image: str) -> Iterator[localdocker.Container]:
    c = localdocker.run(image, free_port())
    try:
        yield c
    finally:
        c.remove()


def test_image_is_non_root_labelled_and_small(image: str) -> None:
    info = localdocker.describe(image)
    assert info["user"] == "1000:1000"
    assert info["entrypoint"] == ["/opt/venv/bin/python", "-m", "sagezero_serve"]
    labels = info["labels"]
    assert isinstance(labels, dict)
    assert labels["com.amazonaws.sagemaker.capabilities.accept-bind-to-port"] == "true"
    size = localdocker.image_size_mb(image)
    assert size < 250, f"image is {size:.0f} MB"
    for tool in ("pip", "gcc"):
        out = localdocker.docker("run", "--rm", "--entrypoint", "sh", image, "-c", f"command -v {tool} || echo none")
        assert out.strip() == "none", f"{tool} is in the final image"


def test_serves_the_sample_model_read_only(container: localdocker.Container) -> None:
    localdocker.wait_ready(container.port)
    status, ctype, body = localdocker.invoke(container.port, (EXAMPLES / "request.json").read_bytes())
    assert (status, ctype) == (200, "application/json")
    assert body == (EXAMPLES / "response.json").read_bytes()
    status, _, body = localdocker.invoke(container.port, b"{bad", "application/json")
    assert status == 400 and "Traceback" not in body.decode()


def test_sigterm_exits_cleanly_within_the_grace_period(container: localdocker.Container) -> None:
    localdocker.wait_ready(container.port)
    code = container.stop(timeout_s=30)
    assert code == 0, f"exit {code} (137 is docker's SIGKILL after the grace period): {container.logs()}"
    assert '"event": "shutdown"' in container.logs()


def test_libraries_that_write_scratch_files_work_when_only_tmp_is_writable(image: str, tmp_path: Path) -> None:
    model = write_handler(tmp_path / "model", SCRATCH_HANDLER)
    model.chmod(0o755)
    (model / "code").chmod(0o755)
    (model / "code" / "inference.py").chmod(0o644)
    c = localdocker.run(image, free_port(), model_dir=model)
    try:
        localdocker.wait_ready(c.port)
        status, _, body = localdocker.invoke(c.port, b"{}")
        assert status == 200, c.logs()
        doc = json.loads(body)
        assert doc["home"].startswith("/tmp/") and doc["tmp"].startswith("/tmp/") and doc["ray"].startswith("/tmp/ray")
        assert doc["root_writable"] is False
        assert doc["uid"] == 1000
    finally:
        c.remove()


def test_local_commands_build_run_and_invoke(image: str) -> None:
    import subprocess
    import sys

    port = free_port()
    with docker_env.docker_host():
        run = subprocess.run(
            [sys.executable, "-m", "sagezero.cli", "local", "run", "--tag", image, "--port", str(port)],
            capture_output=True, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        cid = run.stdout.split()[1]
        try:
            inv = subprocess.run(
                [sys.executable, "-m", "sagezero.cli", "local", "invoke", str(EXAMPLES / "request.csv"), "--port", str(port),
                 "--content-type", "text/csv", "--accept", "text/csv"],
                capture_output=True, text=True, cwd=ROOT, check=False,
            )  # fmt: skip
            assert inv.returncode == 0, inv.stderr
            assert inv.stdout == (EXAMPLES / "response.csv").read_text()
        finally:
            localdocker.docker("rm", "-f", cid, check=False)


def _readable(folder: Path) -> Path:
    """World-readable, as a model folder SageMaker mounts is for the image's non-root user."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    parent = folder.parent
    while parent != parent.parent and parent != Path("/tmp"):
        parent.chmod(parent.stat().st_mode | 0o011)
        parent = parent.parent
    return folder


def _exit_code(c: localdocker.Container, timeout_s: int = 60) -> int:
    return int(localdocker.docker("wait", c.id, timeout=timeout_s).strip())


def _records(c: localdocker.Container) -> list[dict[str, object]]:
    """Every line the container wrote, as JSON (fails on any line that is not one object)."""
    out = localdocker.docker("logs", c.id, check=False)
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (_readable, "no handler and no model.json"),
        (lambda p: p.chmod(0o700) or p, "cannot be read"),  # root-owned, unreadable to uid 1000
        (lambda p: _readable(write_handler(p, "import numpy_but_misspelt\n")), "No module named 'numpy_but_misspelt'"),
    ],
)
def test_without_a_usable_model_the_container_exits_1_with_one_json_line(
    image: str, tmp_path: Path, make: object, text: str
) -> None:
    assert callable(make)
    (tmp_path / "model").mkdir()
    model = make(tmp_path / "model")
    c = localdocker.run(image, free_port(), model_dir=model)
    try:
        assert _exit_code(c) == 1
        failures = [r for r in _records(c) if r.get("event") in ("start_failed", "model_load_failed")]
        assert len(failures) == 1 and text in str(failures[0]["msg"]), failures
    finally:
        c.remove()


def test_sigterm_during_a_prediction_answers_503_and_exits_0_before_sigkill(image: str, tmp_path: Path) -> None:
    source = (
        "import time\ndef model_fn(d):\n    print('loading'); return 'm'\n"
        "def predict_fn(x, m):\n    print('predicting'); time.sleep(3600)\n"
    )
    model = _readable(write_handler(tmp_path / "model", source))
    c = localdocker.run(image, free_port(), model_dir=model, env={"SAGEZERO_GRACEFUL_TIMEOUT_S": "1"})
    try:
        localdocker.wait_ready(c.port)
        answer: dict[str, int] = {}
        t = threading.Thread(target=lambda: answer.setdefault("status", localdocker.invoke(c.port, b"{}")[0]))
        t.start()
        eventually(lambda: any(r.get("msg") == "predicting" for r in _records(c)), "the prediction starts")
        # SIGTERM, then SIGKILL 20 s later: 137 would mean the prediction held the process.
        assert c.stop(timeout_s=20) == 0, c.logs()
        t.join(timeout=30)
        assert answer == {"status": 503}
        records = _records(c)
        assert [r["msg"] for r in records if r.get("event") == "output"] == ["loading", "predicting"]
        assert {"draining", "drain_expired", "shutdown"} <= {r.get("event") for r in records}
    finally:
        c.remove()
