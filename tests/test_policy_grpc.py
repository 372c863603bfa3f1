"""The policy pack over its real gRPC Analyzer protocol, started exactly as the Pulumi CLI starts it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

grpc = pytest.importorskip("grpc")
pytest.importorskip("pulumi_policy")

from google.protobuf import empty_pb2, struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc  # noqa: E402

from sagezero.engine_wiring import EngineResource  # noqa: E402
from tests.conftest import ROOT, grpc_plugin  # noqa: E402
from tests.policy_fixtures import component_baseline, first_preview, mutate, two_tenants  # noqa: E402
from tests.wiring_cases import CASES, Case  # noqa: E402


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Any]:
    # `pulumi preview --policy-pack policies` runs: python -u -m pulumi.policy <engine-address> <pack-dir>
    with (
        grpc_plugin(
            [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:9", str(ROOT / "policies")], ROOT
        ) as address,
        grpc.insecure_channel(address) as channel,
    ):
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def _struct(props: Any) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(props))  # numbers become doubles, as the engine sends them
    return s


def _resource(r: EngineResource) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=r.type,
        properties=_struct(r.props),
        urn=r.urn,
        name=r.name,
        options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent or ""),
        parent=r.parent or "",
        propertyDependencies={
            k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v)) for k, v in r.property_dependencies.items() if v
        },
    )


def analyze_each(stub: Any, resources: list[EngineResource]) -> list[Any]:
    out = []
    for r in resources:
        req = analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(r.props), urn=r.urn, name=r.name)
        out.extend(stub.Analyze(req, timeout=30).diagnostics)
    return out


def analyze_stack(stub: Any, resources: list[EngineResource]) -> list[Any]:
    req = analyzer_pb2.AnalyzeStackRequest(resources=[_resource(r) for r in resources])
    return list(stub.AnalyzeStack(req, timeout=30).diagnostics)


def configure(stub: Any, levels: dict[str, Any], props: dict[str, dict[str, Any]] | None = None) -> None:
    config = {}
    for name in set(levels) | set(props or {}):
        pc = analyzer_pb2.PolicyConfig(enforcementLevel=levels.get(name, analyzer_pb2.ADVISORY))
        if props and name in props:
            pc.properties.update(props[name])
        config[name] = pc
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config), timeout=30)


@pytest.fixture(scope="module")
def baseline() -> list[EngineResource]:
    return component_baseline()


def test_info_lists_every_policy_with_level_and_schema(analyzer: Any) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "sagezero-scale-to-zero"
    policies = {p.name: p for p in info.policies}
    assert len(policies) == 17
    assert policies["async-bucket-private-and-encrypted"].enforcementLevel == analyzer_pb2.ADVISORY
    assert policies["model-in-vpc"].enforcementLevel == analyzer_pb2.DISABLED
    assert policies["scale-from-zero-alarm"].enforcementLevel == analyzer_pb2.MANDATORY
    assert policies["scale-from-zero-alarm"].policy_type == analyzer_pb2.POLICY_TYPE_STACK
    assert policies["endpoint-config-kms-key"].enforcementLevel == analyzer_pb2.ADVISORY
    schema = policies["scaling-ceilings"].configSchema.properties
    assert schema["maxCopies"]["type"] == "integer" and schema["maxCopies"]["default"] == 10


def test_compliant_stack_passes_over_the_wire(analyzer: Any, baseline: list[EngineResource]) -> None:
    configure(analyzer, {})
    assert analyze_each(analyzer, baseline) == []
    assert analyze_stack(analyzer, baseline) == []


def test_each_link_break_is_reported_with_its_urn(analyzer: Any, baseline: list[EngineResource]) -> None:
    configure(analyzer, {})
    no_alarm = mutate(baseline, "acme-no-capacity", lambda p: "drop")
    diags = analyze_stack(analyzer, no_alarm)
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [("scale-from-zero-alarm", analyzer_pb2.MANDATORY)]
    assert diags[0].urn.endswith("::acme-ic")
    assert "[no-alarm]" in diags[0].message


def test_resource_rule_over_the_wire_with_float_numbers(analyzer: Any, baseline: list[EngineResource]) -> None:
    configure(analyzer, {})
    bad = mutate(
        baseline,
        "acme-config",
        lambda p: p["productionVariants"][0]["managedInstanceScaling"].update(minInstanceCount=1),
    )
    diags = analyze_each(analyzer, bad)
    assert [d.policyName for d in diags] == ["endpoint-min-instance-zero"]
    assert "keeps MinInstanceCount 1" in diags[0].message


def test_configure_changes_levels_and_thresholds(analyzer: Any, baseline: list[EngineResource]) -> None:
    no_kms = mutate(baseline, "acme-config", lambda p: p.pop("kmsKeyArn"))
    configure(analyzer, {"endpoint-config-kms-key": analyzer_pb2.MANDATORY})
    diags = analyze_each(analyzer, no_kms)
    assert [(d.policyName, d.enforcementLevel) for d in diags] == [("endpoint-config-kms-key", analyzer_pb2.MANDATORY)]
    configure(analyzer, {"scaling-ceilings": analyzer_pb2.MANDATORY}, {"scaling-ceilings": {"maxCopies": 1}})
    assert analyze_each(analyzer, baseline) == []
    diags = analyze_each(analyzer, mutate(baseline, "acme-target", lambda p: p.update(maxCapacity=2)))
    assert [d.policyName for d in diags] == ["scaling-ceilings"]
    assert "allows 2 copies, above the org ceiling of 1" in diags[0].message
    configure(analyzer, {})


def test_preview_unknowns_become_an_advisory_skip_not_a_failure(analyzer: Any, baseline: list[EngineResource]) -> None:
    configure(analyzer, {})
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    bad = mutate(baseline, "acme-target", lambda p: p.update(minCapacity=unknown))
    req = next(r for r in bad if r.name == "acme-target")
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(type=req.type, properties=_struct(req.props), urn=req.urn, name=req.name),
        timeout=30,
    )
    assert [d.enforcementLevel for d in response.diagnostics] in ([], [analyzer_pb2.ADVISORY])
    assert all(d.enforcementLevel != analyzer_pb2.MANDATORY for d in response.diagnostics)


# ---- every wiring case over the wire ----------------------------------------------------------------


def _kind(message: str) -> str:
    detail = message.split("\n", 1)[-1]
    return detail[1 : detail.index("]")] if detail.startswith("[") else detail


def mandatory_over_the_wire(stub: Any, resources: list[EngineResource]) -> set[tuple[str, str]]:
    diags = analyze_each(stub, resources) + analyze_stack(stub, resources)
    return {(d.policyName, _kind(d.message)) for d in diags if d.enforcementLevel == analyzer_pb2.MANDATORY}


# protobuf cannot carry an infinite number (the engine never sends one): judged in process and by `check`.
WIRE_CASES = [c for c in CASES if c.id != "alarm-evaluation-periods-infinite"]


@pytest.mark.parametrize("case", WIRE_CASES, ids=[c.id for c in WIRE_CASES])
def test_each_case_over_the_wire(analyzer: Any, case: Case) -> None:
    configure(analyzer, {})
    assert mandatory_over_the_wire(analyzer, case.resources()) == set(case.expect)


def test_an_unknown_in_one_tenant_never_stops_the_rules_for_another(analyzer: Any) -> None:
    configure(analyzer, {})
    stack = first_preview(mutate(two_tenants(), "globex-no-capacity", lambda p: "drop"), "acme")
    response = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=[_resource(r) for r in stack]), timeout=30
    )
    found = [(d.policyName, d.enforcementLevel, d.urn.rsplit("::", 1)[-1]) for d in response.diagnostics]
    assert found == [("scale-from-zero-alarm", analyzer_pb2.MANDATORY, "globex-ic")], found
    skipped = {n.policy_name: n.reason for n in response.not_applicable}
    assert set(skipped) == {"scale-from-zero-alarm"}
    assert "acme-no-capacity alarmActions: not known until deployment" in skipped["scale-from-zero-alarm"]
    assert "globex" not in skipped["scale-from-zero-alarm"]
