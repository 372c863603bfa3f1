"""Policy pack entry point run by the Pulumi CLI (`pulumi preview --policy-pack policies`).

Prints nothing before the SDK prints its gRPC port; all logic lives in sagezero.policies.
"""

from sagezero.policies.pack import serve

serve()
