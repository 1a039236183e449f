"""The 2022 dialect on the Slurm runtime (docs/cluster.md "The 2022 dialect on Slurm"):
restart policies (`always` here; `on-failure` across platform crashes in
test_restart_and_sdk.py), life spans and their bump, kill → `cancelled`, log `since` and
`timestamps`, exec and port forwarding over the monitoring WebSockets, `pass_config`, and
what is refused, against the private cluster of tests/slurm/conftest.py, with plain
`requests` and `websocket-client`."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from neuro_sync.local import LocalPlatform
from neuro_sync.local.slurm_cluster import LocalCluster

from ..server.helpers import Api, unique_user
from .conftest import cancel_all
from .helpers import GUARD, STOPS_ON_TERM, release_store, slurm_jobs, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.integration]

FINISHED = ("succeeded", "failed", "cancelled")
MINUTE = 2.0  # seconds in a life-span minute on this module's platform


@pytest.fixture(scope="module")
def platform22(
    cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalPlatform]:
    lp = LocalPlatform(
        tmp_path_factory.mktemp("slurm-2022"),
        runtime="slurm",
        slurm_conf=cluster.conf,
        dialect="2022",
        life_span_minute=MINUTE,
    ).start()
    try:
        yield lp
    finally:
        cancel_all(cluster)
        lp.stop()
        release_store(lp.data_dir)


@pytest.fixture
def api(platform22: LocalPlatform) -> Api:
    user = unique_user()
    return Api(platform22.url, platform22.issue_token(user), user)


def _busybox(command: str, *, volume: str | None = None, **top: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "image": "busybox",
        "command": command,
        "resources": {"cpu": 0.5, "memory_mb": 64},
    }
    if volume is not None:  # the user's storage://<user>/<volume> as /data, writable
        container["volumes"] = [
            {"src_storage_uri": f"storage:{volume}", "dst_path": "/data", "read_only": False}
        ]
    return {"container": container, **top}


def _wait(api: Api, job_id: str, statuses: tuple[str, ...] = FINISHED) -> dict[str, Any]:
    return api.wait(job_id, statuses, timeout=GUARD)


def _storage(platform: LocalPlatform, api: Api, volume: str) -> Path:
    return platform.data_dir / "storage" / api.user / volume


def _recv(ws: websocket.WebSocket) -> bytes:
    """The next frame's payload (b"" once the server has closed)."""
    frame = ws.recv()
    return frame if isinstance(frame, bytes) else frame.encode()


def _ws(api: Api, path: str) -> websocket.WebSocket:
    url = api.url.replace("http://", "ws://", 1) + path
    return websocket.create_connection(
        url, header=[f"Authorization: Bearer {api.token}"], timeout=GUARD
    )


def _exec_frames(api: Api, path: str) -> list[bytes]:
    ws = _ws(api, path)
    frames = []
    while frame := _recv(ws):
        frames.append(frame)
        if frame[:1] == b"\x03":
            break
    ws.close()
    return frames


def test_always_restarts_a_succeeding_job_and_a_kill_cancels_it(
    api: Api, cluster: LocalCluster
) -> None:
    job = api.create(_busybox("echo tick", restart_policy="always"))
    wait_until(lambda: int(api.job(job["id"])["history"]["restarts"]) >= 1, "a restart")
    api.kill(job["id"])
    done = _wait(api, job["id"])
    assert (done["status"], done["history"]["reason"]) == ("cancelled", "UserRequested")
    restarts = int(api.job(job["id"])["history"]["restarts"])

    def all_ended() -> bool:
        return all(
            j["job_state"] in ("COMPLETED", "CANCELLED") for j in slurm_jobs(cluster, job["id"])
        )

    wait_until(all_ended, "its Slurm jobs to end")
    # Nothing submitted after the kill: an attempt per restart, plus the one killed or cut.
    assert len(slurm_jobs(cluster, job["id"])) in (restarts, restarts + 1)
    assert int(api.job(job["id"])["history"]["restarts"]) == restarts


def test_life_span_ends_the_job_and_a_bump_extends_it(api: Api, cluster: LocalCluster) -> None:
    bumped = api.create(_busybox(STOPS_ON_TERM, max_run_time_minutes=1))
    _wait(api, bumped["id"], ("running",))
    response = api.request(
        "PUT",
        f"/jobs/{bumped['id']}/max_run_time_minutes",
        json={"additional_max_run_time_minutes": 3},
    )
    assert response.status_code == 204, response.text
    # A job with the same life span, started after it, and not bumped.
    plain = api.create(_busybox(STOPS_ON_TERM, max_run_time_minutes=1))
    done = _wait(api, plain["id"])
    assert (done["status"], done["history"]["reason"]) == ("cancelled", "LifeSpanEnded")
    wait_until(lambda: slurm_jobs(cluster, plain["id"])[0]["job_state"] == "CANCELLED", "scancel")
    # The bumped job has run longer than its first life span, and runs on.
    still = api.job(bumped["id"])
    assert still["status"] == "running", still["history"]
    assert still["history"]["run_time_seconds"] > MINUTE
    assert still["max_run_time_minutes"] == 4
    api.kill(bumped["id"])  # a kill is `cancelled` too, with the user's reason
    done = _wait(api, bumped["id"])
    assert (done["status"], done["history"]["reason"]) == ("cancelled", "UserRequested")


