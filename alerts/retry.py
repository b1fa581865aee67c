"""When to try a failed delivery again: the Standard Webhooks schedule.

Attempts are made at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
14 h, 20 h and 24 h; a receiver's Retry-After (429, 503) is honoured; 410
Gone stops at once.

>>> [delay_after(n) for n in range(1, 4)]
[5.0, 300.0, 1800.0]
>>> delay_after(10) is None
True
>>> delay_after(1, retry_after=120)
120.0
"""

from __future__ import annotations

SCHEDULE_SECONDS = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)
"""Delay before attempt n+1 (index n); the first attempt is immediate."""
MAX_RETRY_AFTER = 24 * 3600.0
DISABLE_AFTER_SECONDS = 5 * 24 * 3600.0
"""An endpoint failing this long is disabled and its owner told."""


def delay_after(failed_attempts: int, retry_after: float | None = None) -> float | None:
    """Seconds to wait after ``failed_attempts`` failures, or None when the schedule is exhausted."""
    if failed_attempts >= len(SCHEDULE_SECONDS):
        return None
    delay = float(SCHEDULE_SECONDS[failed_attempts])
    if retry_after is not None:
        delay = float(min(max(retry_after, 0.0), MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now_epoch)
    except (TypeError, ValueError):
        return None
