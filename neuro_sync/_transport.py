"""The one transport layer: session, timeouts, retries, error mapping, token redaction.

Every request of the facade goes through `ReliableSession.request`, which the generated
endpoint code calls. It returns only replies with a status below 400; everything else becomes a
typed `neuro_sync.errors` exception, and no `requests` exception escapes.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from neuro_sync_api.client import DEFAULT_TIMEOUT, AuthenticatedClient, TimeoutType

from . import _mapping
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    ConfigError,
    IllegalArgumentError,
    JobNotFound,
    MethodNotAllowed,
    ResourceNotFound,
    ServerError,
)

log = logging.getLogger("neuro_sync")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_ERROR_TEXT = 2000

__all__ = [
    "DEFAULT_TIMEOUT",
    "ReliableSession",
    "RetryPolicy",
    "TimeoutType",
    "Transport",
    "error_from_response",
    "parse_retry_after",
]


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
        delay = min(self.backoff_base * (2.0**retry), self.backoff_max)
        return delay * (0.75 + 0.25 * rng())

    def should_retry_status(self, method: str, status: int) -> bool:
        """429 was rejected unprocessed, so any method may retry; 502-504 only idempotent ones."""
        if status == 429:
            return True
        return status in RETRY_STATUSES and method in IDEMPOTENT_METHODS

    @staticmethod
    def should_retry_error(method: str, *, request_sent: bool) -> bool:
        """A request that provably never left may always retry; otherwise only idempotent ones."""
        return not request_sent or method in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds < 0:  # NaN or past
        return 0.0 if seconds == seconds else None
    return seconds


def _request_never_sent(err: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request was written."""
    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = err.args[0] if err.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def error_from_response(
    response: requests.Response, *, redact: Callable[[str], str]
) -> APIStatusError:
    """The typed error for a reply with status >= 400 (reads its body)."""
    status = response.status_code
    try:
        content = response.content
    except requests.RequestException:
        content = b""
    message, missing = _mapping.error_details(content)
    if not message:
        message = f"{status}: {response.reason or 'error'}"
    message = redact(message[:_MAX_ERROR_TEXT])
    if status == 400:
        if message.startswith("no such job"):
            job_id = message[len("no such job") :].strip() or None
            return JobNotFound(message, status=status, job_id=job_id)
        return IllegalArgumentError(message, status=status)
    if status == 401:
        return AuthenticationError(message, status=status)
    if status == 403:
        return AuthorizationError(message, status=status, missing=missing)
    if status == 404:
        return ResourceNotFound(message, status=status)
    if status == 405:
        return MethodNotAllowed(message, status=status)
    if status >= 500:
        return ServerError(message, status=status)
    return IllegalArgumentError(message, status=status)


