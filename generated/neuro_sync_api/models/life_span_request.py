from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from attrs import define as _attrs_define

from ..types import UNSET, Unset


@_attrs_define
class LifeSpanRequest:
    """Exactly one of the two."""

    max_run_time_minutes: int | Unset = UNSET

    additional_max_run_time_minutes: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        max_run_time_minutes = self.max_run_time_minutes

        additional_max_run_time_minutes = self.additional_max_run_time_minutes

        field_dict: dict[str, Any] = {}
        if max_run_time_minutes is not UNSET:
            field_dict["max_run_time_minutes"] = max_run_time_minutes
        if additional_max_run_time_minutes is not UNSET:
            field_dict["additional_max_run_time_minutes"] = additional_max_run_time_minutes
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        max_run_time_minutes = d.get("max_run_time_minutes", UNSET)
        additional_max_run_time_minutes = d.get("additional_max_run_time_minutes", UNSET)
        life_span_request = cls(
            max_run_time_minutes,
            additional_max_run_time_minutes,
        )
        return life_span_request
