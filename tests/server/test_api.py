"""platform-api contract: ping, /config, POST/GET/DELETE /jobs, errors and routing (docs/protocol.md
§1.4, §2). Exact status codes, content types and bodies."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests

from neuro_sync.local import LocalPlatform

from .helpers import JSON_TYPE, TEXT_TYPE, Api, job_body, sh, unique_name

JOB_ID_RE = re.compile(r"job-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SSH_RE = re.compile(r"ssh://nobody@[^:/@]+:\d+")
OAUTH_KEYS = {
    "auth_url",
    "token_url",
    "client_id",
    "audience",
    "callback_urls",
    "headless_callback_url",
}
CLUSTER_KEYS = {"registry_url", "storage_url", "users_url", "monitoring_url", "resource_presets"}


def assert_error(response: requests.Response, status: int = 400) -> str:
    """The platform-api error shape: JSON `{"error": "<text>"}`; returns the text."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    message: str = body["error"]
    return message


def assert_iso_utc(value: Any) -> datetime.datetime:
    assert isinstance(value, str)
    assert value.endswith("+00:00")
    parsed = datetime.datetime.fromisoformat(value)
    assert parsed.utcoffset() == datetime.timedelta(0)
    return parsed


def foreign_token(user: str) -> str:
    """A well-formed JWT for `user` that this platform did not sign."""
    return jwt.encode(
        {"identity": user}, "not-the-platform-secret-but-32-bytes-or-more", algorithm="HS256"
    )


# ---------------------------------------------------------------------------- ping, /config


def test_ping(platform: LocalPlatform) -> None:
    response = requests.get(f"{platform.url}/ping", timeout=10)
    assert response.status_code == 200
    assert response.content == b""


