"""Structured logs: one JSON object per line on stdout, where CloudWatch Logs collects them.

Everything the process writes goes through here, so a log reader never meets a raw traceback or
half a line: the handler's print() calls and stderr writes become one record per line (buffered
per thread, so two threads never interleave within a line), uncaught exceptions in any thread
become one record with the traceback as a field, and warnings become records. Never logs request
bodies.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}
MAX_LINE = 64 * 1024  # a longer line without a newline is emitted in pieces of this size


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update({k: v for k, v in record.__dict__.items() if k not in _STD})
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure(level: int = logging.INFO, stream: TextIO | None = None) -> logging.Logger:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return logging.getLogger("sagezero_serve")


class LineLogger(io.TextIOBase):
    """A text stream that turns each written line into a log record (user print() and stderr)."""

    def __init__(self, logger: logging.Logger, level: int, stream: str, fallback: TextIO) -> None:
        self._logger = logger
        self._level = level
        self._stream = stream
        self._fallback = fallback
        self._local = threading.local()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if getattr(self._local, "emitting", False):
            return self._fallback.write(text)  # the logging machinery itself complaining: no loop
        pending = getattr(self._local, "pending", "") + text
        *lines, rest = pending.split("\n")
        while len(rest) > MAX_LINE:
            lines.append(rest[:MAX_LINE])
            rest = rest[MAX_LINE:]
        self._local.pending = rest
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        rest = getattr(self._local, "pending", "")
        if rest:
            self._local.pending = ""
            self._emit(rest)

    def _emit(self, line: str) -> None:
        self._local.emitting = True
        try:
            self._logger.log(self._level, line.rstrip("\r"), extra={"event": "output", "stream": self._stream})
        finally:
            self._local.emitting = False


def capture_process_output(log: logging.Logger) -> None:
    """Route print(), stderr, warnings and uncaught exceptions (any thread) into JSON records."""
    user = logging.getLogger("sagezero_serve.handler")
    sys.stdout = LineLogger(user, logging.INFO, "stdout", sys.__stdout__ or sys.stdout)
    sys.stderr = LineLogger(user, logging.WARNING, "stderr", sys.__stderr__ or sys.stderr)
    logging.captureWarnings(True)

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error(f"uncaught {kind.__name__}: {value}", exc_info=(kind, value, tb), extra={"event": "uncaught"})

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "?"
        log.error(
            f"uncaught {args.exc_type.__name__} in thread {name}: {args.exc_value}",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            extra={"event": "uncaught"},
        )

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


def now_ms() -> float:
    return time.perf_counter() * 1000.0
