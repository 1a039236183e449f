from collections.abc import Mapping
from typing import Any

import requests

from ... import errors
from ...client import AuthenticatedClient, Client
from ...types import Response


def build_request() -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/ping",
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Any | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 200:
        return None

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[Any]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> Response[Any]:
    """Args:
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[Any]
    """

    kwargs = build_request()
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def stream(
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Args:
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request()
    return client.request(**kwargs, stream=True, **(request_options or {}))
