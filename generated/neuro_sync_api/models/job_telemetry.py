from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


@_attrs_define
class JobTelemetry:
    """One `top` WebSocket text frame."""

    cpu: float
    """ CPU usage in cores. """

    memory: float
    """ Working-set memory, MiB. """

    timestamp: float
    """ Unix epoch seconds of the sample. """

    gpu_duty_cycle: int | Unset = UNSET
    """ Percent; GPU containers only. """

    gpu_memory: float | Unset = UNSET
    """ GPU memory used; GPU containers only. """

    memory_bytes: int | Unset = UNSET
    """ Working-set memory in bytes (required by neuro-sdk 22.7). """

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu = self.cpu

        memory = self.memory

        timestamp = self.timestamp

        gpu_duty_cycle = self.gpu_duty_cycle

        gpu_memory = self.gpu_memory

        memory_bytes = self.memory_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict["cpu"] = cpu
        field_dict["memory"] = memory
        field_dict["timestamp"] = timestamp
        if gpu_duty_cycle is not UNSET:
            field_dict["gpu_duty_cycle"] = gpu_duty_cycle
        if gpu_memory is not UNSET:
            field_dict["gpu_memory"] = gpu_memory
        if memory_bytes is not UNSET:
            field_dict["memory_bytes"] = memory_bytes
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        cpu = d.pop("cpu")
        memory = d.pop("memory")
        timestamp = d.pop("timestamp")
        gpu_duty_cycle = d.pop("gpu_duty_cycle", UNSET)
        gpu_memory = d.pop("gpu_memory", UNSET)
        memory_bytes = d.pop("memory_bytes", UNSET)
        job_telemetry = cls(
            cpu,
            memory,
            timestamp,
            gpu_duty_cycle,
            gpu_memory,
            memory_bytes,
        )
        job_telemetry.additional_properties = d
        return job_telemetry

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
