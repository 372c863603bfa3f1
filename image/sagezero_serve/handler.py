"""The user's model hooks — model_fn, input_fn, predict_fn, output_fn — found, loaded and called.

Each hook is optional and falls back to a default; a hook that declares a `context` parameter also
receives the request's custom attributes. A handler that cannot be imported, or a model that could
only ever answer 500, stops start-up with a HandlerError instead of serving. What a hook returns is
checked, so a wrong type becomes a logged model error, never NUL bytes, a repr or a bad header.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import inspect
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sagezero_serve import media, payloads
from sagezero_serve.errors import BadRequest, HTTPError


class HandlerError(RuntimeError):
    """The handler module cannot be found or is unusable; stops start-up with this message."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace


class ModelError(HTTPError):
    """The user's code failed or broke the hooks' contract: 500, with the cause in the log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(500, f"the model failed on this request ({reason}); see the container log")


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


def _program_path(program: str, model_dir: Path) -> Path:
    """SAGEMAKER_PROGRAM names a .py file inside the model folder (in code/, or at its top), nothing else."""
    root = model_dir.resolve()
    if program.endswith(".py") and not Path(program).is_absolute():
        for base in (root / "code", root):
            path = (base / program).resolve()
            if path.is_relative_to(root) and path.is_file():
                return path
    raise HandlerError(
        f"SAGEMAKER_PROGRAM={program!r} must name a .py file inside the model folder {model_dir}"
        " (for example inference.py in its code/ folder)"
    )


def _module_from(spec: str, program: str, model_dir: Path) -> ModuleType | None:
    """SAGEZERO_HANDLER (a module name or a .py path), SAGEMAKER_PROGRAM, or the conventional locations."""
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
        except (Exception, SystemExit) as e:
            raise HandlerError(f"handler module {spec!r} failed on import: {_one_line(e)}", _trace(e)) from e
    if program:
        return _load_path(_program_path(program, model_dir))
    conventional = model_dir / "code" / "inference.py"
    if conventional.exists():
        # The same rule as SAGEMAKER_PROGRAM: the model folder's handler is a file inside it (no symlink out).
        if not conventional.resolve().is_relative_to(model_dir.resolve()):
            raise HandlerError(f"{conventional} leads outside the model folder {model_dir}; put the handler inside it")
        return _load_path(conventional)
    if Path("/opt/ml/code/inference.py").exists():  # the image's own handler, chosen by whoever built it
        return _load_path(Path("/opt/ml/code/inference.py"))
    return None


def _one_line(e: BaseException) -> str:
    where = ""
    if isinstance(e, SyntaxError) and e.lineno:
        where = f" (line {e.lineno})"
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}{where}"


def _trace(e: BaseException) -> str:
    return "".join(traceback.format_exception(e))


def _load_path(path: Path) -> ModuleType:
    # The handler's own folder goes on the path so it can import its helpers.
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("sagezero_user_handler", path)
    if spec is None or spec.loader is None:
        raise HandlerError(f"cannot load handler {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:
        del sys.modules[spec.name]
        raise HandlerError(f"handler {path} failed on import: {_one_line(e)}", _trace(e)) from e
    return module


def _takes_context(fn: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


# A user input_fn that raises one of these rejected the client's payload: 400, not 500.
INPUT_REJECTIONS = (ValueError, TypeError, UnicodeDecodeError, KeyError, RecursionError, OverflowError, csv.Error)


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
    def discover(cls, spec: str | None, model_dir: Path, program: str | None = None) -> Handler:
        """The handler for a model folder; HandlerError when the folder or the handler is unusable."""
        if not model_dir.is_dir():
            raise HandlerError(f"model folder {model_dir} does not exist or is not a folder (SM_MODEL_DIR)")
        try:
            next(model_dir.iterdir(), None)
        except OSError as e:
            raise HandlerError(f"model folder {model_dir} cannot be read: {e.strerror}") from None
        return cls(_module_from(spec or "", program or "", model_dir), model_dir)

    def load(self) -> None:
        """Run model_fn; raises when the result could only ever answer 500."""
        self.model = self.model_fn(str(self.model_dir))
        if self.predict_fn is default_predict_fn and not (hasattr(self.model, "predict") or callable(self.model)):
            found = "no handler and no model.json" if self.module is None and self.model is None else None
            raise HandlerError(
                f"nothing to predict with in {self.model_dir}: "
                + (
                    found
                    or f"model_fn returned {type(self.model).__name__}, which has no .predict() and is not callable"
                )
                + "; add code/inference.py with predict_fn"
            )

    def _call(self, name: str, fn: Callable[..., Any], *args: Any, ctx: RequestContext) -> Any:
        return fn(*args, context=ctx) if self._ctx.get(name) else fn(*args)

    def decode(self, body: bytes, ctx: RequestContext) -> Any:
        if self.input_fn is None:
            return payloads.decode(body, ctx.content_type)
        try:
            return self._call("input_fn", self.input_fn, body, ctx.content_type, ctx=ctx)
        except INPUT_REJECTIONS as e:
            # A user input_fn rejecting the payload is the client's mistake, not the server's.
            raise BadRequest(f"input rejected by input_fn: {type(e).__name__}: {str(e)[:200]}") from e

    def predict(self, data: Any, ctx: RequestContext) -> Any:
        return self._call("predict_fn", self.predict_fn, data, self.model, ctx=ctx)

    def encode(self, prediction: Any, accepted: list[str], ctx: RequestContext) -> tuple[bytes, str]:
        """The answer in the first accepted type that can carry it (default output), or output_fn's."""
        if self.output_fn is None:
            return encode_default(prediction, accepted)
        out = self._call("output_fn", self.output_fn, prediction, ctx.accept, ctx=ctx)
        body, content_type = checked_output(out, ctx.accept)
        media.check_handler_type(ctx.accept, content_type)
        return body, content_type

    def handles_accept_itself(self) -> bool:
        return self.output_fn is not None


def encode_default(prediction: Any, accepted: list[str]) -> tuple[bytes, str]:
    """406 when the prediction fits only types the client refused; ModelError when it fits none."""
    reasons = []
    for media_type in accepted:
        try:
            return payloads.encode(prediction, media_type), media_type
        except payloads.NotRepresentable as e:
            reasons.append(str(e))
    others = []
    for media_type in media.ENCODABLE:
        if media_type not in accepted:
            try:
                payloads.encode(prediction, media_type)
            except payloads.NotRepresentable:
                continue
            others.append(media_type)
    if others:
        raise HTTPError(406, f"{reasons[0]}; this answer can be sent as {', '.join(others)}")
    raise ModelError(f"its answer, a {type(prediction).__name__}, fits no response type: {reasons[0][:200]}")


def checked_output(out: Any, accept: str) -> tuple[bytes, str]:
    """output_fn's value as (body, media type); ModelError for anything but bytes/str, or a bad type."""
    body, content_type = out if isinstance(out, tuple) and len(out) == 2 else (out, media.preferred(accept))
    if isinstance(body, str):
        try:
            body = body.encode("utf-8")
        except UnicodeEncodeError:
            raise ModelError("output_fn returned text that is not valid Unicode") from None
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise ModelError(f"output_fn returned {type(body).__name__}; return bytes or str, or (body, content_type)")
    if not media.is_valid_media_type(content_type):
        raise ModelError(f"output_fn gave the content type {content_type!r:.80}, which is not a media type")
    return bytes(body), content_type
