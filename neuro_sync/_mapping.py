"""The one module that maps generated (wire) models to the public dataclasses and back.

Nothing else in the facade imports `neuro_sync_api.models`, and this module only inside the
functions that build or parse them: the generated models are slow to import, and job replies
(list, status) never need them. Every way a reply can be malformed (missing keys, wrong types,
unparsable times) ends here as `ResponseValidationError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from neuro_sync_api.types import UNSET, Unset
from yarl import URL

from . import _validation
from .config import ClusterConfig, Preset
from .errors import ClientError, ResponseValidationError, ValidationError
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

if TYPE_CHECKING:
    from neuro_sync_api.models import JobRequest, SaveRequest, ServerConfig

_STATUSES: dict[str, JobStatus] = {s.value: s for s in JobStatus}
_EMPTY_URL = URL()
MALFORMED = (KeyError, TypeError, ValueError, AttributeError)
_STR_ONLY = frozenset({str})


# --------------------------------------------------------------------------- config


def cluster_config(config: ServerConfig) -> ClusterConfig | None:
    """The cluster part of `/config`, or None when the server did not send it (bad token)."""
    urls = (config.registry_url, config.storage_url, config.users_url, config.monitoring_url)
    if any(isinstance(u, Unset) or not u for u in urls) or isinstance(
        config.resource_presets, Unset
    ):
        return None
    try:
        presets = {p.name: Preset.from_wire(p.to_dict()) for p in config.resource_presets}
        return ClusterConfig(
            registry_url=URL(str(config.registry_url)),
            storage_url=URL(str(config.storage_url)),
            users_url=URL(str(config.users_url)),
            monitoring_url=URL(str(config.monitoring_url)),
            resource_presets=presets,
        )
    except MALFORMED as err:
        raise ResponseValidationError(f"Malformed cluster configuration: {err}") from None


def parse_server_config(content: bytes | None) -> ServerConfig:
    """The `/config` reply body (None: a 2xx reply other than the documented 200)."""
    if content is None:
        raise ResponseValidationError("Malformed /config reply: not a JSON object")
    from neuro_sync_api.models import ServerConfig

    with reply_guard("/config"):
        return ServerConfig.from_dict(json.loads(content))


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
    from neuro_sync_api.models import (
        ContainerRequest,
        ContainerRequestEnv,
        HTTPRequest,
        JobRequest,
        ResourcesRequest,
        VolumeRequest,
    )

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
    from neuro_sync_api.models import SaveContainer, SaveRequest

    return SaveRequest(container=SaveContainer(image=image.as_repo_str()))


# --------------------------------------------------------------------------- replies

# The most distinct values each reply cache keeps; when full it starts over. A notebook that
# polls for hours sees ever new URLs and images, and a list of 100,000 jobs must not pin them.
CACHE_SIZE = 512


class _Cache(dict[Any, Any]):
    """A dict that empties itself when it reaches `CACHE_SIZE` entries.

    Cheaper than an LRU on the hot path (a plain `dict.get`), and safe to share between
    threads: each operation is one atomic dict call, and a lost entry is only a cache miss.
    """

    def put(self, key: Any, value: Any) -> None:
        if len(self) >= CACHE_SIZE:
            self.clear()
        self[key] = value


class ReplyContext:
    """What parsing a job needs besides the job: the registry host and the user (for images).

    It also memoises the image, URL and resources values that repeat across jobs, in bounded
    caches (`CACHE_SIZE` entries each); the values are immutable, so sharing them is safe.
    """

    def __init__(self, registry_host: str, username: str) -> None:
        self.registry_host = registry_host
        self.username = username
        self.images = _Cache()
        self.urls = _Cache()
        self.resources = _Cache()

    def image(self, value: object) -> RemoteImage:
        if type(value) is not str:
            raise TypeError("container.image is not a string")
        image: RemoteImage | None = self.images.get(value)
        if image is None:
            try:
                image = parse_remote_image(
                    value, registry_host=self.registry_host, username=self.username
                )
            except ValueError:
                image = RemoteImage(name=INVALID_IMAGE_NAME)
            self.images.put(value, image)
        return image

    def url(self, value: object) -> URL:
        if value is None or not value:
            return _EMPTY_URL
        if type(value) is not str:
            raise TypeError("URL field is not a string")
        url: URL | None = self.urls.get(value)
        if url is None:
            url = URL(value)
            self.urls.put(value, url)
        return url


_FROM_ISO = datetime.datetime.fromisoformat


def _time(value: object, field: str) -> datetime.datetime | None:
    if type(value) is str:
        try:
            moment = _FROM_ISO(value)
        except ValueError:
            raise ValueError(f"{field} is not an ISO-8601 time: {value!r}") from None
        if moment.tzinfo is None:
            # The server sends UTC; a bare time is read as UTC so every value is aware.
            return moment.replace(tzinfo=datetime.UTC)
        return moment
    if value is None:
        return None
    raise ValueError(f"{field} is not an ISO-8601 time: {value!r}")


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
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    return value


def _object(value: object, field: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise TypeError(f"{field} is not a JSON object")
    return value


# The functions below map the JSON data of a reply straight to the public dataclasses: they
# run once per job of a list (10,000 and more per call is normal), and building the generated
# models first cost more than everything else together. The wire names are those of the
# `Job` schema in openapi/jobs.yaml; tests/unit/test_mapping.py checks the required ones
# against the generated models, so that a schema change cannot slip past.
# The common case is tested with `type(x) is T` inline; the careful helpers run on the rest.

T = TypeVar("T")


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor for a frozen, slotted dataclass that fills its slots directly.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, which made
    it the largest cost of mapping a job. The returned function takes every field by name
    (no defaults: a field added to the dataclass makes each call fail loudly, a reordered one
    changes nothing) and builds an object equal to `cls(**fields)`. It refuses, at import, a
    class that is not slotted or has a `__post_init__` (which it would skip).
    """
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__:
        raise RuntimeError(f"{cls.__name__} needs slots and no __post_init__ to be mapped fast")
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for name in names:
        namespace[f"set_{name}"] = cls.__dict__[name].__set__
    lines = [f"def build(*, {', '.join(names)}):", "    obj = new(cls)"]
    lines += [f"    set_{name}(obj, {name})" for name in names]
    lines.append("    return obj")
    exec("\n".join(lines), namespace)  # noqa: S102 - our own field names only, as dataclasses does
    build: Callable[..., T] = namespace["build"]
    build.__qualname__ = f"fast_constructor({cls.__name__})"
    return build


