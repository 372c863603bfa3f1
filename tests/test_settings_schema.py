"""One settings definition: the component's args, README table and schema are rendered from EndpointSettings;
plan validates each tenant once and declares sagezero's program directly."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.conftest import ROOT

pytest.importorskip("pulumi")

from sagezero.components import ScaleToZeroEndpoint, ScaleToZeroEndpointArgs, argsgen
from sagezero.plan.engine import is_sagezero_entry, run_program
from sagezero.settings import EndpointSettings


def test_the_args_file_is_what_the_settings_render() -> None:
    assert argsgen.ARGS_FILE.read_text() == argsgen.render_args(), "run: python -m sagezero.components.argsgen"


def test_the_readme_table_is_what_the_settings_render() -> None:
    text = (ROOT / "README.md").read_text()
    assert argsgen.readme_with_table(text) == text, "run: python -m sagezero.components.argsgen"
    assert "`stepCooldownS` / `step_cooldown_s` | Cooldown of the wake-from-zero step policy" in text


def test_every_setting_is_a_component_arg_and_nothing_else_is() -> None:
    hints = set(ScaleToZeroEndpointArgs.__annotations__)
    settings = {f.name for f in dataclasses.fields(EndpointSettings)}
    assert hints - settings == {name for name, _t, _d in argsgen.COMPONENT_ARGS}
    assert settings <= hints


def test_every_setting_has_a_doc() -> None:
    assert [f.name for f in dataclasses.fields(EndpointSettings) if not f.metadata.get("doc")] == []


def test_plan_validates_each_tenant_once_per_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once when the stack config is parsed, once more in the component, because the program adds the
    tenant and stack tags (a new settings object that could now break the tag limit); never more."""
    calls: list[Any] = []
    original = EndpointSettings.problems

    def counted(self: EndpointSettings) -> Any:
        calls.append(self)
        return original(self)

    monkeypatch.setattr(EndpointSettings, "problems", counted)
    plan = run_program(ROOT, "prod")
    assert len(calls) == 1 + 2 * len(plan.config.tenants), "defaults once, then each tenant twice"


def test_direct_declaration_matches_the_real_main_py() -> None:
    assert is_sagezero_entry(ROOT / "__main__.py")
    direct = run_program(ROOT, "dev")
    real = run_program(ROOT, "dev", direct=False)
    assert sorted((r.urn, str(r.inputs)) for r in direct.resources) == sorted(
        (r.urn, str(r.inputs)) for r in real.resources
    )
    assert direct.exports == real.exports


def test_from_settings_refuses_settings_passed_as_args(image_uri: str) -> None:
    with pytest.raises(ValueError, match="max_copies belong in the settings"):
        ScaleToZeroEndpoint.from_settings("acme", EndpointSettings(), {"image_uri": image_uri, "max_copies": 2})


def test_the_accelerators_default_is_described_as_it_depends_on_the_instance_type() -> None:
    from tests.conftest import ROOT

    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `accelerators`"))
    assert "Default: 1." not in row and "0 on CPU types" in row
