"""Operating a scale-to-zero endpoint from an application backend: warm it, invoke through a cold start.

boto3 only — importable where Pulumi is not installed. Every AWS failure becomes an OpsError that
names the resource, the AWS error code and a one-line hint.
"""

from sagezero.ops.errors import OpsError
from sagezero.ops.invoke import InvokeResult, RetryPolicy, invoke
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.warm import WarmResult, warm

__all__ = [
    "AwsClients",
    "InvokeResult",
    "OpsError",
    "RetryPolicy",
    "Target",
    "WarmResult",
    "invoke",
    "warm",
]
