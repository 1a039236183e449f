"""Validation rules of the request bodies and query parameters of the jobs API.

Generated from openapi/jobs.yaml by openapi/gen_validation.py: do not edit, change the spec and
run `make generate`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, NamedTuple

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validates_schema

# Messages in the words of the real server's (trafaret) errors: the local platform sends them
# to clients, and the client shows the same text for the same rule.
REQUIRED = "is required"
NOT_ALLOWED = "is not allowed key"
NOT_A_STRING = "value is not a string"
NOT_AN_INT = "value is not int"
NOT_A_NUMBER = "value is not float"
NOT_FINITE = "value is not a finite number"
NOT_A_BOOL = "value should be True or False"
NOT_A_DICT = "value is not a dict"
NOT_A_LIST = "value is not a list"

__all__ = [
    "NOT_ALLOWED",
    "REQUIRED",
    "FieldError",
    "Standalone",
    "ValidationError",
    "errors",
    "for_dialect",
]


class Standalone(str):
    """A message the real server sends on its own, not as `{'path': DataError(message)}`.

    (It makes those checks after its schema: volume paths, list statuses.)
    """

    __slots__ = ()


class FieldError(NamedTuple):
    """One failed rule: the dotted path of the value (list items by index) and the message."""

    path: str
    message: str
    standalone: bool


def errors(messages: object, prefix: str = "") -> Iterator[FieldError]:
    """marshmallow's nested error messages as `FieldError`s, in the order they were found."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                yield from errors(value, prefix)
            else:
                yield from errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list | tuple):
        for value in messages:
            yield from errors(value, prefix)
    else:
        message = str(messages)
        if message == NOT_ALLOWED:
            message = f"{prefix.rpartition('.')[2]} {message}"
        yield FieldError(prefix, message, isinstance(messages, Standalone))


def _message(template: str, value: object, standalone: bool) -> str:
    text = template.replace("{input}", str(value))
    return Standalone(text) if standalone else text


# --------------------------------------------------------------------------- JSON types
# Strict: the JSON type, nothing coerced (a bool is not an integer, "1" is not a number).


class String(fields.Field[str]):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_STRING,
        "invalid": NOT_A_STRING,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class Integer(fields.Field[int]):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_AN_INT,
        "invalid": NOT_AN_INT,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class Number(fields.Field[float]):
    """An int or a finite float, returned unchanged (a huge int is compared exactly)."""

    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_NUMBER,
        "invalid": NOT_A_NUMBER,
        "finite": NOT_FINITE,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("finite")
        return value


class Boolean(fields.Field[bool]):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_BOOL,
        "invalid": NOT_A_BOOL,
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class List(fields.List[Any]):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_LIST,
        "invalid": NOT_A_LIST,
    }


class Dict(fields.Dict):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_DICT,
        "invalid": NOT_A_DICT,
    }


class Nested(fields.Nested):
    default_error_messages = {
        "required": REQUIRED,
        "null": NOT_A_DICT,
        "type": NOT_A_DICT,
    }


class Object(Schema):
    """A JSON object; subclasses list its properties as fields."""

    error_messages = {"unknown": NOT_ALLOWED, "type": NOT_A_DICT}
    #: property -> the properties it needs (JSON Schema `dependentRequired`)
    dependent_required: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: property -> the first dialect that has it (`x-dialect`); absent: every dialect
    since_dialect: ClassVar[dict[str, str]] = {}

    class Meta:
        unknown = RAISE

    @validates_schema
    def _dependent_required(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        for key, needed in self.dependent_required.items():
            missing = [n for n in needed if n not in data]
            if key in data and missing:
                raise ValidationError(
                    f"{key} is allowed only together with {', '.join(missing)}", key
                )


class Query(Object):
    """Query parameters: unknown ones are ignored, as servers do."""

    class Meta:
        unknown = EXCLUDE


def _later_keys(schema: type[Object], dialect: str, prefix: str = "") -> list[str]:
    """Dotted paths of the properties `dialect` does not have yet (dialects are years)."""
    out: list[str] = []
    for name, declared in schema._declared_fields.items():
        since = schema.since_dialect.get(name)
        if since is not None and dialect < since:
            out.append(prefix + name)
            continue
        if isinstance(declared, fields.Nested):
            nested = declared.nested
            if isinstance(nested, type) and issubclass(nested, Object):
                out.extend(_later_keys(nested, dialect, f"{prefix}{name}."))
    return out


def for_dialect(schema: type[Object], dialect: str) -> Object:
    """An instance of `schema` for one dialect: the properties of later dialects are left
    out, so a request schema refuses them as unknown keys and a query schema ignores them."""
    return schema(exclude=_later_keys(schema, dialect))


# --------------------------------------------------------------------------- rules


class Pattern:
    """The whole value must match (`re.fullmatch`: `$` cannot match before a final newline)."""

    def __init__(self, pattern: str, error: str | None = None, standalone: bool = False) -> None:
        self.regex = re.compile(pattern)
        self.error = error or f"does not match pattern {pattern}"
        self.standalone = standalone

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(_message(self.error, value, self.standalone))
        return value


class Length:
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value: str | list[Any]) -> Any:
        low, high = self.minimum, self.maximum
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            if high is None:
                raise ValidationError(f"length should be at least {low}")
            if low is None:
                raise ValidationError(f"length should be at most {high}")
            raise ValidationError(f"length should be between {low} and {high}")
        return value


