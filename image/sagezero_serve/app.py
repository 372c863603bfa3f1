"""The ASGI app: /ping, /invocations and /execution-parameters, with limits and a bounded queue.

The model loads on a background thread so the port answers at once (/ping says 503 until it is
ready); predictions run on a worker pool so /ping is never stuck behind a slow one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sagezero_serve.config import ServeConfig
from sagezero_serve.errors import HTTPError
from sagezero_serve.handler import Handler, RequestContext
from sagezero_serve.logs import now_ms
from sagezero_serve.payloads import negotiate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("sagezero_serve")
JSON_HEADERS = [(b"content-type", b"application/json")]


class ModelState:
    """Loading -> ready, or failed; read by /ping without locks (one writer, atomic assignments)."""

    def __init__(self) -> None:
        self.status = "loading"
        self.error: str | None = None
        self.loaded = threading.Event()


class App:
    def __init__(self, handler: Handler, config: ServeConfig, on_fatal: Callable[[], None] | None = None) -> None:
        self.handler = handler
        self.config = config
        self.state = ModelState()
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="predict")
        self.capacity = config.workers + config.max_queue
        self.in_flight = 0
        self.on_fatal = on_fatal

    # -- lifecycle -------------------------------------------------------------------------------
    def start_loading(self) -> threading.Thread:
        t = threading.Thread(target=self._load, name="model-load", daemon=True)
        t.start()
        return t

    def _load(self) -> None:
        t0 = now_ms()
        try:
            self.handler.load()
        except Exception as e:
            self.state.error = f"{type(e).__name__}: {e}"
            self.state.status = "failed"
            log.exception("model_fn failed; the server will stop", extra={"event": "model_load_failed"})
            if self.on_fatal:
                self.on_fatal()
        else:
            self.state.status = "ready"
            log.info("model loaded", extra={"event": "model_loaded", "ms": round(now_ms() - t0, 1)})
        finally:
            self.state.loaded.set()

    # -- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        try:
            if path == "/ping":
                await self._ping(method, send)
            elif path == "/invocations":
                await self._invocations(scope, method, receive, send)
            elif path == "/execution-parameters":
                await self._execution_parameters(method, send)
            else:
                raise HTTPError(404, f"no route {path}; this server answers /ping and /invocations")
        except HTTPError as e:
            await _respond(send, e.status, e.body(), JSON_HEADERS + _headers(e.headers))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_loading()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.pool.shutdown)
                log.info("stopped", extra={"event": "shutdown"})
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ping(self, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, "use GET /ping", {"allow": "GET, HEAD"})
        status = self.state.status
        code = 200 if status == "ready" else 503
        await _respond(send, code, b'{"status":"%s"}' % status.encode(), JSON_HEADERS)

    async def _execution_parameters(self, method: str, send: Send) -> None:
        if method != "GET":
            raise HTTPError(405, "use GET /execution-parameters", {"allow": "GET"})
        body = json.dumps(
            {
                "MaxConcurrentTransforms": self.config.workers,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": max(1, self.config.max_body_bytes // (1024 * 1024)),
            }
        ).encode()
        await _respond(send, 200, body, JSON_HEADERS)

    async def _invocations(self, scope: Scope, method: str, receive: Receive, send: Send) -> None:
        if method != "POST":
            raise HTTPError(405, "use POST /invocations", {"allow": "POST"})
        if self.state.status != "ready":
            raise HTTPError(503, f"model is {self.state.status}; wait for /ping to answer 200", {"retry-after": "1"})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length")
        limit = self.config.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPError(413, f"body of {int(declared)} bytes exceeds the {limit}-byte limit")
        if self.in_flight >= self.capacity:
            raise HTTPError(
                429, f"{self.in_flight} requests in flight (limit {self.capacity}); retry shortly", {"retry-after": "1"}
            )
        self.in_flight += 1
        try:
            body = await _read_body(receive, limit)
            ctx = RequestContext(
                content_type=headers.get("content-type", "application/json"),
                accept=headers.get("accept", ""),
                custom_attributes=headers.get("x-amzn-sagemaker-custom-attributes"),
                request_id=headers.get("x-amzn-requestid") or uuid.uuid4().hex,
                headers=headers,
            )
            t0 = now_ms()
            loop = asyncio.get_running_loop()
            payload, media = await loop.run_in_executor(self.pool, self._run, body, ctx)
            extra = [(b"content-type", media.encode())]
            if ctx.custom_attributes is not None:
                extra.append((b"x-amzn-sagemaker-custom-attributes", ctx.custom_attributes.encode()[:1024]))
            await _respond(send, 200, payload, extra)
            if self.config.access_log:
                log.info(
                    "invocation",
                    extra={"event": "invocation", "ms": round(now_ms() - t0, 2), "request_id": ctx.request_id},
                )
        finally:
            self.in_flight -= 1

    def _run(self, body: bytes, ctx: RequestContext) -> tuple[bytes, str]:
        if not self.handler.handles_accept_itself():
            # Refuse an unanswerable Accept before spending time on a prediction.
            negotiate(ctx.accept, ctx.content_type)
        try:
            data = self.handler.decode(body, ctx)
            prediction = self.handler.predict(data, ctx)
            return self.handler.encode(prediction, ctx.accept, ctx)
        except HTTPError:
            raise
        except Exception as e:
            log.exception("handler failed", extra={"event": "handler_error", "request_id": ctx.request_id})
            raise HTTPError(500, f"the model failed on this request ({type(e).__name__}); see the container log") from e


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPError(413, f"body exceeds the {limit}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in extra.items()]


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})
