from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


@_attrs_define
class ResourcePreset:
    """ResourcePreset (no description in the spec)."""

    name: str

    cpu: float

    memory_mb: int

    is_preemptible: bool | Unset = UNSET

    gpu: int | Unset = UNSET

    gpu_model: str | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        cpu = self.cpu

        memory_mb = self.memory_mb

        is_preemptible = self.is_preemptible

        gpu = self.gpu

        gpu_model = self.gpu_model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict["name"] = name
        field_dict["cpu"] = cpu
        field_dict["memory_mb"] = memory_mb
        if is_preemptible is not UNSET:
            field_dict["is_preemptible"] = is_preemptible
        if gpu is not UNSET:
            field_dict["gpu"] = gpu
        if gpu_model is not UNSET:
            field_dict["gpu_model"] = gpu_model
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")
        cpu = d.pop("cpu")
        memory_mb = d.pop("memory_mb")
        is_preemptible = d.pop("is_preemptible", UNSET)
        gpu = d.pop("gpu", UNSET)
        gpu_model = d.pop("gpu_model", UNSET)
        resource_preset = cls(
            name,
            cpu,
            memory_mb,
            is_preemptible,
            gpu,
            gpu_model,
        )
        resource_preset.additional_properties = d
        return resource_preset

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
