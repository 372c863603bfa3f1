"""The policy pack's verdicts as a report section, shared by `plan` (a program) and `check` (an export).

Runs the pack in process; never changes resources. Mandatory violations fail the section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sagezero.engine_wiring import EngineResource
from sagezero.jsonfile import JsonFileError, read_json
from sagezero.plan.render import Section


def policy_section(resources: Iterable[EngineResource], config: Mapping[str, Any] | None) -> Section:
    from sagezero.policies.runner import evaluate

    report = evaluate(resources, config)
    lines = []
    for v in sorted(report.verdicts, key=lambda v: (not v.mandatory, v.policy, v.urn or "")):
        where = (v.urn or "stack").rsplit("::", 1)[-1]
        lines.append(f"{v.level.upper():<9} {v.policy}  [{where}]")
        lines.append(f"          {v.message}")
    mandatory = len(report.mandatory)
    advisory = len(report.verdicts) - mandatory
    summary = f"{report.policies_run} policies: {mandatory} mandatory and {advisory} advisory violation(s)"
    lines.insert(0, summary if report.verdicts else f"{report.policies_run} policies: all passed")
    data = {
        "pack": report.pack,
        "policiesRun": report.policies_run,
        "violations": [
            {"policy": v.policy, "level": v.level, "urn": v.urn, "message": v.message} for v in report.verdicts
        ],
        "notApplicable": [{"policy": p, "urn": u, "reason": r} for p, u, r in report.not_applicable],
    }
    return Section(f"Policy pack {report.pack}", lines, data, "policies", failed=mandatory > 0)


class ExportError(ValueError):
    """A file that is not a `pulumi stack export` document."""


def read_export(path: Path) -> list[EngineResource]:
    """Resources of a `pulumi stack export` file, with outputs over inputs as the engine holds them."""
    try:
        doc = read_json(path)
    except JsonFileError as e:
        raise ExportError(str(e)) from None
    deployment = doc.get("deployment") if isinstance(doc, dict) else None
    raw = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(raw, list):
        raise ExportError(f"{path}: no deployment.resources; produce it with `pulumi stack export --file {path.name}`")
    out = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or not isinstance(r.get("urn"), str) or not isinstance(r.get("type"), str):
            raise ExportError(f"{path}: deployment.resources[{i}] has no urn/type")
        if r["type"].startswith("pulumi:providers:") or r["type"] == "pulumi:pulumi:Stack":
            continue
        out.append(
            EngineResource(
                type=r["type"],
                urn=r["urn"],
                props={**(r.get("inputs") or {}), **(r.get("outputs") or {})},
                property_dependencies=r.get("propertyDependencies") or {},
                name=r["urn"].rsplit("::", 1)[-1],
                parent=r.get("parent"),
            )
        )
    return out
