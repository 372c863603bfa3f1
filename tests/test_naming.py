"""Physical names: stacks and tenants that differ only by case or punctuation never share an AWS name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sagezero import awsmodel
from sagezero.components.naming import BASE_MAX, physical_base

PART = st.text(alphabet="aAbB01_-. ", min_size=1, max_size=14).filter(lambda s: any(c.isalnum() for c in s))


def test_stacks_differing_only_by_case_or_punctuation_get_distinct_names() -> None:
    bases = {physical_base("sagezero", s, "acme") for s in ("prod_eu", "prod-eu", "Prod-EU", "prod.eu", "prodeu")}
    assert len({b.lower() for b in bases}) == 5, bases


def test_plain_names_stay_as_written() -> None:
    assert physical_base("sagezero", "dev", "acme") == "sagezero-dev-acme"
    assert physical_base("sagezero", "prod", "big-tenant") == "sagezero-prod-big-tenant"
    assert physical_base("acme", "dev") == "acme-dev"


def test_hyphens_cannot_move_a_name_between_stack_and_tenant() -> None:
    assert physical_base("sagezero", "x", "a-b") != physical_base("sagezero", "x-a", "b")


@given(st.tuples(PART, PART), st.tuples(PART, PART))
def test_distinct_stack_and_tenant_pairs_never_collide(a: tuple[str, str], b: tuple[str, str]) -> None:
    if a != b:
        assert physical_base("sagezero", *a).lower() != physical_base("sagezero", *b).lower()


@given(st.lists(PART, min_size=1, max_size=4))
def test_every_derived_name_passes_aws_rules(parts: list[str]) -> None:
    base = physical_base(*parts)
    assert len(base) <= BASE_MAX and base == base.lower()
    assert physical_base(base) == base, "a base is a valid name_prefix"
    assert awsmodel.check_member("sagemaker", "CreateEndpoint", "EndpointName", base) == []
    assert awsmodel.check_member("sagemaker", "CreateInferenceComponent", "InferenceComponentName", f"{base}-ic") == []
    assert awsmodel.check_member("cloudwatch", "PutMetricAlarm", "AlarmName", f"{base}-no-capacity") == []
