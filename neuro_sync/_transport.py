"""The one owner of a request: URL, token, redirects, retries, deadlines, size, error classes.

A request arrives described (method, path, query, body, headers: what a generated
`build_request` returns) and leaves as a `Reply` (status < 300, body read) or a `Stream` (status
< 300, body read as it comes); everything else becomes a typed `neuro_sync.errors` exception,
and no `requests` exception escapes. Nothing here knows the job schema.

Deadlines (`_deadlines`): the timeout of a call bounds each attempt as a whole, not each socket
read (a server trickling one byte a second cannot stretch a call): a number `t` is a deadline of
`t` seconds, a `(connect, read)` pair one of `connect + read`. For a `Reply` the deadline covers
connect, headers and body; for a `Stream` connect and headers only, after which the read timeout
applies to each read. `(connect, None)` has no deadline. A caller's `deadline=` (an instant)
also bounds all attempts and the waits between them together.

Size: a `Reply` body may not exceed `max_reply_bytes` (`ReplyTooLarge`); the check runs before
reading (Content-Length) and while reading (a missing or lying Content-Length).

Retries: see `_retry.RetryPolicy`. Redirects are not followed: a token only goes where it was
given. The token is redacted from every error text and log line (`_redaction`).
"""

from __future__ import annotations

import io
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from ._closing import Closing
from ._deadlines import WATCHDOG, Guard, Watched, attempt_deadline, start_attempt, take_connection
from ._failures import (
    MAX_ERROR_TEXT,
    certificate_rejected,
    connection_error,
    describe,
    is_timeout,
)
from ._limits import DEFAULT_MAX_REPLY_BYTES
from ._redaction import chain_is_clean, protect_library_logs, token_redactor
from ._retry import RetryPolicy
from ._session import Session
from ._timeouts import DEFAULT_TIMEOUT, Timeout
from ._version import __version__
from .errors import (
    APITimeoutError,
    ClientError,
    ConfigError,
    ReplyTooLarge,
    ResponseValidationError,
    StreamInterrupted,
    error_from_status,
)

log = logging.getLogger("neuro_sync")

__all__ = ["DEFAULT_MAX_REPLY_BYTES", "Reply", "Stream", "Transport"]

# The most of an error body that is read: a streamed reply (the log) may never end.
_MAX_ERROR_BODY = 64 * 1024
_READ_CHUNK = 64 * 1024
# What a failed read of a body may raise, below requests' own wrappers.
_READ_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


class Reply:
    """A complete reply with a status below 300."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content


class Stream(Closing):
    """A reply with a status below 300 whose body is read as it arrives; close it."""

    def __init__(
        self, response: requests.Response, conn: Watched | None, redact: Callable[[str], str]
    ) -> None:
        self._response = response
        self._conn = conn
        self._redact = redact
        self._guard: Guard | None = None
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers

    def arm(self, seconds: float) -> None:
        """Cut the connection if `disarm` is not called within `seconds` (the reader then
        gets `APITimeoutError`)."""
        self.disarm()
        if self._conn is not None:
            self._guard = WATCHDOG.arm(seconds, self._conn)

    def disarm(self) -> None:
        guard = self._guard
        if guard is not None and not guard.fired:
            WATCHDOG.disarm(guard)
            self._guard = None

    def chunks(
        self, *, timeout_text: str, cut_text: str, idle: float | None = None
    ) -> Iterator[bytes]:
        """The non-empty chunks of the body as they arrive; a broken body raises
        `APITimeoutError(timeout_text)` or `StreamInterrupted(cut_text: what happened)`.

        `idle`: seconds each chunk may take (beyond the read timeout, which applies to each
        socket read); past it, `APITimeoutError` and the connection is cut.
        """
        chunks = self._response.iter_content(_READ_CHUNK)
        if idle is None:
            # The common case (every list, a log without `idle`): requests' own generator, no
            # step of ours per chunk (it yields no empty chunk); the log may come in 1 KiB
            # chunks, 100,000 for 100 MiB. A cut by an armed guard ends the body with a failed
            # read or an early EOF, told from the end below.
            failure: BaseException | None = None
            try:
                yield from chunks
            except _READ_ERRORS as err:
                failure = err
            if self._guard is not None and self._guard.fired:
                raise APITimeoutError(timeout_text)
            if failure is not None:
                self._raise_broken(failure, timeout_text, cut_text)
            return
        while True:
            guard = WATCHDOG.arm(idle, self._conn)
            failure = None
            chunk = b""
            ended = False
            try:
                chunk = next(chunks)
            except StopIteration:
                ended = True
            except _READ_ERRORS as err:
                failure = err
            finally:
                WATCHDOG.disarm(guard)
            if guard.fired or (self._guard is not None and self._guard.fired):
                # Whatever came after the cut (an EOF that looks like the end) is not the body.
                raise APITimeoutError(timeout_text)
            if failure is not None:
                self._raise_broken(failure, timeout_text, cut_text)
            if ended:
                return
            if chunk:
                yield chunk

    def _raise_broken(self, failure: BaseException, timeout_text: str, cut_text: str) -> NoReturn:
        """The error of a body whose read failed. Raised out of the except block; chained only
        when the library's text (which may quote the server, e.g. a bad chunk-size line) is
        clean."""
        error: ClientError = (
            APITimeoutError(timeout_text)
            if is_timeout(failure)
            else StreamInterrupted(self._redact(f"{cut_text}: {describe(failure)}"))
        )
        if chain_is_clean(failure, self._redact):
            raise error from failure
        raise error

    def close(self) -> None:
        """Release the connection (cut when the body was not read to its end)."""
        guard, self._guard = self._guard, None
        if guard is not None:
            WATCHDOG.disarm(guard)
        self._response.close()


class _BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer <token>`, passed per request as `auth=`: requests then never
    swaps it for `~/.netrc` credentials and drops it on a redirect to another host."""

    __slots__ = ("_value",)

    def __init__(self, token: str) -> None:
        self._value = f"Bearer {token}"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = self._value
        return r

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"


