"""Stack config: typed reading of Pulumi.<stack>.yaml, and every mistake named with stack and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sagezero.settings import Mode
from sagezero.stackconfig import StackConfigError, load_stack, parse_stack_config

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_stacks_parse() -> None:
    dev = load_stack(ROOT, "dev")
    prod = load_stack(ROOT, "prod")
    assert [t.name for t in dev.tenants] == ["acme", "globex"]
    assert dev.defaults.instance_type != prod.defaults.instance_type
    acme = next(t for t in prod.tenants if t.name == "acme")
    initech = next(t for t in prod.tenants if t.name == "initech")
    assert (acme.settings.max_copies, acme.settings.max_instance_count) == (4, 4)
    assert initech.settings.instance_type == "ml.g5.2xlarge"
    assert initech.settings.max_copies == 2, "tenants inherit stack defaults"
    assert prod.region == "us-east-1"


def test_engine_json_strings_are_read_like_parsed_yaml() -> None:
    cfg = parse_stack_config(
        "dev", {"sagezero:tenants": '[{"name": "a", "maxCopies": 3}]', "sagezero:defaults": '{"accelerators": 1}'}
    )
    assert cfg.tenants[0].settings.max_copies == 3
    assert cfg.tenants[0].settings.mode is Mode.SCALE_TO_ZERO


def test_every_problem_is_reported_at_once_with_stack_and_key() -> None:
    with pytest.raises(StackConfigError) as e:
        parse_stack_config(
            "prod",
            {
                "sagezero:defaults": {"maxCopies": 0, "instanceType": "ml.nope.large", "colour": "red"},
                "sagezero:tenants": [
                    {"name": "Acme!"},
                    {"name": "ok", "minMemoryMb": 10},
                    {"name": "ok"},
                    {"name": "cpu", "instanceType": "ml.m5.large", "accelerators": 1},
                ],
                "sagezero:imge": {},
                "sagezero:image": {"uri": "x", "context": "image"},
            },
        )
    msg = str(e.value)
    assert msg.startswith("stack 'prod' has ")
    for expected in (
        "sagezero:defaults.maxCopies: 0 is outside 1-100",
        "sagezero:defaults.colour: unknown setting",
        "sagezero:tenants[0].name: 'Acme!' must be 1-24 lowercase",
        "sagezero:tenants[1].minMemoryMb: 10 is outside 128",
        "sagezero:tenants[2].name: duplicate tenant 'ok'",
        "sagezero:tenants[3].accelerators:",
        "sagezero:imge: unknown key",
        "sagezero:image: give either `uri`",
    ):
        assert expected in msg, f"missing {expected!r} in:\n{msg}"
    assert len(e.value.problems) >= 8


def test_tenant_override_breaking_an_inherited_default_is_caught() -> None:
    with pytest.raises(StackConfigError, match=r"tenants\[0\]\.accelerators"):
        parse_stack_config(
            "dev",
            {
                "sagezero:defaults": {"accelerators": 1},
                "sagezero:tenants": [{"name": "a", "instanceType": "ml.m5.large"}],
            },
        )


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({}, "sagezero:tenants: required"),
        ({"sagezero:tenants": []}, "non-empty list"),
        ({"sagezero:tenants": "not json"}, "expected a structured value"),
        ({"sagezero:tenants": [{"name": "a", "maxCopies": "three"}]}, "expected a whole number, got 'three'"),
        ({"sagezero:tenants": [{"name": "a", "mode": "lambda"}]}, "'lambda' is not one of scale-to-zero, serverless"),
        ({"sagezero:tenants": ["a"], "sagezero:image": {"retainImages": 0}}, "retainImages: 0 is outside 1-1000"),
        ({"sagezero:tenants": ["a"], "sagezero:defaults": [1]}, "sagezero:defaults: expected a mapping"),
    ],
)
def test_single_mistakes(values: dict[str, object], text: str) -> None:
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("dev", values)
    assert text in str(e.value)


def test_missing_stack_file_lists_the_stacks_there() -> None:
    with pytest.raises(StackConfigError) as e:
        load_stack(ROOT, "staging")
    assert "no such stack file; stacks here: dev, prod" in str(e.value)


def test_other_namespaces_are_left_alone() -> None:
    values = {"sagezero:tenants": ["a"], "aws:region": "eu-west-1", "aws:profile": "x"}
    cfg = parse_stack_config("dev", {**values, "aws-native:region": "eu-west-1", "aws-native:profile": "x"})
    assert cfg.region == "eu-west-1"


# ---- untrusted files: bounded reading, short quotes ---------------------------------------------


def _stack(tmp_path: Path, text: str | bytes) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "Pulumi.s.yaml").write_bytes(data)
    return tmp_path


BOMB = "config:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BOMB, "Pulumi.s.yaml: not valid YAML (expands to more than 100,000 values through its aliases"),
        ("config: &x\n  k: *x\n", "an alias refers to the value that holds it"),
        ("config:\n  sagezero:tenants: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
        ("config:\n  sagezero:tenants: [\n", "Pulumi.s.yaml: line 3: not valid YAML (expected the node content"),
        (b"config:\n  x: \xff\xfe\n", "Pulumi.s.yaml: line 2: not UTF-8 text (byte 0xff); is it binary?"),
        ("x" * (4 * 1024 * 1024 + 1), "larger than 4,194,304 bytes"),
        ("- a\n- b\n", "expected a YAML mapping at the top level"),
    ],
)
def test_stack_files_that_cannot_be_read_are_one_problem(tmp_path: Path, text: str | bytes, message: str) -> None:
    with pytest.raises(StackConfigError) as e:
        load_stack(_stack(tmp_path, text), "s")
    assert len(e.value.problems) == 1 and message in str(e.value), str(e.value)


def test_a_folder_where_the_stack_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.s.yaml").mkdir()
    with pytest.raises(StackConfigError, match=r"Pulumi\.s\.yaml: is a folder"):
        load_stack(tmp_path, "s")


def test_non_finite_numbers_and_huge_text_are_refused_by_key_and_quoted_short() -> None:
    values: dict[Any, Any] = {
        "sagezero:tenants": [{"name": "a", "targetValue": float("nan"), "modelDataUrl": "s3://" + "b" * 10**6}],
        "sagezero:defaults": '{"scaleInCooldownS": NaN, "cpuCores": Infinity}',  # the engine's JSON text
        "sagezero:traffic": {"holdMinutes": float("-inf")},
        7: "a number as a key",  # YAML allows it
    }
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("dev", values)
    msg = str(e.value)
    for expected in (
        "sagezero:tenants[0].targetValue: expected a finite number, got nan",
        "sagezero:tenants[0].modelDataUrl: a 1,000,005-character value 's3://bbb",
        "sagezero:defaults.scaleInCooldownS: expected a finite number, got nan",
        "sagezero:defaults.cpuCores: expected a finite number, got inf",
        "sagezero:traffic.holdMinutes: expected a finite number, got -inf",
        "7: config keys must be text",
    ):
        assert expected in msg, f"missing {expected!r} in:\n{msg}"
    assert len(e.value.problems) == 6, "each fault once: none repeated by the checks after it"
    assert max(len(line) for line in msg.splitlines()) < 200


def test_problem_lists_are_capped() -> None:
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("dev", {"sagezero:tenants": [{"name": f"T{i}"} for i in range(500)]})
    lines = str(e.value).splitlines()
    assert len(e.value.problems) == 500 and len(lines) == 1 + 50 + 1 and lines[-1] == "  ... and 450 more"


def test_a_region_sagemaker_does_not_have_is_refused_with_the_nearest() -> None:
    from sagezero.stackconfig import StackConfigError, parse_stack_config

    values = {"sagezero:tenants": ["a"], "aws:region": "eu-westt-1", "aws-native:region": "eu-westt-1"}
    with pytest.raises(StackConfigError) as e:
        parse_stack_config("s", values)
    assert "aws:region: 'eu-westt-1' is not a region where SageMaker is available" in str(e.value)
    assert "did you mean eu-west-1" in str(e.value)
    for region in ("eu-west-1", "cn-north-1", "us-gov-west-1"):
        assert parse_stack_config("s", {**values, "aws:region": region, "aws-native:region": region}).region == region
