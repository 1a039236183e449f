"""What went wrong when there is no reply: requests/urllib3 exceptions to our typed errors.

The text names the request (method and URL) and what happened in plain words ("connection
refused", "the server closed the connection"), never a library's or our class names or object
reprs; the library exception stays chained for debugging when its text is clean of the token.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import requests
import urllib3.exceptions

from .errors import APIConnectionError, APITimeoutError, ClientError, ConfigError

__all__ = [
    "MAX_ERROR_TEXT",
    "certificate_rejected",
    "connection_error",
    "describe",
    "is_timeout",
    "request_never_sent",
]

MAX_ERROR_TEXT = 2000


def _reason(err: BaseException) -> object:
    reason = err.args[0] if err.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return reason


def _chain(err: BaseException) -> list[BaseException]:
    """`err`, its wrapped reasons (requests and urllib3 nest them in `args[0]`), its causes."""
    seen: list[BaseException] = []
    todo: list[object] = [err]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "reason", None), e.args[0] if e.args else None]
        todo += [e.__cause__, e.__context__]
    return seen


def request_never_sent(err: BaseException) -> bool:
    """True when the connection failed before any byte of the request was written."""
    if isinstance(err, requests.ConnectTimeout) or certificate_rejected(err):
        return True
    return isinstance(err, requests.ConnectionError) and isinstance(
        _reason(err), urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


def certificate_rejected(err: BaseException) -> bool:
    """The TLS handshake failed verification: nothing was sent, and a retry cannot help."""
    if not isinstance(err, requests.exceptions.SSLError):
        return False
    return any(isinstance(e, ssl.SSLCertVerificationError) for e in _chain(err))


def is_timeout(err: BaseException) -> bool:
    """A connect or read timeout (requests wraps one in the middle of a body as a
    ConnectionError, urllib3 as a ReadTimeoutError)."""
    return isinstance(err, requests.Timeout | TimeoutError) or isinstance(
        _reason(err), urllib3.exceptions.ReadTimeoutError
    )


def describe(err: BaseException) -> str:
    """What happened, in words: no class names, no object reprs."""
    chain = _chain(err)
    if certificate_rejected(err):
        verify = next(e for e in chain if isinstance(e, ssl.SSLCertVerificationError))
        why = f"{verify.reason}: {verify.verify_message}"
        return f"the server's TLS certificate was rejected ({why})"
    if isinstance(err, requests.exceptions.SSLError):
        return "the TLS handshake failed"
    if isinstance(err, requests.exceptions.ProxyError):
        return "the proxy refused or failed the connection"
    if is_timeout(err):
        if request_never_sent(err):
            return "connecting timed out"
        return "no data within the read timeout"
    if any(isinstance(e, urllib3.exceptions.NameResolutionError) for e in chain):
        return "the host name could not be resolved"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return "the reply was cut off"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, ConnectionResetError):
            return "the connection was reset"
        if isinstance(e, ConnectionAbortedError | BrokenPipeError):
            return "the connection was aborted"
    for e in chain:
        if isinstance(e, urllib3.exceptions.ProtocolError | ConnectionError):
            return "the server closed the connection without a complete reply"
        if isinstance(e, urllib3.exceptions.DecodeError):
            return "the reply body could not be decoded"
        if isinstance(e, OSError) and e.strerror:
            return f"connection failed ({e.strerror})"
    if isinstance(err, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "the URL is not valid"
    if isinstance(err, requests.exceptions.InvalidHeader):
        return "a header value is not valid"
    return "the connection failed"


def connection_error(
    err: requests.RequestException, method: str, url: str, redact: Callable[[str], str]
) -> ClientError:
    """The typed error for a request that got no reply."""
    text = redact(f"{method} {url}: {describe(err)}")[:MAX_ERROR_TEXT]
    if isinstance(err, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConfigError(text)
    if request_never_sent(err):
        if is_timeout(err):
            return APITimeoutError(text, request_sent=False)
        return APIConnectionError(text, request_sent=False)
    if is_timeout(err):
        return APITimeoutError(text, request_sent=True)
    if isinstance(err, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return APIConnectionError(text, request_sent=True)
    # Anything else (content decoding, a bad header): not retried.
    return APIConnectionError(text, request_sent=None)
