"""Readers of the job object of a reply: checked JSON in, a `Target`'s objects out.

Generated from openapi/jobs.yaml by openapi/gen_readers.py: do not edit, change the spec and
run `make generate`.
"""

from __future__ import annotations

from typing import Any, Protocol

_STR_ONLY = frozenset({str})


class Target(Protocol):
    """Builds the value of each object schema from its checked properties."""

    def job(
        self,
        id: str,
        owner: str,
        cluster_name: str | None,
        status: str,
        history: Any,
        container: Any,
        ssh_server: str | None,
        ssh_auth_server: str | None,
        is_preemptible: bool | None,
        name: str | None,
        description: str | None,
        http_url: str | None,
        http_url_named: str | None,
        internal_hostname: str | None,
        schedule_timeout: Any | None,
        uri: str | None,
        tags: list[str] | None,
        restart_policy: str | None,
        max_run_time_minutes: Any | None,
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
        statuses: list[Any] | None,
        /,
    ) -> Any:
        """`Job`: A job as the 2019 server sends it (it sends no other fields; newer servers do, and clients ignore them). `status` is a plain string on purpose: newer servers send values (`cancelled`, `suspended`) that a client must tolerate."""
        ...

    def job_history(
        self,
        status: str | None,
        reason: str | None,
        description: str | None,
        created_at: str | None,
        started_at: str | None,
        finished_at: str | None,
        exit_code: Any | None,
        restarts: Any | None,
        run_time_seconds: Any | None,
        /,
    ) -> Any:
        """`JobHistory`: `reason` and `description` are always present, null when unset."""
        ...

    def container_response(
        self,
        image: str,
        entrypoint: str | None,
        command: str | None,
        env: dict[str, str] | None,
        resources: Any,
        http: Any,
        ssh: Any,
        volumes: list[Any] | None,
        working_dir: str | None,
        tty: bool | None,
        /,
    ) -> Any:
        """`ContainerResponse`"""
        ...

    def resources_response(
        self,
        cpu: Any,
        memory_mb: Any | None,
        shm: bool | None,
        gpu: Any | None,
        gpu_model: str | None,
        memory: Any | None,
        /,
    ) -> Any:
        """`ResourcesResponse`"""
        ...

    def http_response(
        self, port: Any | None, health_check_path: str | None, requires_auth: bool | None, /
    ) -> Any:
        """`HTTPResponse`: The 2019 SDK reads a missing `port` as -1; clients should too."""
        ...

    def ssh_port(self, port: Any, /) -> Any:
        """`SSHPort`"""
        ...

    def volume_response(
        self, src_storage_uri: str, dst_path: str, read_only: bool | None, /
    ) -> Any:
        """`VolumeResponse`"""
        ...

    def job_status_item(
        self,
        status: str,
        transition_time: str,
        reason: str | None,
        description: str | None,
        exit_code: Any | None,
        /,
    ) -> Any:
        """`JobStatusItem`"""
        ...


