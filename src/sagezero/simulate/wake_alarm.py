"""The wake alarm during one run: its samples, when CloudWatch evaluates it, its state and its action.

`alarm` says what one evaluation decides; this says *when* evaluations happen, so that an idle or a
steadily busy endpoint costs next to nothing:

- a period is evaluated when it holds a datapoint and for `evaluation_periods` after it (then the
  window is all missing and the state cannot change until the next invocation) — one chain of
  timer events, one pending at a time;
- an evaluation whose window equals the previous one is skipped (same window, same state);
- on steady served traffic that cannot breach, out of ALARM, the chain *rests*: no event at all
  until a failure, a period without requests, or the end of the run, which then runs the owed
  evaluations at their own times (`_catch_up`) — none of them could have reached ALARM, so none
  could have acted.

Served requests are counted in the open period with one comparison each (`ans_end`, `ans_n`), read
by the engine's hot loop directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sagezero.mechanics import Mechanics
from sagezero.simulate import alarm as cw
from sagezero.simulate.machinery import AlarmSpec

_EPS = 1e-9
Push = Callable[[float, int, object], None]
Act = Callable[[float], None]


class WakeAlarm:
    """One alarm over one run. The engine calls `failure` and `answered_in_new_period` (or bumps
    `ans_n` while `t < ans_end`), dispatches the two timer kinds to `evaluate_due` and `repeat`, and
    calls `finish` at the end; `act` runs the alarm's Auto Scaling action (None: it has none)."""

    def __init__(
        self,
        spec: AlarmSpec,
        mechanics: Mechanics,
        *,
        push: Push,
        act: Act | None,
        states: list[tuple[float, str]],
        kinds: tuple[int, int],
    ) -> None:
        self.spec = spec
        self.period = spec.period_s
        self.delay = mechanics.alarm_evaluation_delay_s
        self.repeat_s = mechanics.alarm_action_repeat_s
        self.push = push
        self.act = act
        self.states = states
        self.eval_kind, self.repeat_kind = kinds
        self.state = cw.INSUFFICIENT_DATA
        self.window: list[float | None] = []
        """The datapoints of the last evaluation that changed anything (the step policy's breach)."""
        self.failures: dict[int, int] = {}
        self.answered: dict[int, int] = {}
        """Per period: invocations answered other than "no capacity" (0 samples), once it closed."""
        self.ans_q = -1
        self.ans_n = 0
        self.ans_end = -math.inf
        """The open period's count of answered invocations (`ans_n` for period `ans_q`, ending at
        `ans_end`)."""
        self.token = 0
        self.repeat_due = math.inf
        """When the action next repeats while in ALARM."""
        self.eval_next: int | None = None
        """The period whose evaluation is the pending timer, if any."""
        self.eval_through = 0
        """The chain runs through this period: the last one whose window holds a datapoint."""
        self.eval_last = -(2**62)
        self.dp_last: float | None = None
        self.dp_run = 0
        """`dp_run` evaluations in a row, the last of period `eval_last`, had the datapoint `dp_last`."""
        self.resting = False
        self.can_rest = (
            spec.statistic != "SampleCount"
            and spec.treat_missing in ("missing", "notBreaching", "ignore")
            and not cw.breaches(spec.comparison, 0.0, spec.threshold)
        )
        """Served-only periods (datapoint 0) cannot breach and missing data cannot either."""
        self._schedule(0)  # the first evaluation: an all-missing window may already be ALARM

    # -- samples --------------------------------------------------------------------------------------

    def failure(self, t: float) -> None:
        """A 1 sample at t: a no-capacity answer (NoCapacityInvocationFailures), or a minute an async
        endpoint had a backlog without capacity (HasBacklogWithoutCapacity). Ignored when the alarm
        watches another series."""
        if not self.spec.sees_failures:
            return
        q = int(t // self.period)
        self.failures[q] = self.failures.get(q, 0) + 1
        self._data(q, t, steady_through=self.ans_q)

    def answered_in_new_period(self, t: float) -> None:
        """The first served invocation of a new period (times only grow: the previous one closed)."""
        if self.ans_n:
            self.answered[self.ans_q] = self.ans_n
        q, previous = int(t // self.period), self.ans_q
        self.ans_q, self.ans_n, self.ans_end = q, 1, (q + 1) * self.period
        if self.resting and q == previous + 1:  # steady traffic goes on: nothing to evaluate
            self.eval_through = max(self.eval_through, q + self.spec.evaluation_periods)
            return
        self._data(q, t, steady_through=previous)

    def _data(self, q: int, t: float, steady_through: int) -> None:
        """Period q has a datapoint; `steady_through`: the last period known to hold served requests
        only (where a resting chain picks up)."""
        through = self.eval_through
        self.eval_through = max(through, q + self.spec.evaluation_periods)
        if self.resting:
            nxt = self._catch_up(t, min(steady_through, q - 1), through)
            self._schedule(nxt if nxt <= through else q)
        elif self.eval_next is None:
            self._schedule(q)

    def _datapoint(self, p: int) -> float | None:
        answered = self.ans_n if p == self.ans_q else self.answered.get(p, 0)
        return cw.datapoint(self.spec.statistic, self.failures.get(p, 0), answered)

    # -- evaluation -----------------------------------------------------------------------------------

    def _schedule(self, q: int) -> None:
        self.eval_next = q
        self.push((q + 1) * self.period + self.delay, self.eval_kind, q)

    def evaluate_due(self, t: float, q: int) -> None:
        """The chain's timer: evaluate period q, then schedule the next one, rest, or stop."""
        self.eval_next = None
        self._evaluate(q, t)
        if q + 1 > self.eval_through:
            return  # all missing from here on: steady until the next invocation
        if (
            self.can_rest
            and self.dp_run > self.spec.evaluation_periods
            and self.dp_last == 0.0
            and (self.state != cw.ALARM)
        ):
            self.resting = True
            return
        self._schedule(q + 1)

    def _evaluate(self, q: int, t: float) -> None:
        """CloudWatch evaluates period q at t; entering ALARM runs the action."""
        if self.state == cw.ALARM and abs(self.repeat_due - t) <= _EPS:
            self._repeat(t)  # an action due at this instant belongs to the state held until now
        n = self.spec.evaluation_periods
        d = self._datapoint(q)
        if q == self.eval_last + 1 and d == self.dp_last:
            self.dp_run += 1
        else:
            self.dp_run = 1
        self.eval_last, self.dp_last = q, d
        if self.dp_run > n:
            return  # the last n + 1 datapoints are equal: the same window as the last evaluation
        self.window = [self._datapoint(p) for p in range(q - n + 1, q)] + [d]
        state = cw.evaluate(self.spec, self.window, self.state)
        if state == self.state:
            return
        self.states.append((t, state))
        self.state = state
        if state == cw.ALARM:
            self.token += 1
            if self.act is not None:
                self._repeat(t)

    def _catch_up(self, t: float, steady_through: int, through: int) -> int:
        """Wake a resting chain at t: run the evaluations that fell due while it rested, at their own
        times (none can reach ALARM: see the module docstring). Returns the next period to evaluate."""
        self.resting = False
        last_due = math.floor((t - self.delay) / self.period + _EPS) - 1  # (q + 1) * period + delay <= t
        steady = min(steady_through, last_due)
        if steady > self.eval_last:  # the same 0 datapoint all along: the window did not change
            self.dp_run += steady - self.eval_last
            self.eval_last = steady
        q = self.eval_last + 1
        while q <= last_due and q <= through:
            self._evaluate(q, (q + 1) * self.period + self.delay)
            q += 1
        return q

    def finish(self, t: float) -> None:
        """The run ends at t: the evaluations a resting chain still owes, for the recorded states."""
        if self.resting:
            self._catch_up(t, self.ans_q, self.eval_through)

    # -- the action -----------------------------------------------------------------------------------

    def _repeat(self, t: float) -> None:
        assert self.act is not None
        self.act(t)
        self.repeat_due = t + self.repeat_s
        self.push(self.repeat_due, self.repeat_kind, (self.token, self.repeat_due))

    def repeat(self, t: float, due: tuple[int, float]) -> None:
        """The action's timer: once a minute while the alarm stays in the ALARM it entered."""
        if due == (self.token, self.repeat_due) and self.state == cw.ALARM:
            self._repeat(t)

    def breach_delta(self, aggregation: str) -> float:
        """The breach the step policy sees now."""
        return cw.breach_delta(aggregation, self.window, self.spec.threshold)
