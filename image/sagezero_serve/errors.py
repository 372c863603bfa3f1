"""The one exception type the server turns into an HTTP answer: status, short detail, JSON body.

Never carries a traceback to the client; tracebacks go to the log only.
"""

from __future__ import annotations

import json
from http import HTTPStatus


class HTTPError(Exception):
    """An answer other than 200; `detail` defaults to the status phrase."""

    def __init__(self, status: int, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.detail = detail or HTTPStatus(status).phrase
        self.headers = headers or {}
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}: {self.detail}"

    def body(self) -> bytes:
        return json.dumps({"error": HTTPStatus(self.status).phrase, "message": self.detail}).encode()


class BadRequest(HTTPError):  # noqa: N818 - named after the HTTP status, like the hooks expect
    """Raise from input_fn (or any hook) when the client sent something the model cannot use: 400."""

    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)
