"""Advisory rules (each configurable): cost allocation, image hygiene, encryption, routing, scaling cost, IAM.

They flag what an org usually wants fixed without blocking a deploy; raise any of them to
mandatory through policy config.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from sagezero.engine_wiring import ENDPOINT_CONFIG_TYPES, IC_TYPES, get, is_seq
from sagezero.policies.support import config, guarded, judged, label, make_policy, report_verdicts, tag_keys, variants
from sagezero.rules import Verdicts
from sagezero.values import Opaque, number

TAGGED_TYPES = frozenset(
    {
        "aws:sagemaker/model:Model",
        "aws:sagemaker/endpoint:Endpoint",
        "aws-native:sagemaker:Model",
        "aws-native:sagemaker:Endpoint",
        *ENDPOINT_CONFIG_TYPES,
        *IC_TYPES,
    }
)
ECR_TYPES = frozenset({"aws:ecr/repository:Repository", "aws-native:ecr:Repository"})
ROLE_TYPES = frozenset({"aws:iam/role:Role", "aws-native:iam:Role"})
INLINE_POLICY_TYPES = frozenset({"aws:iam/rolePolicy:RolePolicy", "aws-native:iam:RolePolicy"})
ATTACHMENT_TYPES = frozenset({"aws:iam/rolePolicyAttachment:RolePolicyAttachment"})
BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
PUBLIC_ACCESS_BLOCK_TYPES = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
BUCKET_ENCRYPTION_TYPES = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


@guarded
def instance_type_allowlist(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES:
        return
    allowed = config("instance-type-allowlist", args)["allowedInstanceTypes"]
    for v in variants(args.props, args.resource_type):
        if isinstance(v.instance_type, str) and not any(fnmatch.fnmatch(v.instance_type, p) for p in allowed):
            report(
                f"{label(args)} {v.where} uses {v.instance_type}, which is not on the org's allow-list "
                f"({', '.join(allowed)}). Fix: pick an allowed type or extend allowedInstanceTypes.",
                None,
            )


@guarded
def required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in TAGGED_TYPES:
        return
    keys = tag_keys(args.props)
    if isinstance(keys, Opaque):
        args.not_applicable("tags are not known until deployment")
    missing = [t for t in config("required-tags", args)["requiredTags"] if t not in keys]
    if missing:
        report(
            f"{label(args)} lacks cost-allocation tag(s) {', '.join(missing)}. Fix: add them (for sagezero, "
            "in sagezero:defaults.tags of the stack config).",
            None,
        )


@guarded
def ecr_scan_and_immutable_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ECR_TYPES:
        return
    if get(args.props, "imageScanningConfiguration", "scanOnPush") is not True:
        report(f"{label(args)} does not scan images on push. Fix: imageScanningConfiguration.scanOnPush = true.", None)
    if get(args.props, "imageTagMutability") != "IMMUTABLE":
        report(
            f"{label(args)} allows tags to be overwritten, so an endpoint can silently change image. "
            "Fix: imageTagMutability = IMMUTABLE.",
            None,
        )


@guarded
def endpoint_config_kms_key(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES:
        return
    if all(v.serverless for v in variants(args.props, args.resource_type)):
        return  # serverless endpoints do not take a storage-volume KMS key
    key = get(args.props, "kmsKeyId" if args.resource_type.startswith("aws-native:") else "kmsKeyArn")
    if key is None or key == "":
        report(
            f"{label(args)} has no KMS key for the instance storage volume. Fix: set kmsKeyArn "
            "(sagezero: the kmsKeyArn setting).",
            None,
        )


@guarded
def explicit_container_startup_timeout(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in ENDPOINT_CONFIG_TYPES:
        for v in variants(args.props, args.resource_type):
            if not v.serverless and v.startup_timeout is None:
                report(
                    f"{label(args)} {v.where} relies on the default container start-up health-check timeout. "
                    "Fix: set ContainerStartupHealthCheckTimeoutInSeconds (60-3600) for your model's load time.",
                    None,
                )
    elif args.resource_type in IC_TYPES:
        value = get(args.props, "specification", "startupParameters", "containerStartupHealthCheckTimeoutInSeconds")
        if value is None:
            report(
                f"{label(args)} has no specification.startupParameters.containerStartupHealthCheckTimeoutInSeconds. "
                "Fix: set it to cover model load (the seed used 3600).",
                None,
            )


@guarded
def least_outstanding_requests_routing(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES or get(args.props, "asyncInferenceConfig") is not None:
        return  # an async endpoint's queue hands work to instances with free slots: no routing to choose
    for v in variants(args.props, args.resource_type):
        if not v.serverless and v.routing != "LEAST_OUTSTANDING_REQUESTS" and not isinstance(v.routing, Opaque):
            report(
                f"{label(args)} {v.where} routes {v.routing or 'RANDOM (default)'}; a freshly woken copy then "
                "queues behind busy ones. Fix: RoutingConfig RoutingStrategy LEAST_OUTSTANDING_REQUESTS.",
                None,
            )


@guarded
def serverless_provisioned_concurrency(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ENDPOINT_CONFIG_TYPES:
        return
    for v in variants(args.props, args.resource_type):
        pc = number(get(v.serverless, "provisionedConcurrency")) if v.serverless else None
        if isinstance(pc, (int, float)) and pc > 0:
            report(
                f"{label(args)} {v.where} provisions {pc} concurrent serverless instance(s): billed while idle. "
                "Fix: drop ProvisionedConcurrency unless cold starts are unacceptable.",
                None,
            )


def _document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict) else None
    return _plain(value) if isinstance(value, Mapping) else None


def _plain(value: Any) -> Any:
    """Policy-SDK proxies to plain JSON values (IAM documents are read as a whole)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if is_seq(value):
        return [_plain(v) for v in value]
    return value


