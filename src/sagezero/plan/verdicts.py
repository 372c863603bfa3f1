"""The policy pack's verdicts as a report section, shared by `plan` (a program) and `check` (an export).

Runs the pack in process; never changes resources. Mandatory violations fail the section. What a
rule could not judge (unknown at preview, a secret in an export made without `--show-secrets`) is
listed plainly, with the reason, in the text and the JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sagezero.engine_wiring import EngineResource
from sagezero.jsonfile import JsonFileError, read_json
from sagezero.plan.render import Section
from sagezero.values import ShapeError, plain


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


class ExportError(ValueError):
    """A file that is not a `pulumi stack export` document; the message names the file and the problem."""


def _str_map_of_lists(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(u, str) for u in v) for k, v in value.items()
    )


def read_export(path: Path) -> list[EngineResource]:
    """Resources of a `pulumi stack export` file, with outputs over inputs as the engine holds them."""
    try:
        doc = read_json(path)
    except JsonFileError as e:
        raise ExportError(str(e)) from None
    except RecursionError:
        raise ExportError(f"{path}: JSON nested too deeply to be a stack export") from None
    except ValueError as e:  # e.g. an integer literal past Python's digit limit
        raise ExportError(f"{path}: not valid JSON ({str(e)[:120]})") from None
    except OSError as e:
        raise ExportError(f"{path}: cannot read ({e.strerror or e})") from None
    deployment = doc.get("deployment") if isinstance(doc, dict) else None
    raw = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(raw, list):
        raise ExportError(f"{path}: no deployment.resources; produce it with `pulumi stack export --file {path.name}`")
    out = []
    for i, r in enumerate(raw):
        where = f"{path}: deployment.resources[{i}]"
        if not isinstance(r, dict) or not isinstance(r.get("urn"), str) or not isinstance(r.get("type"), str):
            raise ExportError(f"{where} has no urn/type")
        if r["type"].startswith("pulumi:providers:") or r["type"] == "pulumi:pulumi:Stack":
            continue
        if r.get("delete") is True:
            continue  # an old resource pending deletion (after a replace): not part of the stack's wiring
        inputs, outputs = r.get("inputs") or {}, r.get("outputs") or {}
        if not isinstance(inputs, dict) or not isinstance(outputs, dict):
            raise ExportError(f"{where} ({r['urn']}): inputs and outputs must be objects")
        deps = r.get("propertyDependencies") or {}
        if not _str_map_of_lists(deps):
            raise ExportError(f"{where} ({r['urn']}): propertyDependencies must map property names to lists of URNs")
        parent = r.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise ExportError(f"{where} ({r['urn']}): parent must be a URN")
        try:
            props = plain({**inputs, **outputs})
        except ShapeError as e:
            raise ExportError(f"{where} ({r['urn']}): {e}") from None
        out.append(
            EngineResource(
                type=r["type"], urn=r["urn"], props=props, property_dependencies=deps,
                name=r["urn"].rsplit("::", 1)[-1], parent=parent,
            )
        )  # fmt: skip
    return out
