"""The 2022 dialect of the local platform (`LocalPlatform(dialect="2022")`), and what the 2019
dialect does with the same input, with plain `requests` and `websocket-client`.

The wire is the spec's (openapi/jobs.yaml, `x-dialect: "2022"`); docs/dialects.md says what
each dialect does.
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from neuro_sync.local import LocalPlatform

from .helpers import (
    GATE,
    Api,
    channel_exit_code,
    channel_output_until,
    release,
    sh,
    unique_name,
    unique_user,
    wait_for,
    work_dir,
)

FINISHED = ("succeeded", "failed", "cancelled")
MINUTE = 0.5  # seconds in a life-span minute on the 2022 platform of this module


@pytest.fixture(scope="module")
def platform22(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(
        tmp_path_factory.mktemp("platform-2022"),
        dialect="2022",
        runtime="process",
        life_span_minute=MINUTE,
    ) as lp:
        yield lp


@pytest.fixture
def api22(platform22: LocalPlatform) -> Api:
    user = unique_user()
    return Api(platform22.url, platform22.issue_token(user), user)


def _ws_url(api: Api, path: str) -> str:
    return api.url.replace("http://", "ws://", 1) + path


def _recv(ws: websocket.WebSocket) -> bytes:
    """The next frame's payload (b"" once the server has closed)."""
    frame = ws.recv()
    return frame if isinstance(frame, bytes) else frame.encode()


def _ws(api: Api, path: str, **options: Any) -> websocket.WebSocket:
    return websocket.create_connection(
        _ws_url(api, path), header=[f"Authorization: Bearer {api.token}"], timeout=30, **options
    )


def _refused(api: Api, path: str) -> tuple[int, dict[str, Any]]:
    """The status and `X-Error` body of a refused WebSocket handshake."""
    response = api.get(
        path,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(b"x" * 16).decode(),
        },
    )
    error: dict[str, Any] = json.loads(response.headers.get("X-Error", "{}"))
    return response.status_code, error


# ---------------------------------------------------------------------------- 2019 stays


def test_2019_refuses_the_2022_keys(api: Api) -> None:
    for body, key in (
        (sh("true", tags=["a"]), "tags"),
        (sh("true", max_run_time_minutes=5), "max_run_time_minutes"),
        (sh("true", restart_policy="always"), "restart_policy"),
        (sh("true", pass_config=False), "pass_config"),
    ):
        response = api.post("/jobs", json=body)
        assert response.status_code == 400
        assert response.json() == {"error": f"{{'{key}': DataError({key} is not allowed key)}}"}
    nested = sh("true")
    nested["container"]["tty"] = True
    response = api.post("/jobs", json=nested)
    assert response.status_code == 400
    assert "tty is not allowed key" in response.json()["error"]


def test_2019_ignores_the_2022_list_parameters_and_routes(fresh: Api) -> None:
    ids = [fresh.create(sh("true"))["id"] for _ in range(2)]
    listed = fresh.jobs(limit="1", reverse="1", tag="nothing", since="2100-01-01T00:00:00")
    assert [j["id"] for j in listed] == ids
    assert fresh.get("/jobs", params={"status": "cancelled"}).status_code == 400
    put = fresh.request(
        "PUT", f"/jobs/{ids[0]}/max_run_time_minutes", json={"max_run_time_minutes": 1}
    )
    assert put.status_code == 404
    assert fresh.get(f"/jobs/{ids[0]}/exec", params={"cmd": "true"}).status_code == 404
    assert fresh.get(f"/jobs/{ids[0]}/log_ws").status_code == 404
    config = fresh.get("/config").json()
    assert "clusters" not in config and "dialect" not in config["local_platform"]


def test_2019_kill_ends_succeeded_and_names_do_not_resolve(fresh: Api) -> None:
    name = unique_name()
    job = fresh.create(sh(GATE, name=name))
    assert fresh.get(f"/jobs/{name}").status_code == 400
    fresh.kill(job["id"])
    done = fresh.wait(job["id"])
    assert (done["status"], done["history"]["reason"]) == ("succeeded", None)
    assert "statuses" not in done and "ssh_server" in done


