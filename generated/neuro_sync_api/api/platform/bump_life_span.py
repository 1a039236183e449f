from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...models.forbidden_body import ForbiddenBody
from ...models.life_span_request import LifeSpanRequest
from ...types import Response


def build_request(
    job_id: str,
    *,
    body: LifeSpanRequest,
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/jobs/{job_id}/max_run_time_minutes".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Any | ErrorBody | ForbiddenBody | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if response.status_code == 403:
        response_403 = ForbiddenBody.from_dict(decode_json(response))

        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[Any | ErrorBody | ForbiddenBody | str]:
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
    body: LifeSpanRequest,
    request_options: Mapping[str, Any] | None = None,
) -> Response[Any | ErrorBody | ForbiddenBody | str]:
    """Set or extend a job's life span (2022 dialect; a 2019 server answers 404).

    Exactly one of the two keys. Minutes count from the job's start.

    Args:
        job_id (str):
        body (LifeSpanRequest): Exactly one of the two.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[Any | ErrorBody | ForbiddenBody | str]
    """

    kwargs = build_request(
        job_id=job_id,
        body=body,
    )
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: LifeSpanRequest,
    request_options: Mapping[str, Any] | None = None,
) -> Any | ErrorBody | ForbiddenBody | str | None:
    """Set or extend a job's life span (2022 dialect; a 2019 server answers 404).

    Exactly one of the two keys. Minutes count from the job's start.

    Args:
        job_id (str):
        body (LifeSpanRequest): Exactly one of the two.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Any | ErrorBody | ForbiddenBody | str
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        body=body,
        request_options=request_options,
    ).parsed


def stream(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: LifeSpanRequest,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Set or extend a job's life span (2022 dialect; a 2019 server answers 404).

    Exactly one of the two keys. Minutes count from the job's start.

    Args:
        job_id (str):
        body (LifeSpanRequest): Exactly one of the two.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request(
        job_id=job_id,
        body=body,
    )
    return client.request(**kwargs, stream=True, **(request_options or {}))
