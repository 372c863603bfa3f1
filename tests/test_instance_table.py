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