def _statements(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if doc is None:
        return []
    st = doc.get("Statement", [])
    return [s for s in (st if isinstance(st, list) else [st]) if isinstance(s, dict)]


def _wildcards(doc: dict[str, Any] | None) -> list[str]:
    bad = []
    for s in _statements(doc):
        if s.get("Effect", "Allow") != "Allow":
            continue
        actions = s.get("Action", [])
        for a in actions if isinstance(actions, list) else [actions]:
            if isinstance(a, str) and (a == "*" or a.endswith(":*")):
                bad.append(a)
    return bad


def _trusts_sagemaker(role_props: Any) -> bool:
    doc = _document(get(role_props, "assumeRolePolicy") or get(role_props, "assumeRolePolicyDocument"))
    return "sagemaker.amazonaws.com" in json.dumps(doc) if doc else False


@guarded
def execution_role_least_privilege(args: StackValidationArgs, report: ReportViolation) -> None:
    forbidden = config("execution-role-least-privilege", args)["forbiddenManagedPolicies"]
    roles = {r.urn: r for r in args.resources if r.resource_type in ROLE_TYPES and _trusts_sagemaker(r.props)}
    if not roles:
        return

    def role_of(r: Any) -> Any:
        for dep in r.property_dependencies.get("role", []) + r.property_dependencies.get("roleName", []):
            if dep.urn in roles:
                return roles[dep.urn]
        name = get(r.props, "role") or get(r.props, "roleName")
        return next((x for x in roles.values() if name and name in (get(x.props, "name"), get(x.props, "id"))), None)

    def check_managed(role: Any, arns: Any) -> None:
        for arn in arns if is_seq(arns) else []:
            if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in forbidden:
                report(
                    f"SageMaker execution role {role.name!r} carries {arn.rsplit('/', 1)[-1]}. Fix: grant only ECR "
                    "pull on the image repository, logs, metrics and the model's S3 prefix.",
                    role.urn,
                )

    rule = "execution-role-least-privilege"
    hidden = Verdicts()

    def readable(ref: str, what: str, value: Any) -> Any:
        """The value, or None after noting it as not judged: a secret or unknown policy document could
        grant anything, so it must never pass as least privilege (`check --strict` fails on it)."""
        if isinstance(value, Opaque):
            hidden.cannot(rule, ref, what, value.why)
            return None
        return value

    for role in roles.values():
        check_managed(role, readable(role.urn, "managedPolicyArns", get(role.props, "managedPolicyArns")))
        inlines = readable(role.urn, "inlinePolicies", get(role.props, "inlinePolicies") or get(role.props, "policies"))
        for inline in inlines if is_seq(inlines) else []:
            doc = _document(
                readable(role.urn, "inlinePolicies", get(inline, "policy") or get(inline, "policyDocument"))
            )
            for action in _wildcards(doc):
                report(
                    f"SageMaker execution role {role.name!r} allows {action!r}. Fix: list the actions it needs.",
                    role.urn,
                )
    for r in args.resources:
        if r.resource_type in INLINE_POLICY_TYPES and (role := role_of(r)) is not None:
            value = readable(r.urn, "policy", get(r.props, "policy") or get(r.props, "policyDocument"))
            for action in _wildcards(_document(value)):
                report(
                    f"policy {r.name!r} on SageMaker execution role {role.name!r} allows {action!r}. "
                    "Fix: list the actions it needs.",
                    r.urn,
                )
        elif r.resource_type in ATTACHMENT_TYPES and (role := role_of(r)) is not None:
            check_managed(role, [readable(r.urn, "policyArn", get(r.props, "policyArn"))])
    report_verdicts(args, report, hidden)


@guarded
def step_cooldown_covers_cold_start(args: StackValidationArgs, report: ReportViolation) -> None:
    """Found with the simulator (docs/simulator.md): with more than one copy allowed, a short step
    cooldown turns every cold start into an overshoot (the rule itself lives in sagezero.rules)."""
    rule = "step-cooldown-covers-cold-start"
    report_verdicts(args, report, judged(args, {rule: config(rule, args)}).verdicts.for_rule(rule))


def _async_buckets(resources: list[Any]) -> dict[str, Any]:
    """Buckets of this stack that an asynchronous endpoint config writes answers to, by URN: tied by a
    property dependency (a preview, where the name is not known yet) or by the bucket name in the path."""
    buckets = {r.urn: r for r in resources if r.resource_type in BUCKET_TYPES}
    used: dict[str, Any] = {}
    for cfg in resources:
        if cfg.resource_type not in ENDPOINT_CONFIG_TYPES or get(cfg.props, "asyncInferenceConfig") is None:
            continue
        paths = [get(cfg.props, "asyncInferenceConfig", "outputConfig", k) for k in ("s3OutputPath", "s3FailurePath")]
        linked = {d.urn for d in cfg.property_dependencies.get("asyncInferenceConfig", [])}
        for urn, b in buckets.items():
            name = get(b.props, "bucket")
            named = isinstance(name, str) and any(isinstance(x, str) and x.startswith(f"s3://{name}/") for x in paths)
            if urn in linked or named:
                used[urn] = b
    return used


def _on_bucket(r: Any, bucket: Any) -> bool:
    name = get(bucket.props, "bucket")
    linked = any(d.urn == bucket.urn for d in r.property_dependencies.get("bucket", []))
    return linked or (isinstance(name, str) and get(r.props, "bucket") == name)


@guarded
def async_bucket_private_and_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    """Requests and answers of an asynchronous endpoint are model inputs and outputs: the bucket this stack
    creates for them must not be reachable from the internet and must be encrypted at rest explicitly."""
    for bucket in _async_buckets(list(args.resources)).values():
        on = [r for r in args.resources if _on_bucket(r, bucket)]
        blocks = [r for r in on if r.resource_type in PUBLIC_ACCESS_BLOCK_TYPES]
        flags = [get(r.props, f) for r in blocks for f in PUBLIC_ACCESS_FLAGS]
        if any(isinstance(f, Opaque) for f in flags):
            args.not_applicable(f"bucket {bucket.name!r}: its public-access block is not known until deployment")
        if not any(all(get(r.props, f) is True for f in PUBLIC_ACCESS_FLAGS) for r in blocks):
            report(
                f"bucket {bucket.name!r} holds asynchronous inference requests and answers but has no "
                "public-access block with all four settings true. Fix: a BucketPublicAccessBlock on it with "
                "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true (sagezero's "
                "component creates one).",
                bucket.urn,
            )
        inline = get(bucket.props, "serverSideEncryptionConfiguration")
        if not inline and not any(r.resource_type in BUCKET_ENCRYPTION_TYPES for r in on):
            report(
                f"bucket {bucket.name!r} holds asynchronous inference requests and answers but declares no "
                "server-side encryption. Fix: a BucketServerSideEncryptionConfiguration on it (aws:kms with your "
                "key, or AES256).",
                bucket.urn,
            )


def _policy(name: str, description: str, validate: Any, stack: bool = False) -> Any:
    return make_policy(name, description, validate, EnforcementLevel.ADVISORY, stack=stack)


POLICIES = [
    _policy("instance-type-allowlist", "Endpoints use instance types the org allows.", instance_type_allowlist),
    _policy("required-tags", "SageMaker resources carry the org's cost-allocation tags.", required_tags),
    _policy(
        "ecr-scan-and-immutable-tags",
        "Image repositories scan on push and keep tags immutable.",
        ecr_scan_and_immutable_tags,
    ),
    _policy(
        "endpoint-config-kms-key", "Endpoint configs encrypt instance storage with a KMS key.", endpoint_config_kms_key
    ),
    _policy(
        "explicit-container-startup-timeout",
        "Containers have an explicit start-up health-check timeout sized for model load.",
        explicit_container_startup_timeout,
    ),
    _policy(
        "least-outstanding-requests-routing",
        "Real-time variants route to the least busy copy (LEAST_OUTSTANDING_REQUESTS).",
        least_outstanding_requests_routing,
    ),
    _policy(
        "serverless-provisioned-concurrency",
        "Serverless endpoints do not pay for idle provisioned concurrency.",
        serverless_provisioned_concurrency,
    ),
    _policy(
        "step-cooldown-covers-cold-start",
        "With more than one copy allowed, the wake step policy's cooldown covers a cold start (no overshoot).",
        step_cooldown_covers_cold_start,
        stack=True,
    ),
    _policy(
        "async-bucket-private-and-encrypted",
        "Buckets this stack creates for asynchronous inference block public access and are encrypted.",
        async_bucket_private_and_encrypted,
        stack=True,
    ),
    _policy(
        "execution-role-least-privilege",
        "SageMaker execution roles have no wildcard actions and no admin managed policies.",
        execution_role_least_privilege,
        stack=True,
    ),
]
