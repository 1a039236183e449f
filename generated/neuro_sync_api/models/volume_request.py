from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VolumeRequest")


@_attrs_define
class VolumeRequest:
    src_storage_uri: str
    """ Scheme `storage`, no `..` in the path. """
    dst_path: str
    """ Absolute, no `..`. """
    read_only: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        src_storage_uri = self.src_storage_uri

        dst_path = self.dst_path

        read_only = self.read_only

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "src_storage_uri": src_storage_uri,
                "dst_path": dst_path,
            }
        )
        if read_only is not UNSET:
            field_dict["read_only"] = read_only

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        src_storage_uri = d.pop("src_storage_uri")

        dst_path = d.pop("dst_path")

        read_only = d.pop("read_only", UNSET)

        volume_request = cls(
            src_storage_uri=src_storage_uri,
            dst_path=dst_path,
            read_only=read_only,
        )

        return volume_request
