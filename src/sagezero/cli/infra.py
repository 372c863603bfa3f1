"""`plan` and `check`: the infrastructure commands, the only ones that need the Pulumi SDKs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sagezero.cli.common import EXIT_FINDINGS, EXIT_OK, existing_dir, fail, need_pulumi, text


def cmd_plan(args: argparse.Namespace) -> int:
    need_pulumi()
    from sagezero.plan.engine import PlanError, run_program
    from sagezero.plan.render import DEFAULT_SECTIONS, as_json, write_text
    from sagezero.stackconfig import StackConfigError, project_dir_default

    project_dir = existing_dir(args.project_dir, "--project-dir") if args.project_dir else project_dir_default()
    if not (project_dir / "Pulumi.yaml").is_file():
        fail(f"no Pulumi.yaml in {project_dir}; run from the project folder or pass --project-dir")
    policy_config = None if args.no_policy else policy_config_of(args.policy_config)
    try:
        plan = run_program(project_dir, args.stack)
    except StackConfigError as e:
        fail(str(e))
    except PlanError as e:
        fail(f"the program failed for stack {args.stack!r}: {e}")
    except ValueError as e:  # component arguments rejected up front (SettingsError and friends)
        fail(f"stack {args.stack!r}: {e}")
    sections = [build(plan) for build in DEFAULT_SECTIONS]
    from sagezero.plan.cost import cost_section

    sections.append(cost_section(plan))
    if policy_config is not None:
        from sagezero.plan.verdicts import policy_section

        sections.append(policy_section(plan.engine_resources(), policy_config))
    if args.json:
        json.dump(as_json(plan, sections), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        write_text(plan, sections)
    return EXIT_FINDINGS if any(s.failed for s in sections) else EXIT_OK


def policy_config_of(path: str | None) -> dict[str, object]:
    """The `--policy-config` file, checked before any program runs."""
    if path is None:
        return {}
    from sagezero.policies.config_schema import PolicyConfigError, load_file

    try:
        return load_file(Path(path))
    except PolicyConfigError as e:
        fail(f"policy config rejected: {e}")


def cmd_check(args: argparse.Namespace) -> int:
    need_pulumi()
    from sagezero.plan.verdicts import ExportError, policy_section, read_export

    try:
        resources = read_export(Path(args.export))
    except ExportError as e:
        fail(str(e))
    section = policy_section(resources, policy_config_of(args.policy_config))
    if args.json:
        json.dump({"export": args.export, "resources": len(resources), **section.data}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"sagezero check — {args.export} ({len(resources)} resources)\n")
        sys.stdout.write("\n".join(f"  {line}" for line in section.lines) + "\n")
    strict_fail = args.strict and bool(section.data.get("notJudged"))
    return EXIT_FINDINGS if section.failed or strict_fail else EXIT_OK


STACK_NAME = text("a stack name (letters, digits, '-', '_', '.')", pattern=r"[A-Za-z0-9_.-]{1,100}")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser(
        "plan",
        help="show what `pulumi up` would create for a stack, offline (no AWS account, no Pulumi CLI)",
        description="Evaluate the real Pulumi program for a stack under Pulumi's mock engine and show the "
        "resource tree, key properties and the scale-to-zero wiring.",
    )
    plan.add_argument(
        "--stack", "-s", default="dev", type=STACK_NAME, help="stack name (reads Pulumi.<stack>.yaml); default: dev"
    )
    plan.add_argument("--project-dir", help="folder holding Pulumi.yaml (default: current folder or this checkout)")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    plan.set_defaults(func=cmd_plan)

    check = sub.add_parser(
        "check",
        help="run the policy pack on a `pulumi stack export` file (audit any stack without its program)",
        description="Judge a deployed stack's resources with the policy pack. Exit codes: 0 pass, 1 a mandatory "
        "violation (or, with --strict, anything not judged), 2 the export could not be read.",
    )
    check.add_argument("export", help="file written by `pulumi stack export --file FILE` (--show-secrets to judge "
                       "secret values too)")  # fmt: skip
    check.add_argument("--strict", action="store_true", help="also fail (exit 1) when something could not be judged")
    check.add_argument("--policy-config", metavar="FILE", help="policy pack config (as --policy-pack-config)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=cmd_check)
