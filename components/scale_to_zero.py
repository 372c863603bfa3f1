"""ScaleToZeroEndpoint: everything the seed wired by hand, declared once and correct by construction.

Model -> endpoint config (min 0 instances) -> endpoint -> inference component -> scalable target
(min 0) -> target-tracking policy (down) + step policy fired by the NoCapacityInvocationFailures
alarm (up). In async mode the variant itself scales to zero instances and wakes on its S3 backlog
(`async_endpoint`, `async_storage`). Never creates resources inside `.apply`, never reads stack config.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from sagezero import awsmodel, wiring
from sagezero.components import async_endpoint, async_storage, inputs, wake_path
from sagezero.components.args import ScaleToZeroEndpointArgs
from sagezero.components.execution_role import ExecutionRole, ecr_region, ecr_repository_arn
from sagezero.components.inference_image import InferenceImage
from sagezero.components.naming import physical_base
from sagezero.components.providers import matched
from sagezero.settings import ASYNC_FIELDS, EndpointSettings, Mode, Problem, SettingsError, build_settings
from sagezero.stackconfig import SECRET_PLACEHOLDER, secret_placeholder

TYPE_TOKEN = "sagezero:index:ScaleToZeroEndpoint"
Tags = pulumi.Input[Mapping[str, str]]


_NOT_SETTINGS = {"image_uri", "image_repository_arn", "image_context", "execution_role_arn", "name_prefix"}


def settings_from_args(name: str, args: Mapping[str, Any]) -> EndpointSettings:
    """Validated settings (of the values known now), or a ValueError naming the component and each field."""
    raw = {k: v for k, v in args.items() if k not in _NOT_SETTINGS}
    settings, problems = build_settings(raw, camel_keys=False)
    if problems or settings is None:
        raise SettingsError(problems, f"ScaleToZeroEndpoint {name!r}")
    return settings


def _aws_problems(key: str, checks: list[tuple[str, str, str, Any]]) -> list[Problem]:
    return [
        Problem(key, f"{v.rule} (AWS {operation} {v.path})")
        for service, operation, member, value in checks
        for v in awsmodel.check_member(service, operation, member, value)
    ]


def name_problems(base: str) -> list[Problem]:
    """The physical names the children get from `base`, against AWS's request rules."""
    return _aws_problems(
        "name_prefix",
        [
            ("sagemaker", "CreateEndpoint", "EndpointName", base),
            ("sagemaker", "CreateInferenceComponent", "InferenceComponentName", f"{base}-ic"),
            ("cloudwatch", "PutMetricAlarm", "AlarmName", f"{base}-no-capacity"),
            ("application-autoscaling", "PutScalingPolicy", "PolicyName", f"{base}-target-tracking"),
        ],
    )


AUTO_NAME_SUFFIX = "-0000000"
"""What Pulumi appends to a logical name to auto-name a resource: a hyphen and seven random hex digits."""


def logical_name_problems(name: str) -> list[Problem]:
    """The auto-names Pulumi derives for the model and endpoint config (`<name>-model-1a2b3c4`), against
    AWS's request rules: they would otherwise fail only at `pulumi up`."""
    found = [
        v
        for operation, member, child in (
            ("CreateModel", "ModelName", f"{name}-model{AUTO_NAME_SUFFIX}"),
            ("CreateEndpointConfig", "EndpointConfigName", f"{name}-config{AUTO_NAME_SUFFIX}"),
        )
        for v in awsmodel.check_member("sagemaker", operation, member, child)
    ]
    if not found:
        return []
    return [
        Problem(
            "name",
            f"{name!r} gives the model and endpoint config auto-names such as '{name}-config-1a2b3c4', which AWS "
            f"refuses ({found[0].rule}); use a name of letters, digits and hyphens (starting and ending with a "
            f"letter or digit), at most {63 - len('-config') - len(AUTO_NAME_SUFFIX)} characters",
        )
    ]


