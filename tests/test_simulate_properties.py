"""Properties the simulator must keep for any traffic and settings (hypothesis)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagezero.mechanics import Mechanics
from sagezero.settings import EndpointSettings
from sagezero.simulate import Client, ClientSettings, SimConfig, SimResult, run
from sagezero.simulate import prices as price_table
from sagezero.simulate import traffic as tg
from sagezero.simulate.engine import FAILED, SERVED, WAITED

PRICES = price_table.load()
FIXED_STARTUP = Mechanics(instance_provision_s=(180.0, 180.0), image_pull_s_per_gb=(25.0, 25.0),
                          container_start_s=(40.0, 40.0))  # fmt: skip
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw: st.DrawFn, mode: Client | None = None) -> tuple[SimConfig, tg.Traffic]:
    instance = draw(st.sampled_from(["ml.g5.xlarge", "ml.c5.xlarge", "ml.g5.12xlarge"]))
    accelerators = 0 if instance == "ml.c5.xlarge" else 1
    s = EndpointSettings(
        instance_type=instance,
        accelerators=accelerators,
        min_memory_mb=draw(st.sampled_from([1024, 2048, 4096])),
        max_copies=draw(st.integers(1, 6)),
        max_instance_count=draw(st.integers(1, 3)),
        target_value=draw(st.sampled_from([0.5, 1.0, 5.0])),
        scale_in_cooldown_s=draw(st.sampled_from([0, 60, 300, 900])),
        step_cooldown_s=draw(st.sampled_from([0, 60, 600])),
    )
    client = ClientSettings(
        mode=mode or draw(st.sampled_from(list(Client))),
        hold_s=draw(st.sampled_from([0.0, 300.0, 1800.0])),
        deadline_s=draw(st.sampled_from([30.0, 120.0, 600.0])),
    )
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        traffic = tg.sessions(sessions_per_day=draw(st.integers(1, 200)), days=2, seed=seed,
                              first_request_s=draw(st.sampled_from([0.0, 60.0, 600.0])))  # fmt: skip
    else:
        traffic = tg.poisson(requests_per_day=draw(st.integers(10, 200_000)), days=2, seed=seed)
    if client.mode is Client.WARM and traffic.logins.size == 0:
        client = dataclasses.replace(client, mode=Client.RETRY)
    return SimConfig(s, PRICES.instance(instance), client=client, seed=seed), traffic


def _serving_at(r: SimResult, times: np.ndarray) -> np.ndarray:
    t = np.asarray(r.timeline.t)
    idx = np.searchsorted(t, times, side="right") - 1
    serving = np.asarray(r.timeline.serving)
    return np.where(idx >= 0, serving[np.maximum(idx, 0)], 0)


@FAST
@given(scenarios())
def test_copies_and_instances_never_exceed_their_maximum(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg, traffic = case
    r = run(cfg, traffic)
    assert max(r.timeline.desired, default=0) <= cfg.settings.max_copies
    assert max(r.timeline.serving, default=0) <= cfg.max_copies()
    assert max(r.timeline.instances, default=0) <= cfg.settings.max_instance_count


@FAST
@given(scenarios())
def test_nothing_is_served_at_zero_copies(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg, traffic = case
    r = run(cfg, traffic)
    served = (r.outcome == SERVED) | (r.outcome == WAITED)
    assert (_serving_at(r, r.routed_at[served]) >= 1).all()
    assert np.all(np.diff(r.timeline.t) >= 0)


@FAST
@given(scenarios(mode=Client.RETRY))
def test_with_wake_and_retry_no_request_fails_before_its_deadline(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg, traffic = case
    r = run(cfg, traffic)
    failed = r.outcome == FAILED
    gave_up_after = r.finished_at[failed] - traffic.arrivals[failed]
    assert (gave_up_after >= cfg.client.deadline_s - 1e-6).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    sessions=st.integers(2, 80),
    first_request_s=st.sampled_from([0.0, 60.0, 300.0, 900.0]),
    mode=st.sampled_from([Client.WARM, Client.RETRY]),
)
def test_what_a_longer_hold_buys_never_shrinks(seed: int, sessions: int, first_request_s: float, mode: Client) -> None:
    """Held time (the minimum at 1) never decreases as the hold grows, and a day-long hold never
    costs less than none.

    The issue asked for "cost never decreases as hold time grows". The machinery does not have that
    property, and the simulator shows why (test_a_slightly_longer_hold_can_cost_less below): a hold
    that ends a minute later moves the scale-in a minute later, the idle instance is then still there
    when the next user logs in, and that wake skips provisioning and ends sooner. The effect is
    small (up to ~0.3 % of instance time in a search of 700 cases) and only at short holds; over a
    sweep the cost rises with the hold (tests/test_simulate.py)."""
    traffic = tg.sessions(sessions_per_day=sessions, days=3, seed=seed, first_request_s=first_request_s)
    s = EndpointSettings()
    instance = PRICES.instance(s.instance_type)
    holds = (0.0, 300.0, 900.0, 1800.0, 3600.0, 86_400.0)
    # warm on login only: every hold starts at a login, whatever the endpoint is doing
    on_login = [ClientSettings(Client.WARM, hold_s=h, warm_on_cold=False) for h in holds]
    held = [run(SimConfig(s, instance, client=c, seed=seed), traffic).held_seconds for c in on_login]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(held)), held
    none, day = (
        run(SimConfig(s, instance, client=ClientSettings(mode, hold_s=h), seed=seed), traffic) for h in (0, 86_400)
    )
    assert day.instance_seconds >= none.instance_seconds


def test_a_slightly_longer_hold_can_cost_less() -> None:
    """The counterexample to "cost never decreases as the hold grows", kept so the docs stay true."""
    traffic = tg.sessions(sessions_per_day=66, days=3, seed=50052, first_request_s=900.0)
    s = EndpointSettings()

    def cost(hold_s: float) -> float:
        client = ClientSettings(Client.WARM, hold_s=hold_s, warm_on_cold=False)
        return run(
            SimConfig(s, PRICES.instance(s.instance_type), FIXED_STARTUP, client, seed=50052), traffic
        ).instance_seconds

    assert cost(60.0) < cost(0.0)
    assert cost(3600.0) > cost(0.0)


@FAST
@given(scenarios())
def test_same_seed_same_result(case: tuple[SimConfig, tg.Traffic]) -> None:
    cfg, traffic = case
    a, b = run(cfg, traffic), run(cfg, traffic)
    np.testing.assert_array_equal(a.outcome, b.outcome)
    np.testing.assert_array_equal(a.wait_s, b.wait_s)
    assert (a.instance_seconds, a.copy_seconds, a.timeline.t) == (b.instance_seconds, b.copy_seconds, b.timeline.t)
