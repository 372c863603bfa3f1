"""The simulator's instance table agrees with AWS's list of hosting types and with the accelerator default."""

from __future__ import annotations

from sagezero import awsmodel
from sagezero.settings import default_accelerators
from sagezero.simulate.prices import load


def test_every_priced_instance_is_a_hosting_type_aws_lists() -> None:
    valid = set(awsmodel.enum("sagemaker", "ProductionVariantInstanceType"))
    assert sorted(set(load().instances) - valid) == []


def test_the_accelerator_default_agrees_with_the_table() -> None:
    table = load().instances
    assert {t: (spec.accelerators > 0) for t, spec in table.items()} == {
        t: bool(default_accelerators(t)) for t in table
    }


def test_every_hosting_type_aws_lists_has_a_family_the_accelerator_table_classifies() -> None:
    from sagezero.settings import ACCELERATED_FAMILIES, CPU_FAMILIES, instance_family

    families = {t: instance_family(t) for t in awsmodel.enum("sagemaker", "ProductionVariantInstanceType")}
    assert [t for t, f in families.items() if f is None] == []
    unclassified = sorted({f for f in families.values() if f and f not in CPU_FAMILIES | ACCELERATED_FAMILIES})
    assert unclassified == [], "new families in botocore's enum: add them to CPU_FAMILIES or ACCELERATED_FAMILIES"
    assert not CPU_FAMILIES & ACCELERATED_FAMILIES


def test_gpu_families_with_hyphens_default_to_and_accept_an_accelerator() -> None:
    from sagezero.settings import build_settings

    for instance_type in ("ml.p6-b200.48xlarge", "ml.p6-b300.48xlarge", "ml.p6e-gb200.36xlarge"):
        assert default_accelerators(instance_type) == 1, instance_type
        settings, problems = build_settings({"instanceType": instance_type, "accelerators": 1}, camel_keys=True)
        assert problems == [] and settings is not None and settings.accelerators == 1, problems


def test_a_copy_larger_than_its_instance_is_refused() -> None:
    from sagezero.settings import build_settings

    raw = {"instanceType": "ml.g5.xlarge", "accelerators": 8, "minMemoryMb": 700000, "cpuCores": 64}
    _settings, problems = build_settings(raw, camel_keys=True)
    found = {p.key: p.message for p in problems}
    assert set(found) == {"accelerators", "minMemoryMb", "cpuCores"}, found
    assert "exceeds what one ml.g5.xlarge has (1 accelerator(s))" in found["accelerators"]
    assert "at most 16384" in found["minMemoryMb"]
    fits = {"instanceType": "ml.g5.xlarge", "accelerators": 1, "minMemoryMb": 16384, "cpuCores": 4}
    assert build_settings(fits, camel_keys=True)[1] == []


def test_tag_keys_reserved_for_aws_are_refused() -> None:
    from sagezero.settings import build_settings

    _settings, problems = build_settings({"tags": {"AWS:owner": "x", "owner": "y"}}, camel_keys=True)
    assert [(p.key, "reserved for AWS" in p.message and "'AWS:owner'" in p.message) for p in problems] == [
        ("tags", True)
    ]