def vpc_config(where: str, subnets: Any, groups: Any) -> dict[str, Any] | None:
    """The model's VpcConfig once both lists are known: both or neither (an Input may resolve to None or
    an empty list after the pairing was checked at construction), never half a VPC."""
    if bool(subnets) != bool(groups):
        missing = "vpc_subnet_ids" if not subnets else "vpc_security_group_ids"
        raise SettingsError(
            [
                Problem(
                    missing,
                    "resolved to nothing while its partner has values: a VPC needs both subnets and security "
                    "groups (AWS VpcConfig); give vpc_subnet_ids and vpc_security_group_ids together",
                )
            ],
            where,
        )
    return {"subnets": list(subnets), "security_group_ids": list(groups)} if subnets else None


def same_region_image(where: str, image_uri: str, region: str) -> str:
    """`image_uri` when its ECR registry is in `region` (SageMaker pulls a model's image only from its own
    region), else a ValueError with the fix. An unknown region (the environment's, a secret) passes."""
    image_region = ecr_region(image_uri)
    if image_region and region and not secret_placeholder(region) and image_region != region:
        raise ValueError(
            f"{where}: image {image_uri!r} is in ECR in {image_region} but the endpoint deploys to {region}; "
            f"SageMaker pulls a model's image only from its own region: push (or replicate) the image to ECR in "
            f"{region} and use that URI, or deploy this endpoint to {image_region}"
        )
    return image_uri


def kms_region(key: str) -> str | None:
    """The region of a KMS key (or alias) ARN, or None for a bare key id or alias name."""
    parts = key.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "kms" and parts[3] else None


def same_region_key(where: str, key: str | None, region: str) -> str | None:
    """`key` when its ARN names `region` (or no region, or the region is unknown), else a ValueError with
    the fix: KMS keys are regional, so the endpoint config, the async bucket's encryption and the topics
    could not use a key from another region."""
    # The plan's stand-in for an undecrypted `secure:` key names no real region.
    key_region = kms_region(key) if isinstance(key, str) and SECRET_PLACEHOLDER not in key else None
    if key_region and region and not secret_placeholder(region) and key_region != region:
        raise ValueError(
            f"{where}: kms_key_arn {key!r} is a key in {key_region} but the endpoint deploys to {region}; KMS keys "
            f"are regional (SageMaker, S3 and SNS use only a key of their own region): use a key (or a multi-Region "
            f"replica) in {region}"
        )
    return key


def tag_problems(tags: Mapping[str, str]) -> list[Problem]:
    """The full tag set every child carries (the component's own tags included), against AWS's limits."""
    return _aws_problems(
        "tags", [("sagemaker", "CreateEndpoint", "Tags", [{"Key": k, "Value": v} for k, v in tags.items()])]
    )


