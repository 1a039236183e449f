"""The one module that maps generated (wire) models to the public dataclasses and back.

Nothing else in the facade imports `neuro_sync_api.models`, and this module only inside the
functions that build or parse them: the generated models are slow to import, and job replies
(list, status) never need them. Job replies go through the readers generated from the spec
(`neuro_sync_api.readers`), with `ReplyContext` as their target. Every way a reply can be
malformed (missing keys, wrong types, unparsable times) ends here as
`ResponseValidationError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neuro_sync_api import readers
from neuro_sync_api.types import UNSET, Unset
from yarl import URL

from . import _validation
from .config import ClusterConfig, Preset
from .errors import ClientError, ResponseValidationError, ValidationError
from .models import (
    Container,
    HTTPPort,
    JobDescription,
    JobRestartPolicy,
    JobStatus,
    JobStatusHistory,
    JobStatusItem,
    JobTelemetry,
    RemoteImage,
    Resources,
    Volume,
)
from .parsing import INVALID_IMAGE_NAME, parse_remote_image

if TYPE_CHECKING:
    from neuro_sync_api.models import JobRequest, ResourcesRequest, SaveRequest, ServerConfig

_STATUSES: dict[str, JobStatus] = {s.value: s for s in JobStatus}
# Module constants: an enum member looked up on its class costs ten times as much, per job.
_UNKNOWN = JobStatus.UNKNOWN
_NEVER = JobRestartPolicy.NEVER
_RESTART_POLICIES: dict[str, JobRestartPolicy] = {p.value: p for p in JobRestartPolicy}
_EMPTY_URL = URL()
MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


# --------------------------------------------------------------------------- config


_MIB = 1024 * 1024


def cluster_config(config: ServerConfig) -> ClusterConfig | None:
    """The cluster part of `/config`, or None when the server did not send it (bad token).

    A 2022 server sends its clusters as a list (the first is the current one, as neuro-sdk
    takes it) with presets in bytes; a 2019 server, one cluster at the top level.
    """
    if not isinstance(config.clusters, Unset) and config.clusters:
        return _cluster_2022(config.clusters[0])
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


def _cluster_2022(cluster: Any) -> ClusterConfig | None:
    urls = (cluster.registry_url, cluster.storage_url, cluster.users_url, cluster.monitoring_url)
    if any(isinstance(u, Unset) or not u for u in urls):
        return None
    try:
        presets = {}
        for p in cluster.resource_presets:
            wire = p.to_dict()
            wire["memory_mb"] = int(wire.pop("memory")) // _MIB
            wire["is_preemptible"] = bool(wire.pop("scheduler_enabled", False))
            presets[p.name] = Preset.from_wire(wire)
        return ClusterConfig(
            registry_url=URL(str(cluster.registry_url)),
            storage_url=URL(str(cluster.storage_url)),
            users_url=URL(str(cluster.users_url)),
            monitoring_url=URL(str(cluster.monitoring_url)),
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
# Wire names of `run` arguments of the 2022 dialect.
_RUN_FIELDS = {"max_run_time_minutes": "life_span"}


def _public_path(path: str) -> str:
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["container", "volumes"]:
        parts[3] = _VOLUME_FIELDS.get(parts[3], parts[3])
    parts[0] = _RUN_FIELDS.get(parts[0], parts[0])
    return ".".join(parts)


@dataclass(frozen=True)
class RunOptions:
    """The `run` arguments of the 2022 dialect, as the user gave them (defaults: not given)."""

    tags: Iterable[str] | None = None
    life_span: float | None = None
    restart_policy: JobRestartPolicy | str = JobRestartPolicy.NEVER
    pass_config: bool = False
    wait_for_jobs_quota: bool = False
    privileged: bool = False
    preset_name: str | None = None

    def given(self, container: Container) -> list[str]:
        """The names of the arguments (and container fields) set to other than their default."""
        names = [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != f.default]
        if isinstance(container, Container):
            if container.working_dir is not None:
                names.append("container.working_dir")
            if container.tty is not False:
                names.append("container.tty")
        return names


# The shortest life span a server takes: it counts whole minutes, at least one.
MIN_LIFE_SPAN = 60


def _run_2022(options: RunOptions) -> dict[str, Any]:
    """The 2022 keys of a `POST /jobs` body (as neuro-sdk 22.7.1 sends them), uncoerced so
    that the spec's strict types see what the user gave; `never` and false are not sent,
    except `pass_config`, which is always sent."""
    wire: dict[str, Any] = {"pass_config": options.pass_config}
    if options.tags is not None:
        if isinstance(options.tags, str | bytes) or not isinstance(options.tags, Iterable):
            raise ValidationError("tags", "must be a collection of strings, not a string")
        wire["tags"] = list(options.tags)
    span = options.life_span
    if span is not None:
        if isinstance(span, bool) or not isinstance(span, int | float) or not math.isfinite(span):
            raise ValidationError("life_span", "must be seconds (a finite number) or None")
        if span < MIN_LIFE_SPAN:
            raise ValidationError(
                "life_span", f"must be at least {MIN_LIFE_SPAN} seconds (the server counts minutes)"
            )
        wire["max_run_time_minutes"] = int(span // 60)  # whole minutes, as neuro-sdk sends
    try:
        policy = JobRestartPolicy(options.restart_policy)
    except ValueError:
        allowed = ", ".join(p.value for p in JobRestartPolicy)
        raise ValidationError(
            "restart_policy", f"must be one of {allowed}, got {options.restart_policy!r}"
        ) from None
    if policy is not JobRestartPolicy.NEVER:
        wire["restart_policy"] = policy.value
    for key in ("wait_for_jobs_quota", "privileged"):
        value = getattr(options, key)
        if value is not False:
            wire[key] = value  # a non-bool is sent to the schema, which refuses it by name
    if options.preset_name is not None:
        wire["preset_name"] = options.preset_name
    return wire


def job_request(
    container: Container,
    *,
    name: str | None,
    description: str | None,
    is_preemptible: bool,
    schedule_timeout: float | None,
    dialect: str = "2019",
    options: RunOptions | None = None,
) -> JobRequest:
    """Build exactly what the real server accepts, checked against the spec before it is sent.

    Under 2019 an argument of the 2022 dialect (`options`, `Container.working_dir`/`tty`) is
    a `ValidationError` naming it; nothing of 2022 is ever sent to a 2019 server.

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

    options = options or RunOptions()
    if dialect == "2019":
        given = options.given(container)
        if given:
            raise later_only(given[0])
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
    if dialect != "2019":
        later = _run_2022(options)
        for key, value in later.items():
            setattr(request, key, value)
        if container.working_dir is not None:
            request.container.working_dir = container.working_dir
        if container.tty is not False:
            request.container.tty = container.tty
    _validation.validate_job_request(request.to_dict(), _public_path, dialect)
    if dialect != "2019":
        # What neuro-sdk 22.7.1 sends: the 2022 names, memory in bytes (validated above as MiB).
        request.is_preemptible = UNSET
        request.scheduler_enabled = is_preemptible
        request.container.resources = _resources_2022(request.container.resources)
    # Numbers as floats, like the 2019 SDK sent them (only now: float() accepts "1" and True).
    request.container.resources.cpu = float(res.cpu)
    if not isinstance(request.schedule_timeout, Unset):
        request.schedule_timeout = float(request.schedule_timeout)
    return request


