"""GET /jobs as NDJSON (`Accept: application/x-ndjson`): the platform's format since 2020."""

from __future__ import annotations

import json

import pytest

from .helpers import Api, job_body, sh

pytestmark = pytest.mark.integration

NDJSON = "application/x-ndjson"


def test_list_as_ndjson_streams_the_same_jobs(fresh: Api) -> None:
    ids = [fresh.create(job_body("true"))["id"], fresh.create(sh("exit 1"))["id"]]
    for job_id in ids:
        fresh.wait(job_id)
    expected = fresh.jobs()
    assert [j["id"] for j in expected] == ids

    response = fresh.get("/jobs", headers={"Accept": f"{NDJSON}, application/json;q=0.5"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{NDJSON}; charset=utf-8"
    assert response.headers["Transfer-Encoding"] == "chunked"  # streamed, not one body
    lines = response.content.split(b"\n")
    assert lines[-1] == b""  # every line ends with a newline
    assert [json.loads(line) for line in lines[:-1]] == expected

    failed = fresh.get("/jobs", params={"status": "failed"}, headers={"Accept": NDJSON})
    assert [json.loads(line)["id"] for line in failed.content.splitlines()] == ids[1:]


def test_list_without_ndjson_accept_is_the_2019_object(fresh: Api) -> None:
    response = fresh.get("/jobs", headers={"Accept": "application/json"})
    assert response.json() == {"jobs": []}
    empty = fresh.get("/jobs", headers={"Accept": NDJSON})
    assert empty.status_code == 200 and empty.content == b""
