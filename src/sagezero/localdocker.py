"""Build and run the inference image locally the way SageMaker runs it, through the docker CLI.

Runs `docker` only (never the network beyond loopback); used by `sagezero local ...`, the container
tests and the benchmark. A missing docker client is one clear error, not a traceback.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Debian's docker client ships buildx-less BuildKit support that honours --secret; prefer it when present.
DEBIAN_DOCKER = Path("/usr/bin/docker")


class DockerError(RuntimeError):
    """docker is missing or a docker command failed; the message says which and why."""


def docker_binary() -> str:
    if DEBIAN_DOCKER.exists():
        return str(DEBIAN_DOCKER)
    found = shutil.which("docker")
    if not found:
        raise DockerError("docker is not installed (apt-get install docker.io, or Docker Desktop)")
    return found


def docker(*args: str, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True) -> str:
    cmd = [docker_binary(), *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, check=False
    )
    if check and proc.returncode != 0:
        raise DockerError(f"`docker {' '.join(args[:3])} ...` failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    return proc.stdout


def build(context: Path, tag: str, base_image: str | None = None, network_host: bool = True) -> str:
    """Build the image; the host CA bundle goes in as a build secret (never a layer) when it exists."""
    if not (context / "Dockerfile").exists():
        raise DockerError(f"{context} has no Dockerfile")
    args = ["build", "-t", tag]
    if network_host:
        args += ["--network", "host"]
    if base_image:
        args += ["--build-arg", f"BASE_IMAGE={base_image}"]
    if CA_BUNDLE.exists():
        args += ["--secret", f"id=pipcert,src={CA_BUNDLE}"]
    docker(*args, str(context), env={"DOCKER_BUILDKIT": "1"}, timeout=1200)
    return tag


def image_size_mb(tag: str) -> float:
    return int(docker("image", "inspect", tag, "--format", "{{.Size}}").strip()) / 1e6


@dataclass
class Container:
    id: str
    port: int

    def stop(self, timeout_s: int = 30) -> int:
        """SIGTERM, then SIGKILL after timeout_s, as SageMaker does; returns the exit code."""
        docker("stop", "-t", str(timeout_s), self.id, timeout=timeout_s + 30)
        return int(docker("inspect", self.id, "--format", "{{.State.ExitCode}}").strip())

    def logs(self) -> str:
        return docker("logs", self.id, check=False)

    def remove(self) -> None:
        docker("rm", "-f", self.id, check=False)


def run(
    tag: str, port: int, model_dir: Path | None = None, env: dict[str, str] | None = None, user: str = "1000:1000"
) -> Container:
    """`docker run <image> serve` with SageMaker's read-only filesystem: only /tmp is writable."""
    args = ["run", "-d", "--network", "host", "--read-only", "--tmpfs", "/tmp:rw,exec,size=512m", "--user", user]
    args += ["-e", f"SAGEMAKER_BIND_TO_PORT={port}", "-e", "SAGEZERO_HOST=127.0.0.1"]
    for k, v in (env or {}).items():
        args += ["-e", f"{k}={v}"]
    if model_dir is not None:
        args += ["-v", f"{model_dir.resolve()}:/opt/ml/model:ro"]
    cid = docker(*args, tag, "serve").strip()
    return Container(cid, port)


def wait_ready(port: int, timeout_s: float = 60, host: str = "127.0.0.1") -> float:
    """Seconds until /ping answers 200."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return time.monotonic() - t0
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.01)
    raise DockerError(f"nothing answered /ping 200 on {host}:{port} within {timeout_s:g} s")


def invoke(
    port: int, body: bytes, content_type: str = "application/json", accept: str | None = None, host: str = "127.0.0.1"
) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    try:
        conn.request("POST", "/invocations", body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("content-type") or "", r.read()
    finally:
        conn.close()


def describe(tag: str) -> dict[str, object]:
    doc = json.loads(docker("image", "inspect", tag))[0]
    cfg = doc["Config"]
    return {"user": cfg.get("User"), "entrypoint": cfg.get("Entrypoint"), "labels": cfg.get("Labels") or {}}
