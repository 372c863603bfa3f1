"""The image in a real container: built from a locally made base, run read-only as a non-root user."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sagezero import localdocker
from tests import docker_env
from tests.conftest import ROOT
from tests.serving import EXAMPLES, free_port, write_handler

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
    t0 = time.monotonic()
    code = container.stop(timeout_s=30)
    took = time.monotonic() - t0
    assert code == 0, container.logs()
    assert took < 30, f"stop took {took:.1f} s: the container waited for SIGKILL"
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
