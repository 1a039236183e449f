from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


@_attrs_define
class SaveProgressAux:
    """SaveProgressAux (no description in the spec)."""

    tag: str | Unset = UNSET

    digest: str | Unset = UNSET

    size: int | Unset = UNSET

    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        tag = self.tag

        digest = self.digest

        size = self.size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        if tag is not UNSET:
            field_dict["Tag"] = tag
        if digest is not UNSET:
            field_dict["Digest"] = digest
        if size is not UNSET:
            field_dict["Size"] = size
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        tag = d.pop("Tag", UNSET)
        digest = d.pop("Digest", UNSET)
        size = d.pop("Size", UNSET)
        save_progress_aux = cls(
            tag,
            digest,
            size,
        )
        save_progress_aux.additional_properties = d
        return save_progress_aux

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
