from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..models.save_container import SaveContainer


@_attrs_define
class SaveRequest:
    """SaveRequest (no description in the spec)."""

    container: SaveContainer

    def to_dict(self) -> dict[str, Any]:
        container = self.container.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict["container"] = container
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        container = SaveContainer.from_dict(d["container"])

        save_request = cls(
            container,
        )
        return save_request
