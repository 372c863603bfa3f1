"""The container's first process: runs the server as a child, turns its output into JSON lines, and
enforces the graceful-shutdown limit from outside the server's interpreter.

Why a second process:
- Output. The child's file descriptors 1 and 2 are pipes read here, so everything it writes —
  print(), sys.stdout.buffer, os.write(1, ...), subprocesses, C libraries, faulthandler — becomes one
  JSON record per line (`event: output`, `stream`), while the handler keeps real sys.stdout and
  sys.stderr objects (reconfigure(), fileno(), faulthandler.enable() all work). The server's own log
  records arrive already JSON on a third pipe and pass through unchanged.
- The limit. Code that holds the GIL (a C extension, a catastrophic `re` match) stops every thread of
  the server, its signal handler included, so nothing inside it can keep the promise to exit
  within SAGEZERO_GRACEFUL_TIMEOUT_S of SIGTERM. This process holds no user code: on SIGTERM it
  forwards the signal and, if the server is still running KILL_MARGIN_S after the limit, kills it
  (logging `drain_overrun`) and exits 0, before SageMaker's SIGKILL.

A first SIGINT (Ctrl+C on `sagezero serve`) is forwarded as SIGTERM, a second as SIGINT (force).
The child runs in its own session, so a terminal's Ctrl+C reaches it only through here, and it is
told to die with this process (Linux), so killing this process never leaves a server holding the port.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from types import FrameType

CHILD_ENV = "_SAGEZERO_SERVE_LOG_FD"  # set for the child: the descriptor its JSON log records go to
KILL_MARGIN_S = 1.0  # after the graceful limit, for the server's own 503s and exit
MAX_LINE = 64 * 1024  # a longer line without a newline is emitted in pieces of this size
DRAIN_AFTER_EXIT_S = 0.5  # output still arriving after the child exits (its own children may hold the pipes)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _graceful_limit() -> float:
    from sagezero_serve.config import ConfigError, ServeConfig

    try:
        return ServeConfig.from_env().graceful_timeout_s
    except ConfigError:
        return 25.0  # the child reports the bad value and exits 1


class _Lines:
    """Bytes from one pipe, cut into lines; `wrap` makes a record of each (None: lines are records)."""

    def __init__(self, stream: str | None) -> None:
        self.stream = stream
        self.pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        *lines, self.pending = (self.pending + data).split(b"\n")
        while len(self.pending) > MAX_LINE:
            lines.append(self.pending[:MAX_LINE])
            self.pending = self.pending[MAX_LINE:]
        return [self.record(line) for line in lines]

    def close(self) -> list[bytes]:
        rest, self.pending = self.pending, b""
        return [self.record(rest)] if rest else []

    def record(self, line: bytes) -> bytes:
        if self.stream is None:
            return line
        return _record(
            "info" if self.stream == "stdout" else "warning",
            line.rstrip(b"\r").decode("utf-8", "backslashreplace"),
            logger="sagezero_serve.handler",
            event="output",
            stream=self.stream,
        )


def _record(level: str, msg: str, logger: str = "sagezero_serve", **fields: object) -> bytes:
    doc = {"ts": round(time.time(), 3), "level": level, "logger": logger, "msg": msg, **fields}
    return json.dumps(doc).encode()


def _write(lines: list[bytes]) -> None:
    if not lines:
        return
    out = b"".join(line + b"\n" for line in lines)
    with contextlib.suppress(OSError):  # nobody reads our stdout any more: nothing to do about it
        view = memoryview(out)
        while view:
            view = view[os.write(1, view) :]


def run() -> int:
    limit = _graceful_limit()
    log_r, log_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    env = {**os.environ, CHILD_ENV: str(log_w), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagezero_serve", "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out_w,
        stderr=err_w,
        pass_fds=(log_w,),
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    for fd in (log_w, out_w, err_w):
        os.close(fd)

    deadline: float | None = None
    interrupts = 0

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal deadline, interrupts
        if sig == signal.SIGINT:
            interrupts += 1
        forward = signal.SIGINT if interrupts >= 2 else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(forward)
        if deadline is None:
            deadline = time.monotonic() + limit + KILL_MARGIN_S

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    killed = False
    sel = selectors.DefaultSelector()
    readers = {log_r: _Lines(None), out_r: _Lines("stdout"), err_r: _Lines("stderr")}
    for fd in readers:
        sel.register(fd, selectors.EVENT_READ)
    exited_at: float | None = None
    try:
        while readers or proc.poll() is None:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
                break
            if deadline is not None and now > deadline and proc.poll() is None and not killed:
                _write(
                    [
                        _record(
                            "error",
                            f"the server did not exit within the graceful limit ({limit:g} s) after SIGTERM;"
                            " killing it (code holding the GIL, or a C extension, can stop its own shutdown)",
                            event="drain_overrun",
                        )
                    ]
                )
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                killed = True
            for key, _ in sel.select(timeout=0.1):
                fd = int(key.fd)
                data = os.read(fd, 65536)
                if data:
                    _write(readers[fd].feed(data))
                else:
                    _write(readers.pop(fd).close())
                    sel.unregister(fd)
                    os.close(fd)
        for fd, lines in readers.items():
            _write(lines.close())
            sel.unregister(fd)
            os.close(fd)
        code = proc.wait()
    finally:
        sel.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if killed:
        return 0
    if code < 0:
        _write([_record("error", f"the server died of signal {-code}", event="server_died", signal=-code)])
        return 1
    return code
