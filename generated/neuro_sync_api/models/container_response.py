from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.container_response_env import ContainerResponseEnv
    from ..models.http_response import HTTPResponse
    from ..models.resources_response import ResourcesResponse
    from ..models.ssh_port import SSHPort
    from ..models.volume_response import VolumeResponse


T = TypeVar("T", bound="ContainerResponse")


@_attrs_define
class ContainerResponse:
    image: str
    resources: ResourcesResponse
    entrypoint: str | Unset = UNSET
    command: str | Unset = UNSET
    env: ContainerResponseEnv | Unset = UNSET
    http: HTTPResponse | Unset = UNSET
    ssh: SSHPort | Unset = UNSET
    volumes: list[VolumeResponse] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image": image,
                "resources": resources,
            }
        )
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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.container_response_env import ContainerResponseEnv  # noqa: PLC0415
        from ..models.http_response import HTTPResponse  # noqa: PLC0415
        from ..models.resources_response import ResourcesResponse  # noqa: PLC0415
        from ..models.ssh_port import SSHPort  # noqa: PLC0415
        from ..models.volume_response import VolumeResponse  # noqa: PLC0415

        d = dict(src_dict)
        image = d.pop("image")

        resources = ResourcesResponse.from_dict(d.pop("resources"))

        entrypoint = d.pop("entrypoint", UNSET)

        command = d.pop("command", UNSET)

        _env = d.pop("env", UNSET)
        env: ContainerResponseEnv | Unset
        if isinstance(_env, Unset):
            env = UNSET
        else:
            env = ContainerResponseEnv.from_dict(_env)

        _http = d.pop("http", UNSET)
        http: HTTPResponse | Unset
        if isinstance(_http, Unset):
            http = UNSET
        else:
            http = HTTPResponse.from_dict(_http)

        _ssh = d.pop("ssh", UNSET)
        ssh: SSHPort | Unset
        if isinstance(_ssh, Unset):
            ssh = UNSET
        else:
            ssh = SSHPort.from_dict(_ssh)

        _volumes = d.pop("volumes", UNSET)
        volumes: list[VolumeResponse] | Unset = UNSET
        if _volumes is not UNSET:
            volumes = []
            for volumes_item_data in _volumes:
                volumes_item = VolumeResponse.from_dict(volumes_item_data)

                volumes.append(volumes_item)

        container_response = cls(
            image=image,
            resources=resources,
            entrypoint=entrypoint,
            command=command,
            env=env,
            http=http,
            ssh=ssh,
            volumes=volumes,
        )

        container_response.additional_properties = d
        return container_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