class ScaleToZeroEndpoint(pulumi.ComponentResource):
    """An isolated SageMaker endpoint that costs nothing while idle and wakes itself on the first request."""

    endpoint_name: pulumi.Output[str]
    """Name of the SageMaker endpoint."""
    inference_component_name: pulumi.Output[str]
    """Name of the inference component (pass it as InferenceComponentName when invoking). Empty in serverless mode."""
    image_uri: pulumi.Output[str]
    """Image the model serves."""
    role_arn: pulumi.Output[str]
    """Execution role ARN."""
    alarm_name: pulumi.Output[str]
    """Name of the alarm that wakes the endpoint (NoCapacityInvocationFailures; HasBacklogWithoutCapacity in async
    mode). Empty in serverless mode."""
    step_policy_arn: pulumi.Output[str]
    """ARN of the wake-from-zero step-scaling policy. Empty in serverless mode."""
    target_policy_arn: pulumi.Output[str]
    """ARN of the target-tracking policy that scales copies (async mode: instances) back to zero. Empty in serverless mode."""
    endpoint_config_name: pulumi.Output[str]
    """Name of the endpoint configuration."""
    model_name: pulumi.Output[str]
    """Name of the SageMaker model."""
    region: pulumi.Output[str]
    """Region every child deploys to (empty when it comes from the environment)."""
    async_input_location: pulumi.Output[str]
    """Async mode: s3:// prefix requests are uploaded under before InvokeEndpointAsync. Empty in other modes."""
    async_output_location: pulumi.Output[str]
    """Async mode: s3:// prefix SageMaker writes answers under. Empty in other modes."""
    async_failure_location: pulumi.Output[str]
    """Async mode: s3:// prefix SageMaker writes errors under. Empty in other modes."""
    async_bucket_name: pulumi.Output[str]
    """Async mode: the bucket holding the three prefixes (created or given). Empty in other modes."""
    async_success_topic_arn: pulumi.Output[str]
    """Async mode: SNS topic for success notices, if any. Empty otherwise."""
    async_error_topic_arn: pulumi.Output[str]
    """Async mode: SNS topic for error notices, if any. Empty otherwise."""

    def __init__(self, name: str, args: ScaleToZeroEndpointArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        where = f"ScaleToZeroEndpoint {name!r}"
        known, later = inputs.split(args)
        s = settings_from_args(name, known)
        if bool(args.get("vpc_subnet_ids")) != bool(args.get("vpc_security_group_ids")):
            raise SettingsError(
                s.problems() or [Problem("vpc_subnet_ids", "give vpc_security_group_ids with it")], where
            )
        self._declare(name, where, s, inputs.resolve(where, s, later), args)

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: EndpointSettings,
        args: Mapping[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> "ScaleToZeroEndpoint":
        """The component from settings (from the stack config, or built by hand): no settings -> dict ->
        settings round trip, but checked again (~0.2 ms), since a hand-built `EndpointSettings(mode=ASYNC)`
        keeps the real-time alarm period and accelerator defaults that only the parser replaces. `args` holds only what is not a setting (image, role,
        name prefix) and Inputs that stand in for a setting's value (validated when they resolve)."""
        extra = dict(args or {})
        unknown = sorted(set(extra) - _NOT_SETTINGS - set(inputs.INPUT_FIELDS))
        if unknown:
            raise ValueError(f"ScaleToZeroEndpoint {name!r}: {', '.join(unknown)} belong in the settings, not args")
        self = cls.__new__(cls)
        pulumi.ComponentResource.__init__(self, TYPE_TOKEN, name, {}, opts)
        where = f"ScaleToZeroEndpoint {name!r}"
        settings.validated(where)
        later = {k: v for k, v in extra.items() if k in inputs.INPUT_FIELDS}
        self._declare(name, where, settings, inputs.resolve(where, settings, later), extra)
        return self

    def _declare(
        self, name: str, where: str, s: EndpointSettings, given: inputs.Resolved, args: Mapping[str, Any]
    ) -> None:
        self._given = given
        stray = [f for f in ASYNC_FIELDS if f in inputs.INPUT_FIELDS and getattr(given, f) is not None]
        if stray and s.mode is not Mode.ASYNC:  # Inputs given beside settings (from_settings) were not checked yet
            raise SettingsError(
                [
                    Problem(f, f"only async mode uses it but mode is {s.mode.value}; set mode: async or remove it")
                    for f in stray
                ],
                where,
            )
        # Every child in one region and account: the aws-native inference component follows the aws provider.
        placed = matched(self, where, native_needed=s.mode is Mode.SCALE_TO_ZERO)
        self._native_provider = placed.native
        self.region = placed.region
        if given.kms_key_arn is not None:
            key = given.kms_key_arn
            if isinstance(key, str) and placed.aws is None:  # default providers: the region is known now
                same_region_key(where, key, pulumi.Config("aws").get("region") or "")
            checked: pulumi.Output[Any] = pulumi.Output.all(key, self.region).apply(
                lambda v: same_region_key(where, *v)
            )
            self._given = given = dataclasses.replace(given, kms_key_arn=checked)
        base = args.get("name_prefix") or physical_base(name, pulumi.get_stack())
        if physical_base(base) != base:
            raise ValueError(
                f"ScaleToZeroEndpoint {name!r}: name_prefix {base!r} must be <= 40 lowercase letters, digits "
                "and single hyphens (SageMaker names are case-insensitive)"
            )
        child = pulumi.ResourceOptions(parent=self)
        problems = logical_name_problems(name) + name_problems(base)
        if problems:
            raise SettingsError(problems, where)
        tags = self._tags(where, base, given.tags)

        image_uri, repository_arn = self._image(name=name, args=args, tags=tags, child=child)
        if isinstance(image_uri, str) and placed.aws is None:  # default providers: the region is known now
            same_region_image(where, image_uri, pulumi.Config("aws").get("region") or "")
        image_uri = pulumi.Output.all(image_uri, self.region).apply(lambda v: same_region_image(where, *v))
        storage = None
        if s.mode is Mode.ASYNC:
            storage = async_storage.storage(
                name,
                base,
                s,
                bucket=given.async_bucket,
                success_topic_arn=given.async_success_topic_arn,
                error_topic_arn=given.async_error_topic_arn,
                kms_key_arn=given.kms_key_arn,
                tags=tags,
                child=child,
            )
        role_arn, role_ready = self._role(
            name=name, args=args, s=s, repository_arn=repository_arn, tags=tags, child=child, base=base, storage=storage
        )
        # Nothing that SageMaker validates against the role may be created before its policy exists.
        after_role = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=role_ready))

        container: aws.sagemaker.ModelPrimaryContainerArgsDict = {
            "image": image_uri,
            "mode": "SingleModel",
            "environment": given.environment,
        }
        if given.model_data_url:
            container["model_data_url"] = given.model_data_url
        model_args: dict[str, Any] = {}
        if given.vpc:
            model_args["vpc_config"] = pulumi.Output.all(given.vpc_subnet_ids, given.vpc_security_group_ids).apply(
                lambda v: vpc_config(where, *v)
            )
        if s.network_isolation:
            model_args["enable_network_isolation"] = True
        model = aws.sagemaker.Model(
            f"{name}-model",
            execution_role_arn=role_arn,
            primary_container=container,
            tags=tags,
            opts=after_role,
            **model_args,
        )

        empty = pulumi.Output.from_input("")
        self.async_input_location = self.async_output_location = self.async_failure_location = empty
        self.async_bucket_name = self.async_success_topic_arn = self.async_error_topic_arn = empty
        if s.mode is Mode.SERVERLESS:
            self._serverless(name=name, base=base, s=s, model=model, tags=tags, child=child)
        elif storage is not None:
            self._async(name=name, base=base, s=s, model=model, storage=storage, tags=tags, child=child)
        else:
            self._scale_to_zero(
                name=name, base=base, s=s, model=model, role_arn=role_arn, tags=tags, child=child, after_role=after_role
            )
        self.image_uri = pulumi.Output.from_input(image_uri)
        self.role_arn = pulumi.Output.from_input(role_arn)
        self.model_name = model.name
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "inference_component_name": self.inference_component_name,
                "image_uri": self.image_uri,
                "role_arn": self.role_arn,
                "alarm_name": self.alarm_name,
                "step_policy_arn": self.step_policy_arn,
                "target_policy_arn": self.target_policy_arn,
                "endpoint_config_name": self.endpoint_config_name,
                "model_name": self.model_name,
                "async_input_location": self.async_input_location,
                "async_output_location": self.async_output_location,
                "async_failure_location": self.async_failure_location,
                "async_bucket_name": self.async_bucket_name,
                "async_success_topic_arn": self.async_success_topic_arn,
                "async_error_topic_arn": self.async_error_topic_arn,
                # The profile check has no resource to gate; the component's own outputs wait for it.
                "region": pulumi.Output.all(self.region, placed.profile).apply(lambda v: str(v[0])),
            }
        )

    @staticmethod
    def _tags(where: str, base: str, user: pulumi.Input[Mapping[str, str]]) -> Tags:
        """The tags every child carries, checked against AWS's tag limits (now, or once they resolve)."""

        def full(t: Mapping[str, str]) -> dict[str, str]:
            merged = {"managed-by": "sagezero", "sagezero:endpoint": base, **t}
            problems = tag_problems(merged)
            if problems:
                raise SettingsError(problems, where)
            return merged

        if isinstance(user, Mapping) and inputs.is_known(user):
            return full(user)
        return pulumi.Output.from_input(user).apply(full)

    def _image(
        self, *, name: str, args: Mapping[str, Any], tags: Tags, child: pulumi.ResourceOptions
    ) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        if "image_uri" in args:
            uri = args["image_uri"]
            if isinstance(uri, str):
                ecr_repository_arn(uri)  # fail now, with the URI in the message, not mid-deploy
            repo_arn = args.get("image_repository_arn") or pulumi.Output.from_input(uri).apply(ecr_repository_arn)
            return uri, repo_arn
        image_args: dict[str, Any] = {"tags": tags}
        if "image_context" in args:
            image_args["context"] = args["image_context"]
        image = InferenceImage(f"{name}-image", image_args, opts=child)  # type: ignore[arg-type]
        return image.image_uri, image.repository_arn

    def _role(
        self,
        *,
        name: str,
        args: Mapping[str, Any],
        s: EndpointSettings,
        repository_arn: pulumi.Input[str],
        tags: Tags,
        child: pulumi.ResourceOptions,
        base: str,
        storage: async_storage.Storage | None,
    ) -> tuple[pulumi.Input[str], list[pulumi.Resource]]:
        if "execution_role_arn" in args:
            return args["execution_role_arn"], []
        role_args: dict[str, Any] = {"repository_arn": repository_arn, "tags": tags, "vpc": self._given.vpc}
        prefix = inputs.s3_prefix(self._given.model_data_url)
        if prefix is not None:
            role_args["model_data_bucket"], role_args["model_data_prefix"] = prefix
        if storage is not None:  # SageMaker reads requests and writes answers as the model's role
            role_args |= {
                "async_bucket": storage.bucket,
                "async_base": base,
                "async_topics": storage.topics,
                "async_kms_key_arn": self._given.kms_key_arn,
            }
        role = ExecutionRole(f"{name}-exec", role_args, opts=child)  # type: ignore[arg-type]
        return role.arn, [role.policy]

    def _serverless(
        self,
        *,
        name: str,
        base: str,
        s: EndpointSettings,
        model: aws.sagemaker.Model,
        tags: Tags,
        child: pulumi.ResourceOptions,
    ) -> None:
        serverless: aws.sagemaker.EndpointConfigurationProductionVariantServerlessConfigArgsDict = {
            "memory_size_in_mb": s.serverless_memory_mb,
            "max_concurrency": s.serverless_max_concurrency,
        }
        if s.serverless_provisioned_concurrency:
            serverless["provisioned_concurrency"] = s.serverless_provisioned_concurrency
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            production_variants=[
                {"variant_name": s.variant_name, "model_name": model.name, "serverless_config": serverless}
            ],
            kms_key_arn=self._given.kms_key_arn,
            tags=tags,
            opts=child,
        )
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint", name=base, endpoint_config_name=config.name, tags=tags, opts=child
        )
        empty = pulumi.Output.from_input("")
        self.endpoint_name = endpoint.name
        self.endpoint_config_name = config.name
        self.inference_component_name = empty
        self.alarm_name = empty
        self.step_policy_arn = empty
        self.target_policy_arn = empty

    def _async(
        self,
        *,
        name: str,
        base: str,
        s: EndpointSettings,
        model: aws.sagemaker.Model,
        storage: async_storage.Storage,
        tags: Tags,
        child: pulumi.ResourceOptions,
    ) -> None:
        made = async_endpoint.declare(
            where=f"ScaleToZeroEndpoint {name!r}",
            name=name,
            base=base,
            s=s,
            model=model,
            storage=storage,
            kms_key_arn=self._given.kms_key_arn,
            tags=tags,
            child=child,
        )
        self.endpoint_name = made.endpoint_name
        self.endpoint_config_name = made.endpoint_config_name
        self.inference_component_name = pulumi.Output.from_input("")
        self.alarm_name = made.alarm_name
        self.step_policy_arn = made.step_policy_arn
        self.target_policy_arn = made.target_policy_arn
        self.async_input_location = storage.layout.input
        self.async_output_location = storage.layout.output
        self.async_failure_location = storage.layout.failure
        self.async_bucket_name = pulumi.Output.from_input(storage.bucket)
        self.async_success_topic_arn = pulumi.Output.from_input(storage.success_topic_arn or "")
        self.async_error_topic_arn = pulumi.Output.from_input(storage.error_topic_arn or "")

    def _scale_to_zero(
        self,
        *,
        name: str,
        base: str,
        s: EndpointSettings,
        model: aws.sagemaker.Model,
        role_arn: pulumi.Input[str],
        tags: Tags,
        child: pulumi.ResourceOptions,
        after_role: pulumi.ResourceOptions,
    ) -> None:
        variant: aws.sagemaker.EndpointConfigurationProductionVariantArgsDict = {
            "variant_name": s.variant_name,
            "instance_type": s.instance_type,
            "initial_instance_count": 1,
            "model_data_download_timeout_in_seconds": s.model_download_timeout_s,
            "container_startup_health_check_timeout_in_seconds": s.container_startup_timeout_s,
            "managed_instance_scaling": {
                "status": "ENABLED",
                "min_instance_count": 0,
                "max_instance_count": s.max_instance_count,
            },
            "routing_configs": [{"routing_strategy": wiring.ROUTING_STRATEGY}],
        }
        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            execution_role_arn=role_arn,  # inference-component endpoints carry the role on the config
            production_variants=[variant],
            kms_key_arn=self._given.kms_key_arn,
            tags=tags,
            opts=after_role,
        )
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint", name=base, endpoint_config_name=config.name, tags=tags, opts=child
        )
        compute: aws_native.sagemaker.InferenceComponentComputeResourceRequirementsArgsDict = {
            "min_memory_required_in_mb": s.min_memory_mb,
        }
        if s.accelerators:  # AWS refuses 0 (its minimum is 1): a CPU copy leaves the member out
            compute["number_of_accelerator_devices_required"] = s.accelerators
        if s.cpu_cores is not None:
            compute["number_of_cpu_cores_required"] = s.cpu_cores
        ic = aws_native.sagemaker.InferenceComponent(
            f"{name}-ic",
            inference_component_name=f"{base}-ic",
            # Waits for the provider check, so a split tenant fails before the component is created.
            endpoint_name=pulumi.Output.all(endpoint.name, self.region).apply(lambda v: str(v[0])),
            variant_name=s.variant_name,
            specification=aws_native.sagemaker.InferenceComponentSpecificationArgsDict(
                model_name=model.name,
                startup_parameters={
                    "model_data_download_timeout_in_seconds": s.model_download_timeout_s,
                    "container_startup_health_check_timeout_in_seconds": s.container_startup_timeout_s,
                },
                compute_resource_requirements=compute,
            ),
            runtime_config={"copy_count": 1},
            tags=pulumi.Output.from_input(tags).apply(lambda t: [{"key": k, "value": v} for k, v in t.items()]),
            opts=pulumi.ResourceOptions.merge(
                after_role,
                pulumi.ResourceOptions(
                    provider=self._native_provider,
                    # Autoscaling owns the copy count at run time; `pulumi up` must not reset it.
                    ignore_changes=["runtimeConfig.copyCount"],
                    # The name is fixed (alarm dimension, scalable target), so a replacement must delete first.
                    delete_before_replace=True,
                ),
            ),
        )
        ic_name = ic.inference_component_name.apply(lambda n: n or "")
        path = wake_path.declare(
            name=name,
            base=base,
            s=s,
            unit=wake_path.Unit(
                resource_id=pulumi.Output.concat(wiring.RESOURCE_PREFIX, ic_name),
                dimension=wiring.SCALABLE_DIMENSION,
                max_capacity=s.max_copies,
                tracking={"predefined_metric_specification": {"predefined_metric_type": wiring.TARGET_TRACKING_METRIC}},
                target_value=s.target_value,
                wake_metric=wiring.ALARM_METRIC,
                wake_dimensions={wiring.ALARM_DIMENSION: ic_name},
                wake_statistic="Maximum",
                step_aggregation="Maximum",
                description=(
                    f"Wakes {base}-ic from zero copies: a request failed for lack of capacity, "
                    "so the step policy adds a copy."
                ),
            ),
            tags=tags,
            child=child,
            target_opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ic])),
        )
        self.endpoint_name = endpoint.name
        self.endpoint_config_name = config.name
        self.inference_component_name = ic_name
        self.alarm_name = path.alarm.name
        self.step_policy_arn = path.step.arn
        self.target_policy_arn = path.tracking.arn
