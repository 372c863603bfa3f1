"""Run the app under uvicorn, SageMaker-style: httptools (required: the header deadline extends its
protocol) and uvloop when installed.

SIGTERM (or a first Ctrl+C) stops accepting and turns /ping 503; in-flight requests may finish until
SAGEZERO_GRACEFUL_TIMEOUT_S (below SageMaker's SIGKILL 30 s later), then whatever is still running is
answered 503 and the process exits 0 without waiting for the prediction threads. A model that fails
to load stops the server with exit 1.
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
from sagezero_serve.protocol import protocol_class

log = logging.getLogger("sagezero_serve")


class _Server(uvicorn.Server):
    app: App | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM or (sig == signal.SIGINT and not self.should_exit):
            # SageMaker stops containers with SIGTERM (Ctrl+C stops `sagezero serve`): drain within the
            # limit, then exit 0 (uvicorn would re-raise the signal). A second Ctrl+C forces the exit.
            if self.app is not None:
                self.app.request_stop()
            self.should_exit = True
            return
        super().handle_exit(sig, frame)


def build_server(config: ServeConfig, handler: Handler) -> tuple[uvicorn.Server, App]:
    server: _Server | None = None

    def fatal() -> None:
        if server is not None:
            server.should_exit = True

    def drop_connections() -> None:
        if server is None:
            return
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    app = App(handler, config, on_fatal=fatal, on_drain_expired=drop_connections)
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http=protocol_class(config.header_timeout_s, config.max_header_bytes, config.max_headers),
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
        date_header=False,
        timeout_keep_alive=config.keep_alive_s,  # 75 s: longer than SageMaker's front end's, so it closes first
        # At the limit the app answers in-flight requests 503 and drops connections whose clients do
        # not read; uvicorn's own cut-off is only a backstop.
        timeout_graceful_shutdown=int(config.graceful_timeout_s) + 2,
    )
    server = _Server(uv_config)
    server.app = app
    return server, app


def serve(config: ServeConfig) -> int:
    handler = Handler.discover(config.handler, config.model_dir, config.program)
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
