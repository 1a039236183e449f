"""The retry decision, the backoff and Retry-After parsing as pure functions, table-driven, with
the clock and the jitter stubbed (nothing here sleeps or opens a socket)."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuro_sync._retry import RetryPolicy, parse_retry_after

NOW = 1_565_950_272.0  # 2019-08-16T10:11:12Z, the stubbed clock
HTTP_NOW = email.utils.formatdate(NOW, usegmt=True)


def rng_low() -> float:
    return 0.0


def rng_high() -> float:
    return 1.0 - 1e-12


# ---------------------------------------------------------------------- backoff

# (retry, jitter draw, expected seconds) with the default policy: min(0.5 * 2**n, 8) * 75-100 %.
BACKOFF = [
    (0, 0.0, 0.375),
    (0, 1.0, 0.5),
    (0, 0.5, 0.4375),
    (1, 0.0, 0.75),
    (1, 1.0, 1.0),
    (2, 1.0, 2.0),
    (3, 1.0, 4.0),
    (4, 1.0, 8.0),
    (5, 1.0, 8.0),  # capped
    (5, 0.0, 6.0),
    (60, 1.0, 8.0),
    (10_000, 1.0, 8.0),  # no OverflowError from 2.0**10000
]


@pytest.mark.parametrize(("retry", "draw", "expected"), BACKOFF)
def test_backoff_table(retry: int, draw: float, expected: float) -> None:
    assert RetryPolicy().backoff(retry, rng=lambda: draw) == pytest.approx(expected)


@given(
    retry=st.integers(0, 2000),
    draw=st.floats(0.0, 1.0),
    base=st.floats(0.01, 5.0),
    cap=st.floats(0.01, 60.0),
)
def test_backoff_is_capped_with_75_to_100_percent_jitter(
    retry: int, draw: float, base: float, cap: float
) -> None:
    policy = RetryPolicy(backoff_base=base, backoff_max=cap)
    full = min(base * 2.0 ** min(retry, 64), cap)
    delay = policy.backoff(retry, rng=lambda: draw)
    assert 0.75 * full - 1e-9 <= delay <= full + 1e-9


# ---------------------------------------------------------------------- decision on a reply

# (method, status, retries made, max_retries, Retry-After, expected delay or None), jitter at 100 %.
STATUS_DECISIONS = [
    # Idempotent methods retry on 502/503/504 and 429.
    ("GET", 502, 0, 2, None, 0.5),
    ("GET", 503, 0, 2, None, 0.5),
    ("GET", 504, 1, 2, None, 1.0),
    ("DELETE", 503, 0, 2, None, 0.5),
    ("DELETE", 429, 0, 2, None, 0.5),
    ("GET", 429, 0, 2, None, 0.5),
    # The count is spent.
    ("GET", 503, 2, 2, None, None),
    ("GET", 503, 0, 0, None, None),  # 0 disables
    ("GET", 503, 4, 5, None, 8.0),
    # Other statuses never retry.
    ("GET", 500, 0, 2, None, None),
    ("GET", 400, 0, 2, None, None),
    ("GET", 401, 0, 2, None, None),
    ("GET", 403, 0, 2, None, None),
    ("GET", 404, 0, 2, None, None),
    ("GET", 501, 0, 2, None, None),
    ("GET", 505, 0, 2, None, None),
    # run (POST) never retries after a reply: the job may exist.
    ("POST", 502, 0, 2, None, None),
    ("POST", 503, 0, 2, None, None),
    ("POST", 504, 0, 2, None, None),
    ("POST", 429, 0, 2, None, None),
    ("POST", 429, 0, 2, "1", None),
    ("PATCH", 503, 0, 2, None, None),
    # Retry-After: waited for when longer than the backoff, ignored when shorter.
    ("GET", 429, 0, 2, "3", 3.0),
    ("GET", 503, 0, 2, "3", 3.0),
    ("GET", 503, 0, 2, "0", 0.5),
    ("GET", 429, 1, 2, "0.25", 1.0),
    ("GET", 429, 0, 2, "60", 60.0),  # at the cap
    ("GET", 429, 0, 2, "61", None),  # over the cap: the error now, not a minute's hang
    ("GET", 429, 0, 2, "86400", None),
    ("GET", 429, 0, 2, email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
    ("GET", 429, 0, 2, email.utils.formatdate(NOW + 3600, usegmt=True), None),
    ("GET", 429, 0, 2, email.utils.formatdate(NOW - 3600, usegmt=True), 0.5),  # past
    ("GET", 429, 0, 2, "soon", 0.5),  # unusable: plain backoff
    ("GET", 429, 0, 2, "-5", 0.5),
    ("GET", 429, 0, 2, "inf", 0.5),
    ("GET", 429, 0, 2, "", 0.5),
]


@pytest.mark.parametrize(
    ("method", "status", "retry", "max_retries", "retry_after", "expected"), STATUS_DECISIONS
)
def test_decision_on_a_reply(
    method: str,
    status: int,
    retry: int,
    max_retries: int,
    retry_after: str | None,
    expected: float | None,
) -> None:
    policy = RetryPolicy(max_retries=max_retries)
    delay = policy.delay_for_status(method, status, retry, retry_after, rng=rng_high, now=NOW)
    if expected is None:
        assert delay is None
    else:
        assert delay == pytest.approx(expected)
        assert policy.should_retry_status(method, status)


def test_retry_after_cap_is_configurable() -> None:
    policy = RetryPolicy(retry_after_cap=5.0)
    assert policy.delay_for_status("GET", 429, 0, "5", rng=rng_low, now=NOW) == 5.0
    assert policy.delay_for_status("GET", 429, 0, "6", rng=rng_low, now=NOW) is None


# ---------------------------------------------------------------------- decision on no reply

# (method, retries made, request_sent, expected delay or None) with max_retries=2, jitter 75 %.
ERROR_DECISIONS = [
    # Connection errors and read timeouts (the request may have arrived): idempotent only.
    ("GET", 0, True, 0.375),
    ("GET", 1, True, 0.75),
    ("GET", 2, True, None),
    ("DELETE", 0, True, 0.375),
    ("POST", 0, True, None),  # run: the job may exist
    ("POST", 1, True, None),
    # The request provably never left (refused, connect timeout, DNS): any method.
    ("POST", 0, False, 0.375),
    ("POST", 1, False, 0.75),
    ("POST", 2, False, None),
    ("GET", 0, False, 0.375),
    # Unknown (a body that could not be decoded): never.
    ("GET", 0, None, None),
    ("POST", 0, None, None),
]


@pytest.mark.parametrize(("method", "retry", "sent", "expected"), ERROR_DECISIONS)
def test_decision_without_a_reply(
    method: str, retry: int, sent: bool | None, expected: float | None
) -> None:
    delay = RetryPolicy(max_retries=2).delay_for_error(
        method, retry, request_sent=sent, rng=rng_low
    )
    if expected is None:
        assert delay is None
    else:
        assert delay == pytest.approx(expected)


def test_zero_retries_disables_every_retry() -> None:
    policy = RetryPolicy(max_retries=0)
    assert policy.delay_for_error("GET", 0, request_sent=False) is None
    assert policy.delay_for_status("GET", 503, 0) is None


# ---------------------------------------------------------------------- Retry-After parsing

RETRY_AFTER = [
    (None, None),
    ("", None),
    ("   ", None),
    ("0", 0.0),
    ("5", 5.0),
    (" 120 ", 120.0),
    ("1.5", 1.5),
    ("007", 7.0),
    ("-1", None),
    ("+5", None),
    ("1e3", None),
    ("inf", None),
    ("nan", None),
    ("Infinity", None),
    ("1_000", None),
    ("٣", None),  # an Arabic-Indic digit: float() would take it
    ("５", None),  # a fullwidth digit
    ("5 seconds", None),
    ("0x10", None),
    ("9" * 40, None),  # absurdly long: not a number of seconds
    # HTTP dates, against the stubbed clock.
    (email.utils.formatdate(NOW + 10, usegmt=True), 10.0),
    (email.utils.formatdate(NOW, usegmt=True), 0.0),
    (email.utils.formatdate(NOW - 10, usegmt=True), 0.0),  # in the past: now
    ("Fri, 16 Aug 2019 10:12:12 GMT", 60.0),
    ("Friday, 16-Aug-19 10:12:12 GMT", 60.0),  # obsolete RFC 850 form, still valid
    ("Fri, 16 Aug 2019 10:12:12 -0000", None),  # no known zone
    ("Fri, 16 Aug 2019 10:12:12 +0100", 0.0),  # 09:12:12Z, in the past
    ("Fri, 16 Aug 99999 10:12:12 GMT", None),
    ("Fri, 16 Aug 2019 25:12:12 GMT", None),
    ("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799.0 - NOW),
    ("tomorrow", None),
]


@pytest.mark.parametrize(("value", "expected"), RETRY_AFTER)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    got = parse_retry_after(value, now=NOW)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@given(st.text(max_size=60))
def test_parse_retry_after_never_raises(value: str) -> None:
    got = parse_retry_after(value, now=NOW)
    assert got is None or (got >= 0.0 and got == got and got != float("inf"))


@given(st.integers(0, 10**9))
def test_parse_retry_after_takes_any_delta_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds), now=NOW) == float(seconds)