def read_job(d: Any, to: Target) -> Any:
    """`Job`: checked, then built by `to.job`."""
    if type(d) is not dict:
        raise TypeError("job is not a JSON object")
    get = d.get
    id_ = d["id"]
    if type(id_) is not str:
        raise TypeError("id is not a string")
    owner_ = d["owner"]
    if type(owner_) is not str:
        raise TypeError("owner is not a string")
    cluster_name_ = get("cluster_name")
    if cluster_name_ is not None and type(cluster_name_) is not str:
        raise TypeError("cluster_name is not a string")
    status_ = d["status"]
    if type(status_) is not str:
        raise TypeError("status is not a string")
    history_ = read_job_history(d["history"], to)
    container_ = read_container_response(d["container"], to)
    ssh_server_ = get("ssh_server")
    if ssh_server_ is not None and type(ssh_server_) is not str:
        raise TypeError("ssh_server is not a string")
    ssh_auth_server_ = get("ssh_auth_server")
    if ssh_auth_server_ is not None and type(ssh_auth_server_) is not str:
        raise TypeError("ssh_auth_server is not a string")
    is_preemptible_ = get("is_preemptible")
    if is_preemptible_ is not None and type(is_preemptible_) is not bool:
        raise TypeError("is_preemptible is not a boolean")
    if is_preemptible_ is None and "scheduler_enabled" not in d:
        raise KeyError("is_preemptible")
    name_ = get("name")
    if name_ is not None and type(name_) is not str:
        raise TypeError("name is not a string")
    description_ = get("description")
    if description_ is not None and type(description_) is not str:
        raise TypeError("description is not a string")
    http_url_ = get("http_url")
    if http_url_ is not None and type(http_url_) is not str:
        raise TypeError("http_url is not a string")
    http_url_named_ = get("http_url_named")
    if http_url_named_ is not None and type(http_url_named_) is not str:
        raise TypeError("http_url_named is not a string")
    internal_hostname_ = get("internal_hostname")
    if internal_hostname_ is not None and type(internal_hostname_) is not str:
        raise TypeError("internal_hostname is not a string")
    schedule_timeout_ = get("schedule_timeout")
    uri_ = get("uri")
    if uri_ is not None and type(uri_) is not str:
        raise TypeError("uri is not a string")
    tags_ = get("tags")
    if tags_ is not None and type(tags_) is not list:
        raise TypeError("tags is not a list")
    if tags_ and not _STR_ONLY.issuperset(map(type, tags_)):
        raise TypeError("tags items must be strings")
    restart_policy_ = get("restart_policy")
    if restart_policy_ is not None and type(restart_policy_) is not str:
        raise TypeError("restart_policy is not a string")
    max_run_time_minutes_ = get("max_run_time_minutes")
    pass_config_ = get("pass_config")
    if pass_config_ is not None and type(pass_config_) is not bool:
        raise TypeError("pass_config is not a boolean")
    privileged_ = get("privileged")
    if privileged_ is not None and type(privileged_) is not bool:
        raise TypeError("privileged is not a boolean")
    preset_name_ = get("preset_name")
    if preset_name_ is not None and type(preset_name_) is not str:
        raise TypeError("preset_name is not a string")
    scheduler_enabled_ = get("scheduler_enabled")
    if scheduler_enabled_ is not None and type(scheduler_enabled_) is not bool:
        raise TypeError("scheduler_enabled is not a boolean")
    preemptible_node_ = get("preemptible_node")
    if preemptible_node_ is not None and type(preemptible_node_) is not bool:
        raise TypeError("preemptible_node is not a boolean")
    is_preemptible_node_required_ = get("is_preemptible_node_required")
    if (
        is_preemptible_node_required_ is not None
        and type(is_preemptible_node_required_) is not bool
    ):
        raise TypeError("is_preemptible_node_required is not a boolean")
    internal_hostname_named_ = get("internal_hostname_named")
    if internal_hostname_named_ is not None and type(internal_hostname_named_) is not str:
        raise TypeError("internal_hostname_named is not a string")
    priority_ = get("priority")
    if priority_ is not None and type(priority_) is not str:
        raise TypeError("priority is not a string")
    total_price_credits_ = get("total_price_credits")
    if total_price_credits_ is not None and type(total_price_credits_) is not str:
        raise TypeError("total_price_credits is not a string")
    price_credits_per_hour_ = get("price_credits_per_hour")
    if price_credits_per_hour_ is not None and type(price_credits_per_hour_) is not str:
        raise TypeError("price_credits_per_hour is not a string")
    statuses_ = get("statuses")
    if statuses_ is not None and type(statuses_) is not list:
        raise TypeError("statuses is not a list")
    if statuses_:
        for i, item in enumerate(statuses_):
            statuses_[i] = read_job_status_item(item, to)
    return to.job(
        id_,
        owner_,
        cluster_name_,
        status_,
        history_,
        container_,
        ssh_server_,
        ssh_auth_server_,
        is_preemptible_,
        name_,
        description_,
        http_url_,
        http_url_named_,
        internal_hostname_,
        schedule_timeout_,
        uri_,
        tags_,
        restart_policy_,
        max_run_time_minutes_,
        pass_config_,
        privileged_,
        preset_name_,
        scheduler_enabled_,
        preemptible_node_,
        is_preemptible_node_required_,
        internal_hostname_named_,
        priority_,
        total_price_credits_,
        price_credits_per_hour_,
        statuses_,
    )


def read_job_history(d: Any, to: Target) -> Any:
    """`JobHistory`: checked, then built by `to.job_history`."""
    if type(d) is not dict:
        raise TypeError("history is not a JSON object")
    get = d.get
    status_ = get("status")
    if status_ is not None and type(status_) is not str:
        raise TypeError("history.status is not a string")
    reason_ = get("reason")
    if reason_ is not None and type(reason_) is not str:
        raise TypeError("history.reason is not a string")
    description_ = get("description")
    if description_ is not None and type(description_) is not str:
        raise TypeError("history.description is not a string")
    created_at_ = get("created_at")
    if created_at_ is not None and type(created_at_) is not str:
        raise TypeError("history.created_at is not a string")
    started_at_ = get("started_at")
    if started_at_ is not None and type(started_at_) is not str:
        raise TypeError("history.started_at is not a string")
    finished_at_ = get("finished_at")
    if finished_at_ is not None and type(finished_at_) is not str:
        raise TypeError("history.finished_at is not a string")
    exit_code_ = get("exit_code")
    restarts_ = get("restarts")
    run_time_seconds_ = get("run_time_seconds")
    return to.job_history(
        status_,
        reason_,
        description_,
        created_at_,
        started_at_,
        finished_at_,
        exit_code_,
        restarts_,
        run_time_seconds_,
    )


