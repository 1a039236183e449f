from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..models.container_response import ContainerResponse
from ..models.job_history import JobHistory
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
        )
        return job
