"""A team with its own image pipeline: one scale-to-zero endpoint from an image it already pushed."""

import pulumi

from sagezero.components import ScaleToZeroEndpoint

config = pulumi.Config()
endpoint = ScaleToZeroEndpoint(
    "recommender",
    {
        "image_uri": config.get("imageUri")
        or "123456789012.dkr.ecr.eu-west-1.amazonaws.com/recommender@sha256:" + "0" * 64,
        "instance_type": "ml.g6.xlarge",
        "max_copies": 3,
        "max_instance_count": 2,
        "min_memory_mb": 8192,
        "scale_in_cooldown_s": 600,
        "tags": {"team": "recommendations"},
    },
)
pulumi.export("endpoint_name", endpoint.endpoint_name)
pulumi.export("inference_component_name", endpoint.inference_component_name)
