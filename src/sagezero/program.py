"""The sagezero Pulumi program: one shared inference image and one isolated endpoint per tenant.

Reads typed stack config (every problem reported at once, before any resource is declared) and
declares components; never talks to AWS itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi

from sagezero.components import InferenceImage, ScaleToZeroEndpoint
from sagezero.components.inputs import INPUT_FIELDS
from sagezero.components.naming import physical_base
from sagezero.settings import EndpointSettings, Mode
from sagezero.stackconfig import StackConfig, StackConfigError, parse_stack_config


def config_values() -> dict[str, Any]:
    """The stack's config bag exactly as the language host passes it (PULUMI_CONFIG)."""
    return dict(pulumi.runtime.get_config_env())


def secret_inputs(settings: EndpointSettings) -> dict[str, Any]:
    """Every input field the settings set (environment, model data URL, KMS key, tags, VPC ids, async bucket
    and topics), wrapped as secrets: a `secure:` value may sit in any of them, and whatever carries one into
    a resource must stay secret in state."""
    out: dict[str, Any] = {}
    for field in INPUT_FIELDS:
        value = getattr(settings, field)
        if value:
            plain = dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple) else value
            out[field] = pulumi.Output.secret(plain)
    return out


def declare(config: StackConfig) -> dict[str, ScaleToZeroEndpoint]:
    """Declare the shared image and every tenant's endpoint; returns the endpoints by tenant."""
    project, stack = pulumi.get_project(), pulumi.get_stack()
    shared: dict[str, Any] = {}
    if config.image.uri:
        shared["image_uri"] = config.image.uri
    else:
        image = InferenceImage(
            "image",
            {
                "context": config.image.context or "image",
                "platform": config.image.platform,
                "build_args": dict(config.image.build_args),
                "retain_images": config.image.retain_images,
                "tags": {"sagezero:stack": stack},
            },
        )
        shared = {"image_uri": image.image_uri, "image_repository_arn": image.repository_arn}
        pulumi.export("image_uri", image.image_uri)

    # A `secure:` value anywhere under a key makes the whole key secret (the CLI decrypts it for us);
    # what such keys carry into resources stays secret in state.
    secret = {"sagezero:defaults", "sagezero:tenants"} & set(pulumi.runtime.get_config_secret_keys_env())
    endpoints: dict[str, ScaleToZeroEndpoint] = {}
    for tenant in config.tenants:
        tags = {"sagezero:tenant": tenant.name, "sagezero:stack": stack, **tenant.settings.tags}
        settings = dataclasses.replace(tenant.settings, tags=tags)
        extra: dict[str, Any] = {**shared, "name_prefix": physical_base(project, stack, tenant.name)}
        if secret:
            extra.update(secret_inputs(settings))
        # The stack config validated these settings already: the component takes them as they are.
        ep = ScaleToZeroEndpoint.from_settings(tenant.name, settings, extra)
        endpoints[tenant.name] = ep
        exported: dict[str, Any] = {
            "endpoint_name": ep.endpoint_name,
            "inference_component_name": ep.inference_component_name,
            "alarm_name": ep.alarm_name,
            "step_policy_arn": ep.step_policy_arn,
            "target_policy_arn": ep.target_policy_arn,
            "mode": tenant.settings.mode.value,
        }
        if (
            tenant.settings.mode is Mode.ASYNC
        ):  # where to put requests and find answers (the endpoint's tags say it too)
            exported |= {
                "async_input_location": ep.async_input_location,
                "async_output_location": ep.async_output_location,
                "async_failure_location": ep.async_failure_location,
            }
        pulumi.export(tenant.name, exported)
    return endpoints


def main() -> None:
    """Entry point called by the project's `__main__.py`."""
    try:
        config = parse_stack_config(pulumi.get_stack(), config_values())
    except StackConfigError as e:
        # RunError ends the program with this message alone, not a traceback of our own code.
        raise pulumi.RunError(str(e)) from None
    declare(config)