@functools.cache
def _resources_2022_class() -> type[ResourcesRequest]:
    from neuro_sync_api.models import ResourcesRequest

    class Resources2022(ResourcesRequest):
        """Sends `memory` (bytes) in place of `memory_mb`, as a 2022 client does."""

        def to_dict(self) -> dict[str, Any]:
            wire = super().to_dict()
            del wire["memory_mb"]
            return wire

    return Resources2022


def _resources_2022(res: ResourcesRequest) -> ResourcesRequest:
    """`res` as neuro-sdk 22.7.1 sends it: memory in bytes only."""
    return _resources_2022_class()(
        cpu=res.cpu,
        memory_mb=res.memory_mb,
        shm=res.shm,
        gpu=res.gpu,
        gpu_model=res.gpu_model,
        memory=res.memory_mb * _MIB,
    )


@dataclass(frozen=True)
class ListQuery:
    """Validated `GET /jobs` filters; None means "no filter"."""

    statuses: list[str] | None
    name: str | None
    owners: list[str] | None
    # The 2022 dialect's, as query values.
    tags: list[str] | None = None
    since: str | None = None
    until: str | None = None
    reverse: str | None = None
    limit: str | None = None


def later_only(field: str) -> ValidationError:
    """The refusal of a 2022-only argument under the 2019 dialect (nothing is sent)."""
    return ValidationError(
        field, 'exists only in the 2022 dialect: use Client(..., dialect="2022")'
    )


