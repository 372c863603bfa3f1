"""Helpers to run the inference server for real: in a thread, or as the container would, in a process."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

MODEL_DIR = ROOT / "image" / "model"
EXAMPLES = ROOT / "image" / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Client:
    """A plain HTTP/1.1 client, as SageMaker's front end is one."""

    def __init__(self, port: int) -> None:
        self.port = port

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def invoke(self, body: bytes, content_type: str = "application/json", accept: str | None = None, **h: str) -> Reply:
        headers = {"Content-Type": content_type, **h}
        if accept:
            headers["Accept"] = accept
        return self.request("POST", "/invocations", body, headers)

    def wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/ping", timeout=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"server on {self.port} not ready in {timeout} s")


def write_handler(folder: Path, source: str) -> Path:
    code = folder / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "inference.py").write_text(source)
    return folder


@contextmanager
def server_thread(model_dir: Path = MODEL_DIR, wait: bool = True, **env: str) -> Iterator[tuple[Client, object]]:
    """The real uvicorn server on a loopback port, in this process."""
    from sagezero_serve.config import ServeConfig
    from sagezero_serve.handler import Handler
    from sagezero_serve.server import build_server

    port = free_port()
    config = ServeConfig.from_env(
        {"SAGEZERO_HOST": "127.0.0.1", "SAGEZERO_PORT": str(port), "SM_MODEL_DIR": str(model_dir), **env}
    )
    server, app = build_server(config, Handler.discover(config.handler, config.model_dir, config.program))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    client = Client(port)
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    if wait:
        client.wait_ready()
    try:
        yield client, app
    finally:
        server.should_exit = True
        t.join(timeout=30)


@contextmanager
def server_process(model_dir: Path = MODEL_DIR, **env: str) -> Iterator[tuple[Client, subprocess.Popen[bytes]]]:
    """`python -m sagezero_serve serve` as the container runs it."""
    import os

    port = free_port()
    full_env = {
        **os.environ,
        "SAGEZERO_HOST": "127.0.0.1",
        "SAGEZERO_PORT": str(port),
        "SM_MODEL_DIR": str(model_dir),
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagezero_serve", "serve"], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        yield Client(port), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):  # unclosed pipes are ResourceWarnings, which fail tests
            if pipe is not None:
                pipe.close()


def eventually(condition: Callable[[], bool], what: str, bound_s: float = 30) -> None:
    """Wait for a condition the server reaches on its own; a bound (not a speed check) so a bug fails, not hangs."""
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)
