from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..types import UNSET, Unset


@_attrs_define
class HTTPRequest:
    """HTTPRequest (no description in the spec)."""

    port: int

    health_check_path: str | Unset = "/"

    requires_auth: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        health_check_path = self.health_check_path

        requires_auth = self.requires_auth

        field_dict: dict[str, Any] = {}
        field_dict["port"] = port
        if health_check_path is not UNSET:
            field_dict["health_check_path"] = health_check_path
        if requires_auth is not UNSET:
            field_dict["requires_auth"] = requires_auth
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        port = d["port"]
        health_check_path = d.get("health_check_path", UNSET)
        requires_auth = d.get("requires_auth", UNSET)
        http_request = cls(
            port,
            health_check_path,
            requires_auth,
        )
        return http_request
