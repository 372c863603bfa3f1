"""The policy pack's verdicts as a report section, shared by `plan` (a program) and `check` (an export).

Runs the pack in process; never changes resources. Mandatory violations fail the section. What a
rule could not judge (unknown at preview, a secret in an export made without `--show-secrets`) is
listed plainly, with the reason, in the text and the JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sagezero.engine_wiring import EngineResource
from sagezero.exports import ExportError, read_export  # re-exported: `check` reads exports here
from sagezero.plan.render import Section


def _where(urn: str | None) -> str:
    return (urn or "stack").rsplit("::", 1)[-1] or "stack"


def policy_section(resources: Iterable[EngineResource], config: Mapping[str, Any] | None) -> Section:
    from sagezero.policies.runner import evaluate

    report = evaluate(resources, config)
    lines = []
    for v in sorted(report.verdicts, key=lambda v: (not v.mandatory, v.policy, v.urn or "")):
        lines.append(f"{v.level.upper():<9} {v.policy}  [{_where(v.urn)}]")
        lines.append(f"          {v.message}")
    if report.not_judged:
        lines.append(
            f"NOT JUDGED ({len(report.not_judged)}): each is judged once its value can be read (after `pulumi up` "
            "for unknowns; from an export made with --show-secrets for secrets)"
        )
        for n in sorted(report.not_judged, key=lambda n: (n.policy, n.urn)):
            lines.append(f"          {n.policy}  [{_where(n.urn)}] {n.reason}")
    mandatory = len(report.mandatory)
    advisory = len(report.verdicts) - mandatory
    summary = f"{report.policies_run} policies: {mandatory} mandatory and {advisory} advisory violation(s)"
    if not report.verdicts:
        summary = f"{report.policies_run} policies: all passed"
    if report.not_judged:
        summary += f"; {len(report.not_judged)} item(s) not judged"
    lines.insert(0, summary)
    data = {
        "pack": report.pack,
        "policiesRun": report.policies_run,
        "violations": [
            {"policy": v.policy, "level": v.level, "urn": v.urn, "message": v.message} for v in report.verdicts
        ],
        "notJudged": [{"policy": n.policy, "urn": n.urn or None, "reason": n.reason} for n in report.not_judged],
    }
    return Section(f"Policy pack {report.pack}", lines, data, "policies", failed=mandatory > 0)


__all__ = ["ExportError", "policy_section", "read_export"]
