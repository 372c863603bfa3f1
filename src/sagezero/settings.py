"""Endpoint settings with the seed's defaults and every documented AWS limit, in one place.

Pure data and checks: never imports Pulumi or boto3, so the component, the stack-config loader,
the simulator and the operations client all validate against the same ranges.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero.quote import excerpt
from sagezero.wiring import evaluation_window_max


class Mode(enum.StrEnum):
    """How the endpoint is hosted."""

    SCALE_TO_ZERO = "scale-to-zero"
    """Real-time endpoint + inference component that scales copies and instances down to zero."""
    SERVERLESS = "serverless"
    """The seed's first attempt: Serverless Inference (only /tmp writable, no accelerators)."""
    ASYNC = "async"
    """Asynchronous endpoint: requests queue in S3 while the variant wakes from zero instances."""


# Hosting families by whether their instances carry accelerators (NVIDIA GPUs: g*, p*; Habana Gaudi:
# dl1; AWS Inferentia/Trainium: inf*, trn*). Which instance types exist is AWS's list (botocore's
# ProductionVariantInstanceType), not ours: a test classifies every type in it, so a family AWS adds
# fails the tests until it is listed here.
CPU_FAMILIES = frozenset(
    [
        "c4",
        "c5",
        "c5d",
        "c6g",
        "c6gd",
        "c6gn",
        "c6i",
        "c6in",
        "c7g",
        "c7i",
        "c8g",
        "m4",
        "m5",
        "m5d",
        "m6g",
        "m6gd",
        "m6i",
        "m7i",
        "m8g",
        "r5",
        "r5d",
        "r6g",
        "r6gd",
        "r6i",
        "r7gd",
        "r7i",
        "r8g",
        "t2",
    ]
)
ACCELERATED_FAMILIES = frozenset(
    [
        "dl1",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "g7",
        "g7e",
        "inf1",
        "inf2",
        "p2",
        "p3",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
        "trn1",
        "trn1n",
        "trn2",
    ]
)
ACCELERATED_PREFIXES = ("g", "p", "inf", "trn", "dl")
"""For a family not in either table (newer than this list): the accelerated families' naming."""
# A family may hold hyphens (ml.p6-b200.48xlarge, ml.p6e-gb200.36xlarge).
_INSTANCE_TYPE = re.compile(r"^ml\.([a-z0-9]+(?:-[a-z0-9]+)*)\.([0-9]*x?large|medium|small|micro)$")
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


def instance_family(instance_type: str) -> str | None:
    """The family of an `ml.<family>.<size>` type, or None when the string is not of that shape."""
    m = _INSTANCE_TYPE.match(instance_type)
    return m.group(1) if m else None


def default_accelerators(instance_type: str) -> int:
    """The accelerators a copy asks for when not told: one on accelerated types, none on CPU types."""
    family = instance_family(instance_type) or ""
    if family in ACCELERATED_FAMILIES or family in CPU_FAMILIES:
        return 1 if family in ACCELERATED_FAMILIES else 0
    return 1 if family.startswith(ACCELERATED_PREFIXES) else 0


