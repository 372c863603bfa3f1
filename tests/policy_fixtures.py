"""Compliant baselines for the policy tests: sagezero's own component, and the same wiring by hand in aws-native."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sagezero.engine_wiring import EngineResource

KMS = "arn:aws:kms:eu-west-1:123456789012:key/abc"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/model@sha256:" + "a" * 64


def component_baseline() -> list[EngineResource]:
    """One tenant from ScaleToZeroEndpoint, as the engine receives it (outputs over inputs)."""
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan.engine import evaluate

    def program() -> None:
        from sagezero.components import InferenceImage

        InferenceImage("image", {})
        ScaleToZeroEndpoint("acme", {"image_uri": IMAGE, "kms_key_arn": KMS, "tags": {"cost-center": "ml"}})

    rec = evaluate(program, stack="dev", region="eu-west-1")
    return [r.engine() for r in rec.resources if r.custom]


def _urn(t: str, name: str) -> str:
    return f"urn:pulumi:dev::byhand::{t}::{name}"


def native_baseline() -> list[EngineResource]:
    """The seed's wiring written by hand with aws-native resources, linked by values (as after `pulumi up`)."""
    ic = "byhand-ic"
    step_arn = f"arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:x:resource/sagemaker/inference-component/{ic}:policyName/wake"
    tags = [{"key": "cost-center", "value": "ml"}]
    items: list[tuple[str, str, dict[str, Any]]] = [
        (
            "aws-native:sagemaker:EndpointConfig",
            "config",
            {
                "endpointConfigName": "byhand-config",
                "executionRoleArn": "arn:aws:iam::123456789012:role/r",
                "kmsKeyId": KMS,
                "tags": tags,
                "productionVariants": [
                    {
                        "variantName": "AllTraffic",
                        "instanceType": "ml.g5.xlarge",
                        "initialInstanceCount": 1.0,
                        "containerStartupHealthCheckTimeoutInSeconds": 600.0,
                        "managedInstanceScaling": {
                            "status": "ENABLED",
                            "minInstanceCount": 0.0,
                            "maxInstanceCount": 2.0,
                        },
                        "routingConfig": {"routingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                    }
                ],
            },
        ),
        (
            "aws-native:sagemaker:Endpoint",
            "endpoint",
            {"endpointName": "byhand", "endpointConfigName": "byhand-config", "tags": tags},
        ),
        (
            "aws-native:sagemaker:InferenceComponent",
            "ic",
            {
                "inferenceComponentName": ic,
                "endpointName": "byhand",
                "variantName": "AllTraffic",
                "tags": tags,
                "specification": {
                    "modelName": "m",
                    "startupParameters": {"containerStartupHealthCheckTimeoutInSeconds": 600.0},
                    "computeResourceRequirements": {"minMemoryRequiredInMb": 1024.0},
                },
                "runtimeConfig": {"copyCount": 1.0},
            },
        ),
        (
            "aws-native:applicationautoscaling:ScalableTarget",
            "target",
            {
                "serviceNamespace": "sagemaker",
                "resourceId": f"inference-component/{ic}",
                "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                "minCapacity": 0.0,
                "maxCapacity": 2.0,
            },
        ),
        (
            "aws-native:applicationautoscaling:ScalingPolicy",
            "tracking",
            {
                "policyName": "tracking",
                "policyType": "TargetTrackingScaling",
                "serviceNamespace": "sagemaker",
                "resourceId": f"inference-component/{ic}",
                "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                "targetTrackingScalingPolicyConfiguration": {
                    "predefinedMetricSpecification": {
                        "predefinedMetricType": "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
                    },
                    "targetValue": 5.0,
                },
            },
        ),
        (
            "aws-native:applicationautoscaling:ScalingPolicy",
            "wake",
            {
                "policyName": "wake",
                "policyType": "StepScaling",
                "serviceNamespace": "sagemaker",
                "resourceId": f"inference-component/{ic}",
                "scalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                "arn": step_arn,
                "stepScalingPolicyConfiguration": {
                    "adjustmentType": "ChangeInCapacity",
                    "metricAggregationType": "Maximum",
                    "cooldown": 300.0,  # covers a cold start: two copies are allowed
                    "stepAdjustments": [{"metricIntervalLowerBound": 0.0, "scalingAdjustment": 1.0}],
                },
            },
        ),
        (
            "aws-native:cloudwatch:Alarm",
            "alarm",
            {
                "alarmName": "byhand-no-capacity",
                "namespace": "AWS/SageMaker",
                "metricName": "NoCapacityInvocationFailures",
                "dimensions": [{"name": "InferenceComponentName", "value": ic}],
                "statistic": "Maximum",
                "period": 30.0,
                "evaluationPeriods": 1.0,
                "datapointsToAlarm": 1.0,
                "threshold": 1.0,
                "comparisonOperator": "GreaterThanOrEqualToThreshold",
                "treatMissingData": "missing",
                "alarmActions": [step_arn],
            },
        ),
    ]
    return [EngineResource(t, _urn(t, n), p, {}, n) for t, n, p in items]


def mutate(resources: list[EngineResource], name: str, change: Callable[[dict[str, Any]], Any]) -> list[EngineResource]:
    """A deep copy with one resource's properties changed (or the resource dropped if change returns "drop")."""
    out = []
    found = False
    for r in resources:
        if r.name == name:
            found = True
            props = copy.deepcopy(dict(r.props))
            if change(props) == "drop":
                continue
            out.append(
                EngineResource(r.type, r.urn, props, copy.deepcopy(dict(r.property_dependencies)), r.name, r.parent)
            )
        else:
            out.append(r)
    assert found, f"no resource named {name}"
    return out


def unlink(resources: list[EngineResource], name: str, prop: str) -> list[EngineResource]:
    """Drop one property dependency, as if the program had hard-coded the value instead."""
    out = []
    for r in resources:
        deps = dict(r.property_dependencies)
        if r.name == name:
            deps.pop(prop, None)
        out.append(EngineResource(r.type, r.urn, r.props, deps, r.name, r.parent))
    return out


def async_baseline() -> list[EngineResource]:
    """An asynchronous endpoint whose variant scales to zero instances and wakes on its backlog (AWS's
    documented wiring, by hand in aws-native, linked by values)."""
    ep = "queued"
    rid = f"endpoint/{ep}/variant/AllTraffic"
    dim = "sagemaker:variant:DesiredInstanceCount"
    step_arn = f"arn:aws:autoscaling:eu-west-1:123456789012:scalingPolicy:y:resource/sagemaker/{rid}:policyName/wake"
    tags = [{"key": "cost-center", "value": "ml"}]
    items: list[tuple[str, str, dict[str, Any]]] = [
        ("aws-native:sagemaker:EndpointConfig", "aconfig", {
            "endpointConfigName": "queued-config", "kmsKeyId": KMS, "tags": tags,
            "asyncInferenceConfig": {"outputConfig": {"s3OutputPath": "s3://bucket/out/"}},
            "productionVariants": [{"variantName": "AllTraffic", "modelName": "m", "instanceType": "ml.g5.xlarge",
                                    "initialInstanceCount": 1.0, "containerStartupHealthCheckTimeoutInSeconds": 600.0,
                                    "routingConfig": {"routingStrategy": "LEAST_OUTSTANDING_REQUESTS"}}],
        }),
        ("aws-native:sagemaker:Endpoint", "aendpoint", {"endpointName": ep, "endpointConfigName": "queued-config",
                                                        "tags": tags}),
        ("aws-native:applicationautoscaling:ScalableTarget", "atarget", {
            "serviceNamespace": "sagemaker", "resourceId": rid, "scalableDimension": dim,
            "minCapacity": 0.0, "maxCapacity": 2.0,
        }),
        ("aws-native:applicationautoscaling:ScalingPolicy", "atracking", {
            "policyName": "backlog", "policyType": "TargetTrackingScaling", "serviceNamespace": "sagemaker",
            "resourceId": rid, "scalableDimension": dim,
            "targetTrackingScalingPolicyConfiguration": {"targetValue": 5.0, "customizedMetricSpecification": {
                "namespace": "AWS/SageMaker", "metricName": "ApproximateBacklogSizePerInstance",
                "dimensions": [{"name": "EndpointName", "value": ep}], "statistic": "Average"}},
        }),
        ("aws-native:applicationautoscaling:ScalingPolicy", "awake", {
            "policyName": "wake", "policyType": "StepScaling", "serviceNamespace": "sagemaker",
            "resourceId": rid, "scalableDimension": dim, "arn": step_arn,
            "stepScalingPolicyConfiguration": {"adjustmentType": "ChangeInCapacity", "cooldown": 300.0,
                "metricAggregationType": "Average",
                "stepAdjustments": [{"metricIntervalLowerBound": 0.0, "scalingAdjustment": 1.0}]},
        }),
        ("aws-native:cloudwatch:Alarm", "aalarm", {
            "alarmName": "queued-backlog", "namespace": "AWS/SageMaker", "metricName": "HasBacklogWithoutCapacity",
            "dimensions": [{"name": "EndpointName", "value": ep}], "statistic": "Average", "period": 60.0,
            "evaluationPeriods": 2.0, "datapointsToAlarm": 2.0, "threshold": 1.0,
            "comparisonOperator": "GreaterThanOrEqualToThreshold", "treatMissingData": "missing",
            "alarmActions": [step_arn],
        }),
    ]  # fmt: skip
    return [EngineResource(t, _urn(t, n), p, {}, n) for t, n, p in items]


def two_tenants() -> list[EngineResource]:
    """Two tenants of the component in one stack, as a preview declares them."""
    from sagezero.components import ScaleToZeroEndpoint
    from sagezero.plan.engine import evaluate

    def program() -> None:
        for name in ("acme", "globex"):
            ScaleToZeroEndpoint(name, {"image_uri": IMAGE, "kms_key_arn": KMS, "tags": {"cost-center": "ml"}})

    rec = evaluate(program, stack="dev", region="eu-west-1")
    return [r.engine() for r in rec.resources if r.custom]


def first_preview(resources: list[EngineResource], tenant: str) -> list[EngineResource]:
    """As in a first `pulumi preview`: the tenant's step-policy ARN, and so its alarm's actions, are not known yet."""
    from sagezero.engine_wiring import ENGINE_UNKNOWN

    out = mutate(resources, f"{tenant}-wake-from-zero", lambda p: p.update(arn=ENGINE_UNKNOWN))
    return mutate(out, f"{tenant}-no-capacity", lambda p: p.update(alarmActions=[ENGINE_UNKNOWN]))
