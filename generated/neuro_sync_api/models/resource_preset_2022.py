from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


@_attrs_define
class ResourcePreset2022:
    """ResourcePreset2022 (no description in the spec)."""

    name: str

    cpu: float

    memory: int
    """ Bytes. """

    credits_per_hour: str | Unset = UNSET

    scheduler_enabled: bool | Unset = UNSET

    preemptible_node: bool | Unset = UNSET

    gpu: int | Unset = UNSET

    gpu_model: str | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        cpu = self.cpu

        memory = self.memory

        credits_per_hour = self.credits_per_hour

        scheduler_enabled = self.scheduler_enabled

        preemptible_node = self.preemptible_node

        gpu = self.gpu

        gpu_model = self.gpu_model

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict["name"] = name
        field_dict["cpu"] = cpu
        field_dict["memory"] = memory
        if credits_per_hour is not UNSET:
            field_dict["credits_per_hour"] = credits_per_hour
        if scheduler_enabled is not UNSET:
            field_dict["scheduler_enabled"] = scheduler_enabled
        if preemptible_node is not UNSET:
            field_dict["preemptible_node"] = preemptible_node
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
        memory = d.pop("memory")
        credits_per_hour = d.pop("credits_per_hour", UNSET)
        scheduler_enabled = d.pop("scheduler_enabled", UNSET)
        preemptible_node = d.pop("preemptible_node", UNSET)
        gpu = d.pop("gpu", UNSET)
        gpu_model = d.pop("gpu_model", UNSET)
        resource_preset_2022 = cls(
            name,
            cpu,
            memory,
            credits_per_hour,
            scheduler_enabled,
            preemptible_node,
            gpu,
            gpu_model,
        )
        resource_preset_2022.additional_properties = d
        return resource_preset_2022

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