class ReliableSession(requests.Session):
    """A `requests.Session` whose `request` retries by policy and raises typed errors."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        redact: Callable[[str], str],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.policy = policy
        self._redact = redact
        self._sleep = sleep
        self._env_cache: dict[str, tuple[dict[str, str], str | None]] = {}
        self._env_lock = threading.Lock()

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> Any:
        """requests' merge, with the environment read once per origin instead of per request.

        requests scans all of `os.environ` twice per request for proxy settings; for a client
        that talks to one or two hosts that was the largest single cost of a call. Proxy and
        CA-bundle variables are therefore read when a host is first contacted.
        """
        if not self.trust_env or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        env = self._env_cache.get(origin)
        if env is None:
            with self._env_lock:
                env = (
                    dict(requests.utils.get_environ_proxies(url, no_proxy=None)),
                    os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
                )
                self._env_cache[origin] = env
        merged_proxies = dict(proxies or {})
        for key, value in env[0].items():
            merged_proxies.setdefault(key, value)
        if (verify is True or verify is None) and env[1]:
            verify = env[1]
        session_proxies = {k: v for k, v in self.proxies.items() if v is not None}
        return {
            # A per-request value wins over the session's, as in requests' merge_setting.
            "proxies": {**session_proxies, **merged_proxies},
            "stream": self.stream if stream is None else stream,
            "verify": self.verify if verify is None else verify,
            "cert": self.cert if cert is None else cert,
        }

    def request(  # type: ignore[override]
        self, method: str | bytes, url: str | bytes, **kwargs: Any
    ) -> requests.Response:
        method = method.decode() if isinstance(method, bytes) else method.upper()
        url = url.decode() if isinstance(url, bytes) else url
        retry = 0
        while True:
            try:
                response = super().request(method, url, **kwargs)
            except requests.RequestException as err:
                failure = self._connection_error(err, method, url)
                sent = failure.request_sent
                if (
                    retry < self.policy.max_retries
                    and sent is not None
                    and (self.policy.should_retry_error(method, request_sent=sent))
                ):
                    delay = self.policy.backoff(retry)
                    log.debug(
                        "%s %s failed (%s); retry %d in %.2fs",
                        method,
                        url,
                        failure,
                        retry + 1,
                        delay,
                    )
                    self._sleep(delay)
                    retry += 1
                    continue
                raise failure from err
            status = response.status_code
            log.debug("%s %s -> %d (attempt %d)", method, url, status, retry + 1)
            if status < 400:
                return response
            if retry < self.policy.max_retries and self.policy.should_retry_status(method, status):
                delay = self.policy.backoff(retry)
                if status == 429 or "Retry-After" in response.headers:
                    asked = parse_retry_after(response.headers.get("Retry-After"))
                    if asked is not None:
                        if asked > self.policy.retry_after_cap:
                            raise error_from_response(response, redact=self._redact)
                        delay = max(delay, asked)
                response.close()
                self._sleep(delay)
                retry += 1
                continue
            try:
                raise error_from_response(response, redact=self._redact)
            finally:
                response.close()

    def _connection_error(
        self, err: requests.RequestException, method: str, url: str
    ) -> APIConnectionError:
        text = self._redact(f"{method} {url}: {type(err).__name__}: {err}")[:_MAX_ERROR_TEXT]
        if isinstance(err, requests.ConnectionError) and _request_never_sent(err):
            if isinstance(err, requests.Timeout):
                return APITimeoutError(text, request_sent=False)
            return APIConnectionError(text, request_sent=False)
        if isinstance(err, requests.Timeout):
            return APITimeoutError(text, request_sent=True)
        if isinstance(err, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return APIConnectionError(text, request_sent=True)
        if isinstance(err, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            raise ConfigError(text) from err
        # Anything else (content decoding, a bad header): not retried.
        return APIConnectionError(text, request_sent=None)


def _token_redactor(token: str) -> Callable[[str], str]:
    def redact(text: str) -> str:
        return text.replace(token, "<redacted>") if token else text

    return redact


class Transport:
    """Owns the session and the generated clients for the API and monitoring bases."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: TimeoutType = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.redact = _token_redactor(token)
        self.session = ReliableSession(
            policy=policy or RetryPolicy(), redact=self.redact, sleep=sleep
        )
        self.session.verify = verify
        self.session.headers["User-Agent"] = "neuro-sync/0.1"
        if headers:
            self.session.headers.update(headers)
        self._token = token
        self.api = self._client(self.url)
        self._monitoring: AuthenticatedClient | None = None
        self._lock = threading.Lock()

    def _client(self, base_url: str) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=base_url, session=self.session, timeout=self.timeout, token=self._token
        )

    def monitoring(self, monitoring_url: str) -> AuthenticatedClient:
        """The generated client bound to the monitoring base URL."""
        with self._lock:
            if self._monitoring is None or self._monitoring.base_url != monitoring_url:
                self._monitoring = self._client(monitoring_url)
            return self._monitoring

    @property
    def token(self) -> str:
        return self._token

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"Transport(url={self.url!r})"
