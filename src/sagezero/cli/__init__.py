"""The one `sagezero` command, split by command family: `infra` (plan, check), `image` (serve,
local), `ops` (warm, invoke, status, verify, teardown) and `simulate`.

`main` parses arguments and maps failures to one line and an exit code: 0 done, 1 findings or an
AWS refusal, 2 bad input (always one line naming the file, key or flag), 70 a bug in sagezero.
Families import their heavy dependencies (Pulumi, boto3, numpy) only inside the command that needs
them, so `sagezero invoke` starts where Pulumi is not installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from sagezero import __version__
from sagezero.cli import image, infra, ops, simulate
from sagezero.cli.common import EXIT_INTERNAL, EXIT_USAGE, Parser, UsageError, excerpt, fail

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sagezero", description="SageMaker endpoints that scale to zero and wake on demand.")
    parser.add_argument("--version", action="version", version=f"sagezero {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for family in (infra, image, ops, simulate):
        family.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except OSError as e:  # a path that passed its checks and then failed (raced, or a device file)
        if e.filename is None:
            raise
        fail(f"{e.filename}: {e.strerror or e}", EXIT_USAGE)
    except (SystemExit, MemoryError):
        raise
    except Exception as e:
        # Bad input is caught where it is read; reaching here is a bug. One line still, and the
        # traceback on request, so a user can report it.
        if os.environ.get("SAGEZERO_TRACEBACK"):
            traceback.print_exc()
        fail(
            f"internal error: {type(e).__name__}: {excerpt(str(e), 200)} — please report it "
            "(SAGEZERO_TRACEBACK=1 shows the traceback)",
            EXIT_INTERNAL,
        )


if __name__ == "__main__":
    sys.exit(main())
