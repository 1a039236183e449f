"""Wire objects as the August 2019 server sends them (docs/protocol.md §1.4, §2.6) and JWTs."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import Any

from yarl import URL

from neuro_sync import ClusterConfig, Preset

BASE = "http://api.test/api/v1"
# A different host than the API on purpose: log/top/save must use `monitoring_url` from /config.
MONITORING = "http://monitoring.test/api/v1/jobs"
REGISTRY_URL = "https://registry-dev.neu.ro"
REGISTRY = "registry-dev.neu.ro"
USER = "alice"
JOB_ID = "job-0d6f8a3e-1c2b-4d5e-8f90-123456789abc"  # job-<uuid4>, 40 characters
CREATED_AT = "2019-08-16T10:11:12.345678+00:00"
STARTED_AT = "2019-08-16T10:11:20+00:00"  # isoformat() drops a zero fraction
FINISHED_AT = "2019-08-16T10:12:00.500000+00:00"
SSH_SERVER = "ssh://nobody@ssh-auth-dev.neu.ro:22"
JOBS_DOMAIN = "jobs-dev.neu.ro"

_MISSING: Any = object()
# The cluster part of /config when the test does not care: these presets, in this order.
CPU_SMALL = {"name": "cpu-small", "cpu": 2, "memory_mb": 2048, "is_preemptible": False}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: Mapping[str, object], signature: str = "c2lnbmF0dXJl") -> str:
    """An unsigned-looking HS256 JWT with these claims (the client never verifies it)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(dict(claims)).encode())}.{signature}"


TOKEN = make_jwt({"identity": USER})


def config_payload(
    *, monitoring_url: str = MONITORING, authorized: bool = True, base: str = BASE
) -> dict[str, Any]:
    """`GET /config` as the 2019 server sends it (docs/protocol.md §1.4): the OAuth part always, the
    cluster part only for an accepted token, with the server's built-in presets."""
    data: dict[str, Any] = {
        "auth_url": "https://dev-neuromation.auth0.com/authorize",
        "token_url": "https://dev-neuromation.auth0.com/oauth/token",
        "client_id": "CLIENT-ID",
        "audience": "https://platform.dev.neuromation.io",
        "callback_urls": [
            "http://127.0.0.1:54540",
            "http://127.0.0.1:54541",
            "http://127.0.0.1:54542",
        ],
        "headless_callback_url": "https://dev.neu.ro/oauth/show-code",
    }
    if authorized:
        data.update(
            {
                "registry_url": REGISTRY_URL,
                "storage_url": f"{base}/storage",
                "users_url": f"{base}/users",
                "monitoring_url": monitoring_url,
                "resource_presets": [
                    {
                        "name": "gpu-small",
                        "cpu": 7,
                        "memory_mb": 30720,
                        "gpu": 1,
                        "gpu_model": "nvidia-tesla-k80",
                        "is_preemptible": False,
                    },
                    {
                        "name": "gpu-large",
                        "cpu": 7,
                        "memory_mb": 61440,
                        "gpu": 1,
                        "gpu_model": "nvidia-tesla-v100",
                        "is_preemptible": False,
                    },
                    CPU_SMALL,
                    {"name": "cpu-large", "cpu": 3, "memory_mb": 14336, "is_preemptible": False},
                ],
            }
        )
    return data


def cluster_config(base: str = BASE, monitoring_url: str | None = None) -> ClusterConfig:
    """The cluster part of /config for an API at `base` (monitoring under it unless given)."""
    return ClusterConfig(
        registry_url=URL(REGISTRY_URL),
        storage_url=URL(f"{base}/storage"),
        users_url=URL(f"{base}/users"),
        monitoring_url=URL(monitoring_url or f"{base}/jobs"),
        resource_presets={"cpu-small": Preset(cpu=2.0, memory_mb=2048)},
    )


def make_job(
    *,
    id: str = JOB_ID,
    owner: str = USER,
    status: str = "pending",
    reason: str | None = None,
    status_description: str | None = None,
    created_at: str = CREATED_AT,
    started_at: str | None = _MISSING,
    finished_at: str | None = _MISSING,
    exit_code: int | None = None,
    image: str = "ubuntu:latest",
    entrypoint: str | None = None,
    command: str | None = "sleep 1",
    cpu: float = 0.1,
    memory_mb: int = 16,
    gpu: int | None = None,
    gpu_model: str | None = None,
    shm: bool | None = None,
    http_port: int | None = None,
    requires_auth: bool = False,
    env: Mapping[str, str] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    name: str | None = None,
    description: str | None = None,
    is_preemptible: bool = False,
    schedule_timeout: float | None = None,
) -> dict[str, Any]:
    """A job object exactly as the August 2019 server sends it (docs/protocol.md §2.6).

    Always present: id, owner, cluster_name, status, history (with explicit-null reason and
    description), container (env and volumes always echoed), ssh_server, ssh_auth_server,
    is_preemptible, internal_hostname. Only when applicable: name, description, http_url,
    http_url_named (http and name), schedule_timeout; container entrypoint/command/http;
    resources gpu/gpu_model/shm; history started_at/finished_at/exit_code.
    Timestamps follow the status unless given (None = leave out).
    """
    finished = status in ("succeeded", "failed")
    if started_at is _MISSING:
        started_at = STARTED_AT if status == "running" or finished else None
    if finished_at is _MISSING:
        finished_at = FINISHED_AT if finished else None
    history: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "description": status_description,
        "created_at": created_at,
    }
    if started_at is not None:
        history["started_at"] = started_at
    if finished_at is not None:
        history["finished_at"] = finished_at
    if exit_code is not None:
        history["exit_code"] = exit_code
    resources: dict[str, Any] = {"cpu": float(cpu), "memory_mb": memory_mb}
    if gpu is not None:
        resources["gpu"] = gpu
    if gpu_model:
        resources["gpu_model"] = gpu_model
    if shm is not None:
        resources["shm"] = shm
    container: dict[str, Any] = {
        "image": image,
        "env": dict(env or {}),
        "volumes": copy.deepcopy(volumes or []),
        "resources": resources,
    }
    if entrypoint is not None:
        container["entrypoint"] = entrypoint
    if command is not None:
        container["command"] = command
    if http_port is not None:
        container["http"] = {
            "port": http_port,
            "health_check_path": "/",
            "requires_auth": requires_auth,
        }
    job: dict[str, Any] = {
        "id": id,
        "owner": owner,
        "cluster_name": "default",
        "status": status,
        "history": history,
        "container": container,
        "ssh_server": SSH_SERVER,
        "ssh_auth_server": SSH_SERVER,
        "is_preemptible": is_preemptible,
        "internal_hostname": f"{id}.default",
    }
    if name is not None:
        job["name"] = name
    if description:
        job["description"] = description
    if http_port is not None:
        job["http_url"] = f"http://{id}.{JOBS_DOMAIN}"
        if name is not None:
            job["http_url_named"] = f"http://{name}--{owner}.{JOBS_DOMAIN}"
    if schedule_timeout is not None:
        job["schedule_timeout"] = schedule_timeout
    return job


def monitoring_cluster(monitoring_url: str) -> ClusterConfig:
    """The test cluster, with its monitoring (WebSocket) endpoints at `monitoring_url`."""
    return ClusterConfig(
        registry_url=URL(REGISTRY_URL),
        storage_url=URL(f"{BASE}/storage"),
        users_url=URL(f"{BASE}/users"),
        monitoring_url=URL(monitoring_url),
    )