def test_log_since_and_timestamps(platform22: LocalPlatform, api: Api) -> None:
    gate = "until [ -e /data/go ]; do sleep 0.1; done"
    job = api.create(_busybox(f"sh -c 'echo one; {gate}; echo two'", volume="gate"))
    _wait(api, job["id"], ("running",))
    first = api.get(f"/jobs/{job['id']}/log", params={"timestamps": "true"}, stream=True)
    line = next(first.iter_lines())
    first.close()
    stamp, text = line.decode().split(" ", 1)
    assert text == "one"
    one_at = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    (_storage(platform22, api, "gate") / "go").touch()
    assert _wait(api, job["id"])["status"] == "succeeded"
    full = api.get(f"/jobs/{job['id']}/log", params={"timestamps": "1"}).text.splitlines()
    assert [x.split(" ", 1)[1] for x in full] == ["one", "two"]
    later = one_at + datetime.timedelta(microseconds=1)
    assert api.get(f"/jobs/{job['id']}/log", params={"since": later.isoformat()}).text == "two\n"


def test_exec_and_port_forward_over_websockets(api: Api) -> None:
    serve = "mkdir /www; echo hi-httpd > /www/index.html; httpd -f -p 127.0.0.1:8000 -h /www"
    job = api.create(_busybox(f"sh -c 'trap \"exit 0\" TERM; {serve} & wait'"))
    _wait(api, job["id"], ("running",))
    try:
        query = "cmd=sh%20-c%20%22cat%20/www/index.html;%20echo%20err%20>%262;%20exit%205%22"
        frames = _exec_frames(api, f"/jobs/{job['id']}/exec?{query}&stdout=1&stderr=1")
        assert b"".join(f[1:] for f in frames if f[:1] == b"\x01") == b"hi-httpd\n"
        assert b"".join(f[1:] for f in frames if f[:1] == b"\x02") == b"err\n"
        assert json.loads(frames[-1][1:]) == {"exit_code": 5}
        # With tty=1 the command has a terminal (srun's, on the job's node).
        query = "cmd=sh%20-c%20%22test%20-t%201%20%26%26%20echo%20tty%22&tty=1"
        frames = _exec_frames(api, f"/jobs/{job['id']}/exec?{query}")
        assert b"".join(f[1:] for f in frames if f[:1] == b"\x01").strip() == b"tty"
        assert json.loads(frames[-1][1:]) == {"exit_code": 0}

        def served() -> bool:  # until httpd listens, the handshake is refused
            try:
                conn = _ws(api, f"/jobs/{job['id']}/port_forward/8000")
            except websocket.WebSocketBadStatusException:
                return False
            conn.send_binary(b"GET /index.html HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := _recv(conn):
                reply += chunk
            return reply.endswith(b"hi-httpd\n")

        wait_until(served, "httpd through the WebSocket")
        # No terminal to attach to on Slurm (the job's output can still be followed).
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            _ws(api, f"/jobs/{job['id']}/attach?tty=1&stdin=1")
        assert refused.value.status_code == 400
        assert b"slurm runtime gives jobs no terminal" in (refused.value.resp_body or b"")
    finally:
        api.kill(job["id"])


def test_pass_config_gives_the_container_a_login_of_its_owner(
    platform22: LocalPlatform, api: Api
) -> None:
    job = api.create(_busybox("sh -c 'echo \"$NEURO_PASSED_CONFIG\"'", pass_config=True))
    assert _wait(api, job["id"])["status"] == "succeeded"
    passed = json.loads(base64.b64decode(api.get(f"/jobs/{job['id']}/log").text))
    assert (passed["cluster"], passed["url"]) == ("default", platform22.url)
    as_job = Api(platform22.url, passed["token"], api.user)
    assert as_job.job(job["id"])["pass_config"] is True
    assert passed["token"] not in json.dumps(api.job(job["id"]))


def test_a_privileged_job_is_refused_with_the_reason(api: Api) -> None:
    response = api.post("/jobs", json=_busybox("true", privileged=True))
    assert response.status_code == 400
    assert "privileged jobs are refused on the Slurm runtime" in response.json()["error"]


def test_a_tty_job_runs_without_a_terminal(api: Api) -> None:
    body = _busybox("sh -c 'test -t 1 && echo tty || echo notty'")
    body["container"]["tty"] = True
    job = api.create(body)
    assert _wait(api, job["id"])["status"] == "succeeded"
    assert api.get(f"/jobs/{job['id']}/log").text == "notty\n"
