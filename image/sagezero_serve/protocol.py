"""uvicorn's httptools protocol with bounds on request heads and idleness, and JSON for unparseable requests.

uvicorn bounds only keep-alive idleness, and any byte resets it. Here:
- each request's headers must be complete within header_timeout_s of its first byte, or the client
  gets 408 and the connection closes. On a pipelined connection the 408 waits until the request
  before it has been answered, so it can never be read as that request's answer;
- a request head (request line and headers) over max_header_bytes, or with more than max_headers
  header lines, gets 431 and the connection closes, before the parser buffers more of it;
- a connection that sends nothing is closed silently after the keep-alive timeout, as an idle
  kept-alive one is: a front end may open connections ahead of requests, and an unsolicited 408 on
  one of those would be read as the answer to its next request. Only the start of a request resets
  that timer, so bare CRLFs between requests, or a body nobody reads (a GET /ping that declares
  one, the rest of a body refused with 413) cannot hold a connection open past it.
The body of an /invocations request has its own deadline in the app.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FEED = 4096  # while a head may be arriving, the parser is fed this much at a time, so the cap is checked


def _raw_response(status: bytes, message: str) -> bytes:
    body = json.dumps({"error": status.decode().split(" ", 1)[1], "message": message}).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    ) + body


class _HeadTooLarge(Exception):  # noqa: N818 - stops the parser from a callback
    pass


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._in_body = False  # between headers-complete and message-complete: fed whole
        self._head_bytes = 0
        self._header_count = 0
        self._late_408 = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle_too_long)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's, except that bytes alone do not reset keep-alive (a request's start does, below),
        # and a head is fed in pieces so its size is checked before the parser buffers all of it.
        if self.transport.is_closing():
            return
        view = memoryview(data)
        try:
            while view and not self.transport.is_closing():
                if self._in_body:
                    piece, view = view, view[:0]
                else:
                    piece, view = view[:FEED], view[FEED:]
                self.parser.feed_data(piece)
                if not self._in_body and self._header_timer is not None:  # a head is arriving
                    self._head_bytes += len(piece)
                    if self._head_bytes > self.max_header_bytes:
                        self._refuse_head(f"request headers exceed {self.max_header_bytes} bytes")
        except _HeadTooLarge:
            pass
        except httptools.HttpParserError:
            if self.transport.is_closing():
                return  # refused from a parser callback (431): already answered
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()

    def _refuse_head(self, message: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(_raw_response(b"431 Request Header Fields Too Large", message))
            self.transport.close()
        self._disarm()
        raise _HeadTooLarge

    def on_message_begin(self) -> None:
        # Between requests keep-alive's own timeout applies; a request's first byte arms this one.
        super().on_message_begin()
        self._unset_keepalive_if_required()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._head_bytes = 0
        self._header_count = 0
        if self._header_timer is None:
            self._arm()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.max_headers:
            self._refuse_head(f"request has more than {self.max_headers} header lines")
        super().on_header(name, value)

    def _idle_too_long(self) -> None:
        self._idle_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._late_408:
            self._late_408 = False
            self._send_408()

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            # Pipelined: the request before this one is still being answered; its answer goes first.
            self.flow.pause_reading()
            self._late_408 = True
            return
        self._send_408()

    def _send_408(self) -> None:
        if not self.transport.is_closing():
            message = f"request headers did not arrive within {self.header_timeout_s:g} s"
            self.transport.write(_raw_response(b"408 Request Timeout", message))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if self.transport.is_closing():
            return
        self.transport.write(_raw_response(b"400 Bad Request", f"{msg} (not an HTTP/1.1 request this server can read)"))
        self.transport.close()


def protocol_class(header_timeout_s: float, max_header_bytes: int, max_headers: int) -> type[DeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to these limits."""
    limits = {"header_timeout_s": header_timeout_s, "max_header_bytes": max_header_bytes, "max_headers": max_headers}
    return type("DeadlineProtocol", (DeadlineProtocol,), limits)
