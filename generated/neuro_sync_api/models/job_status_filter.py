from typing import Literal

JobStatusFilter = Literal["failed", "pending", "running", "succeeded"]

JOB_STATUS_FILTER_VALUES: set[JobStatusFilter] = {
    "failed",
    "pending",
    "running",
    "succeeded",
}


def check_job_status_filter(value: str) -> JobStatusFilter:
    if value in JOB_STATUS_FILTER_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {JOB_STATUS_FILTER_VALUES!r}")
