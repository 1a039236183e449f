from typing import Literal

ListJobsReverse = Literal["0", "1", "false", "true"]

LIST_JOBS_REVERSE_VALUES: set[ListJobsReverse] = {
    "0",
    "1",
    "false",
    "true",
}


def check_list_jobs_reverse(value: str) -> ListJobsReverse:
    if value in LIST_JOBS_REVERSE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {LIST_JOBS_REVERSE_VALUES!r}")
