"""The ASGI app: /ping, /invocations and /execution-parameters, with limits and a bounded queue.

The model loads on a background thread so the port answers at once (/ping says 503 until it is
ready); predictions run on a worker pool so /ping is never stuck behind a slow one. A request counts
against the queue limit only once its body is read, and the body must arrive within the body
timeout, so clients that trickle bytes cannot take the slots of real requests. On SIGTERM /ping
turns 503 and in-flight requests may finish until the graceful limit; then they are answered 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sagezero_serve import media
from sagezero_serve.config import ServeConfig
from sagezero_serve.errors import HTTPError
from sagezero_serve.handler import Handler, HandlerError, ModelError, RequestContext
from sagezero_serve.logs import now_ms
from sagezero_serve.pool import Pool

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("sagezero_serve")
JSON_HEADERS = [(b"content-type", b"application/json")]
CUSTOM_ATTRIBUTES = b"x-amzn-sagemaker-custom-attributes"
MAX_CUSTOM_ATTRIBUTES = 1024  # characters, SageMaker's limit


class ModelState:
    """Loading -> ready, or failed; read by /ping without locks (one writer, atomic assignments)."""

    def __init__(self) -> None:
        self.status = "loading"
        self.error: str | None = None
        self.loaded = threading.Event()


class App:
    def __init__(
        self,
        handler: Handler,
        config: ServeConfig,
        on_fatal: Callable[[], None] | None = None,
        on_drain_expired: Callable[[], None] | None = None,
    ) -> None:
        self.handler = handler
        self.config = config
        self.state = ModelState()
        self.pool = Pool(config.workers)
        self.capacity = config.workers + config.max_queue
        self.in_flight = 0
        self.buffered = 0  # bytes of bodies still being read
        self.on_fatal = on_fatal
        self.on_drain_expired = on_drain_expired  # drops the connections still open at the limit
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping = False
        self.drain_expired = False
        self._requests: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------------
    def start_loading(self) -> threading.Thread:
        t = threading.Thread(target=self._load, name="model-load", daemon=True)
        t.start()
        return t

    def _load(self) -> None:
        t0 = now_ms()
        try:
            self.handler.load()
        except HandlerError as e:
            self._failed(str(e), exc_info=False)
        except BaseException as e:  # sys.exit(), KeyboardInterrupt... in model_fn must not leave /ping at 503 forever
            self._failed(f"model_fn failed: {type(e).__name__}: {e}", exc_info=True)
        else:
            self.state.status = "ready"
            log.info("model loaded", extra={"event": "model_loaded", "ms": round(now_ms() - t0, 1)})
        finally:
            self.state.loaded.set()

    def _failed(self, reason: str, exc_info: bool) -> None:
        self.state.error = reason
        self.state.status = "failed"
        log.error(f"{reason}; the server will stop", exc_info=exc_info, extra={"event": "model_load_failed"})
        if self.on_fatal:
            self.on_fatal()

    def request_stop(self) -> None:
        """From a signal handler: start draining on the loop (thread-safe)."""
        if self.loop is not None and not self.stopping:
            self.loop.call_soon_threadsafe(self._begin_drain)

    def _begin_drain(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        log.info(
            "SIGTERM: draining",
            extra={"event": "draining", "in_flight": len(self._requests), "limit_s": self.config.graceful_timeout_s},
        )
        assert self.loop is not None
        self.loop.call_later(self.config.graceful_timeout_s, self._expire)

    def _expire(self) -> None:
        self.drain_expired = True
        if self._requests:
            log.warning(
                "graceful shutdown limit reached; answering in-flight requests 503",
                extra={
                    "event": "drain_expired",
                    "requests": len(self._requests),
                    "predictions_running": self.pool.busy,
                },
            )
        for task in list(self._requests):
            task.cancel()
        if self.on_drain_expired is not None:
            # A moment for the 503s to be written; then connections whose clients do not read (a
            # response stuck in flow control) are dropped, or uvicorn would wait for them.
            assert self.loop is not None
            self.loop.call_later(0.1, self.on_drain_expired)

    # -- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        task = asyncio.current_task()
        assert task is not None
        self._requests.add(task)
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._route(scope, receive, tracked)
        except HTTPError as e:
            if not started:
                await _respond(send, e.status, e.body(), JSON_HEADERS + _headers(e.headers))
        except asyncio.CancelledError:
            if not self.drain_expired:
                raise
            task.uncancel()  # this server cancelled it, at the graceful limit: answer instead of vanishing
            if not started:
                stop = HTTPError(503, "the server is shutting down and this request did not finish in time")
                await _respond(send, 503, stop.body(), [*JSON_HEADERS, (b"connection", b"close")])
        except Exception:
            log.exception("server error", extra={"event": "server_error"})
            if not started:
                await _respond(
                    send, 500, HTTPError(500, "internal server error; see the container log").body(), JSON_HEADERS
                )
        finally:
            self._requests.discard(task)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/ping":
            await self._ping(method, send)
        elif path == "/invocations":
            await self._invocations(scope, method, receive, send)
        elif path == "/execution-parameters":
            await self._execution_parameters(method, send)
        else:
            raise HTTPError(404, f"no route {path[:100]}; this server answers /ping and /invocations")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                self.start_loading()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown()
                log.info("stopped", extra={"event": "shutdown", "predictions_abandoned": self.pool.busy})
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ping(self, method: str, send: Send) -> None:
        if method not in ("GET", "HEAD"):
            raise HTTPError(405, "use GET /ping", {"allow": "GET, HEAD"})
        status = "stopping" if self.stopping else self.state.status
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
        raw = dict(scope["headers"])
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in raw.items()}
        declared = headers.get("content-length")
        limit = self.config.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPError(413, f"body of {int(declared)} bytes exceeds the {limit}-byte limit")
        body = await self._read_body(receive, limit)
        # Counted only now: a client still sending its body holds no slot.
        if self.in_flight >= self.capacity:
            raise HTTPError(
                429, f"{self.in_flight} requests in flight (limit {self.capacity}); retry shortly", {"retry-after": "1"}
            )
        self.in_flight += 1
        try:
            attributes = raw.get(CUSTOM_ATTRIBUTES)
            ctx = RequestContext(
                content_type=headers.get("content-type", "application/json"),
                accept=headers.get("accept", ""),
                custom_attributes=_text(attributes) if attributes is not None else None,
                request_id=headers.get("x-amzn-requestid") or uuid.uuid4().hex,
                headers=headers,
            )
            if ctx.custom_attributes is not None and len(ctx.custom_attributes) > MAX_CUSTOM_ATTRIBUTES:
                raise HTTPError(400, f"X-Amzn-SageMaker-Custom-Attributes is over {MAX_CUSTOM_ATTRIBUTES} characters")
            t0 = now_ms()
            payload, media_type = await self.pool.submit(self._run, body, ctx)
            extra = [(b"content-type", media_type.encode("latin-1"))]
            if attributes is not None:
                extra.append((CUSTOM_ATTRIBUTES, attributes))  # the client's bytes, unchanged
            await _respond(send, 200, payload, extra)
            if self.config.access_log:
                log.info(
                    "invocation",
                    extra={"event": "invocation", "ms": round(now_ms() - t0, 2), "request_id": ctx.request_id},
                )
        finally:
            self.in_flight -= 1

    async def _read_body(self, receive: Receive, limit: int) -> bytes:
        """The whole body within the body timeout, within the size limit and the shared buffer budget.

        A slow client holds only the bytes it has sent, so it cannot starve others of the budget.
        """
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.config.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise HTTPError(400, "client disconnected before sending the whole body")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise HTTPError(413, f"body exceeds the {limit}-byte limit")
                    if self.buffered + len(chunk) > self.config.max_buffered_bytes:
                        raise HTTPError(
                            429,
                            f"the server is reading {self.buffered} bytes of other requests' bodies"
                            f" (limit {self.config.max_buffered_bytes}); retry shortly",
                            {"retry-after": "1", "connection": "close"},
                        )
                    self.buffered += len(chunk)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise HTTPError(
                408, f"the body did not arrive within {self.config.body_timeout_s:g} s", {"connection": "close"}
            ) from None
        finally:
            self.buffered -= sum(map(len, chunks))

    def _run(self, body: bytes, ctx: RequestContext) -> tuple[bytes, str]:
        # Refuse a malformed or unanswerable Accept before spending time on a prediction. An output_fn
        # chooses its own type, which is checked against Accept once it is known.
        if self.handler.handles_accept_itself():
            accepted: list[str] = []
            ranges = media.parse_accept(ctx.accept)
            if ranges and all(r.q == 0 for r in ranges):
                raise HTTPError(406, f"Accept {ctx.accept!r:.200} accepts nothing (every range has q=0)")
        else:
            accepted = media.acceptable(ctx.accept, ctx.content_type)
        try:
            data = self.handler.decode(body, ctx)
            prediction = self.handler.predict(data, ctx)
            return self.handler.encode(prediction, accepted, ctx)
        except ModelError as e:
            log.error(
                f"model error: {e.__cause__ or e.detail}", extra={"event": "model_error", "request_id": ctx.request_id}
            )
            raise
        except HTTPError:
            raise
        except BaseException as e:  # sys.exit(), KeyboardInterrupt, GeneratorExit: still the user's failure
            log.exception("handler failed", extra={"event": "handler_error", "request_id": ctx.request_id})
            raise ModelError(type(e).__name__) from e


def _text(value: bytes) -> str:
    """A header value as the client meant it: UTF-8 when it is, else ISO-8859-1 (HTTP's old default)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in extra.items()]


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})
