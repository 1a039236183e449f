from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...models.forbidden_body import ForbiddenBody
from ...models.job import Job
from ...types import Response


def build_request(
    job_id: str,
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/jobs/{job_id}".format(
            job_id=quote(str(job_id), safe=""),
        ),
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> ErrorBody | ForbiddenBody | Job | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 200:
        response_200 = Job.from_dict(decode_json(response))

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if response.status_code == 403:
        response_403 = ForbiddenBody.from_dict(decode_json(response))

        return response_403

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(decode_json(response))

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[ErrorBody | ForbiddenBody | Job | str]:
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
) -> Response[ErrorBody | ForbiddenBody | Job | str]:
    """One job. An unknown id is 400 `no such job X`.

    A 2022 server also takes the name of one of the caller's own jobs.

    Args:
        job_id (str):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[ErrorBody | ForbiddenBody | Job | str]
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
) -> ErrorBody | ForbiddenBody | Job | str | None:
    """One job. An unknown id is 400 `no such job X`.

    A 2022 server also takes the name of one of the caller's own jobs.

    Args:
        job_id (str):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        ErrorBody | ForbiddenBody | Job | str
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
    """One job. An unknown id is 400 `no such job X`.

    A 2022 server also takes the name of one of the caller's own jobs.

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
