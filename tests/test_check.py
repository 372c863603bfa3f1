"""`sagezero check` on a `pulumi stack export` file, and the policy verdicts inside `sagezero plan`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_plan import run_cli

pytest.importorskip("pulumi_policy")


def export_of(stack: str) -> dict[str, Any]:
    """The stack as `pulumi stack export` would write it after `pulumi up` (placeholder outputs)."""
    from sagezero.plan.engine import run_program
    from tests.conftest import ROOT

    plan = run_program(ROOT, stack)
    resources: list[dict[str, Any]] = [
        {"urn": "urn:pulumi:dev::sagezero::pulumi:pulumi:Stack::sagezero-dev", "type": "pulumi:pulumi:Stack"}
    ]
    for r in plan.resources:
        resources.append(
            {
                "urn": r.urn,
                "custom": r.custom,
                "type": r.type,
                "inputs": r.inputs,
                "outputs": r.state,
                "parent": r.parent,
                "dependencies": r.dependencies,
                "propertyDependencies": {k: v for k, v in r.property_dependencies.items() if v},
            }
        )
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


@pytest.fixture(scope="module")
def prod_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "prod.json"
    path.write_text(json.dumps(export_of("prod")))
    return path


def test_check_passes_a_compliant_export(prod_export: Path) -> None:
    proc = run_cli("check", str(prod_export))
    assert proc.returncode == 0, proc.stderr
    assert "15 policies: all passed" in proc.stdout


def test_check_fails_on_a_broken_wake_path(prod_export: Path, tmp_path: Path) -> None:
    doc = json.loads(prod_export.read_text())
    doc["deployment"]["resources"] = [
        r for r in doc["deployment"]["resources"] if not r["urn"].endswith("::globex-no-capacity")
    ]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    proc = run_cli("check", str(broken), "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [(v["policy"], v["level"]) for v in report["violations"]] == [("scale-from-zero-alarm", "mandatory")]
    assert report["violations"][0]["urn"].endswith("::globex-ic")


def test_check_with_strict_org_config(prod_export: Path) -> None:
    from tests.conftest import ROOT

    proc = run_cli("check", str(prod_export), "--policy-config", str(ROOT / "policies" / "examples" / "strict.json"))
    assert proc.returncode == 1
    assert "MANDATORY required-tags" in proc.stdout and "owner" in proc.stdout


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": 3}', "no deployment.resources"),
        ('{"deployment": {"resources": [{"type": "x"}]}}', "resources[0] has no urn/type"),
    ],
)
def test_check_rejects_files_that_are_not_exports(tmp_path: Path, content: str, text: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    proc = run_cli("check", str(path))
    assert proc.returncode == 2 and text in proc.stderr and "Traceback" not in proc.stderr


def test_bad_policy_config_is_rejected_before_anything_runs(prod_export: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps({"scaling-ceilings": {"maxCopies": "ten", "colour": 1}, "nope": "advisory", "all": "loud"})
    )
    proc = run_cli("check", str(prod_export), "--policy-config", str(cfg))
    assert proc.returncode == 2
    for text in ("'ten' is not of type 'integer'", "'colour' was unexpected", "nope: no such policy", "all: 'loud'"):
        assert text in proc.stderr


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`sagezero plan` in process (the CLI's own subprocess run is covered in test_plan.py)."""
    from sagezero.cli import main

    try:
        code = main(["plan", *args])
    except SystemExit as e:
        code = int(e.code or 0)
    return code, capsys.readouterr().out


def test_plan_shows_verdicts_and_our_program_has_no_mandatory_violation(capsys: pytest.CaptureFixture[str]) -> None:
    for stack in ("dev", "prod"):
        code, out = _plan(capsys, "--stack", stack, "--json")
        assert code == 0, out
        policies = json.loads(out)["policies"]
        assert policies["policiesRun"] == 15
        assert [v for v in policies["violations"] if v["level"] == "mandatory"] == []
        if stack == "prod":
            assert policies["violations"] == []
    text = _plan(capsys, "--stack", "dev")[1]
    assert "Policy pack sagezero-scale-to-zero" in text and "ADVISORY  endpoint-config-kms-key" in text


def test_ci_workflow_runs_preview_with_the_pack_and_the_audit() -> None:
    import yaml

    from tests.conftest import ROOT

    wf = yaml.safe_load((ROOT / "policies" / "ci" / "github-actions.yml").read_text())
    steps = wf["jobs"]["preview"]["steps"]
    preview = next(s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions"))
    assert preview["with"]["command"] == "preview" and preview["with"]["policyPacks"] == "policies"
    assert (ROOT / preview["with"]["policyPackConfigs"]).exists()
    assert any("sagezero check" in str(s.get("run", "")) for s in steps)