# ---------------------------------------------------------------------------- /config


def test_config_in_the_2022_shape(platform22: LocalPlatform, api22: Api) -> None:
    config = api22.get("/config").json()
    assert config["authorized"] is True
    (cluster,) = config["clusters"]
    assert cluster["name"] == "default"
    assert cluster["monitoring_url"] == f"{platform22.url}/jobs"
    small = next(p for p in cluster["resource_presets"] if p["name"] == "cpu-small")
    assert small["memory"] == 1024 * 2**20
    assert config["local_platform"]["dialect"] == "2022"
    for key in ("auth_url", "token_url", "logout_url", "client_id", "audience"):
        assert key in config
    anonymous = requests.get(f"{platform22.url}/config", timeout=30).json()
    assert anonymous["authorized"] is False and "clusters" not in anonymous


# ---------------------------------------------------------------------------- submission


@pytest.mark.parametrize(
    ("top", "container", "message"),
    [
        ({"tags": ["x"] * 17}, {}, "tags"),
        ({"tags": ["has space"]}, {}, "tags.0"),
        ({"tags": [""]}, {}, "tags.0"),
        ({"max_run_time_minutes": 0}, {}, "max_run_time_minutes"),
        ({"restart_policy": "sometimes"}, {}, "restart_policy"),
        ({"pass_config": "yes"}, {}, "pass_config"),
        ({"priority": "urgent"}, {}, "priority"),
        ({}, {"working_dir": "relative"}, "container.working_dir"),
        ({}, {"tty": 1}, "container.tty"),
    ],
)
def test_2022_validates_the_new_keys(
    api22: Api, top: dict[str, Any], container: dict[str, Any], message: str
) -> None:
    body = sh("true", **top)
    body["container"].update(container)
    response = api22.post("/jobs", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(f"{{'{message}': DataError(")


def test_2022_refusals_beyond_the_schema(api22: Api) -> None:
    unknown = api22.post("/jobs", json=sh("true", preset_name="no-such"))
    assert unknown.json() == {"error": "Preset was not found"}
    passed = sh("true", pass_config=True)
    passed["container"]["env"] = {"NEURO_PASSED_CONFIG": "x"}
    assert "already specified" in api22.post("/jobs", json=passed).json()["error"]
    elsewhere = api22.post("/jobs", json=sh("true", cluster_name="other"))
    assert elsewhere.status_code == 403


def test_2022_job_object(api22: Api) -> None:
    body = sh("exit 0", tags=["b", "a", "b"], max_run_time_minutes=30, name=unique_name())
    del body["container"]["resources"]["memory_mb"]
    body["container"]["resources"]["memory"] = 100 * 2**20 + 1  # bytes: rounded up to MiB
    job = api22.create(body)
    assert job["container"]["resources"]["memory_mb"] == 101
    assert job["tags"] == ["a", "b"]
    assert job["max_run_time_minutes"] == 30
    assert job["restart_policy"] == "never"
    assert job["uri"] == f"job://default/{api22.user}/{job['id']}"
    assert job["internal_hostname_named"] == f"{body['name']}--{api22.user}.default"
    assert (job["total_price_credits"], job["price_credits_per_hour"]) == ("0", "0")
    assert "ssh_server" not in job
    done = api22.wait(job["id"], FINISHED)
    assert [s["status"] for s in done["statuses"]] == ["pending", "running", "succeeded"]
    assert done["statuses"][-1]["exit_code"] == 0
    assert done["history"]["restarts"] == 0
    assert done["history"]["run_time_seconds"] >= 0


def test_2022_flat_body_from_a_preset(api22: Api) -> None:
    response = api22.post(
        "/jobs?from_preset",
        json={
            "image": "ubuntu",
            "command": "true",
            "preset_name": "cpu-micro",
            "resources": {"shm": True},
        },
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["preset_name"] == "cpu-micro"
    assert job["container"]["resources"]["cpu"] == 0.1
    bad = api22.post("/jobs?from_preset", json={"image": "ubuntu", "resources": {"cpu": 4}})
    assert bad.status_code == 400


# ---------------------------------------------------------------------------- list


def test_2022_list_filters_and_ndjson(api22: Api) -> None:
    ids = [api22.create(sh("true", tags=["t", f"n{i}"]))["id"] for i in range(3)]
    untagged = api22.create(sh("true"))["id"]
    assert [j["id"] for j in api22.jobs(tag="t")] == ids
    assert [j["id"] for j in api22.jobs(tag=["t", "n2"])] == [ids[2]]
    assert [j["id"] for j in api22.jobs(reverse="1", limit="2")] == [untagged, ids[2]]
    created = api22.job(ids[1])["history"]["created_at"]
    assert [j["id"] for j in api22.jobs(tag="t", since=created)] == ids[1:]
    assert [j["id"] for j in api22.jobs(tag="t", until=created)] == ids[:2]
    streamed = api22.get("/jobs", params={"tag": "t"}, headers={"Accept": "application/x-ndjson"})
    assert streamed.headers["Content-Type"].startswith("application/x-ndjson")
    assert [json.loads(line)["id"] for line in streamed.text.splitlines()] == ids
    for query, text in (
        ({"limit": "0"}, "limit should be > 0"),
        ({"reverse": "maybe"}, "'maybe' is not a valid boolean"),
    ):
        response = api22.get("/jobs", params=query)
        assert response.status_code == 400
        assert response.json() == {"error": text}
    assert api22.get("/jobs", params={"since": "yesterday"}).status_code == 400
    assert api22.jobs(status="cancelled") == []


# ---------------------------------------------------------------------------- lifecycle


def test_2022_kill_by_name_ends_cancelled(api22: Api) -> None:
    name = unique_name()
    job = api22.create(sh(GATE, name=name))
    assert api22.job(name)["id"] == job["id"]
    api22.wait(name, ("running",))
    api22.kill(name)
    done = api22.wait(job["id"], FINISHED)
    assert (done["status"], done["history"]["reason"]) == ("cancelled", "UserRequested")
    assert done["statuses"][-1]["status"] == "cancelled"
    assert api22.jobs(status="cancelled")[0]["id"] == job["id"]


def test_2022_life_span_and_its_bump(api22: Api) -> None:
    job = api22.create(sh(GATE, max_run_time_minutes=1000))
    path = f"/jobs/{job['id']}/max_run_time_minutes"
    for body in ({}, {"max_run_time_minutes": 2, "additional_max_run_time_minutes": 2}):
        assert api22.request("PUT", path, json=body).status_code == 400
    assert (
        api22.request("PUT", path, json={"additional_max_run_time_minutes": 5}).status_code == 204
    )
    assert api22.job(job["id"])["max_run_time_minutes"] == 1005
    api22.wait(job["id"], ("running",))
    # Down to one (half-second) minute: the job is cancelled once it has run that long.
    assert api22.request("PUT", path, json={"max_run_time_minutes": 1}).status_code == 204
    done = api22.wait(job["id"], FINISHED)
    assert (done["status"], done["history"]["reason"]) == ("cancelled", "LifeSpanEnded")
    assert api22.request("PUT", path, json={"max_run_time_minutes": 5}).status_code == 400


def test_2022_restart_policy(api22: Api) -> None:
    # A restart is a fresh process in a fresh directory: what it keeps is outside the job.
    mark = Path("/tmp") / f"neuro-sync-restart-{uuid.uuid4().hex}"
    never = api22.create(sh("exit 4"))
    on_failure = api22.create(
        sh(f"test -e {mark} && exit 0; touch {mark}; exit 4", restart_policy="on-failure")
    )
    done = api22.wait(never["id"], FINISHED)
    assert (done["status"], done["history"]["restarts"]) == ("failed", 0)
    done = api22.wait(on_failure["id"], FINISHED)
    assert (done["status"], done["history"]["restarts"]) == ("succeeded", 1)
    reasons = [(s["status"], s["reason"]) for s in done["statuses"]]
    assert ("pending", "Restarting") in reasons
    assert [s for s, _ in reasons].count("running") == 2
    mark.unlink()


def test_2022_pass_config(platform22: LocalPlatform, api22: Api) -> None:
    job = api22.create(sh('echo "$NEURO_PASSED_CONFIG"', pass_config=True))
    api22.wait(job["id"], FINISHED)
    passed = json.loads(base64.b64decode(api22.get(f"/jobs/{job['id']}/log").text))
    assert (passed["cluster"], passed["url"]) == ("default", platform22.url)
    # The token is a login of the job's owner, and is kept nowhere in the job.
    as_job = Api(platform22.url, passed["token"], api22.user)
    assert as_job.job(job["id"])["pass_config"] is True
    assert passed["token"] not in json.dumps(api22.job(job["id"]))


# ---------------------------------------------------------------------------- monitoring


def test_2022_log_since_and_timestamps(platform22: LocalPlatform, api22: Api) -> None:
    job = api22.create(sh(f"echo one; {GATE}; echo two"))
    api22.wait(job["id"], ("running",))
    # The first line is timed before the gate opens: wait for it through a timestamped read.
    first = api22.get(f"/jobs/{job['id']}/log", params={"timestamps": "true"}, stream=True)
    line = next(first.iter_lines())
    first.close()
    stamp, text = line.decode().split(" ", 1)
    assert text == "one"
    one_at = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    release(platform22.data_dir, job["id"])
    api22.wait(job["id"], FINISHED)
    full = api22.get(f"/jobs/{job['id']}/log", params={"timestamps": "1"}).text.splitlines()
    assert [x.split(" ", 1)[1] for x in full] == ["one", "two"]
    later = one_at + datetime.timedelta(microseconds=1)
    assert api22.get(f"/jobs/{job['id']}/log", params={"since": later.isoformat()}).text == "two\n"
    assert api22.get(f"/jobs/{job['id']}/log").text == "one\ntwo\n"
    ws = _ws(api22, f"/jobs/{job['id']}/log_ws")
    received = b""
    while True:
        frame = _recv(ws)
        if not frame:
            break
        received += frame
    assert received == b"one\ntwo\n"


def test_2022_exec_channels(platform22: LocalPlatform, api22: Api) -> None:
    job = api22.create(sh(GATE))
    api22.wait(job["id"], ("running",))
    query = "cmd=sh%20-c%20%22cat;%20echo%20err%20>%262;%20exit%205%22&stdin=1&stdout=1&stderr=1"
    ws = _ws(api22, f"/jobs/{job['id']}/exec?{query}")
    ws.send_binary(b"\x00hello\n")
    ws.send_binary(b"\x00")  # the end of stdin
    frames = []
    while True:
        frame = _recv(ws)
        if not frame:
            break
        frames.append(frame)
        if frame[:1] == b"\x03":
            break
    out = b"".join(f[1:] for f in frames if f[:1] == b"\x01")
    err = b"".join(f[1:] for f in frames if f[:1] == b"\x02")
    assert (out, err) == (b"hello\n", b"err\n")
    assert json.loads(frames[-1][1:]) == {"exit_code": 5}
    status, error = _refused(api22, f"/jobs/{job['id']}/exec")
    assert (status, error) == (400, {"error": "cmd is required"})
    status, error = _refused(api22, f"/jobs/job-{uuid.uuid4()}/exec?cmd=true")
    assert status == 400 and "no such job" in error["error"]
    release(platform22.data_dir, job["id"])
    api22.wait(job["id"], FINISHED)
    status, error = _refused(api22, f"/jobs/{job['id']}/exec?cmd=true")
    assert status == 404 and "not running" in error["error"]


def test_2022_port_forward(platform22: LocalPlatform, api22: Api) -> None:
    server = (
        "import os, socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "open('port.tmp', 'w').write(str(s.getsockname()[1])); os.rename('port.tmp', 'port')\n"
        "c, _ = s.accept(); c.sendall(b'up:' + c.recv(100)); c.close()\n"
    )
    body = sh('exec python3 -c "$SERVER"')
    body["container"]["env"] = {"SERVER": server}
    job = api22.create(body)
    port_file = work_dir(platform22.data_dir, job["id"]) / "port"
    api22.wait(job["id"], ("running",))

    wait_for(port_file.exists, "the job's server")
    port = int(port_file.read_text())
    ws = _ws(api22, f"/jobs/{job['id']}/port_forward/{port}")
    ws.send_binary(b"ping")
    assert _recv(ws) == b"up:ping"
    ws.close()
    api22.kill(job["id"])
    status, error = _refused(api22, f"/jobs/{job['id']}/port_forward/1")
    assert status in (400, 404) and error["error"]


def test_2022_attach_follows_the_output_to_the_exit_code(
    platform22: LocalPlatform, api22: Api
) -> None:
    job = api22.create(sh(f"echo before; {GATE}; echo after; exit 7"))
    api22.wait(job["id"], ("running",))
    for query, status in (("stdin=1", 400), ("tty=1", 400), ("stdout=0&stderr=0", 400)):
        assert _refused(api22, f"/jobs/{job['id']}/attach?{query}")[0] == status
    ws = _ws(api22, f"/jobs/{job['id']}/attach?stdout=1&stderr=1")
    release(platform22.data_dir, job["id"])
    frames = []
    while frame := _recv(ws):
        frames.append(frame)
        if frame[:1] == b"\x03":
            break
    assert b"".join(f[1:] for f in frames if f[:1] == b"\x01").endswith(b"after\n")
    assert json.loads(frames[-1][1:]) == {"exit_code": 7}


def _attach_tty(api: Api, job_id: str) -> websocket.WebSocket:
    return _ws(api, f"/jobs/{job_id}/attach?tty=1&stdin=1&stdout=1&stderr=1")


def test_2022_attach_to_a_job_terminal(platform22: LocalPlatform, api22: Api) -> None:
    """A job run with `container.tty` has a terminal of its own: attached clients type into it
    and size it, detaching leaves the job running, its output is in its log too."""
    script = (
        "stty size; read line; echo got:$line; "
        'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; '
        "read again; exit 9"
    )
    body = sh(script)
    body["container"]["tty"] = True
    job = api22.create(body)
    job_id = job["id"]
    api22.wait(job_id, ("running",))
    first = _attach_tty(api22, job_id)
    second = _attach_tty(api22, job_id)
    first.send_binary(b"\x00hello\r")
    assert b"got:hello" in channel_output_until(first, b"got:hello")
    # Every attached client sees the output.
    assert b"got:hello" in channel_output_until(second, b"got:hello")
    first.close()  # detaching ends nothing
    assert api22.job(job_id)["status"] == "running"
    second.send_binary(b"\x04" + json.dumps({"height": 40, "width": 120}).encode())
    channel_output_until(second, b"resized")
    second.send_binary(b"\x00bye\r")
    assert channel_exit_code(second) == 9
    assert api22.wait(job_id)["status"] == "failed"
    log = api22.get(f"/jobs/{job_id}/log").content
    assert b"24 80" in log and b"got:hello" in log and b"resized" in log


def test_2022_a_typed_ctrl_c_interrupts_the_jobs_program(
    platform22: LocalPlatform, api22: Api
) -> None:
    """The terminal is the job's controlling one: ^C typed by an attached client is SIGINT
    for its foreground program, as in a local terminal."""
    body = sh('trap "echo interrupted; exit 3" INT; touch ready; while :; do sleep 0.05; done')
    body["container"]["tty"] = True
    job = api22.create(body)
    api22.wait(job["id"], ("running",))
    ws = _attach_tty(api22, job["id"])
    ready = work_dir(platform22.data_dir, job["id"]) / "ready"
    wait_for(ready.exists, "the trap")
    ws.send_binary(b"\x00\x03")
    channel_output_until(ws, b"interrupted")
    assert channel_exit_code(ws) == 3


def test_2022_an_attached_client_types_into_a_restarted_jobs_new_terminal(
    platform22: LocalPlatform, api22: Api
) -> None:
    body = sh("read line; echo got:$line; exit 1", restart_policy="on-failure")
    body["container"]["tty"] = True
    job = api22.create(body)
    job_id = job["id"]
    try:
        api22.wait(job_id, ("running",))
        ws = _attach_tty(api22, job_id)
        ws.send_binary(b"\x00first\r")
        channel_output_until(ws, b"got:first")

        def running_again() -> bool:
            again = api22.job(job_id)
            return bool(again["history"]["restarts"] >= 1 and again["status"] == "running")

        wait_for(running_again, "the restart")
        ws.send_binary(b"\x00second\r")
        channel_output_until(ws, b"got:second")
    finally:
        api22.kill(job_id)


def test_2022_attach_tty_refusals(platform22: LocalPlatform, api22: Api) -> None:
    job = api22.create(sh(GATE))  # no terminal
    tty_body = sh(GATE)
    tty_body["container"]["tty"] = True
    tty_job = api22.create(tty_body)
    try:
        api22.wait(job["id"], ("running",))
        api22.wait(tty_job["id"], ("running",))
        status, error = _refused(api22, f"/jobs/{job['id']}/attach?tty=1&stdin=1")
        assert status == 400 and "no terminal" in error["error"]
        name = unique_user()
        other = Api(api22.url, platform22.issue_token(name), name)
        assert _refused(other, f"/jobs/{tty_job['id']}/attach?tty=1&stdin=1")[0] in (403, 404)
    finally:
        release(platform22.data_dir, job["id"])
        release(platform22.data_dir, tty_job["id"])


def test_2022_attach_tty_on_a_runtime_without_terminals_is_a_clear_400(
    platform22: LocalPlatform, api22: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Slurm runtime gives jobs no terminal (it has no `terminal`): attaching with tty or
    stdin is a 400 naming the runtime. Shown with the process runtime stripped of it."""
    from neuro_sync.local.process_runtime import ProcessRuntime
    from neuro_sync.local.slurm_runtime import SlurmRuntime

    assert not hasattr(SlurmRuntime, "terminal")
    body = sh(GATE)
    body["container"]["tty"] = True
    job = api22.create(body)
    try:
        api22.wait(job["id"], ("running",))
        monkeypatch.delattr(ProcessRuntime, "terminal")
        status, error = _refused(api22, f"/jobs/{job['id']}/attach?tty=1&stdin=1")
        assert status == 400
        assert "the process runtime gives jobs no terminal" in error["error"]
        # Following the output needs no terminal.
        assert _refused(api22, f"/jobs/{job['id']}/attach?stdout=1")[0] == 101
    finally:
        release(platform22.data_dir, job["id"])


def test_2022_a_client_message_is_bounded(platform22: LocalPlatform, api22: Api) -> None:
    """A client announcing a 4 GiB frame is cut off (1009) before the payload is read; the
    platform goes on serving."""
    import struct

    from neuro_sync.local.ws_monitoring import MAX_MESSAGE

    body = sh(GATE)
    body["container"]["tty"] = True
    job = api22.create(body)
    try:
        api22.wait(job["id"], ("running",))
        ws = _attach_tty(api22, job["id"])
        assert ws.sock is not None
        # A masked binary frame header with a 64-bit length, then a little of the payload.
        header = bytes([0x82, 0x80 | 127]) + struct.pack("!Q", 4 * 1024**3) + b"mask"
        ws.sock.sendall(header + b"\x00" * 1024)
        closed = None
        while closed is None:
            opcode, frame = ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                closed = struct.unpack("!H", frame.data[:2])[0]
        assert closed == 1009
        ws.shutdown()  # type: ignore[no-untyped-call]
        # Just under the limit is fine.
        ok = _attach_tty(api22, job["id"])
        ok.send_binary(b"\x00" + b"x" * (MAX_MESSAGE - 64))
        ok.close()
        assert api22.job(job["id"])["status"] == "running"
    finally:
        release(platform22.data_dir, job["id"])


def test_2022_privileged_needs_a_container_runtime(api22: Api) -> None:
    response = api22.post("/jobs", json=sh("true", privileged=True))
    assert response.status_code == 400
    assert "container runtime" in response.json()["error"]


def test_status_changes_are_bounded() -> None:
    from neuro_sync.local.store import MAX_TRANSITIONS, JobRecord

    job = JobRecord(id="job-x", owner="user", container={}, created_at="2022-01-01T00:00:00")
    job.set_status("running")
    for _ in range(MAX_TRANSITIONS):  # a job restarting for ever
        job.set_status("pending", "Restarting")
        job.set_status("running")
    changes = job.extra["statuses"]
    assert len(changes) == MAX_TRANSITIONS
    assert (changes[0]["status"], changes[-1]["status"]) == ("running", "running")


def test_2022_ndjson_failure_is_a_last_error_object(
    monkeypatch: pytest.MonkeyPatch, api22: Api
) -> None:
    from neuro_sync.local.store import JobRecord

    ids = [api22.create(sh("true", tags=["broken"]))["id"] for _ in range(3)]
    to_wire = JobRecord.to_wire

    def breaks_on_the_second(job: JobRecord, settings: Any) -> dict[str, Any]:
        if job.id == ids[1]:
            raise RuntimeError("disk on fire")
        return to_wire(job, settings)

    monkeypatch.setattr(JobRecord, "to_wire", breaks_on_the_second)
    response = api22.get(
        "/jobs", params={"tag": "broken"}, headers={"Accept": "application/x-ndjson"}
    )
    assert response.status_code == 200
    first, last = response.text.split("\n")
    assert json.loads(first)["id"] == ids[0]
    assert json.loads(last)["error"].startswith("Unexpected exception: disk on fire.")


def test_log_times_are_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from neuro_sync.local import dialect2022

    class Dirs:  # the two paths LogStamps asks a runner for
        def job_dir(self, job_id: str) -> Path:
            return tmp_path

        def log_path(self, job_id: str) -> Path:
            return tmp_path / "log"

    monkeypatch.setattr(dialect2022, "MAX_STAMPS", 10)
    stamps = dialect2022.LogStamps(Dirs())  # type: ignore[arg-type]
    with open(tmp_path / "log", "ab") as log:
        for i in range(25):
            log.write(b"x\n")
            log.flush()
            stamps.sample("job")
            if i == 12:
                stamps.forget("job")  # as at a restart: the count comes from the file
    sizes, times = stamps.load("job")
    assert len(sizes) <= 10
    assert sizes == sorted(sizes) and sizes[-1] == 50
    assert times == sorted(times)


def test_the_command_line_serves_the_dialect_it_is_given(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-m", "neuro_sync.local", "--port", "0", "--runtime", "process"]
        + ["--data-dir", str(tmp_path), "--dialect", "2022"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the URL line
        assert line.rstrip().endswith("(runtime: process, dialect: 2022)")
        url = line.split()[3]
        token = subprocess.run(
            [sys.executable, "-m", "neuro_sync.local", "token", "--user", "alice"]
            + ["--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        config = requests.get(
            f"{url}/config", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).json()
        assert config["local_platform"]["dialect"] == "2022"
        assert config["clusters"][0]["name"] == "default"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
