"""sagezero's inference server: the SageMaker hosting contract (/ping, /invocations) around user hooks.

Stdlib plus uvicorn only at import time (numpy loads on the first NPY request), so the container is
ready within a fraction of a second; never writes outside TMPDIR.
"""

from sagezero_serve.errors import BadRequest, HTTPError
from sagezero_serve.handler import RequestContext

__all__ = ["BadRequest", "HTTPError", "RequestContext"]
__version__ = "0.1.0"