def _moment(value: object, field: str) -> str | None:
    """An aware `datetime` as the ISO 8601 text a 2022 server reads."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        raise ValidationError(field, "must be a datetime.datetime (timezone-aware) or None")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware (e.g. tzinfo=datetime.UTC)")
    return value.isoformat()


def list_query(
    statuses: Iterable[JobStatus | str] | None,
    name: str | None,
    owners: Iterable[str] | None,
    *,
    tags: Iterable[str] | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    reverse: bool = False,
    limit: int | None = None,
    dialect: str = "2019",
) -> ListQuery:
    """Validate `jobs.list` filters and turn them into query values.

    Under 2019 the filters of 2022 are refused: a 2019 server ignores them silently (`limit=1`
    would list every job).
    """
    later = {"tags": tags, "since": since, "until": until, "reverse": reverse, "limit": limit}
    if dialect == "2019":
        for key, value in later.items():
            if value is not None and value is not False:
                raise later_only(key)
    for field, value in (("statuses", statuses), ("owners", owners), ("tags", tags)):
        if isinstance(value, str | bytes):
            raise ValidationError(field, "must be a collection (e.g. a set), not a string")
    status_values = (
        None if statuses is None else [s.value if isinstance(s, JobStatus) else s for s in statuses]
    )
    owner_values = None if owners is None else list(owners)
    tag_values = None if tags is None else list(tags)
    if not isinstance(reverse, bool):
        raise ValidationError("reverse", "must be a bool")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValidationError("limit", "must be an int >= 1 or None")
    filters: dict[str, Any] = {}
    if status_values is not None:
        filters["statuses"] = status_values
    if name:
        filters["name"] = name
    if owner_values is not None:
        filters["owners"] = owner_values
    if tag_values is not None:
        filters["tags"] = tag_values
    query = {
        "since": _moment(since, "since"),
        "until": _moment(until, "until"),
        "reverse": "1" if reverse else None,
        "limit": None if limit is None else str(limit),
    }
    filters.update({k: v for k, v in query.items() if v is not None})
    _validation.validate_list(filters)
    return ListQuery(
        # Sorted and deduplicated, so the same filter always makes the same URL.
        statuses=sorted(set(status_values)) if status_values else None,
        name=name or None,
        owners=owner_values or None,
        tags=sorted(set(tag_values)) if tag_values else None,
        **query,
    )


def log_query(since: object, timestamps: object, dialect: str) -> dict[str, str]:
    """The 2022 log query (`since`, `timestamps`) as query values; refused under 2019, whose
    server would ignore it and send the whole log without times."""
    if dialect == "2019":
        for key, value in (("since", since), ("timestamps", timestamps)):
            if value is not None and value is not False:
                raise later_only(key)
    if not isinstance(timestamps, bool):
        raise ValidationError("timestamps", "must be a bool")
    query = {"since": _moment(since, "since"), "timestamps": "true" if timestamps else None}
    return {k: v for k, v in query.items() if v is not None}


def life_span_request(additional_seconds: object) -> dict[str, Any]:
    """The body of `bump_life_span`: whole minutes, at least one, as the spec bounds them."""
    if (
        isinstance(additional_seconds, bool)
        or not isinstance(additional_seconds, int | float)
        or not math.isfinite(additional_seconds)
    ):
        raise ValidationError("additional_seconds", "must be seconds (a finite number)")
    if additional_seconds < MIN_LIFE_SPAN:
        raise ValidationError(
            "additional_seconds",
            f"must be at least {MIN_LIFE_SPAN} seconds (the server counts minutes)",
        )
    wire = {"additional_max_run_time_minutes": int(additional_seconds // 60)}
    _validation.validate_life_span_request(wire)
    return wire


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
    """A dict that empties itself when it reaches `size` entries (default `CACHE_SIZE`).

    Cheaper than an LRU on the hot path (a plain `dict.get`), and safe to share between
    threads: each operation is one atomic dict call, and a lost entry is only a cache miss.
    """

    def __init__(self, size: int | None = None) -> None:
        super().__init__()
        self.size = CACHE_SIZE if size is None else size

    def put(self, key: Any, value: Any) -> None:
        if len(self) >= self.size:
            self.clear()
        self[key] = value


_FROM_ISO = datetime.datetime.fromisoformat
_UTC = datetime.UTC


def _time(value: str | None, field: str) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        moment = _FROM_ISO(value)
    except ValueError:
        raise ValueError(f"{field} is not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        # The server sends UTC; a bare time is read as UTC so every value is aware.
        return moment.replace(tzinfo=_UTC)
    return moment


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


_new = object.__new__


def _draft(cls: type) -> type:
    """A mutable twin of the frozen, slotted dataclass `cls`, whose instance becomes a `cls`.

    A frozen dataclass's `__init__` sets each field through `object.__setattr__`, which made
    it the largest cost of mapping a job. The mapper fills an instance of the twin (the same
    slots, no frozen `__setattr__`) with plain attribute stores, then makes it a `cls` by
    `__class__` assignment, which Python allows between classes of the same layout; from then
    on it is as frozen as any. Checked here, at import: the class must have slots and no
    `__post_init__` (it would be skipped), and the assignment must work. That the mapper sets
    every field is checked by tests/unit/test_reply_guards.py (an unset slot would raise).
    """
    if hasattr(cls, "__post_init__") or "__slots__" not in cls.__dict__:
        raise RuntimeError(f"{cls.__name__} needs slots and no __post_init__ to be mapped fast")
    twin = type(
        f"{cls.__name__}Draft", (), {"__slots__": vars(cls)["__slots__"], "__module__": __name__}
    )
    probe = twin()
    probe.__class__ = cls  # TypeError here, at import, if the layouts ever differ
    return twin


_JOB = _draft(JobDescription)
_HISTORY = _draft(JobStatusHistory)
_CONTAINER = _draft(Container)
_VOLUME = _draft(Volume)
# The job's 2022 `statuses` come after its history is built: set through the slot's descriptor.
_set_transitions = vars(JobStatusHistory)["transitions"].__set__


class ReplyContext:
    """What parsing a job needs besides the job: the registry host and the user (for images).

    It is the `Target` of the readers generated from the spec (`neuro_sync_api.readers`): they
    check each object of the reply against its schema and hand its properties, by wire name,
    to the method of that schema here, which applies the client's reading of them (the
    2019 SDK's defaults, unknown statuses) and builds the public dataclass.

    It also memoises the image, URL and resources values that repeat across jobs, in bounded
    caches (`CACHE_SIZE` entries each); the values are immutable, so sharing them is safe.
    """

    def __init__(self, registry_host: str, username: str, cache_size: int | None = None) -> None:
        self.registry_host = registry_host
        self.username = username
        self.images = _Cache(cache_size)
        self.urls = _Cache(cache_size)
        self.resources = _Cache(cache_size)

    def for_reply(self, jobs: int) -> ReplyContext:
        """A context for one reply of `jobs` jobs, whose caches hold every distinct value of it:
        those values are all kept by the jobs returned anyway, and a list with more distinct
        values than `CACHE_SIZE` would otherwise empty the shared caches over and over."""
        if jobs <= CACHE_SIZE:
            return self
        return ReplyContext(self.registry_host, self.username, jobs)

    def image(self, value: str) -> RemoteImage:
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

    def url(self, value: str | None) -> URL:
        if not value:
            return _EMPTY_URL
        url: URL | None = self.urls.get(value)
        if url is None:
            url = URL(value)
            self.urls.put(value, url)
        return url

    # The `Target` of neuro_sync_api.readers: one method per object schema of a job, its
    # parameters the schema's properties in the spec's order (positional: a test compares
    # the names). Values arrive checked against the spec (strings, booleans, objects); numbers
    # are coerced here.

    def job(
        self,
        id: str,
        owner: str,
        cluster_name: str | None,
        status: str,
        history: JobStatusHistory,
        container: Container,
        ssh_server: str | None,
        ssh_auth_server: str | None,  # a deprecated duplicate of ssh_server
        is_preemptible: bool | None,  # None: a 2022 server sent scheduler_enabled instead
        name: str | None,
        description: str | None,
        http_url: str | None,
        http_url_named: str | None,
        internal_hostname: str | None,
        schedule_timeout: Any,  # the request's value, not part of JobDescription (2019)
        # The 2022 dialect's properties (None from a 2019 server). Those JobDescription does
        # not carry (the cluster-side and price fields) are read, checked and dropped.
        uri: str | None,
        tags: list[str] | None,
        restart_policy: str | None,
        max_run_time_minutes: Any,
        pass_config: bool | None,
        privileged: bool | None,
        preset_name: str | None,
        scheduler_enabled: bool | None,
        preemptible_node: bool | None,
        is_preemptible_node_required: bool | None,
        internal_hostname_named: str | None,
        priority: str | None,
        total_price_credits: str | None,
        price_credits_per_hour: str | None,
        statuses: list[JobStatusItem] | None,
    ) -> JobDescription:
        job: Any = _new(_JOB)
        job.id = id
        job.owner = owner
        job.status = _STATUSES.get(status, _UNKNOWN)
        job.history = history
        job.container = container
        # Booleans arrive checked (True, False or None): `is True` is their bool(), cheaper.
        job.is_preemptible = scheduler_enabled is True if is_preemptible is None else is_preemptible
        job.name = name
        job.description = description
        # the named URL wins, as in the 2019 SDK
        url = http_url_named or http_url
        job.http_url = (self.urls.get(url) or self.url(url)) if url else _EMPTY_URL
        # the same for every job: the cache hit inline
        job.ssh_server = ssh_server and self.urls.get(ssh_server) or self.url(ssh_server)
        job.internal_hostname = internal_hostname
        job.tags = () if not tags else tuple(tags)
        job.life_span = (
            None
            if max_run_time_minutes is None
            else float(_int(max_run_time_minutes, "max_run_time_minutes") * 60)
        )
        # An unknown policy (newer than this client) reads as the default.
        job.restart_policy = (
            _NEVER if restart_policy is None else _RESTART_POLICIES.get(restart_policy, _NEVER)
        )
        job.preset_name = preset_name
        job.pass_config = pass_config is True
        job.privileged = privileged is True
        if statuses:
            _set_transitions(history, tuple(statuses))
        job.__class__ = JobDescription  # filled: a frozen JobDescription from now on
        built: JobDescription = job
        return built

    def job_history(
        self,
        status: str | None,
        reason: str | None,
        description: str | None,
        created_at: str | None,
        started_at: str | None,
        finished_at: str | None,
        exit_code: Any,
        restarts: Any,
        run_time_seconds: Any,
    ) -> JobStatusHistory:
        if exit_code is not None and type(exit_code) is not int:
            raise TypeError("history.exit_code is not an int")
        if run_time_seconds is not None and (
            isinstance(run_time_seconds, bool) or not isinstance(run_time_seconds, int | float)
        ):
            raise TypeError("history.run_time_seconds is not a number")
        history: Any = _new(_HISTORY)
        # missing, null and values newer than 2019 are UNKNOWN
        history.status = _STATUSES.get(status, _UNKNOWN)  # type: ignore[arg-type]
        history.reason = reason or ""  # "" when null or missing
        history.description = description or ""
        # The three times inline (three calls less per job); a bad one is named by `_time`.
        try:
            created = None if created_at is None else _FROM_ISO(created_at)
            started = None if started_at is None else _FROM_ISO(started_at)
            finished = None if finished_at is None else _FROM_ISO(finished_at)
        except ValueError:
            created = _time(created_at, "history.created_at")
            started = _time(started_at, "history.started_at")
            finished = _time(finished_at, "history.finished_at")
        # The server sends UTC; a bare time is read as UTC so every value is aware.
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=_UTC)
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=_UTC)
        if finished is not None and finished.tzinfo is None:
            finished = finished.replace(tzinfo=_UTC)
        history.created_at = created
        history.started_at = started
        history.finished_at = finished
        # missing or null: no exit code (as the 2019 SDK reads it)
        history.exit_code = exit_code
        history.restarts = 0 if restarts is None else _int(restarts, "history.restarts")
        history.run_time_seconds = None if run_time_seconds is None else float(run_time_seconds)
        history.transitions = ()  # the job's `statuses`, set by `job`
        history.__class__ = JobStatusHistory  # filled: a frozen JobStatusHistory from now on
        built: JobStatusHistory = history
        return built

    def job_status_item(
        self,
        status: str,
        transition_time: str,
        reason: str | None,
        description: str | None,
        exit_code: Any,
    ) -> JobStatusItem:
        if exit_code is not None and type(exit_code) is not int:
            raise TypeError("statuses.exit_code is not an int")
        moment = _time(transition_time, "statuses.transition_time")
        if moment is None:  # the reader passed a str: never, but the types must say so
            raise TypeError("statuses.transition_time is missing")
        return JobStatusItem(
            status=_STATUSES.get(status, JobStatus.UNKNOWN),
            transition_time=moment,
            reason=reason or "",
            description=description or "",
            exit_code=exit_code,
        )

    def container_response(
        self,
        image: str,
        entrypoint: str | None,
        command: str | None,
        env: dict[str, str] | None,
        resources: Resources,
        http: HTTPPort | None,
        ssh: None,
        volumes: list[Volume] | None,
        working_dir: str | None,
        tty: bool | None,
    ) -> Container:
        container: Any = _new(_CONTAINER)
        # the cache hit inline: most jobs share a few images
        container.image = self.images.get(image) or self.image(image)
        container.resources = resources
        container.entrypoint = entrypoint
        container.command = command
        container.http = http
        # The parsed JSON dict and list (the reply's alone, filled with Volumes in place by
        # the reader): one object less per job for the garbage collector to scan.
        container.env = {} if env is None else env
        container.volumes = [] if volumes is None else volumes
        container.working_dir = working_dir
        container.tty = tty is True
        container.__class__ = Container  # filled: a frozen Container from now on
        built: Container = container
        return built

    def resources_response(
        self,
        cpu: Any,
        memory_mb: Any,  # None: a 2022 server sent only `memory` (bytes)
        shm: bool | None,
        gpu: Any,
        gpu_model: str | None,
        memory: Any,  # 2022: the same in bytes; `memory_mb` is what Resources carries
    ) -> Resources:
        if memory_mb is None:
            memory_mb = _int(memory, "container.resources.memory") // _MIB
        # Types are part of the key: 1 == 1.0 == True must not share a cache entry.
        key = (memory_mb, cpu, gpu, gpu_model, shm, type(memory_mb), type(cpu), type(gpu))
        try:
            # Jobs mostly share a few presets; equal values give one shared (immutable) object.
            cached: Resources | None = self.resources.get(key)
        except TypeError:
            raise TypeError("container.resources has values of the wrong type") from None
        if cached is not None:
            return cached
        if isinstance(cpu, bool) or not isinstance(cpu, int | float | str):
            raise TypeError("container.resources.cpu is not a number")
        resources = Resources(
            memory_mb=_int(memory_mb, "container.resources.memory_mb"),
            cpu=float(cpu),
            gpu=None if gpu is None else _int(gpu, "container.resources.gpu"),
            gpu_model=gpu_model,
            shm=shm,
        )
        self.resources.put(key, resources)
        return resources

    def http_response(
        self, port: Any, health_check_path: str | None, requires_auth: bool | None
    ) -> HTTPPort:
        return HTTPPort(
            # a missing port reads as -1, as in the 2019 SDK
            port=-1 if port is None else _int(port, "container.http.port"),
            requires_auth=bool(requires_auth),  # missing: False, as in the 2019 SDK
        )

    def ssh_port(self, port: Any) -> None:
        """The container's SSH port: a 2019 field that `Container` does not carry."""
        return None

    def volume_response(
        self, src_storage_uri: str, dst_path: str, read_only: bool | None
    ) -> Volume:
        volume: Any = _new(_VOLUME)
        volume.storage_path = src_storage_uri
        volume.container_path = dst_path
        volume.read_only = True if read_only is None else read_only
        volume.__class__ = Volume  # filled: a frozen Volume from now on
        built: Volume = volume
        return built


