"""sagezero's rules, once: pure functions on the neutral wiring model (`sagezero.wiring`).

The policy pack, `check`, `plan` and `verify` are adapters that build a `Wiring` from their source
(engine properties, an export, AWS describe calls) and report what `judge` says.
"""

from sagezero.rules.judge import Judgement, judge
from sagezero.rules.verdicts import Finding, Unjudged, Verdicts

__all__ = ["Finding", "Judgement", "Unjudged", "Verdicts", "judge"]
