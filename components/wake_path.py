"""The scaling a unit that sits at zero gets: scalable target (min 0), target tracking to go down (and up
under load), and a step policy fired by an alarm to come back from zero.

One declaration for both kinds of unit — an inference component's copies and an async variant's
instances — so the two wake paths cannot drift apart; only what they count and the metrics they watch
differ. Never creates resources inside `.apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from sagezero import wiring
from sagezero.settings import EndpointSettings


@dataclass(frozen=True)
class Unit:
    """What differs between the two kinds of unit."""

    resource_id: pulumi.Input[str]
    dimension: str
    max_capacity: int
    tracking: Mapping[str, Any]
    """The metric half of the target-tracking configuration (predefined or customized)."""
    target_value: float
    wake_metric: str
    wake_dimensions: Mapping[str, pulumi.Input[str]]
    wake_statistic: str
    step_aggregation: str
    description: str
    """The alarm's description: what wakes, and why."""


@dataclass(frozen=True)
class WakePath:
    target: aws.appautoscaling.Target
    tracking: aws.appautoscaling.Policy
    step: aws.appautoscaling.Policy
    alarm: aws.cloudwatch.MetricAlarm


def declare(
    *,
    name: str,
    base: str,
    s: EndpointSettings,
    unit: Unit,
    tags: pulumi.Input[Mapping[str, str]],
    child: pulumi.ResourceOptions,
    target_opts: pulumi.ResourceOptions,
) -> WakePath:
    """The four resources, each policy tied to the target by its outputs (so the pack follows the links
    in a preview) and created after it (App Auto Scaling refuses a policy on an unregistered target)."""
    target = aws.appautoscaling.Target(
        f"{name}-target",
        service_namespace=wiring.SERVICE_NAMESPACE,
        resource_id=unit.resource_id,
        scalable_dimension=unit.dimension,
        min_capacity=0,
        max_capacity=unit.max_capacity,
        tags=tags,
        opts=target_opts,
    )
    on_target = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[target]))
    tracking = aws.appautoscaling.Policy(
        f"{name}-target-tracking",
        name=f"{base}-target-tracking",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        target_tracking_scaling_policy_configuration=cast(
            aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgsDict,
            {
                **unit.tracking,
                "target_value": unit.target_value,
                "scale_in_cooldown": s.scale_in_cooldown_s,
                "scale_out_cooldown": s.scale_out_cooldown_s,
            },
        ),
        opts=on_target,
    )
    step = aws.appautoscaling.Policy(
        f"{name}-wake-from-zero",
        name=f"{base}-wake-from-zero",
        policy_type="StepScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        step_scaling_policy_configuration={
            "adjustment_type": "ChangeInCapacity",
            "metric_aggregation_type": unit.step_aggregation,
            "cooldown": s.step_cooldown_s,
            "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": s.step_adjustment}],
        },
        opts=on_target,
    )
    alarm = aws.cloudwatch.MetricAlarm(
        f"{name}-no-capacity",
        name=f"{base}-no-capacity",
        alarm_description=unit.description,
        namespace=wiring.ALARM_NAMESPACE,
        metric_name=unit.wake_metric,
        dimensions=unit.wake_dimensions,
        statistic=unit.wake_statistic,
        period=s.alarm_period_s,
        evaluation_periods=s.alarm_evaluation_periods,
        datapoints_to_alarm=s.alarm_datapoints,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        # SageMaker stops publishing when idle: missing data must not hold the alarm in ALARM or trip it.
        treat_missing_data="missing",
        alarm_actions=[step.arn],
        tags=tags,
        opts=child,
    )
    return WakePath(target, tracking, step, alarm)
