"""sagezero's Pulumi components: a scale-to-zero SageMaker endpoint and the image it serves.

Import from here (`from sagezero.components import ScaleToZeroEndpoint`); this package never
reads stack config — callers pass typed args.
"""

from sagezero.components.args import ScaleToZeroEndpointArgs
from sagezero.components.execution_role import ExecutionRole, ExecutionRoleArgs
from sagezero.components.inference_image import InferenceImage, InferenceImageArgs
from sagezero.components.providers import ProviderMismatchError, provider_pair
from sagezero.components.scale_to_zero import ScaleToZeroEndpoint

__all__ = [
    "ExecutionRole",
    "ExecutionRoleArgs",
    "InferenceImage",
    "InferenceImageArgs",
    "ProviderMismatchError",
    "ScaleToZeroEndpoint",
    "ScaleToZeroEndpointArgs",
    "provider_pair",
]
