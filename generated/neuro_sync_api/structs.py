"""Job reply Structs (msgspec) and their readers: the fast path of `readers`.

Generated from openapi/jobs.yaml by openapi/gen_readers.py --structs: do not edit, change the
spec and run `make generate`. A reply these Structs refuse is read again with `readers`, whose
errors name the field.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .readers import Target

UNSET = msgspec.UNSET


class JobStatusItem(msgspec.Struct, kw_only=True, gc=False):
    """`JobStatusItem`"""

    status: str
    transition_time: str
    reason: str | None = None
    description: str | None = None
    exit_code: Any = None


class VolumeResponse(msgspec.Struct, kw_only=True, gc=False):
    """`VolumeResponse`"""

    src_storage_uri: str
    dst_path: str
    read_only: bool | None = None


class SSHPort(msgspec.Struct, kw_only=True, gc=False):
    """`SSHPort`"""

    port: Any


class HTTPResponse(msgspec.Struct, kw_only=True, gc=False):
    """`HTTPResponse`: The 2019 SDK reads a missing `port` as -1; clients should too."""

    port: Any = None
    health_check_path: str | None = None
    requires_auth: bool | None = None


class ResourcesResponse(msgspec.Struct, kw_only=True, gc=False):
    """`ResourcesResponse`"""

    cpu: Any
    memory_mb: Any = None
    shm: bool | None = None
    gpu: Any = None
    gpu_model: str | None = None
    memory: Any | None | msgspec.UnsetType = UNSET


class ContainerResponse(msgspec.Struct, kw_only=True, gc=False):
    """`ContainerResponse`"""

    image: str
    entrypoint: str | None = None
    command: str | None = None
    env: dict[str, str] | None = None
    resources: ResourcesResponse
    http: HTTPResponse | None = None
    ssh: SSHPort | None = None
    volumes: list[VolumeResponse] | None = None
    working_dir: str | None = None
    tty: bool | None = None


class JobHistory(msgspec.Struct, kw_only=True, gc=False):
    """`JobHistory`: `reason` and `description` are always present, null when unset."""

    status: str | None = None
    reason: str | None = None
    description: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: Any = None
    restarts: Any = None
    run_time_seconds: Any = None


class Job(msgspec.Struct, kw_only=True, gc=False):
    """`Job`: A job as the 2019 server sends it (it sends no other fields; newer servers do, and clients ignore them). `status` is a plain string on purpose: newer servers send values (`cancelled`, `suspended`) that a client must tolerate."""

    id: str
    owner: str
    cluster_name: str | None = None
    status: str
    history: JobHistory
    container: ContainerResponse
    ssh_server: str | None = None
    ssh_auth_server: str | None = None
    is_preemptible: bool | None = None
    name: str | None = None
    description: str | None = None
    http_url: str | None = None
    http_url_named: str | None = None
    internal_hostname: str | None = None
    schedule_timeout: Any = None
    uri: str | None = None
    tags: list[str] | None = None
    restart_policy: str | None = None
    max_run_time_minutes: Any = None
    pass_config: bool | None = None
    privileged: bool | None = None
    preset_name: str | None = None
    scheduler_enabled: bool | None | msgspec.UnsetType = UNSET
    preemptible_node: bool | None = None
    is_preemptible_node_required: bool | None = None
    internal_hostname_named: str | None = None
    priority: str | None = None
    total_price_credits: str | None = None
    price_credits_per_hour: str | None = None
    statuses: list[JobStatusItem] | None = None


class JobList(msgspec.Struct, kw_only=True, gc=False):
    """`JobList`"""

    jobs: list[Job]


def read_job(s: Job, to: Target) -> Any:
    """`Job`: a decoded Struct, built by `to.job`."""
    if s.is_preemptible is None and s.scheduler_enabled is UNSET:
        raise KeyError("is_preemptible")
    history_s = s.history
    history_ = to.job_history(
        history_s.status,
        history_s.reason,
        history_s.description,
        history_s.created_at,
        history_s.started_at,
        history_s.finished_at,
        history_s.exit_code,
        history_s.restarts,
        history_s.run_time_seconds,
    )
    container_s = s.container
    container_resources_s = container_s.resources
    if container_resources_s.memory_mb is None and container_resources_s.memory is UNSET:
        raise KeyError("memory_mb")
    container_resources_memory_ = container_resources_s.memory
    if container_resources_memory_ is UNSET:
        container_resources_memory_ = None
    container_resources_ = to.resources_response(
        container_resources_s.cpu,
        container_resources_s.memory_mb,
        container_resources_s.shm,
        container_resources_s.gpu,
        container_resources_s.gpu_model,
        container_resources_memory_,
    )
    container_http_ = container_s.http
    if container_http_ is not None:
        container_http_ = to.http_response(
            container_http_.port, container_http_.health_check_path, container_http_.requires_auth
        )
    container_ssh_ = container_s.ssh
    if container_ssh_ is not None:
        container_ssh_ = to.ssh_port(container_ssh_.port)
    container_volumes_ = container_s.volumes
    if container_volumes_:
        container_volumes_make = to.volume_response
        container_volumes_ = [
            container_volumes_make(i.src_storage_uri, i.dst_path, i.read_only)
            for i in container_volumes_
        ]
    container_ = to.container_response(
        container_s.image,
        container_s.entrypoint,
        container_s.command,
        container_s.env,
        container_resources_,
        container_http_,
        container_ssh_,
        container_volumes_,
        container_s.working_dir,
        container_s.tty,
    )
    scheduler_enabled_ = s.scheduler_enabled
    if scheduler_enabled_ is UNSET:
        scheduler_enabled_ = None
    statuses_ = s.statuses
    if statuses_:
        statuses_make = to.job_status_item
        statuses_ = [
            statuses_make(i.status, i.transition_time, i.reason, i.description, i.exit_code)
            for i in statuses_
        ]
    value = to.job(
        s.id,
        s.owner,
        s.cluster_name,
        s.status,
        history_,
        container_,
        s.ssh_server,
        s.ssh_auth_server,
        s.is_preemptible,
        s.name,
        s.description,
        s.http_url,
        s.http_url_named,
        s.internal_hostname,
        s.schedule_timeout,
        s.uri,
        s.tags,
        s.restart_policy,
        s.max_run_time_minutes,
        s.pass_config,
        s.privileged,
        s.preset_name,
        scheduler_enabled_,
        s.preemptible_node,
        s.is_preemptible_node_required,
        s.internal_hostname_named,
        s.priority,
        s.total_price_credits,
        s.price_credits_per_hour,
        statuses_,
    )
    return value


# The decoders of a single job reply and of a list reply.
JOB_DECODER = msgspec.json.Decoder(Job)
LIST_DECODER = msgspec.json.Decoder(JobList)
