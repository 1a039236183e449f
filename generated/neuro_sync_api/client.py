"""Transport core for the generated endpoints, on `requests` (from our own template).

The generated endpoint modules build request arguments and parse replies; this module only
sends. Reliability (retries, error mapping, redaction) is the caller's business: pass a
`requests.Session` subclass that implements it.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from .types import DEFAULT_TIMEOUT

TimeoutType = float | tuple[float, float] | tuple[float, None] | None


class BearerAuth(requests.auth.AuthBase):
    """Adds `Authorization: <prefix> <token>`.

    Passed per request as `auth=` rather than as a header so that requests never swaps it for
    `~/.netrc` credentials, and drops it on a redirect to another host. Its repr hides the token.
    """

    __slots__ = ("_value", "_header")

    def __init__(self, token: str, prefix: str = "Bearer", header: str = "Authorization") -> None:
        self._value = f"{prefix} {token}" if prefix else token
        self._header = header

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers[self._header] = self._value
        return r

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"


# Plain dataclasses, not attrs (which the models use): importing attrs costs more than this
# module, which loads with the first transport, before any model.
@dataclass(slots=True, weakref_slot=True)
class Client:
    """Sends requests relative to `base_url` through a `requests.Session`.

    Attributes:
        base_url: Absolute URL every endpoint path is appended to (no trailing slash needed).
        session: The session to send with; share one per process for connection reuse.
        timeout: Default `(connect, read)` timeout for every request.
        follow_redirects: Off by default: a redirect is an answer, not an instruction.
        headers: Extra headers sent with every request.
        raise_on_unexpected_status: Raise `errors.UnexpectedStatus` for undocumented statuses.
    """

    base_url: str
    session: requests.Session = field(default_factory=requests.Session, kw_only=True, repr=False)
    timeout: TimeoutType = field(default=DEFAULT_TIMEOUT, kw_only=True)
    follow_redirects: bool = field(default=False, kw_only=True)
    headers: dict[str, str] = field(default_factory=dict, kw_only=True)
    raise_on_unexpected_status: bool = field(default=False, kw_only=True)

    def with_headers(self, headers: Mapping[str, str]) -> "Client":
        """A copy of this client with additional headers."""
        return replace(self, headers={**self.headers, **headers})

    def with_timeout(self, timeout: TimeoutType) -> "Client":
        """A copy of this client with another default timeout."""
        return replace(self, timeout=timeout)

    def _auth(self) -> requests.auth.AuthBase | None:
        return None

    def url_for(self, path: str) -> str:
        """The absolute URL of an endpoint path."""
        return self.base_url.rstrip("/") + path

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """Send one request; `url` is the endpoint path relative to `base_url`."""
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", self.follow_redirects)
        auth = self._auth()
        if auth is not None:
            kwargs.setdefault("auth", auth)
        if self.headers:
            kwargs["headers"] = {**self.headers, **(kwargs.get("headers") or {})}
        return self.session.request(method.upper(), self.url_for(url), **kwargs)

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()


@dataclass(slots=True, weakref_slot=True)
class AuthenticatedClient(Client):
    """A `Client` that sends a bearer token with every request. The token is never in a repr."""

    token: str = field(kw_only=True, repr=False)
    prefix: str = field(default="Bearer", kw_only=True)
    auth_header_name: str = field(default="Authorization", kw_only=True)

    def _auth(self) -> requests.auth.AuthBase | None:
        if not self.token:
            return None
        return BearerAuth(self.token, self.prefix, self.auth_header_name)


def decode_json(response: requests.Response) -> Any:
    """Parse a JSON body from its bytes: JSON is UTF-8 whatever the headers claim."""
    return json.loads(response.content)


def decode_text(response: requests.Response) -> str:
    """Decode a text body by its declared charset, else UTF-8 (not requests' ISO-8859-1)."""
    charset = "utf-8"
    for part in response.headers.get("Content-Type", "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        return response.content.decode(charset, errors="replace")
    except LookupError:
        return response.content.decode("utf-8", errors="replace")