def read_container_response(d: Any, to: Target) -> Any:
    """`ContainerResponse`: checked, then built by `to.container_response`."""
    if type(d) is not dict:
        raise TypeError("container is not a JSON object")
    get = d.get
    image_ = d["image"]
    if type(image_) is not str:
        raise TypeError("container.image is not a string")
    entrypoint_ = get("entrypoint")
    if entrypoint_ is not None and type(entrypoint_) is not str:
        raise TypeError("container.entrypoint is not a string")
    command_ = get("command")
    if command_ is not None and type(command_) is not str:
        raise TypeError("container.command is not a string")
    env_ = get("env")
    if env_ is not None and type(env_) is not dict:
        raise TypeError("container.env is not a JSON object")
    if env_ and not _STR_ONLY.issuperset(map(type, env_.values())):
        raise TypeError("container.env values must be strings")
    resources_ = read_resources_response(d["resources"], to)
    http_ = get("http")
    if http_ is not None:
        http_ = read_http_response(http_, to)
    ssh_ = get("ssh")
    if ssh_ is not None:
        ssh_ = read_ssh_port(ssh_, to)
    volumes_ = get("volumes")
    if volumes_ is not None and type(volumes_) is not list:
        raise TypeError("container.volumes is not a list")
    if volumes_:
        for i, item in enumerate(volumes_):
            volumes_[i] = read_volume_response(item, to)
    working_dir_ = get("working_dir")
    if working_dir_ is not None and type(working_dir_) is not str:
        raise TypeError("container.working_dir is not a string")
    tty_ = get("tty")
    if tty_ is not None and type(tty_) is not bool:
        raise TypeError("container.tty is not a boolean")
    return to.container_response(
        image_, entrypoint_, command_, env_, resources_, http_, ssh_, volumes_, working_dir_, tty_
    )


def read_resources_response(d: Any, to: Target) -> Any:
    """`ResourcesResponse`: checked, then built by `to.resources_response`."""
    if type(d) is not dict:
        raise TypeError("container.resources is not a JSON object")
    get = d.get
    cpu_ = d["cpu"]
    memory_mb_ = get("memory_mb")
    if memory_mb_ is None and "memory" not in d:
        raise KeyError("memory_mb")
    shm_ = get("shm")
    if shm_ is not None and type(shm_) is not bool:
        raise TypeError("container.resources.shm is not a boolean")
    gpu_ = get("gpu")
    gpu_model_ = get("gpu_model")
    if gpu_model_ is not None and type(gpu_model_) is not str:
        raise TypeError("container.resources.gpu_model is not a string")
    memory_ = get("memory")
    return to.resources_response(cpu_, memory_mb_, shm_, gpu_, gpu_model_, memory_)


def read_http_response(d: Any, to: Target) -> Any:
    """`HTTPResponse`: checked, then built by `to.http_response`."""
    if type(d) is not dict:
        raise TypeError("container.http is not a JSON object")
    get = d.get
    port_ = get("port")
    health_check_path_ = get("health_check_path")
    if health_check_path_ is not None and type(health_check_path_) is not str:
        raise TypeError("container.http.health_check_path is not a string")
    requires_auth_ = get("requires_auth")
    if requires_auth_ is not None and type(requires_auth_) is not bool:
        raise TypeError("container.http.requires_auth is not a boolean")
    return to.http_response(port_, health_check_path_, requires_auth_)


def read_ssh_port(d: Any, to: Target) -> Any:
    """`SSHPort`: checked, then built by `to.ssh_port`."""
    if type(d) is not dict:
        raise TypeError("container.ssh is not a JSON object")
    port_ = d["port"]
    return to.ssh_port(port_)


def read_volume_response(d: Any, to: Target) -> Any:
    """`VolumeResponse`: checked, then built by `to.volume_response`."""
    if type(d) is not dict:
        raise TypeError("container.volumes is not a JSON object")
    get = d.get
    src_storage_uri_ = d["src_storage_uri"]
    if type(src_storage_uri_) is not str:
        raise TypeError("container.volumes.src_storage_uri is not a string")
    dst_path_ = d["dst_path"]
    if type(dst_path_) is not str:
        raise TypeError("container.volumes.dst_path is not a string")
    read_only_ = get("read_only")
    if read_only_ is not None and type(read_only_) is not bool:
        raise TypeError("container.volumes.read_only is not a boolean")
    return to.volume_response(src_storage_uri_, dst_path_, read_only_)


def read_job_status_item(d: Any, to: Target) -> Any:
    """`JobStatusItem`: checked, then built by `to.job_status_item`."""
    if type(d) is not dict:
        raise TypeError("statuses is not a JSON object")
    get = d.get
    status_ = d["status"]
    if type(status_) is not str:
        raise TypeError("statuses.status is not a string")
    transition_time_ = d["transition_time"]
    if type(transition_time_) is not str:
        raise TypeError("statuses.transition_time is not a string")
    reason_ = get("reason")
    if reason_ is not None and type(reason_) is not str:
        raise TypeError("statuses.reason is not a string")
    description_ = get("description")
    if description_ is not None and type(description_) is not str:
        raise TypeError("statuses.description is not a string")
    exit_code_ = get("exit_code")
    return to.job_status_item(status_, transition_time_, reason_, description_, exit_code_)
