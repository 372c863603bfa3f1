"""Operating a scale-to-zero endpoint: warm it, invoke through a cold start (or asynchronously, through
S3), status, verify, teardown.

boto3 only — importable where Pulumi is not installed. Every AWS failure becomes an OpsError that
names the resource, the AWS error code and a one-line hint.
"""

from sagezero.ops.errors import OpsError
from sagezero.ops.invoke import InvokeResult, RetryPolicy, invoke
from sagezero.ops.invoke_async import AsyncResult, WaitPolicy, invoke_async
from sagezero.ops.status import Status, status
from sagezero.ops.target import AwsClients, Target
from sagezero.ops.teardown import TEARDOWN_ORDER, Deletion, teardown
from sagezero.ops.verify import VerifyReport, verify
from sagezero.ops.warm import WarmResult, warm

__all__ = [
    "TEARDOWN_ORDER",
    "AsyncResult",
    "AwsClients",
    "Deletion",
    "InvokeResult",
    "OpsError",
    "RetryPolicy",
    "Status",
    "Target",
    "VerifyReport",
    "WaitPolicy",
    "WarmResult",
    "invoke",
    "invoke_async",
    "status",
    "teardown",
    "verify",
    "warm",
]
