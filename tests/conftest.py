"""Shared fixtures: evaluate components and programs under the recording mock engine; run the CLI in
process; and the hypothesis profiles every generated-input test runs under."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

# Generated-input tests fix their example counts; no per-example deadline (two shared cores make
# timings meaningless). In CI (CI set) they are derandomized, so a red build replays exactly.
settings.register_profile("sagezero", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("sagezero"), derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "sagezero")


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str], stdin: bytes = b"") -> CliRun:
    """`sagezero ARGV` in this process (fast enough for hundreds of generated cases), with its
    exit code and output; the `sagezero` script is `sys.exit(main())`, so this is what a shell sees."""
    from sagezero.cli import main

    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin))
    with redirect_stdout(out), redirect_stderr(err), mock.patch("sys.stdin", fake_stdin):
        try:
            code: Any = main(list(argv))
        except SystemExit as e:
            code = e.code
    fake_stdin.close()
    return CliRun(code if isinstance(code, int) else 1, out.getvalue(), err.getvalue())


def run_cli_at(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`sagezero ARGS` run from `cwd`, in this process, shaped like `subprocess.run`'s answer: a command that
    imports Pulumi and the program costs ~0.3 s here against ~2.5 s in a fresh interpreter. Tests that need a
    process of their own (the real entry point, stream isolation, blocked imports) still start one."""
    with contextlib.chdir(cwd):
        result = run_cli(args)
    return subprocess.CompletedProcess(["sagezero", *args], result.code, result.out, result.err)


class Registered:
    """Resources one evaluation registered, with lookups by type and logical name."""

    def __init__(self, resources: list[Any], exports: dict[str, Any]) -> None:
        self.resources = resources
        self.exports = exports

    def of_type(self, type_: str) -> list[Any]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Any:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Any:
        return next(r for r in self.resources if r.urn == urn)


@contextmanager
def grpc_plugin(cmd: list[str], cwd: Path) -> Iterator[str]:
    """Start a Pulumi plugin as the CLI does and yield its gRPC address (the first stdout line is the port)."""
    # stderr goes to a file, not a pipe: nobody drains a pipe while the plugin runs, and a chatty
    # plugin would block on a full one. `with proc` closes stdout when the plugin is gone.
    with (
        tempfile.TemporaryFile(mode="w+") as err,
        subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True) as proc,
    ):
        try:
            assert proc.stdout is not None
            port = proc.stdout.readline().strip()
            if not port.isdigit():
                proc.kill()
                proc.wait(timeout=10)
                err.seek(0)
                raise AssertionError(f"first stdout line must be the port, got {port!r}; stderr: {err.read()[-2000:]}")
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def record() -> Callable[..., Registered]:
    """Evaluate a function that declares resources; return what the engine received."""
    pytest.importorskip("pulumi")
    from sagezero.plan.engine import evaluate

    def run(program: Callable[[], object], **kw: Any) -> Registered:
        rec = evaluate(program, **kw)
        return Registered(rec.resources, rec.exports)

    return run


@pytest.fixture
def image_uri() -> str:
    return "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/model@sha256:" + "a" * 64