class _Retry:
    """An attempt failed and may be retried after `delay` seconds; else `failure` is raised."""

    __slots__ = ("delay", "failure")

    def __init__(self, delay: float, failure: ClientError) -> None:
        self.delay = delay
        self.failure = failure


def _clamp(timeout: Timeout, left: float) -> Timeout:
    """`timeout` with no part longer than `left` seconds."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (min(connect, left), left if read is None else min(read, left))
    return min(timeout, left)


class Transport:
    """Sends the described requests of one client to its API and monitoring base URLs."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.max_reply_bytes = max_reply_bytes
        self.sleep = sleep
        self.redact = token_redactor(token)
        if token:
            protect_library_logs(self.redact)
        self.session = Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = f"neuro-sync/{__version__}"
        if headers:
            self.session.headers.update(headers)
        self._token = token
        self._auth = _BearerAuth(token) if token else None

    @property
    def token(self) -> str:
        return self._token

    @property
    def verify(self) -> bool | str:
        verify = self.session.verify
        return True if verify is None else verify

    def proxy_for(self, url: str) -> str | None:
        """The proxy the HTTP calls use for `url` (the session's proxies, else `HTTPS_PROXY`,
        `NO_PROXY`... as requests reads them); None: a direct connection."""
        settings = self.session.merge_environment_settings(url, {}, None, None, None)
        proxy: str | None = requests.utils.select_proxy(url, settings["proxies"])
        return proxy

    def url_for(self, path: str, base: str | None = None) -> str:
        """The absolute URL of an endpoint path, on `base` (default: the API base URL)."""
        return (self.url if base is None else base.rstrip("/")) + path

    def send(
        self,
        request: Mapping[str, Any],
        *,
        base: str | None = None,
        timeout: Timeout | None = None,
        deadline: float | None = None,
    ) -> Reply:
        """Send `request` (a generated `build_request()`), read the reply whole.

        Args:
            base: the base URL of the path (default: the API base URL).
            timeout: the HTTP timeout (default: the client's).
            deadline: a `time.monotonic()` instant that no attempt, retry or wait passes.
        """
        response, body, _ = self._send(request, base, timeout, deadline, streamed=False)
        response.close()  # read to its end: the connection goes back to the pool
        return Reply(response.status_code, response.headers, body)

    def open(
        self, request: Mapping[str, Any], *, base: str | None = None, timeout: Timeout | None = None
    ) -> Stream:
        """Send `request` and return the reply with its body unread (the caller closes it)."""
        response, _, conn = self._send(request, base, timeout, None, streamed=True)
        return Stream(response, conn, self.redact)

    def _send(
        self,
        request: Mapping[str, Any],
        base: str | None,
        timeout: Timeout | None,
        deadline: float | None,
        *,
        streamed: bool,
    ) -> tuple[requests.Response, bytes, Watched | None]:
        kwargs = dict(request)
        method = str(kwargs.pop("method")).upper()
        url = self.url_for(kwargs.pop("url"), base)
        # Every reply is opened streamed so that the body is read here: within the attempt's
        # deadline and the size cap (requests would read it whole, unbounded).
        kwargs["stream"] = True
        kwargs["allow_redirects"] = False
        if self._auth is not None:
            kwargs["auth"] = self._auth
        timeout = self.timeout if timeout is None else timeout
        retry = 0
        while True:
            attempt_timeout = timeout
            seconds = attempt_deadline(timeout)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise APITimeoutError(
                        self.redact(f"{method} {url}: the call's time ran out"),
                        request_sent=retry > 0,
                    )
                attempt_timeout = _clamp(timeout, left)
                seconds = left if seconds is None else min(seconds, left)
            kwargs["timeout"] = attempt_timeout
            guard = WATCHDOG.arm(math.inf if seconds is None else seconds)
            start_attempt(guard)
            try:
                outcome = self._attempt(method, url, kwargs, retry, streamed, guard)
            finally:
                conn = take_connection()
            if isinstance(outcome, _Retry):
                if deadline is not None and time.monotonic() + outcome.delay >= deadline:
                    raise outcome.failure
                self.sleep(outcome.delay)
                retry += 1
                continue
            response, body = outcome
            return response, body, conn

    def _attempt(
        self,
        method: str,
        url: str,
        kwargs: dict[str, Any],
        retry: int,
        streamed: bool,
        guard: Guard,
    ) -> tuple[requests.Response, bytes] | _Retry:
        """One attempt: the reply and its body (b"" when `streamed`), or a retry.

        Everything read from the socket is read before the guard is disarmed: headers, the
        body of a reply that is not streamed, the error body of a final error.
        """
        err: requests.RequestException | None = None
        response: requests.Response | None = None
        delay: float | None = None
        error_body = body = b""
        try:
            response = self.session.request(method, url, **kwargs)
            status = response.status_code
            if status < 300:
                if not streamed:
                    body = self._read_body(response, method, url)
            elif status >= 400:
                delay = self.policy.delay_for_status(
                    method, status, retry, response.headers.get("Retry-After")
                )
                if delay is None:
                    error_body = _error_body(response)
        except requests.RequestException as exc:
            err = exc
        finally:
            WATCHDOG.disarm(guard)
        if guard.fired:
            # The socket was shut down under whatever was read: a cut header block even
            # looks complete to http.client. Whatever came is not the reply.
            if response is not None:
                response.close()
            err = err or requests.exceptions.ReadTimeout("the attempt deadline passed")
        if err is not None:
            # Out of the except block, so that a dirty `err` is not even __context__.
            self._forget_token(err)
            failure = self._failure(err, method, url, guard)
            request_sent = getattr(failure, "request_sent", None)
            if isinstance(failure, ConfigError) or certificate_rejected(err):
                delay = None  # the same URL or certificate would fail again
            else:
                delay = self.policy.delay_for_error(method, retry, request_sent=request_sent)
            if delay is None:
                if chain_is_clean(err, self.redact):
                    raise failure from err
                raise failure
            log.debug(
                "%s %s failed (%s); retry %d in %.2fs", method, url, failure, retry + 1, delay
            )
            return _Retry(delay, failure)
        assert response is not None
        status = response.status_code
        log.debug("%s %s -> %d (attempt %d)", method, url, status, retry + 1)
        if status < 300:
            # A streamed reply (the log) lives on in the caller's hands, and with it the
            # request that carried the token.
            self._forget_token(response)
            return response, body
        response.close()
        if status < 400:
            # Returning it would make e.g. a kill through a proxy look done.
            raise _redirect_error(response, self.redact)
        error = error_from_status(status, error_body, redact=self.redact, reason=response.reason)
        if delay is None:
            raise error
        log.debug("%s %s -> %d; retry %d in %.2fs", method, url, status, retry + 1, delay)
        return _Retry(delay, error)

    def _failure(
        self, err: requests.RequestException, method: str, url: str, guard: Guard
    ) -> ClientError:
        if guard.fired:
            # The watchdog ended the attempt; what requests saw was the socket going away.
            return APITimeoutError(
                self.redact(
                    f"{method} {url}: no complete reply within {guard.seconds:g} s "
                    "(the deadline of one attempt: connect + read timeout)"
                )[:MAX_ERROR_TEXT],
                request_sent=True,
            )
        return connection_error(err, method, url, self.redact)

    def _read_body(self, response: requests.Response, method: str, url: str) -> bytes:
        """The whole body, at most `max_reply_bytes` of it."""
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
        return body.getvalue()

    def _too_large(self, method: str, url: str, what: str) -> ReplyTooLarge:
        path = self.redact(urlsplit(url).path)[:200]
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
            if isinstance(value, str) and self.redact(value) != value
        ]
        if secret:
            clean = request.copy()
            for name in secret:
                del clean.headers[name]
            holder.request = clean

    def close(self) -> None:
        self.session.close()

    def __repr__(self) -> str:
        return f"Transport(url={self.url!r})"


def _error_body(response: requests.Response) -> bytes:
    """At most `_MAX_ERROR_BODY` bytes of the body."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(8192):
            parts.append(chunk)
            size += len(chunk)
            if size >= _MAX_ERROR_BODY:
                break
    except _READ_ERRORS:
        pass  # a cut error body still has a status; say what arrived
    return b"".join(parts)[:_MAX_ERROR_BODY]


def _redirect_error(response: requests.Response, redact: Callable[[str], str]) -> ClientError:
    location = redact(response.headers.get("Location", "?"))[:200]
    return ResponseValidationError(
        f"The server answered {response.status_code} (a redirect to {location}); redirects are "
        "not followed, so that the token never goes to another address. Use the final URL."
    )
