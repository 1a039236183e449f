"""The one module that maps generated (wire) models to the public dataclasses and back.

Nothing else in the facade imports `neuro_sync_api.models`. Every way a reply can be malformed
(missing keys, wrong types, unparsable times) ends here as `ResponseValidationError`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from neuro_sync_api.models import (
    ContainerRequest,
    ContainerRequestEnv,
    ContainerResponse,
    ErrorBody,
    ForbiddenBody,
    HTTPRequest,
    HTTPResponse,
    Job,
    JobHistory,
    JobList,
    JobRequest,
    ResourcesRequest,
    ResourcesResponse,
    SaveContainer,
    SaveProgress,
    SaveRequest,
    ServerConfig,
    VolumeRequest,
)
from neuro_sync_api.models import JobTelemetry as WireTelemetry
from neuro_sync_api.types import UNSET, Unset
from yarl import URL

from . import _validation
from .config import ClusterConfig, Preset
from .errors import ClientError, MissingPermission, ResponseValidationError, ValidationError
from .models import (
    Container,
    HTTPPort,
    JobDescription,
    JobStatus,
    JobStatusHistory,
    JobTelemetry,
    RemoteImage,
    Resources,
    Volume,
)
from .parsing import INVALID_IMAGE_NAME, parse_remote_image

_STATUSES: dict[str, JobStatus] = {s.value: s for s in JobStatus}
_EMPTY_URL = URL()
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


# --------------------------------------------------------------------------- errors


def error_details(content: bytes) -> tuple[str, list[MissingPermission]]:
    """The message and missing permissions of an error reply body.

    `{"error": ...}` gives its text (unwrapping monitoring's nested JSON string);
    `{"resources": [...]}` (403) gives the permissions; anything else gives the body text.
    """
    text = content.decode("utf-8", errors="replace").strip()
    if not text.startswith("{"):
        return text, []
    try:
        data = json.loads(text)
    except ValueError:
        return text, []
    if not isinstance(data, dict):
        return text, []
    try:
        if "error" in data:
            message = ErrorBody.from_dict(data).error
            if not isinstance(message, str):
                return text, []
            nested, _ = error_details(message.encode()) if message.startswith("{") else ("", [])
            return (nested or message), []
        if "resources" in data:
            body = ForbiddenBody.from_dict(data)
            missing = [
                MissingPermission(uri=str(r.uri), action=str(r.action)) for r in body.resources
            ]
            listed = ", ".join(f"{m.action} {m.uri}" for m in missing)
            return (
                f"Permission denied (missing: {listed})" if listed else "Permission denied",
                missing,
            )
    except _MALFORMED:
        pass
    return text, []


# --------------------------------------------------------------------------- config


def cluster_config(config: ServerConfig) -> ClusterConfig | None:
    """The cluster part of `/config`, or None when the server did not send it (bad token)."""
    urls = (config.registry_url, config.storage_url, config.users_url, config.monitoring_url)
    if any(isinstance(u, Unset) or not u for u in urls) or isinstance(
        config.resource_presets, Unset
    ):
        return None
    try:
        presets = {
            p.name: Preset(
                cpu=float(p.cpu),
                memory_mb=int(p.memory_mb),
                gpu=None if isinstance(p.gpu, Unset) else int(p.gpu),
                gpu_model=None if isinstance(p.gpu_model, Unset) else str(p.gpu_model),
                is_preemptible=False
                if isinstance(p.is_preemptible, Unset)
                else bool(p.is_preemptible),
            )
            for p in config.resource_presets
        }
        return ClusterConfig(
            registry_url=URL(str(config.registry_url)),
            storage_url=URL(str(config.storage_url)),
            users_url=URL(str(config.users_url)),
            monitoring_url=URL(str(config.monitoring_url)),
            resource_presets=presets,
        )
    except _MALFORMED as err:
        raise ResponseValidationError(f"Malformed cluster configuration: {err}") from None


def parse_server_config(data: Any) -> ServerConfig:
    if not isinstance(data, dict):
        raise ResponseValidationError("Malformed /config reply: not a JSON object")
    try:
        return ServerConfig.from_dict(data)
    except _MALFORMED as err:
        raise ResponseValidationError(f"Malformed /config reply: {err!r}") from None


# --------------------------------------------------------------------------- requests


def _check_types(container: Container) -> list[Volume]:
    """Typed errors for wrong nested types, before anything reads their fields; the volumes."""
    if not isinstance(container, Container):
        raise ValidationError("container", "must be a neuro_sync.Container")
    for name, value, cls in (
        ("image", container.image, RemoteImage),
        ("resources", container.resources, Resources),
    ):
        if not isinstance(value, cls):
            raise ValidationError(f"container.{name}", f"must be a {cls.__name__}")
    if container.http is not None and not isinstance(container.http, HTTPPort):
        raise ValidationError("container.http", "must be an HTTPPort or None")
    if not isinstance(container.env, Mapping):
        raise ValidationError("container.env", "must be a mapping of str to str")
    if not isinstance(container.volumes, Iterable) or isinstance(container.volumes, str | bytes):
        raise ValidationError("container.volumes", "must be a sequence of Volume")
    volumes = list(container.volumes)
    for i, v in enumerate(volumes):
        if not isinstance(v, Volume):
            raise ValidationError(f"container.volumes.{i}", "must be a Volume")
    return volumes


def _unset_if(omitted: bool, value: Any) -> Any:
    return UNSET if omitted else value


def _no_text(value: object) -> bool:
    """None and "" mean "not given": omitted from the request (as the 2019 SDK did)."""
    return value is None or value == ""


def _no_number(value: object) -> bool:
    """None and a numeric 0 mean "not given" (a bool is not a number: it is sent, and rejected)."""
    return value is None or (type(value) in (int, float) and value == 0)


# Wire names of `Volume` fields, for error paths in the user's terms.
_VOLUME_FIELDS = {"src_storage_uri": "storage_path", "dst_path": "container_path"}


def _public_path(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["container", "volumes"]:
        parts[3] = _VOLUME_FIELDS.get(parts[3], parts[3])
    return ".".join(parts)


def job_request(
    container: Container,
    *,
    name: str | None,
    description: str | None,
    is_preemptible: bool,
    schedule_timeout: float | None,
) -> JobRequest:
    """Build exactly what the real server accepts, checked against the spec before it is sent.

    Omitted rather than null: `shm` when None, `gpu` when None or 0 (the 2019 SDK sent `null`s
    the server rejects), empty entrypoint/command/env/volumes/name/description. Values are
    passed through uncoerced so that the spec's strict types see what the user gave.
    """
    given_volumes = _check_types(container)
    img, res = container.image, container.resources
    _validation.validate_image(
        {"name": img.name, "tag": img.tag, "owner": img.owner, "registry": img.registry}
    )
    http: HTTPRequest | Unset = UNSET
    if container.http is not None:
        http = HTTPRequest(
            port=container.http.port,
            requires_auth=container.http.requires_auth,
            health_check_path=UNSET,
        )
    env: ContainerRequestEnv | Unset = UNSET
    if container.env:
        env = ContainerRequestEnv.from_dict(dict(container.env))
    volumes = [
        VolumeRequest(
            src_storage_uri=v.storage_path, dst_path=v.container_path, read_only=v.read_only
        )
        for v in given_volumes
    ]
    request = JobRequest(
        container=ContainerRequest(
            image=img.as_repo_str(),
            resources=ResourcesRequest(
                cpu=res.cpu,
                memory_mb=res.memory_mb,
                shm=_unset_if(res.shm is None, res.shm),
                gpu=_unset_if(_no_number(res.gpu), res.gpu),
                gpu_model=_unset_if(res.gpu_model is None, res.gpu_model),
            ),
            entrypoint=_unset_if(_no_text(container.entrypoint), container.entrypoint),
            command=_unset_if(_no_text(container.command), container.command),
            env=env,
            http=http,
            volumes=volumes or UNSET,
        ),
        name=_unset_if(_no_text(name), name),
        description=_unset_if(_no_text(description), description),
        is_preemptible=is_preemptible,
        schedule_timeout=_unset_if(_no_number(schedule_timeout), schedule_timeout),
    )
    _validation.validate_job_request(request.to_dict(), _public_path)
    # Numbers as floats, like the 2019 SDK sent them (only now: float() accepts "1" and True).
    request.container.resources.cpu = float(res.cpu)
    if not isinstance(request.schedule_timeout, Unset):
        request.schedule_timeout = float(request.schedule_timeout)
    return request


@dataclass(frozen=True)
class ListQuery:
    """Validated `GET /jobs` filters; None means "no filter"."""

    statuses: list[str] | None
    name: str | None
    owners: list[str] | None


def list_query(
    statuses: Iterable[JobStatus | str] | None, name: str | None, owners: Iterable[str] | None
) -> ListQuery:
    """Validate `jobs.list` filters and turn them into query values."""
    for field, value in (("statuses", statuses), ("owners", owners)):
        if isinstance(value, str | bytes):
            raise ValidationError(field, "must be a collection (e.g. a set), not a string")
    status_values = (
        None if statuses is None else [s.value if isinstance(s, JobStatus) else s for s in statuses]
    )
    owner_values = None if owners is None else list(owners)
    filters: dict[str, Any] = {}
    if status_values is not None:
        filters["statuses"] = status_values
    if name:
        filters["name"] = name
    if owner_values is not None:
        filters["owners"] = owner_values
    _validation.validate_list(filters)
    return ListQuery(
        # Sorted and deduplicated, so the same filter always makes the same URL.
        statuses=sorted(set(status_values)) if status_values else None,
        name=name or None,
        owners=owner_values or None,
    )


def save_request(image: RemoteImage) -> SaveRequest:
    """The save body; only platform images can be saved."""
    if not isinstance(image, RemoteImage):
        raise ValidationError("image", "must be a RemoteImage")
    if not image.is_platform:
        raise ValidationError("image", f"Image `{image}` must be in the neuromation registry")
    return SaveRequest(container=SaveContainer(image=image.as_repo_str()))


# --------------------------------------------------------------------------- replies


@dataclass
class ReplyContext:
    """What parsing a job needs besides the job: the registry host and the user (for images).

    It also memoises the image and URL strings that repeat across a job list.
    """

    registry_host: str
    username: str

    def __post_init__(self) -> None:
        self._images: dict[str, RemoteImage] = {}
        self._urls: dict[str, URL] = {}
        self.resources: dict[tuple[object, ...], Resources] = {}

    def image(self, value: object) -> RemoteImage:
        if not isinstance(value, str):
            raise TypeError("container.image is not a string")
        image = self._images.get(value)
        if image is None:
            try:
                image = parse_remote_image(
                    value, registry_host=self.registry_host, username=self.username
                )
            except ValueError:
                image = RemoteImage(name=INVALID_IMAGE_NAME)
            self._images[value] = image
        return image

    def url(self, value: object) -> URL:
        if value is UNSET or not value:
            return _EMPTY_URL
        if not isinstance(value, str):
            raise TypeError("URL field is not a string")
        url = self._urls.get(value)
        if url is None:
            url = self._urls[value] = URL(value)
        return url


def _time(value: datetime.datetime | None | Unset, field: str) -> datetime.datetime | None:
    if value is None or value is UNSET:
        return None
    if not isinstance(value, datetime.datetime):
        # The generated union parser hands an unparsable string through unchanged.
        raise ValueError(f"{field} is not an ISO-8601 time: {value!r}")
    if value.tzinfo is None:
        # The server sends UTC; a bare time is read as UTC so every value is aware.
        return value.replace(tzinfo=datetime.UTC)
    return value


def _int(value: object, field: str) -> int:
    """An int from the reply; integral floats and digit strings are coerced, nothing is cut.

    (`int()` alone would turn `4096.7` into 4096 and `True` into 1.)
    """
    if isinstance(value, bool):
        raise TypeError(f"{field} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value)
    raise TypeError(f"{field} is not an integer")


def _bool(value: object, field: str) -> bool:
    """A strict bool from the reply (`bool("false")` would be True)."""
    if not isinstance(value, bool):
        raise TypeError(f"{field} is not a boolean")
    return value


def _opt_str(value: object, field: str) -> str | None:
    if isinstance(value, Unset) or value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    return value


# The mapping below runs once per job of a list (10,000 per call is normal), so the common
# case is tested with `type(x) is T` inline and the careful helpers above run only on the rest.


def _str_or_none(value: object, field: str) -> str | None:
    return value if type(value) is str else _opt_str(value, field)


# Constructors below take positional arguments in field order (named in the comments): a
# keyword call costs noticeably more, and these run for each of 10,000 jobs.


def _history(history: JobHistory) -> JobStatusHistory:
    status = history.status
    exit_code: object = history.exit_code
    if exit_code is UNSET or exit_code is None:
        exit_code = None  # missing or null: no exit code (as the 2019 SDK reads it)
    elif type(exit_code) is not int:
        raise TypeError("history.exit_code is not an int")
    reason = history.reason
    description = history.description
    return JobStatusHistory(
        # status
        JobStatus.UNKNOWN
        if isinstance(status, Unset)
        else _STATUSES.get(status, JobStatus.UNKNOWN),
        # reason, description: str, "" when null or missing
        reason if type(reason) is str else _opt_str(reason, "history.reason") or "",
        description
        if type(description) is str
        else _opt_str(description, "history.description") or "",
        # created_at, started_at, finished_at, exit_code
        _time(history.created_at, "history.created_at"),
        _time(history.started_at, "history.started_at"),
        _time(history.finished_at, "history.finished_at"),
        exit_code,
    )


def _resources(r: ResourcesResponse, ctx: ReplyContext) -> Resources:
    memory_mb, cpu, gpu, gpu_model, shm = r.memory_mb, r.cpu, r.gpu, r.gpu_model, r.shm
    # Types are part of the key: 1 == 1.0 == True must not share a cache entry.
    key = (memory_mb, cpu, gpu, gpu_model, shm, type(memory_mb), type(cpu), type(gpu), type(shm))
    try:
        # Jobs mostly share a few presets; equal values give one shared (immutable) object.
        return ctx.resources[key]
    except KeyError:
        pass
    except TypeError:
        raise TypeError("resources has values of the wrong type") from None
    resources = Resources(
        _int(memory_mb, "resources.memory_mb"),
        float(cpu),
        None if gpu is UNSET or gpu is None else _int(gpu, "resources.gpu"),
        _opt_str(gpu_model, "resources.gpu_model"),
        None if shm is UNSET or shm is None else _bool(shm, "resources.shm"),
    )
    ctx.resources[key] = resources
    return resources


def _container(c: ContainerResponse, ctx: ReplyContext) -> Container:
    http = None
    h = c.http
    if h is not UNSET:
        assert isinstance(h, HTTPResponse)
        http = HTTPPort(
            # port: a missing one reads as -1, as in the 2019 SDK
            -1 if h.port is UNSET else _int(h.port, "http.port"),
            # requires_auth
            False if h.requires_auth is UNSET else _bool(h.requires_auth, "http.requires_auth"),
        )
    env: dict[str, str] = {} if isinstance(c.env, Unset) else c.env.additional_properties
    if env and not all(type(v) is str for v in env.values()):
        raise TypeError("container.env values must be strings")
    volumes: list[Volume] = []
    if not isinstance(c.volumes, Unset) and c.volumes:
        volumes = [
            Volume(
                str(v.src_storage_uri),  # storage_path
                str(v.dst_path),  # container_path
                True  # read_only
                if isinstance(v.read_only, Unset)
                else _bool(v.read_only, "volumes.read_only"),
            )
            for v in c.volumes
        ]
    entrypoint, command = c.entrypoint, c.command
    return Container(
        ctx.image(c.image),  # image
        _resources(c.resources, ctx),  # resources
        None if entrypoint is UNSET else _str_or_none(entrypoint, "container.entrypoint"),
        None if command is UNSET else _str_or_none(command, "container.command"),
        http,
        env,
        volumes,
    )


def _job(job: Job, ctx: ReplyContext) -> JobDescription:
    if type(job.id) is not str or type(job.owner) is not str:
        raise TypeError("id and owner must be strings")
    if type(job.status) is not str or type(job.is_preemptible) is not bool:
        raise TypeError("status must be a string and is_preemptible a bool")
    named = job.http_url_named
    name, description, hostname = job.name, job.description, job.internal_hostname
    return JobDescription(
        job.id,
        job.owner,
        _STATUSES.get(job.status, JobStatus.UNKNOWN),  # status
        _history(job.history),
        _container(job.container, ctx),
        job.is_preemptible,
        None if name is UNSET else _str_or_none(name, "name"),
        None if description is UNSET else _str_or_none(description, "description"),
        # http_url: the named URL wins, as in the 2019 SDK
        ctx.url(named) if named else ctx.url(job.http_url),
        ctx.url(job.ssh_server),  # ssh_server
        None if hostname is UNSET else _str_or_none(hostname, "internal_hostname"),
    )


def job_from_wire(job: Job, ctx: ReplyContext) -> JobDescription:
    """One generated `Job` (create/get reply) to a `JobDescription`."""
    try:
        return _job(job, ctx)
    except _MALFORMED as err:
        raise ResponseValidationError(
            f"Malformed job {job.id!r} in the server reply: {_describe(err)}"
        ) from None


def job_from_json(data: Any, ctx: ReplyContext) -> JobDescription:
    """One job object as plain JSON data to a `JobDescription`."""
    with reply_guard("job"):
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        wire = Job.from_dict(data)
    return job_from_wire(wire, ctx)


def jobs_from_wire(wire: JobList, ctx: ReplyContext) -> list[JobDescription]:
    """A generated `JobList` to `JobDescription`s, in server order."""
    out: list[JobDescription] = []
    append = out.append
    job = None
    try:
        for job in wire.jobs:
            append(_job(job, ctx))
    except _MALFORMED as err:
        where = f"#{len(out)} ({getattr(job, 'id', None)!r})"
        raise ResponseValidationError(
            f"Malformed job {where} in the list reply: {_describe(err)}"
        ) from None
    return out


@contextlib.contextmanager
def reply_guard(what: str) -> Iterator[None]:
    """Turn the exceptions of parsing a malformed reply (in generated code) into ours."""
    try:
        yield
    except ClientError:
        raise
    except _MALFORMED as err:
        raise ResponseValidationError(f"Malformed {what} reply: {_describe(err)}") from None


def telemetry_from_json(data: Any) -> JobTelemetry:
    """One `top` frame to `JobTelemetry`."""
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        t = WireTelemetry.from_dict(data)
        return JobTelemetry(
            cpu=float(t.cpu),
            memory=float(t.memory),
            timestamp=float(t.timestamp),
            gpu_duty_cycle=None if isinstance(t.gpu_duty_cycle, Unset) else int(t.gpu_duty_cycle),
            gpu_memory=None if isinstance(t.gpu_memory, Unset) else float(t.gpu_memory),
        )
    except _MALFORMED as err:
        raise ResponseValidationError(f"Malformed telemetry frame: {_describe(err)}") from None


def save_progress(line: bytes) -> tuple[str | None, str | None]:
    """(status, error) of one save ndjson line."""
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        progress = SaveProgress.from_dict(data)
    except _MALFORMED as err:
        raise ResponseValidationError(f"Malformed save progress line: {_describe(err)}") from None
    status = None if isinstance(progress.status, Unset) else str(progress.status)
    error = None if isinstance(progress.error, Unset) else str(progress.error)
    return status, error


def _describe(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}"
    return str(err) or type(err).__name__
