"""Server settings from the environment, as SageMaker and the user's model configure it.

Reads only; a bad value fails start-up with the variable's name, never a silent default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SIX_MB = 6 * 1024 * 1024


class ConfigError(ValueError):
    """An environment variable the server cannot use."""


def _int(env: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{key}={value} is outside {lo}-{hi}")
    return value


def _seconds(env: Mapping[str, str], key: str, default: float, lo: float, hi: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number of seconds") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"{key}={raw} is outside {lo:g}-{hi:g} seconds")
    return value


@dataclass(frozen=True)
class ServeConfig:
    host: str
    port: int
    model_dir: Path
    handler: str | None  # SAGEZERO_HANDLER: a module name or a .py path, chosen by whoever builds the image
    program: str | None  # SAGEMAKER_PROGRAM: a .py file inside the model folder, nothing else
    max_body_bytes: int
    max_buffered_bytes: int  # all bodies still being read, together; a request that would pass it gets 429
    workers: int
    max_queue: int
    access_log: bool
    graceful_timeout_s: float
    header_timeout_s: float  # a connection must deliver a request's headers within this
    body_timeout_s: float  # ...and its whole body within this after the headers
    max_header_bytes: int  # a request line and headers over this get 431
    max_headers: int  # ...and so do more header lines than this
    keep_alive_s: int  # an idle connection closes after this (longer than the front end's own idle timeout)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServeConfig:
        env = os.environ if env is None else env
        max_body = _int(env, "SAGEZERO_MAX_BODY_BYTES", SIX_MB, 1, 1024 * 1024 * 1024)
        return cls(
            host=env.get("SAGEZERO_HOST", "0.0.0.0"),
            port=_int(env, "SAGEMAKER_BIND_TO_PORT", _int(env, "SAGEZERO_PORT", 8080, 1, 65535), 1, 65535),
            model_dir=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
            handler=env.get("SAGEZERO_HANDLER") or None,
            program=env.get("SAGEMAKER_PROGRAM") or None,
            max_body_bytes=max_body,
            # Requests count against the queue only once read, so reading needs its own bound: memory.
            max_buffered_bytes=_int(env, "SAGEZERO_MAX_BUFFERED_BYTES", 8 * max_body, max_body, 1 << 40),
            workers=_int(env, "SAGEZERO_WORKERS", os.cpu_count() or 1, 1, 512),
            max_queue=_int(env, "SAGEZERO_MAX_QUEUE", 64, 0, 100_000),
            access_log=env.get("SAGEZERO_ACCESS_LOG", "0").lower() in ("1", "true", "yes"),
            graceful_timeout_s=_seconds(env, "SAGEZERO_GRACEFUL_TIMEOUT_S", 25, 0, 3600),
            header_timeout_s=_seconds(env, "SAGEZERO_HEADER_TIMEOUT_S", 10, 0.01, 3600),
            body_timeout_s=_seconds(env, "SAGEZERO_BODY_TIMEOUT_S", 30, 0.01, 3600),
            max_header_bytes=_int(env, "SAGEZERO_MAX_HEADER_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
            max_headers=_int(env, "SAGEZERO_MAX_HEADERS", 100, 10, 10_000),
            keep_alive_s=_int(env, "SAGEZERO_KEEP_ALIVE_S", 75, 1, 3600),
        )
