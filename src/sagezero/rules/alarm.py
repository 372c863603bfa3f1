"""Judge a wake alarm by what CloudWatch would do with it, not by how its fields look.

The alarm is run through three situations with the datapoints SageMaker would publish (one sample
per invocation: 1 for a request that found no capacity, 0 for any other answer; a period without
invocations is missing data): a request fails at zero copies, copies are serving, nothing happens.
It must trip in the first, never in the other two. Metric-math alarms get the same treatment
through `metric_math`. The breach deltas it reports let the step policy be checked for coverage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagezero import wiring
from sagezero.rules import metric_math
from sagezero.rules.verdicts import LinkJudgement
from sagezero.values import Opaque, is_num, shown
from sagezero.wiring import Alarm, Node

VALID_STATS = ("Maximum", "Minimum", "Sum", "SampleCount", "Average")
COMPARE = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
MAX_FAILURES = 64
"""Failures per period tried when a statistic grows with them (Sum, SampleCount)."""


@dataclass(frozen=True)
class Signal:
    """What a wake alarm must watch for one unit (an inference component or an async variant)."""

    metric: str
    dimension: str
    value: Any
    owner: Node
    persistent: bool = False
    """True when the signal stays up while the request waits (async backlog); False when one request
    produces one sample (NoCapacityInvocationFailures: a failed request is gone)."""

    @property
    def series(self) -> str:
        return f"{wiring.ALARM_NAMESPACE}/{self.metric} {{{self.dimension}={shown(self.value)}}}"


@dataclass
class AlarmJudgement(LinkJudgement):
    alarm: Alarm
    spurious: list[tuple[str, str]] = field(default_factory=list)
    """(kind, message): it trips without a failure (always wrong when it fires a wake policy)."""
    deltas: list[float] = field(default_factory=list)
    """Breach deltas (datapoint - threshold) one or more failures in a period produce."""
    unbounded: bool = False
    """The datapoint grows without bound with the failures (Sum, SampleCount)."""
    below: bool = False
    """The alarm breaches below its threshold (LessThan...): step bounds then read the other way."""


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


_EXTENDED = re.compile(r"^(p|tm|wm|tc|ts|TM|WM|TC|TS|PR)\(?[0-9.:%]*\)?$|^IQM$")


def valid_extended(stat: Any) -> bool:
    """CloudWatch's extended statistics: percentiles (p99), trimmed/winsorized means and counts, IQM."""
    if not isinstance(stat, str) or not _EXTENDED.match(stat):
        return False
    if stat.startswith("p"):
        p = _float(stat[1:])
        return p is not None and 0 < p < 100
    return True


def statistic(stat: str, samples: list[float]) -> float | None:
    """One period's datapoint from its samples (None: missing data)."""
    if not samples:
        return None
    if stat == "Sum":
        return float(sum(samples))
    if stat == "SampleCount":
        return float(len(samples))
    if stat == "Minimum":
        return min(samples)
    if stat == "Average":
        return sum(samples) / len(samples)
    if stat.startswith("p") and valid_extended(stat):
        return _percentile(samples, float(stat[1:]))
    if stat == "Maximum" or valid_extended(stat):
        # Trimmed and winsorized means, IQM and the like of samples that are all equal (every
        # situation judged here) are that value; Maximum is that value too.
        return max(samples) if stat == "Maximum" else sum(samples) / len(samples)
    raise ValueError(stat)


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


Model = Callable[[str, int], "float | None"]
"""(situation, failures in the period) -> the alarm's datapoint; situations: wake, serving, idle."""


def _samples(situation: str, failures: int) -> list[float]:
    if situation == "wake":
        return [1.0] * failures
    if situation == "serving":
        return [0.0] * 3
    return []  # idle: nothing is invoked, nothing is published


@dataclass(frozen=True)
class _Selects:
    """Whether a (namespace, metric, dimensions) triple selects the signal's series."""

    ok: bool | None
    """True: it does; False: it does not (see `kind`/`message`); None: hidden (see `what`/`why`)."""
    kind: str = ""
    message: str = ""
    what: str = ""
    why: str = ""


