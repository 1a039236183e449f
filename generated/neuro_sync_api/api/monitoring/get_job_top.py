from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...models.job_telemetry import JobTelemetry
from ...types import Response


def build_request(
    job_id: str,
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/{job_id}/top".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> ErrorBody | JobTelemetry | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 101:
        response_101 = JobTelemetry.from_dict(decode_json(response))

        return response_101

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if response.status_code == 403:
        response_403 = decode_text(response)
        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[ErrorBody | JobTelemetry | str]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> Response[ErrorBody | JobTelemetry | str]:
    """Telemetry WebSocket (HTTP GET upgraded to WebSocket).

    The client sends a WebSocket handshake (`Connection: Upgrade`, `Upgrade: websocket`)
    with the Bearer header. After the upgrade the server sends one text frame holding a
    `JobTelemetry` JSON object about once a second while the job runs, nothing while it is
    pending, and closes the socket when it is finished (so a finished job closes with no
    frame). Errors are answered before the upgrade.

    Args:
        job_id (str):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[ErrorBody | JobTelemetry | str]
    """

    kwargs = build_request(
        job_id=job_id,
    )
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> ErrorBody | JobTelemetry | str | None:
    """Telemetry WebSocket (HTTP GET upgraded to WebSocket).

    The client sends a WebSocket handshake (`Connection: Upgrade`, `Upgrade: websocket`)
    with the Bearer header. After the upgrade the server sends one text frame holding a
    `JobTelemetry` JSON object about once a second while the job runs, nothing while it is
    pending, and closes the socket when it is finished (so a finished job closes with no
    frame). Errors are answered before the upgrade.

    Args:
        job_id (str):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        ErrorBody | JobTelemetry | str
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        request_options=request_options,
    ).parsed


def stream(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Telemetry WebSocket (HTTP GET upgraded to WebSocket).

    The client sends a WebSocket handshake (`Connection: Upgrade`, `Upgrade: websocket`)
    with the Bearer header. After the upgrade the server sends one text frame holding a
    `JobTelemetry` JSON object about once a second while the job runs, nothing while it is
    pending, and closes the socket when it is finished (so a finished job closes with no
    frame). Errors are answered before the upgrade.

    Args:
        job_id (str):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request(
        job_id=job_id,
    )
    return client.request(**kwargs, stream=True, **(request_options or {}))
