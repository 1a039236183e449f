from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...types import Response


def build_request(
    job_id: str,
    port: int,
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/{job_id}/port_forward/{port}".format(
            job_id=quote(str(job_id), safe=""),
            port=quote(str(port), safe=""),
        ),
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Any | ErrorBody | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 101:
        response_101 = cast(Any, None)
        return response_101

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[Any | ErrorBody | str]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    port: int,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> Response[Any | ErrorBody | str]:
    """A TCP connection to a job's port over a WebSocket (2022 dialect).

    The job's port is connected before the upgrade (a failure is 400 with `X-Error`); then
    binary frames carry the raw bytes both ways; either side closing ends it.

    Args:
        job_id (str):
        port (int):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[Any | ErrorBody | str]
    """

    kwargs = build_request(
        job_id=job_id,
        port=port,
    )
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    port: int,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> Any | ErrorBody | str | None:
    """A TCP connection to a job's port over a WebSocket (2022 dialect).

    The job's port is connected before the upgrade (a failure is 400 with `X-Error`); then
    binary frames carry the raw bytes both ways; either side closing ends it.

    Args:
        job_id (str):
        port (int):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Any | ErrorBody | str
    """

    return sync_detailed(
        job_id=job_id,
        port=port,
        client=client,
        request_options=request_options,
    ).parsed


def stream(
    job_id: str,
    port: int,
    *,
    client: AuthenticatedClient | Client,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """A TCP connection to a job's port over a WebSocket (2022 dialect).

    The job's port is connected before the upgrade (a failure is 400 with `X-Error`); then
    binary frames carry the raw bytes both ways; either side closing ends it.

    Args:
        job_id (str):
        port (int):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request(
        job_id=job_id,
        port=port,
    )
    return client.request(**kwargs, stream=True, **(request_options or {}))
