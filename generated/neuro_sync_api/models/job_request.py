from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, cast

from attrs import define as _attrs_define

from ..models.container_request import ContainerRequest
from ..models.job_request_priority import JobRequestPriority, check_job_request_priority
from ..models.job_request_restart_policy import (
    JobRequestRestartPolicy,
    check_job_request_restart_policy,
)
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

    tags: list[str] | Unset = UNSET
    """ The server drops repeats and sorts them. """

    restart_policy: JobRequestRestartPolicy | Unset = UNSET
    """ `never` when absent. """

    max_run_time_minutes: int | Unset = UNSET
    """ The life span; the job is cancelled (`LifeSpanEnded`) this long after it started. """

    pass_config: bool | Unset = UNSET
    """ Give the job `NEURO_PASSED_CONFIG`, a login for its owner. """

    wait_for_jobs_quota: bool | Unset = UNSET

    privileged: bool | Unset = UNSET

    preset_name: str | Unset = UNSET

    scheduler_enabled: bool | Unset = UNSET
    """ The 2022 name of `is_preemptible`. """

    preemptible_node: bool | Unset = UNSET

    cluster_name: str | Unset = UNSET

    priority: JobRequestPriority | Unset = UNSET

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

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        restart_policy: str | Unset = UNSET
        if not isinstance(self.restart_policy, Unset):
            restart_policy = self.restart_policy

        max_run_time_minutes = self.max_run_time_minutes

        pass_config = self.pass_config

        wait_for_jobs_quota = self.wait_for_jobs_quota

        privileged = self.privileged

        preset_name = self.preset_name

        scheduler_enabled = self.scheduler_enabled

        preemptible_node = self.preemptible_node

        cluster_name = self.cluster_name

        priority: str | Unset = UNSET
        if not isinstance(self.priority, Unset):
            priority = self.priority

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
        if tags is not UNSET:
            field_dict["tags"] = tags
        if restart_policy is not UNSET:
            field_dict["restart_policy"] = restart_policy
        if max_run_time_minutes is not UNSET:
            field_dict["max_run_time_minutes"] = max_run_time_minutes
        if pass_config is not UNSET:
            field_dict["pass_config"] = pass_config
        if wait_for_jobs_quota is not UNSET:
            field_dict["wait_for_jobs_quota"] = wait_for_jobs_quota
        if privileged is not UNSET:
            field_dict["privileged"] = privileged
        if preset_name is not UNSET:
            field_dict["preset_name"] = preset_name
        if scheduler_enabled is not UNSET:
            field_dict["scheduler_enabled"] = scheduler_enabled
        if preemptible_node is not UNSET:
            field_dict["preemptible_node"] = preemptible_node
        if cluster_name is not UNSET:
            field_dict["cluster_name"] = cluster_name
        if priority is not UNSET:
            field_dict["priority"] = priority
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
        tags = cast(list[str], d.get("tags", UNSET))

        _restart_policy = d.get("restart_policy", UNSET)
        restart_policy: JobRequestRestartPolicy | Unset
        if isinstance(_restart_policy, Unset):
            restart_policy = UNSET
        else:
            restart_policy = check_job_request_restart_policy(_restart_policy)

        max_run_time_minutes = d.get("max_run_time_minutes", UNSET)
        pass_config = d.get("pass_config", UNSET)
        wait_for_jobs_quota = d.get("wait_for_jobs_quota", UNSET)
        privileged = d.get("privileged", UNSET)
        preset_name = d.get("preset_name", UNSET)
        scheduler_enabled = d.get("scheduler_enabled", UNSET)
        preemptible_node = d.get("preemptible_node", UNSET)
        cluster_name = d.get("cluster_name", UNSET)
        _priority = d.get("priority", UNSET)
        priority: JobRequestPriority | Unset
        if isinstance(_priority, Unset):
            priority = UNSET
        else:
            priority = check_job_request_priority(_priority)

        job_request = cls(
            container,
            name,
            description,
            is_preemptible,
            schedule_timeout,
            tags,
            restart_policy,
            max_run_time_minutes,
            pass_config,
            wait_for_jobs_quota,
            privileged,
            preset_name,
            scheduler_enabled,
            preemptible_node,
            cluster_name,
            priority,
        )
        return job_request
