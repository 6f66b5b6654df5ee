"""What an answer means for an event, how long to wait before the next attempt."""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum


class Verdict(Enum):
    """What to do after one attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    DISABLE = "disable"


# 408 and 425 say "the same request later may work", like 429 and the 5xx.
_RETRIED_4XX = {408, 425, 429}


def verdict(status: int | None) -> Verdict:
    """The verdict on an HTTP status; None is no answer (connection error, timeout).

    Any other 4xx (and a 3xx: redirects are not followed, a webhook URL is configured
    exactly) is the receiver refusing this event: the same bytes will be refused again, so
    the event is dead-lettered at once and the key moves on.
    """
    if status is None or status >= 500 or status in _RETRIED_4XX:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status == 410:
        return Verdict.DISABLE
    return Verdict.DEAD_LETTER


def backoff(attempt: int, initial_s: float, cap_s: float,
            rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): "full jitter", uniform
    between 0 and ``initial_s * 2**(attempt - 1)`` capped at ``cap_s``, so receivers that
    failed together are not retried together."""
    ceiling = min(cap_s, initial_s * 2.0 ** min(attempt - 1, 62))
    return (rng or random).uniform(0.0, ceiling)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP date); None when
    absent or unreadable. A date in the past asks for no wait."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
