"""When a failed attempt is retried, and after how long (the transport applies it).

Retries: GET and DELETE on connection errors, read timeouts and 502/503/504/429 (honouring
`Retry-After` up to a cap); any method, `run`'s POST included, only when the request provably
never left (refused, connect timeout). Exponential backoff with jitter.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["IDEMPOTENT_METHODS", "RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
RETRY_STATUSES = frozenset({502, 503, 504})
# Retry-After delta-seconds (RFC 9110: 1*DIGIT; a fraction is tolerated). Not float(): that
# would take "inf", "nan", "1e9", "1_0" and non-ASCII digits.
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?", re.ASCII)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before retrying.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        backoff_base: first backoff, seconds; doubles each retry.
        backoff_max: cap of one backoff, seconds.
        retry_after_cap: longest `Retry-After` honoured, seconds; a longer one is not retried.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_cap: float = 60.0

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (0-based): exponential, 75-100 % jitter."""
        # The exponent is capped: 2.0**1100 would raise OverflowError with a huge max_retries.
        delay = min(self.backoff_base * (2.0 ** min(retry, 64)), self.backoff_max)
        return delay * (0.75 + 0.25 * rng())

    @staticmethod
    def should_retry_status(method: str, status: int) -> bool:
        """Only idempotent methods retry on a reply (429, 502, 503, 504).

        A reply means the request arrived; `run` (POST) is never sent twice after one, not even
        after a 429, since a proxy may answer for a server that acted on it.
        """
        return method in IDEMPOTENT_METHODS and (status == 429 or status in RETRY_STATUSES)

    @staticmethod
    def should_retry_error(method: str, *, request_sent: bool) -> bool:
        """A request that provably never left may always retry; otherwise only idempotent ones."""
        return not request_sent or method in IDEMPOTENT_METHODS

    def delay_for_status(
        self,
        method: str,
        status: int,
        retry: int,
        retry_after: str | None = None,
        *,
        rng: Callable[[], float] = random.random,
        now: float | None = None,
    ) -> float | None:
        """Seconds to wait before retrying a reply with `status`, or None: do not retry.

        `retry` is the number of retries made so far. A usable `Retry-After` longer than the
        backoff is waited for; one longer than `retry_after_cap` is not retried at all.
        """
        if retry >= self.max_retries or not self.should_retry_status(method, status):
            return None
        delay = self.backoff(retry, rng)
        asked = parse_retry_after(retry_after, now)
        if asked is not None:
            if asked > self.retry_after_cap:
                return None
            delay = max(delay, asked)
        return delay

    def delay_for_error(
        self,
        method: str,
        retry: int,
        *,
        request_sent: bool | None,
        rng: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait before retrying after a failure without a reply, or None.

        `request_sent=None` (unknown, e.g. a body that could not be decoded) is not retried.
        """
        if retry >= self.max_retries or request_sent is None:
            return None
        if not self.should_retry_error(method, request_sent=request_sent):
            return None
        return self.backoff(retry, rng)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    import email.utils  # an HTTP date is rare; the module is slow to import

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": no known zone, and HTTP dates are always GMT
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0)  # a date in the past: retry now
