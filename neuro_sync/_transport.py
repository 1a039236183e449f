"""The one transport layer: session, timeouts, retries, error mapping, token redaction.

Every request of the facade goes through `ReliableSession.request`, which the generated
endpoint code calls. It returns only replies with a status below 300 (a redirect is not followed:
it is an error, like any status >= 400); everything else becomes a typed `neuro_sync.errors`
exception, and no `requests` exception escapes.

Deadlines: the timeout of a call bounds each attempt as a whole, not each socket read (a server
trickling one byte a second cannot stretch a call): a number `t` is a deadline of `t` seconds, a
`(connect, read)` pair one of `connect + read`. For a reply read here (every JSON reply) the
deadline covers connect, headers and body; for a streamed one (the log, save) connect and headers
only, after which the read timeout applies to each read. `(connect, None)` has no deadline. One
watchdog thread per process enforces it by shutting the attempt's socket down (see `_Watchdog`).

Size: a reply read here may not exceed `max_reply_bytes` (`ReplyTooLarge`); the check runs
before reading (Content-Length) and while reading (a missing or lying Content-Length).

Retries: GET and DELETE on connection errors, read timeouts and 502/503/504/429 (honouring
`Retry-After` up to a cap); any method, `run`'s POST included, only when the request provably
never left (refused, connect timeout). Exponential backoff with jitter; see `RetryPolicy`.

The token is redacted from every error text and log line; a library exception whose text holds
it (because the server echoed it) is not chained to ours.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
import urllib3.poolmanager
from neuro_sync_api.client import DEFAULT_TIMEOUT, AuthenticatedClient, TimeoutType
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import _mapping
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthorizationError,
    ClientError,
    ConfigError,
    IllegalArgumentError,
    JobNotFound,
    MethodNotAllowed,
    MissingPermission,
    ReplyTooLarge,
    ResourceNotFound,
    ResponseValidationError,
    ServerError,
)

log = logging.getLogger("neuro_sync")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_ERROR_TEXT = 2000
# The most of an error body that is read: a streamed reply (the log) may never end.
_MAX_ERROR_BODY = 64 * 1024
# Retry-After delta-seconds (RFC 9110: 1*DIGIT; a fraction is tolerated). Not float(): that
# would take "inf", "nan", "1e9", "1_0" and non-ASCII digits.
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?", re.ASCII)
DEFAULT_MAX_REPLY_BYTES = 256 * 1024 * 1024
_READ_CHUNK = 64 * 1024

__all__ = [
    "DEFAULT_MAX_REPLY_BYTES",
    "DEFAULT_TIMEOUT",
    "ReliableSession",
    "RetryPolicy",
    "TimeoutType",
    "Transport",
    "attempt_deadline",
    "chain_is_clean",
    "error_from_status",
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
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": no known zone, and HTTP dates are always GMT
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0)  # a date in the past: retry now


def _reason(err: requests.ConnectionError) -> object:
    reason = err.args[0] if err.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return reason


def _request_never_sent(err: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request was written."""
    if isinstance(err, requests.ConnectTimeout) or _certificate_rejected(err):
        return True
    return isinstance(
        _reason(err), urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def _certificate_rejected(err: requests.ConnectionError) -> bool:
    """The TLS handshake failed verification: nothing was sent, and a retry cannot help."""
    if not isinstance(err, requests.exceptions.SSLError):
        return False
    reason = _reason(err)
    for _ in range(5):
        if isinstance(reason, ssl.SSLCertVerificationError):
            return True
        if not isinstance(reason, BaseException) or not reason.args:
            return False
        reason = reason.args[0]
    return False


def _error_body(response: requests.Response) -> bytes:
    """At most `_MAX_ERROR_BODY` bytes of the body (all of it when it was already read)."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(8192):
            parts.append(chunk)
            size += len(chunk)
            if size >= _MAX_ERROR_BODY:
                break
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        pass  # a cut error body still has a status; say what arrived
    return b"".join(parts)[:_MAX_ERROR_BODY]


NOT_A_JOBS_API = "the URL does not look like a jobs API (a base URL like https://dev.neu.ro/api/v1)"


def error_from_status(
    status: int, body: bytes, *, redact: Callable[[str], str], reason: str | None = None
) -> APIStatusError:
    """The one status -> exception table, for HTTP replies and WebSocket handshakes alike."""
    message, listed = _mapping.error_details(body)
    missing = [MissingPermission(uri=redact(m.uri), action=redact(m.action)) for m in listed]
    if not message:
        message = f"{status}: {reason or 'error'}"
    # Redact before cutting: a token cut in two would no longer match.
    message = redact(message)[:_MAX_ERROR_TEXT]
    if status == 400:
        if message.startswith("no such job"):
            job_id = message[len("no such job") :].strip() or None
            return JobNotFound(message, status=status, job_id=job_id)
        return IllegalArgumentError(message, status=status)
    if status == 401:
        return AuthenticationError(message, status=status)
    if status == 403:
        return AuthorizationError(message, status=status, missing=missing)
    if status == 404:  # the 2019 jobs API has no 404 of its own (an unknown job is a 400)
        return ResourceNotFound(f"{message}: {NOT_A_JOBS_API}", status=status)
    if status == 405:
        return MethodNotAllowed(message, status=status)
    if status >= 500:
        return ServerError(message, status=status)
    return IllegalArgumentError(message, status=status)


def _redirect_error(response: requests.Response, redact: Callable[[str], str]) -> ClientError:
    location = redact(response.headers.get("Location", "?"))[:200]
    return ResponseValidationError(
        f"The server answered {response.status_code} (a redirect to {location}); redirects are "
        "not followed, so that the token never goes to another address. Use the final URL."
    )


def chain_is_clean(err: BaseException, redact: Callable[[str], str]) -> bool:
    """True when no text of `err` or of the exceptions chained to it holds the token.

    Library exceptions quote what the server sent (a status line, a redirect target), which a
    hostile or careless server may have filled with the token it was given. Such an exception
    is not chained to ours: `raise ... from` would show its text in every traceback.
    """
    texts = traceback.format_exception(err)
    seen: list[BaseException] = []
    todo = [err]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen) or len(seen) > 20:
            continue
        seen.append(e)
        texts.append(repr(e))
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return all(redact(t) == t for t in texts)


class _RedactingFilter(logging.Filter):
    """Takes live tokens out of the records of the HTTP libraries' own loggers.

    urllib3 logs, for instance, the raw header bytes of a reply it cannot parse; a server that
    echoes the request there would put the token in the application's logs. Each `Transport`
    registers its redactor (weakly: a closed and collected client leaves nothing behind).
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Callable[[str], str]] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, redact: Callable[[str], str]) -> None:
        with self._lock:
            self._redactors.add(redact)

    def _redact(self, text: str) -> str:
        with self._lock:
            redactors = list(self._redactors)
        for redact in redactors:
            text = redact(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's business
            return True
        clean = self._redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            clean = self._redact(text)
            if clean != text:
                # The formatted, redacted traceback replaces the exception itself.
                record.exc_info, record.exc_text = None, clean
        return True


_LOG_FILTER = _RedactingFilter()
_FILTERED_LOGGERS = (
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "websocket",
)
_filter_installed = False
_filter_lock = threading.Lock()


def _protect_library_logs(redact: Callable[[str], str]) -> None:
    global _filter_installed
    with _filter_lock:
        if not _filter_installed:
            for name in _FILTERED_LOGGERS:
                logging.getLogger(name).addFilter(_LOG_FILTER)
            _filter_installed = True
    _LOG_FILTER.add(redact)


def attempt_deadline(timeout: object) -> float | None:
    """Seconds one attempt may take in all, from a request's `timeout`; None: no deadline.

    A number is the deadline itself; `(connect, read)` gives `connect + read`; a `None` read
    (wait between bytes forever) means no deadline at all.
    """
    if isinstance(timeout, tuple):
        connect, read = timeout
        if read is None or connect is None:
            return None
        return float(connect) + float(read)
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    return None


class _Guard:
    """The deadline of one attempt and the connection it runs on (once the pool gave one)."""

    __slots__ = ("conn", "deadline", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.conn: object | None = None
        self.fired = False


class _Watchdog:
    """Shuts an attempt's socket down when its deadline passes.

    One daemon thread for the process, started on demand and ended after `idle_exit` seconds
    without armed attempts. It ticks every `tick` seconds (the precision of a deadline) instead
    of being woken per request: arming and disarming are a dict insert and delete, so the hot
    path pays no thread switch. A shut-down socket makes the blocked read return at once; the
    attempt then fails, and `fired` tells the transport it was the deadline.
    """

    def __init__(self, tick: float = 0.05, idle_exit: float = 2.0) -> None:
        self.tick = tick
        self.idle_exit = idle_exit
        self.lock = threading.Lock()
        self._armed: dict[int, _Guard] = {}
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Guard:
        guard = _Guard(seconds)
        self._armed[id(guard)] = guard
        if self._thread is None:
            with self.lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="neuro-sync-deadlines", daemon=True
                    )
                    self._thread.start()
        return guard

    def disarm(self, guard: _Guard) -> None:
        # Under the lock: once this returns, the watchdog no longer touches the connection,
        # which may go back to the pool and to another thread.
        with self.lock:
            self._armed.pop(id(guard), None)

    def bind(self, guard: _Guard, conn: object) -> None:
        """`conn` now carries `guard`'s attempt (and no earlier one's)."""
        with self.lock:
            guard.conn = conn
            conn._neuro_sync_guard = guard  # type: ignore[attr-defined]

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            time.sleep(self.tick)
            now = time.monotonic()
            with self.lock:
                if not self._armed:
                    if idle_since is None:
                        idle_since = now
                    elif now - idle_since >= self.idle_exit:
                        self._thread = None
                        return
                    continue
                idle_since = None
                for key, guard in list(self._armed.items()):
                    if now >= guard.deadline and self._fire(guard):
                        del self._armed[key]

    @staticmethod
    def _fire(guard: _Guard) -> bool:
        conn = guard.conn
        sock = getattr(conn, "_neuro_sync_sock", None)
        if sock is None or getattr(conn, "_neuro_sync_guard", None) is not guard:
            return False  # still connecting (bounded by the connect timeout): next tick
        guard.fired = True
        with contextlib.suppress(OSError, TypeError):
            # The plain socket's shutdown, also under TLS: it only ends the byte stream and
            # leaves the SSL object to the reading thread, which sees an EOF. (TLS inside a
            # TLS proxy tunnel is no socket: TypeError, and per-read timeouts only.)
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        return True


_WATCHDOG = _Watchdog()
_current = threading.local()


def _bind_current(conn: object) -> None:
    guard: _Guard | None = getattr(_current, "guard", None)
    if guard is not None:
        _WATCHDOG.bind(guard, conn)


class _KeepsSocket:
    """Connection mixin: http.client drops `sock` once the headers say the connection closes
    after the body, yet the body is still read from it; keep it where the watchdog finds it."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._neuro_sync_sock = self.sock


class _BindsConnections:
    """Pool mixin: a connection taken for an attempt is bound to the attempt's guard."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        _bind_current(conn)
        return conn


class _DeadlineHTTPConnection(_KeepsSocket, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_KeepsSocket, HTTPSConnection):
    pass


class _DeadlinePool(_BindsConnections, HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(_BindsConnections, HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_DEADLINE_POOLS = {"http": _DeadlinePool, "https": _DeadlineHTTPSPool}


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An adapter whose pools tell the watchdog which connection an attempt runs on."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _DEADLINE_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        # A SOCKS manager has its own pool classes; its replies keep per-read timeouts only.
        if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = _DEADLINE_POOLS
        return manager


# What requests' proxy and CA-bundle lookup reads for an http(s) URL; any other `*_proxy`
# variable only matters for other schemes. REQUEST_METHOD: urllib ignores HTTP_PROXY under CGI.
_ENV_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
) + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD")
_EnvSettings = tuple[dict[str, str], str | None]


def _environment_values() -> tuple[str | None, ...]:
    """The current values of `_ENV_VARIABLES`, read once per request through the public
    `os.environ` (a few microseconds; not CPython's private mapping behind it, whose
    behaviour is no contract)."""
    return tuple(map(os.environ.get, _ENV_VARIABLES))


class ReliableSession(requests.Session):
    """A `requests.Session` whose `request` retries by policy and raises typed errors."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        redact: Callable[[str], str],
        sleep: Callable[[float], None] = time.sleep,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        super().__init__()
        self.policy = policy
        self.max_reply_bytes = max_reply_bytes
        self._redact = redact
        self._sleep = sleep
        self._env_cache: dict[tuple[str, tuple[str | None, ...]], _EnvSettings] = {}
        self._env_lock = threading.Lock()

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> Any:
        """requests' merge, with the proxy settings computed once per origin and environment.

        requests scans all of `os.environ` twice per request for proxy settings; for a client
        that talks to one or two hosts that was the largest single cost of a call. The result is
        cached, keyed on the origin and on the values of the few variables it depends on
        (read directly, which is cheap), so a changed `HTTPS_PROXY` or `NO_PROXY` counts at once.
        """
        if not self.trust_env or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        origin = (f"{parts.scheme}://{parts.netloc}", _environment_values())
        env = self._env_cache.get(origin)
        if env is None:
            with self._env_lock:
                if len(self._env_cache) >= 64:
                    self._env_cache.clear()  # an environment that keeps changing: stay small
                env = self._env_cache[origin] = (
                    dict(requests.utils.get_environ_proxies(url, no_proxy=None)),
                    os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
                )
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
        method = (method.decode() if isinstance(method, bytes) else method).upper()
        url = url.decode() if isinstance(url, bytes) else url
        # Every reply is opened streamed so that this class reads the body itself: within the
        # attempt's deadline and the size cap (requests would read it whole, unbounded).
        streamed = bool(kwargs.get("stream"))
        kwargs["stream"] = True
        seconds = attempt_deadline(kwargs.get("timeout"))
        retry = 0
        while True:
            guard = None if seconds is None else _WATCHDOG.arm(seconds)
            _current.guard = guard
            try:
                outcome = self._attempt(method, url, kwargs, retry, streamed, guard)
            finally:
                _current.guard = None
            if isinstance(outcome, requests.Response):
                return outcome
            self._sleep(outcome)
            retry += 1

    def _attempt(
        self,
        method: str,
        url: str,
        kwargs: dict[str, Any],
        retry: int,
        streamed: bool,
        guard: _Guard | None,
    ) -> requests.Response | float:
        """One attempt: the reply (body read unless `streamed`), or the delay before a retry.

        Everything read from the socket is read before the guard is disarmed: headers, the
        body of a reply that is not streamed, the error body of a final error.
        """
        err: requests.RequestException | None = None
        response: requests.Response | None = None
        delay: float | None = None
        error_body = b""
        try:
            response = super().request(method, url, **kwargs)
            status = response.status_code
            if status < 300:
                if not streamed:
                    self._read_body(response, method, url)
            elif status >= 400:
                delay = self.policy.delay_for_status(
                    method, status, retry, response.headers.get("Retry-After")
                )
                if delay is None:
                    error_body = _error_body(response)
        except requests.RequestException as exc:
            err = exc
        finally:
            if guard is not None:
                _WATCHDOG.disarm(guard)
        if guard is not None and guard.fired:
            # The socket was shut down under whatever was read: a cut header block even
            # looks complete to http.client. Whatever came is not the reply.
            if response is not None:
                response.close()
            err = err or requests.exceptions.ReadTimeout("the attempt deadline passed")
        if err is not None:
            # Out of the except block, so that a dirty `err` is not even __context__.
            self._forget_token(err)
            failure = self._connection_error(err, method, url, guard)
            if isinstance(err, requests.ConnectionError) and _certificate_rejected(err):
                delay = None  # the same certificate would fail again
            else:
                delay = self.policy.delay_for_error(
                    method, retry, request_sent=failure.request_sent
                )
            if delay is None:
                if chain_is_clean(err, self._redact):
                    raise failure from err
                raise failure
            log.debug(
                "%s %s failed (%s); retry %d in %.2fs", method, url, failure, retry + 1, delay
            )
            return delay
        assert response is not None
        status = response.status_code
        log.debug("%s %s -> %d (attempt %d)", method, url, status, retry + 1)
        if status < 300:
            # A streamed reply (the log) lives on in the caller's hands, and with it the
            # request that carried the token.
            self._forget_token(response)
            for earlier in response.history:
                self._forget_token(earlier)
            return response
        response.close()
        if status < 400:
            # Only reached when redirects are not followed (the generated client's
            # default). Returning it would make e.g. a kill through a proxy look done.
            raise _redirect_error(response, self._redact)
        if delay is None:
            raise error_from_status(status, error_body, redact=self._redact, reason=response.reason)
        log.debug("%s %s -> %d; retry %d in %.2fs", method, url, status, retry + 1, delay)
        return delay

    def _read_body(self, response: requests.Response, method: str, url: str) -> None:
        """Read the whole body into `response.content`, at most `max_reply_bytes` of it."""
        cap = self.max_reply_bytes
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > cap:
            response.close()
            raise self._too_large(method, url, f"announces {int(length):,} bytes")
        # BytesIO: getvalue() hands over its buffer without a copy, so the peak is ~ the body.
        body = io.BytesIO()
        size = 0
        for chunk in response.iter_content(_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                response.close()
                raise self._too_large(method, url, f"went past {cap:,} bytes")
            body.write(chunk)
        response._content = body.getvalue()

    def _too_large(self, method: str, url: str, what: str) -> ReplyTooLarge:
        path = self._redact(urlsplit(url).path)[:200]
        return ReplyTooLarge(
            f"The reply to {method} {path} {what}, more than max_reply_bytes="
            f"{self.max_reply_bytes:,}; it was not read. For a long job list, filter it "
            "(statuses=, name=, owners=) or stream it with client.jobs.iter(...); or raise "
            "Client(max_reply_bytes=...).",
            limit=self.max_reply_bytes,
        )

    def _forget_token(self, holder: requests.Response | requests.RequestException) -> None:
        """Make `holder.request` (already sent) a copy without the headers holding the token.

        A copy, not the request itself: whatever recorded the request as sent (a test's mock)
        keeps seeing what went over the wire.
        """
        request = holder.request
        if not isinstance(request, requests.PreparedRequest):
            return
        secret = [
            name
            for name, value in request.headers.items()
            if isinstance(value, str) and self._redact(value) != value
        ]
        if secret:
            clean = request.copy()
            for name in secret:
                del clean.headers[name]
            holder.request = clean

    def _connection_error(
        self,
        err: requests.RequestException,
        method: str,
        url: str,
        guard: _Guard | None = None,
    ) -> APIConnectionError:
        if guard is not None and guard.fired:
            # The watchdog ended the attempt; what requests saw was the socket going away.
            return APITimeoutError(
                self._redact(
                    f"{method} {url}: no complete reply within {guard.seconds:g} s "
                    "(the deadline of one attempt: connect + read timeout)"
                )[:_MAX_ERROR_TEXT],
                request_sent=True,
            )
        text = self._redact(f"{method} {url}: {type(err).__name__}: {err}")[:_MAX_ERROR_TEXT]
        if isinstance(err, requests.ConnectionError) and _request_never_sent(err):
            if isinstance(err, requests.Timeout):
                return APITimeoutError(text, request_sent=False)
            return APIConnectionError(text, request_sent=False)
        if isinstance(err, requests.Timeout) or (
            # A read timeout in the middle of a body: requests wraps it as a ConnectionError.
            isinstance(err, requests.ConnectionError)
            and isinstance(_reason(err), urllib3.exceptions.ReadTimeoutError)
        ):
            return APITimeoutError(text, request_sent=True)
        if isinstance(err, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return APIConnectionError(text, request_sent=True)
        if isinstance(err, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
            if chain_is_clean(err, self._redact):
                raise ConfigError(text) from err
            raise ConfigError(text)
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
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.redact = _token_redactor(token)
        if token:
            _protect_library_logs(self.redact)
        self.session = ReliableSession(
            policy=policy or RetryPolicy(),
            redact=self.redact,
            sleep=sleep,
            max_reply_bytes=max_reply_bytes,
        )
        # More than requests' default 10 pooled connections per host: a Client is meant to be
        # shared by many threads, and a full pool discards connections (and warns).
        adapter = _DeadlineAdapter(pool_connections=4, pool_maxsize=64)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.verify = verify
        self.session.headers["User-Agent"] = f"neuro-sync/{__version__}"
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
