"""The neuro-sync error tree.

The 2019 SDK names and bases keep working (`ClientError`, `IllegalArgumentError(ValueError)`,
`AuthError`, `AuthenticationError`, `AuthorizationError`, `ResourceNotFound(ValueError)`);
richer classes sit inside that tree so that new code can catch precisely.

    ClientError
    ├── APIStatusError                   any reply with status >= 400 (.status, .message)
    │   ├── IllegalArgumentError         400, and statuses the 2019 SDK lumped in with it
    │   │   ├── JobNotFound              400 "no such job" (also a ResourceNotFound)
    │   │   └── ServerError              5xx
    │   ├── AuthError
    │   │   ├── AuthenticationError      401: missing, invalid or expired token
    │   │   └── AuthorizationError       403 (.missing lists the permissions)
    │   ├── ResourceNotFound             404
    │   └── MethodNotAllowed             405
    ├── APIConnectionError               no reply at all (.request_sent)
    │   ├── APITimeoutError              the connect timeout or the deadline passed
    │   └── JobSubmissionUncertain       a run whose outcome is unknown
    ├── ResponseValidationError          a reply that does not have the documented shape
    │   └── ReplyTooLarge                a reply over max_reply_bytes
    ├── StreamInterrupted                a log or telemetry stream cut before its end
    ├── ConfigError                      no URL or token, an unreadable config file
    ├── JobSaveError                     save failed inside its progress stream
    ├── WaitTimeout                      wait's max_time passed (also a TimeoutError; .job)
    ├── ExecTimeout                      exec's max_time passed (also a TimeoutError)
    ├── JobNotRunning                    top, exec, port_forward on a job that is not running
    ├── SSHNotAvailable                  exec, port_forward without an ssh program
    ├── HostKeyMismatch                  the SSH gateway's host key is not the known one
    └── ValidationError                  bad input, raised before any request (.field)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthError",
    "AuthenticationError",
    "AuthorizationError",
    "ClientError",
    "ConfigError",
    "ExecTimeout",
    "HostKeyMismatch",
    "IllegalArgumentError",
    "JobNotFound",
    "JobNotRunning",
    "JobSaveError",
    "JobSubmissionUncertain",
    "MethodNotAllowed",
    "MissingPermission",
    "ReplyTooLarge",
    "ResourceNotFound",
    "ResponseValidationError",
    "SSHNotAvailable",
    "ServerError",
    "StreamInterrupted",
    "ValidationError",
    "WaitTimeout",
]


class ClientError(Exception):
    """Base of every error neuro-sync raises."""


class APIStatusError(ClientError):
    """The server answered with an error status.

    Attributes:
        status: the HTTP status code.
        message: the server's `error` text (or the body text when it has no JSON error).
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class IllegalArgumentError(APIStatusError, ValueError):
    """400 (and, as in the 2019 SDK, other statuses without a class of their own)."""


class ServerError(IllegalArgumentError):
    """5xx: the server failed. (An `IllegalArgumentError` for 2019 compatibility.)"""


class AuthError(APIStatusError):
    """Authentication or authorization failed."""


class AuthenticationError(AuthError):
    """401: the token is missing, invalid or expired."""


@dataclass(frozen=True)
class MissingPermission:
    """One permission a 403 reply says is missing."""

    uri: str
    action: str


class AuthorizationError(AuthError):
    """403: the token is valid but lacks permissions.

    Attributes:
        missing: the permissions the server listed (empty if it gave no list).
    """

    def __init__(
        self, message: str, *, status: int = 403, missing: Sequence[MissingPermission] = ()
    ) -> None:
        super().__init__(message, status=status)
        self.missing: tuple[MissingPermission, ...] = tuple(missing)


class ResourceNotFound(APIStatusError, ValueError):
    """404 (and the 400 `no such job`, through `JobNotFound`)."""


class JobNotFound(ResourceNotFound, IllegalArgumentError):
    """The job does not exist. The real server says so with 400, hence both bases.

    Attributes:
        job_id: the id asked for.
    """

    def __init__(self, message: str, *, status: int = 400, job_id: str | None = None) -> None:
        super().__init__(message, status=status)
        self.job_id = job_id


class MethodNotAllowed(APIStatusError):
    """405: a wrong method on a known route (a client bug or a proxy)."""


