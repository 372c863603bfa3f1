"""`serve` and `local`: the inference image, run here without Docker or built and run with it.

Every path and port is checked before docker or the server starts, so a typo is one line, not a
container that dies with a log full of stack frames.
"""

from __future__ import annotations

import argparse
import http.client
import sys
from pathlib import Path

from sagezero.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    existing_dir,
    fail,
    header_value,
    port,
    read_bytes,
    text,
)

MAX_BODY_BYTES = 6 * 1024 * 1024  # what SageMaker accepts; the local server enforces the same
# A docker image reference: never starting with '-', so it cannot be read as a docker option.
IMAGE_REF = text(
    "a docker image reference such as sagezero-serve:local",
    pattern=r"[a-z0-9][a-z0-9._/-]{0,254}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?",
)


def _image_dir() -> Path:
    from sagezero.stackconfig import project_dir_default

    image = project_dir_default() / "image"
    if not (image / "Dockerfile").exists():
        fail(f"no image/Dockerfile under {image.parent}; run from the sagezero checkout")
    return image


def _model_dir(path_text: str) -> Path:
    model = existing_dir(path_text, "--model-dir")
    if not (model / "code" / "inference.py").is_file() and not (model / "model.json").is_file():
        fail(f"--model-dir {model}: has neither code/inference.py nor model.json")
    return model


def cmd_local(args: argparse.Namespace) -> int:
    from sagezero import localdocker

    try:
        if args.action == "build":
            tag = localdocker.build(_image_dir(), args.tag, base_image=args.base_image)
            sys.stdout.write(f"built {tag} ({localdocker.image_size_mb(tag):.0f} MB)\n")
        elif args.action == "run":
            model = _model_dir(args.model_dir) if args.model_dir else None
            c = localdocker.run(args.tag, args.port, model_dir=model)
            ready = localdocker.wait_ready(args.port)
            sys.stdout.write(
                f"container {c.id[:12]} serving on http://127.0.0.1:{args.port} (ready in {ready:.2f} s, read-only root, "
                f"uid 1000)\nstop it with: docker stop {c.id[:12]}\n"
            )
        elif args.action == "invoke":
            body = read_bytes(args.file, "request file", limit=MAX_BODY_BYTES)
            if not body:
                fail(f"request file {'standard input' if args.file == '-' else args.file}: is empty; nothing was sent")
            status, ctype, out = localdocker.invoke(args.port, body, args.content_type, args.accept)
            sys.stdout.write(out.decode("utf-8", "replace") + ("\n" if not out.endswith(b"\n") else ""))
            if status != 200:
                sys.stderr.write(f"sagezero: HTTP {status} ({ctype})\n")
                return EXIT_FINDINGS
    except localdocker.DockerError as e:
        fail(str(e))
    except http.client.HTTPException:  # something listens there, but it is not an HTTP server
        fail(f"127.0.0.1:{getattr(args, 'port', '?')} did not answer HTTP", EXIT_FINDINGS)
    except OSError as e:
        fail(f"cannot reach 127.0.0.1:{getattr(args, 'port', '?')}: {e.strerror or e}", EXIT_FINDINGS)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    model = _model_dir(args.model_dir)
    try:
        from sagezero_serve.__main__ import main as serve_main
    except ImportError:
        fail("the server needs its extras: pip install 'sagezero[serve]'")
    os.environ["SM_MODEL_DIR"] = str(model.resolve())
    os.environ["SAGEZERO_PORT"] = str(args.port)
    os.environ.setdefault("SAGEZERO_HOST", "127.0.0.1")
    return serve_main(["serve"])


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the inference server here, without Docker, on a model folder")
    serve.add_argument("--model-dir", default="image/model", help="folder with code/inference.py and model files")
    serve.add_argument("--port", type=port, default=8080)
    serve.set_defaults(func=cmd_serve)

    local = sub.add_parser("local", help="build, run and invoke the inference image with Docker, as SageMaker runs it")
    lsub = local.add_subparsers(dest="action", required=True, metavar="ACTION")
    lb = lsub.add_parser("build", help="docker build image/")
    lb.add_argument("--tag", type=IMAGE_REF, default="sagezero-serve:local")
    lb.add_argument("--base-image", type=IMAGE_REF, help="BASE_IMAGE build argument (default: the Dockerfile's)")
    lr = lsub.add_parser("run", help="docker run <image> serve with a read-only root and only /tmp writable")
    lr.add_argument("--tag", type=IMAGE_REF, default="sagezero-serve:local")
    lr.add_argument("--port", type=port, default=8080)
    lr.add_argument("--model-dir", help="mount this folder read-only at /opt/ml/model (your handler and model)")
    li = lsub.add_parser("invoke", help="POST a file to /invocations and print the answer")
    li.add_argument("file", help="request body file, or - for standard input")
    li.add_argument("--port", type=port, default=8080)
    li.add_argument("--content-type", type=header_value("a Content-Type"), default="application/json")
    li.add_argument("--accept", type=header_value("an Accept type"))
    local.set_defaults(func=cmd_local)