_new_job = fast_constructor(JobDescription)
_new_history = fast_constructor(JobStatusHistory)
_new_container = fast_constructor(Container)
_new_volume = fast_constructor(Volume)


def _history(h: object) -> JobStatusHistory:
    if type(h) is not dict:
        raise TypeError("history is not a JSON object")
    get = h.get
    status, reason, description, exit_code = (
        get("status"),
        get("reason"),
        get("description"),
        get("exit_code"),
    )
    if exit_code is not None and type(exit_code) is not int:
        raise TypeError("history.exit_code is not an int")
    return _new_history(
        # missing, null and values newer than 2019 are UNKNOWN
        status=_STATUSES.get(status, JobStatus.UNKNOWN)
        if type(status) is str
        else JobStatus.UNKNOWN,
        # "" when null or missing
        reason=reason if type(reason) is str else _opt_str(reason, "history.reason") or "",
        description=description
        if type(description) is str
        else _opt_str(description, "history.description") or "",
        created_at=_time(get("created_at"), "history.created_at"),
        started_at=_time(get("started_at"), "history.started_at"),
        finished_at=_time(get("finished_at"), "history.finished_at"),
        exit_code=exit_code,  # missing or null: no exit code (as the 2019 SDK reads it)
    )


def _resources(r: object, ctx: ReplyContext) -> Resources:
    r = _object(r, "resources")
    cpu, memory_mb = r["cpu"], r["memory_mb"]
    get = r.get
    gpu, gpu_model, shm = get("gpu"), get("gpu_model"), get("shm")
    # Types are part of the key: 1 == 1.0 == True must not share a cache entry.
    key = (memory_mb, cpu, gpu, gpu_model, shm, type(memory_mb), type(cpu), type(gpu), type(shm))
    try:
        # Jobs mostly share a few presets; equal values give one shared (immutable) object.
        cached: Resources | None = ctx.resources.get(key)
    except TypeError:
        raise TypeError("resources has values of the wrong type") from None
    if cached is not None:
        return cached
    if isinstance(cpu, bool) or not isinstance(cpu, int | float | str):
        raise TypeError("resources.cpu is not a number")
    resources = Resources(
        memory_mb=_int(memory_mb, "resources.memory_mb"),
        cpu=float(cpu),
        gpu=None if gpu is None else _int(gpu, "resources.gpu"),
        gpu_model=_opt_str(gpu_model, "resources.gpu_model"),
        shm=None if shm is None else _bool(shm, "resources.shm"),
    )
    ctx.resources.put(key, resources)
    return resources


def _http(h: object) -> HTTPPort:
    h = _object(h, "container.http")
    port, requires_auth = h.get("port"), h.get("requires_auth")
    return HTTPPort(
        # a missing port reads as -1, as in the 2019 SDK
        port=-1 if port is None else _int(port, "http.port"),
        requires_auth=False
        if requires_auth is None
        else _bool(requires_auth, "http.requires_auth"),
    )


def _volume(v: object) -> Volume:
    v = _object(v, "volumes item")
    read_only = v.get("read_only")
    return _new_volume(
        storage_path=str(v["src_storage_uri"]),
        container_path=str(v["dst_path"]),
        read_only=True if read_only is None else _bool(read_only, "volumes.read_only"),
    )


