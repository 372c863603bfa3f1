"""Least-privilege SageMaker execution role: pull one ECR repository, write its logs, read one S3 prefix;
for an asynchronous endpoint, read its own input prefix, write its own output and failure prefixes and
publish to its own topics.

Never grants wildcard actions or managed admin policies; the policy pack's role rule holds it to that.
"""

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

TYPE_TOKEN = "sagezero:index:ExecutionRole"
_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[a-z0-9._/-]+?)(?:[:@].*)?$"
)

ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def ecr_repository_arn(image_uri: str) -> str:
    """The repository ARN behind a private-ECR image URI; SageMaker can pull only from private ECR."""
    m = _ECR_URI.match(image_uri)
    if not m:
        raise ValueError(
            f"image URI {image_uri!r} is not a private ECR image "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]); SageMaker pulls only from ECR"
        )
    partition = "aws-cn" if ".amazonaws.com.cn/" in image_uri else "aws"
    return f"arn:{partition}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"


def arn_partition(arn: str) -> str:
    """The partition an ARN is in (`arn:<partition>:...`), `aws` when it is not an ARN."""
    parts = arn.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arn" and parts[1] else "aws"


def ecr_region(image_uri: str) -> str | None:
    """The region of a private-ECR image URI's registry, or None when the URI is not one."""
    m = _ECR_URI.match(image_uri)
    return m["region"] if m else None


# What SageMaker needs to attach a model's containers to a customer VPC (AWS: "Give SageMaker Hosted
# Endpoints Access to Resources in Your Amazon VPC"); these EC2 actions take no resource-level scoping.
VPC_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]


@dataclass(frozen=True)
class AsyncAccess:
    """What an asynchronous endpoint's container role touches: its queue layout in one bucket
    (`<bucket>/<base>/input|output|failure/`), its notification topics, and the key that encrypts them."""

    bucket: str
    base: str
    topics: Sequence[str] = ()
    kms_key_arn: str | None = None
    partition: str = "aws"


def async_statements(a: AsyncAccess) -> list[dict[str, Any]]:
    """Grants scoped to this endpoint's own prefixes: SageMaker reads a request from input/ and writes the
    answer to output/ or failure/; nothing else in the bucket (another tenant's prefix) is reachable."""
    objects = f"arn:{a.partition}:s3:::{a.bucket}/{a.base}"
    out: list[dict[str, Any]] = [
        {"Sid": "ReadAsyncRequests", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"{objects}/input/*"},
        {
            "Sid": "WriteAsyncResults",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{objects}/output/*", f"{objects}/failure/*"],
        },
    ]
    if a.topics:
        out.append(
            {"Sid": "PublishAsyncNotices", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": list(a.topics)}
        )
    if a.kms_key_arn:
        out.append(
            {
                "Sid": "UseAsyncKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": a.kms_key_arn,
            }
        )
    return out


def policy_document(
    repository_arn: str,
    s3_prefix: tuple[str, str] | None,
    *,
    vpc: bool = False,
    async_access: AsyncAccess | None = None,
) -> str:
    """The inline policy: exactly what a hosting container needs, nothing account-wide but the ECR token.
    ARNs are in the image repository's partition (aws, aws-cn, aws-us-gov): IAM matches `arn:aws:s3:::...`
    to nothing in China or GovCloud, so the container could read no model data, request or answer there."""
    partition = arn_partition(repository_arn)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "PullInferenceImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            "Resource": repository_arn,
        },
        # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
        {"Sid": "EcrToken", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": f"arn:{partition}:logs:*:*:log-group:/aws/sagemaker/*",
        },
        {
            "Sid": "PublishEndpointMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"]}},
        },
    ]
    if vpc:
        statements.append({"Sid": "AttachToVpc", "Effect": "Allow", "Action": VPC_ACTIONS, "Resource": "*"})
    if s3_prefix is not None:
        bucket, key = s3_prefix
        statements.append(
            {
                "Sid": "ReadModelData",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"arn:{partition}:s3:::{bucket}/{key}*",
            }
        )
        statements.append(
            {
                "Sid": "ListModelData",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": f"arn:{partition}:s3:::{bucket}",
                "Condition": {"StringLike": {"s3:prefix": [f"{key}*"]}},
            }
        )
    if async_access is not None:
        statements += async_statements(dataclasses.replace(async_access, partition=partition))
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


class ExecutionRoleArgs(TypedDict):
    """Arguments for an ExecutionRole."""

    repository_arn: pulumi.Input[str]
    """ARN of the one ECR repository the endpoint pulls from."""
    model_data_bucket: NotRequired[pulumi.Input[str]]
    """S3 bucket holding model artifacts, if any."""
    model_data_prefix: NotRequired[pulumi.Input[str]]
    """Key prefix inside that bucket the role may read."""
    vpc: NotRequired[bool]
    """Whether the model runs in a customer VPC (SageMaker then needs to manage network interfaces)."""
    tags: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """Tags on the role."""
    async_bucket: NotRequired[pulumi.Input[str]]
    """Asynchronous endpoints: the bucket holding the endpoint's input/, output/ and failure/ prefixes."""
    async_base: NotRequired[str]
    """Asynchronous endpoints: the key prefix (the endpoint's name) those three sit under."""
    async_topics: NotRequired[Sequence[pulumi.Input[str]]]
    """Asynchronous endpoints: the SNS topics the endpoint publishes success and error notices to."""
    async_kms_key_arn: NotRequired[pulumi.Input[str] | None]
    """Asynchronous endpoints: the key that encrypts the bucket, the results and the topics."""


class ExecutionRole(pulumi.ComponentResource):
    """An IAM role SageMaker assumes to pull the image, write logs and read model data."""

    arn: pulumi.Output[str]
    """ARN of the role."""

    def __init__(self, name: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=ASSUME_ROLE_POLICY,
            description="SageMaker execution role managed by sagezero (least privilege)",
            tags=pulumi.Output.from_input(args.get("tags") or {}).apply(lambda t: {"managed-by": "sagezero", **t}),
            opts=child,
        )
        vpc = bool(args.get("vpc"))

        asynchronous = "async_bucket" in args
        async_base = args.get("async_base", "")
        topics = list(args.get("async_topics") or [])

        def document(values: list[Any]) -> str:
            arn, bucket, prefix, async_bucket, key, *topic_arns = values
            access = AsyncAccess(async_bucket, async_base, [t for t in topic_arns if t], key or None)
            return policy_document(
                arn, (bucket, prefix or "") if bucket else None, vpc=vpc, async_access=access if asynchronous else None
            )

        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(
                args["repository_arn"],
                args.get("model_data_bucket"),
                args.get("model_data_prefix", ""),
                args.get("async_bucket"),
                args.get("async_kms_key_arn"),
                *topics,
            ).apply(document),
            opts=child,
        )
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
