"""The server's reply writers (the job object, `/config`), key by key from the spec.

Generated from openapi/jobs.yaml by openapi/gen_writers.py: do not edit, change the spec and
run `make generate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final


class Omit:
    """The type of `OMIT`: a property left out of the reply."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = Omit()


def write_job(
    dialect: str,
    *,
    id: str,
    owner: str,
    cluster_name: str | Omit = OMIT,
    status: str,
    history: Mapping[str, Any],
    container: Mapping[str, Any],
    ssh_server: str | Omit = OMIT,
    ssh_auth_server: str | Omit = OMIT,
    is_preemptible: bool,
    name: str | Omit = OMIT,
    description: str | Omit = OMIT,
    http_url: str | Omit = OMIT,
    http_url_named: str | Omit = OMIT,
    internal_hostname: str | Omit = OMIT,
    schedule_timeout: float | Omit = OMIT,
    uri: str | Omit = OMIT,
    tags: Sequence[str] | Omit = OMIT,
    restart_policy: str | Omit = OMIT,
    max_run_time_minutes: int | Omit = OMIT,
    pass_config: bool | Omit = OMIT,
    privileged: bool | Omit = OMIT,
    preset_name: str | Omit = OMIT,
    scheduler_enabled: bool | Omit = OMIT,
    preemptible_node: bool | Omit = OMIT,
    is_preemptible_node_required: bool | Omit = OMIT,
    internal_hostname_named: str | Omit = OMIT,
    priority: str | Omit = OMIT,
    total_price_credits: str | Omit = OMIT,
    price_credits_per_hour: str | Omit = OMIT,
    statuses: Sequence[Mapping[str, Any]] | Omit = OMIT,
) -> dict[str, Any]:
    """The `Job` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["id"] = id
    out["owner"] = owner
    if cluster_name is not OMIT:
        out["cluster_name"] = cluster_name
    out["status"] = status
    out["history"] = history
    out["container"] = container
    if dialect in ("2019",):
        if ssh_server is not OMIT:
            out["ssh_server"] = ssh_server
        if ssh_auth_server is not OMIT:
            out["ssh_auth_server"] = ssh_auth_server
    out["is_preemptible"] = is_preemptible
    if name is not OMIT:
        out["name"] = name
    if description is not OMIT:
        out["description"] = description
    if http_url is not OMIT:
        out["http_url"] = http_url
    if http_url_named is not OMIT:
        out["http_url_named"] = http_url_named
    if internal_hostname is not OMIT:
        out["internal_hostname"] = internal_hostname
    if schedule_timeout is not OMIT:
        out["schedule_timeout"] = schedule_timeout
    if dialect in ("2022",):
        if uri is not OMIT:
            out["uri"] = uri
        if tags is not OMIT:
            out["tags"] = tags
        if restart_policy is not OMIT:
            out["restart_policy"] = restart_policy
        if max_run_time_minutes is not OMIT:
            out["max_run_time_minutes"] = max_run_time_minutes
        if pass_config is not OMIT:
            out["pass_config"] = pass_config
        if privileged is not OMIT:
            out["privileged"] = privileged
        if preset_name is not OMIT:
            out["preset_name"] = preset_name
        if scheduler_enabled is not OMIT:
            out["scheduler_enabled"] = scheduler_enabled
        if preemptible_node is not OMIT:
            out["preemptible_node"] = preemptible_node
        if is_preemptible_node_required is not OMIT:
            out["is_preemptible_node_required"] = is_preemptible_node_required
        if internal_hostname_named is not OMIT:
            out["internal_hostname_named"] = internal_hostname_named
        if priority is not OMIT:
            out["priority"] = priority
        if total_price_credits is not OMIT:
            out["total_price_credits"] = total_price_credits
        if price_credits_per_hour is not OMIT:
            out["price_credits_per_hour"] = price_credits_per_hour
        if statuses is not OMIT:
            out["statuses"] = statuses
    return out


JOB_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(
        [
            "cluster_name",
            "container",
            "description",
            "history",
            "http_url",
            "http_url_named",
            "id",
            "internal_hostname",
            "is_preemptible",
            "name",
            "owner",
            "schedule_timeout",
            "ssh_auth_server",
            "ssh_server",
            "status",
        ]
    ),
    "2022": frozenset(
        [
            "cluster_name",
            "container",
            "description",
            "history",
            "http_url",
            "http_url_named",
            "id",
            "internal_hostname",
            "internal_hostname_named",
            "is_preemptible",
            "is_preemptible_node_required",
            "max_run_time_minutes",
            "name",
            "owner",
            "pass_config",
            "preemptible_node",
            "preset_name",
            "price_credits_per_hour",
            "priority",
            "privileged",
            "restart_policy",
            "schedule_timeout",
            "scheduler_enabled",
            "status",
            "statuses",
            "tags",
            "total_price_credits",
            "uri",
        ]
    ),
}


def copy_job(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `Job` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = JOB_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    nested = out.get("history")
    if nested is not None and not nested.keys() <= JOB_HISTORY_KEYS[dialect]:
        out = {**out, "history": copy_job_history(dialect, nested)}
    nested = out.get("container")
    if nested is not None:
        copied = copy_container_response(dialect, nested)
        if copied is not nested:
            out = {**out, "container": copied}
    nested = out.get("statuses")
    if nested is not None and not all(map(JOB_STATUS_ITEM_KEYS[dialect].issuperset, nested)):
        out = {**out, "statuses": [copy_job_status_item(dialect, item) for item in nested]}
    return out


def write_job_history(
    dialect: str,
    *,
    status: str | Omit = OMIT,
    reason: str | None | Omit = OMIT,
    description: str | None | Omit = OMIT,
    created_at: str | None | Omit = OMIT,
    started_at: str | None | Omit = OMIT,
    finished_at: str | None | Omit = OMIT,
    exit_code: int | None | Omit = OMIT,
    restarts: int | Omit = OMIT,
    run_time_seconds: float | Omit = OMIT,
) -> dict[str, Any]:
    """The `JobHistory` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if status is not OMIT:
        out["status"] = status
    if reason is not OMIT:
        out["reason"] = reason
    if description is not OMIT:
        out["description"] = description
    if created_at is not OMIT:
        out["created_at"] = created_at
    if started_at is not OMIT:
        out["started_at"] = started_at
    if finished_at is not OMIT:
        out["finished_at"] = finished_at
    if exit_code is not OMIT:
        out["exit_code"] = exit_code
    if dialect in ("2022",):
        if restarts is not OMIT:
            out["restarts"] = restarts
        if run_time_seconds is not OMIT:
            out["run_time_seconds"] = run_time_seconds
    return out


