from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..types import UNSET, Unset


@_attrs_define
class HTTPResponse:
    """The 2019 SDK reads a missing `port` as -1; clients should too."""

    port: int | Unset = UNSET

    health_check_path: str | Unset = UNSET

    requires_auth: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        port = self.port

        health_check_path = self.health_check_path

        requires_auth = self.requires_auth

        field_dict: dict[str, Any] = {}
        if port is not UNSET:
            field_dict["port"] = port
        if health_check_path is not UNSET:
            field_dict["health_check_path"] = health_check_path
        if requires_auth is not UNSET:
            field_dict["requires_auth"] = requires_auth
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        port = d.get("port", UNSET)
        health_check_path = d.get("health_check_path", UNSET)
        requires_auth = d.get("requires_auth", UNSET)
        http_response = cls(
            port,
            health_check_path,
            requires_auth,
        )
        return http_response
