from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define


@_attrs_define
class SaveContainer:
    """SaveContainer (no description in the spec)."""

    image: str
    """ `{registry host}/{owner}/{name}:{tag}`. """

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        field_dict: dict[str, Any] = {}
        field_dict["image"] = image
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        image = d["image"]
        save_container = cls(
            image,
        )
        return save_container
