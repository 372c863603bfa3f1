"""The one `sagezero` command: plan, and (as they land) check, serve, warm, invoke, status, verify, simulate.

Parses arguments and maps failures to one clear line and an exit code; never prints a traceback for
bad input. Heavy imports (Pulumi) happen inside the subcommand that needs them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sagezero import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: reported as one message, exit code 2."""


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    sys.stderr.write(f"sagezero: {message}\n")
    raise SystemExit(code)


def _need_pulumi() -> None:
    try:
        import pulumi  # noqa: F401
    except ImportError:
        _fail("this command needs the Pulumi SDKs: pip install 'sagezero[pulumi]'")


def cmd_plan(args: argparse.Namespace) -> int:
    _need_pulumi()
    from sagezero.plan.engine import PlanError, run_program
    from sagezero.plan.render import DEFAULT_SECTIONS, as_json, write_text
    from sagezero.stackconfig import StackConfigError, project_dir_default

    project_dir = Path(args.project_dir) if args.project_dir else project_dir_default()
    if not (project_dir / "Pulumi.yaml").exists():
        _fail(f"no Pulumi.yaml in {project_dir}; run from the project folder or pass --project-dir")
    try:
        plan = run_program(project_dir, args.stack)
    except StackConfigError as e:
        _fail(str(e))
    except PlanError as e:
        _fail(f"the program failed for stack {args.stack!r}: {e}")
    except ValueError as e:  # component arguments rejected up front (SettingsError and friends)
        _fail(f"stack {args.stack!r}: {e}")
    sections = [build(plan) for build in DEFAULT_SECTIONS]
    if not args.no_policy:
        from sagezero.plan.render import _engine_resources
        from sagezero.plan.verdicts import policy_section

        sections.append(policy_section(_engine_resources(plan), _policy_config(args.policy_config)))
    if args.json:
        json.dump(as_json(plan, sections), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        write_text(plan, sections)
    return EXIT_FINDINGS if any(s.failed for s in sections) else EXIT_OK


def _policy_config(path: str | None) -> dict[str, object]:
    if path is None:
        return {}
    from sagezero.policies.config_schema import PolicyConfigError, load_file

    try:
        return load_file(Path(path))
    except PolicyConfigError as e:
        _fail(f"policy config rejected: {e}")


def cmd_check(args: argparse.Namespace) -> int:
    _need_pulumi()
    from sagezero.plan.verdicts import ExportError, policy_section, read_export

    try:
        resources = read_export(Path(args.export))
    except ExportError as e:
        _fail(str(e))
    section = policy_section(resources, _policy_config(args.policy_config))
    if args.json:
        json.dump({"export": args.export, "resources": len(resources), **section.data}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"sagezero check — {args.export} ({len(resources)} resources)\n")
        sys.stdout.write("\n".join(f"  {line}" for line in section.lines) + "\n")
    return EXIT_FINDINGS if section.failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sagezero",
        description="SageMaker endpoints that scale to zero and wake on demand.",
    )
    parser.add_argument("--version", action="version", version=f"sagezero {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = sub.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (no AWS account, no Pulumi CLI)",
        description="Evaluate the real Pulumi program for a stack under Pulumi's mock engine and show the "
        "resource tree, key properties and the scale-to-zero wiring.",
    )
    plan.add_argument("--stack", "-s", default="dev", help="stack name (reads Pulumi.<stack>.yaml); default: dev")
    plan.add_argument("--project-dir", help="folder holding Pulumi.yaml (default: current folder or this checkout)")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    plan.set_defaults(func=cmd_plan)

    check = sub.add_parser(
        "check",
        help="run the policy pack on a `pulumi stack export` file (audit any stack without its program)",
        description="Judge a deployed stack's resources with the policy pack. Exit 1 on a mandatory violation.",
    )
    check.add_argument("export", help="file written by `pulumi stack export --file FILE`")
    check.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":
    raise SystemExit(main())
