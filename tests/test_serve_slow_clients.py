"""Slow clients over real sockets: headers and bodies have deadlines, and a request holds a slot only
once it is read, so connections that trickle bytes cannot lock real requests out."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from tests.serving import eventually, server_thread, write_handler

ECHO = "def model_fn(d):\n    return None\ndef predict_fn(data, model):\n    return data\n"


@contextmanager
def trickling(port: int, head: bytes) -> Iterator[socket.socket]:
    """A connection that has sent `head` and then goes quiet, as a slow client between two bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(head)
        yield s
    finally:
        s.close()


def _reply(s: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


BODY_HEAD = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n["


def test_headers_that_do_not_arrive_in_time_get_408_and_the_connection_closes(tmp_path: Path) -> None:
    with (
        server_thread(write_handler(tmp_path, ECHO), SAGEZERO_HEADER_TIMEOUT_S="0.3") as (client, _),
        trickling(client.port, b"POST /invocations HTTP/1.1\r\nContent-") as s,
    ):
        status, headers, body = _reply(s)  # returns only because the server closes the connection
    assert (status, headers["connection"]) == (408, "close")
    assert "headers did not arrive within 0.3 s" in json.loads(body)["message"]


def test_an_idle_new_connection_is_closed_silently_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    """No unsolicited 408 on a connection a front end may have opened ahead of its requests."""
    short = {"SAGEZERO_HEADER_TIMEOUT_S": "0.1", "SAGEZERO_KEEP_ALIVE_S": "1"}
    with server_thread(write_handler(tmp_path, ECHO), True, **short) as (client, _), trickling(client.port, b"") as s:
        assert s.recv(65536) == b""  # closed without a word (recv returns only when the server closes)
    long = {"SAGEZERO_HEADER_TIMEOUT_S": "0.1", "SAGEZERO_KEEP_ALIVE_S": "60"}
    with server_thread(write_handler(tmp_path, ECHO), True, **long) as (client, _), trickling(client.port, b"") as s:
        time.sleep(0.3)  # idle past the header deadline, within keep-alive: still open
        s.sendall(b"POST /invocations HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[1]")
        status, _, body = _reply_one(s)
        assert (status, body) == (200, b"[1]")


def test_a_body_that_does_not_arrive_in_time_gets_408(tmp_path: Path) -> None:
    with (
        server_thread(write_handler(tmp_path, ECHO), SAGEZERO_BODY_TIMEOUT_S="0.3") as (client, _),
        trickling(client.port, BODY_HEAD) as s,
    ):
        status, headers, body = _reply(s)
    assert (status, headers["connection"]) == (408, "close")
    assert "body did not arrive within 0.3 s" in json.loads(body)["message"]


def test_keep_alive_requests_each_get_a_fresh_header_deadline(tmp_path: Path) -> None:
    """A reused connection is not cut by the first request's deadline (it is disarmed once headers are in)."""
    with server_thread(write_handler(tmp_path, ECHO), SAGEZERO_HEADER_TIMEOUT_S="0.5") as (client, _):
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
        for _ in range(3):
            conn.request("POST", "/invocations", body=b"[1]", headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            assert (r.status, r.read()) == (200, b"[1]")
            time.sleep(0.3)  # 0.9 s in all on one connection, more than one deadline
        conn.close()


def test_clients_still_sending_hold_no_slot(tmp_path: Path) -> None:
    """Capacity 1 (one worker, no queue): with 8 connections mid-body, a real request is still served."""
    model = write_handler(tmp_path, ECHO)
    with (
        server_thread(model, SAGEZERO_WORKERS="1", SAGEZERO_MAX_QUEUE="0", SAGEZERO_BODY_TIMEOUT_S="60") as (
            client,
            app,
        ),
        ExitStack() as slow,
    ):
        for _ in range(8):
            slow.enter_context(trickling(client.port, BODY_HEAD))
        eventually(lambda: len(app._requests) == 8, "all eight slow requests reach the app")  # type: ignore[attr-defined]
        r = client.invoke(b"[1, 2]")
        assert (r.status, r.body) == (200, b"[1, 2]")
        assert app.in_flight == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET /ping HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"POST / HTTP/9\r\n\r\n",
    ],
)
def test_bytes_that_are_not_http_get_a_json_400_and_the_connection_closes(tmp_path: Path, garbage: bytes) -> None:
    with server_thread(write_handler(tmp_path, ECHO)) as (client, _), trickling(client.port, garbage) as s:
        status, headers, body = _reply(s)
    assert (status, headers["content-type"], headers["connection"]) == (400, "application/json", "close")
    assert "not an HTTP/1.1 request" in json.loads(body)["message"]


def test_bodies_being_read_share_a_memory_budget_that_trickles_barely_touch(tmp_path: Path) -> None:
    """Counting requests only once read needs a bound on what is being read: bytes, not connections."""
    limits = {"SAGEZERO_MAX_BODY_BYTES": "1000", "SAGEZERO_MAX_BUFFERED_BYTES": "1500"}
    with server_thread(write_handler(tmp_path, ECHO), True, **limits) as (client, app):
        head = b"POST /invocations HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        with ExitStack() as slow:
            for _ in range(20):  # twenty tricklers, one byte each so far: 20 bytes of the budget
                slow.enter_context(trickling(client.port, head + b"["))
            with trickling(client.port, head + b"[" + b" " * 800) as big:
                eventually(lambda: app.buffered >= 821, "the big body's first 801 bytes are read")  # type: ignore[attr-defined]
                body = b"[" + b" " * 998 + b"]"
                r = client.invoke(body)  # 821 + 1000 > 1500
                assert r.status == 429 and r.headers["retry-after"] == "1"
                assert "reading 821 bytes of other requests' bodies" in json.loads(r.body)["message"]
                big.sendall(b" " * 198 + b"]")
                status, _, reply = _reply_one(big)
                assert (status, reply) == (200, b"[]")
            eventually(lambda: app.buffered == 20, "the big body's bytes are released")  # type: ignore[attr-defined]
            assert client.invoke(body).status == 200  # 20 + 1000 fits


def _reply_one(s: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response on a kept-alive connection (read up to its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers["content-length"]):
        body += s.recv(65536)
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(
    ("head", "text"),
    [
        (b"GET /ping HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 3000 + b"\r\n", "request headers exceed 2048 bytes"),
        (b"GET /ping HTTP/1.1\r\n" + b"a: b\r\n" * 150 + b"\r\n", "more than 100 header lines"),
        (b"GET /" + b"a" * 3000, "request headers exceed 2048 bytes"),
    ],
    ids=["bytes", "count", "url"],
)
def test_request_heads_past_the_caps_get_431_and_the_connection_closes(tmp_path: Path, head: bytes, text: str) -> None:
    """Without caps the parser buffered any amount of header bytes (or a list of millions of headers)."""
    with (
        server_thread(write_handler(tmp_path, ECHO), SAGEZERO_MAX_HEADER_BYTES="2048") as (client, _),
        trickling(client.port, head) as s,
    ):
        status, headers, body = _reply(s)
    assert (status, headers["connection"]) == (431, "close")
    assert text in json.loads(body)["message"]


def test_a_pipelined_requests_408_comes_after_the_answer_to_the_request_before_it(tmp_path: Path) -> None:
    slow = "import time\ndef model_fn(d):\n    return None\ndef predict_fn(data, model):\n    time.sleep(1)\n    return data\n"
    first = b"POST /invocations HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[1]"
    with (
        server_thread(write_handler(tmp_path, slow), SAGEZERO_HEADER_TIMEOUT_S="0.2") as (client, _),
        trickling(client.port, first + b"POST /invocations HTTP/1.1\r\nContent-") as s,
    ):
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    assert data.count(b"HTTP/1.1 408") == 1 and data.index(b"HTTP/1.1 408") > data.index(b"[1]")


def _closed_while_feeding(s: socket.socket, feed: bytes, bound_s: float = 20) -> bool:
    """Send `feed` every 0.1 s until the server closes the connection (True) or bound_s passes (False)."""
    s.settimeout(0.1)
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            s.sendall(feed)
            if s.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True  # reset: closed
    return False


@pytest.mark.parametrize(
    ("request_", "feed"),
    [
        (b"GET /ping HTTP/1.1\r\n\r\n", b"\r\n"),  # bare CRLFs between requests
        (b"GET /ping HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", b"x"),  # a body /ping never reads
    ],
    ids=["crlf", "unread-body"],
)
def test_bytes_that_start_no_request_do_not_hold_a_connection_past_keep_alive(
    tmp_path: Path, request_: bytes, feed: bytes
) -> None:
    with (
        server_thread(write_handler(tmp_path, ECHO), SAGEZERO_KEEP_ALIVE_S="1") as (client, _),
        trickling(client.port, request_) as s,
    ):
        assert _reply_one(s)[0] == 200
        assert _closed_while_feeding(s, feed)  # at the 1 s keep-alive; before, each byte reset it
