from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...models.get_job_log_timestamps import GetJobLogTimestamps
from ...types import UNSET, Response, Unset


def build_request(
    job_id: str,
    *,
    since: str | Unset = UNSET,
    timestamps: GetJobLogTimestamps | Unset = UNSET,
    accept_encoding: str | Unset = "identity",
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""
    headers: dict[str, Any] = {}
    if not isinstance(accept_encoding, Unset):
        headers["Accept-Encoding"] = accept_encoding

    params: dict[str, Any] = {}

    params["since"] = since

    json_timestamps: str | Unset = UNSET
    if not isinstance(timestamps, Unset):
        json_timestamps = timestamps

    params["timestamps"] = json_timestamps

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/{job_id}/log".format(
            job_id=quote(str(job_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> ErrorBody | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 200:
        response_200 = decode_text(response)
        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if response.status_code == 403:
        response_403 = decode_text(response)
        return response_403

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(decode_json(response))

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[ErrorBody | str]:
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
    since: str | Unset = UNSET,
    timestamps: GetJobLogTimestamps | Unset = UNSET,
    accept_encoding: str | Unset = "identity",
    request_options: Mapping[str, Any] | None = None,
) -> Response[ErrorBody | str]:
    """Stream the job's combined output.

    Chunked `text/plain` with no framing; follows a live job until it exits. Read it with
    `stream()`: the body may be unbounded. An unknown job is 400 with a nested JSON string
    as the error text; 403 here is plain text.

    Args:
        job_id (str):
        since (str | Unset):
        timestamps (GetJobLogTimestamps | Unset):
        accept_encoding (str | Unset):  Default: 'identity'.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[ErrorBody | str]
    """

    kwargs = build_request(
        job_id=job_id,
        since=since,
        timestamps=timestamps,
        accept_encoding=accept_encoding,
    )
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    timestamps: GetJobLogTimestamps | Unset = UNSET,
    accept_encoding: str | Unset = "identity",
    request_options: Mapping[str, Any] | None = None,
) -> ErrorBody | str | None:
    """Stream the job's combined output.

    Chunked `text/plain` with no framing; follows a live job until it exits. Read it with
    `stream()`: the body may be unbounded. An unknown job is 400 with a nested JSON string
    as the error text; 403 here is plain text.

    Args:
        job_id (str):
        since (str | Unset):
        timestamps (GetJobLogTimestamps | Unset):
        accept_encoding (str | Unset):  Default: 'identity'.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        ErrorBody | str
    """

    return sync_detailed(
        job_id=job_id,
        client=client,
        since=since,
        timestamps=timestamps,
        accept_encoding=accept_encoding,
        request_options=request_options,
    ).parsed


def stream(
    job_id: str,
    *,
    client: AuthenticatedClient | Client,
    since: str | Unset = UNSET,
    timestamps: GetJobLogTimestamps | Unset = UNSET,
    accept_encoding: str | Unset = "identity",
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """Stream the job's combined output.

    Chunked `text/plain` with no framing; follows a live job until it exits. Read it with
    `stream()`: the body may be unbounded. An unknown job is 400 with a nested JSON string
    as the error text; 403 here is plain text.

    Args:
        job_id (str):
        since (str | Unset):
        timestamps (GetJobLogTimestamps | Unset):
        accept_encoding (str | Unset):  Default: 'identity'.
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request(
        job_id=job_id,
        since=since,
        timestamps=timestamps,
        accept_encoding=accept_encoding,
    )
    return client.request(**kwargs, stream=True, **(request_options or {}))
