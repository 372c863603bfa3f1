"""Turn a Plan into what a person reads in a terminal, or what a machine reads as JSON.

Presentation only: never changes the plan, never judges it (checks hand in their own sections).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from sagezero import wiring
from sagezero.engine_wiring import build_wiring, get
from sagezero.plan.engine import PLACEHOLDER_ACCOUNT, Plan, PlannedResource
from sagezero.plan.placement import FROM_ENVIRONMENT, placements, splits
from sagezero.rules import judge
from sagezero.rules.wake import Path
from sagezero.values import UNKNOWN


@dataclass
class Section:
    """A block of the report contributed by one concern (resources, wiring, policies, cost, ...)."""

    title: str
    lines: list[str]
    data: Any
    key: str
    failed: bool = False
    notes: list[str] = field(default_factory=list)


def wake_paths(plan: Plan) -> list[Path]:
    return judge(build_wiring(plan.engine_resources())).paths


def _short_type(t: str) -> str:
    pkg, _, rest = t.partition(":")
    _mod, _, name = rest.rpartition(":")
    return f"{pkg}:{name}" if pkg != "sagezero" else f"sagezero:{name}"


def _fmt(v: Any) -> str:
    return "(known after deploy)" if v is UNKNOWN or v is None else str(v)


def summary(r: PlannedResource) -> str:
    """The few properties a reviewer checks for each kind of resource."""
    p = r.state
    t = r.type
    if t == "aws:ecr/repository:Repository":
        scan = get(p, "imageScanningConfiguration", "scanOnPush")
        return f"tags {p.get('imageTagMutability')}, scan on push {'on' if scan else 'off'}"
    if t == "aws:ecr/lifecyclePolicy:LifecyclePolicy":
        return "expires images beyond the retention count"
    if t == "docker:index/image:Image":
        return f"build {get(p, 'build', 'context')} ({get(p, 'build', 'platform')}) -> {p.get('imageName')}"
    if t == "aws:iam/role:Role":
        return "trusted by sagemaker.amazonaws.com"
    if t == "aws:iam/rolePolicy:RolePolicy":
        policy = str(p.get("policy"))
        return (
            "ECR pull (one repository), logs, metrics"
            + (", S3 model prefix" if "ReadModelData" in policy else "")
            + (", async input/output/failure prefixes" if "ReadAsyncRequests" in policy else "")
            + (", SNS publish" if "sns:Publish" in policy else "")
        )
    if t == "aws:s3/bucket:Bucket":
        return f"async queue bucket {_fmt(p.get('bucket'))}"
    if t == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        return "public access blocked" if all(p.get(f) is True for f in flags) else "PUBLIC ACCESS NOT FULLY BLOCKED"
    if t == "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
        return f"ownership {get(p, 'rule', 'objectOwnership')} (no ACLs)"
    if t == "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        return f"encrypted {get(p, 'rules', 0, 'applyServerSideEncryptionByDefault', 'sseAlgorithm')}"
    if t == "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
        rule = get(p, "rules", 0) or {}
        return f"expires {get(rule, 'filter', 'prefix')} after {get(rule, 'expiration', 'days')} day(s)"
    if t == "aws:s3/bucketPolicy:BucketPolicy":
        return "denies requests without TLS" if "aws:SecureTransport" in str(p.get("policy")) else ""
    if t == "aws:sns/topic:Topic":
        return f"async notices, encrypted with {p.get('kmsMasterKeyId')}"
    if t == "aws:sagemaker/model:Model":
        env = get(p, "primaryContainer", "environment") or {}
        return f"image pinned by digest, {len(env)} env var(s)"
    if t == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        v = get(p, "productionVariants", 0) or {}
        if get(v, "serverlessConfig"):
            sc = get(v, "serverlessConfig")
            return (
                f"serverless {get(sc, 'memorySizeInMb')} MB, max concurrency {get(sc, 'maxConcurrency')}, "
                f"provisioned {get(sc, 'provisionedConcurrency') or 0}"
            )
        out = get(p, "asyncInferenceConfig", "outputConfig")
        if out:
            per = get(p, "asyncInferenceConfig", "clientConfig", "maxConcurrentInvocationsPerInstance")
            return (
                f"async {get(v, 'instanceType')}, output {_fmt(get(out, 's3OutputPath'))}, {_fmt(per)} request(s) "
                f"per instance, startup timeout {get(v, 'containerStartupHealthCheckTimeoutInSeconds')} s"
            )
        mis = get(v, "managedInstanceScaling") or {}
        route = get(v, "routingConfigs", 0, "routingStrategy")
        return (
            f"{get(v, 'instanceType')}, instances {get(mis, 'minInstanceCount')}..{get(mis, 'maxInstanceCount')} "
            f"({get(mis, 'status')}), {route}, startup timeout {get(v, 'containerStartupHealthCheckTimeoutInSeconds')} s"
        )
    if t == "aws:sagemaker/endpoint:Endpoint":
        return f"name {p.get('name')}"
    if t == "aws-native:sagemaker:InferenceComponent":
        c = get(p, "specification", "computeResourceRequirements") or {}
        return (
            f"name {p.get('inferenceComponentName')}, {get(c, 'minMemoryRequiredInMb')} MiB, "
            f"{get(c, 'numberOfAcceleratorDevicesRequired') or 0} accelerator(s), copies start at "
            f"{get(p, 'runtimeConfig', 'copyCount')} (ignored on update)"
        )
    unit = "instance" if p.get("scalableDimension") == wiring.VARIANT_DIMENSION else "copy"
    if t == "aws:appautoscaling/target:Target":
        return f"{p.get('resourceId')} {_plural(unit)} {p.get('minCapacity')}..{p.get('maxCapacity')}"
    if t == "aws:appautoscaling/policy:Policy":
        if p.get("policyType") == "StepScaling":
            s = get(p, "stepScalingPolicyConfiguration") or {}
            adj = get(s, "stepAdjustments", 0, "scalingAdjustment")
            return f"step +{adj} {unit} when alarmed, cooldown {get(s, 'cooldown')} s"
        tt = get(p, "targetTrackingScalingPolicyConfiguration") or {}
        custom = get(tt, "customizedMetricSpecification", "metricName")
        return (
            f"target tracking {get(tt, 'targetValue')} {custom or 'concurrent req/copy'}, "
            f"in {get(tt, 'scaleInCooldown')} s / out {get(tt, 'scaleOutCooldown')} s"
        )
    if t == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return f"{p.get('metricName')} {p.get('statistic')} >= {p.get('threshold')} over {p.get('period')} s"
    return ""


def _plural(unit: str) -> str:
    return "copies" if unit == "copy" else f"{unit}s"


def resources_section(plan: Plan) -> Section:
    children: dict[str | None, list[PlannedResource]] = {}
    urns = {r.urn for r in plan.resources}
    for r in plan.resources:
        children.setdefault(r.parent if r.parent in urns else None, []).append(r)
    lines: list[str] = []
    where = {r.urn: p for _tenant, r, p in placements(plan.resources, plan.values)}

    def walk(parent: str | None, depth: int) -> None:
        for r in sorted(children.get(parent, []), key=lambda x: (not x.custom, x.name)):
            desc = summary(r)
            p = where.get(r.urn)
            at = f" @ {p.where}" + ("" if p.provider.startswith("default") else f" ({p.provider})") if p else ""
            lines.append(f"{'  ' * depth}+ {_short_type(r.type):<40} {r.name}{at}" + (f"  — {desc}" if desc else ""))
            walk(r.urn, depth + 1)

    walk(None, 0)
    data = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": r.inputs,
            "outputs": r.outputs,
            "dependencies": r.dependencies,
            "propertyDependencies": {k: v for k, v in r.property_dependencies.items() if v},
            "ignoreChanges": r.ignore_changes,
            "deleteBeforeReplace": r.delete_before_replace,
            "provider": where[r.urn].provider if r.urn in where else None,
            "region": where[r.urn].region if r.urn in where else None,
        }
        for r in plan.resources
    ]
    custom = sum(r.custom for r in plan.resources)
    return Section(
        f"Resources: {custom} to create, in {len(plan.resources) - custom} components", lines, data, "resources"
    )


_OPS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _num(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else _fmt(value)


def wiring_section(plan: Plan) -> Section:
    """The wake path of every unit, drawn from the same judgement the policy pack makes."""
    paths = sorted(wake_paths(plan), key=lambda p: p.unit.label)
    lines: list[str] = []
    data = []
    for path in paths:
        unit = path.unit
        queued = unit.dimension == wiring.VARIANT_DIMENSION  # an async variant: requests wait in S3
        lines.append(unit.label)
        if path.alarm:
            a = path.alarm
            stat = a.statistic if a.metrics is None else "metric math"
            start = "request queued in S3 at 0 instances" if queued else "request at 0 capacity"
            lines.append(
                f"  {start} -> alarm {_fmt(a.name)}: {_fmt(a.metric)} {_fmt(stat)} "
                f"{_OPS.get(str(a.comparison), _fmt(a.comparison))} {_num(a.threshold)} over {_num(a.period)} s "
                f"({_num(a.datapoints)} of {_num(a.evaluation_periods)})"
            )
        if path.step:
            s = path.step
            adj = s.steps[0].adjustment if isinstance(s.steps, list) and s.steps else "?"
            lines.append(
                f"  -> fires step policy: {_fmt(s.adjustment_type)} {_num(adj)} (cooldown {_num(s.cooldown)} s)"
            )
        if path.target:
            t = path.target
            lines.append(f"  -> scalable target {_fmt(t.resource_id)}: {_num(t.min_capacity)}..{_num(t.max_capacity)}")
            lines.append(
                "  -> an instance starts and works through the queued requests"
                if queued
                else "  -> capacity added; instances follow (managed instance scaling)"
            )
        if path.tracking:
            per = " queued per instance" if queued else ""
            lines.append(f"  idle -> target tracking ({_num(path.tracking.target_value)}{per}) scales back to 0")
        for f in path.verdicts.findings:
            lines.append(f"  BROKEN [{f.kind}] {f.message}")
        for u in path.verdicts.unjudged:
            lines.append(f"  NOT JUDGED {u.ref.rsplit('::', 1)[-1]} {u.what}: {u.why}")
        if not path.verdicts.findings:
            lines.append(
                "  wake path complete" if not path.verdicts.unjudged else "  wake path complete as far as known"
            )
        data.append(
            {
                "unit": unit.label,
                "alarm": path.alarm.ref if path.alarm else None,
                "stepPolicy": path.step.ref if path.step else None,
                "scalableTarget": path.target.ref if path.target else None,
                "targetTracking": path.tracking.ref if path.tracking else None,
                "breaks": [
                    {"rule": f.rule, "kind": f.kind, "urn": f.ref, "message": f.message} for f in path.verdicts.findings
                ],
                "notJudged": [
                    {"rule": u.rule, "urn": u.ref, "what": u.what, "why": u.why} for u in path.verdicts.unjudged
                ],
            }
        )
    if not paths:
        lines.append("no inference components or asynchronous variants (serverless or none declared)")
    broken = any(p.verdicts.findings for p in paths)
    return Section(
        "Scale-to-zero wiring (alarm -> step policy -> scalable target -> capacity)",
        lines,
        data,
        "wiring",
        failed=broken,
    )


def placement_section(plan: Plan) -> Section:
    """Each tenant's providers and regions; fails when one tenant would deploy to two places."""
    seen: dict[str, dict[tuple[str, str], int]] = {}
    for tenant, _r, p in placements(plan.resources, plan.values):
        counts = seen.setdefault(tenant, {})
        counts[(p.where, p.provider)] = counts.get((p.where, p.provider), 0) + 1
    lines = [
        f"{tenant}: " + ", ".join(f"{region} via {provider} ({n})" for (region, provider), n in counts.items())
        for tenant, counts in seen.items()
    ]
    problems = splits(plan.resources, plan.values)
    lines += [f"SPLIT {m}" for m in problems]
    if any(where == FROM_ENVIRONMENT for counts in seen.values() for where, _ in counts):
        lines.append(f"regions shown {FROM_ENVIRONMENT} come from AWS_REGION/the profile when `pulumi up` runs")
    data = {
        "tenants": {
            t: [{"region": w, "provider": p, "resources": n} for (w, p), n in c.items()] for t, c in seen.items()
        },
        "splits": problems,
    }
    return Section("Providers and regions", lines, data, "placement", failed=bool(problems))


