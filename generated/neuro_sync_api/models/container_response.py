from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..models.container_response_env import ContainerResponseEnv
from ..models.http_response import HTTPResponse
from ..models.resources_response import ResourcesResponse
from ..models.ssh_port import SSHPort
from ..models.volume_response import VolumeResponse
from ..types import UNSET, Unset


@_attrs_define
class ContainerResponse:
    """ContainerResponse (no description in the spec)."""

    image: str

    resources: ResourcesResponse

    entrypoint: str | Unset = UNSET

    command: str | Unset = UNSET

    env: ContainerResponseEnv | Unset = UNSET

    http: HTTPResponse | Unset = UNSET
    """ The 2019 SDK reads a missing `port` as -1; clients should too. """

    ssh: SSHPort | Unset = UNSET

    volumes: list[VolumeResponse] | Unset = UNSET

    working_dir: str | Unset = UNSET

    tty: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        resources = self.resources.to_dict()

        entrypoint = self.entrypoint

        command = self.command

        env: dict[str, Any] | Unset = UNSET
        if not isinstance(self.env, Unset):
            env = self.env.to_dict()

        http: dict[str, Any] | Unset = UNSET
        if not isinstance(self.http, Unset):
            http = self.http.to_dict()

        ssh: dict[str, Any] | Unset = UNSET
        if not isinstance(self.ssh, Unset):
            ssh = self.ssh.to_dict()

        volumes: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.volumes, Unset):
            volumes = []
            for volumes_item_data in self.volumes:
                volumes_item = volumes_item_data.to_dict()
                volumes.append(volumes_item)

        working_dir = self.working_dir

        tty = self.tty

        field_dict: dict[str, Any] = {}
        field_dict["image"] = image
        field_dict["resources"] = resources
        if entrypoint is not UNSET:
            field_dict["entrypoint"] = entrypoint
        if command is not UNSET:
            field_dict["command"] = command
        if env is not UNSET:
            field_dict["env"] = env
        if http is not UNSET:
            field_dict["http"] = http
        if ssh is not UNSET:
            field_dict["ssh"] = ssh
        if volumes is not UNSET:
            field_dict["volumes"] = volumes
        if working_dir is not UNSET:
            field_dict["working_dir"] = working_dir
        if tty is not UNSET:
            field_dict["tty"] = tty
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        image = d["image"]
        resources = ResourcesResponse.from_dict(d["resources"])

        entrypoint = d.get("entrypoint", UNSET)
        command = d.get("command", UNSET)
        _env = d.get("env", UNSET)
        env: ContainerResponseEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = ContainerResponseEnv.from_dict(_env)

        _http = d.get("http", UNSET)
        http: HTTPResponse | Unset
        if isinstance(_http, Unset):
            http = UNSET
        else:
            http = HTTPResponse.from_dict(_http)

        _ssh = d.get("ssh", UNSET)
        ssh: SSHPort | Unset
        if isinstance(_ssh, Unset):
            ssh = UNSET
        else:
            ssh = SSHPort.from_dict(_ssh)

        _volumes = d.get("volumes", UNSET)
        volumes: list[VolumeResponse] | Unset = UNSET
        if _volumes is not UNSET:
            volumes = []
            for volumes_item_data in _volumes:
                volumes_item = VolumeResponse.from_dict(volumes_item_data)

                volumes.append(volumes_item)

        working_dir = d.get("working_dir", UNSET)
        tty = d.get("tty", UNSET)
        container_response = cls(
            image,
            resources,
            entrypoint,
            command,
            env,
            http,
            ssh,
            volumes,
            working_dir,
            tty,
        )
        return container_response
