"""uvicorn's httptools protocol with a deadline for request headers and JSON for unparseable requests.

uvicorn bounds only keep-alive idleness: a client that opens a connection and trickles its headers
a byte at a time would hold it forever. Here each request's headers must be complete within
header_timeout_s of its first byte, or the client gets 408 and the connection closes. A new
connection that sends nothing is closed silently after the keep-alive timeout, as an idle
kept-alive one is: a front end may open connections ahead of requests, and an unsolicited 408 on
one of those would be read as the answer to its next request. The body has its own deadline in
the app.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _raw_response(status: bytes, message: str) -> bytes:
    body = json.dumps({"error": status.decode().split(" ", 1)[1], "message": message}).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\nconnection: close\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    ) + body


class DeadlineProtocol(HttpToolsProtocol):
    header_timeout_s: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle_too_long)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        # Between requests keep-alive's own timeout applies; a request's first byte arms this one.
        super().on_message_begin()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._header_timer is None:
            self._arm()

    def _idle_too_long(self) -> None:
        self._idle_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            message = f"request headers did not arrive within {self.header_timeout_s:g} s"
            self.transport.write(_raw_response(b"408 Request Timeout", message))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.transport.write(_raw_response(b"400 Bad Request", f"{msg} (not an HTTP/1.1 request this server can read)"))
        self.transport.close()


def with_header_timeout(seconds: float) -> type[DeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to this deadline."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"header_timeout_s": seconds})
