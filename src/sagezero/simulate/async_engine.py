"""An event-driven model of an asynchronous endpoint that scales to zero instances, over the same traffic.

Asynchronous inference changes what a user meets at zero: SageMaker accepts the request into its
queue (S3) instead of answering "no capacity", and the endpoint wakes on its backlog. What is
modelled (constants in `sagezero.mechanics`, wiring in `machinery.AsyncMachinery`):

- requests: every request is accepted into one FIFO queue; an instance in service works on up to
  `concurrency` requests at once (MaxConcurrentInvocationsPerInstance) and takes the head of the
  queue whenever a slot frees, so no request waits while a slot is free and requests start in
  arrival order;
- the backlog metrics, one datapoint a minute: ApproximateBacklogSize (queued + in flight, the
  time average over the minute), ApproximateBacklogSizePerInstance (that divided by the instances
  in service, at least 1) and HasBacklogWithoutCapacity (1 for a minute in which requests queued
  with no instance in service; other minutes are missing data);
- the wake alarm on HasBacklogWithoutCapacity and its step policy: the same `wake_alarm`, `alarm`
  and `step` as the real-time engine — only the samples differ;
- target tracking on ApproximateBacklogSizePerInstance: scale-out to ceil(instances * value /
  target) after `tracking_scale_out_datapoints` minutes above target, scale-in once
  `async_tracking_scale_in_datapoints` minutes stayed below `tracking_scale_in_threshold` * target,
  to the capacity the busiest of those minutes needed (zero only after minutes without any
  backlog), each after its cooldown;
- instances: launched `scaling_activity_delay_s` after the desired count rises, in service after
  provisioning, image pull and container start (the real-time ranges, no copy placement); a
  removed instance takes no new work, finishes its in-flight requests, then stops
  (`copy_stop_s`); billed per second from launch to release;
- limits per request: one still queued `async_request_ttl_s` after it arrived (RequestTTLSeconds,
  AWS's default 6 h) expires unanswered; processing longer than `invocation_timeout_s`
  (InvocationTimeoutSeconds) is cut off there and the request fails.

Requests and timers share one heap, so the cost is O(requests + scaling events + minutes with a
backlog or an instance up): the minute clock of the backlog metrics runs only while there is
something to measure; an idle endpoint at zero costs nothing. The run drains after the trace:
requests still queued at the horizon are followed until answered or expired (or `DRAIN_LIMIT_S`
passes), and instances are billed until then.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sagezero.simulate import step as stepping
from sagezero.simulate.engine import SimConfig, Wake
from sagezero.simulate.machinery import AsyncMachinery, async_from_settings
from sagezero.simulate.traffic import Traffic
from sagezero.simulate.wake_alarm import WakeAlarm

DRAIN_LIMIT_S = 7 * 86_400.0
"""How long after the horizon a run keeps going for requests still queued: past it, a request is
left unanswered (capacity never came)."""
_EPS = 1e-9

_DONE, _READY, _GONE, _ALARM_EVAL, _ALARM_REPEAT, _BWC_TICK, _METRIC_TICK, _TRACK, _EXPIRE = range(9)


class _Instance:
    __slots__ = ("busy", "drained", "ident", "launched", "ready", "released", "state")

    def __init__(self, ident: int, launched: float, ready: float) -> None:
        self.ident = ident
        self.launched = launched
        self.ready = ready
        self.busy = 0
        self.state = "starting"  # -> serving -> draining -> gone; or starting -> gone (cancelled)
        self.released: float | None = None
        self.drained: float | None = None
        """When it left service (took no more work)."""


@dataclass
class AsyncTimeline:
    """State changes: (time, instances in service, desired, instances billed), and the alarm's record."""

    t: list[float] = field(default_factory=list)
    serving: list[int] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    instances: list[int] = field(default_factory=list)
    alarm_fired: list[float] = field(default_factory=list)
    alarm_states: list[tuple[float, str]] = field(default_factory=list)
    scale_ins: list[float] = field(default_factory=list)
    metrics: list[tuple[int, float, float]] = field(default_factory=list)
    """Per minute the clock ran: (minute, ApproximateBacklogSize, ApproximateBacklogSizePerInstance)."""
    lives: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    """Every instance: (id, launched, in service from, out of service from, released); billed from launch
    to release. Never in service when the second time is not before the third (cancelled while starting)."""


