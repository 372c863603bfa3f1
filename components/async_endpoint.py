"""An asynchronous endpoint whose variant scales to zero instances and wakes on its own backlog.

AWS's documented wiring ("Autoscale an asynchronous endpoint"): endpoint config with an
AsyncInferenceConfig -> endpoint -> scalable target on the variant's DesiredInstanceCount (min 0) ->
target tracking on ApproximateBacklogSizePerInstance (down, and up under load) + a step policy fired by
the HasBacklogWithoutCapacity alarm (up from zero: tracking alone waits until the backlog passes its
target). Requests wait in S3 while it wakes, so nothing is refused at zero. Never creates resources
inside `.apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from sagezero import awsmodel, wiring
from sagezero.components import wake_path
from sagezero.components.async_storage import Storage
from sagezero.settings import EndpointSettings, Problem, SettingsError

INPUT_TAG = "sagezero:async-input"
"""Endpoint tag holding the `s3://<bucket>/<base>/input/` prefix (the ops client reads it via ListTags)."""
TIMEOUT_TAG = "sagezero:async-invocation-timeout-s"
"""Endpoint tag holding the invocation timeout the client sends as InvocationTimeoutSeconds."""


@dataclass(frozen=True)
class AsyncEndpoint:
    """What the component reports of an asynchronous tenant."""

    endpoint_name: pulumi.Output[str]
    endpoint_config_name: pulumi.Output[str]
    alarm_name: pulumi.Output[str]
    step_policy_arn: pulumi.Output[str]
    target_policy_arn: pulumi.Output[str]


def endpoint_tags(
    where: str, tags: pulumi.Input[Mapping[str, str]], input_url: pulumi.Input[str], timeout_s: int
) -> pulumi.Output[dict[str, str]]:
    """The endpoint's tags: the tenant's, plus where requests go and how long one may run (the client
    learns both from the endpoint alone, so it needs no stack outputs). The two extra tags count against
    AWS's limit of 50, so the full set is checked again, naming the setting to shorten."""

    def full(values: list[Any]) -> dict[str, str]:
        merged = {**values[0], INPUT_TAG: str(values[1]), TIMEOUT_TAG: str(timeout_s)}
        found = awsmodel.check_member(
            "sagemaker", "CreateEndpoint", "Tags", [{"Key": k, "Value": v} for k, v in merged.items()]
        )
        if found:
            raise SettingsError(
                [
                    Problem("tags", f"with the two async endpoint tags: {v.rule} (AWS CreateEndpoint {v.path})")
                    for v in found
                ],
                where,
            )
        return merged

    return pulumi.Output.all(tags, input_url).apply(full)


def declare(
    *,
    where: str,
    name: str,
    base: str,
    s: EndpointSettings,
    model: aws.sagemaker.Model,
    storage: Storage,
    kms_key_arn: pulumi.Input[str] | None,
    tags: pulumi.Input[Mapping[str, str]],
    child: pulumi.ResourceOptions,
) -> AsyncEndpoint:
    """Every resource of the async wake path, linked by the values the engine passes (so the policy pack
    can follow each link in a preview)."""
    output: aws.sagemaker.EndpointConfigurationAsyncInferenceConfigOutputConfigArgsDict = {
        "s3_output_path": storage.layout.output,
        "s3_failure_path": storage.layout.failure,
    }
    if kms_key_arn:
        output["kms_key_id"] = kms_key_arn
    notices: aws.sagemaker.EndpointConfigurationAsyncInferenceConfigOutputConfigNotificationConfigArgsDict = {}
    if storage.success_topic_arn is not None:
        notices["success_topic"] = storage.success_topic_arn
    if storage.error_topic_arn is not None:
        notices["error_topic"] = storage.error_topic_arn
    if notices:
        output["notification_config"] = notices
    variant: aws.sagemaker.EndpointConfigurationProductionVariantArgsDict = {
        "variant_name": s.variant_name,
        "model_name": model.name,
        "instance_type": s.instance_type,
        "initial_instance_count": 1,
        "model_data_download_timeout_in_seconds": s.model_download_timeout_s,
        "container_startup_health_check_timeout_in_seconds": s.container_startup_timeout_s,
        # No RoutingConfig: an async endpoint's own queue hands requests to instances with free slots
        # (MaxConcurrentInvocationsPerInstance), and AWS documents routing strategies for real-time traffic only.
    }
    config = aws.sagemaker.EndpointConfiguration(
        f"{name}-config",
        production_variants=[variant],
        async_inference_config={
            "output_config": output,
            "client_config": {"max_concurrent_invocations_per_instance": s.async_max_concurrent_invocations},
        },
        kms_key_arn=kms_key_arn,
        tags=tags,
        # The bucket's encryption, public-access block and policy are in place before anything is written.
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=storage.ready)),
    )
    endpoint = aws.sagemaker.Endpoint(
        f"{name}-endpoint",
        name=base,
        endpoint_config_name=config.name,
        tags=endpoint_tags(where, tags, storage.layout.input, s.async_invocation_timeout_s),
        opts=child,
    )
    path = wake_path.declare(
        name=name,
        base=base,
        s=s,
        unit=wake_path.Unit(
            resource_id=endpoint.name.apply(lambda n: wiring.variant_resource_id(n, s.variant_name)),
            dimension=wiring.VARIANT_DIMENSION,
            max_capacity=s.max_instance_count,
            tracking={
                "customized_metric_specification": {
                    "metric_name": wiring.BACKLOG_TRACKING_METRIC,
                    "namespace": wiring.ALARM_NAMESPACE,
                    "dimensions": [{"name": wiring.ENDPOINT_DIMENSION, "value": endpoint.name}],
                    "statistic": "Average",
                }
            },
            target_value=s.async_backlog_target,
            wake_metric=wiring.BACKLOG_WAKE_METRIC,
            wake_dimensions={wiring.ENDPOINT_DIMENSION: endpoint.name},
            wake_statistic="Average",
            # HasBacklogWithoutCapacity is 0 or 1 per sample: Average and Maximum agree on a breach.
            step_aggregation="Average",
            description=(
                f"Wakes {base} from zero instances: requests are queued and no instance is running, "
                "so the step policy adds an instance."
            ),
        ),
        tags=tags,
        child=child,
        target_opts=child,
    )
    return AsyncEndpoint(endpoint.name, config.name, path.alarm.name, path.step.arn, path.tracking.arn)
