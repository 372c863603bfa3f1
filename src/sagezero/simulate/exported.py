"""`sagezero simulate --export`: replay what a stack actually holds, hand-built or not.

The export is read like `check` reads it (`sagezero.exports`), turned into the neutral wiring model,
and each inference component becomes a scenario whose machinery is its real alarm, policies, target
and instance scaling (`simulate.wired`). No Pulumi import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sagezero.engine_wiring import build_wiring
from sagezero.exports import ExportError, read_export
from sagezero.simulate.scenario import Scenario, ScenarioError
from sagezero.simulate.wired import tenants


def scenarios_from_export(path: Path, profile: Mapping[str, Any], tenant: str | None = None) -> list[Scenario]:
    """One scenario per inference component in the export (or the one named `tenant`)."""
    try:
        resources = read_export(path)
    except ExportError as e:
        raise ScenarioError(str(e)) from None
    found, problems = tenants(build_wiring(resources))
    if tenant is not None:
        exact = [t for t in found if tenant in (t.name, t.name.removesuffix("-ic"))]
        found = exact or [t for t in found if re.search(rf"(^|-){re.escape(tenant)}(-|$)", t.name)]
        problems = [p for p in problems if re.search(rf"(^|-){re.escape(tenant)}(-|:)", p)]
        if len(found) > 1:
            raise ScenarioError(f"{path}: --tenant {tenant} matches {', '.join(t.name for t in found)}; give the "
                                "inference component's full name")  # fmt: skip
    if not found:
        why = "; ".join(problems) if problems else "no inference component in it"
        named = f" named {tenant!r}" if tenant else ""
        raise ScenarioError(f"{path}: nothing{named} to simulate ({why})")
    if problems:
        raise ScenarioError(f"{path}: cannot simulate {'; '.join(problems)} (pick another with --tenant)")
    return [
        Scenario(f"{t.name} (from {path.name})", t.settings, dict(profile), base_dir=path.parent, machinery=t.machinery)
        for t in found
    ]