def _selects(name: str, signal: Signal, namespace: Any, metric: Any, dims: Any, where: str) -> _Selects:  # noqa: PLR0917
    hidden = next((x for x in (namespace, metric) if isinstance(x, Opaque)), None)
    if hidden is not None:
        return _Selects(None, what=f"{where}namespace/metricName", why=hidden.why)
    if namespace != wiring.ALARM_NAMESPACE or metric != signal.metric:
        return _Selects(False, "wrong-metric", f"alarm {name} watches {shown(namespace)}/{shown(metric)}, expected "
                        f"{wiring.ALARM_NAMESPACE}/{signal.metric}")  # fmt: skip
    if isinstance(dims, Opaque):
        return _Selects(None, what=f"{where}dimensions", why=dims.why)
    dims = dict(dims) if isinstance(dims, Mapping) else {}
    if set(dims) != {signal.dimension}:
        return _Selects(False, "wrong-dimension", f"alarm {name} selects dimensions "
                        f"{{{', '.join(sorted(dims)) or 'none'}}}; CloudWatch matches the exact set, and "
                        f"{signal.metric} is published with {{{signal.dimension}}} only, so it sees no data")  # fmt: skip
    value = dims[signal.dimension]
    hidden = next((x for x in (value, signal.value) if isinstance(x, Opaque)), None)
    if hidden is not None:
        return _Selects(None, what=f"{where}dimensions.{signal.dimension}", why=hidden.why)
    if not isinstance(value, str) or value != str(signal.value):  # CloudWatch dimension values are case-sensitive
        return _Selects(False, "wrong-dimension", f"alarm {name} watches {signal.dimension}={shown(value)}, "
                        f"expected {shown(signal.value)}")  # fmt: skip
    return _Selects(True)


def _valid_stat(stat: Any) -> bool:
    return (isinstance(stat, str) and stat in VALID_STATS) or valid_extended(stat)


def _single(j: AlarmJudgement, signal: Signal) -> Model | None:
    a = j.alarm
    stat = a.extended_statistic if a.extended_statistic is not None else a.statistic
    if a.extended_statistic is not None and a.statistic is not None:
        j.rejected.append(("aws-rejects", f"alarm {a.label} sets both Statistic and ExtendedStatistic"))
        return None
    if a.statistic is not None and not isinstance(a.statistic, Opaque) and a.statistic not in VALID_STATS:
        j.rejected.append(("aws-rejects", f"alarm {a.label}: Statistic {shown(a.statistic)} is not one of "
                           f"{', '.join(VALID_STATS)} (percentiles go in ExtendedStatistic)"))  # fmt: skip
        return None
    sel = _selects(a.label, signal, a.namespace, a.metric, a.dimensions, "")
    if isinstance(stat, Opaque):
        j.unjudged.append(("statistic", stat.why))
        return None
    if stat is None:
        j.rejected.append(("aws-rejects", f"alarm {a.label} has neither Statistic nor ExtendedStatistic nor Metrics"))
        return None
    if not _valid_stat(stat):
        j.rejected.append(("aws-rejects", f"alarm {a.label} uses statistic {shown(stat)}, which CloudWatch lacks"))
        return None
    if sel.ok is None:
        j.unjudged.append((sel.what, sel.why))
        return None
    if sel.ok is False:
        j.breaks.append((sel.kind, sel.message))
        return None
    if a.unit is not None and not isinstance(a.unit, Opaque) and a.unit not in ("None", "Count"):
        j.breaks.append(("wrong-unit", f"alarm {a.label} asks for unit {shown(a.unit)}; {signal.metric} is published "
                         "without one, so the alarm sees no data"))  # fmt: skip
        return None
    if isinstance(stat, str) and stat.startswith("p") and a.low_sample_percentile == "ignore":
        j.breaks.append(("misses-first-failure", f"alarm {a.label}: {stat} with EvaluateLowSampleCountPercentile "
                         "ignore does not change state on one failed request (too few samples)"))  # fmt: skip
        return None
    return lambda situation, failures: statistic(str(stat), _samples(situation, failures))


