"""Shared AWS stand-ins for the operations tests: clients with botocore's Stubber on the services moto
lacks (inference components, App Auto Scaling for them), and canned answers shaped like AWS's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from sagezero.ops import AwsClients, Target

TARGET = Target("sagezero-prod-acme", "sagezero-prod-acme-ic")
RID = "inference-component/sagezero-prod-acme-ic"
DIM = "sagemaker:inference-component:DesiredCopyCount"
NOW = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
NO_CAPACITY = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress "
    "(if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API."
)


_BOTOCORE = botocore.session.get_session()
"""One botocore session for every test: it caches the service models it loads (a new session per test
loaded the large SageMaker model again each time); each test still gets its own clients."""


@pytest.fixture
def clients() -> AwsClients:
    session = boto3.Session(
        region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x", botocore_session=_BOTOCORE
    )
    return AwsClients(
        sagemaker=session.client("sagemaker"),
        runtime=session.client("sagemaker-runtime"),
        autoscaling=session.client("application-autoscaling"),
        cloudwatch=session.client("cloudwatch"),
    )


@pytest.fixture
def stubs(clients: AwsClients) -> Iterator[dict[str, Stubber]]:
    s = {name: Stubber(getattr(clients, name)) for name in ("sagemaker", "runtime", "autoscaling")}
    for st in s.values():
        st.activate()
    yield s
    for st in s.values():
        st.assert_no_pending_responses()
        st.deactivate()


def target_answer(min_cap: int, max_cap: int = 2) -> dict[str, Any]:
    return {
        "ScalableTargets": [
            {
                "ServiceNamespace": "sagemaker",
                "ResourceId": RID,
                "ScalableDimension": DIM,
                "MinCapacity": min_cap,
                "MaxCapacity": max_cap,
                "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/x",
                "CreationTime": NOW,
            }
        ]
    }


def ic_answer(desired: int, current: int, status: str = "InService") -> dict[str, Any]:
    return {
        "InferenceComponentName": TARGET.inference_component_name,
        "InferenceComponentArn": "arn:aws:sagemaker:eu-west-1:123456789012:inference-component/x",
        "EndpointName": TARGET.endpoint_name,
        "EndpointArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/x",
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
        "InferenceComponentStatus": status,
        "RuntimeConfig": {"DesiredCopyCount": desired, "CurrentCopyCount": current},
    }