@dataclass
class AsyncResult:
    config: SimConfig
    machinery: AsyncMachinery
    traffic: Traffic
    started_at: npt.NDArray[np.float64]
    """When an instance began work on each request (NaN: never)."""
    answered_at: npt.NDArray[np.float64]
    """When each request's answer was written (NaN: still queued when the run gave up)."""
    instance_of: npt.NDArray[np.int32]
    """Which instance answered each request (-1: none)."""
    cold: npt.NDArray[np.bool_]
    """Requests that arrived while no instance was in service: touched by a cold start."""
    expired: npt.NDArray[np.bool_]
    """Requests still queued `async_request_ttl_s` after they arrived: marked expired, never run."""
    timed_out: npt.NDArray[np.bool_]
    """Requests whose processing ran into `invocation_timeout_s`: cut off there, failed."""
    instance_seconds: float
    end_s: float
    """When the run ended: the horizon, or later while requests queued at the horizon drained."""
    timeline: AsyncTimeline
    wakes: list[Wake]
    peak_instances: int

    @property
    def answer_s(self) -> npt.NDArray[np.float64]:
        """Time to answer per request: queue wait plus service (NaN: unanswered)."""
        return self.answered_at - self.traffic.arrivals

    @property
    def unanswered(self) -> int:
        """Requests without an answer: expired in the queue, timed out, or still queued at the end."""
        return int(np.isnan(self.answered_at).sum())


