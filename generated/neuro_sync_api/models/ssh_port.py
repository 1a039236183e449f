from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define


@_attrs_define
class SSHPort:
    """SSHPort (no description in the spec)."""

    port: int

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        field_dict: dict[str, Any] = {}
        field_dict["port"] = port
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        port = d["port"]
        ssh_port = cls(
            port,
        )
        return ssh_port
