"""`sagezero plan` as a user runs it: the real program under the mock engine, text and JSON, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli_at

pytest.importorskip("pulumi")

run_cli = run_cli_at
"""In this process: the command's code paths are the same, without a fresh interpreter's imports per run."""


def run_cli_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m sagezero.cli` in its own process: the entry point a user runs, from any folder."""
    return subprocess.run(
        [sys.executable, "-m", "sagezero.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def dev_json() -> dict[str, object]:
    proc = run_cli("plan", "--stack", "dev", "--json")
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def test_text_plan_shows_tree_properties_and_wiring() -> None:
    proc = run_cli("plan", "--stack", "prod")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "stack prod, region us-east-1" in out
    assert "offline:" in out and "No AWS call was made" in out
    assert "+ sagezero:ScaleToZeroEndpoint" in out and "    + aws-native:InferenceComponent" in out
    assert "ml.g5.xlarge, instances 0..4 (ENABLED), LEAST_OUTSTANDING_REQUESTS" in out
    assert out.count("wake path complete") == 4, "three components and the async tenant hooli"
    assert "asynchronous endpoint sagezero-prod-hooli variant AllTraffic" in out
    assert "alarm sagezero-prod-acme-no-capacity: NoCapacityInvocationFailures Maximum >= 1 over 30 s" in out
    assert "Traceback" not in proc.stderr, proc.stderr


def test_json_plan_lists_every_resource_with_engine_inputs(dev_json: dict[str, object]) -> None:
    resources = dev_json["resources"]
    assert isinstance(resources, list)
    types = [r["type"] for r in resources]
    assert types.count("aws-native:sagemaker:InferenceComponent") == 2
    assert types.count("docker:index/image:Image") == 1, "tenants share one image build"
    ic = next(r for r in resources if r["name"] == "acme-ic")
    assert ic["ignoreChanges"] == ["runtimeConfig.copyCount"]
    assert ic["inputs"]["inferenceComponentName"] == "sagezero-dev-acme-ic"
    assert dev_json["offline"] is True
    wiring = dev_json["wiring"]
    assert isinstance(wiring, list)
    assert [w["breaks"] for w in wiring] == [[], []]
    exports = dev_json["exports"]
    assert isinstance(exports, dict)
    assert exports["acme"]["inference_component_name"] == "sagezero-dev-acme-ic"


def _copy_project(tmp_path: Path, stack_yaml: str) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "image", tmp_path / "image")
    (tmp_path / "Pulumi.bad.yaml").write_text(stack_yaml)
    return tmp_path


def test_bad_config_fails_before_any_resource_with_one_clear_message(tmp_path: Path) -> None:
    project = _copy_project(
        tmp_path,
        "config:\n  sagezero:tenants:\n    - name: a\n      maxCopies: 0\n    - name: a\n  sagezero:defaults:\n    minMemoryMb: 1\n",
    )
    proc = run_cli("plan", "--stack", "bad", "--project-dir", str(project))
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr
    assert "stack 'bad' has 3 config problem(s)" in err
    assert "sagezero:tenants[0].maxCopies: 0 is outside 1-100" in err
    assert "sagezero:tenants[1].name: duplicate tenant 'a'" in err
    assert "sagezero:defaults.minMemoryMb: 1 is outside 128" in err
    assert "Traceback" not in err


def test_unknown_stack_and_missing_project_are_plain_errors(tmp_path: Path) -> None:
    proc = run_cli("plan", "--stack", "nope")
    assert proc.returncode == 2 and "stacks here: dev, prod" in proc.stderr
    proc = run_cli("plan", "--project-dir", str(tmp_path))
    assert proc.returncode == 2 and "no Pulumi.yaml" in proc.stderr


def test_plan_runs_from_another_folder_against_this_checkout(tmp_path: Path) -> None:
    proc = run_cli_process("plan", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "stack dev" in proc.stdout


def test_serverless_tenant_plans_without_scaling_wiring(tmp_path: Path) -> None:
    project = _copy_project(
        tmp_path,
        "config:\n  sagezero:tenants:\n    - name: a\n      mode: serverless\n      accelerators: 0\n",
    )
    proc = run_cli("plan", "--stack", "bad", "--project-dir", str(project), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["wiring"] == []
    cfg = next(r for r in doc["resources"] if r["type"].endswith("EndpointConfiguration"))
    assert cfg["inputs"]["productionVariants"][0]["serverlessConfig"]["memorySizeInMb"] == 2048


def test_a_cpu_copy_renders_zero_accelerators() -> None:
    from sagezero.plan.engine import PlannedResource
    from sagezero.plan.render import summary

    spec = {"computeResourceRequirements": {"minMemoryRequiredInMb": 1024}}
    r = PlannedResource(
        urn="urn:x",
        type="aws-native:sagemaker:InferenceComponent",
        name="x-ic",
        custom=True,
        parent=None,
        inputs={"inferenceComponentName": "x-ic", "specification": spec},
    )
    assert "0 accelerator(s)" in summary(r)
