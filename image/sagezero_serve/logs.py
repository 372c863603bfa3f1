"""Structured logs: one JSON object per line, which the supervisor passes to stdout, where CloudWatch
Logs collects them.

Uncaught exceptions in any thread become one record with the traceback as a field, and warnings
become records. Raw output (print(), stderr, os.write, subprocesses, C libraries) is left alone here:
the supervisor reads file descriptors 1 and 2 and makes each line a record. Never logs request bodies.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

_STD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}


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


def capture_process_output(log: logging.Logger) -> None:
    """Warnings and uncaught exceptions (any thread) as JSON records; raw output is the supervisor's."""
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
