"""The user's model hooks — model_fn, input_fn, predict_fn, output_fn — found, loaded and called.

Each hook is optional and falls back to a default; a hook that declares a `context` parameter also
receives the request's custom attributes. Never catches a hook's error silently: the app maps it.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sagezero_serve import payloads
from sagezero_serve.errors import BadRequest


class HandlerError(RuntimeError):
    """The handler module cannot be found or is unusable; stops start-up with this message."""


@dataclass(frozen=True)
class RequestContext:
    """What a hook may want to know about the request besides its body."""

    content_type: str
    accept: str
    custom_attributes: str | None = None
    request_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def default_model_fn(model_dir: str) -> Any:
    """Without a model_fn: a `model.json` in the model folder is the model (a dict), else None."""
    path = Path(model_dir) / "model.json"
    return json.loads(path.read_text()) if path.exists() else None


def default_predict_fn(data: Any, model: Any) -> Any:
    if hasattr(model, "predict"):
        return model.predict(data)
    if callable(model):
        return model(data)
    raise TypeError("the model is neither callable nor has .predict(); define predict_fn in the handler")


def _module_from(spec: str, model_dir: Path) -> ModuleType | None:
    """Resolve SAGEZERO_HANDLER (a module name or a .py path) or the SageMaker conventional locations."""
    if spec:
        path = Path(spec)
        if spec.endswith(".py") and not path.is_absolute():
            for base in (model_dir / "code", Path("/opt/ml/code"), Path.cwd()):
                if (base / spec).exists():
                    path = base / spec
                    break
        if spec.endswith(".py"):
            if not path.exists():
                raise HandlerError(f"handler file {spec!r} not found (looked in {model_dir / 'code'}, /opt/ml/code)")
            return _load_path(path)
        try:
            return importlib.import_module(spec)
        except ImportError as e:
            raise HandlerError(f"handler module {spec!r} cannot be imported: {e}") from e
    for candidate in (model_dir / "code" / "inference.py", Path("/opt/ml/code/inference.py")):
        if candidate.exists():
            return _load_path(candidate)
    return None


def _load_path(path: Path) -> ModuleType:
    # The handler's own folder goes on the path so it can import its helpers.
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("sagezero_user_handler", path)
    if spec is None or spec.loader is None:
        raise HandlerError(f"cannot load handler {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _takes_context(fn: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class Handler:
    """The four hooks, bound to the loaded model."""

    def __init__(self, module: ModuleType | None, model_dir: Path) -> None:
        self.module = module
        self.model_dir = model_dir
        self.model_fn: Callable[..., Any] = self._hook("model_fn") or default_model_fn
        self.input_fn: Callable[..., Any] | None = self._hook("input_fn")
        self.predict_fn: Callable[..., Any] = self._hook("predict_fn") or default_predict_fn
        self.output_fn: Callable[..., Any] | None = self._hook("output_fn")
        hooks = {"input_fn": self.input_fn, "predict_fn": self.predict_fn, "output_fn": self.output_fn}
        self._ctx = {name: fn is not None and _takes_context(fn) for name, fn in hooks.items()}
        self.model: Any = None

    def _hook(self, name: str) -> Callable[..., Any] | None:
        fn = getattr(self.module, name, None) if self.module is not None else None
        if fn is not None and not callable(fn):
            raise HandlerError(f"{name} in the handler is not a function")
        return fn

    @classmethod
    def discover(cls, spec: str | None, model_dir: Path) -> Handler:
        return cls(_module_from(spec or "", model_dir), model_dir)

    def load(self) -> None:
        self.model = self.model_fn(str(self.model_dir))

    def _call(self, name: str, fn: Callable[..., Any], *args: Any, ctx: RequestContext) -> Any:
        return fn(*args, context=ctx) if self._ctx.get(name) else fn(*args)

    def decode(self, body: bytes, ctx: RequestContext) -> Any:
        if self.input_fn is None:
            return payloads.decode(body, ctx.content_type)
        try:
            return self._call("input_fn", self.input_fn, body, ctx.content_type, ctx=ctx)
        except (ValueError, TypeError, UnicodeDecodeError, KeyError) as e:
            # A user input_fn rejecting the payload is the client's mistake, not the server's.
            raise BadRequest(f"input rejected by input_fn: {type(e).__name__}: {e}") from e

    def predict(self, data: Any, ctx: RequestContext) -> Any:
        return self._call("predict_fn", self.predict_fn, data, self.model, ctx=ctx)

    def encode(self, prediction: Any, accept: str, ctx: RequestContext) -> tuple[bytes, str]:
        if self.output_fn is None:
            media = payloads.negotiate(accept, ctx.content_type)
            return payloads.encode(prediction, media), media
        out = self._call("output_fn", self.output_fn, prediction, accept, ctx=ctx)
        if isinstance(out, tuple):
            body, media = out
        else:
            body, media = out, payloads.media_type(accept) or payloads.JSON
        if isinstance(body, str):
            body = body.encode()
        return bytes(body), media

    def handles_accept_itself(self) -> bool:
        return self.output_fn is not None
