from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.resource_preset_2022 import ResourcePreset2022
from ..types import UNSET, Unset


@_attrs_define
class ClusterConfig:
    """ClusterConfig (no description in the spec)."""

    name: str

    monitoring_url: str

    resource_presets: list[ResourcePreset2022]

    registry_url: str | Unset = UNSET

    storage_url: str | Unset = UNSET

    users_url: str | Unset = UNSET

    secrets_url: str | Unset = UNSET

    disks_url: str | Unset = UNSET

    buckets_url: str | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        monitoring_url = self.monitoring_url

        resource_presets = []
        for resource_presets_item_data in self.resource_presets:
            resource_presets_item = resource_presets_item_data.to_dict()
            resource_presets.append(resource_presets_item)

        registry_url = self.registry_url

        storage_url = self.storage_url

        users_url = self.users_url

        secrets_url = self.secrets_url

        disks_url = self.disks_url

        buckets_url = self.buckets_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict["name"] = name
        field_dict["monitoring_url"] = monitoring_url
        field_dict["resource_presets"] = resource_presets
        if registry_url is not UNSET:
            field_dict["registry_url"] = registry_url
        if storage_url is not UNSET:
            field_dict["storage_url"] = storage_url
        if users_url is not UNSET:
            field_dict["users_url"] = users_url
        if secrets_url is not UNSET:
            field_dict["secrets_url"] = secrets_url
        if disks_url is not UNSET:
            field_dict["disks_url"] = disks_url
        if buckets_url is not UNSET:
            field_dict["buckets_url"] = buckets_url
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")
        monitoring_url = d.pop("monitoring_url")
        resource_presets = []
        _resource_presets = d.pop("resource_presets")
        for resource_presets_item_data in _resource_presets:
            resource_presets_item = ResourcePreset2022.from_dict(resource_presets_item_data)

            resource_presets.append(resource_presets_item)

        registry_url = d.pop("registry_url", UNSET)
        storage_url = d.pop("storage_url", UNSET)
        users_url = d.pop("users_url", UNSET)
        secrets_url = d.pop("secrets_url", UNSET)
        disks_url = d.pop("disks_url", UNSET)
        buckets_url = d.pop("buckets_url", UNSET)
        cluster_config = cls(
            name,
            monitoring_url,
            resource_presets,
            registry_url,
            storage_url,
            users_url,
            secrets_url,
            disks_url,
            buckets_url,
        )
        cluster_config.additional_properties = d
        return cluster_config

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
