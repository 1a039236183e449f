from typing import Literal

GetJobLogTimestamps = Literal["0", "1", "false", "true"]

GET_JOB_LOG_TIMESTAMPS_VALUES: set[GetJobLogTimestamps] = {
    "0",
    "1",
    "false",
    "true",
}


def check_get_job_log_timestamps(value: str) -> GetJobLogTimestamps:
    if value in GET_JOB_LOG_TIMESTAMPS_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {GET_JOB_LOG_TIMESTAMPS_VALUES!r}"
    )
