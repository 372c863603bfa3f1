"""Writes the component's args TypedDict and the README's settings table from EndpointSettings.

The settings are defined once, in `sagezero.settings.EndpointSettings` (name, type, default, range,
doc). Pulumi infers the multi-language schema from a TypedDict's source (annotations and attribute
docstrings), so the TypedDict must exist as source: this module renders it, and a test fails when
the checked-in `components/args.py` or the README table differ from what it renders.

    python -m sagezero.components.argsgen        # rewrite both
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any

from sagezero.settings import EndpointSettings, Mode, camel

ARGS_FILE = Path(__file__).resolve().parent / "args.py"
README = Path(__file__).resolve().parent.parent / "README.md"
TABLE_BEGIN, TABLE_END = (
    "<!-- settings:begin (generated: python -m sagezero.components.argsgen) -->",
    "<!-- settings:end -->",
)

# Arguments of the component that are not endpoint settings (where the image and role come from).
COMPONENT_ARGS: list[tuple[str, str, str]] = [
    ("image_uri", "pulumi.Input[str]", "Existing private-ECR image to serve. When absent, the component builds `image_context` and pushes it."),
    ("image_repository_arn", "pulumi.Input[str]", "ARN of the ECR repository holding `image_uri` (derived from the URI when absent)."),
    ("image_context", "str", "Docker build context to build when no `image_uri` is given. Default: sagezero's own `image/` (a source checkout)."),
    ("execution_role_arn", "pulumi.Input[str]", "Existing SageMaker execution role. When absent, a least-privilege role is created."),
    ("name_prefix", "str", "Base of the AWS names (endpoint, inference component, alarm, policies). Default: `<name>-<stack>`."),
]  # fmt: skip
_PLAIN = {
    "Mode": "Mode",
    "str": "str",
    "str | None": "str",
    "int": "int",
    "float": "float",
    "float | None": "float",
    "bool": "bool",
}
_INPUT = {
    "str | None": "pulumi.Input[str]",
    "Mapping[str, str]": "pulumi.Input[Mapping[str, pulumi.Input[str]]]",
    "tuple[str, ...]": "pulumi.Input[Sequence[pulumi.Input[str]]]",
}


def annotation(f: dataclasses.Field[Any]) -> str:
    """The args annotation of a setting: its plain type, or a pulumi.Input when it may come from a resource."""
    table = _INPUT if f.metadata.get("input") else _PLAIN
    return str(table[str(f.type)])


def _show(value: Any) -> str:
    if isinstance(value, Mode):
        return value.value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(f: dataclasses.Field[Any]) -> str:
    """The doc of a setting with its range and default, as the schema and README show it."""
    text = str(f.metadata.get("doc", ""))
    if "min" in f.metadata:
        text += f" {_show(f.metadata['min'])}-{_show(f.metadata['max'])}."
    if "default_doc" in f.metadata:
        text += f" Default: {f.metadata['default_doc']}."
    elif f.default not in (dataclasses.MISSING, None, (), ""):
        text += f" Default: {_show(f.default)}."
    return text


def render_args() -> str:
    lines = [
        '"""Generated from sagezero.settings.EndpointSettings by `python -m sagezero.components.argsgen`: do not edit.',
        "",
        "The component's arguments; Pulumi infers the multi-language schema from this class.",
        '"""',
        "",
        "from collections.abc import Mapping, Sequence",
        "from typing import NotRequired, TypedDict",
        "",
        "import pulumi",
        "",
        "from sagezero.settings import Mode",
        "",
        '__all__ = ["ScaleToZeroEndpointArgs"]',
        "",
        "",
        "class ScaleToZeroEndpointArgs(TypedDict):",
        '    """Arguments for a ScaleToZeroEndpoint. Every setting has a default (the seed\'s values)."""',
        "",
    ]
    for name, typ, doc in COMPONENT_ARGS:
        lines += [f"    {name}: NotRequired[{typ}]", f'    """{doc}"""']
    for f in dataclasses.fields(EndpointSettings):
        lines += [f"    {f.name}: NotRequired[{annotation(f)}]", f'    """{describe(f)}"""']
    return "\n".join(lines) + "\n"


def render_table() -> str:
    rows = ["| setting (stack config / component arg) | what |", "|---|---|"]
    for f in dataclasses.fields(EndpointSettings):
        rows.append(f"| `{camel(f.name)}` / `{f.name}` | {describe(f)} |")
    return "\n".join([TABLE_BEGIN, *rows, TABLE_END])


def readme_with_table(text: str) -> str:
    pattern = re.compile(re.escape(TABLE_BEGIN) + r".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"README has no settings table markers ({TABLE_BEGIN} ... {TABLE_END})")
    return pattern.sub(lambda _m: render_table(), text)


def main() -> int:
    ARGS_FILE.write_text(render_args())
    README.write_text(readme_with_table(README.read_text()))
    print(f"wrote {ARGS_FILE} and the settings table in {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
