"""The generated requests core (generated/neuro_sync_api), endpoint by endpoint, with `responses`.

These test the templates in openapi/templates: paths, queries, bodies, status parsing, the
bearer header, streaming, redirects and the charset rules.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses
from neuro_sync_api.api.monitoring import get_job_log, get_job_top, save_job
from neuro_sync_api.api.platform import (
    create_job,
    get_config,
    get_job,
    kill_job,
    list_jobs,
    ping,
)
from neuro_sync_api.client import AuthenticatedClient, BearerAuth, Client
from neuro_sync_api.models import (
    ContainerRequest,
    ErrorBody,
    ForbiddenBody,
    Job,
    JobList,
    JobRequest,
    ResourcesRequest,
    SaveContainer,
    SaveRequest,
    ServerConfig,
)
from neuro_sync_api.types import DEFAULT_TIMEOUT, UNSET

BASE = "http://api.test/api/v1"
MON = "http://monitoring.test/api/v1/jobs"
TOKEN = "secret-token-value"

JOB = {
    "id": "job-1",
    "owner": "alice",
    "cluster_name": "default",
    "status": "pending",
    "history": {
        "status": "pending",
        "reason": None,
        "description": None,
        "created_at": "2019-08-16T10:11:12.345678+00:00",
    },
    "container": {
        "image": "ubuntu:latest",
        "command": "sleep 1",
        "env": {},
        "volumes": [],
        "resources": {"cpu": 0.1, "memory_mb": 16},
    },
    "internal_hostname": "job-1.default",
    "ssh_server": "ssh://nobody@ssh-auth-dev.neu.ro:22",
    "ssh_auth_server": "ssh://nobody@ssh-auth-dev.neu.ro:22",
    "is_preemptible": False,
}


@pytest.fixture
def api() -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE, token=TOKEN)


@pytest.fixture
def mon() -> AuthenticatedClient:
    return AuthenticatedClient(base_url=MON, token=TOKEN)


@responses.activate
def test_ping_is_unauthenticated_capable() -> None:
    responses.get(BASE + "/ping", body=b"")
    result = ping.sync_detailed(client=Client(base_url=BASE))
    assert result.status_code == 200
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_config_parses_cluster_part(api: AuthenticatedClient) -> None:
    responses.get(
        BASE + "/config",
        json={
            "auth_url": "https://auth",
            "token_url": "https://token",
            "client_id": "cid",
            "audience": "aud",
            "headless_callback_url": "https://cb",
            "registry_url": "https://registry-dev.neu.ro",
            "monitoring_url": MON,
            "resource_presets": [{"name": "cpu-small", "cpu": 2, "memory_mb": 2048}],
        },
    )
    parsed = get_config.sync(client=api)
    assert isinstance(parsed, ServerConfig)
    assert parsed.registry_url == "https://registry-dev.neu.ro"
    assert parsed.storage_url is UNSET
    presets = parsed.resource_presets
    assert isinstance(presets, list)
    assert presets[0].name == "cpu-small"
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_create_job_sends_json_body_and_parses_202(api: AuthenticatedClient) -> None:
    responses.post(BASE + "/jobs", json=JOB, status=202)
    body = JobRequest(
        container=ContainerRequest(
            image="ubuntu", resources=ResourcesRequest(cpu=0.5, memory_mb=64), command="true"
        ),
        name="my-job",
    )
    result = create_job.sync_detailed(client=api, body=body)
    assert result.status_code == 202
    assert isinstance(result.parsed, Job)
    assert result.parsed.id == "job-1"
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {
        "container": {
            "image": "ubuntu",
            "resources": {"cpu": 0.5, "memory_mb": 64},
            "command": "true",
        },
        "name": "my-job",
        "is_preemptible": False,
    }


@responses.activate
def test_list_jobs_repeats_status_and_owner(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs", json={"jobs": [JOB, JOB]})
    result = list_jobs.sync(
        client=api, status=["running", "pending"], owner=["alice", "bob"], name="my-job"
    )
    assert isinstance(result, JobList)
    assert [j.id for j in result.jobs] == ["job-1", "job-1"]
    url = responses.calls[0].request.url or ""
    assert url == (BASE + "/jobs?status=running&status=pending&name=my-job&owner=alice&owner=bob")


@responses.activate
def test_list_without_filters_sends_no_query(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs", json={"jobs": []})
    list_jobs.sync(client=api)
    assert responses.calls[0].request.url == BASE + "/jobs"


@responses.activate
def test_get_job_quotes_the_id(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs/..%2Fconfig%3Fx%23y", json=JOB)
    get_job.sync(job_id="../config?x#y", client=api)
    assert responses.calls[0].request.url == BASE + "/jobs/..%2Fconfig%3Fx%23y"


@responses.activate
def test_kill_job_204(api: AuthenticatedClient) -> None:
    responses.delete(BASE + "/jobs/job-1", status=204)
    result = kill_job.sync_detailed(job_id="job-1", client=api)
    assert result.status_code == 204
    assert result.parsed is None
    assert responses.calls[0].request.method == "DELETE"


@responses.activate
def test_error_bodies_parse_by_status(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs/job-x", json={"error": "no such job job-x"}, status=400)
    responses.get(
        BASE + "/jobs/job-y",
        json={"resources": [{"uri": "job://bob/job-y", "action": "read"}]},
        status=403,
    )
    responses.get(BASE + "/jobs/job-z", body="401: Unauthorized", status=401)
    not_found = get_job.sync(job_id="job-x", client=api)
    assert isinstance(not_found, ErrorBody) and not_found.error == "no such job job-x"
    forbidden = get_job.sync(job_id="job-y", client=api)
    assert isinstance(forbidden, ForbiddenBody)
    assert forbidden.resources[0].uri == "job://bob/job-y"
    assert get_job.sync(job_id="job-z", client=api) == "401: Unauthorized"


@responses.activate
def test_undocumented_status_such_as_520_does_not_crash(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs/job-1", body="origin error", status=520)
    result = get_job.sync_detailed(job_id="job-1", client=api)
    assert result.status_code == 520
    assert result.parsed is None
    strict = AuthenticatedClient(base_url=BASE, token=TOKEN, raise_on_unexpected_status=True)
    from neuro_sync_api import errors

    with pytest.raises(errors.UnexpectedStatus) as info:
        get_job.sync_detailed(job_id="job-1", client=strict)
    assert info.value.status_code == 520


@responses.activate
def test_log_stream_is_unread_and_reads_in_chunks(mon: AuthenticatedClient) -> None:
    body = b"line\n" * 10_000
    responses.get(MON + "/job-1/log", body=body, content_type="text/plain; charset=utf-8")
    response = get_job_log.stream(job_id="job-1", client=mon)
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.request.headers["Accept-Encoding"] == "identity"
    chunks = list(response.iter_content(4096))
    assert len(chunks) > 1
    assert b"".join(chunks) == body
    response.close()


@responses.activate
def test_text_without_charset_is_utf8_not_latin1(mon: AuthenticatedClient) -> None:
    responses.get(MON + "/job-1/log", body="héllo ✓".encode(), content_type="text/plain")
    assert get_job_log.sync(job_id="job-1", client=mon) == "héllo ✓"


@responses.activate
def test_save_posts_image_and_streams_ndjson(mon: AuthenticatedClient) -> None:
    lines = b'{"status": "CommitStarted"}\r\n{"status": "CommitFinished"}\r\n'
    responses.post(MON + "/job-1/save", body=lines, content_type="application/x-ndjson")
    body = SaveRequest(container=SaveContainer(image="registry-dev.neu.ro/alice/img:v1"))
    response = save_job.stream(job_id="job-1", client=mon, body=body)
    assert [json.loads(x)["status"] for x in response.iter_lines() if x] == [
        "CommitStarted",
        "CommitFinished",
    ]
    sent = json.loads(responses.calls[0].request.body or b"")
    assert sent == {"container": {"image": "registry-dev.neu.ro/alice/img:v1"}}


def test_top_build_request_gives_the_path() -> None:
    assert get_job_top.build_request(job_id="job-1") == {"method": "get", "url": "/job-1/top"}


@responses.activate
def test_redirects_are_not_followed(api: AuthenticatedClient) -> None:
    responses.get(BASE + "/jobs/job-1", status=302, headers={"Location": "http://evil.test/steal"})
    responses.get("http://evil.test/steal", json=JOB)
    result = get_job.sync_detailed(job_id="job-1", client=api)
    assert result.status_code == 302
    assert len(responses.calls) == 1


@responses.activate
def test_redirect_to_another_host_drops_the_token_when_enabled() -> None:
    client = AuthenticatedClient(base_url=BASE, token=TOKEN, follow_redirects=True)
    responses.get(BASE + "/jobs/job-1", status=302, headers={"Location": "http://other.test/job"})
    responses.get("http://other.test/job", json=JOB)
    get_job.sync(job_id="job-1", client=client)
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in responses.calls[1].request.headers


def test_netrc_does_not_replace_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.test login bob password hunter2\n")
    monkeypatch.setenv("NETRC", str(netrc))
    with responses.RequestsMock() as mock:
        mock.get(BASE + "/jobs/job-1", json=JOB)
        get_job.sync(job_id="job-1", client=AuthenticatedClient(base_url=BASE, token=TOKEN))
        assert mock.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_default_timeout_and_per_call_override(api: AuthenticatedClient) -> None:
    seen: list[object] = []

    class Recorder(requests.Session):
        def request(
            self, method: str | bytes, url: str | bytes, *a: object, **kw: object
        ) -> requests.Response:
            seen.append(kw.get("timeout"))
            return super().request(method, url, *a, **kw)  # type: ignore[arg-type]

    responses.get(BASE + "/jobs/job-1", json=JOB)
    client = AuthenticatedClient(base_url=BASE, token=TOKEN, session=Recorder())
    get_job.sync(job_id="job-1", client=client)
    get_job.sync(job_id="job-1", client=client, request_options={"timeout": 3.0})
    assert seen == [DEFAULT_TIMEOUT, 3.0]


def test_token_is_not_in_reprs(api: AuthenticatedClient) -> None:
    assert TOKEN not in repr(api)
    assert TOKEN not in repr(BearerAuth(TOKEN))
