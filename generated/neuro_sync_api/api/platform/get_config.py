from collections.abc import Mapping
from typing import Any

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json
from ...models.server_config import ServerConfig
from ...types import Response


def build_request() -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/config",
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> ServerConfig | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 200:
        response_200 = ServerConfig.from_dict(decode_json(response))

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[ServerConfig]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    request_options: Mapping[str, Any] | None = None,
) -> Response[ServerConfig]:
    """Login and cluster configuration.

    Always 200. The OAuth part is present when the server has OAuth configured; the cluster
    part only when the request carries a token the server accepts (a bad token is not a 401
    here, the cluster part is just missing).

    Args:
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[ServerConfig]
    """

    kwargs = build_request()
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    request_options: Mapping[str, Any] | None = None,
) -> ServerConfig | None:
    """Login and cluster configuration.

    Always 200. The OAuth part is present when the server has OAuth configured; the cluster
    part only when the request carries a token the server accepts (a bad token is not a 401
    here, the cluster part is just missing).

    Args:
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        ServerConfig
    """

    return sync_detailed(
        client=client,
        request_options=request_options,
    ).parsed


def stream(
    *,
    client: AuthenticatedClient,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Login and cluster configuration.

    Always 200. The OAuth part is present when the server has OAuth configured; the cluster
    part only when the request carries a token the server accepts (a bad token is not a 401
    here, the cluster part is just missing).

    Args:
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request()
    return client.request(**kwargs, stream=True, **(request_options or {}))
