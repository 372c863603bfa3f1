"""The component package as another language's program sees it: the provider host over gRPC."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, grpc_plugin

grpc = pytest.importorskip("grpc")
pytest.importorskip("pulumi")

from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc  # noqa: E402


@pytest.fixture(scope="module")
def schema() -> Iterator[dict[str, Any]]:
    # The CLI starts a Python plugin as `python -u __main__.py <engine-address>` from the plugin folder;
    # the first stdout line is the gRPC port.
    with (
        grpc_plugin([sys.executable, "-u", "__main__.py", "127.0.0.1:9"], ROOT / "components") as address,
        grpc.insecure_channel(address) as channel,
    ):
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        yield json.loads(response.schema)


def test_schema_names_the_package_and_components(schema: dict[str, Any]) -> None:
    from importlib import metadata

    assert schema["name"] == "sagezero"
    assert schema["version"] == metadata.version("sagezero") != "0.0.0"
    assert {"sagezero:index:ScaleToZeroEndpoint", "sagezero:index:InferenceImage"} <= set(schema["resources"])


def test_endpoint_inputs_are_typed_and_documented(schema: dict[str, Any]) -> None:
    ep = schema["resources"]["sagezero:index:ScaleToZeroEndpoint"]
    assert ep["isComponent"] is True
    inputs = ep["inputProperties"]
    for key in ("imageUri", "maxCopies", "minMemoryMb", "targetValue", "scaleInCooldownS", "instanceType", "mode"):
        assert key in inputs, key
    assert inputs["maxCopies"]["type"] == "integer"
    assert inputs["targetValue"]["type"] == "number"
    assert "Upper bound for inference-component copies" in inputs["maxCopies"]["description"]
    assert ep.get("requiredInputs", []) == [], "every input has the seed's default"


def test_endpoint_outputs_are_listed(schema: dict[str, Any]) -> None:
    outputs = schema["resources"]["sagezero:index:ScaleToZeroEndpoint"]["properties"]
    for key in ("endpointName", "inferenceComponentName", "imageUri", "roleArn", "alarmName", "stepPolicyArn"):
        assert key in outputs, key
    for key in ("Input", "Output", "Failure"):
        assert "s3://" in outputs[f"async{key}Location"]["description"], key
    for key in ("asyncBucketName", "asyncSuccessTopicArn", "asyncErrorTopicArn"):
        assert outputs[key]["type"] == "string", key


def test_mode_is_a_closed_choice(schema: dict[str, Any]) -> None:
    ref = schema["resources"]["sagezero:index:ScaleToZeroEndpoint"]["inputProperties"]["mode"]["$ref"]
    enum = schema["types"][ref.removeprefix("#/types/")]
    assert sorted(v["value"] for v in enum["enum"]) == ["async", "scale-to-zero", "serverless"]


def test_yaml_example_uses_only_inputs_the_schema_declares(schema: dict[str, Any]) -> None:
    import yaml

    doc = yaml.safe_load((ROOT / "examples" / "yaml-consumer" / "Pulumi.yaml").read_text())
    declared = schema["resources"]["sagezero:index:ScaleToZeroEndpoint"]["inputProperties"]
    for resource in doc["resources"].values():
        assert resource["type"] == "sagezero:ScaleToZeroEndpoint"
        assert set(resource["properties"]) <= set(declared)


def test_schema_declares_every_setting_with_its_doc(schema: dict[str, Any]) -> None:
    import dataclasses

    from sagezero.settings import EndpointSettings, camel

    inputs = schema["resources"]["sagezero:index:ScaleToZeroEndpoint"]["inputProperties"]
    for f in dataclasses.fields(EndpointSettings):
        assert camel(f.name) in inputs, f.name
        assert inputs[camel(f.name)]["description"].startswith(f.metadata["doc"]), f.name
    assert inputs["vpcSubnetIds"]["type"] == "array"
