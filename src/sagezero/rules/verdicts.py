"""What a rule can say: a finding (a break, with the node to fix), or that something could not be judged.

A rule that cannot judge a value (unknown at preview, or a secret in an export made without
`--show-secrets`) says which value and why; it never passes silently and never guesses a violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The rule names are the policy names the pack reports and org config refers to.
MIN_INSTANCES = "endpoint-min-instance-zero"
TARGET_MIN = "inference-component-scalable-target-min-zero"
WAKE = "scale-from-zero-alarm"
SCALE_IN = "scale-to-zero-target-tracking"
CEILINGS = "scaling-ceilings"
COOLDOWN = "step-cooldown-covers-cold-start"


@dataclass(frozen=True)
class Finding:
    """One break: `kind` is a stable short name, `ref` the URN (or ARN) a human must change."""

    rule: str
    kind: str
    ref: str
    message: str


@dataclass(frozen=True)
class Unjudged:
    """A value a rule needed but could not read; `what` names the resource property."""

    rule: str
    ref: str
    what: str
    why: str

    @property
    def message(self) -> str:
        return f"{self.what}: {self.why}"


@dataclass
class Verdicts:
    """Everything the rules said about one wiring."""

    findings: list[Finding] = field(default_factory=list)
    unjudged: list[Unjudged] = field(default_factory=list)

    def find(self, rule: str, kind: str, ref: str, message: str) -> None:
        self.findings.append(Finding(rule, kind, ref, message))

    def cannot(self, rule: str, ref: str, what: str, why: str) -> None:
        self.unjudged.append(Unjudged(rule, ref, what, why))

    def extend(self, other: Verdicts) -> None:
        self.findings.extend(other.findings)
        self.unjudged.extend(other.unjudged)

    def for_rule(self, rule: str) -> Verdicts:
        return Verdicts([f for f in self.findings if f.rule == rule], [u for u in self.unjudged if u.rule == rule])


@dataclass
class LinkJudgement:
    """What one link of a wake path (an alarm, a step policy) is found to be, before it becomes findings."""

    breaks: list[tuple[str, str]] = field(default_factory=list, kw_only=True)
    """(kind, message): why this link cannot do its part."""
    rejected: list[tuple[str, str]] = field(default_factory=list, kw_only=True)
    """(kind, message): AWS would refuse the resource at `pulumi up`."""
    unjudged: list[tuple[str, str]] = field(default_factory=list, kw_only=True)
    """(property, why): what could not be read."""
