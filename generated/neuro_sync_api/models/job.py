from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, cast

from attrs import define as _attrs_define

from ..models.container_response import ContainerResponse
from ..models.job_history import JobHistory
from ..models.job_status_item import JobStatusItem
from ..types import UNSET, Unset


@_attrs_define
class Job:
    """A job as the 2019 server sends it (it sends no other fields; newer servers do, and
    clients ignore them). `status` is a plain string on purpose: newer servers send values
    (`cancelled`, `suspended`) that a client must tolerate.
    """

    id: str

    owner: str

    status: str
    """ pending, running, succeeded or failed. """

    history: JobHistory
    """ `reason` and `description` are always present, null when unset. """

    container: ContainerResponse

    is_preemptible: bool

    cluster_name: str | Unset = UNSET

    ssh_server: str | Unset = UNSET

    ssh_auth_server: str | Unset = UNSET
    """ Deprecated duplicate of `ssh_server`. """

    name: str | Unset = UNSET

    description: str | Unset = UNSET

    http_url: str | Unset = UNSET

    http_url_named: str | Unset = UNSET

    internal_hostname: str | Unset = UNSET

    schedule_timeout: float | Unset = UNSET

    uri: str | Unset = UNSET

    tags: list[str] | Unset = UNSET

    restart_policy: str | Unset = UNSET

    max_run_time_minutes: int | Unset = UNSET

    pass_config: bool | Unset = UNSET

    privileged: bool | Unset = UNSET

    preset_name: str | Unset = UNSET

    scheduler_enabled: bool | Unset = UNSET

    preemptible_node: bool | Unset = UNSET

    is_preemptible_node_required: bool | Unset = UNSET

    internal_hostname_named: str | Unset = UNSET

    priority: str | Unset = UNSET

    total_price_credits: str | Unset = UNSET
    """ A decimal number as a string. """

    price_credits_per_hour: str | Unset = UNSET

    statuses: list[JobStatusItem] | Unset = UNSET
    """ Every status change, oldest first. """

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        owner = self.owner

        status = self.status

        history = self.history.to_dict()

        container = self.container.to_dict()

        is_preemptible = self.is_preemptible

        cluster_name = self.cluster_name

        ssh_server = self.ssh_server

        ssh_auth_server = self.ssh_auth_server

        name = self.name

        description = self.description

        http_url = self.http_url

        http_url_named = self.http_url_named

        internal_hostname = self.internal_hostname

        schedule_timeout = self.schedule_timeout

        uri = self.uri

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        restart_policy = self.restart_policy

        max_run_time_minutes = self.max_run_time_minutes

        pass_config = self.pass_config

        privileged = self.privileged

        preset_name = self.preset_name

        scheduler_enabled = self.scheduler_enabled

        preemptible_node = self.preemptible_node

        is_preemptible_node_required = self.is_preemptible_node_required

        internal_hostname_named = self.internal_hostname_named

        priority = self.priority

        total_price_credits = self.total_price_credits

        price_credits_per_hour = self.price_credits_per_hour

        statuses: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.statuses, Unset):
            statuses = []
            for statuses_item_data in self.statuses:
                statuses_item = statuses_item_data.to_dict()
                statuses.append(statuses_item)

        field_dict: dict[str, Any] = {}
        field_dict["id"] = id
        field_dict["owner"] = owner
        field_dict["status"] = status
        field_dict["history"] = history
        field_dict["container"] = container
        field_dict["is_preemptible"] = is_preemptible
        if cluster_name is not UNSET:
            field_dict["cluster_name"] = cluster_name
        if ssh_server is not UNSET:
            field_dict["ssh_server"] = ssh_server
        if ssh_auth_server is not UNSET:
            field_dict["ssh_auth_server"] = ssh_auth_server
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if http_url is not UNSET:
            field_dict["http_url"] = http_url
        if http_url_named is not UNSET:
            field_dict["http_url_named"] = http_url_named
        if internal_hostname is not UNSET:
            field_dict["internal_hostname"] = internal_hostname
        if schedule_timeout is not UNSET:
            field_dict["schedule_timeout"] = schedule_timeout
        if uri is not UNSET:
            field_dict["uri"] = uri
        if tags is not UNSET:
            field_dict["tags"] = tags
        if restart_policy is not UNSET:
            field_dict["restart_policy"] = restart_policy
        if max_run_time_minutes is not UNSET:
            field_dict["max_run_time_minutes"] = max_run_time_minutes
        if pass_config is not UNSET:
            field_dict["pass_config"] = pass_config
        if privileged is not UNSET:
            field_dict["privileged"] = privileged
        if preset_name is not UNSET:
            field_dict["preset_name"] = preset_name
        if scheduler_enabled is not UNSET:
            field_dict["scheduler_enabled"] = scheduler_enabled
        if preemptible_node is not UNSET:
            field_dict["preemptible_node"] = preemptible_node
        if is_preemptible_node_required is not UNSET:
            field_dict["is_preemptible_node_required"] = is_preemptible_node_required
        if internal_hostname_named is not UNSET:
            field_dict["internal_hostname_named"] = internal_hostname_named
        if priority is not UNSET:
            field_dict["priority"] = priority
        if total_price_credits is not UNSET:
            field_dict["total_price_credits"] = total_price_credits
        if price_credits_per_hour is not UNSET:
            field_dict["price_credits_per_hour"] = price_credits_per_hour
        if statuses is not UNSET:
            field_dict["statuses"] = statuses
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        id = d["id"]
        owner = d["owner"]
        status = d["status"]
        history = JobHistory.from_dict(d["history"])

        container = ContainerResponse.from_dict(d["container"])

        is_preemptible = d["is_preemptible"]
        cluster_name = d.get("cluster_name", UNSET)
        ssh_server = d.get("ssh_server", UNSET)
        ssh_auth_server = d.get("ssh_auth_server", UNSET)
        name = d.get("name", UNSET)
        description = d.get("description", UNSET)
        http_url = d.get("http_url", UNSET)
        http_url_named = d.get("http_url_named", UNSET)
        internal_hostname = d.get("internal_hostname", UNSET)
        schedule_timeout = d.get("schedule_timeout", UNSET)
        uri = d.get("uri", UNSET)
        tags = cast(list[str], d.get("tags", UNSET))

        restart_policy = d.get("restart_policy", UNSET)
        max_run_time_minutes = d.get("max_run_time_minutes", UNSET)
        pass_config = d.get("pass_config", UNSET)
        privileged = d.get("privileged", UNSET)
        preset_name = d.get("preset_name", UNSET)
        scheduler_enabled = d.get("scheduler_enabled", UNSET)
        preemptible_node = d.get("preemptible_node", UNSET)
        is_preemptible_node_required = d.get("is_preemptible_node_required", UNSET)
        internal_hostname_named = d.get("internal_hostname_named", UNSET)
        priority = d.get("priority", UNSET)
        total_price_credits = d.get("total_price_credits", UNSET)
        price_credits_per_hour = d.get("price_credits_per_hour", UNSET)
        _statuses = d.get("statuses", UNSET)
        statuses: list[JobStatusItem] | Unset = UNSET
        if _statuses is not UNSET:
            statuses = []
            for statuses_item_data in _statuses:
                statuses_item = JobStatusItem.from_dict(statuses_item_data)

                statuses.append(statuses_item)

        job = cls(
            id,
            owner,
            status,
            history,
            container,
            is_preemptible,
            cluster_name,
            ssh_server,
            ssh_auth_server,
            name,
            description,
            http_url,
            http_url_named,
            internal_hostname,
            schedule_timeout,
            uri,
            tags,
            restart_policy,
            max_run_time_minutes,
            pass_config,
            privileged,
            preset_name,
            scheduler_enabled,
            preemptible_node,
            is_preemptible_node_required,
            internal_hostname_named,
            priority,
            total_price_credits,
            price_credits_per_hour,
            statuses,
        )
        return job
