"""How the operations client behaves, in numbers: the retry deadline, the backoff, the warm hold.

One place, because three parts must agree on them: `sagezero.ops` does it, the simulator models it
(a simulated `retry` client that backs off differently from the real one would predict waits nobody
sees), and the CLI shows the defaults in its help. Pure: no boto3, no numpy, no Pulumi.
"""

from __future__ import annotations

import datetime as dt
import math

DEADLINE_S = 600.0
"""`invoke` gives up after this long; the seed's cold starts took 3-6 minutes."""
BACKOFF_BASE_S = 1.0
"""The first retry waits up to this long; each further one doubles it ..."""
BACKOFF_CAP_S = 20.0
"""... up to this cap, so a copy that becomes ready is found within ~20 s."""
HOLD_MINUTES = 30.0
"""`warm` (and `invoke`'s wake) keeps at least one copy this long before falling back to zero."""
HOLD_MAX = dt.timedelta(days=7)
"""A longer hold is almost certainly a mistake that would keep an endpoint billing for weeks."""
DEADLINE_MAX_S = 86_400.0
"""The longest `invoke` deadline: a day is far past any cold start."""
WARM_TIMEOUT_S = 900.0
"""`warm --wait` gives up waiting (the component keeps warming) after this long."""
WARM_POLL_S = 10.0
"""How often `warm --wait` asks SageMaker where the cold start is."""

_MAX_EXPONENT = 62  # 2**62 s is far past any cap; bounds the float maths for very long retry loops


def backoff_s(attempt: int, jitter: float, *, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """Delay before retry number `attempt` (1-based): capped exponential backoff with full jitter.

    `jitter` is a draw from [0, 1); full jitter spreads many clients that failed together (every
    user of a component that just went to zero) instead of retrying in lockstep.
    """
    return min(cap_s, base_s * 2.0 ** min(max(attempt - 1, 0), _MAX_EXPONENT)) * jitter


def hold_problem(hold: dt.timedelta) -> str | None:
    """Why a warm hold cannot be used, or None."""
    if hold < dt.timedelta(seconds=1) or hold > HOLD_MAX:
        return f"hold {hold} must be between 1 second and {HOLD_MAX.days} days"
    return None


def hold_minutes_problem(minutes: float) -> str | None:
    """Why a hold of `minutes` cannot be used, or None; checked before a timedelta is built (1e300
    minutes would overflow it)."""
    longest = HOLD_MAX.total_seconds() / 60
    if not (math.isfinite(minutes) and 1 / 60 <= minutes <= longest):
        return f"hold must be between 1 second and {HOLD_MAX.days} days (0.0167 to {longest:g} minutes)"
    return None


def deadline_problem(deadline_s: float) -> str | None:
    """Why `invoke` cannot use this retry deadline, or None."""
    if not (math.isfinite(deadline_s) and 0 <= deadline_s <= DEADLINE_MAX_S):
        return f"deadline must be from 0 to {DEADLINE_MAX_S:g} seconds (a day)"
    return None


# ---- asynchronous requests (`invoke --async`, `sagezero.ops.invoke_async`) ----------------------

ASYNC_DEADLINE_S = 1800.0
"""`invoke --async` stops waiting (the request stays queued) after this long: a 3-6 minute cold start
plus AWS's default 15-minute InvocationTimeoutSeconds, with room to spare."""
ASYNC_DEADLINE_MAX_S = 86_400.0
"""The longest wait: a request that is still queued after a day is fetched later, not waited for."""
ASYNC_POLL_BASE_S = 2.0
"""The first check for the result object comes this soon; each further one waits up to twice as long ..."""
ASYNC_POLL_CAP_S = 30.0
"""... up to this cap: a result is found within ~30 s of being written, at two S3 HEAD requests a check
(about 100 checks an hour per waiting request, a fraction of a cent)."""
ASYNC_SQS_WAIT_S = 20
"""Long-poll wait of one SQS receive (the most SQS allows); the queue wakes the client as soon as the
endpoint's notice arrives, so a notification-driven wait costs one request per 20 s."""
ASYNC_SQS_SHARED_PAUSE_S = 1.0
"""After a receive that brought only other requests' notices (a queue shared by many waiters), the next
receive waits this long: they are made visible again for their owners, so receiving at once would spin."""
ASYNC_ENQUEUE_ATTEMPTS = 5
"""`InvokeEndpointAsync` answered "throttled" or "unavailable" (the request was not queued) is sent again,
with the real-time backoff (`backoff_s`), up to this many times in all and never past the deadline."""
ASYNC_MAX_PAYLOAD_BYTES = 1024**3
"""AWS's limit for an asynchronous request payload (1 GB)."""
ASYNC_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024
"""Payloads are uploaded in parts of this size (S3 multipart): memory stays at a few parts, never the file."""


def async_deadline_problem(deadline_s: float) -> str | None:
    """Why `invoke --async` cannot wait this long, or None."""
    if not (math.isfinite(deadline_s) and 0 <= deadline_s <= ASYNC_DEADLINE_MAX_S):
        return f"deadline must be from 0 to {ASYNC_DEADLINE_MAX_S:g} seconds (a day)"
    return None
