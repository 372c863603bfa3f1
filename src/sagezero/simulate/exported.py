"""`sagezero simulate --export`: replay what a stack actually holds, hand-built or not.

The export is read like `check` reads it (`sagezero.exports`), turned into the neutral wiring model,
and each inference component becomes a scenario whose machinery is its real alarm, policies, target
and instance scaling (`simulate.wired`); each variant of an asynchronous endpoint likewise, replayed
by the async engine (`wired.async_tenants`). No Pulumi import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sagezero.engine_wiring import build_wiring
from sagezero.exports import ExportError, read_export
from sagezero.simulate.scenario import Scenario, ScenarioError
from sagezero.simulate.wired import async_tenants, tenants


def scenarios_from_export(path: Path, profile: Mapping[str, Any], tenant: str | None = None) -> list[Scenario]:
    """One scenario per inference component and per asynchronous endpoint variant in the export (or the
    one named `tenant`)."""
    try:
        resources = read_export(path)
    except ExportError as e:
        raise ScenarioError(str(e)) from None
    wiring = build_wiring(resources)
    found, problems = tenants(wiring)
    queued, async_problems = async_tenants(wiring)
    units: list[tuple[str, Scenario]] = [
        (t.name, Scenario(f"{t.name} (from {path.name})", t.settings, dict(profile), base_dir=path.parent,
                          machinery=t.machinery))
        for t in found
    ] + [
        (t.name, Scenario(f"{t.name} (async endpoint, from {path.name})", t.settings, dict(profile),
                          base_dir=path.parent, async_machinery=t.machinery))
        for t in queued
    ]  # fmt: skip
    problems += async_problems
    if tenant is not None:
        exact = [u for u in units if tenant in (u[0], u[0].removesuffix("-ic"), u[0].split("/")[0])]
        units = exact or [u for u in units if re.search(rf"(^|-){re.escape(tenant)}(-|/|$)", u[0])]
        problems = [p for p in problems if re.search(rf"(^|-){re.escape(tenant)}(-|:|/)", p)]
        if len(units) > 1:
            raise ScenarioError(f"{path}: --tenant {tenant} matches {', '.join(u[0] for u in units)}; give the "
                                "inference component's (or endpoint/variant's) full name")  # fmt: skip
    if not units:
        why = "; ".join(problems) if problems else "no inference component or asynchronous endpoint in it"
        named = f" named {tenant!r}" if tenant else ""
        raise ScenarioError(f"{path}: nothing{named} to simulate ({why})")
    if problems:
        raise ScenarioError(f"{path}: cannot simulate {'; '.join(problems)} (pick another with --tenant)")
    return [sc for _, sc in units]