def _container(c: object, ctx: ReplyContext) -> Container:
    if type(c) is not dict:
        raise TypeError("container is not a JSON object")
    image, resources = c["image"], c["resources"]
    get = c.get
    h = get("http")
    env = get("env")
    if env is None:
        env = {}
    elif type(env) is not dict:
        raise TypeError("container.env is not a JSON object")
    elif env and not _STR_ONLY.issuperset(map(type, env.values())):
        raise TypeError("container.env values must be strings")
    volumes = get("volumes")
    if volumes is None:
        volumes = []
    elif type(volumes) is not list:
        raise TypeError("container.volumes is not a list")
    elif volumes:
        # The parsed JSON list (ours alone) becomes the list of Volumes: one object less
        # per job for the garbage collector to scan.
        for i, v in enumerate(volumes):
            volumes[i] = _volume(v)
    entrypoint, command = get("entrypoint"), get("command")
    return _new_container(
        # the cache hit inline: most jobs share a few images
        image=(type(image) is str and ctx.images.get(image)) or ctx.image(image),
        resources=_resources(resources, ctx),
        entrypoint=entrypoint
        if type(entrypoint) is str
        else _opt_str(entrypoint, "container.entrypoint"),
        command=command if type(command) is str else _opt_str(command, "container.command"),
        http=None if h is None else _http(h),
        env=env,  # the parsed JSON dict, ours alone
        volumes=volumes,
    )


def map_job(d: Any, ctx: ReplyContext) -> JobDescription:
    """One job object of a reply (parsed JSON, which it consumes) to a `JobDescription`."""
    job_id, owner, status = d["id"], d["owner"], d["status"]
    history, container, is_preemptible = d["history"], d["container"], d["is_preemptible"]
    if type(job_id) is not str or type(owner) is not str:
        raise TypeError("id and owner must be strings")
    if type(status) is not str or type(is_preemptible) is not bool:
        raise TypeError("status must be a string and is_preemptible a bool")
    get = d.get
    named = get("http_url_named")
    name, description, hostname = get("name"), get("description"), get("internal_hostname")
    ssh = get("ssh_server")
    return _new_job(
        id=job_id,
        owner=owner,
        status=_STATUSES.get(status, JobStatus.UNKNOWN),
        history=_history(history),
        container=_container(container, ctx),
        is_preemptible=is_preemptible,
        name=name if type(name) is str else _opt_str(name, "name"),
        description=description
        if type(description) is str
        else _opt_str(description, "description"),
        # the named URL wins, as in the 2019 SDK
        http_url=ctx.url(named) if named else ctx.url(get("http_url")),
        # the same for every job: the cache hit inline
        ssh_server=ctx.urls.get(ssh) or ctx.url(ssh) if type(ssh) is str else ctx.url(ssh),
        internal_hostname=hostname
        if type(hostname) is str
        else _opt_str(hostname, "internal_hostname"),
    )


def _job_error(data: object, err: Exception) -> ResponseValidationError:
    """The error for a malformed single-job reply: named by its id when it has one.

    A missing required field is reported as a malformed reply (there may be no id to name).
    """
    if isinstance(err, KeyError) or not isinstance(data, dict) or "id" not in data:
        return ResponseValidationError(f"Malformed job reply: {describe(err)}")
    return ResponseValidationError(
        f"Malformed job {data['id']!r} in the server reply: {describe(err)}"
    )


def job_from_json(data: Any, ctx: ReplyContext) -> JobDescription:
    """One job object (create/get reply, one NDJSON line) as JSON data to a `JobDescription`."""
    try:
        return map_job(data, ctx)
    except MALFORMED as err:
        raise _job_error(data, err) from None


def list_error(data: object, index: int, err: Exception) -> ResponseValidationError:
    """The error for job number `index` of a list reply; named by its id when it has one."""
    if isinstance(err, KeyError):
        return ResponseValidationError(f"Malformed job list reply: {describe(err)}")
    named = f" ({data['id']!r})" if isinstance(data, dict) and "id" in data else ""
    return ResponseValidationError(
        f"Malformed job #{index}{named} in the list reply: {describe(err)}"
    )


@contextlib.contextmanager
def reply_guard(what: str) -> Iterator[None]:
    """Turn the exceptions of parsing a malformed reply (in generated code) into ours."""
    try:
        yield
    except ClientError:
        raise
    except MALFORMED as err:
        raise ResponseValidationError(f"Malformed {what} reply: {describe(err)}") from None


def telemetry_from_json(data: Any) -> JobTelemetry:
    """One `top` frame to `JobTelemetry`."""
    from neuro_sync_api.models import JobTelemetry as WireTelemetry

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
    except MALFORMED as err:
        raise ResponseValidationError(f"Malformed telemetry frame: {describe(err)}") from None


def save_progress(line: bytes) -> tuple[str | None, str | None]:
    """(status, error) of one save ndjson line."""
    from neuro_sync_api.models import SaveProgress

    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        progress = SaveProgress.from_dict(data)
    except MALFORMED as err:
        raise ResponseValidationError(f"Malformed save progress line: {describe(err)}") from None
    status = None if isinstance(progress.status, Unset) else str(progress.status)
    error = None if isinstance(progress.error, Unset) else str(progress.error)
    return status, error


def describe(err: BaseException) -> str:
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}"
    return str(err) or type(err).__name__
