"""Generated from sagezero.settings.EndpointSettings by `python -m sagezero.components.argsgen`: do not edit.

The component's arguments; Pulumi infers the multi-language schema from this class.
"""

from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi

from sagezero.settings import Mode

__all__ = ["ScaleToZeroEndpointArgs"]


class ScaleToZeroEndpointArgs(TypedDict):
    """Arguments for a ScaleToZeroEndpoint. Every setting has a default (the seed's values)."""

    image_uri: NotRequired[pulumi.Input[str]]
    """Existing private-ECR image to serve. When absent, the component builds `image_context` and pushes it."""
    image_repository_arn: NotRequired[pulumi.Input[str]]
    """ARN of the ECR repository holding `image_uri` (derived from the URI when absent)."""
    image_context: NotRequired[str]
    """Docker build context to build when no `image_uri` is given. Default: sagezero's own `image/` (a source checkout)."""
    execution_role_arn: NotRequired[pulumi.Input[str]]
    """Existing SageMaker execution role. When absent, a least-privilege role is created."""
    name_prefix: NotRequired[str]
    """Base of the AWS names (endpoint, inference component, alarm, policies). Default: `<name>-<stack>`."""
    mode: NotRequired[Mode]
    """`scale-to-zero` (real-time endpoint + inference component), `async` (requests queue in S3 while the endpoint wakes from zero instances) or `serverless`. Default: scale-to-zero."""
    instance_type: NotRequired[str]
    """ML instance type; any of AWS's hosting types (ProductionVariantInstanceType). Default: ml.g5.xlarge."""
    variant_name: NotRequired[str]
    """Production variant name. Default: AllTraffic."""
    max_instance_count: NotRequired[int]
    """Upper bound for managed instance scaling (the lower bound is always 0). 1-100. Default: 1."""
    max_copies: NotRequired[int]
    """Upper bound for inference-component copies (the lower bound is always 0). 1-100. Default: 1."""
    min_memory_mb: NotRequired[int]
    """Memory each copy reserves, MiB. 128-786432. Default: 1024."""
    accelerators: NotRequired[int]
    """Accelerator devices each copy needs. 0-16. Default: 1 on GPU/Inferentia/Trainium/Gaudi types, 0 on CPU types, serverless and async."""
    cpu_cores: NotRequired[float]
    """CPU cores each copy needs (optional). 0.25-192."""
    model_download_timeout_s: NotRequired[int]
    """Model data download timeout, s. 60-3600. Default: 3600."""
    container_startup_timeout_s: NotRequired[int]
    """Container startup health-check timeout, s. 60-3600. Default: 3600."""
    target_value: NotRequired[float]
    """Target concurrent requests per copy for target tracking. 0.1-10000. Default: 5."""
    scale_in_cooldown_s: NotRequired[int]
    """Target-tracking scale-in cooldown, s. 0-3600. Default: 300."""
    scale_out_cooldown_s: NotRequired[int]
    """Target-tracking scale-out cooldown, s. 0-3600. Default: 300."""
    step_cooldown_s: NotRequired[int]
    """Cooldown of the wake-from-zero step policy, s (about a cold start, so one wake adds one copy). 0-3600. Default: 360."""
    step_adjustment: NotRequired[int]
    """Copies the step policy adds when the alarm fires. 1-100. Default: 1."""
    alarm_period_s: NotRequired[int]
    """Period of the NoCapacityInvocationFailures alarm, s (10, 20, 30 or n x 60). 10-86400. Default: 30."""
    alarm_evaluation_periods: NotRequired[int]
    """Evaluation periods of the alarm. 1-100. Default: 1."""
    alarm_datapoints: NotRequired[int]
    """Datapoints that must breach to fire the alarm. 1-100. Default: 1."""
    serverless_memory_mb: NotRequired[int]
    """Serverless mode: memory, MiB, in steps of 1024. 1024-6144. Default: 2048."""
    serverless_max_concurrency: NotRequired[int]
    """Serverless mode: max concurrency. 1-200. Default: 20."""
    serverless_provisioned_concurrency: NotRequired[int]
    """Serverless mode: provisioned concurrency (a standing cost). 0-200. Default: 0."""
    model_data_url: NotRequired[pulumi.Input[str]]
    """s3:// URL of model artifacts (optional); the role may read only that prefix."""
    environment: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Container environment, at most 16 entries."""
    kms_key_arn: NotRequired[pulumi.Input[str]]
    """KMS key for the endpoint's storage volume."""
    tags: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Tags applied to every taggable child."""
    vpc_subnet_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Subnets the model's containers run in (with the security groups), 1-16."""
    vpc_security_group_ids: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Security groups of the model's containers (with the subnets), 1-5."""
    network_isolation: NotRequired[bool]
    """Run the container without network access (SageMaker still copies the model data in). Default: false."""
    async_bucket: NotRequired[pulumi.Input[str]]
    """Async mode: an existing S3 bucket for requests, results and failures (default: the component creates a private, encrypted one with lifecycle expiry)."""
    async_expiry_days: NotRequired[int]
    """Async mode: days the created bucket keeps requests, results and failures. 1-3650. Default: 7."""
    async_max_concurrent_invocations: NotRequired[int]
    """Async mode: requests one instance works on at once (MaxConcurrentInvocationsPerInstance). 1-1000. Default: 4."""
    async_invocation_timeout_s: NotRequired[int]
    """Async mode: longest one request may run, s (sent as InvocationTimeoutSeconds). 1-3600. Default: 900."""
    async_backlog_target: NotRequired[float]
    """Async mode: queued requests per instance that target tracking holds (ApproximateBacklogSizePerInstance). 0.1-10000. Default: 5."""
    async_notifications: NotRequired[bool]
    """Async mode: create SNS topics the endpoint publishes success and error notices to. Default: false."""
    async_success_topic_arn: NotRequired[pulumi.Input[str]]
    """Async mode: an existing SNS topic for success notices (instead of asyncNotifications)."""
    async_error_topic_arn: NotRequired[pulumi.Input[str]]
    """Async mode: an existing SNS topic for error notices (instead of asyncNotifications)."""