def _math(j: AlarmJudgement, signal: Signal) -> Model | None:
    """A metric-math alarm: its queries on the signal's series feed the returned expression."""
    a = j.alarm
    queries = a.metrics or []
    if any(isinstance(q.id, Opaque) or isinstance(q.expression, Opaque) for q in queries):
        j.unjudged.append(("metrics", "metric queries are not known until deployment"))
        return None
    if any(x is not None for x in (a.metric, a.statistic, a.extended_statistic, a.namespace)):
        j.rejected.append(("aws-rejects", f"alarm {a.label} sets Metrics and also MetricName/Namespace/Statistic"))
        return None
    returned = [q for q in queries if q.return_data is True]
    if not returned and not any(q.return_data is False for q in queries if q.expression is not None):
        # ReturnData omitted: pulumi-aws sends false, the API defaults to true; one expression is the intent.
        expressions = [q for q in queries if q.expression is not None]
        returned = expressions if len(expressions) == 1 else ([queries[0]] if len(queries) == 1 else [])
    if len(returned) != 1:
        j.rejected.append(
            ("aws-rejects", f"alarm {a.label}: exactly one metric query must return data, {len(returned)} do")
        )
        return None
    stats: dict[str, str | None] = {}
    misses: list[_Selects] = []
    for q in queries:
        if q.expression is not None:
            continue
        sel = _selects(a.label, signal, q.namespace, q.metric, q.dimensions, f"metrics[{q.id}].")
        hidden = sel.why if sel.ok is None else (q.stat.why if isinstance(q.stat, Opaque) else "")
        if hidden:
            j.unjudged.append((sel.what or f"metrics[{q.id}].stat", hidden))
            return None
        if sel.ok and not _valid_stat(q.stat):
            j.rejected.append(("aws-rejects", f"alarm {a.label}: metrics[{q.id}] uses statistic {shown(q.stat)}"))
            return None
        stats[str(q.id)] = str(q.stat) if sel.ok else None  # another series: no data it can predict
        if not sel.ok:
            misses.append(sel)
    if all(v is None for v in stats.values()):
        first = misses[0] if misses else _Selects(False, "wrong-metric", f"alarm {a.label} reads no metric")
        j.breaks.append((first.kind, f"{first.message} (in every metric query)"))
        return None
    expression, returned_id = returned[0].expression, str(returned[0].id)

    def model(situation: str, failures: int) -> float | None:
        data = {k: statistic(v, _samples(situation, failures)) if v else None for k, v in stats.items()}
        return data.get(returned_id) if expression is None else metric_math.evaluate(str(expression), data)

    try:
        model("wake", 1)
    except metric_math.NotEvaluableError as e:
        j.unjudged.append(("metrics expression", str(e)))
        return None
    return model


def judge_alarm(alarm: Alarm, signal: Signal) -> AlarmJudgement:
    """Everything about one alarm that fires a wake policy of `signal`'s unit."""
    j = AlarmJudgement(alarm)
    a = alarm
    _aws_shape(j)
    if j.rejected:
        return j
    if isinstance(a.actions_enabled, Opaque):
        j.unjudged.append(("actionsEnabled", a.actions_enabled.why))
    elif a.actions_enabled is False:
        j.breaks.append(("actions-disabled", f"alarm {a.label} has ActionsEnabled false: it never runs its actions"))
    model = _math(j, signal) if a.metrics is not None else _single(j, signal)
    hidden = [
        (k, v) for k, v in (("threshold", a.threshold), ("comparisonOperator", a.comparison)) if isinstance(v, Opaque)
    ]
    for k, v in hidden:
        j.unjudged.append((k, v.why))
    if model is None or hidden:
        return j
    if not is_num(a.threshold) or not isinstance(a.comparison, str) or a.comparison not in COMPARE:
        j.rejected.append(
            ("aws-rejects", f"alarm {a.label}: threshold {shown(a.threshold)} / comparison {shown(a.comparison)}")
        )
        return j
    _behaviour(j, model, signal)
    return j


