"""Where an asynchronous endpoint's requests wait and its answers land: one S3 layout and two topics.

The layout is a contract with the ops client: under `s3://<bucket>/<base>/` a request is uploaded to
`input/`, SageMaker writes the answer to `output/` or the error to `failure/`. The bucket is created
(private, encrypted, TLS only, expiring the endpoint's objects) unless one is given; the SNS topics are
created when asked for, or given. Never creates resources inside `.apply`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from sagezero.settings import EndpointSettings

BUCKET_PREFIX_MAX = 37
"""The longest `bucket_prefix` S3 bucket auto-naming accepts (63 minus the 26 unique characters it adds)."""


@dataclass(frozen=True)
class Layout:
    """The s3:// URLs of one endpoint's queue, all under `s3://<bucket>/<base>/`."""

    input: pulumi.Output[str]
    output: pulumi.Output[str]
    failure: pulumi.Output[str]


def layout(bucket: pulumi.Input[str], base: str) -> Layout:
    """The three prefixes the endpoint config, the role, the endpoint's tags and the client agree on."""

    def url(part: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("s3://", bucket, f"/{base}/{part}/")

    return Layout(url("input"), url("output"), url("failure"))


@dataclass
class Storage:
    """What the rest of the async endpoint needs from its storage."""

    bucket: pulumi.Input[str]
    """The bucket's name."""
    layout: Layout
    success_topic_arn: pulumi.Input[str] | None
    error_topic_arn: pulumi.Input[str] | None
    ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources that must exist before the endpoint takes requests (encryption, public-access block, policy)."""

    @property
    def topics(self) -> list[pulumi.Input[str]]:
        return [t for t in (self.success_topic_arn, self.error_topic_arn) if t is not None]


def bucket_prefix(base: str) -> str:
    """A prefix S3 auto-naming accepts, recognisably the endpoint's (bases are lowercase, digits, hyphens)."""
    return base[: BUCKET_PREFIX_MAX - 1].rstrip("-") + "-"


def deny_insecure_transport(bucket_arn: str) -> str:
    """The bucket policy: every request over plain HTTP is refused, whoever makes it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def create_bucket(
    name: str,
    base: str,
    s: EndpointSettings,
    *,
    kms_key_arn: pulumi.Input[str] | None,
    tags: pulumi.Input[Mapping[str, str]],
    child: pulumi.ResourceOptions,
) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
    """A private bucket for one endpoint's queue: owner-enforced (no ACLs), every public-access block on,
    encrypted with the tenant's key (else S3-managed), TLS only, and the endpoint's objects expired after
    `async_expiry_days` (abandoned multipart uploads after a day) so requests and answers do not pile up."""
    bucket = aws.s3.Bucket(f"{name}-async", bucket_prefix=bucket_prefix(base), tags=tags, opts=child)
    on_bucket = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[bucket]))
    ownership = aws.s3.BucketOwnershipControls(
        f"{name}-async-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=on_bucket
    )
    public = aws.s3.BucketPublicAccessBlock(
        f"{name}-async-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=on_bucket,
    )
    default: aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict = (
        {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn} if kms_key_arn else {"sse_algorithm": "AES256"}
    )
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-async-encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": default, "bucket_key_enabled": bool(kms_key_arn)}],
        opts=on_bucket,
    )
    lifecycle = aws.s3.BucketLifecycleConfiguration(
        f"{name}-async-expiry",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-async-requests-and-results",
                "status": "Enabled",
                "filter": {"prefix": f"{base}/"},
                "expiration": {"days": s.async_expiry_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
            }
        ],
        opts=on_bucket,
    )
    # A policy is only accepted once the public-access block is in place (it would otherwise race it).
    policy = aws.s3.BucketPolicy(
        f"{name}-async-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(deny_insecure_transport),
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[public])),
    )
    return bucket, [ownership, public, encryption, lifecycle, policy]


def create_topic(
    name: str,
    kind: str,
    *,
    kms_key_arn: pulumi.Input[str] | None,
    tags: pulumi.Input[Mapping[str, str]],
    child: pulumi.ResourceOptions,
) -> aws.sns.Topic:
    """An encrypted topic for one kind of notice: the tenant's key, else the AWS-managed SNS key."""
    return aws.sns.Topic(
        f"{name}-async-{kind}", kms_master_key_id=kms_key_arn or "alias/aws/sns", tags=tags, opts=child
    )


def storage(
    name: str,
    base: str,
    s: EndpointSettings,
    *,
    bucket: pulumi.Input[str] | None,
    success_topic_arn: pulumi.Input[str] | None,
    error_topic_arn: pulumi.Input[str] | None,
    kms_key_arn: pulumi.Input[str] | None,
    tags: pulumi.Input[Mapping[str, str]],
    child: pulumi.ResourceOptions,
) -> Storage:
    """The given bucket and topics, or created ones: never both for one kind (settings refuse that)."""
    ready: list[pulumi.Resource] = []
    if bucket is None:
        created, ready = create_bucket(name, base, s, kms_key_arn=kms_key_arn, tags=tags, child=child)
        bucket = created.bucket
    if s.async_notifications:
        success_topic_arn = create_topic(name, "success", kms_key_arn=kms_key_arn, tags=tags, child=child).arn
        error_topic_arn = create_topic(name, "error", kms_key_arn=kms_key_arn, tags=tags, child=child).arn
    return Storage(bucket, layout(bucket, base), success_topic_arn, error_topic_arn, ready)
