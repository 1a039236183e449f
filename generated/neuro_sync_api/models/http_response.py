from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HTTPResponse")


@_attrs_define
class HTTPResponse:
    port: int
    health_check_path: str | Unset = UNSET
    requires_auth: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        health_check_path = self.health_check_path

        requires_auth = self.requires_auth

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "port": port,
            }
        )
        if health_check_path is not UNSET:
            field_dict["health_check_path"] = health_check_path
        if requires_auth is not UNSET:
            field_dict["requires_auth"] = requires_auth

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        port = d.pop("port")

        health_check_path = d.pop("health_check_path", UNSET)

        requires_auth = d.pop("requires_auth", UNSET)

        http_response = cls(
            port=port,
            health_check_path=health_check_path,
            requires_auth=requires_auth,
        )

        http_response.additional_properties = d
        return http_response

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
