"""sagezero: SageMaker endpoints that cost nothing while idle and wake themselves on demand.

The top-level package imports nothing heavy: the operations client must load in a web backend
that has boto3 but no Pulumi.
"""

__version__ = "0.1.0"
