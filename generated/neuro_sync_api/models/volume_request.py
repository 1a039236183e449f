from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..types import UNSET, Unset


@_attrs_define
class VolumeRequest:
    """VolumeRequest (no description in the spec)."""

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
        field_dict["src_storage_uri"] = src_storage_uri
        field_dict["dst_path"] = dst_path
        if read_only is not UNSET:
            field_dict["read_only"] = read_only
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        src_storage_uri = d["src_storage_uri"]
        dst_path = d["dst_path"]
        read_only = d.get("read_only", UNSET)
        volume_request = cls(
            src_storage_uri,
            dst_path,
            read_only,
        )
        return volume_request
