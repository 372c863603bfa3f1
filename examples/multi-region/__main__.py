"""Tenants in two regions and two accounts from one program; each tenant's children stay together.

`provider_pair` makes an aws and an aws-native provider from one region, profile and role; a plain
aws provider works too (the component derives the aws-native one from it).
"""

import pulumi
import pulumi_aws as aws

from sagezero.components import ScaleToZeroEndpoint, provider_pair

IMAGES = {
    "eu-west-1": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ranker@sha256:" + "0" * 64,
    "us-east-1": "210987654321.dkr.ecr.us-east-1.amazonaws.com/ranker@sha256:" + "0" * 64,
}

# Europe, this account: a plain aws provider is enough.
eu = aws.Provider("eu", region="eu-west-1")
europe = ScaleToZeroEndpoint(
    "ranker-eu",
    {"image_uri": IMAGES["eu-west-1"], "instance_type": "ml.c7i.xlarge"},
    opts=pulumi.ResourceOptions(provider=eu),
)

# US, another account reached through a role: both providers from the same settings.
us, us_native = provider_pair("us", region="us-east-1", role_arn="arn:aws:iam::210987654321:role/sagezero-deploy")
america = ScaleToZeroEndpoint(
    "ranker-us",
    {"image_uri": IMAGES["us-east-1"], "instance_type": "ml.g5.xlarge"},
    opts=pulumi.ResourceOptions(providers=[us, us_native]),
)

pulumi.export("eu", {"endpoint": europe.endpoint_name, "region": europe.region})
pulumi.export("us", {"endpoint": america.endpoint_name, "region": america.region})
