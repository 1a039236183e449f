from collections.abc import Mapping
from typing import Any

import requests

from ... import errors
from ...client import AuthenticatedClient, Client, decode_json, decode_text
from ...models.error_body import ErrorBody
from ...models.job_list import JobList
from ...models.job_status_filter import JobStatusFilter
from ...models.list_jobs_reverse import ListJobsReverse
from ...types import UNSET, Response, Unset


def build_request(
    *,
    status: list[JobStatusFilter] | Unset = UNSET,
    name: str | Unset = UNSET,
    owner: list[str] | Unset = UNSET,
    hostname: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    since: str | Unset = UNSET,
    until: str | Unset = UNSET,
    reverse: ListJobsReverse | Unset = UNSET,
    limit: str | Unset = UNSET,
    cluster_name: list[str] | Unset = UNSET,
) -> dict[str, Any]:
    """The `method`, `url` (relative to the client's base URL) and other arguments of this call."""

    params: dict[str, Any] = {}

    json_status: list[str] | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = []
        for status_item_data in status:
            status_item: str = status_item_data
            json_status.append(status_item)

    params["status"] = json_status

    params["name"] = name

    json_owner: list[str] | Unset = UNSET
    if not isinstance(owner, Unset):
        json_owner = owner

    params["owner"] = json_owner

    params["hostname"] = hostname

    json_tag: list[str] | Unset = UNSET
    if not isinstance(tag, Unset):
        json_tag = tag

    params["tag"] = json_tag

    params["since"] = since

    params["until"] = until

    json_reverse: str | Unset = UNSET
    if not isinstance(reverse, Unset):
        json_reverse = reverse

    params["reverse"] = json_reverse

    params["limit"] = limit

    json_cluster_name: list[str] | Unset = UNSET
    if not isinstance(cluster_name, Unset):
        json_cluster_name = cluster_name

    params["cluster_name"] = json_cluster_name

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/jobs",
        "params": params,
    }

    return _kwargs


def parse_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> ErrorBody | JobList | str | None:
    """Parse a complete reply of this call by its status code."""
    if response.status_code == 200:
        response_200 = JobList.from_dict(decode_json(response))

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(decode_json(response))

        return response_400

    if response.status_code == 401:
        response_401 = decode_text(response)
        return response_401

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(decode_json(response))

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: requests.Response
) -> Response[ErrorBody | JobList | str]:
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: list[JobStatusFilter] | Unset = UNSET,
    name: str | Unset = UNSET,
    owner: list[str] | Unset = UNSET,
    hostname: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    since: str | Unset = UNSET,
    until: str | Unset = UNSET,
    reverse: ListJobsReverse | Unset = UNSET,
    limit: str | Unset = UNSET,
    cluster_name: list[str] | Unset = UNSET,
    request_options: Mapping[str, Any] | None = None,
) -> Response[ErrorBody | JobList | str]:
    """List visible jobs, oldest first. No pagination.

    Args:
        status (list[JobStatusFilter] | Unset):
        name (str | Unset):
        owner (list[str] | Unset):
        hostname (str | Unset):
        tag (list[str] | Unset):
        since (str | Unset):
        until (str | Unset):
        reverse (ListJobsReverse | Unset):
        limit (str | Unset):
        cluster_name (list[str] | Unset):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        Response[ErrorBody | JobList | str]
    """

    kwargs = build_request(
        status=status,
        name=name,
        owner=owner,
        hostname=hostname,
        tag=tag,
        since=since,
        until=until,
        reverse=reverse,
        limit=limit,
        cluster_name=cluster_name,
    )
    response = client.request(**kwargs, **(request_options or {}))
    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    status: list[JobStatusFilter] | Unset = UNSET,
    name: str | Unset = UNSET,
    owner: list[str] | Unset = UNSET,
    hostname: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    since: str | Unset = UNSET,
    until: str | Unset = UNSET,
    reverse: ListJobsReverse | Unset = UNSET,
    limit: str | Unset = UNSET,
    cluster_name: list[str] | Unset = UNSET,
    request_options: Mapping[str, Any] | None = None,
) -> ErrorBody | JobList | str | None:
    """List visible jobs, oldest first. No pagination.

    Args:
        status (list[JobStatusFilter] | Unset):
        name (str | Unset):
        owner (list[str] | Unset):
        hostname (str | Unset):
        tag (list[str] | Unset):
        since (str | Unset):
        until (str | Unset):
        reverse (ListJobsReverse | Unset):
        limit (str | Unset):
        cluster_name (list[str] | Unset):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        ErrorBody | JobList | str
    """

    return sync_detailed(
        client=client,
        status=status,
        name=name,
        owner=owner,
        hostname=hostname,
        tag=tag,
        since=since,
        until=until,
        reverse=reverse,
        limit=limit,
        cluster_name=cluster_name,
        request_options=request_options,
    ).parsed


def stream(
    *,
    client: AuthenticatedClient | Client,
    status: list[JobStatusFilter] | Unset = UNSET,
    name: str | Unset = UNSET,
    owner: list[str] | Unset = UNSET,
    hostname: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    since: str | Unset = UNSET,
    until: str | Unset = UNSET,
    reverse: ListJobsReverse | Unset = UNSET,
    limit: str | Unset = UNSET,
    cluster_name: list[str] | Unset = UNSET,
    request_options: Mapping[str, Any] | None = None,
) -> requests.Response:
    """List visible jobs, oldest first. No pagination.

    Args:
        status (list[JobStatusFilter] | Unset):
        name (str | Unset):
        owner (list[str] | Unset):
        hostname (str | Unset):
        tag (list[str] | Unset):
        since (str | Unset):
        until (str | Unset):
        reverse (ListJobsReverse | Unset):
        limit (str | Unset):
        cluster_name (list[str] | Unset):
        request_options: Extra keyword arguments for `requests.Session.request` (e.g. timeout).

    Raises:
        errors.UnexpectedStatus: An undocumented status and Client.raise_on_unexpected_status is True.
        requests.RequestException: Whatever the client's session raises.

    Returns:
        requests.Response: the reply with its body unread (stream=True); the caller closes it.
    """

    kwargs = build_request(
        status=status,
        name=name,
        owner=owner,
        hostname=hostname,
        tag=tag,
        since=since,
        until=until,
        reverse=reverse,
        limit=limit,
        cluster_name=cluster_name,
    )
    return client.request(**kwargs, stream=True, **(request_options or {}))