JOB_HISTORY_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(
        ["created_at", "description", "exit_code", "finished_at", "reason", "started_at", "status"]
    ),
    "2022": frozenset(
        [
            "created_at",
            "description",
            "exit_code",
            "finished_at",
            "reason",
            "restarts",
            "run_time_seconds",
            "started_at",
            "status",
        ]
    ),
}


def copy_job_history(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `JobHistory` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = JOB_HISTORY_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_container_response(
    dialect: str,
    *,
    image: str,
    entrypoint: str | Omit = OMIT,
    command: str | Omit = OMIT,
    env: Mapping[str, Any] | Omit = OMIT,
    resources: Mapping[str, Any],
    http: Mapping[str, Any] | Omit = OMIT,
    ssh: Mapping[str, Any] | Omit = OMIT,
    volumes: Sequence[Mapping[str, Any]] | Omit = OMIT,
    working_dir: str | Omit = OMIT,
    tty: bool | Omit = OMIT,
) -> dict[str, Any]:
    """The `ContainerResponse` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["image"] = image
    if entrypoint is not OMIT:
        out["entrypoint"] = entrypoint
    if command is not OMIT:
        out["command"] = command
    if env is not OMIT:
        out["env"] = env
    out["resources"] = resources
    if http is not OMIT:
        out["http"] = http
    if ssh is not OMIT:
        out["ssh"] = ssh
    if volumes is not OMIT:
        out["volumes"] = volumes
    if dialect in ("2022",):
        if working_dir is not OMIT:
            out["working_dir"] = working_dir
        if tty is not OMIT:
            out["tty"] = tty
    return out


CONTAINER_RESPONSE_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(
        ["command", "entrypoint", "env", "http", "image", "resources", "ssh", "volumes"]
    ),
    "2022": frozenset(
        [
            "command",
            "entrypoint",
            "env",
            "http",
            "image",
            "resources",
            "ssh",
            "tty",
            "volumes",
            "working_dir",
        ]
    ),
}


def copy_container_response(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ContainerResponse` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = CONTAINER_RESPONSE_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    nested = out.get("resources")
    if nested is not None and not nested.keys() <= RESOURCES_RESPONSE_KEYS[dialect]:
        out = {**out, "resources": copy_resources_response(dialect, nested)}
    nested = out.get("http")
    if nested is not None and not nested.keys() <= HTTP_RESPONSE_KEYS[dialect]:
        out = {**out, "http": copy_http_response(dialect, nested)}
    nested = out.get("ssh")
    if nested is not None and not nested.keys() <= SSH_PORT_KEYS[dialect]:
        out = {**out, "ssh": copy_ssh_port(dialect, nested)}
    nested = out.get("volumes")
    if nested is not None and not all(map(VOLUME_RESPONSE_KEYS[dialect].issuperset, nested)):
        out = {**out, "volumes": [copy_volume_response(dialect, item) for item in nested]}
    return out


def write_resources_response(
    dialect: str,
    *,
    cpu: float,
    memory_mb: int,
    shm: bool | Omit = OMIT,
    gpu: int | Omit = OMIT,
    gpu_model: str | Omit = OMIT,
    memory: int | Omit = OMIT,
) -> dict[str, Any]:
    """The `ResourcesResponse` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["cpu"] = cpu
    out["memory_mb"] = memory_mb
    if shm is not OMIT:
        out["shm"] = shm
    if gpu is not OMIT:
        out["gpu"] = gpu
    if gpu_model is not OMIT:
        out["gpu_model"] = gpu_model
    if dialect in ("2022",):
        if memory is not OMIT:
            out["memory"] = memory
    return out


RESOURCES_RESPONSE_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(["cpu", "gpu", "gpu_model", "memory_mb", "shm"]),
    "2022": frozenset(["cpu", "gpu", "gpu_model", "memory", "memory_mb", "shm"]),
}


