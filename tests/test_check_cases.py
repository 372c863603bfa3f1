"""`sagezero check` as a CI job runs it: every wiring case, exit codes, unreadable exports, secrets.

Exit codes are the contract: 0 pass, 1 a mandatory violation, 2 the export could not be read (one
line naming the file and the problem, never a traceback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("pulumi_policy")

from sagezero.cli import main
from sagezero.engine_wiring import EngineResource
from tests.policy_fixtures import first_preview, mutate, two_tenants
from tests.wiring_cases import CASES, Case


def export_doc(resources: list[EngineResource]) -> dict[str, Any]:
    return {"version": 3, "deployment": {"manifest": {}, "resources": [
        {"urn": r.urn, "type": r.type, "custom": True, "outputs": dict(r.props),
         "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()}}
        for r in resources]}}  # fmt: skip


def run_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any, *flags: str) -> tuple[int, str, str]:
    path = tmp_path / "export.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    try:
        code = main(["check", str(path), *flags])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_case_through_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case) -> None:
    code, out, _ = run_check(tmp_path, capsys, export_doc(case.resources()), "--json")
    doc = json.loads(out)
    found = {
        (v["policy"], v["message"][1 : v["message"].index("]")]) for v in doc["violations"] if v["level"] == "mandatory"
    }
    assert found == set(case.expect)
    assert code == (1 if case.expect else 0)
    assert doc["notJudged"] == []


def test_preview_unknowns_are_listed_and_judged_per_tenant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = first_preview(mutate(two_tenants(), "globex-no-capacity", lambda p: "drop"), "acme")
    code, out, _ = run_check(tmp_path, capsys, export_doc(stack))
    assert code == 1
    assert "[no-alarm]" in out and "globex-dev-ic" in out
    assert "NOT JUDGED (1)" in out
    assert "acme-no-capacity] alarmActions: not known until deployment" in out
    assert "04da6b54" not in out, "an engine sentinel must never be printed as a value"


def test_secrets_without_show_secrets_are_listed_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = export_doc(two_tenants())
    for r in doc["deployment"]["resources"]:
        if r["urn"].endswith("::acme-no-capacity"):
            r["outputs"]["dimensions"] = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                          "ciphertext": "AAABAKCIPHERTEXTXYZ"}  # fmt: skip
    code, out, _ = run_check(tmp_path, capsys, doc)
    assert code == 0
    assert "dimensions: a secret (the export was made without --show-secrets)" in out
    assert "CIPHERTEXT" not in out
    code, _, _ = run_check(tmp_path, capsys, doc, "--strict")
    assert code == 1, "--strict fails on anything not judged"
    for r in doc["deployment"]["resources"]:
        if r["urn"].endswith("::acme-no-capacity"):
            r["outputs"]["dimensions"] = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                                          "plaintext": json.dumps({"InferenceComponentName": "elsewhere"})}  # fmt: skip
    code, out, _ = run_check(tmp_path, capsys, doc)
    assert (code, "[wrong-dimension]" in out) == (1, True), "a disclosed secret is judged like any value"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"deployment": {"resources": [', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"deployment": {}}', "no deployment.resources"),
        ('{"deployment": {"resources": [{"urn": 1}]}}', "resources[0] has no urn/type"),
        ('{"deployment": {"resources": [{"urn": "u", "type": "t", "propertyDependencies": {"a": "u2"}}]}}',
         "propertyDependencies must map property names to lists of URNs"),
        ('{"deployment": {"resources": [{"urn": "u", "type": "t", "outputs": [1]}]}}', "inputs and outputs must be objects"),
        ('{"deployment": {"resources": [{"urn": "u", "type": "t", "outputs": {"a": ' + "[" * 80 + "]" * 80 + "}}]}}",
         "nested deeper than 64 levels"),
    ],
)  # fmt: skip
def test_unreadable_exports_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, says: str
) -> None:
    code, out, err = run_check(tmp_path, capsys, content)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and says in err and str(tmp_path / "export.json") in err, err


def test_binary_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    for target in (binary, tmp_path):
        try:
            code = main(["check", str(target)])
        except SystemExit as e:
            code = int(e.code or 0)
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and str(target) in err, err


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
TYPES = ["aws:cloudwatch/metricAlarm:MetricAlarm", "aws-native:applicationautoscaling:ScalingPolicy",
         "aws:appautoscaling/target:Target", "aws-native:sagemaker:InferenceComponent",
         "aws-native:sagemaker:EndpointConfig", "aws:sagemaker/endpoint:Endpoint", "aws:iam/role:Role", "x:y:Z"]  # fmt: skip
resources = st.fixed_dictionaries(
    {"urn": st.text(min_size=1, max_size=12), "type": st.sampled_from(TYPES)},
    optional={"outputs": st.dictionaries(st.sampled_from(["alarmActions", "dimensions", "metrics", "productionVariants",
              "stepScalingPolicyConfiguration", "resourceId", "minCapacity", "policyType", "tags", "name",
              "targetTrackingScalingPolicyConfiguration", "inferenceComponentName"]), json_values, max_size=6),
              "propertyDependencies": json_values},
)  # fmt: skip


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    doc=st.one_of(
        json_values,
        st.fixed_dictionaries({"deployment": st.fixed_dictionaries({"resources": st.lists(resources, max_size=6)})}),
    )
)
def test_any_json_gets_an_exit_code_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: Any
) -> None:
    code, out, err = run_check(tmp_path, capsys, doc)
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.count("\n") == 1
