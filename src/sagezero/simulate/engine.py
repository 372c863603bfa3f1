"""An event-driven model of the scaling machinery one tenant's endpoint gets, replayed over traffic.

The machinery is a `Machinery` (`SimConfig.machinery`; by default what `ScaleToZeroEndpoint` deploys
for the settings, `machinery.from_settings`), so any wiring — broken ones included — runs the same
way. What is modelled (constants in `sagezero.mechanics`):

- requests: while a copy serves, a request takes the earliest free worker slot (least outstanding
  requests over all copies); at zero serving copies SageMaker answers "no capacity" at once;
- the wake alarm (`alarm` decides, `wake_alarm` schedules): per-period datapoints of NoCapacityInvocationFailures under its
  statistic, comparison and threshold, M of N, treatment of missing data; on entering ALARM, and
  once a minute while it stays there, it invokes the step policy (when its actions are enabled and
  include the policy);
- the step policy (`step`): the breach selects an interval; ChangeInCapacity, ExactCapacity or
  PercentChangeInCapacity on the desired copy count; firings during its cooldown add nothing;
- the scalable target: desired kept within [min, max] copies; suspended scale-out or scale-in;
- target tracking on concurrent requests per copy: scale-out after N periods above target,
  scale-in once the load has stayed below ~90% of target for the scale-in window, each after its
  cooldown; none at all when the policy is missing or watches another metric; no scale-in when
  disabled;
- copies placed on instances (copies per instance from memory, accelerators and CPU cores), with
  provisioning, image pull and container start drawn from ranges; managed instance scaling launches
  up to max instances and releases idle ones after a delay, keeping min instances; without it the
  instances are fixed; billing per instance-second;
- clients: plain invoke, `invoke` with wake-and-retry (the library's backoff and deadline), and
  `warm` on login with a hold (min 1 until the hold ends).

Requests are consumed in arrival order and timers live in one heap, so the cost is O(requests +
scaling events), not O(seconds): a month of a million requests runs in about two seconds.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import heapq
import math
import random
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sagezero import clientbehaviour as behaviour
from sagezero.mechanics import Mechanics
from sagezero.settings import EndpointSettings
from sagezero.simulate import step as stepping
from sagezero.simulate.machinery import AsyncMachinery, Machinery, from_settings
from sagezero.simulate.prices import InstanceSpec
from sagezero.simulate.traffic import Traffic
from sagezero.simulate.wake_alarm import WakeAlarm

SERVED, WAITED, FAILED, PENDING = 0, 1, 2, 3
"""Request outcomes; PENDING: still retrying when the run ended."""
_EPS = 1e-9


class Client(enum.StrEnum):
    PLAIN = "plain"
    """InvokeEndpoint once: a request at zero copies fails."""
    RETRY = "retry"
    """`sagezero.ops.invoke`: wake the component and retry with backoff until the deadline."""
    WARM = "warm"
    """`sagezero.ops.warm` on every login, and requests through `invoke`."""


@dataclass(frozen=True)
class ClientSettings:
    mode: Client = Client.RETRY
    hold_s: float = behaviour.HOLD_MINUTES * 60
    """How long a `warm` holds the minimum at 1 (as RetryPolicy.hold and `warm --hold-minutes`)."""
    deadline_s: float = behaviour.DEADLINE_S
    backoff_base_s: float = behaviour.BACKOFF_BASE_S
    backoff_cap_s: float = behaviour.BACKOFF_CAP_S
    warm_on_cold: bool = True


@dataclass(frozen=True)
class SimConfig:
    settings: EndpointSettings
    instance: InstanceSpec
    mechanics: Mechanics = field(default_factory=Mechanics)
    client: ClientSettings = field(default_factory=ClientSettings)
    seed: int = 0
    machinery: Machinery | None = None
    """The scaling wiring replayed; None: what `ScaleToZeroEndpoint` deploys for `settings`
    (`from_settings`). `settings` still gives what a copy needs (memory, accelerators, CPU cores)."""
    async_machinery: AsyncMachinery | None = None
    """The wiring the async engine replays (`async_engine.run_async`); None: the async wiring for
    `settings` (`machinery.async_from_settings`)."""

    @property
    def scaling(self) -> Machinery:
        """The machinery this run replays."""
        return self.machinery if self.machinery is not None else from_settings(self.settings)

    def always_on(self) -> SimConfig:
        """The same machinery with the scalable target's minimum at 1 (at least): the always-on twin."""
        if self.machinery is None:
            return dataclasses.replace(self, machinery=from_settings(self.settings, min_copies=1))
        m = self.machinery
        return dataclasses.replace(self, machinery=dataclasses.replace(m, min_copies=max(1, m.min_copies)))

    def copies_per_instance(self) -> int:
        """How many copies managed instance scaling fits on one instance (memory, accelerators and, when
        set, CPU cores per copy); 0 when none fits."""
        s, inst = self.settings, self.instance
        by_memory = (inst.memory_mb - self.mechanics.reserved_memory_mb) // max(1, s.min_memory_mb)
        by_accel = inst.accelerators // s.accelerators if s.accelerators else by_memory
        by_cpu = int(inst.vcpu // s.cpu_cores) if s.cpu_cores else by_memory
        return max(0, min(by_memory, by_accel, by_cpu))

    def fit_problem(self) -> str | None:
        """Why no copy fits on one instance, or None when at least one does."""
        if self.copies_per_instance() >= 1:
            return None
        s, inst = self.settings, self.instance
        cores = f", {s.cpu_cores:g} CPU core(s)" if s.cpu_cores else ""
        return (
            f"a copy needs {s.min_memory_mb} MB, {s.accelerators} accelerator(s){cores}; {inst.instance_type} has "
            f"{inst.memory_mb} MB ({self.mechanics.reserved_memory_mb} MB reserved), {inst.accelerators} "
            f"accelerator(s), {inst.vcpu} vCPU: no copy fits"
        )

    def max_copies(self) -> int:
        """Copies that can exist at once: the scalable target's maximum, and what the instances hold."""
        m = self.scaling
        return max(0, min(m.max_copies, self.copies_per_instance() * m.instance_ceiling()))


class _Instance:
    __slots__ = ("copies", "idle_token", "launched", "pulled", "ready", "released")

    def __init__(self, launched: float, ready: float) -> None:
        self.launched = launched
        self.ready = ready
        self.pulled = False
        self.copies = 0
        self.released: float | None = None
        self.idle_token = 0


class _Copy:
    __slots__ = ("created", "instance", "ready", "state")

    def __init__(self, instance: _Instance, created: float, ready: float) -> None:
        self.instance = instance
        self.created = created
        self.ready = ready
        self.state = "starting"


# event kinds (ints: cheaper to compare than strings in the hot loop)
_RETRY, _COPY_READY, _COPY_GONE, _INSTANCE_IDLE, _ALARM_EVAL, _ALARM_REPEAT = range(6)
_SCALE_OUT, _SCALE_IN, _LOGIN, _HOLD_END = range(6, 10)


@dataclass
class Timeline:
    """State changes, for plots and invariants: (time, serving copies, desired, instances)."""

    t: list[float] = field(default_factory=list)
    serving: list[int] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    instances: list[int] = field(default_factory=list)
    alarm_fired: list[float] = field(default_factory=list)
    """Each time the wake alarm invoked the step policy (on entering ALARM and each minute in it)."""
    alarm_fired_serving: list[int] = field(default_factory=list)
    """Serving copies at each of those invocations (beside `alarm_fired`)."""
    alarm_states: list[tuple[float, str]] = field(default_factory=list)
    """The wake alarm's state changes (time, OK | ALARM | INSUFFICIENT_DATA); it starts INSUFFICIENT_DATA."""
    warms: list[float] = field(default_factory=list)
    scale_ins: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Wake:
    """One cold start: a first copy asked for at zero serving copies."""

    asked: float
    served: float | None
    """When the first copy served; None if the run ended first."""
    first_failure: float | None
    """When the first request met zero capacity, if one did (a warm can wake it before any request)."""


@dataclass
class SimResult:
    config: SimConfig
    traffic: Traffic
    outcome: npt.NDArray[np.int8]
    wait_s: npt.NDArray[np.float64]
    """From the first attempt to the start of service (queueing and cold start), for served requests."""
    attempts: npt.NDArray[np.int32]
    finished_at: npt.NDArray[np.float64]
    """Service end for served requests; time of giving up for failed ones."""
    routed_at: npt.NDArray[np.float64]
    """When the attempt that was served reached SageMaker (NaN for failed requests)."""
    instance_seconds: float
    copy_seconds: float
    held_seconds: float
    """Time `warm` held the scalable target's minimum at 1 (what a hold buys, before its effects)."""
    timeline: Timeline
    wakes: list[Wake]
    no_capacity_answers: int
    first_served_at: float | None
    """When the first request to be served began its service; None: nothing was ever served."""
    last_request_at: float
    """When the last request was done with (served, given up, or still retrying at the end): where
    "back to zero after the traffic" is measured from; 0 without requests."""
    zero_after_last_request_at: float | None
    """The first time at or after `last_request_at` with no copy serving or wanted (desired 0); None:
    copies never returned to zero after the traffic."""
    ends_at_zero: bool
    """No copy serving or wanted when the run ended."""
    step_fired_while_serving: int
    """Step-policy invocations by the wake alarm while at least one copy served: an alarm that trips
    on a serving endpoint (the seed's wiring does this only briefly, at the end of a cold start)."""
    peak_copies: int
    """The most copies serving at once."""


class Simulation:
    """One run. Use `run(config, traffic)`; the class holds the state its handlers share."""

    def __init__(self, config: SimConfig, traffic: Traffic) -> None:
        self.cfg = config
        self.m = config.mechanics
        self.s = config.settings
        self.mach = mach = config.scaling
        self.tr = traffic
        self.rng = random.Random(config.seed * 1_000_003 + 1)
        self.jitter = random.Random(config.seed * 1_000_003 + 2)
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        self.tl = Timeline()
        self.max_copies = config.max_copies()
        self.per_instance = config.copies_per_instance()
        self.k = max(1, self.m.copy_concurrency)
        # capacity
        self.desired = 0
        self.min_cap = mach.min_copies
        self.base_min = mach.min_copies
        self.instance_ceiling = mach.instance_ceiling()
        self.instances_kept = mach.instances_kept()
        self.instances = [_Instance(0.0, 0.0) for _ in range(self.instances_kept)]
        """Instances not yet released; released ones leave the list and their time is billed. Kept
        instances (min instances, or a fixed count without managed instance scaling) exist from the
        start; the image is pulled by the first copy placed on each."""
        self.released_seconds = 0.0
        self.starting: list[_Copy] = []
        self.serving_copies: list[_Copy] = []
        self.slots: list[float] = []
        self.copy_seconds = 0.0
        # target tracking
        self.tracks_out = mach.tracking_scales_out()
        self.tracks_in = mach.tracking_scales_in()
        tracking = mach.tracking
        self.target = tracking.target_value if tracking is not None else math.inf
        self.scale_in_cooldown = tracking.scale_in_cooldown_s if tracking is not None else math.inf
        self.scale_out_cooldown = tracking.scale_out_cooldown_s if tracking is not None else math.inf
        self.period = self.m.tracking_period_s
        self.conc: dict[int, float] = {}
        self.high: set[int] = set()
        self.last_busy_end = 0.0
        """End of the last period at or above the scale-in threshold (the low alarm's window starts here)."""
        self.last_load_end = 0.0
        """End of the last period with any request (scaling to zero needs a window without one)."""
        self.scale_in_token = 0
        self.scale_in_pending = False
        self.last_scale_in = -math.inf
        self.last_activity = -math.inf
        self.scale_out_until = -math.inf
        self.scale_out_pending: set[int] = set()
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
        a = mach.alarm
        self.zero_samples = a is not None and a.sees_failures and self.m.no_capacity_zero_samples > 0
        """Served requests add 0 samples to the alarm's metric (see `Mechanics.no_capacity_zero_samples`)."""
        self.step_until = -math.inf
        self.step_fired_serving = 0
        # warm holds
        self.hold_until = -math.inf
        self.held_since: float | None = None
        self.held_seconds = 0.0
        # records
        self.wakes: list[Wake] = []
        self.waking_since: float | None = None
        self.failure_since_zero: float | None = None
        self.no_capacity = 0

    # -- events -------------------------------------------------------------------------------------

    def push(self, t: float, kind: int, payload: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def record(self, t: float) -> None:
        tl = self.tl
        live = len(self.instances)
        serving = len(self.serving_copies)
        if tl.t and tl.serving[-1] == serving and tl.desired[-1] == self.desired and tl.instances[-1] == live:
            return
        tl.t.append(t)
        tl.serving.append(serving)
        tl.desired.append(self.desired)
        tl.instances.append(live)

    # -- capacity -----------------------------------------------------------------------------------

    def _draw(self, bounds: tuple[float, float]) -> float:
        lo, hi = bounds
        return lo if hi <= lo else self.rng.uniform(lo, hi)

    def set_desired(self, t: float, desired: int) -> None:
        desired = min(self.max_copies, max(self.min_cap, desired))  # the maximum wins over a minimum above it
        if desired == self.desired:
            return
        if self.desired == 0 and desired > 0 and not self.serving_copies and self.waking_since is None:
            self.waking_since = t
        self.desired = desired
        self.last_activity = t
        self.reconcile(t)

    def reconcile(self, t: float) -> None:
        active = len(self.serving_copies) + len(self.starting)
        while active < self.desired:
            if not self._place(t + self.m.scaling_activity_delay_s):
                break
            active += 1
        while active > self.desired:
            if self.starting:
                c = self.starting.pop()
                c.state = "cancelled"
                self._leave(c, t, t)
            else:
                c = self.serving_copies.pop()
                c.state = "stopped"
                for _ in range(self.k):  # its workers leave the pool; in-flight requests drain
                    heapq.heappop(self.slots)
                self.push(t + self.m.copy_stop_s, _COPY_GONE, c)
                if not self.serving_copies:
                    self.failure_since_zero = None
            active -= 1
        self._schedule_scale_in(t)
        self.record(t)

    def _place(self, t: float) -> bool:
        m = self.m
        inst = next((i for i in self.instances if i.copies < self.per_instance), None)
        if inst is None:
            if len(self.instances) >= self.instance_ceiling:
                return False
            inst = _Instance(t, t + self._draw(m.instance_provision_s))
            self.instances.append(inst)
        inst.copies += 1
        inst.idle_token += 1
        begin = max(t, inst.ready)
        if not inst.pulled:
            lo, hi = m.image_pull_s_per_gb
            begin += self._draw((lo * m.image_size_gb, hi * m.image_size_gb))
            inst.pulled = True  # a later copy on this instance reuses the image
        c = _Copy(inst, t, begin + self._draw(m.container_start_s))
        self.starting.append(c)
        self.push(c.ready, _COPY_READY, c)
        return True

    def _leave(self, c: _Copy, created_end: float, t: float) -> None:
        self.copy_seconds += created_end - c.created
        inst = c.instance
        inst.copies -= 1
        if inst.copies == 0:
            inst.idle_token += 1
            self.push(t + self.m.instance_idle_release_s, _INSTANCE_IDLE, (inst, inst.idle_token))

    def copy_ready(self, t: float, c: _Copy) -> None:
        if c.state != "starting":
            return
        self.starting.remove(c)
        c.state = "serving"
        if not self.serving_copies:
            self.last_busy_end = max(self.last_busy_end, t)  # the load metric exists from now on
            if self.waking_since is not None:
                self.wakes.append(Wake(self.waking_since, t, self.failure_since_zero))
                self.waking_since = None
                self.failure_since_zero = None
        self.serving_copies.append(c)
        for _ in range(self.k):
            heapq.heappush(self.slots, t)
        self._schedule_scale_in(t)
        self.record(t)

    # -- target tracking ----------------------------------------------------------------------------

    def _tick(self, t: float) -> float:
        """The first time >= t the scale-in alarm acts: it is evaluated on the minute and, while in
        ALARM, invokes its policy once a minute. Snapping to this grid keeps every scale-in on the
        alarm's own clock, whatever event asked for the check."""
        grid, offset = self.m.alarm_action_repeat_s, self.m.alarm_evaluation_delay_s
        return math.ceil((t - offset) / grid - _EPS) * grid + offset

    def _schedule_scale_in(self, t: float) -> None:
        if not self.tracks_in or self.desired <= self.min_cap or self.scale_in_pending:
            return
        self.scale_in_pending = True
        self.scale_in_token += 1
        due = self.last_busy_end + self.m.tracking_scale_in_s
        self.push(self._tick(max(t, due)), _SCALE_IN, self.scale_in_token)

    def _window_load(self, t: float) -> float:
        """The highest load per copy over the scale-in window: target tracking never removes capacity
        that a period inside the window needed."""
        if self.last_load_end <= t - self.m.tracking_scale_in_s:
            return 0.0  # no request at all in the window: the common case at night
        last = int(t // self.period) - 1
        first = int((t - self.m.tracking_scale_in_s) // self.period)
        busiest = max((self.conc.get(p, 0.0) for p in range(first, last + 1)), default=0.0)
        return busiest / (self.period * max(1, len(self.serving_copies)))

    def scale_in(self, t: float, token: int) -> None:
        if token != self.scale_in_token:
            return
        self.scale_in_pending = False
        if self.desired <= self.min_cap:
            return
        due = self.last_busy_end + self.m.tracking_scale_in_s
        cooldown_end = max(self.last_scale_in, self.last_activity) + self.scale_in_cooldown
        if due > t + _EPS or cooldown_end > t + _EPS or not self.serving_copies:
            nxt = self._tick(max(due, cooldown_end, t + _EPS if not self.serving_copies else t))
            if nxt <= t + _EPS:
                nxt = self._tick(t + self.m.alarm_action_repeat_s)
            self.scale_in_pending = True
            self.push(nxt, _SCALE_IN, token)
            return
        if self.desired == 1 and self.last_load_end > t - self.m.tracking_scale_in_s:
            new = 1  # any load keeps the last copy: ceil of a positive number
        else:
            new = math.ceil(len(self.serving_copies) * self._window_load(t) / self.target - _EPS)
        if new < self.desired:
            self.tl.scale_ins.append(t)
            self.last_scale_in = t
            self.set_desired(t, new)
        if self.desired > self.min_cap:
            self.scale_in_pending = True
            self.push(t + self.m.alarm_action_repeat_s, _SCALE_IN, token)

    def scale_out(self, t: float, p: int) -> None:
        self.scale_out_pending.discard(p)
        if t < self.scale_out_until or not self.serving_copies:
            return
        load = self.conc.get(p, 0.0) / (self.period * len(self.serving_copies))
        new = math.ceil(len(self.serving_copies) * load / self.target - _EPS)
        if new > self.desired:
            self.scale_out_until = t + self.scale_out_cooldown
            self.set_desired(t, new)

    # -- wake alarm and step policy -----------------------------------------------------------------

    def no_capacity_answer(self, t: float) -> None:
        self.no_capacity += 1
        if self.failure_since_zero is None:
            self.failure_since_zero = t
        if self.wake is not None:
            self.wake.failure(t)

    def step(self, t: float) -> None:
        """The wake alarm invokes the step policy (only called when the alarm's actions include it)."""
        spec, wake = self.mach.step, self.wake
        assert spec is not None and wake is not None
        serving = len(self.serving_copies)
        self.tl.alarm_fired.append(t)
        self.tl.alarm_fired_serving.append(serving)
        if serving:
            self.step_fired_serving += 1
        if t < self.step_until:
            return  # same adjustment while the policy's cooldown runs: nothing more to add
        delta = wake.breach_delta(spec.metric_aggregation)
        below = self.mach.alarm is not None and self.mach.alarm.comparison.startswith("LessThan")
        new = stepping.apply(spec, self.desired, delta, below=below)
        if new is None:
            return  # no interval holds this breach: the policy does nothing
        if (new > self.desired and self.mach.scale_out_suspended) or (
            new < self.desired and self.mach.scale_in_suspended
        ):
            return
        self.step_until = t + spec.cooldown_s
        self.set_desired(t, new)

    # -- warm ---------------------------------------------------------------------------------------

    def warm(self, t: float) -> None:
        self.tl.warms.append(t)
        self.hold_until = max(self.hold_until, t + self.cfg.client.hold_s)
        if self.min_cap < 1:
            self.held_since = t
        self.min_cap = max(self.min_cap, 1)
        # Every raise of the minimum has its fall-back scheduled, as `warm` puts the scheduled action
        # before raising the minimum; a superseded one is ignored when it fires.
        self.push(self.hold_until, _HOLD_END, self.hold_until)
        if self.desired < 1:
            self.set_desired(t, 1)

    def hold_end(self, t: float, until: float) -> None:
        if until != self.hold_until:
            return  # a later hold replaced this one
        if self.base_min < 1 and self.held_since is not None:
            self.held_seconds += t - self.held_since
            self.held_since = None
        self.min_cap = self.base_min
        self._schedule_scale_in(t)

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> SimResult:
        tr, cfg = self.tr, self.cfg
        n = tr.arrivals.size
        arrivals = tr.arrivals.tolist()
        service = tr.service_s.tolist()
        outcome = [FAILED] * n
        wait = [math.nan] * n
        attempts = [1] * n
        routed = [math.nan] * n
        finished = [math.nan] * n
        horizon = tr.horizon_s
        if self.mach.min_copies > 0:
            self._start_warm(self.mach.min_copies)
        elif self.instances:
            self.record(0.0)  # kept instances, billed from the start
        for t in tr.logins.tolist() if cfg.client.mode is Client.WARM else ():
            self.push(t, _LOGIN)
        client = cfg.client
        retrying = client.mode is not Client.PLAIN
        period = self.period
        conc = self.conc
        slots = self.slots
        heap = self.heap
        target = self.target if self.tracks_out else math.inf
        low = self.target * self.m.tracking_scale_in_threshold
        samples = self.wake if self.zero_samples else None
        n_out = self.m.tracking_scale_out_datapoints
        delay = self.m.alarm_evaluation_delay_s
        cold_warmed: set[int] = set()

        def request(t: float, r: int, attempt: int) -> None:
            serving = len(self.serving_copies)
            if serving:
                free = slots[0]
                start = free if free > t else t
                end = start + service[r]
                heapq.heapreplace(slots, end)
                outcome[r] = SERVED if attempt == 1 else WAITED
                wait[r] = start - arrivals[r]
                routed[r] = t
                finished[r] = end
                attempts[r] = attempt
                p = int(t // period)
                busy = conc.get(p, 0.0) + (end - t)
                conc[p] = busy
                self.last_load_end = (p + 1) * period
                load = busy / (period * serving)
                if load >= low and (p + 1) * period > self.last_busy_end:
                    self.last_busy_end = (p + 1) * period
                if samples is not None:
                    if t < samples.ans_end:
                        samples.ans_n += 1
                    else:
                        samples.answered_in_new_period(t)
                if load > target and p not in self.high:
                    self.high.add(p)
                    if all(p - j in self.high for j in range(1, n_out)) and p not in self.scale_out_pending:
                        self.scale_out_pending.add(p)
                        self.push((p + 1) * period + delay, _SCALE_OUT, p)
                return
            self.no_capacity_answer(t)
            attempts[r] = attempt
            if not retrying:
                finished[r] = t
                return
            if client.warm_on_cold and r not in cold_warmed:
                cold_warmed.add(r)
                self.warm(t)
            backoff = behaviour.backoff_s(
                attempt, self.jitter.random(), base_s=client.backoff_base_s, cap_s=client.backoff_cap_s
            )
            remaining = client.deadline_s - (t - arrivals[r])
            if remaining <= _EPS:
                outcome[r] = FAILED
                finished[r] = t  # the client gives up: DeadlineExceeded
                return
            outcome[r] = PENDING
            self.push(t + min(backoff, remaining), _RETRY, (r, attempt + 1))

        def until(limit: float) -> None:
            while heap and heap[0][0] <= limit:
                t, _seq, kind, payload = heapq.heappop(heap)
                if t > horizon:
                    heap.clear()
                    return
                if kind == _RETRY:
                    retry: tuple[int, int] = payload  # type: ignore[assignment]
                    request(t, retry[0], retry[1])
                elif kind == _COPY_READY:
                    self.copy_ready(t, payload)  # type: ignore[arg-type]
                elif kind == _COPY_GONE:
                    c: _Copy = payload  # type: ignore[assignment]
                    self._leave(c, t, t)
                    self.reconcile(t)  # its slot may be what a waiting copy needs
                elif kind == _INSTANCE_IDLE:
                    idle: tuple[_Instance, int] = payload  # type: ignore[assignment]
                    inst = idle[0]
                    if (
                        inst.idle_token == idle[1]
                        and inst.copies == 0
                        and inst.released is None
                        and len(self.instances) > self.instances_kept  # kept: min or fixed instances
                    ):
                        inst.released = t
                        self.instances.remove(inst)
                        self.released_seconds += t - inst.launched
                        self.record(t)
                elif kind == _ALARM_EVAL:
                    self.wake.evaluate_due(t, payload)  # type: ignore[union-attr, arg-type]
                elif kind == _ALARM_REPEAT:
                    self.wake.repeat(t, payload)  # type: ignore[union-attr, arg-type]
                elif kind == _SCALE_OUT:
                    self.scale_out(t, payload)  # type: ignore[arg-type]
                elif kind == _SCALE_IN:
                    self.scale_in(t, payload)  # type: ignore[arg-type]
                elif kind == _LOGIN:
                    self.warm(t)
                elif kind == _HOLD_END:
                    self.hold_end(t, payload)  # type: ignore[arg-type]

        for r in range(n):
            t = arrivals[r]
            if heap and heap[0][0] <= t:
                until(t)
            request(t, r, 1)
        until(horizon)
        if self.wake is not None:
            self.wake.finish(horizon)
        return self._result(outcome=outcome, wait=wait, attempts=attempts, finished=finished, routed=routed)

    def _start_warm(self, copies: int) -> None:
        """An always-on endpoint: instances and copies already serving at time 0."""
        self.desired = min(copies, self.max_copies)
        for _ in range(self.desired):
            live = [i for i in self.instances if i.copies < self.per_instance]
            inst = live[0] if live else _Instance(0.0, 0.0)
            if not live:
                self.instances.append(inst)
            inst.pulled = True  # a copy already serving has its image
            inst.copies += 1
            c = _Copy(inst, 0.0, 0.0)
            c.state = "serving"
            self.serving_copies.append(c)
            for _ in range(self.k):
                self.slots.append(0.0)
        self.record(0.0)

    def _result(
        self,
        *,
        outcome: list[int],
        wait: list[float],
        attempts: list[int],
        finished: list[float],
        routed: list[float],
    ) -> SimResult:
        end = self.tr.horizon_s
        copy_seconds = self.copy_seconds
        for c in self.serving_copies + self.starting:
            copy_seconds += end - c.created
        instance_seconds = self.released_seconds + sum(end - min(i.launched, end) for i in self.instances)
        if self.waking_since is not None:
            self.wakes.append(Wake(self.waking_since, None, self.failure_since_zero))
        out = np.asarray(outcome, dtype=np.int8)
        waits = np.asarray(wait, dtype=np.float64)
        ok = (out == SERVED) | (out == WAITED)
        starts = self.tr.arrivals[ok] + waits[ok]
        done = np.asarray(finished, dtype=np.float64)
        last = float(np.nanmax(done)) if np.isfinite(done).any() else 0.0
        if (out == PENDING).any():
            last = end
        zero_at = self._zero_from(last)
        tl = self.tl
        return SimResult(
            config=self.cfg,
            traffic=self.tr,
            outcome=out,
            wait_s=waits,
            attempts=np.asarray(attempts, dtype=np.int32),
            finished_at=done,
            routed_at=np.asarray(routed, dtype=np.float64),
            instance_seconds=instance_seconds,
            copy_seconds=copy_seconds,
            held_seconds=self.held_seconds + (end - self.held_since if self.held_since is not None else 0.0),
            timeline=self.tl,
            wakes=self.wakes,
            no_capacity_answers=self.no_capacity,
            first_served_at=float(starts.min()) if starts.size else None,
            last_request_at=last,
            zero_after_last_request_at=zero_at,
            ends_at_zero=not self.serving_copies and self.desired == 0,
            step_fired_while_serving=self.step_fired_serving,
            peak_copies=max(tl.serving, default=0),
        )

    def _zero_from(self, since: float) -> float | None:
        """The first time >= `since` with no copy serving or wanted, from the timeline."""
        tl = self.tl
        i = bisect.bisect_right(tl.t, since) - 1  # the entry in force at `since`
        if i < 0:
            return since  # before the first change: nothing serves yet
        for j in range(i, len(tl.t)):
            if tl.serving[j] == 0 and tl.desired[j] == 0:
                return max(since, tl.t[j])
        return None


def run(config: SimConfig, traffic: Traffic) -> SimResult:
    if (problem := config.fit_problem()) is not None:
        raise ValueError(problem)
    if problems := config.scaling.problems():
        raise ValueError("the machinery cannot be simulated: " + "; ".join(problems))
    return Simulation(config, traffic).run()