def test_ping_with_token(api: Api) -> None:
    response = api.get("/ping")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer garbage", "Bearer ", "Basic dXNlcjpwYXNz", "FOREIGN"],
    ids=["none", "garbage", "empty", "basic", "foreign-signature"],
)
def test_config_without_valid_token_has_only_oauth(
    platform: LocalPlatform, authorization: str | None
) -> None:
    headers = {}
    if authorization == "FOREIGN":
        headers["Authorization"] = f"Bearer {foreign_token(platform.user)}"
    elif authorization is not None:
        headers["Authorization"] = authorization
    response = requests.get(f"{platform.url}/config", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert set(body) == OAUTH_KEYS
    assert all(isinstance(body[k], str) and body[k] for k in OAUTH_KEYS - {"callback_urls"})
    assert body["callback_urls"] == [
        "http://127.0.0.1:54540",
        "http://127.0.0.1:54541",
        "http://127.0.0.1:54542",
    ]


def test_config_with_token_adds_cluster(platform: LocalPlatform, api: Api) -> None:
    response = api.get("/config")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    # `local_platform` is ours (runtime and isolation); 2019 clients ignore unknown keys.
    assert set(body) == OAUTH_KEYS | CLUSTER_KEYS | {"local_platform"}
    assert body["local_platform"]["runtime"] == "process"
    assert urlsplit(body["registry_url"]).hostname
    assert body["monitoring_url"] == f"{platform.url}/jobs"
    for key in ("storage_url", "users_url"):
        assert urlsplit(body[key]).scheme in ("http", "https")
    presets = body["resource_presets"]
    assert presets
    for preset in presets:
        assert set(preset) <= {"name", "cpu", "memory_mb", "is_preemptible", "gpu", "gpu_model"}
        assert isinstance(preset["name"], str) and preset["name"]
        assert isinstance(preset["cpu"], int | float) and not isinstance(preset["cpu"], bool)
        assert isinstance(preset["memory_mb"], int) and not isinstance(preset["memory_mb"], bool)
        assert isinstance(preset["is_preemptible"], bool)


def test_config_for_another_user(fresh: Api) -> None:
    body = fresh.get("/config").json()
    assert set(body) == OAUTH_KEYS | CLUSTER_KEYS | {"local_platform"}


# ---------------------------------------------------------------------------- POST /jobs


def test_create_minimal_exact_shape(fresh: Api) -> None:
    body = job_body("true")
    body["container"]["resources"] = {"cpu": 1, "memory_mb": "4096"}
    response = fresh.post("/jobs", json=body)
    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    job = response.json()
    job_id = job["id"]
    assert JOB_ID_RE.fullmatch(job_id)
    assert len(job_id) == 40
    created = job["history"]["created_at"]
    assert_iso_utc(created)
    ssh = job["ssh_server"]
    assert SSH_RE.fullmatch(ssh)
    assert job == {
        "id": job_id,
        "owner": fresh.user,
        "cluster_name": "default",
        "status": "pending",
        "history": {
            "status": "pending",
            "reason": None,
            "description": None,
            "created_at": created,
        },
        "container": {
            "image": "ubuntu",
            "command": "true",
            "env": {},
            "volumes": [],
            "resources": {"cpu": 1.0, "memory_mb": 4096},
        },
        "ssh_server": ssh,
        "ssh_auth_server": ssh,
        "is_preemptible": False,
        "internal_hostname": f"{job_id}.default",
    }
    # cpu is echoed as a float, memory_mb coerced from the string to an int.
    assert isinstance(job["container"]["resources"]["cpu"], float)
    assert '"cpu": 1.0' in response.text
    assert isinstance(job["container"]["resources"]["memory_mb"], int)
    # The 202 reply is what GET returns too (modulo the status moving on).
    assert fresh.job(job_id)["container"] == job["container"]


def test_create_full_exact_shape(fresh: Api) -> None:
    name = unique_name("full")
    body = {
        "name": name,
        "description": "a full request",
        "is_preemptible": True,
        "schedule_timeout": 600,
        "container": {
            "image": f"registry.localhost/{fresh.user}/img:v1",
            "entrypoint": "sh -c",
            "command": "'exit 0'",
            "env": {"A": "1", "EMPTY": ""},
            # GPU: never schedulable here, so the job stays pending until killed.
            "resources": {
                "cpu": 0.5,
                "memory_mb": 64.0,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
                "shm": True,
            },
            "http": {"port": 8080, "health_check_path": "/health", "requires_auth": True},
            "ssh": {"port": 22},
            # No volumes: the process runtime refuses them (test_volumes.py).
        },
    }
    response = fresh.post("/jobs", json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    job_id = job["id"]
    try:
        created = job["history"]["created_at"]
        ssh = job["ssh_server"]
        http_url = job["http_url"]
        # Served by the platform at an address of its own (test_http_url.py).
        assert re.fullmatch(r"http://127(\.[0-9]+){3}:[0-9]+", http_url)
        assert job == {
            "id": job_id,
            "owner": fresh.user,
            "cluster_name": "default",
            "status": "pending",
            "history": {
                "status": "pending",
                "reason": None,
                "description": None,
                "created_at": created,
            },
            "container": {
                "image": f"registry.localhost/{fresh.user}/img:v1",
                "entrypoint": "sh -c",
                "command": "'exit 0'",
                "env": {"A": "1", "EMPTY": ""},
                "volumes": [],
                "resources": {
                    "cpu": 0.5,
                    "memory_mb": 64,
                    "gpu": 1,
                    "gpu_model": "nvidia-tesla-k80",
                    "shm": True,
                },
                "http": {"port": 8080, "health_check_path": "/health", "requires_auth": True},
                "ssh": {"port": 22},
            },
            "ssh_server": ssh,
            "ssh_auth_server": ssh,
            "is_preemptible": True,
            "internal_hostname": f"{job_id}.default",
            "name": name,
            "description": "a full request",
            "http_url": http_url,
            "http_url_named": http_url,
            "schedule_timeout": 600.0,
        }
        assert isinstance(job["container"]["resources"]["memory_mb"], int)
    finally:
        fresh.kill(job_id)


def test_create_http_defaults_and_no_named_url_without_name(fresh: Api) -> None:
    body = job_body("true")
    body["container"]["http"] = {"port": 80}
    job = fresh.create(body)
    assert job["container"]["http"] == {
        "port": 80,
        "health_check_path": "/",
        "requires_auth": False,
    }
    assert re.fullmatch(r"http://127(\.[0-9]+){3}:[0-9]+", job["http_url"])
    assert "http_url_named" not in job
    assert "name" not in job and "description" not in job and "schedule_timeout" not in job


def test_create_without_http_has_no_urls(fresh: Api) -> None:
    job = fresh.create(job_body("true", name=unique_name("nohttp")))
    assert "http_url" not in job and "http_url_named" not in job
    assert "name" in job


def test_create_null_name_is_unnamed_and_gpu_zero_is_echoed(fresh: Api) -> None:
    body = job_body("true", name=None)
    body["container"]["resources"]["gpu"] = 0
    job = fresh.create(body)
    assert "name" not in job
    assert job["container"]["resources"] == {"cpu": 0.1, "memory_mb": 16, "gpu": 0}


def test_create_coerces_numeric_strings(fresh: Api) -> None:
    body = job_body("true")
    body["container"]["resources"] = {"cpu": "2", "memory_mb": "32"}
    job = fresh.create(body)
    assert job["container"]["resources"] == {"cpu": 2.0, "memory_mb": 32}
    assert isinstance(job["container"]["resources"]["cpu"], float)


def test_create_without_token(platform: LocalPlatform) -> None:
    response = requests.post(f"{platform.url}/jobs", json=job_body(), timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.text == "401: Unauthorized"


# ---------------------------------------------------------------------------- validation

ValidationCase = tuple[str, dict[str, Any] | Any, str]


def _body_with(path: str, value: Any, *, delete: bool = False) -> dict[str, Any]:
    """job_body() with `value` set at the dotted `path` (list indexes allowed), or removed."""
    body = job_body("true")
    body["container"]["http"] = {"port": 80}
    body["container"]["volumes"] = [{"src_storage_uri": "storage://u/a", "dst_path": "/a"}]
    target: Any = body
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if delete:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value
    return body


def _set(path: str, value: Any) -> dict[str, Any]:
    return _body_with(path, value)


def _del(path: str) -> dict[str, Any]:
    return _body_with(path, None, delete=True)


def _volumes(*volumes: dict[str, Any]) -> dict[str, Any]:
    return _set("container.volumes", list(volumes))


VALIDATION: list[ValidationCase] = [
    # unknown keys at every level
    ("unknown-top", _set("foo", 1), "foo is not allowed key"),
    ("unknown-container", _set("container.foo", 1), "foo is not allowed key"),
    ("unknown-resources", _set("container.resources.tpu", {}), "tpu is not allowed key"),
    ("unknown-resources-2", _set("container.resources.foo", 1), "foo is not allowed key"),
    ("unknown-http", _set("container.http.foo", 1), "foo is not allowed key"),
    ("unknown-ssh", _set("container.ssh", {"port": 22, "foo": 1}), "foo is not allowed key"),
    ("unknown-volume", _set("container.volumes.0.foo", 1), "foo is not allowed key"),
    # required keys
    ("missing-container", _del("container"), "is required"),
    ("missing-image", _del("container.image"), "is required"),
    ("missing-resources", _del("container.resources"), "is required"),
    ("missing-cpu", _del("container.resources.cpu"), "is required"),
    ("missing-memory", _del("container.resources.memory_mb"), "is required"),
    ("missing-http-port", _set("container.http", {}), "is required"),
    ("missing-volume-dst", _del("container.volumes.0.dst_path"), "is required"),
    # wrong container types
    ("container-list", _set("container", []), "is not a dict"),
    ("resources-string", _set("container.resources", "cpu-small"), "is not a dict"),
    ("volumes-dict", _set("container.volumes", {}), "is not a list"),
    ("volume-string", _set("container.volumes", ["storage://u:/a"]), "is not a dict"),
    ("http-int", _set("container.http", 80), "is not a dict"),
    # image, entrypoint, command, description: non-blank strings
    ("blank-image", _set("container.image", "  "), "blank"),
    ("empty-image", _set("container.image", ""), "blank"),
    ("int-image", _set("container.image", 1), "not a string"),
    ("null-image", _set("container.image", None), "not a string"),
    ("blank-command", _set("container.command", " "), "blank"),
    ("blank-entrypoint", _set("container.entrypoint", ""), "blank"),
    ("blank-description", _set("description", " "), "blank"),
    ("int-description", _set("description", 5), "not a string"),
    # name
    ("name-upper", _set("name", "Abc"), "does not match pattern"),
    ("name-digit-first", _set("name", "1abc"), "does not match pattern"),
    ("name-underscore", _set("name", "ab_c"), "does not match pattern"),
    ("name-double-dash", _set("name", "ab--c"), "does not match pattern"),
    ("name-trailing-dash", _set("name", "abc-"), "does not match pattern"),
    ("name-leading-dash", _set("name", "-abc"), "does not match pattern"),
    ("name-trailing-newline", _set("name", "abc\n"), "does not match pattern"),
    ("gpu-null", _set("container.resources", {"cpu": 1, "memory_mb": 16, "gpu": None}), "int"),
    ("name-too-short", _set("name", "ab"), "length"),
    ("name-too-long", _set("name", "a" * 41), "length"),
    ("name-empty", _set("name", ""), "blank"),
    ("name-int", _set("name", 123), "not a string"),
    # resources
    ("cpu-too-small", _set("container.resources.cpu", 0.09), "cpu"),
    ("cpu-zero", _set("container.resources.cpu", 0), "cpu"),
    ("cpu-too-big", _set("container.resources.cpu", 128.5), "cpu"),
    ("cpu-word", _set("container.resources.cpu", "lots"), "cpu"),
    ("cpu-null", _set("container.resources.cpu", None), "cpu"),
    ("cpu-list", _set("container.resources.cpu", [1]), "cpu"),
    ("memory-too-small", _set("container.resources.memory_mb", 15), "memory_mb"),
    ("memory-negative", _set("container.resources.memory_mb", -1024), "memory_mb"),
    ("memory-fraction", _set("container.resources.memory_mb", 16.5), "memory_mb"),
    ("memory-word", _set("container.resources.memory_mb", "much"), "memory_mb"),
    ("memory-bool", _set("container.resources.memory_mb", True), "memory_mb"),
    ("gpu-too-many", _set("container.resources.gpu", 129), "gpu"),
    ("gpu-negative", _set("container.resources.gpu", -1), "gpu"),
    ("gpu-string", _set("container.resources.gpu", "1"), "gpu"),
    ("gpu-bool", _set("container.resources.gpu", True), "gpu"),
    (
        "gpu-model-without-gpu",
        _set("container.resources.gpu_model", "nvidia-tesla-k80"),
        "gpu_model",
    ),
    (
        "gpu-model-unknown",
        _set("container.resources", {"cpu": 1, "memory_mb": 16, "gpu": 1, "gpu_model": "tpu-9"}),
        "gpu_model",
    ),
    (
        "gpu-model-null",
        _set("container.resources", {"cpu": 1, "memory_mb": 16, "gpu": 1, "gpu_model": None}),
        "gpu_model",
    ),
    ("shm-null", _set("container.resources.shm", None), "shm"),
    ("shm-string", _set("container.resources.shm", "true"), "shm"),
    ("shm-int", _set("container.resources.shm", 1), "shm"),
    # top-level scalars
    ("preemptible-string", _set("is_preemptible", "true"), "is_preemptible"),
    ("preemptible-int", _set("is_preemptible", 1), "is_preemptible"),
    ("preemptible-null", _set("is_preemptible", None), "is_preemptible"),
    ("timeout-zero", _set("schedule_timeout", 0), "schedule_timeout"),
    ("timeout-below-one", _set("schedule_timeout", 0.5), "schedule_timeout"),
    ("timeout-30-days", _set("schedule_timeout", 2592000), "schedule_timeout"),
    ("timeout-negative", _set("schedule_timeout", -5), "schedule_timeout"),
    ("timeout-word", _set("schedule_timeout", "soon"), "schedule_timeout"),
    # env
    ("env-int-value", _set("container.env", {"A": 1}), "env"),
    ("env-null-value", _set("container.env", {"A": None}), "env"),
    ("env-bool-value", _set("container.env", {"A": True}), "env"),
    ("env-blank-key", _set("container.env", {"": "x"}), "env"),
    ("env-list", _set("container.env", ["A=1"]), "env"),
    # what a process cannot be started with is refused at submission (#11 item 5)
    ("env-name-equals", _set("container.env", {"A=B": "1"}), "container.env.A=B.key"),
    ("env-name-nul", _set("container.env", {"A\x00": "1"}), "NUL"),
    ("env-name-empty", _set("container.env", {"": "1"}), "blank"),
    ("env-value-nul", _set("container.env", {"A": "1\x00"}), "container.env.A.value"),
    ("memory-10e400", _set("container.resources.memory_mb", 10**400), "memory_mb"),
    ("memory-2e70", _set("container.resources.memory_mb", 2**70), "memory_mb"),
    ("memory-above-1tib", _set("container.resources.memory_mb", 1048577), "memory_mb"),
    ("memory-huge-string", _set("container.resources.memory_mb", "9" * 5000), "memory_mb"),
    ("cpu-huge-int", _set("container.resources.cpu", 10**400), "cpu"),
    ("cpu-huge-string", _set("container.resources.cpu", "1e400"), "cpu"),
    # http / ssh ports
    ("http-port-too-big", _set("container.http.port", 65536), "port"),
    ("http-port-negative", _set("container.http.port", -1), "port"),
    ("http-port-string", _set("container.http.port", "80"), "port"),
    ("http-auth-string", _set("container.http.requires_auth", "yes"), "requires_auth"),
    ("http-path-blank", _set("container.http.health_check_path", ""), "health_check_path"),
    ("ssh-port-too-big", _set("container.ssh", {"port": 70000}), "port"),
    # volumes
    (
        "volume-read-only-string",
        _set("container.volumes.0.read_only", "no"),
        "read_only",
    ),
    ("volume-src-int", _set("container.volumes.0.src_storage_uri", 7), "src_storage_uri"),
]

# Volume errors have exact texts (docs/protocol.md §2.2, the checks after the schema).
VOLUME_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    (
        "scheme-file",
        _volumes({"src_storage_uri": "file:///etc", "dst_path": "/a"}),
        "Invalid URI scheme: file:///etc",
    ),
    (
        "scheme-none",
        _volumes({"src_storage_uri": "/etc", "dst_path": "/a"}),
        "Invalid URI scheme: /etc",
    ),
    (
        "src-dotdot",
        _volumes({"src_storage_uri": "storage://u/../other", "dst_path": "/a"}),
        "Invalid path: storage://u/../other",
    ),
    (
        "dst-relative",
        _volumes({"src_storage_uri": "storage://u", "dst_path": "data"}),
        "Mount path must be absolute: data",
    ),
    (
        "dst-dotdot",
        _volumes({"src_storage_uri": "storage://u", "dst_path": "/a/../etc"}),
        "Invalid path: /a/../etc",
    ),
]


@pytest.mark.parametrize(
    ("body", "fragment"), [c[1:] for c in VALIDATION], ids=[c[0] for c in VALIDATION]
)
def test_create_rejects(api: Api, body: dict[str, Any], fragment: str) -> None:
    message = assert_error(api.post("/jobs", json=body))
    assert fragment in message


@pytest.mark.parametrize(
    ("body", "message"), [c[1:] for c in VOLUME_ERRORS], ids=[c[0] for c in VOLUME_ERRORS]
)
def test_create_rejects_volume(api: Api, body: dict[str, Any], message: str) -> None:
    assert assert_error(api.post("/jobs", json=body)) == message


def test_create_rejects_duplicate_volume_destination(api: Api) -> None:
    body = _volumes(
        {"src_storage_uri": "storage://u/a", "dst_path": "/data"},
        {"src_storage_uri": "storage://u/b", "dst_path": "/data", "read_only": False},
    )
    assert "unique" in assert_error(api.post("/jobs", json=body))


def test_create_accepts_unknown_key_nowhere(api: Api) -> None:
    """The strict schemas also hold for keys a newer client would send (docs/protocol.md §7.3)."""
    for key, value in (("tags", ["a"]), ("preset_name", "cpu-small"), ("max_run_time_minutes", 5)):
        message = assert_error(api.post("/jobs", json=_set(key, value)))
        assert f"{key} is not allowed key" in message


RAW_BODIES: list[tuple[str, bytes]] = [
    ("not-json", b"this is not json"),
    ("empty", b""),
    ("truncated", b'{"container": {'),
    ("array", b"[]"),
    ("array-of-body", b'[{"container": {}}]'),
    ("string", b'"job"'),
    ("number", b"42"),
    ("null", b"null"),
    ("bad-utf8", b'{"container": "\xff\xfe"}'),
    ("deeply-nested", b"[" * 100_000 + b"]" * 100_000),
    ("nan-cpu", b'{"container": {"image": "x", "resources": {"cpu": NaN, "memory_mb": 16}}}'),
    (
        "infinite-memory",
        b'{"container": {"image": "x", "resources": {"cpu": 1, "memory_mb": Infinity}}}',
    ),
    (
        "memory-1e400",
        b'{"container": {"image": "x", "resources": {"cpu": 1, "memory_mb": 1e400}}}',
    ),
    (
        "memory-400-digits",
        b'{"container": {"image": "x", "resources": {"cpu": 1, "memory_mb": 1'
        + b"0" * 400
        + b"}}}",
    ),
    (
        "memory-5000-digits",
        b'{"container": {"image": "x", "resources": {"cpu": 1, "memory_mb": 1'
        + b"0" * 5000
        + b"}}}",
    ),
    (
        "huge-int-cpu",
        b'{"container": {"image": "x", "resources": {"cpu": 1'
        + b"0" * 400
        + b', "memory_mb": 16}}}',
    ),
    (
        "huge-int-timeout",
        b'{"schedule_timeout": 1'
        + b"0" * 400
        + b', "container": {"image": "x", "resources": {"cpu": 1, "memory_mb": 16}}}',
    ),
    (
        "too-many-digits",
        b'{"container": {"image": "x", "resources": {"cpu": 1, "memory_mb": 1'
        + b"0" * 5000
        + b"}}}",
    ),
]


@pytest.mark.parametrize("raw", [r for _, r in RAW_BODIES], ids=[i for i, _ in RAW_BODIES])
def test_create_rejects_malformed_body(api: Api, raw: bytes) -> None:
    response = api.post("/jobs", data=raw, headers={"Content-Type": "application/json"})
    assert_error(response)


def test_create_rejects_non_json_error_text(api: Api) -> None:
    response = api.post("/jobs", data=b"nope", headers={"Content-Type": "application/json"})
    assert response.json() == {"error": "Expecting value: line 1 column 1 (char 0)"}


def test_create_rejects_oversized_body(api: Api) -> None:
    body = job_body("true")
    body["description"] = "x" * (1024 * 1024 + 1)
    response = api.post("/jobs", json=body)
    assert response.status_code in (400, 413)
    if response.status_code == 400:
        assert_error(response)


def test_create_missing_container_error_text(api: Api) -> None:
    response = api.post("/jobs", json={})
    assert response.json() == {"error": "{'container': DataError(is required)}"}


# ---------------------------------------------------------------------------- names


def test_duplicate_live_name_is_rejected(fresh: Api) -> None:
    name = unique_name("dup")
    first = fresh.create(job_body("sleep 60", name=name))
    try:
        message = assert_error(fresh.post("/jobs", json=job_body("true", name=name)))
        assert message == (
            f"Failed to create job: job with name '{name}' and owner '{fresh.user}' "
            f"already exists: '{first['id']}'"
        )
    finally:
        fresh.kill(first["id"])
    # Killed means finished: the name is free again.
    second = fresh.create(job_body("true", name=name))
    assert second["name"] == name
    assert second["id"] != first["id"]


def test_name_reusable_after_finish_and_per_owner(fresh: Api, other: Api) -> None:
    name = unique_name("reuse")
    first = fresh.create(job_body("true", name=name))
    # Another user may use the same name while the first job lives.
    theirs = other.create(job_body("sleep 60", name=name))
    try:
        assert fresh.wait(first["id"])["status"] == "succeeded"
        again = fresh.create(job_body("sleep 60", name=name))
        assert again["name"] == name
        # The newest job with the name is live now: a third one is refused.
        message = assert_error(fresh.post("/jobs", json=job_body("true", name=name)))
        assert message.endswith(f"already exists: '{again['id']}'")
        fresh.kill(again["id"])
    finally:
        other.kill(theirs["id"])


# ---------------------------------------------------------------------------- GET /jobs


def test_list_empty(fresh: Api) -> None:
    response = fresh.get("/jobs")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == {"jobs": []}


def test_list_oldest_first_and_filters(fresh: Api, other: Api) -> None:
    ok = fresh.create(job_body("true", name=unique_name("a")))
    bad = fresh.create(sh("exit 1"))
    live = fresh.create(job_body("sleep 60", name=unique_name("b")))
    theirs = other.create(job_body("true"))
    try:
        fresh.wait(ok["id"])
        fresh.wait(bad["id"])
        fresh.wait(live["id"], ("running",))
        ids = [ok["id"], bad["id"], live["id"]]

        response = fresh.get("/jobs")
        assert response.status_code == 200
        assert list(response.json()) == ["jobs"]
        jobs = response.json()["jobs"]
        assert [j["id"] for j in jobs] == ids
        # Items are full job objects, the same as GET /jobs/{id}.
        assert jobs[0] == fresh.job(ok["id"])

        def listed(*query: tuple[str, str]) -> list[str]:
            r = fresh.get("/jobs", params=list(query))
            assert r.status_code == 200, r.text
            return [j["id"] for j in r.json()["jobs"]]

        assert listed(("status", "succeeded")) == [ok["id"]]
        assert listed(("status", "failed")) == [bad["id"]]
        assert listed(("status", "running")) == [live["id"]]
        assert listed(("status", "pending")) == []
        assert listed(("status", "failed"), ("status", "succeeded")) == [ok["id"], bad["id"]]
        assert listed(("status", "running"), ("status", "succeeded"), ("status", "failed")) == ids
        assert listed(("name", ok["name"])) == [ok["id"]]
        assert listed(("name", unique_name("none"))) == []
        assert listed(("owner", fresh.user)) == ids
        assert listed(("owner", other.user)) == []
        assert listed(("owner", other.user), ("owner", fresh.user)) == ids
        assert listed(("status", "succeeded"), ("name", ok["name"])) == [ok["id"]]
        assert listed(("status", "running"), ("name", ok["name"])) == []
        assert listed(("hostname", f"{live['id']}.jobs.localhost")) == [live["id"]]
        assert listed(("hostname", f"{live['name']}--{fresh.user}.jobs.localhost")) == [live["id"]]
        # Users only ever see their own jobs.
        assert [j["id"] for j in other.jobs()] == [theirs["id"]]
        assert other.jobs(owner=fresh.user) == []
    finally:
        fresh.kill(live["id"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ([("status", "unknown")], "'unknown' is not a valid JobStatus"),
        ([("status", "Running")], "'Running' is not a valid JobStatus"),
        ([("status", "running"), ("status", "cancelled")], "'cancelled' is not a valid JobStatus"),
        ([("status", "")], "'' is not a valid JobStatus"),
    ],
    ids=["unknown", "capitalised", "second-bad", "empty"],
)
def test_list_rejects_bad_status(api: Api, query: list[tuple[str, str]], message: str) -> None:
    assert assert_error(api.get("/jobs", params=query)) == message


@pytest.mark.parametrize(
    "query",
    [
        [("name", "Bad_Name")],
        [("name", "ab")],
        [("name", "abc-")],
        [("owner", "No Such User")],
        [("owner", "x")],
        [("hostname", "job-x.jobs.localhost"), ("name", "abc")],
        [("hostname", "job-x.jobs.localhost"), ("owner", "user")],
    ],
    ids=[
        "name-pattern",
        "name-short",
        "name-dash",
        "owner-pattern",
        "owner-short",
        "host-name",
        "host-owner",
    ],
)
def test_list_rejects_bad_filters(api: Api, query: list[tuple[str, str]]) -> None:
    assert_error(api.get("/jobs", params=query))


def test_list_hostname_with_name_is_invalid_request(api: Api) -> None:
    response = api.get("/jobs", params={"hostname": "x.jobs.localhost", "name": "abc"})
    assert assert_error(response) == "Invalid request"


# ---------------------------------------------------------------------------- GET/DELETE one


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize(
    "job_id", ["job-00000000-0000-4000-8000-000000000000", "nope", "job name with spaces"]
)
def test_unknown_job(api: Api, method: str, job_id: str) -> None:
    response = api.request(method, f"/jobs/{job_id}")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == {"error": f"no such job {job_id}"}


def test_job_names_are_not_ids(fresh: Api) -> None:
    job = fresh.create(job_body("true", name=unique_name("byname")))
    assert fresh.get(f"/jobs/{job['name']}").json() == {"error": f"no such job {job['name']}"}


def test_other_users_job_is_forbidden(fresh: Api, other: Api) -> None:
    job = fresh.create(job_body("sleep 60"))
    try:
        uri = f"job://{fresh.user}/{job['id']}"
        for method, action in (("GET", "read"), ("DELETE", "write")):
            response = other.request(method, f"/jobs/{job['id']}")
            assert response.status_code == 403
            assert response.headers["Content-Type"] == JSON_TYPE
            assert response.json() == {"resources": [{"uri": uri, "action": action}]}
        # The failed kill did nothing.
        assert fresh.job(job["id"])["status"] in ("pending", "running")
    finally:
        fresh.kill(job["id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/jobs"),
        ("POST", "/jobs"),
        ("GET", "/jobs/job-00000000-0000-4000-8000-000000000000"),
        ("DELETE", "/jobs/job-00000000-0000-4000-8000-000000000000"),
        ("GET", "/jobs/job-00000000-0000-4000-8000-000000000000/log"),
        ("GET", "/jobs/job-00000000-0000-4000-8000-000000000000/top"),
        ("POST", "/jobs/job-00000000-0000-4000-8000-000000000000/save"),
    ],
)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer garbage", "Bearer ", "Token abc", "FOREIGN", "NO-IDENTITY"],
    ids=["none", "garbage", "empty", "other-scheme", "foreign-signature", "no-identity"],
)
def test_unauthorized(
    platform: LocalPlatform, method: str, path: str, authorization: str | None
) -> None:
    headers = {}
    if authorization == "FOREIGN":
        headers["Authorization"] = f"Bearer {foreign_token(platform.user)}"
    elif authorization == "NO-IDENTITY":
        # Signed by the platform, but without the `identity` claim.
        secret = (platform.data_dir / "jwt-secret").read_bytes()
        headers["Authorization"] = "Bearer " + jwt.encode({"sub": "x"}, secret, algorithm="HS256")
    elif authorization is not None:
        headers["Authorization"] = authorization
    response = requests.request(method, platform.url + path, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == TEXT_TYPE
    if authorization == "FOREIGN":  # signed with another secret: says which one to use
        assert response.text.startswith("401: Unauthorized: the token was issued by a platform")
        assert "--data-dir" in response.text
    else:
        assert response.text == "401: Unauthorized"


def test_kill_unknown_job_without_token_is_401_first(platform: LocalPlatform) -> None:
    response = requests.delete(f"{platform.url}/jobs/nope", timeout=10)
    assert response.status_code == 401


# ---------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    "path", ["/jobs/", "/jobs/x/", "/job", "/jobs/x/y", "/jobs/x/logs", "/config/", "/"]
)
def test_unrouted_paths_are_404(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.text == "404: Not Found"


def test_trailing_slash_post_is_404(api: Api) -> None:
    response = api.post("/jobs/", json=job_body("true"))
    assert response.status_code == 404
    assert response.text == "404: Not Found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/jobs"),
        ("DELETE", "/jobs"),
        ("PATCH", "/jobs"),
        ("POST", "/jobs/job-x"),
        ("PUT", "/jobs/job-x"),
        ("POST", "/ping"),
        ("POST", "/config"),
        ("POST", "/jobs/job-x/log"),
        ("GET", "/jobs/job-x/save"),
    ],
)
def test_wrong_method_is_405(api: Api, method: str, path: str) -> None:
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == TEXT_TYPE
    assert response.text == "405: Method Not Allowed"


def test_get_job_matches_list_item(fresh: Api) -> None:
    job = fresh.create(job_body("true"))
    done = fresh.wait(job["id"])
    assert fresh.jobs() == [done]
    assert fresh.job(job["id"]) == done
