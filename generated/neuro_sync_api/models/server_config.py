from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.cluster_config import ClusterConfig
from ..models.resource_preset import ResourcePreset
from ..types import UNSET, Unset


@_attrs_define
class ServerConfig:
    """ServerConfig (no description in the spec)."""

    auth_url: str | Unset = UNSET

    token_url: str | Unset = UNSET

    client_id: str | Unset = UNSET

    audience: str | Unset = UNSET

    callback_urls: list[str] | Unset = UNSET

    headless_callback_url: str | Unset = UNSET

    success_redirect_url: str | Unset = UNSET

    registry_url: str | Unset = UNSET

    storage_url: str | Unset = UNSET

    users_url: str | Unset = UNSET

    monitoring_url: str | Unset = UNSET

    resource_presets: list[ResourcePreset] | Unset = UNSET

    logout_url: str | Unset = UNSET

    authorized: bool | Unset = UNSET
    """ The request carried a token the server accepts. """

    clusters: list[ClusterConfig] | Unset = UNSET
    """ The 2022 form of the cluster part (instead of the 2019 top-level keys). """

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        auth_url = self.auth_url

        token_url = self.token_url

        client_id = self.client_id

        audience = self.audience

        callback_urls: list[str] | Unset = UNSET
        if not isinstance(self.callback_urls, Unset):
            callback_urls = self.callback_urls

        headless_callback_url = self.headless_callback_url

        success_redirect_url = self.success_redirect_url

        registry_url = self.registry_url

        storage_url = self.storage_url

        users_url = self.users_url

        monitoring_url = self.monitoring_url

        resource_presets: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.resource_presets, Unset):
            resource_presets = []
            for resource_presets_item_data in self.resource_presets:
                resource_presets_item = resource_presets_item_data.to_dict()
                resource_presets.append(resource_presets_item)

        logout_url = self.logout_url

        authorized = self.authorized

        clusters: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.clusters, Unset):
            clusters = []
            for clusters_item_data in self.clusters:
                clusters_item = clusters_item_data.to_dict()
                clusters.append(clusters_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        if auth_url is not UNSET:
            field_dict["auth_url"] = auth_url
        if token_url is not UNSET:
            field_dict["token_url"] = token_url
        if client_id is not UNSET:
            field_dict["client_id"] = client_id
        if audience is not UNSET:
            field_dict["audience"] = audience
        if callback_urls is not UNSET:
            field_dict["callback_urls"] = callback_urls
        if headless_callback_url is not UNSET:
            field_dict["headless_callback_url"] = headless_callback_url
        if success_redirect_url is not UNSET:
            field_dict["success_redirect_url"] = success_redirect_url
        if registry_url is not UNSET:
            field_dict["registry_url"] = registry_url
        if storage_url is not UNSET:
            field_dict["storage_url"] = storage_url
        if users_url is not UNSET:
            field_dict["users_url"] = users_url
        if monitoring_url is not UNSET:
            field_dict["monitoring_url"] = monitoring_url
        if resource_presets is not UNSET:
            field_dict["resource_presets"] = resource_presets
        if logout_url is not UNSET:
            field_dict["logout_url"] = logout_url
        if authorized is not UNSET:
            field_dict["authorized"] = authorized
        if clusters is not UNSET:
            field_dict["clusters"] = clusters
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        auth_url = d.pop("auth_url", UNSET)
        token_url = d.pop("token_url", UNSET)
        client_id = d.pop("client_id", UNSET)
        audience = d.pop("audience", UNSET)
        callback_urls = cast(list[str], d.pop("callback_urls", UNSET))

        headless_callback_url = d.pop("headless_callback_url", UNSET)
        success_redirect_url = d.pop("success_redirect_url", UNSET)
        registry_url = d.pop("registry_url", UNSET)
        storage_url = d.pop("storage_url", UNSET)
        users_url = d.pop("users_url", UNSET)
        monitoring_url = d.pop("monitoring_url", UNSET)
        _resource_presets = d.pop("resource_presets", UNSET)
        resource_presets: list[ResourcePreset] | Unset = UNSET
        if _resource_presets is not UNSET:
            resource_presets = []
            for resource_presets_item_data in _resource_presets:
                resource_presets_item = ResourcePreset.from_dict(resource_presets_item_data)

                resource_presets.append(resource_presets_item)

        logout_url = d.pop("logout_url", UNSET)
        authorized = d.pop("authorized", UNSET)
        _clusters = d.pop("clusters", UNSET)
        clusters: list[ClusterConfig] | Unset = UNSET
        if _clusters is not UNSET:
            clusters = []
            for clusters_item_data in _clusters:
                clusters_item = ClusterConfig.from_dict(clusters_item_data)

                clusters.append(clusters_item)

        server_config = cls(
            auth_url,
            token_url,
            client_id,
            audience,
            callback_urls,
            headless_callback_url,
            success_redirect_url,
            registry_url,
            storage_url,
            users_url,
            monitoring_url,
            resource_presets,
            logout_url,
            authorized,
            clusters,
        )
        server_config.additional_properties = d
        return server_config

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
