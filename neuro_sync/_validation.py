"""Input checks that run before a request is sent: a `ValidationError` naming the field.

Every wire rule (patterns, lengths, ranges, statuses, unknown keys, strict JSON types) is in the
schemas generated from `openapi/jobs.yaml` (`neuro_sync_api.validation`), the same ones the
local platform uses; `_mapping` builds the request and this module checks it with them. What
is written here is facade-only: the parts of a `RemoteImage` (the wire has only the joined
string), job ids as URL path segments, and one `ValidationError` out of marshmallow's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema
from neuro_sync_api import validation as rules

from .errors import ValidationError


class RemoteImageSchema(Schema):
    name = rules.non_blank(required=True)
    # A tag is one reference component: `name:a/b` or `name:` would be parsed differently.
    tag = rules.String(
        allow_none=True,
        validate=rules.Pattern(r"^[^:/\s]+$", error="must be non-empty without ':' or '/'"),
    )
    owner = rules.non_blank(allow_none=True)
    registry = rules.non_blank(allow_none=True)


_IMAGE = RemoteImageSchema()
_JOB_REQUEST = rules.JobRequest()
_LIST_QUERY = rules.ListJobsQuery()
# `jobs.list` keywords -> query parameters of the spec.
_LIST_PARAMETERS = {"statuses": "status", "name": "name", "owners": "owner"}
_LIST_KEYWORDS = {v: k for k, v in _LIST_PARAMETERS.items()}


def _check(
    schema: Schema, data: Mapping[str, Any], public_path: Callable[[str], str] = str
) -> None:
    messages = schema.validate(data)
    if messages:
        first = next(rules.errors(messages))
        raise ValidationError(public_path(first.path) or "input", first.message)


def validate_image(image: Mapping[str, Any]) -> None:
    """The parts of a `RemoteImage` (`container.image.*`), given as plain data."""
    _check(_IMAGE, image, lambda path: f"container.image.{path}")


def validate_job_request(wire: Mapping[str, Any], public_path: Callable[[str], str]) -> None:
    """A POST /jobs body against the spec; `public_path` names a wire path in the user's terms."""
    _check(_JOB_REQUEST, wire, public_path)


def _list_keyword(path: str) -> str:
    head, dot, rest = path.partition(".")
    return _LIST_KEYWORDS.get(head, head) + dot + rest


def validate_list(filters: Mapping[str, Any]) -> None:
    """`jobs.list` filters (keyword -> value) against the list query parameters of the spec."""
    query = {_LIST_PARAMETERS.get(k, k): v for k, v in filters.items()}
    _check(_LIST_QUERY, query, _list_keyword)


def validate_job_id(job_id: object) -> str:
    """A job id must be a non-blank string that cannot escape its URL path segment."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValidationError("id", "must be a non-empty string")
    if job_id in (".", ".."):
        raise ValidationError("id", "must not be '.' or '..'")
    return job_id
