from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..types import UNSET, Unset


@_attrs_define
class ResourcesResponse:
    """ResourcesResponse (no description in the spec)."""

    cpu: float

    memory_mb: int

    shm: bool | Unset = UNSET

    gpu: int | Unset = UNSET

    gpu_model: str | Unset = UNSET

    memory: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cpu = self.cpu

        memory_mb = self.memory_mb

        shm = self.shm

        gpu = self.gpu

        gpu_model = self.gpu_model

        memory = self.memory

        field_dict: dict[str, Any] = {}
        field_dict["cpu"] = cpu
        field_dict["memory_mb"] = memory_mb
        if shm is not UNSET:
            field_dict["shm"] = shm
        if gpu is not UNSET:
            field_dict["gpu"] = gpu
        if gpu_model is not UNSET:
            field_dict["gpu_model"] = gpu_model
        if memory is not UNSET:
            field_dict["memory"] = memory
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        cpu = d["cpu"]
        memory_mb = d["memory_mb"]
        shm = d.get("shm", UNSET)
        gpu = d.get("gpu", UNSET)
        gpu_model = d.get("gpu_model", UNSET)
        memory = d.get("memory", UNSET)
        resources_response = cls(
            cpu,
            memory_mb,
            shm,
            gpu,
            gpu_model,
            memory,
        )
        return resources_response