class APIConnectionError(ClientError):
    """No reply: the connection failed, was reset, or the reply was not HTTP.

    Attributes:
        request_sent: False when the request provably never left (connection refused, connect
            timeout), True when it may have reached the server, None when unknown.
    """

    def __init__(self, message: str, *, request_sent: bool | None = None) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The connect or read timeout passed."""


class JobSubmissionUncertain(APIConnectionError):
    """`jobs.run` failed after the request may have reached the server.

    The job may or may not exist; it was not retried, since a retry could start it twice.
    Check with `jobs.list(name=...)` (for a named job) or `jobs.list()` before submitting again.
    """


class ResponseValidationError(ClientError):
    """The server's reply does not have the documented shape."""


class ReplyTooLarge(ResponseValidationError):
    """A reply is larger than the client's `max_reply_bytes`, or a WebSocket message (exec,
    attach, port forward, telemetry) larger than 4 MiB; it was not read to the end.

    Attributes:
        limit: the cap in bytes.
    """

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class StreamInterrupted(ClientError):
    """A log or telemetry stream ended abnormally; what was read so far is not the whole."""


class ConfigError(ClientError):
    """Configuration is missing or unreadable."""


class ValidationError(ClientError, ValueError):
    """Input rejected before any request was sent.

    Attributes:
        field: dotted path of the offending field (e.g. `container.resources.cpu`).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class JobSaveError(ClientError):
    """`jobs.save` failed; the server reported the error inside its progress stream."""


class WaitTimeout(ClientError, TimeoutError):
    """`jobs.wait` gave up before the job reached the awaited status.

    Attributes:
        job: the last `JobDescription` seen.
    """

    def __init__(self, message: str, job: object) -> None:
        super().__init__(message)
        self.job = job


class ExecTimeout(ClientError, TimeoutError):
    """`jobs.exec` ran longer than its `max_time`; its `ssh` was stopped (the job runs on).

    Attributes:
        job_id: the job the command ran in.
        max_time: the limit, seconds.
    """

    def __init__(self, message: str, *, job_id: str, max_time: float) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.max_time = max_time


class JobNotRunning(ClientError, ValueError):
    """The operation needs a running job (top, exec, port_forward)."""


class SSHNotAvailable(ClientError):
    """The `ssh` program is not installed (needed for exec and port_forward)."""


class HostKeyMismatch(ClientError):
    """The SSH gateway presented a host key that is not the one known for it (exec,
    port_forward): another server answers at that address, or the platform's key changed."""


# --------------------------------------------------------------------------- error replies

_MAX_ERROR_TEXT = 2000
NOT_A_JOBS_API = "the URL does not look like a jobs API (a base URL like https://dev.neu.ro/api/v1)"


def error_details(body: bytes) -> tuple[str, list[MissingPermission]]:
    """The message and missing permissions of an error reply body.

    `{"error": ...}` gives its text (unwrapping monitoring's nested JSON string);
    `{"resources": [{"uri": ..., "action": ...}]}` (403) gives the permissions; anything else
    gives the body text. (The shapes are `ErrorBody` and `ForbiddenBody` in openapi/jobs.yaml.)
    """
    text = body.decode("utf-8", errors="replace").strip()
    if not text.startswith("{"):
        return text, []
    try:
        data = json.loads(text)
    except ValueError:
        return text, []
    if not isinstance(data, dict):
        return text, []
    if "error" in data:
        message = data["error"]
        if not isinstance(message, str):
            return text, []
        nested, _ = error_details(message.encode()) if message.startswith("{") else ("", [])
        return (nested or message), []
    resources = data.get("resources")
    if isinstance(resources, list) and all(
        isinstance(r, dict) and isinstance(r.get("uri"), str) and isinstance(r.get("action"), str)
        for r in resources
    ):
        missing = [MissingPermission(uri=r["uri"], action=r["action"]) for r in resources]
        listed = ", ".join(f"{m.action} {m.uri}" for m in missing)
        return (f"Permission denied (missing: {listed})" if listed else "Permission denied"), (
            missing
        )
    return text, []


def error_from_status(
    status: int, body: bytes, *, redact: Callable[[str], str], reason: str | None = None
) -> APIStatusError:
    """The one status -> exception table, for HTTP replies and WebSocket handshakes alike."""
    message, listed = error_details(body)
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
