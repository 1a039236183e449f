"""Monitoring contract: log streaming, the top WebSocket and save (docs/protocol.md §3)."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import websocket

from neuro_sync.local import LocalPlatform

from .helpers import (
    GATE,
    HUGE_MEMORY_MB,
    JSON_TYPE,
    TEXT_TYPE,
    Api,
    job_body,
    release,
    sh,
    wait_for,
    work_dir,
)

NDJSON_TYPE = "application/x-ndjson; charset=utf-8"
UNKNOWN = "job-00000000-0000-4000-8000-000000000000"


def nested_no_such_job(job_id: str) -> dict[str, str]:
    return {"error": json.dumps({"error": f"no such job {job_id}"})}


def open_log(api: Api, job_id: str) -> requests.Response:
    return api.get(
        f"/jobs/{job_id}/log", stream=True, headers={"Accept-Encoding": "identity"}, timeout=30
    )


def assert_log_headers(response: requests.Response) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Encoding" not in response.headers
    assert "Content-Length" not in response.headers


# ---------------------------------------------------------------------------- log


def test_log_of_finished_job(fresh: Api) -> None:
    done = fresh.wait(fresh.create(sh("echo hello; echo world >&2; printf tail"))["id"])
    assert done["status"] == "succeeded"
    with open_log(fresh, done["id"]) as response:
        assert_log_headers(response)
        assert response.content == b"hello\nworld\ntail"


def test_log_is_raw_bytes(fresh: Api) -> None:
    done = fresh.wait(fresh.create(sh('printf "\\377\\000\\r\\n\\351t\\303\\251"'))["id"])
    with open_log(fresh, done["id"]) as response:
        assert_log_headers(response)
        assert response.content == b"\xff\x00\r\n\xe9t\xc3\xa9"


def test_long_log_of_finished_job(fresh: Api) -> None:
    done = fresh.wait(fresh.create(job_body("seq 1 30000"))["id"])
    expected = "".join(f"{i}\n" for i in range(1, 30001)).encode()
    assert len(expected) > 64 * 1024
    with open_log(fresh, done["id"]) as response:
        assert_log_headers(response)
        assert response.content == expected


def test_log_of_failed_job(fresh: Api) -> None:
    done = fresh.wait(fresh.create(sh("echo bad; exit 5"))["id"])
    with open_log(fresh, done["id"]) as response:
        assert_log_headers(response)
        assert response.content == b"bad\n"


def test_log_of_live_job_streams_before_it_ends(fresh: Api, data_dir: Path) -> None:
    job = fresh.create(sh(f"echo first; {GATE}; echo second"))
    with open_log(fresh, job["id"]) as response:
        assert_log_headers(response)
        chunks = response.iter_content(chunk_size=None)
        received = b""
        while not received.endswith(b"first\n"):
            received += next(chunks)
        assert received == b"first\n"
        # The job cannot have ended: it waits for the gate.
        assert fresh.job(job["id"])["status"] == "running"
        release(data_dir, job["id"])
        for chunk in chunks:
            received += chunk
    assert received == b"first\nsecond\n"
    assert fresh.wait(job["id"])["status"] == "succeeded"


def test_log_of_killed_job_ends(fresh: Api) -> None:
    job = fresh.create(sh("echo before; sleep 60"))
    fresh.wait(job["id"], ("running",))
    with open_log(fresh, job["id"]) as response:
        assert_log_headers(response)
        chunks = response.iter_content(chunk_size=None)
        received = b""
        while not received.endswith(b"before\n"):
            received += next(chunks)
        fresh.kill(job["id"])
        for chunk in chunks:
            received += chunk
    assert received == b"before\n"


@pytest.mark.parametrize("job_id", [UNKNOWN, "nope"])
def test_log_of_unknown_job(api: Api, job_id: str) -> None:
    response = open_log(api, job_id)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == nested_no_such_job(job_id)
    assert response.text == '{"error": "{\\"error\\": \\"no such job ' + job_id + '\\"}"}'


def test_log_of_other_users_job(fresh: Api, other: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    response = open_log(other, done["id"])
    assert response.status_code == 403
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.text == "403: Forbidden"


# ---------------------------------------------------------------------------- top


def ws_url(platform: LocalPlatform, job_id: str) -> str:
    return platform.url.replace("http://", "ws://", 1) + f"/jobs/{job_id}/top"


def connect(platform: LocalPlatform, api: Api, job_id: str) -> websocket.WebSocket:
    return websocket.create_connection(
        ws_url(platform, job_id), header=[f"Authorization: Bearer {api.token}"], timeout=30
    )


def frames_until_close(ws: websocket.WebSocket) -> list[Any]:
    """Every data frame until the server closes, decoded from JSON text."""
    frames: list[Any] = []
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return frames
            if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
                continue
            assert opcode == websocket.ABNF.OPCODE_TEXT
            frames.append(json.loads(data))
    finally:
        ws.close()


def assert_telemetry(frame: Any) -> None:
    assert isinstance(frame, dict)
    assert set(frame) == {"cpu", "memory", "timestamp"}
    for key in ("cpu", "memory", "timestamp"):
        assert isinstance(frame[key], float)
        assert frame[key] >= 0


def test_top_of_running_job(platform: LocalPlatform, fresh: Api, data_dir: Path) -> None:
    job = fresh.create(sh(GATE))
    fresh.wait(job["id"], ("running",))
    ws = connect(platform, fresh, job["id"])
    opcode, data = ws.recv_data()
    assert opcode == websocket.ABNF.OPCODE_TEXT
    first = json.loads(data)
    assert_telemetry(first)
    assert first["memory"] > 0
    release(data_dir, job["id"])
    rest = frames_until_close(ws)
    for frame in rest:
        assert_telemetry(frame)
    assert [f["timestamp"] for f in [first, *rest]] == sorted(
        f["timestamp"] for f in [first, *rest]
    )
    assert fresh.wait(job["id"])["status"] == "succeeded"


def test_top_of_finished_job_closes_without_frames(platform: LocalPlatform, fresh: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    assert frames_until_close(connect(platform, fresh, done["id"])) == []


def test_top_of_pending_job_sends_nothing_until_it_ends(
    platform: LocalPlatform, fresh: Api
) -> None:
    body = job_body("true", schedule_timeout=1)
    body["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
    job = fresh.create(body)
    assert frames_until_close(connect(platform, fresh, job["id"])) == []
    assert fresh.job(job["id"])["history"]["reason"] == "ClusterScaleUpFailed"


def handshake_error(platform: LocalPlatform, job_id: str, token: str | None) -> Any:
    header = [f"Authorization: Bearer {token}"] if token else []
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(ws_url(platform, job_id), header=header, timeout=30)
    return info.value


def test_top_of_unknown_job_is_400_handshake(platform: LocalPlatform, api: Api) -> None:
    error = handshake_error(platform, UNKNOWN, api.token)
    assert error.status_code == 400
    assert error.resp_headers["content-type"] == JSON_TYPE
    assert json.loads(error.resp_body) == nested_no_such_job(UNKNOWN)


def test_top_of_other_users_job_is_403(platform: LocalPlatform, fresh: Api, other: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    error = handshake_error(platform, done["id"], other.token)
    assert error.status_code == 403
    assert error.resp_body == b"403: Forbidden"


def test_top_without_token_is_401(platform: LocalPlatform, fresh: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    error = handshake_error(platform, done["id"], None)
    assert error.status_code == 401
    assert error.resp_body == b"401: Unauthorized"


# ---------------------------------------------------------------------------- save


@pytest.fixture(scope="module")
def registry(api: Api) -> str:
    host: str = urlsplit(api.get("/config").json()["registry_url"]).netloc
    assert host
    return host


def save(api: Api, job_id: str, body: Any) -> requests.Response:
    return api.post(f"/jobs/{job_id}/save", json=body, stream=True, timeout=30)


def ndjson(response: requests.Response) -> list[dict[str, Any]]:
    raw = response.content
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("tag", ["v1", None])
def test_save_running_job(fresh: Api, data_dir: Path, registry: str, tag: str | None) -> None:
    job = fresh.create(sh(f"echo payload > artifact; {GATE}"))
    work = work_dir(data_dir, job["id"])
    wait_for(lambda: (work / "artifact").exists(), "the artifact")
    assert fresh.job(job["id"])["status"] == "running"
    repo = f"{registry}/{fresh.user}/saved"
    image = f"{repo}:{tag}" if tag else repo
    with save(fresh, job["id"], {"container": {"image": image}}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == NDJSON_TYPE
        assert response.headers["Transfer-Encoding"] == "chunked"
        lines = ndjson(response)
    release(data_dir, job["id"])

    expected_tag = tag or "latest"
    started, finished, *push = lines
    assert started["status"] == "CommitStarted"
    assert re.fullmatch(r"[0-9a-f]{64}", started["details"]["container"])
    assert started == {
        "status": "CommitStarted",
        "details": {
            "container": started["details"]["container"],
            "image": f"{repo}:{expected_tag}",
        },
    }
    assert finished == {"status": "CommitFinished"}
    assert push, "push progress lines follow the commit"
    assert all("error" not in line for line in push)
    aux = push[-1]["aux"]
    assert set(aux) == {"Tag", "Digest", "Size"}
    assert aux["Tag"] == expected_tag

    archive = data_dir / "images" / fresh.user / "saved" / f"{expected_tag}.tar.gz"
    assert archive.is_file()
    data = archive.read_bytes()
    assert aux["Digest"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert aux["Size"] == len(data)
    with tarfile.open(archive) as tar:
        member = tar.extractfile("./artifact")
        assert member is not None
        assert member.read() == b"payload\n"
    assert fresh.wait(job["id"])["status"] == "succeeded"


def test_save_finished_job_reports_in_band(fresh: Api, registry: str) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    body = {"container": {"image": f"{registry}/{fresh.user}/img:v1"}}
    with save(fresh, done["id"], body) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == NDJSON_TYPE
        message = f"Job '{done['id']}' is not running."
        assert ndjson(response) == [{"error": message, "errorDetail": {"message": message}}]


def test_save_pending_job_reports_in_band(fresh: Api, registry: str) -> None:
    body = job_body("true")
    body["container"]["resources"]["memory_mb"] = HUGE_MEMORY_MB
    job = fresh.create(body)
    try:
        save_body = {"container": {"image": f"{registry}/{fresh.user}/img:v1"}}
        with save(fresh, job["id"], save_body) as response:
            assert response.status_code == 200
            (line,) = ndjson(response)
            assert line["error"] == f"Job '{job['id']}' is not running."
    finally:
        fresh.kill(job["id"])


def test_save_to_another_registry(api: Api, fresh: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    body = {"container": {"image": "registry.example.com/someone/img:v1"}}
    response = save(fresh, done["id"], body)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON_TYPE
    error = response.json()
    assert list(error) == ["error"]
    assert "Unknown registry host" in error["error"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"container": {}},
        {"container": {"image": "REGISTRY/u/img:v1", "extra": 1}},
        {"container": {"image": "REGISTRY/u/img:v1"}, "extra": 1},
        {"container": {"image": ""}},
        {"container": {"image": 5}},
        {"container": {"image": "REGISTRY/"}},
        {"container": {"image": "REGISTRY/u/../../escape:v1"}},
        {"container": {"image": "REGISTRY/../escape"}},
        {"container": {"image": "REGISTRY/u/img:bad/tag"}},
        {"container": {"image": "REGISTRY/u/img:"}},
        {"container": {"image": "REGISTRY/u/Img:v1"}},
        {"container": {"image": "REGISTRY/u/img with space:v1"}},
        [],
        "image",
    ],
    ids=lambda b: json.dumps(b)[:40],
)
def test_save_rejects_bad_body(fresh: Api, data_dir: Path, registry: str, body: Any) -> None:
    job = fresh.create(sh(GATE))
    fresh.wait(job["id"], ("running",))
    try:
        rendered = json.loads(json.dumps(body).replace("REGISTRY", registry))
        response = save(fresh, job["id"], rendered)
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"] == JSON_TYPE
        assert list(response.json()) == ["error"]
    finally:
        release(data_dir, job["id"])
    assert not (data_dir.parent / "escape").exists()
    assert not (data_dir / "escape").exists()


def test_save_rejects_non_json(fresh: Api) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    response = fresh.post(f"/jobs/{done['id']}/save", data=b"{not json")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON_TYPE
    assert list(response.json()) == ["error"]


def test_save_unknown_job(api: Api, registry: str) -> None:
    # The job lookup comes first: even without a body.
    for kwargs in ({}, {"json": {"container": {"image": f"{registry}/u/img:v1"}}}):
        response = api.post(f"/jobs/{UNKNOWN}/save", **kwargs)
        assert response.status_code == 400
        assert response.headers["Content-Type"] == JSON_TYPE
        assert response.json() == nested_no_such_job(UNKNOWN)


def test_save_other_users_job(fresh: Api, other: Api, registry: str) -> None:
    done = fresh.wait(fresh.create(job_body("true"))["id"])
    body = {"container": {"image": f"{registry}/{other.user}/img:v1"}}
    response = other.post(f"/jobs/{done['id']}/save", json=body)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.text == "403: Forbidden"


def test_save_into_another_users_namespace_is_forbidden(
    fresh: Api, other: Api, data_dir: Path, registry: str
) -> None:
    job = fresh.create(sh(f"echo payload > artifact; {GATE}"))
    fresh.wait(job["id"], ("running",))
    body = {"container": {"image": f"{registry}/{other.user}/x:1"}}
    try:
        response = save(fresh, job["id"], body)
        assert response.status_code == 403
        assert response.headers["Content-Type"] == TEXT_TYPE
        assert response.text == "403: Forbidden"
    finally:
        release(data_dir, job["id"])
    assert not (data_dir / "images" / other.user).exists()
