from typing import Literal

JobRequestPriority = Literal["high", "low", "normal"]

JOB_REQUEST_PRIORITY_VALUES: set[JobRequestPriority] = {
    "high",
    "low",
    "normal",
}


def check_job_request_priority(value: str) -> JobRequestPriority:
    if value in JOB_REQUEST_PRIORITY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {JOB_REQUEST_PRIORITY_VALUES!r}")
