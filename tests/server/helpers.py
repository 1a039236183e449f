"""Plain-`requests` helpers for the server contract tests (no neuro_sync client code)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import requests
import websocket

from neuro_sync.local.process_runtime import default_jobs_root

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
FINISHED = ("succeeded", "failed")
# The spec's maximum memory_mb (1 TiB): accepted, but more than a test machine has.
HUGE_MEMORY_MB = 1 << 20
# Every wait in this suite is bounded by this; the jobs involved end in well under a second.
WAIT_TIMEOUT = 30.0
POLL = 0.02


def unique_user() -> str:
    """A fresh user name (3-21 characters of the user-name alphabet)."""
    return f"u{uuid.uuid4().hex[:12]}"


def unique_name(prefix: str = "job") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def job_body(command: str = "true", **top: Any) -> dict[str, Any]:
    """A minimal valid POST /jobs body for a job that fits on this machine."""
    body: dict[str, Any] = {
        "container": {
            "image": "ubuntu",
            "command": command,
            "resources": {"cpu": 0.1, "memory_mb": 16},
        }
    }
    body.update(top)
    return body


def sh(script: str, **top: Any) -> dict[str, Any]:
    """A job running `sh -c script` (single quotes in `script` are not allowed)."""
    assert "'" not in script
    return job_body(f"sh -c '{script}'", **top)


# A child that leaves the job's session and process group, then sleeps: `escpid` holds its pid.
ESCAPE_PY = (
    "import os, time; os.setsid(); open('escpid.tmp', 'w').write(str(os.getpid())); "
    "os.rename('escpid.tmp', 'escpid'); time.sleep(60)"
)


def escaping(script: str) -> dict[str, Any]:
    """A job running `script` after starting the escaping child in the background."""
    body = sh(f'python3 -c "$ESCAPE" & {script}')
    body["container"]["env"] = {"ESCAPE": ESCAPE_PY}
    return body


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


class Api:
    """One user's view of the platform: the API base URL and a Bearer token."""

    def __init__(self, url: str, token: str, user: str) -> None:
        self.url = url
        self.token = token
        self.user = user
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/jobs", json=body)
        assert response.status_code == 202, response.text
        job: dict[str, Any] = response.json()
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def jobs(self, **query: Any) -> list[dict[str, Any]]:
        response = self.get("/jobs", params=query)
        assert response.status_code == 200, response.text
        jobs: list[dict[str, Any]] = response.json()["jobs"]
        return jobs

    def kill(self, job_id: str) -> None:
        response = self.delete(f"/jobs/{job_id}")
        assert response.status_code == 204, response.text

    def wait(
        self, job_id: str, statuses: Collection[str] = FINISHED, timeout: float = WAIT_TIMEOUT
    ) -> dict[str, Any]:
        """Poll until the job is in one of `statuses`; return it."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"{job_id} still {job['status']} after {timeout} s")
            time.sleep(POLL)


def work_dir(data_dir: Path, job_id: str) -> Path:
    """The job's working directory on the local platform (its `$HOME` and cwd)."""
    return default_jobs_root(data_dir) / job_id


def release(data_dir: Path, job_id: str) -> None:
    """Let a job started with `GATED` go on."""
    (work_dir(data_dir, job_id) / "go").touch()


# A shell fragment that blocks until the test calls `release()`: no sleeps with timed outcomes.
GATE = "while [ ! -e go ]; do sleep 0.02; done"


def channel_output_until(ws: websocket.WebSocket, wanted: bytes) -> bytes:
    """Channel-1 (stdout) output of an exec/attach socket until it contains `wanted`; the
    socket's timeout bounds the wait."""
    seen = b""
    while wanted not in seen:
        frame = ws.recv()
        assert frame, f"closed before {wanted!r}; saw {seen!r}"
        if isinstance(frame, bytes) and frame[:1] == b"\x01":
            seen += frame[1:]
    return seen


def channel_exit_code(ws: websocket.WebSocket) -> int:
    """Read an exec/attach socket to its exit code frame (channel 3)."""
    while True:
        frame = ws.recv()
        assert frame, "closed without an exit code"
        if isinstance(frame, bytes) and frame[:1] == b"\x03":
            code: int = json.loads(frame[1:])["exit_code"]
            return code
