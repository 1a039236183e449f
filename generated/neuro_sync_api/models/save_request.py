from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.save_container import SaveContainer


T = TypeVar("T", bound="SaveRequest")


@_attrs_define
class SaveRequest:
    container: SaveContainer

    def to_dict(self) -> dict[str, Any]:
        container = self.container.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "container": container,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.save_container import SaveContainer  # noqa: PLC0415

        d = dict(src_dict)
        container = SaveContainer.from_dict(d.pop("container"))

        save_request = cls(
            container=container,
        )

        return save_request