def _aws_shape(j: AlarmJudgement) -> None:
    a = j.alarm
    for k, v in (("evaluationPeriods", a.evaluation_periods), ("datapointsToAlarm", a.datapoints),
                 ("period", a.period), ("threshold", a.threshold)):  # fmt: skip
        if isinstance(v, Opaque):
            j.unjudged.append((k, v.why))
        elif v is not None and not is_num(v):
            j.rejected.append(("aws-rejects", f"alarm {a.label}: {k} {shown(v)} is not a finite number"))
        elif k in ("evaluationPeriods", "datapointsToAlarm", "period") and is_num(v) and v < 1:
            j.rejected.append(("aws-rejects", f"alarm {a.label}: {k} {v:g} must be at least 1"))
    period = a.period if a.metrics is None else next((q.period for q in a.metrics or [] if is_num(q.period)), 60)
    n = a.evaluation_periods
    m = a.datapoints if a.datapoints is not None else n
    if is_num(period) and not (period in (10, 20, 30) or (period >= 60 and period % 60 == 0)):
        j.rejected.append(("aws-rejects", f"alarm {a.label}: Period {period:g} must be 10, 20, 30 or a multiple of 60"))
    if is_num(period) and is_num(n) and period * n > wiring.evaluation_window_max(period):
        longest = "seven days" if period >= 3600 else "one day (seven with a period of an hour or more)"
        j.rejected.append(("aws-rejects", f"alarm {a.label}: Period x EvaluationPeriods exceeds {longest}"))
    if is_num(m) and is_num(n) and m > n:
        j.rejected.append(("aws-rejects", f"alarm {a.label}: DatapointsToAlarm {m:g} exceeds EvaluationPeriods {n:g}"))


def _breaching(a: Alarm, value: float | None) -> bool | None:
    """Whether one datapoint breaches; None: missing data left as missing (no state change)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        treat = a.treat_missing if isinstance(a.treat_missing, str) else "missing"
        return {"breaching": True, "notBreaching": False}.get(treat)
    return bool(COMPARE[str(a.comparison)](value, float(a.threshold)))


def _behaviour(j: AlarmJudgement, model: Model, signal: Signal) -> None:
    a = j.alarm
    n = int(a.evaluation_periods) if is_num(a.evaluation_periods) else 1
    m = int(a.datapoints) if is_num(a.datapoints) else n
    if isinstance(a.treat_missing, Opaque):
        j.unjudged.append(("treatMissingData", a.treat_missing.why))
        return
    idle = _breaching(a, model("idle", 0))
    if idle:
        j.spurious.append(
            (
                "trips-when-idle",
                f"alarm {a.label} breaches with no traffic at all ("
                + (
                    "its expression breaches on missing data"
                    if a.metrics is not None
                    else f"TreatMissingData {shown(a.treat_missing)}"
                )
                + "): it keeps waking the endpoint, which never stays at zero",
            )
        )
    if _breaching(a, model("serving", 0)):
        j.spurious.append(
            (
                "trips-while-serving",
                f"alarm {a.label} ({shown(a.comparison)} {a.threshold:g}) breaches while copies serve without "
                "failures: it adds copies that nothing needs",
            )
        )
    if a.treat_missing == "ignore" and _breaching(a, model("wake", 1)):
        j.spurious.append(
            (
                "stays-in-alarm",
                f"alarm {a.label} has TreatMissingData ignore: after a failed request that nobody repeats, no data "
                "comes and it stays in ALARM, re-firing the wake policy every minute, so the endpoint wakes again "
                "each time it reaches zero. Fix: TreatMissingData missing (or notBreaching)",
            )
        )
    one = _breaching(a, model("wake", 1))
    breaching_periods = (n if signal.persistent else 1) if one else 0
    if idle and not signal.persistent:
        breaching_periods = n if one else n - 1
    if breaching_periods < m or not one:
        need = (
            f"{m} of {n} datapoints must breach"
            if one
            else f"{shown(a.comparison)} {a.threshold:g} on the datapoint one failure produces ({model('wake', 1)})"
        )
        j.breaks.append(("misses-first-failure", f"alarm {a.label} does not trip on one failed request: {need}"))
    grows = model("wake", 2) != model("wake", 1)
    j.unbounded = grows
    j.below = str(a.comparison).startswith("LessThan")
    for k in range(1, (MAX_FAILURES if grows else 1) + 1):
        v = model("wake", k)
        if v is not None and _breaching(a, v):
            j.deltas.append(v - float(a.threshold))