def copy_resources_response(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ResourcesResponse` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = RESOURCES_RESPONSE_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_http_response(
    dialect: str,
    *,
    port: int | Omit = OMIT,
    health_check_path: str | Omit = OMIT,
    requires_auth: bool | Omit = OMIT,
) -> dict[str, Any]:
    """The `HTTPResponse` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if port is not OMIT:
        out["port"] = port
    if health_check_path is not OMIT:
        out["health_check_path"] = health_check_path
    if requires_auth is not OMIT:
        out["requires_auth"] = requires_auth
    return out


HTTP_RESPONSE_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(["health_check_path", "port", "requires_auth"]),
    "2022": frozenset(["health_check_path", "port", "requires_auth"]),
}


def copy_http_response(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `HTTPResponse` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = HTTP_RESPONSE_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_ssh_port(
    dialect: str,
    *,
    port: int,
) -> dict[str, Any]:
    """The `SSHPort` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["port"] = port
    return out


SSH_PORT_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(["port"]),
    "2022": frozenset(["port"]),
}


def copy_ssh_port(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `SSHPort` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = SSH_PORT_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_volume_response(
    dialect: str,
    *,
    src_storage_uri: str,
    dst_path: str,
    read_only: bool | Omit = OMIT,
) -> dict[str, Any]:
    """The `VolumeResponse` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["src_storage_uri"] = src_storage_uri
    out["dst_path"] = dst_path
    if read_only is not OMIT:
        out["read_only"] = read_only
    return out


VOLUME_RESPONSE_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(["dst_path", "read_only", "src_storage_uri"]),
    "2022": frozenset(["dst_path", "read_only", "src_storage_uri"]),
}


def copy_volume_response(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `VolumeResponse` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = VOLUME_RESPONSE_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_job_status_item(
    dialect: str,
    *,
    status: str,
    transition_time: str,
    reason: str | None | Omit = OMIT,
    description: str | None | Omit = OMIT,
    exit_code: int | None | Omit = OMIT,
) -> dict[str, Any]:
    """The `JobStatusItem` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if dialect in ("2022",):
        out["status"] = status
        out["transition_time"] = transition_time
        if reason is not OMIT:
            out["reason"] = reason
        if description is not OMIT:
            out["description"] = description
        if exit_code is not OMIT:
            out["exit_code"] = exit_code
    return out


JOB_STATUS_ITEM_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset([]),
    "2022": frozenset(["description", "exit_code", "reason", "status", "transition_time"]),
}


def copy_job_status_item(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `JobStatusItem` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = JOB_STATUS_ITEM_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_server_config(
    dialect: str,
    *,
    auth_url: str | Omit = OMIT,
    token_url: str | Omit = OMIT,
    client_id: str | Omit = OMIT,
    audience: str | Omit = OMIT,
    callback_urls: Sequence[str] | Omit = OMIT,
    headless_callback_url: str | Omit = OMIT,
    success_redirect_url: str | Omit = OMIT,
    registry_url: str | Omit = OMIT,
    storage_url: str | Omit = OMIT,
    users_url: str | Omit = OMIT,
    monitoring_url: str | Omit = OMIT,
    resource_presets: Sequence[Mapping[str, Any]] | Omit = OMIT,
    logout_url: str | Omit = OMIT,
    authorized: bool | Omit = OMIT,
    clusters: Sequence[Mapping[str, Any]] | Omit = OMIT,
) -> dict[str, Any]:
    """The `ServerConfig` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if auth_url is not OMIT:
        out["auth_url"] = auth_url
    if token_url is not OMIT:
        out["token_url"] = token_url
    if client_id is not OMIT:
        out["client_id"] = client_id
    if audience is not OMIT:
        out["audience"] = audience
    if callback_urls is not OMIT:
        out["callback_urls"] = callback_urls
    if headless_callback_url is not OMIT:
        out["headless_callback_url"] = headless_callback_url
    if success_redirect_url is not OMIT:
        out["success_redirect_url"] = success_redirect_url
    if dialect in ("2019",):
        if registry_url is not OMIT:
            out["registry_url"] = registry_url
        if storage_url is not OMIT:
            out["storage_url"] = storage_url
        if users_url is not OMIT:
            out["users_url"] = users_url
        if monitoring_url is not OMIT:
            out["monitoring_url"] = monitoring_url
        if resource_presets is not OMIT:
            out["resource_presets"] = resource_presets
    if dialect in ("2022",):
        if logout_url is not OMIT:
            out["logout_url"] = logout_url
        if authorized is not OMIT:
            out["authorized"] = authorized
        if clusters is not OMIT:
            out["clusters"] = clusters
    return out


SERVER_CONFIG_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(
        [
            "audience",
            "auth_url",
            "callback_urls",
            "client_id",
            "headless_callback_url",
            "monitoring_url",
            "registry_url",
            "resource_presets",
            "storage_url",
            "success_redirect_url",
            "token_url",
            "users_url",
        ]
    ),
    "2022": frozenset(
        [
            "audience",
            "auth_url",
            "authorized",
            "callback_urls",
            "client_id",
            "clusters",
            "headless_callback_url",
            "logout_url",
            "success_redirect_url",
            "token_url",
        ]
    ),
}


def copy_server_config(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ServerConfig` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = SERVER_CONFIG_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    nested = out.get("resource_presets")
    if nested is not None and not all(map(RESOURCE_PRESET_KEYS[dialect].issuperset, nested)):
        out = {**out, "resource_presets": [copy_resource_preset(dialect, item) for item in nested]}
    nested = out.get("clusters")
    if nested is not None:
        copies = [copy_cluster_config(dialect, item) for item in nested]
        if any(a is not b for a, b in zip(copies, nested, strict=True)):
            out = {**out, "clusters": copies}
    return out


def write_resource_preset(
    dialect: str,
    *,
    name: str,
    cpu: float,
    memory_mb: int,
    is_preemptible: bool | Omit = OMIT,
    gpu: int | Omit = OMIT,
    gpu_model: str | Omit = OMIT,
) -> dict[str, Any]:
    """The `ResourcePreset` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    out["name"] = name
    out["cpu"] = cpu
    out["memory_mb"] = memory_mb
    if is_preemptible is not OMIT:
        out["is_preemptible"] = is_preemptible
    if gpu is not OMIT:
        out["gpu"] = gpu
    if gpu_model is not OMIT:
        out["gpu_model"] = gpu_model
    return out


RESOURCE_PRESET_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset(["cpu", "gpu", "gpu_model", "is_preemptible", "memory_mb", "name"]),
    "2022": frozenset(["cpu", "gpu", "gpu_model", "is_preemptible", "memory_mb", "name"]),
}


def copy_resource_preset(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ResourcePreset` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = RESOURCE_PRESET_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out


def write_cluster_config(
    dialect: str,
    *,
    name: str,
    registry_url: str | Omit = OMIT,
    storage_url: str | Omit = OMIT,
    users_url: str | Omit = OMIT,
    monitoring_url: str,
    secrets_url: str | Omit = OMIT,
    disks_url: str | Omit = OMIT,
    buckets_url: str | Omit = OMIT,
    resource_presets: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The `ClusterConfig` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if dialect in ("2022",):
        out["name"] = name
        if registry_url is not OMIT:
            out["registry_url"] = registry_url
        if storage_url is not OMIT:
            out["storage_url"] = storage_url
        if users_url is not OMIT:
            out["users_url"] = users_url
        out["monitoring_url"] = monitoring_url
        if secrets_url is not OMIT:
            out["secrets_url"] = secrets_url
        if disks_url is not OMIT:
            out["disks_url"] = disks_url
        if buckets_url is not OMIT:
            out["buckets_url"] = buckets_url
        out["resource_presets"] = resource_presets
    return out


CLUSTER_CONFIG_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset([]),
    "2022": frozenset(
        [
            "buckets_url",
            "disks_url",
            "monitoring_url",
            "name",
            "registry_url",
            "resource_presets",
            "secrets_url",
            "storage_url",
            "users_url",
        ]
    ),
}


def copy_cluster_config(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ClusterConfig` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = CLUSTER_CONFIG_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    nested = out.get("resource_presets")
    if nested is not None and not all(map(RESOURCE_PRESET_2022_KEYS[dialect].issuperset, nested)):
        out = {
            **out,
            "resource_presets": [copy_resource_preset_2022(dialect, item) for item in nested],
        }
    return out


def write_resource_preset_2022(
    dialect: str,
    *,
    name: str,
    cpu: float,
    memory: int,
    credits_per_hour: str | Omit = OMIT,
    scheduler_enabled: bool | Omit = OMIT,
    preemptible_node: bool | Omit = OMIT,
    gpu: int | Omit = OMIT,
    gpu_model: str | Omit = OMIT,
) -> dict[str, Any]:
    """The `ResourcePreset2022` object of a reply, with the keys `dialect` sends."""
    out: dict[str, Any] = {}
    if dialect in ("2022",):
        out["name"] = name
        out["cpu"] = cpu
        out["memory"] = memory
        if credits_per_hour is not OMIT:
            out["credits_per_hour"] = credits_per_hour
        if scheduler_enabled is not OMIT:
            out["scheduler_enabled"] = scheduler_enabled
        if preemptible_node is not OMIT:
            out["preemptible_node"] = preemptible_node
        if gpu is not OMIT:
            out["gpu"] = gpu
        if gpu_model is not OMIT:
            out["gpu_model"] = gpu_model
    return out


RESOURCE_PRESET_2022_KEYS: Final[dict[str, frozenset[str]]] = {
    "2019": frozenset([]),
    "2022": frozenset(
        [
            "cpu",
            "credits_per_hour",
            "gpu",
            "gpu_model",
            "memory",
            "name",
            "preemptible_node",
            "scheduler_enabled",
        ]
    ),
}


def copy_resource_preset_2022(dialect: str, value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A stored `ResourcePreset2022` with only the keys `dialect` sends (nested ones too):
    `value` itself when it has no others (the caller must not change the result)."""
    keys = RESOURCE_PRESET_2022_KEYS[dialect]
    out = value if value.keys() <= keys else {k: v for k, v in value.items() if k in keys}
    return out
