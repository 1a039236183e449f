from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, cast

from attrs import define as _attrs_define

from ..models.container_request import ContainerRequest
from ..types import UNSET, Unset


@_attrs_define
class JobRequest:
    """JobRequest (no description in the spec)."""

    container: ContainerRequest

    name: None | str | Unset = UNSET
    """ Omit (or null) for an unnamed job. """

    description: str | Unset = UNSET

    is_preemptible: bool | Unset = False

    schedule_timeout: float | Unset = UNSET
    """ Seconds a job may stay unschedulable before it fails. """

    def to_dict(self) -> dict[str, Any]:
        container = self.container.to_dict()

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        description = self.description

        is_preemptible = self.is_preemptible

        schedule_timeout = self.schedule_timeout

        field_dict: dict[str, Any] = {}
        field_dict["container"] = container
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if is_preemptible is not UNSET:
            field_dict["is_preemptible"] = is_preemptible
        if schedule_timeout is not UNSET:
            field_dict["schedule_timeout"] = schedule_timeout
        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = src_dict
        container = ContainerRequest.from_dict(d["container"])

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.get("name", UNSET))

        description = d.get("description", UNSET)
        is_preemptible = d.get("is_preemptible", UNSET)
        schedule_timeout = d.get("schedule_timeout", UNSET)
        job_request = cls(
            container,
            name,
            description,
            is_preemptible,
            schedule_timeout,
        )
        return job_request
