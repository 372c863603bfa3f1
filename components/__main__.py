"""Component provider host: serves ScaleToZeroEndpoint and InferenceImage to any Pulumi language.

`pulumi package add <repo>/components` runs this; it only hosts, it declares nothing itself.
"""

from importlib import metadata

from pulumi.provider.experimental import component_provider_host

from sagezero.components import ExecutionRole, InferenceImage, ScaleToZeroEndpoint

if __name__ == "__main__":
    # The schema and plugin report the installed distribution's version, so generated SDKs follow releases.
    component_provider_host(
        [ScaleToZeroEndpoint, InferenceImage, ExecutionRole], name="sagezero", version=metadata.version("sagezero")
    )
