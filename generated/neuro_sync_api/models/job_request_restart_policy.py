from typing import Literal

JobRequestRestartPolicy = Literal["always", "never", "on-failure"]

JOB_REQUEST_RESTART_POLICY_VALUES: set[JobRequestRestartPolicy] = {
    "always",
    "never",
    "on-failure",
}


def check_job_request_restart_policy(value: str) -> JobRequestRestartPolicy:
    if value in JOB_REQUEST_RESTART_POLICY_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {JOB_REQUEST_RESTART_POLICY_VALUES!r}"
    )
