"""marshmallow schemas that check user input against the real server's rules (wire-2019 §2.2).

Everything here runs before a request is sent, so a bad job never reaches the server and the
user gets a `ValidationError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as MarshmallowError

from .errors import ValidationError

JOB_NAME_RE = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
USER_NAME_RE = re.compile(r"^[a-z0-9](?:-?[a-z0-9])*$")
# Statuses the list filter accepts (the server rejects anything else).
LIST_STATUSES = frozenset({"pending", "running", "succeeded", "failed"})
MAX_SCHEDULE_TIMEOUT = 30 * 24 * 3600


def _not_blank(value: str) -> None:
    if not value.strip():
        raise MarshmallowError("must not be blank")


def _empty_or_not_blank(value: str) -> None:
    # "" means "not given" and is omitted from the request; "  " would be sent and rejected.
    if value and not value.strip():
        raise MarshmallowError("must not be blank")


def _job_name_field() -> _StrictStr:
    return _StrictStr(
        allow_none=True,
        validate=[
            validate.Length(min=3, max=40),
            validate.Regexp(
                JOB_NAME_RE,
                error="must be lower-case letters, digits and single dashes, "
                "starting with a letter, without a trailing dash",
            ),
        ],
    )


def _no_dotdot(value: str) -> None:
    if ".." in value.split("/"):
        raise MarshmallowError("must not contain '..'")


class _StrictInt(fields.Integer):
    """An int, not a bool, a float or a numeric string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _StrictFloat(fields.Float):
    """A real number (int or float), not a bool or a string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _StrictBool(fields.Boolean):
    """True or False only (marshmallow's Boolean would accept "yes" and 1)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class _StrictStr(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class ResourcesSchema(Schema):
    memory_mb = _StrictInt(required=True, validate=validate.Range(min=16))
    cpu = _StrictFloat(required=True, validate=validate.Range(min=0.1, max=128))
    gpu = _StrictInt(allow_none=True, validate=validate.Range(min=0, max=128))
    gpu_model = _StrictStr(allow_none=True, validate=_not_blank)
    shm = _StrictBool(allow_none=True)

    @validates_schema
    def _gpu_model_needs_gpu(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if data.get("gpu_model") is not None and not data.get("gpu"):
            raise MarshmallowError("needs gpu (a GPU count above 0)", "gpu_model")


class HTTPPortSchema(Schema):
    port = _StrictInt(required=True, validate=validate.Range(min=0, max=65535))
    requires_auth = _StrictBool(required=True)


class VolumeSchema(Schema):
    storage_path = _StrictStr(
        required=True,
        validate=[
            validate.Regexp(r"^storage:", error="must be a storage: URI"),
            _no_dotdot,
        ],
    )
    container_path = _StrictStr(
        required=True,
        validate=[validate.Regexp(r"^/", error="must be an absolute path"), _no_dotdot],
    )
    read_only = _StrictBool(required=True)


class RemoteImageSchema(Schema):
    name = _StrictStr(required=True, validate=_not_blank)
    tag = _StrictStr(
        allow_none=True,
        validate=validate.Regexp(r"^[^:/\s]+$", error="must be non-empty without ':' or '/'"),
    )
    owner = _StrictStr(allow_none=True, validate=_not_blank)
    registry = _StrictStr(allow_none=True, validate=_not_blank)


class ContainerSchema(Schema):
    image = fields.Nested(RemoteImageSchema, required=True)
    resources = fields.Nested(ResourcesSchema, required=True)
    entrypoint = _StrictStr(allow_none=True, validate=_empty_or_not_blank)
    command = _StrictStr(allow_none=True, validate=_empty_or_not_blank)
    http = fields.Nested(HTTPPortSchema, allow_none=True)
    env = fields.Dict(keys=_StrictStr(validate=_not_blank), values=_StrictStr(), required=True)
    volumes = fields.List(fields.Nested(VolumeSchema), required=True)

    @validates_schema
    def _unique_mounts(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for volume in data.get("volumes") or []:
            path = volume["container_path"]
            if path in seen:
                raise MarshmallowError(f"duplicate container path {path!r}", "volumes")
            seen.add(path)


class RunSchema(Schema):
    container = fields.Nested(ContainerSchema, required=True)
    name = _job_name_field()
    description = _StrictStr(allow_none=True, validate=_empty_or_not_blank)
    is_preemptible = _StrictBool(required=True)
    schedule_timeout = _StrictFloat(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_SCHEDULE_TIMEOUT, max_inclusive=False),
    )


class ListSchema(Schema):
    statuses = fields.List(_StrictStr(validate=validate.OneOf(sorted(LIST_STATUSES))))
    name = _job_name_field()
    owners = fields.List(
        _StrictStr(validate=[validate.Length(min=3, max=21), validate.Regexp(USER_NAME_RE)])
    )


_RUN = RunSchema()
_LIST = ListSchema()


def _first_error(errors: Any, prefix: str = "") -> tuple[str, str]:
    """The dotted path and message of the first error in marshmallow's nested error dict."""
    if isinstance(errors, Mapping):
        key, value = next(iter(errors.items()))
        path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
        return _first_error(value, path)
    if isinstance(errors, list) and errors:
        return _first_error(errors[0], prefix)
    return prefix or "input", str(errors)


def _check(schema: Schema, data: Mapping[str, Any]) -> None:
    errors = schema.validate(data)
    if errors:
        field, message = _first_error(errors)
        raise ValidationError(field, message)


def validate_run(data: Mapping[str, Any]) -> None:
    """Validate `jobs.run` arguments given as plain data (dataclasses turned to dicts)."""
    _check(_RUN, data)


def validate_list(data: Mapping[str, Any]) -> None:
    """Validate `jobs.list` filters."""
    _check(_LIST, data)


def validate_job_id(job_id: object) -> str:
    """A job id must be a non-blank string that cannot escape its URL path segment."""
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValidationError("id", "must be a non-empty string")
    if job_id in (".", ".."):
        raise ValidationError("id", "must not be '.' or '..'")
    return job_id
