"""Run the app under uvicorn (httptools + uvloop when installed), SageMaker-style.

SIGTERM stops accepting, lets in-flight requests finish (up to the graceful timeout, below
SageMaker's 30 s SIGKILL) and exits 0. A model that fails to load stops the server with exit 1.
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys
from types import FrameType

import uvicorn

from sagezero_serve.app import App
from sagezero_serve.config import ServeConfig
from sagezero_serve.handler import Handler

log = logging.getLogger("sagezero_serve")


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM:
            # SageMaker stops containers with SIGTERM: drain, then exit 0 (uvicorn would re-raise it).
            self.should_exit = True
            return
        super().handle_exit(sig, frame)


def build_server(config: ServeConfig, handler: Handler) -> tuple[uvicorn.Server, App]:
    server: _Server | None = None

    def fatal() -> None:
        if server is not None:
            server.should_exit = True

    app = App(handler, config, on_fatal=fatal)
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        date_header=False,
        timeout_keep_alive=75,  # longer than the SageMaker front end's idle timeout, so it closes first
        timeout_graceful_shutdown=config.graceful_timeout_s,
    )
    server = _Server(uv_config)
    return server, app


def serve(config: ServeConfig) -> int:
    handler = Handler.discover(config.handler, config.model_dir)
    server, app = build_server(config, handler)
    log.info(
        "starting",
        extra={
            "event": "start",
            "port": config.port,
            "workers": config.workers,
            "model_dir": str(config.model_dir),
            "handler": getattr(handler.module, "__file__", None) or "defaults",
        },
    )
    server.run()
    if app.state.status == "failed":
        return 1
    return 0 if not getattr(server, "exit_code", 0) else 1


def main() -> None:
    sys.exit(serve(ServeConfig.from_env()))