def map_job(d: Any, ctx: ReplyContext) -> JobDescription:
    """One job object of a reply (parsed JSON, which it consumes) to a `JobDescription`."""
    job: JobDescription = readers.read_job(d, ctx)
    return job


def fast_job(content: bytes, ctx: ReplyContext) -> JobDescription | None:
    """A job reply body read by the compiled decoder (`neuro_sync_api.structs`, generated
    from the spec like `readers`); None when it refuses the reply, which the caller then
    reads with `readers` for an error that names the field (or, for what only the decoder
    refuses, such as `NaN`, for the job)."""
    import msgspec  # loaded with the Structs, on the first reply
    from neuro_sync_api import structs

    try:
        job: JobDescription = structs.read_job(structs.JOB_DECODER.decode(content), ctx)
    except (msgspec.DecodeError, *MALFORMED):
        return None
    return job


def fast_jobs(content: bytes, ctx: ReplyContext) -> list[JobDescription] | None:
    """A `{"jobs": [...]}` body read by the compiled decoder, or None as in `fast_job`."""
    import msgspec
    from neuro_sync_api import structs

    try:
        wire = structs.LIST_DECODER.decode(content)
        read, scoped = structs.read_job, ctx.for_reply(len(wire.jobs))
        jobs: list[JobDescription] = [read(job, scoped) for job in wire.jobs]
    except (msgspec.DecodeError, *MALFORMED):
        return None
    return jobs


def job_from_reply(content: bytes, ctx: ReplyContext) -> JobDescription:
    """A job reply body (create, status) to a `JobDescription`."""
    job = fast_job(content, ctx)
    if job is None:
        with reply_guard("job"):
            data = json.loads(content)
        job = job_from_json(data, ctx)
    return job


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
