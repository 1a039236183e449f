from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


@_attrs_define
class SaveProgressDetails:
    """SaveProgressDetails (no description in the spec)."""

    container: str | Unset = UNSET

    image: str | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        container = self.container

        image = self.image

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        if container is not UNSET:
            field_dict["container"] = container
        if image is not UNSET:
            field_dict["image"] = image
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        container = d.pop("container", UNSET)
        image = d.pop("image", UNSET)
        save_progress_details = cls(
            container,
            image,
        )
        save_progress_details.additional_properties = d
        return save_progress_details

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