class AsyncSimulation:
    """One run. Use `run_async(config, traffic)`; the class holds the state its handlers share."""

    def __init__(self, config: SimConfig, traffic: Traffic, machinery: AsyncMachinery) -> None:
        self.cfg = config
        self.m = config.mechanics
        self.mach = mach = machinery
        self.tr = traffic
        self.rng = random.Random(config.seed * 1_000_003 + 3)
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.tl = AsyncTimeline()
        self.k = mach.concurrency
        self.service = traffic.service_s.tolist()
        n = traffic.arrivals.size
        self.started = [math.nan] * n
        self.answered = [math.nan] * n
        self.instance_of = [-1] * n
        self.expired = [False] * n
        self.timed_out = [False] * n
        self.timeout = mach.invocation_timeout_s
        self.ttl = config.mechanics.async_request_ttl_s
        self.expiry_armed = False
        """One expiry timer at a time, for the head of the queue (the oldest request: FIFO)."""
        # capacity
        self.min_cap = min(mach.min_instances, mach.max_instances)
        self.max_cap = mach.max_instances
        self.desired = 0
        self.instances: list[_Instance] = []
        """Instances not yet released (starting, serving, draining)."""
        self.starting: list[_Instance] = []
        self.serving: list[_Instance] = []
        self.free: list[_Instance] = []
        """Serving instances with a free slot."""
        self.next_ident = 0
        self.released_seconds = 0.0
        # the queue and the backlog metric
        self.queue: deque[int] = deque()
        self.in_flight = 0
        self.arrivals = traffic.arrivals.tolist()
        self.n_sys = 0
        self.s_arr = 0.0
        self.s_done = 0.0
        """The backlog integral, kept without touching it per event: requests in the system (queued or in
        flight), the sum of their arrival times, and the summed time in system of those answered —
        area(t) = s_done + n_sys * t - s_arr."""
        self.per_base = 0.0
        self.per_mark = 0.0
        self.per_c = 1
        """The per-instance integral: its value and the backlog integral at the last change of instances
        in service, and that count (at least 1); between changes it grows as the backlog integral / per_c."""
        self.metric_on = False
        self.minute_area = (0.0, 0.0)
        self.dps: dict[int, float] = {}
        """ApproximateBacklogSizePerInstance per minute the clock ran (missing minutes: 0, nothing to measure)."""
        self.bwc_on = False
        self.bwc_last = -1
        # target tracking
        tracking = mach.tracking
        self.tracks_out = mach.tracking_scales_out()
        self.tracks_in = mach.tracking_scales_in()
        self.target = tracking.target_value if tracking is not None else math.inf
        self.scale_in_cooldown = tracking.scale_in_cooldown_s if tracking is not None else math.inf
        self.scale_out_cooldown = tracking.scale_out_cooldown_s if tracking is not None else math.inf
        self.scale_out_until = -math.inf
        self.last_high = -(2**62)
        self.last_load = -(2**62)
        """The last minute at or above the scale-in threshold, and the last with any backlog."""
        self.last_scale_in = -math.inf
        self.last_activity = -math.inf
        # wake alarm and step policy
        self.wake = (
            None
            if mach.alarm is None
            else WakeAlarm(
                mach.alarm,
                self.m,
                push=self.push,
                act=self.step if mach.alarm_runs_step() else None,
                states=self.tl.alarm_states,
                kinds=(_ALARM_EVAL, _ALARM_REPEAT),
            )
        )
        self.step_until = -math.inf
        # records
        self.wakes: list[Wake] = []
        self.waking_since: float | None = None
        self.queued_since_zero: float | None = None

    # -- events -------------------------------------------------------------------------------------

    def push(self, t: float, kind: int, payload: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def record(self, t: float) -> None:
        tl = self.tl
        serving, live = len(self.serving), len(self.instances)
        if tl.t and tl.serving[-1] == serving and tl.desired[-1] == self.desired and tl.instances[-1] == live:
            return
        tl.t.append(t)
        tl.serving.append(serving)
        tl.desired.append(self.desired)
        tl.instances.append(live)

    def _draw(self, bounds: tuple[float, float]) -> float:
        lo, hi = bounds
        return lo if hi <= lo else self.rng.uniform(lo, hi)

    # -- the backlog metrics ------------------------------------------------------------------------

    def area(self, t: float) -> float:
        """Integral of the backlog (queued + in flight) from the start to t (no event since the last one)."""
        return self.s_done + self.n_sys * t - self.s_arr

    def area_per(self, t: float) -> float:
        """Integral of the backlog per instance in service (at least 1) from the start to t."""
        return self.per_base + (self.area(t) - self.per_mark) / self.per_c

    def flow(self, t: float) -> None:
        """Close the per-instance integral's stretch at t: called before the instances in service change,
        `recount` after."""
        area = self.area(t)
        self.per_base += (area - self.per_mark) / self.per_c
        self.per_mark = area

    def recount(self) -> None:
        self.per_c = max(1, len(self.serving))

    def _ensure_clocks(self, t: float) -> None:
        """Start the minute clock when there is something to measure, and the HasBacklogWithoutCapacity
        sampler when requests queue with no instance in service."""
        period = self.m.async_metric_period_s
        if not self.metric_on and (self.queue or self.in_flight or self.instances or self.desired):
            self.metric_on = True
            q = int(t // period)
            # The minute so far had no backlog (the clock was off): its integral starts here.
            self.minute_area = (self.area(t), self.area_per(t))
            self.push((q + 1) * period, _METRIC_TICK, q)
        if self.queue and not self.serving and not self.bwc_on:
            self.bwc_on = True
            self._bwc_tick(t)

    def _bwc_tick(self, t: float) -> None:
        """HasBacklogWithoutCapacity: a 1 sample for this minute while requests queue with no instance
        in service; the sampler stops (and later minutes are missing data) once that is over."""
        if not (self.queue and not self.serving):
            self.bwc_on = False
            return
        period = self.m.async_metric_period_s
        q = int(t // period + _EPS)
        if q != self.bwc_last:
            self.bwc_last = q
            if self.wake is not None:
                self.wake.failure(t)
        self.push((q + 1) * period, _BWC_TICK, None)

    def metric_tick(self, t: float, q: int) -> None:
        """Minute q closed: its datapoints; target tracking reads them `alarm_evaluation_delay_s` later."""
        period = self.m.async_metric_period_s
        area, area_per = self.minute_area
        now, now_per = self.area(t), self.area_per(t)
        backlog, per = (now - area) / period, (now_per - area_per) / period
        self.minute_area = (now, now_per)
        self.dps[q] = per
        self.tl.metrics.append((q, backlog, per))
        self.push(t + self.m.alarm_evaluation_delay_s, _TRACK, q)
        if self.queue or self.in_flight or self.instances or self.desired:
            self.push(t + period, _METRIC_TICK, q + 1)
        else:
            self.metric_on = False

    # -- target tracking ----------------------------------------------------------------------------

    def track(self, t: float, q: int) -> None:
        """Target tracking's two managed alarms, evaluated on minute q's datapoint. The windows are read
        only when they could act (the last minute at or above the low threshold, and the last with any
        backlog, are kept), so a steady minute costs a few comparisons."""
        dps, m = self.dps, self.m
        value = dps[q]
        low = self.target * m.tracking_scale_in_threshold
        if value >= low:
            self.last_high = q
        if value > 0:
            self.last_load = q
        n_out = m.tracking_scale_out_datapoints
        if self.tracks_out and value > self.target and t >= self.scale_out_until:
            window = [dps.get(p) for p in range(q - n_out + 1, q + 1)]
            if all(v is not None and v > self.target for v in window):
                new = math.ceil(max(1, len(self.serving)) * dps[q] / self.target - _EPS)
                if new > self.desired:
                    self.scale_out_until = t + self.scale_out_cooldown
                    self.set_desired(t, new)
        n_in = m.async_tracking_scale_in_datapoints
        cooldown_end = max(self.last_scale_in, self.last_activity) + self.scale_in_cooldown
        first = q - n_in + 1
        if (
            self.tracks_in
            and self.desired > self.min_cap
            and cooldown_end <= t + _EPS
            and self.last_high < first
            and not (self.desired == 1 and self.last_load >= first)  # any backlog keeps the last instance
        ):
            window_in = [dps.get(p, 0.0) for p in range(first, q + 1)]
            if all(v < low for v in window_in):
                new = math.ceil(max(1, len(self.serving)) * max(window_in) / self.target - _EPS)
                if new < self.desired:
                    self.tl.scale_ins.append(t)
                    self.last_scale_in = t
                    self.set_desired(t, new)

    # -- wake alarm and step policy -----------------------------------------------------------------

    def step(self, t: float) -> None:
        """The wake alarm invokes the step policy (only called when the alarm's actions include it)."""
        spec, wake = self.mach.step, self.wake
        assert spec is not None and wake is not None
        self.tl.alarm_fired.append(t)
        if t < self.step_until:
            return
        delta = wake.breach_delta(spec.metric_aggregation)
        below = self.mach.alarm is not None and self.mach.alarm.comparison.startswith("LessThan")
        new = stepping.apply(spec, self.desired, delta, below=below)
        if new is None:
            return
        if (new > self.desired and self.mach.scale_out_suspended) or (
            new < self.desired and self.mach.scale_in_suspended
        ):
            return
        self.step_until = t + spec.cooldown_s
        self.set_desired(t, new)

    # -- capacity -----------------------------------------------------------------------------------

    def set_desired(self, t: float, desired: int) -> None:
        desired = min(self.max_cap, max(self.min_cap, desired))  # the maximum wins over a minimum above it
        if desired == self.desired:
            return
        if self.desired == 0 and desired > 0 and not self.serving and self.waking_since is None:
            self.waking_since = t
        self.desired = desired
        self.last_activity = t
        self.reconcile(t)

    def reconcile(self, t: float) -> None:
        m = self.m
        active = len(self.serving) + len(self.starting)
        while active < self.desired:
            launched = t + m.scaling_activity_delay_s
            lo, hi = m.image_pull_s_per_gb
            ready = (
                launched
                + self._draw(m.instance_provision_s)
                + self._draw((lo * m.image_size_gb, hi * m.image_size_gb))
                + self._draw(m.container_start_s)
            )
            inst = _Instance(self.next_ident, launched, ready)
            self.next_ident += 1
            self.instances.append(inst)
            self.starting.append(inst)
            self.push(ready, _READY, inst)
            active += 1
        while active > self.desired:
            if self.starting:
                inst = self.starting.pop()
                self._release(inst, t)
            else:
                self.flow(t)
                inst = min(self.serving, key=lambda i: i.busy)  # the least busy drains soonest
                self.serving.remove(inst)
                self.recount()
                if inst in self.free:
                    self.free.remove(inst)
                inst.state = "draining"
                inst.drained = t
                if inst.busy == 0:
                    self.push(t + m.copy_stop_s, _GONE, inst)
            active -= 1
        self._ensure_clocks(t)
        self.record(t)

    def _release(self, inst: _Instance, t: float) -> None:
        inst.state = "gone"
        inst.released = max(t, inst.launched)
        self.released_seconds += inst.released - inst.launched
        self.instances.remove(inst)
        self._life(inst, inst.released)

    def _life(self, inst: _Instance, end: float) -> None:
        until = inst.drained if inst.drained is not None else end
        self.tl.lives.append((inst.ident, inst.launched, inst.ready, min(until, end), end))

    def ready(self, t: float, inst: _Instance) -> None:
        if inst.state != "starting":
            return
        self.flow(t)
        self.starting.remove(inst)
        inst.state = "serving"
        if not self.serving and self.waking_since is not None:
            self.wakes.append(Wake(self.waking_since, t, self.queued_since_zero))
            self.waking_since = None
        self.queued_since_zero = None
        self.serving.append(inst)
        self.recount()
        self.free.append(inst)
        self.dispatch(t)
        self.record(t)

    def gone(self, t: float, inst: _Instance) -> None:
        if inst.state == "draining":
            self._release(inst, t)
            self.record(t)

    # -- requests -----------------------------------------------------------------------------------

    def arrive(self, t: float, r: int) -> bool:
        """A request accepted into the queue; returns whether it met no instance in service."""
        cold = not self.serving
        if cold and self.queued_since_zero is None:
            self.queued_since_zero = t
        self.n_sys += 1
        self.s_arr += t
        self.queue.append(r)
        if self.free:
            self.dispatch(t)
        if self.queue and not self.expiry_armed:
            self._arm_expiry()
        if not self.metric_on or (cold and not self.bwc_on):
            self._ensure_clocks(t)
        return cold

    def dispatch(self, t: float) -> None:
        """Free slots take the head of the queue (FIFO), the least busy instance first."""
        queue, free, k = self.queue, self.free, self.k
        while queue and free:
            inst = min(free, key=lambda i: i.busy) if len(free) > 1 else free[0]
            r = queue.popleft()
            inst.busy += 1
            self.in_flight += 1
            if inst.busy >= k:
                free.remove(inst)
            self.started[r] = t
            self.instance_of[r] = inst.ident
            self.push(t + min(self.service[r], self.timeout), _DONE, (inst, r))

    def _arm_expiry(self) -> None:
        self.expiry_armed = True
        self.push(self.arrivals[self.queue[0]] + self.ttl, _EXPIRE, None)

    def expire(self, t: float) -> None:
        """RequestTTLSeconds: requests queued since `ttl` ago leave the queue unanswered. The timer was set
        for the head when it was armed; that one may have started since — then only re-arm."""
        self.expiry_armed = False
        queue, arrivals = self.queue, self.arrivals
        while queue and arrivals[queue[0]] + self.ttl <= t + _EPS:
            r = queue.popleft()
            a = arrivals[r]
            self.n_sys -= 1
            self.s_arr -= a
            self.s_done += t - a
            self.expired[r] = True
        if queue:
            self._arm_expiry()

    def done(self, t: float, inst: _Instance, r: int) -> None:
        a = self.arrivals[r]
        self.n_sys -= 1
        self.s_arr -= a
        self.s_done += t - a
        if self.service[r] > self.timeout:
            self.timed_out[r] = True  # InvocationTimeoutSeconds: cut off, a failure notice instead of an answer
        else:
            self.answered[r] = t
        self.in_flight -= 1
        inst.busy -= 1
        if inst.state == "serving":
            if inst.busy == self.k - 1:
                self.free.append(inst)
            if self.queue:
                self.dispatch(t)
        elif inst.state == "draining" and inst.busy == 0:
            self.push(t + self.m.copy_stop_s, _GONE, inst)

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> AsyncResult:
        tr = self.tr
        arrivals = tr.arrivals.tolist()
        cold = [False] * len(arrivals)
        heap = self.heap
        if self.min_cap > 0:
            self._start_warm(self.min_cap)

        def until(limit: float) -> None:
            while heap and heap[0][0] <= limit:
                t, _seq, kind, payload = heapq.heappop(heap)
                if kind == _DONE:
                    done: tuple[_Instance, int] = payload  # type: ignore[assignment]
                    self.done(t, done[0], done[1])
                elif kind == _READY:
                    self.ready(t, payload)  # type: ignore[arg-type]
                elif kind == _GONE:
                    self.gone(t, payload)  # type: ignore[arg-type]
                elif kind == _ALARM_EVAL:
                    self.wake.evaluate_due(t, payload)  # type: ignore[union-attr, arg-type]
                elif kind == _ALARM_REPEAT:
                    self.wake.repeat(t, payload)  # type: ignore[union-attr, arg-type]
                elif kind == _BWC_TICK:
                    self._bwc_tick(t)
                elif kind == _METRIC_TICK:
                    self.metric_tick(t, payload)  # type: ignore[arg-type]
                elif kind == _TRACK:
                    self.track(t, payload)  # type: ignore[arg-type]
                elif kind == _EXPIRE:
                    self.expire(t)

        for r, t in enumerate(arrivals):
            if heap and heap[0][0] <= t:
                until(t)
            cold[r] = self.arrive(t, r)
        horizon = tr.horizon_s
        until(horizon)
        end = horizon
        limit = horizon + DRAIN_LIMIT_S
        while (self.queue or self.in_flight) and heap and heap[0][0] <= limit:
            end = heap[0][0]
            until(end)
        if self.wake is not None:
            self.wake.finish(end)
        return self._result(end, cold)

    def _start_warm(self, count: int) -> None:
        """Instances the scalable target's minimum keeps: in service from time 0."""
        self.desired = count
        for _ in range(count):
            inst = _Instance(self.next_ident, 0.0, 0.0)
            self.next_ident += 1
            inst.state = "serving"
            self.instances.append(inst)
            self.serving.append(inst)
            self.free.append(inst)
        self.recount()
        self._ensure_clocks(0.0)
        self.record(0.0)

    def _result(self, end: float, cold: list[bool]) -> AsyncResult:
        instance_seconds = self.released_seconds + sum(end - min(i.launched, end) for i in self.instances)
        for inst in self.instances:
            self._life(inst, max(end, inst.launched))
        if self.waking_since is not None:
            self.wakes.append(Wake(self.waking_since, None, self.queued_since_zero))
        return AsyncResult(
            config=self.cfg,
            machinery=self.mach,
            traffic=self.tr,
            started_at=np.asarray(self.started, dtype=np.float64),
            answered_at=np.asarray(self.answered, dtype=np.float64),
            instance_of=np.asarray(self.instance_of, dtype=np.int32),
            cold=np.asarray(cold, dtype=np.bool_),
            expired=np.asarray(self.expired, dtype=np.bool_),
            timed_out=np.asarray(self.timed_out, dtype=np.bool_),
            instance_seconds=instance_seconds,
            end_s=end,
            timeline=self.tl,
            wakes=self.wakes,
            peak_instances=max(self.tl.serving, default=0),
        )


def run_async(config: SimConfig, traffic: Traffic, machinery: AsyncMachinery | None = None) -> AsyncResult:
    """Replay `traffic` through an async endpoint: `machinery`, or `config.async_machinery`, or the
    async wiring for `config.settings` (`async_from_settings`)."""
    mach = machinery or config.async_machinery or async_from_settings(config.settings)
    if problems := mach.problems():
        raise ValueError("the async machinery cannot be simulated: " + "; ".join(problems))
    return AsyncSimulation(config, traffic, mach).run()
