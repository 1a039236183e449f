from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ResourcesResponse")


@_attrs_define
class ResourcesResponse:
    cpu: float
    memory_mb: int
    shm: bool | Unset = UNSET
    gpu: int | Unset = UNSET
    gpu_model: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu = self.cpu

        memory_mb = self.memory_mb

        shm = self.shm

        gpu = self.gpu

        gpu_model = self.gpu_model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu": cpu,
                "memory_mb": memory_mb,
            }
        )
        if shm is not UNSET:
            field_dict["shm"] = shm
        if gpu is not UNSET:
            field_dict["gpu"] = gpu
        if gpu_model is not UNSET:
            field_dict["gpu_model"] = gpu_model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cpu = d.pop("cpu")

        memory_mb = d.pop("memory_mb")

        shm = d.pop("shm", UNSET)

        gpu = d.pop("gpu", UNSET)

        gpu_model = d.pop("gpu_model", UNSET)

        resources_response = cls(
            cpu=cpu,
            memory_mb=memory_mb,
            shm=shm,
            gpu=gpu,
            gpu_model=gpu_model,
        )

        resources_response.additional_properties = d
        return resources_response

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
