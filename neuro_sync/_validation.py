"""Input checks that run before a request is sent: a `ValidationError` naming the field.

Every wire rule (patterns, lengths, ranges, statuses, unknown keys, strict JSON types) is in the
schemas generated from `openapi/jobs.yaml` (`neuro_sync_api.validation`), the same ones the
local platform uses; `_mapping` builds the request and this module checks it with them. What
is written here is facade-only: the parts of a `RemoteImage` (the wire has only the joined
string), job ids as URL path segments, and one `ValidationError` out of marshmallow's errors.
The schemas (`_schemas`) are imported on the first check: marshmallow is slow to import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    from marshmallow import Schema

# `jobs.list` keywords -> query parameters of the spec.
_LIST_PARAMETERS = {"statuses": "status", "name": "name", "owners": "owner", "tags": "tag"}
_LIST_KEYWORDS = {v: k for k, v in _LIST_PARAMETERS.items()}


def _check(
    schema: Schema, data: Mapping[str, Any], public_path: Callable[[str], str] = str
) -> None:
    from neuro_sync_api.validation import errors  # loaded with the schema

    messages = schema.validate(data)
    if messages:
        first = next(errors(messages))
        raise ValidationError(public_path(first.path) or "input", first.message)


def validate_image(image: Mapping[str, Any]) -> None:
    """The parts of a `RemoteImage` (`container.image.*`), given as plain data."""
    from ._schemas import IMAGE  # marshmallow loads here, on the first validated call

    _check(IMAGE, image, lambda path: f"container.image.{path}")


def validate_job_request(
    wire: Mapping[str, Any], public_path: Callable[[str], str], dialect: str = "2019"
) -> None:
    """A POST /jobs body against the spec in one dialect (under 2019 a 2022 key is unknown);
    `public_path` names a wire path in the user's terms."""
    from ._schemas import JOB_REQUEST

    _check(JOB_REQUEST[dialect], wire, public_path)


def _list_keyword(path: str) -> str:
    head, dot, rest = path.partition(".")
    return _LIST_KEYWORDS.get(head, head) + dot + rest


def validate_list(filters: Mapping[str, Any]) -> None:
    """`jobs.list` filters (keyword -> value) against the list query parameters of the spec."""
    from ._schemas import LIST_QUERY

    query = {_LIST_PARAMETERS.get(k, k): v for k, v in filters.items()}
    _check(LIST_QUERY, query, _list_keyword)


def validate_life_span_request(wire: Mapping[str, Any]) -> None:
    """A `PUT /jobs/{id}/max_run_time_minutes` body against the spec."""
    from ._schemas import LIFE_SPAN

    _check(LIFE_SPAN, wire, lambda path: "additional_seconds")


def validate_job_id(job_id: object) -> str:
    """A job id must be a non-blank string that cannot escape its URL path segment."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValidationError("id", "must be a non-empty string")
    if job_id in (".", ".."):
        raise ValidationError("id", "must not be '.' or '..'")
    return job_id