def instance_type_problem(instance_type: str) -> str | None:
    """Why AWS would refuse `instance_type` for a hosting variant, from botocore's own enum."""
    from sagezero import awsmodel  # botocore's models load on first use, not on import

    valid = awsmodel.enum("sagemaker", "ProductionVariantInstanceType")
    if instance_type in valid:
        return None
    near = difflib.get_close_matches(instance_type, valid, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return f"{excerpt(instance_type)} is not one of AWS's {len(valid)} hosting instance types (ProductionVariantInstanceType){hint}"


@dataclass(frozen=True)
class Problem:
    """One invalid setting: the key as the user wrote it, and what was expected."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class SettingsError(ValueError):
    """Raised with every problem at once, so a user fixes a config in one pass, not one per run."""

    def __init__(self, problems: list[Problem], where: str = "") -> None:
        self.problems = problems
        self.where = where
        head = f"invalid settings for {where}" if where else "invalid settings"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in problems))


def _m(
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    step: int | None = None,
    input: bool = False,
    default_doc: str | None = None,
) -> dict[str, Any]:
    """A setting's metadata: its one-line doc (component args, schema, README), its range, whether it
    may come from another resource (a `pulumi.Input` in the component's args), and how its default is
    described when it depends on other settings."""
    meta: dict[str, Any] = {"doc": doc, "input": input}
    if default_doc is not None:
        meta["default_doc"] = default_doc
    if lo is not None or hi is not None:
        meta |= {"min": lo, "max": hi, "step": step}
    return meta


_CHECKED = "_sagezero_checked"
"""Instance attribute (outside the dataclass fields, so never compared or copied) marking settings whose
problems() came back empty."""


@dataclass(frozen=True)
class EndpointSettings:
    """Every knob of one tenant's endpoint. Defaults are the seed's values (docs/architecture.md).

    The one definition of the settings: the component's args (components/args.py, generated), the
    stack config keys (camelCase of these names), the multi-language schema and the README's table
    all come from these fields and their docs (`python -m sagezero.components.argsgen`).
    """

    mode: Mode = field(
        default=Mode.SCALE_TO_ZERO,
        metadata=_m(
            "`scale-to-zero` (real-time endpoint + inference component), `async` (requests queue in S3 while "
            "the endpoint wakes from zero instances) or `serverless`."
        ),
    )
    instance_type: str = field(
        default="ml.g5.xlarge",
        metadata=_m("ML instance type; any of AWS's hosting types (ProductionVariantInstanceType)."),
    )
    variant_name: str = field(default="AllTraffic", metadata=_m("Production variant name."))
    max_instance_count: int = field(
        default=1, metadata=_m("Upper bound for managed instance scaling (the lower bound is always 0).", lo=1, hi=100)
    )
    max_copies: int = field(
        default=1,
        metadata=_m("Upper bound for inference-component copies (the lower bound is always 0).", lo=1, hi=100),
    )
    min_memory_mb: int = field(default=1024, metadata=_m("Memory each copy reserves, MiB.", lo=128, hi=768 * 1024))
    accelerators: int = field(
        default=1,
        metadata=_m(
            "Accelerator devices each copy needs.",
            lo=0,
            hi=16,
            default_doc="1 on GPU/Inferentia/Trainium/Gaudi types, 0 on CPU types, serverless and async",
        ),
    )
    cpu_cores: float | None = field(default=None, metadata=_m("CPU cores each copy needs (optional).", lo=0.25, hi=192))
    model_download_timeout_s: int = field(default=3600, metadata=_m("Model data download timeout, s.", lo=60, hi=3600))
    container_startup_timeout_s: int = field(
        default=3600, metadata=_m("Container startup health-check timeout, s.", lo=60, hi=3600)
    )
    target_value: float = field(
        default=5.0, metadata=_m("Target concurrent requests per copy for target tracking.", lo=0.1, hi=10_000)
    )
    scale_in_cooldown_s: int = field(default=300, metadata=_m("Target-tracking scale-in cooldown, s.", lo=0, hi=3600))
    scale_out_cooldown_s: int = field(default=300, metadata=_m("Target-tracking scale-out cooldown, s.", lo=0, hi=3600))
    # 360 s, about a cold start: with maxCopies > 1 the seed's 60 s re-fired the wake every minute of a
    # cold start (simulator, maxCopies 3: 521 USD/30 days at 60 s, 421 at 300 s, 407 at 360 s and 600 s,
    # same share of requests touched); with one copy it changes nothing. docs/simulator.md.
    step_cooldown_s: int = field(
        default=360,
        metadata=_m(
            "Cooldown of the wake-from-zero step policy, s (about a cold start, so one wake adds one copy).",
            lo=0,
            hi=3600,
        ),
    )
    step_adjustment: int = field(
        default=1, metadata=_m("Copies the step policy adds when the alarm fires.", lo=1, hi=100)
    )
    alarm_period_s: int = field(
        default=30,
        metadata=_m("Period of the NoCapacityInvocationFailures alarm, s (10, 20, 30 or n x 60).", lo=10, hi=86_400),
    )
    alarm_evaluation_periods: int = field(default=1, metadata=_m("Evaluation periods of the alarm.", lo=1, hi=100))
    alarm_datapoints: int = field(
        default=1, metadata=_m("Datapoints that must breach to fire the alarm.", lo=1, hi=100)
    )
    serverless_memory_mb: int = field(
        default=2048, metadata=_m("Serverless mode: memory, MiB, in steps of 1024.", lo=1024, hi=6144, step=1024)
    )
    serverless_max_concurrency: int = field(default=20, metadata=_m("Serverless mode: max concurrency.", lo=1, hi=200))
    serverless_provisioned_concurrency: int = field(
        default=0, metadata=_m("Serverless mode: provisioned concurrency (a standing cost).", lo=0, hi=200)
    )
    model_data_url: str | None = field(
        default=None,
        metadata=_m("s3:// URL of model artifacts (optional); the role may read only that prefix.", input=True),
    )
    environment: Mapping[str, str] = field(
        default_factory=dict, metadata=_m("Container environment, at most 16 entries.", input=True)
    )
    kms_key_arn: str | None = field(default=None, metadata=_m("KMS key for the endpoint's storage volume.", input=True))
    tags: Mapping[str, str] = field(
        default_factory=dict, metadata=_m("Tags applied to every taggable child.", input=True)
    )
    vpc_subnet_ids: tuple[str, ...] = field(
        default=(), metadata=_m("Subnets the model's containers run in (with the security groups), 1-16.", input=True)
    )
    vpc_security_group_ids: tuple[str, ...] = field(
        default=(), metadata=_m("Security groups of the model's containers (with the subnets), 1-5.", input=True)
    )
    network_isolation: bool = field(
        default=False,
        metadata=_m("Run the container without network access (SageMaker still copies the model data in)."),
    )
    async_bucket: str | None = field(
        default=None,
        metadata=_m(
            "Async mode: an existing S3 bucket for requests, results and failures (default: the component "
            "creates a private, encrypted one with lifecycle expiry).",
            input=True,
        ),
    )
    async_expiry_days: int = field(
        default=7,
        metadata=_m("Async mode: days the created bucket keeps requests, results and failures.", lo=1, hi=3650),
    )
    async_max_concurrent_invocations: int = field(
        default=4,
        metadata=_m(
            "Async mode: requests one instance works on at once (MaxConcurrentInvocationsPerInstance).", lo=1, hi=1000
        ),
    )
    async_invocation_timeout_s: int = field(
        default=900,
        metadata=_m("Async mode: longest one request may run, s (sent as InvocationTimeoutSeconds).", lo=1, hi=3600),
    )
    async_backlog_target: float = field(
        default=5.0,
        metadata=_m(
            "Async mode: queued requests per instance that target tracking holds (ApproximateBacklogSizePerInstance).",
            lo=0.1,
            hi=10_000,
        ),
    )
    async_notifications: bool = field(
        default=False,
        metadata=_m("Async mode: create SNS topics the endpoint publishes success and error notices to."),
    )
    async_success_topic_arn: str | None = field(
        default=None,
        metadata=_m(
            "Async mode: an existing SNS topic for success notices (instead of asyncNotifications).", input=True
        ),
    )
    async_error_topic_arn: str | None = field(
        default=None,
        metadata=_m("Async mode: an existing SNS topic for error notices (instead of asyncNotifications).", input=True),
    )

    def problems(self) -> list[Problem]:
        """Every violated limit, keyed by field name. Empty when the settings can be deployed."""
        out: list[Problem] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if "min" in f.metadata and value is not None:
                out.extend(_check_number(f.name, value, f.metadata))
        type_problem = instance_type_problem(self.instance_type) if self.mode is not Mode.SERVERLESS else None
        if type_problem:
            out.append(Problem("instance_type", type_problem))
        elif self.mode is Mode.SCALE_TO_ZERO and self.accelerators > 0 and not default_accelerators(self.instance_type):
            out.append(
                Problem(
                    "accelerators",
                    f"{self.accelerators} accelerator(s) requested but {self.instance_type} has none; "
                    "set accelerators: 0 (or leave it out) or pick a GPU/Inferentia family (g5, g6, inf2, ...)",
                )
            )
        out += _aws_problems(self)
        if self.mode is Mode.SCALE_TO_ZERO and not type_problem:
            out += _capacity_problems(self)
        reserved = sorted(k for k in self.tags if k.lower().startswith("aws:"))
        if reserved:
            out.append(
                Problem(
                    "tags", f"{', '.join(map(repr, reserved))}: keys starting with 'aws:' are reserved for AWS; rename"
                )
            )
        if not _NAME.match(self.variant_name) or len(self.variant_name) > 63:
            out.append(Problem("variant_name", "must be 1-63 letters, digits or hyphens"))
        if self.alarm_period_s not in (10, 20, 30) and self.alarm_period_s % 60:
            out.append(Problem("alarm_period_s", f"{self.alarm_period_s} must be 10, 20, 30 or a multiple of 60"))
        window = self.alarm_period_s * self.alarm_evaluation_periods
        if window > evaluation_window_max(self.alarm_period_s):
            out.append(
                Problem(
                    "alarm_evaluation_periods",
                    f"{self.alarm_evaluation_periods} periods of {self.alarm_period_s} s span {window} s; CloudWatch "
                    f"allows at most {evaluation_window_max(self.alarm_period_s)} s (one day, or seven days with a "
                    "period of an hour or more)",
                )
            )
        if self.alarm_datapoints > self.alarm_evaluation_periods:
            out.append(
                Problem(
                    "alarm_datapoints",
                    f"{self.alarm_datapoints} exceeds alarm_evaluation_periods ({self.alarm_evaluation_periods})",
                )
            )
        if bool(self.vpc_subnet_ids) != bool(self.vpc_security_group_ids):
            out.append(
                Problem(
                    "vpc_subnet_ids" if not self.vpc_subnet_ids else "vpc_security_group_ids",
                    "a VPC needs both subnets and security groups (AWS VpcConfig); give vpcSubnetIds and "
                    "vpcSecurityGroupIds together",
                )
            )
        if len(self.environment) > 16:
            out.append(Problem("environment", f"{len(self.environment)} entries; SageMaker allows at most 16"))
        if self.model_data_url is not None and not self.model_data_url.startswith("s3://"):
            out.append(Problem("model_data_url", f"{self.model_data_url!r} must be an s3:// URL"))
        out += _mode_problems(self)
        if self.mode is Mode.SERVERLESS:
            if self.accelerators:
                out.append(Problem("accelerators", "serverless endpoints cannot use accelerators; set accelerators: 0"))
            if self.serverless_provisioned_concurrency > self.serverless_max_concurrency:
                out.append(
                    Problem(
                        "serverless_provisioned_concurrency",
                        f"{self.serverless_provisioned_concurrency} exceeds serverless_max_concurrency "
                        f"({self.serverless_max_concurrency})",
                    )
                )
        return out

    def validated(self, where: str = "") -> EndpointSettings:
        """Self, or a SettingsError naming every problem. Settings `build_settings` produced are known
        good and not checked twice; hand-built ones (and `dataclasses.replace` copies) are."""
        if self.__dict__.get(_CHECKED):
            return self
        problems = self.problems()
        if problems:
            raise SettingsError(problems, where)
        object.__setattr__(self, _CHECKED, True)
        return self

    @property
    def s3_model_prefix(self) -> tuple[str, str] | None:
        """(bucket, key prefix) of model_data_url, for a read-only S3 grant scoped to it."""
        if not self.model_data_url or not self.model_data_url.startswith("s3://"):
            return None
        bucket, _, key = self.model_data_url[5:].partition("/")
        return bucket, key


ASYNC_FIELDS = (
    "async_bucket",
    "async_expiry_days",
    "async_max_concurrent_invocations",
    "async_invocation_timeout_s",
    "async_backlog_target",
    "async_notifications",
    "async_success_topic_arn",
    "async_error_topic_arn",
)
"""Settings only async mode reads: given in another mode they would be silently ignored, so they are refused."""

NOT_ASYNC_FIELDS = {
    "max_copies": "async endpoints scale instances, not inference-component copies: use maxInstanceCount",
    "target_value": "async target tracking holds queued requests per instance: use asyncBacklogTarget",
    "min_memory_mb": "async endpoints have no inference component to reserve memory for; remove it",
    "cpu_cores": "async endpoints have no inference component to reserve CPU cores for; remove it",
    "serverless_memory_mb": "only serverless mode uses it; remove it",
    "serverless_max_concurrency": "only serverless mode uses it; remove it",
    "serverless_provisioned_concurrency": "only serverless mode uses it; remove it",
}
"""Settings async mode never reads, with what to do instead: given for an async endpoint they would be
silently ignored (an async tenant with `maxCopies: 3` would still stop at one instance), so they are refused."""


def unread_by(mode: Mode) -> frozenset[str]:
    """Settings (field names) an endpoint of `mode` never reads. Given for the endpoint itself they are
    refused (`_mode_problems`); inherited from a stack's `sagezero:defaults` they are left out for it,
    since one stack's defaults serve tenants of every mode."""
    if mode is Mode.ASYNC:
        return frozenset(NOT_ASYNC_FIELDS) | {"accelerators"}
    return frozenset(ASYNC_FIELDS)


ASYNC_ALARM_PERIOD_S = 60
"""SageMaker publishes HasBacklogWithoutCapacity once a minute (docs/architecture.md, async mode): a
shorter alarm period would see missing data between samples."""


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def s3_bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse `name` as a general-purpose bucket name (AWS "Bucket naming rules"), or None.
    Caught here because the component builds s3:// paths from it, which SageMaker only checks at deploy."""
    if name.startswith("arn:"):
        return f"{excerpt(name)} must be a bare bucket name, not an ARN (give {name.rsplit(':', 1)[-1]!r})"
    if name.startswith("s3://") or "/" in name:
        return f"{excerpt(name)} must be a bare bucket name (no s3:// or key); the component lays out <endpoint>/input/ etc."
    if not _BUCKET_NAME.match(name) or ".." in name or re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return (
            f"{excerpt(name)} is not an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit"
        )
    return None


def _mode_problems(s: EndpointSettings) -> list[Problem]:
    out = []
    if s.mode is not Mode.ASYNC:
        defaults = EndpointSettings()
        out += [
            Problem(name, f"only async mode uses it but mode is {s.mode.value}; set mode: async or remove it")
            for name in ASYNC_FIELDS
            if getattr(s, name) != getattr(defaults, name)
        ]
        return out
    defaults = EndpointSettings()
    out += [
        Problem(name, f"{excerpt(getattr(s, name))}: {why}")
        for name, why in NOT_ASYNC_FIELDS.items()
        if getattr(s, name) != getattr(defaults, name)
    ]
    if s.async_bucket is not None:
        bucket_problem = s3_bucket_name_problem(s.async_bucket)
        if bucket_problem:
            out.append(Problem("async_bucket", bucket_problem))
        if s.async_expiry_days != defaults.async_expiry_days:
            out.append(
                Problem(
                    "async_expiry_days",
                    f"{s.async_expiry_days} would be ignored: only the bucket the component creates gets the expiry "
                    "rule, and asyncBucket names your own; expire <endpoint>/ in your bucket's lifecycle, or leave "
                    "asyncBucket out",
                )
            )
    if s.kms_key_arn is not None and not _KMS_KEY_ARN.match(s.kms_key_arn):
        out.append(
            Problem(
                "kms_key_arn",
                f"{excerpt(s.kms_key_arn)} must be a key ARN (arn:aws:kms:<region>:<account>:key/<id>) in async "
                "mode: the execution role is granted kms:Decrypt and kms:GenerateDataKey on it to read requests and "
                "write answers, and IAM names a key only by its key ARN (an alias or a bare key id is refused or "
                "grants nothing)",
            )
        )
    if s.async_notifications and (s.async_success_topic_arn or s.async_error_topic_arn):
        out.append(
            Problem(
                "async_notifications",
                "creates the success and error topics, so given topic ARNs would be ignored; give either "
                "asyncNotifications: true or asyncSuccessTopicArn/asyncErrorTopicArn",
            )
        )
    if s.alarm_period_s < ASYNC_ALARM_PERIOD_S:
        out.append(
            Problem(
                "alarm_period_s",
                f"{s.alarm_period_s} is shorter than the minute HasBacklogWithoutCapacity is published at; "
                f"use {ASYNC_ALARM_PERIOD_S} or a multiple of it in async mode",
            )
        )
    if s.accelerators:
        out.append(
            Problem(
                "accelerators", "async endpoints have no inference component to reserve them for; set accelerators: 0"
            )
        )
    return out


def _capacity_problems(s: EndpointSettings) -> list[Problem]:
    """What one copy asks for against what one instance of the type has (the instance table shipped with
    the simulator, prices.json; types it does not list are not judged): a copy that fits no instance
    never starts."""
    from sagezero.simulate.prices import PriceError, load

    try:
        spec = load().instances.get(s.instance_type)
    except PriceError:  # pragma: no cover - the shipped table is checked by its own tests
        return []
    if spec is None:
        return []
    out = []
    for key, wanted, has, unit in (
        ("accelerators", s.accelerators, spec.accelerators, "accelerator(s)"),
        ("min_memory_mb", s.min_memory_mb, spec.memory_mb, "MiB of memory"),
        ("cpu_cores", s.cpu_cores, spec.vcpu, "vCPUs"),
    ):
        if wanted is not None and wanted > has:
            out.append(
                Problem(
                    key,
                    f"{wanted:g} exceeds what one {s.instance_type} has ({has:g} {unit}), so no copy could start; "
                    f"ask for at most {has:g} or pick a larger instance type",
                )
            )
    return out


def _aws_problems(s: EndpointSettings) -> list[Problem]:
    """The settings that reach AWS verbatim, checked against AWS's published request rules."""
    from sagezero import awsmodel

    checks = [
        ("environment", "CreateModel", "PrimaryContainer.Environment", dict(s.environment)),
        ("tags", "CreateEndpoint", "Tags", [{"Key": k, "Value": v} for k, v in s.tags.items()]),
        ("kms_key_arn", "CreateEndpointConfig", "KmsKeyId", s.kms_key_arn),
        ("model_data_url", "CreateModel", "PrimaryContainer.ModelDataUrl", s.model_data_url),
        ("variant_name", "CreateEndpointConfig", "ProductionVariants.VariantName", s.variant_name),
        ("vpc_subnet_ids", "CreateModel", "VpcConfig.Subnets", list(s.vpc_subnet_ids) or None),
        ("vpc_security_group_ids", "CreateModel", "VpcConfig.SecurityGroupIds", list(s.vpc_security_group_ids) or None),
        (
            "async_success_topic_arn",
            "CreateEndpointConfig",
            "AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic",
            s.async_success_topic_arn,
        ),
        (
            "async_error_topic_arn",
            "CreateEndpointConfig",
            "AsyncInferenceConfig.OutputConfig.NotificationConfig.ErrorTopic",
            s.async_error_topic_arn,
        ),
    ]
    out = []
    for key, operation, member, value in checks:
        for v in awsmodel.check_member("sagemaker", operation, member, value):
            out.append(Problem(key, f"{v.rule} (AWS {operation} {v.path})"))
    return out


def _check_number(key: str, value: Any, meta: Mapping[str, Any]) -> list[Problem]:
    lo, hi, step = meta["min"], meta["max"], meta["step"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [Problem(key, f"expected a number, got {value!r}")]
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return [Problem(key, f"{excerpt(value)} is outside {lo:g}-{hi:g}")]
    if step and value % step:
        return [Problem(key, f"{value} must be a multiple of {step}")]
    return []


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(EndpointSettings))
_FIELD_TYPES = {f.name: f for f in dataclasses.fields(EndpointSettings)}


def camel(name: str) -> str:
    """snake_case field name to the camelCase key used in stack config and the Pulumi schema."""
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


CAMEL_TO_FIELD = {camel(n): n for n in FIELD_NAMES}


def coerce(name: str, value: Any) -> tuple[Any, Problem | None]:
    """Bring one raw value (YAML/JSON, or a float from the engine) to the field's type."""
    f = _FIELD_TYPES[name]
    typ = str(f.type)
    if name == "mode":
        try:
            return Mode(value), None
        except ValueError:
            return value, Problem(name, f"{value!r} is not one of {', '.join(m.value for m in Mode)}")
    if value is None:
        return None, None if "None" in typ else Problem(name, "must not be empty")
    if typ.startswith("int"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return value, Problem(name, f"expected a whole number, got {value!r}")
    elif typ.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, Problem(name, f"expected a number, got {value!r}")
        value = float(value)
    elif typ.startswith("str"):
        if not isinstance(value, str):
            return value, Problem(name, f"expected a string, got {value!r}")
    elif typ == "bool":
        if not isinstance(value, bool):
            return value, Problem(name, f"expected true or false, got {value!r}")
    elif typ.startswith("tuple"):
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(x, str) for x in value):
            return value, Problem(name, f"expected a list of strings, got {value!r}")
        value = tuple(value)
    elif typ.startswith("Mapping"):
        if not isinstance(value, Mapping) or not all(isinstance(x, str) for kv in value.items() for x in kv):
            return value, Problem(name, f"expected a mapping of strings to strings, got {value!r}")
        value = dict(value)
    return value, None


def build_settings(raw: Mapping[str, Any], *, camel_keys: bool) -> tuple[EndpointSettings | None, list[Problem]]:
    """Settings from a mapping of user keys, or every problem found (unknown keys included)."""
    problems: list[Problem] = []
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        name = CAMEL_TO_FIELD.get(key) if camel_keys else (key if key in _FIELD_TYPES else None)
        if name is None:
            known = sorted(CAMEL_TO_FIELD) if camel_keys else sorted(FIELD_NAMES)
            problems.append(Problem(key, f"unknown setting; known settings: {', '.join(known)}"))
            continue
        coerced, problem = coerce(name, value)
        if problem is not None:
            problems.append(Problem(key, problem.message))
        else:
            kwargs[name] = coerced
    if "accelerators" not in kwargs:
        # Not given: a copy asks for an accelerator only where the instance type has one (never serverless).
        instance_type = kwargs.get("instance_type", EndpointSettings.instance_type)
        no_copies = kwargs.get("mode") in (Mode.SERVERLESS, Mode.ASYNC)
        kwargs["accelerators"] = (
            0 if no_copies or not isinstance(instance_type, str) else default_accelerators(instance_type)
        )
    if kwargs.get("mode") is Mode.ASYNC and "alarm_period_s" not in kwargs:
        kwargs["alarm_period_s"] = ASYNC_ALARM_PERIOD_S
    # Check the limits of the values that did parse too, so one run reports every mistake.
    settings = EndpointSettings(**kwargs)
    to_key = camel if camel_keys else (lambda n: n)
    problems += [Problem(to_key(p.key), p.message) for p in settings.problems()]
    if problems:
        return None, problems
    object.__setattr__(settings, _CHECKED, True)  # `validated()` need not look again
    return settings, problems


@dataclass(frozen=True)
class ImageSettings:
    """Where the inference image comes from: built from a Docker context, or an existing URI."""

    context: str | None = "image"
    uri: str | None = None
    retain_images: int = 10
    platform: str = "linux/amd64"
    build_args: Mapping[str, str] = field(default_factory=dict)