class Size:
    """The number of keys of a map (`minProperties`/`maxProperties`)."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value: Mapping[str, Any]) -> Any:
        if self.minimum is not None and len(value) < self.minimum:
            raise ValidationError(f"should have at least {self.minimum} keys")
        if self.maximum is not None and len(value) > self.maximum:
            raise ValidationError(f"should have at most {self.maximum} keys")
        return value


class Range:
    def __init__(
        self,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        exclusive_minimum: float | None = None,
        exclusive_maximum: float | None = None,
    ) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.exclusive_minimum, self.exclusive_maximum = exclusive_minimum, exclusive_maximum

    def __call__(self, value: float) -> float:
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(f"value is less than {self.minimum}")
        if self.exclusive_minimum is not None and value <= self.exclusive_minimum:
            raise ValidationError(f"value should be greater than {self.exclusive_minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(f"value is greater than {self.maximum}")
        if self.exclusive_maximum is not None and value >= self.exclusive_maximum:
            raise ValidationError(f"value should be less than {self.exclusive_maximum}")
        return value


class OneOf:
    def __init__(
        self, choices: Iterable[object], error: str | None = None, standalone: bool = False
    ) -> None:
        self.choices = tuple(choices)
        self.error = error or f"value doesn't match any variant {list(self.choices)}"
        self.standalone = standalone

    def __call__(self, value: object) -> object:
        if value not in self.choices:
            raise ValidationError(_message(self.error, value, self.standalone))
        return value


class UniqueBy:
    """Items of an array must differ in one property (`x-unique-by`)."""

    def __init__(self, key: str, error: str | None = None, standalone: bool = False) -> None:
        self.key = key
        self.error = error or f"{key} values must be unique ('{{input}}' repeats)"
        self.standalone = standalone

    def __call__(self, items: list[Any]) -> list[Any]:
        seen: set[object] = set()
        for item in items:
            value = item.get(self.key) if isinstance(item, Mapping) else None
            if value in seen:
                raise ValidationError(_message(self.error, value, self.standalone))
            if value is not None:
                seen.add(value)
        return items


# --------------------------------------------------------------------------- from the spec


def image_reference(**kwargs: Any) -> String:
    """ImageReference: a fresh field (extra field arguments pass through)."""
    return String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(None, 512),
            Pattern(
                "^(?!(?:docker-archive|docker-daemon|oci|oci-archive|dir|containers-storage|ostree|sif|tarball):)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$",
                error="'{input}' is not an image reference: give a registry name such as ubuntu:22.04 or registry/owner/name:tag (transports and store specs such as docker-archive: are not accepted)",
            ),
        ],
        **kwargs,
    )


def non_blank(**kwargs: Any) -> String:
    """NonBlank: a fresh field (extra field arguments pass through)."""
    return String(
        validate=[Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed")], **kwargs
    )


def job_name(**kwargs: Any) -> String:
    """JobName: a fresh field (extra field arguments pass through)."""
    return String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(3, 40),
            Pattern("^[a-z](?:-?[a-z0-9])*$"),
        ],
        **kwargs,
    )


def job_status_filter(**kwargs: Any) -> String:
    """JobStatusFilter: a fresh field (extra field arguments pass through)."""
    return String(
        validate=[
            OneOf(
                ("pending", "running", "succeeded", "failed"),
                error="'{input}' is not a valid JobStatus",
                standalone=True,
            )
        ],
        **kwargs,
    )


def user_name(**kwargs: Any) -> String:
    """UserName: a fresh field (extra field arguments pass through)."""
    return String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(3, 21),
            Pattern("^[a-z0-9](?:-?[a-z0-9])*$"),
        ],
        **kwargs,
    )


class ResourcesRequest(Object):
    """`gpu_model` is only allowed together with `gpu`, and must be a cluster GPU model."""

    dependent_required: ClassVar[dict[str, tuple[str, ...]]] = {"gpu_model": ("gpu",)}
    since_dialect: ClassVar[dict[str, str]] = {"memory": "2022"}
    cpu = Number(validate=[Range(minimum=0.1, maximum=128)], required=True)
    memory_mb = Integer(validate=[Range(minimum=16, maximum=1048576)], required=True)
    shm = Boolean()
    gpu = Integer(validate=[Range(minimum=0, maximum=128)])
    gpu_model = non_blank()
    memory = Integer(validate=[Range(minimum=16777216, maximum=1099511627776)])


class HTTPRequest(Object):
    port = Integer(validate=[Range(minimum=0, maximum=65535)], required=True)
    health_check_path = String(
        validate=[Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed")],
        load_default="/",
    )
    requires_auth = Boolean(load_default=False)


class SSHPort(Object):
    port = Integer(validate=[Range(minimum=0, maximum=65535)], required=True)


class VolumeRequest(Object):
    src_storage_uri = String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Pattern("^storage:[\\s\\S]*$", error="Invalid URI scheme: {input}", standalone=True),
            Pattern(
                "^(?!(?:storage:)?(?:[\\s\\S]*/)?\\.\\.(?:/|(?![\\s\\S])))[\\s\\S]*$",
                error="Invalid path: {input}",
                standalone=True,
            ),
        ],
        required=True,
    )
    dst_path = String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Pattern("^/[\\s\\S]*$", error="Mount path must be absolute: {input}", standalone=True),
            Pattern(
                "^(?!(?:storage:)?(?:[\\s\\S]*/)?\\.\\.(?:/|(?![\\s\\S])))[\\s\\S]*$",
                error="Invalid path: {input}",
                standalone=True,
            ),
        ],
        required=True,
    )
    read_only = Boolean(load_default=True)


class ContainerRequest(Object):
    since_dialect: ClassVar[dict[str, str]] = {"working_dir": "2022", "tty": "2022"}
    image = image_reference(required=True)
    entrypoint = String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(None, 65536),
        ]
    )
    command = String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(None, 65536),
        ]
    )
    env = Dict(
        keys=String(
            validate=[
                Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
                Length(None, 256),
                Pattern("^[^=\\x00]*$", error="names cannot contain '=' or NUL"),
            ]
        ),
        values=String(
            validate=[
                Length(None, 65536),
                Pattern("^[^\\x00]*$", error="values cannot contain NUL"),
            ]
        ),
        validate=[Size(None, 1000)],
    )
    resources = Nested(ResourcesRequest, required=True)
    http = Nested(HTTPRequest)
    ssh = Nested(SSHPort)
    volumes = List(
        Nested(VolumeRequest),
        validate=[
            UniqueBy("dst_path", error="destination paths must be unique ('{input}' repeats)")
        ],
    )
    working_dir = String(
        validate=[
            Length(None, 4096),
            Pattern("^/[^\\x00]*$", error="working_dir must be an absolute path"),
        ]
    )
    tty = Boolean()


class JobRequest(Object):
    since_dialect: ClassVar[dict[str, str]] = {
        "tags": "2022",
        "restart_policy": "2022",
        "max_run_time_minutes": "2022",
        "pass_config": "2022",
        "wait_for_jobs_quota": "2022",
        "privileged": "2022",
        "preset_name": "2022",
        "scheduler_enabled": "2022",
        "preemptible_node": "2022",
        "cluster_name": "2022",
        "priority": "2022",
    }
    container = Nested(ContainerRequest, required=True)
    name = job_name(allow_none=True)
    description = String(
        validate=[
            Pattern("^\\s*\\S[\\s\\S]*$", error="blank value is not allowed"),
            Length(None, 4096),
        ]
    )
    is_preemptible = Boolean(load_default=False)
    schedule_timeout = Number(validate=[Range(minimum=1, exclusive_maximum=2592000)])
    tags = List(
        String(validate=[Length(1, 256), Pattern("^\\S*$", error="value does not match pattern")]),
        validate=[Length(None, 16)],
    )
    restart_policy = String(validate=[OneOf(("always", "on-failure", "never"))])
    max_run_time_minutes = Integer(validate=[Range(minimum=1, maximum=5256000)])
    pass_config = Boolean()
    wait_for_jobs_quota = Boolean()
    privileged = Boolean()
    preset_name = String(validate=[Length(1, 256)])
    scheduler_enabled = Boolean()
    preemptible_node = Boolean()
    cluster_name = String(validate=[Length(1, 256)])
    priority = String(validate=[OneOf(("low", "normal", "high"))])


class ListJobsQuery(Query):
    """Query parameters of list_jobs."""

    since_dialect: ClassVar[dict[str, str]] = {
        "tag": "2022",
        "since": "2022",
        "until": "2022",
        "reverse": "2022",
        "limit": "2022",
        "cluster_name": "2022",
    }
    status = List(job_status_filter())
    name = job_name()
    owner = List(user_name())
    hostname = String()
    tag = List(String())
    since = String()
    until = String()
    reverse = String(
        validate=[
            OneOf(
                ("0", "1", "false", "true"),
                error="'{input}' is not a valid boolean",
                standalone=True,
            )
        ]
    )
    limit = String(
        validate=[Pattern("^[1-9][0-9]{0,8}$", error="limit should be > 0", standalone=True)]
    )
    cluster_name = List(String())


class LifeSpanRequest(Object):
    """Exactly one of the two."""

    max_run_time_minutes = Integer(validate=[Range(minimum=1, maximum=5256000)])
    additional_max_run_time_minutes = Integer(validate=[Range(minimum=1, maximum=5256000)])


class GetJobLogQuery(Query):
    """Query parameters of get_job_log."""

    since_dialect: ClassVar[dict[str, str]] = {"since": "2022", "timestamps": "2022"}
    since = String()
    timestamps = String(
        validate=[
            OneOf(
                ("0", "1", "false", "true"),
                error="'{input}' is not a valid boolean",
                standalone=True,
            )
        ]
    )


class SaveContainer(Object):
    image = String(required=True)


class SaveRequest(Object):
    container = Nested(SaveContainer, required=True)