def aws_rules_section(plan: Plan) -> Section:
    """What each resource would send, checked against AWS's request models (botocore); fails on any refusal."""
    from sagezero.plan import awsrules

    findings = awsrules.check(plan.resources)
    lines = [f"stack {plan.stack}, {f}" for f in findings] or [
        "every request matches AWS's published rules (required members, enums, ranges, lengths, patterns)"
    ]
    data = [
        {
            "stack": plan.stack,
            "tenant": f.tenant,
            "resource": f.resource,
            "type": f.type,
            "operation": f.operation,
            "field": f.violation.path,
            "rule": f.violation.rule,
        }
        for f in findings
    ]
    return Section("AWS request rules (botocore service models)", lines, data, "awsRules", failed=bool(findings))


SectionBuilder = Callable[[Plan], Section]
DEFAULT_SECTIONS: tuple[SectionBuilder, ...] = (
    resources_section,
    placement_section,
    aws_rules_section,
    wiring_section,
)


def header(plan: Plan) -> list[str]:
    tenants = ", ".join(t.name for t in plan.config.tenants)
    return [
        f"sagezero plan — project {plan.project}, stack {plan.stack}, region {plan.region}",
        f"tenants: {tenants}",
        "offline: the real program ran under Pulumi's mock engine. No AWS call was made and nothing is",
        f"compared with live state. Account {PLACEHOLDER_ACCOUNT}, ARNs, auto-name suffixes and the image",
        "digest are placeholders; run `pulumi preview` for the diff against a deployed stack.",
    ]


def _bold(s: str, stream: TextIO) -> str:
    if stream.isatty() and not os.environ.get("NO_COLOR"):
        return f"\033[1m{s}\033[0m"
    return s


def write_text(plan: Plan, sections: Iterable[Section], stream: TextIO | None = None) -> None:
    stream = stream if stream is not None else sys.stdout  # read at call time: the caller may have redirected it
    out = header(plan)
    for s in sections:
        out += ["", _bold(s.title, stream), *[f"  {line}" for line in s.lines], *[f"  note: {n}" for n in s.notes]]
    stream.write("\n".join(out) + "\n")


def as_json(plan: Plan, sections: Iterable[Section]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "project": plan.project,
        "stack": plan.stack,
        "region": plan.region,
        "offline": True,
        "placeholders": {
            "account": PLACEHOLDER_ACCOUNT,
            "note": "ARNs, auto-name suffixes and digests are placeholders",
        },
        "tenants": [t.name for t in plan.config.tenants],
        "exports": plan.exports,
    }
    for s in sections:
        doc[s.key] = s.data
    return doc
