"""neuro-sdk 22.7.1 (the real one, in its own venv) against a 2022-dialect local platform:
the jobs calls it makes, checked by what the SDK parses back. Each call here is one of the
SDK's public `Client.jobs` methods (see tests/sdk2022/driver.py)."""

from __future__ import annotations

import datetime
import os
import re
import uuid

from neuro_sync.local import LocalPlatform

from ..support.released_sdk import Sdk

FINISHED = ["succeeded", "failed", "cancelled"]
GATE = "while [ ! -e go ]; do sleep 0.05; done"


def _name() -> str:
    return f"sdk-{uuid.uuid4().hex[:8]}"


def test_run_with_tags_life_span_and_restart_policy(sdk: Sdk) -> None:
    job = sdk.call(
        "run",
        command="sh -c 'echo hi'",
        tags=["b-tag", "a-tag", "b-tag"],
        life_span=3600,
        restart_policy="on-failure",
        working_dir="/tmp",
        memory_mb=96,
    )
    assert job["tags"] == ["a-tag", "b-tag"]  # the server drops repeats and sorts
    assert job["life_span"] == 3600.0
    assert job["restart_policy"] == "on-failure"
    assert job["working_dir"] == "/tmp"
    assert job["memory"] == 96 * 2**20
    assert job["uri"] == f"job://default/user/{job['id']}"
    assert job["pass_config"] is False
    done = sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert done["status"] == "succeeded"
    assert done["exit_code"] == 0
    assert done["restarts"] == 0
    assert [t[0] for t in done["transitions"]] == ["pending", "running", "succeeded"]
    assert done["run_time_seconds"] is not None and done["run_time_seconds"] >= 0


def test_working_dir_is_the_jobs_directory(sdk: Sdk) -> None:
    job = sdk.call("run", command="pwd", working_dir="/tmp")
    sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert sdk.call("logs", id=job["id"])["text"] == "/tmp\n"


def test_restart_policy_on_failure_restarts_until_success(sdk: Sdk) -> None:
    # Fails twice, then succeeds. A restart is a fresh process in a fresh directory: the
    # counter lives outside the job.
    count = f"/tmp/neuro-sync-restarts-{uuid.uuid4().hex}"
    script = (
        f"n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}; echo run $n;"
        " [ $n -ge 3 ]"
    )
    job = sdk.call("run", command=f"sh -c '{script}'", restart_policy="on-failure")
    done = sdk.call("wait", id=job["id"], statuses=FINISHED, timeout=60)
    assert done["status"] == "succeeded"
    assert done["restarts"] == 2
    assert ["pending", "Restarting"] in done["transitions"]
    assert sdk.call("logs", id=job["id"])["text"] == "run 1\nrun 2\nrun 3\n"
    os.unlink(count)


def test_restart_policy_always_restarts_after_success(sdk: Sdk) -> None:
    job = sdk.call("run", command="true", restart_policy="always")
    running = sdk.call("wait", id=job["id"], statuses=["running", "pending"], restarts=2)
    assert running["restarts"] >= 2
    sdk.call("kill", id=job["id"])
    done = sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert done["status"] == "cancelled"


def test_life_span_ends_the_job(sdk: Sdk) -> None:
    # 60 s is one wire minute; this platform's minute is a second (conftest.MINUTE).
    job = sdk.call("run", command="sleep 600", life_span=60)
    done = sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert done["status"] == "cancelled"
    assert done["reason"] == "LifeSpanEnded"


def test_bump_life_span(sdk: Sdk) -> None:
    job = sdk.call("run", command=f"sh -c '{GATE}'", life_span=600)
    sdk.call("bump", id=job["id"], seconds=180)
    assert sdk.call("status", id=job["id"])["life_span"] == 780.0
    sdk.call("kill", id=job["id"])


def test_kill_ends_cancelled_and_status_by_name(sdk: Sdk) -> None:
    name = _name()
    job = sdk.call("run", command=f"sh -c '{GATE}'", name=name)
    sdk.call("wait", id=name, statuses=["running"])
    sdk.call("kill", id=name)
    done = sdk.call("wait", id=name, statuses=FINISHED)
    assert done["id"] == job["id"]
    assert done["status"] == "cancelled"
    assert done["reason"] == "UserRequested"
    assert [t[0] for t in done["transitions"]][-1] == "cancelled"


def test_list_filters(sdk: Sdk) -> None:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    before = datetime.datetime.now(datetime.UTC)
    ids = [sdk.call("run", command="true", tags=[tag, f"n{i}"])["id"] for i in range(3)]
    other = sdk.call("run", command="true", tags=["elsewhere"])["id"]
    listed = [j["id"] for j in sdk.call("list", tags=[tag])["jobs"]]
    assert listed == ids
    assert other not in listed
    newest = sdk.call("list", tags=[tag], reverse=True, limit=2)["jobs"]
    assert [j["id"] for j in newest] == ids[::-1][:2]
    both = sdk.call("list", tags=[tag, "n1"])["jobs"]
    assert [j["id"] for j in both] == [ids[1]]
    later = sdk.call("list", tags=[tag], since=sdk.call("status", id=ids[1])["created_at"])
    assert [j["id"] for j in later["jobs"]] == ids[1:]
    assert sdk.call("list", tags=[tag], until=before.isoformat())["jobs"] == []
    for job_id in ids:
        sdk.call("wait", id=job_id, statuses=FINISHED)
    done = sdk.call("list", tags=[tag], statuses=["succeeded"])["jobs"]
    assert [j["id"] for j in done] == ids
    assert sdk.call("list", tags=[tag], statuses=["cancelled"])["jobs"] == []


def test_logs_with_timestamps_and_since(sdk: Sdk) -> None:
    before = datetime.datetime.now(datetime.UTC)
    job = sdk.call("run", command="sh -c 'echo one; echo two'")
    sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert sdk.call("logs", id=job["id"])["text"] == "one\ntwo\n"
    stamped = sdk.call("logs", id=job["id"], timestamps=True)["text"].splitlines()
    assert [line.split(" ", 1)[1] for line in stamped] == ["one", "two"]
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
    times = [line.split(" ", 1)[0] for line in stamped]
    assert all(stamp.match(t) for t in times), times
    written = datetime.datetime.fromisoformat(times[0].replace("Z", "+00:00"))
    assert written >= before - datetime.timedelta(seconds=1)
    everything = sdk.call("logs", id=job["id"], since=before.isoformat())["text"]
    assert everything == "one\ntwo\n"
    after = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    assert sdk.call("logs", id=job["id"], since=after.isoformat())["text"] == ""


def test_exec_over_websocket(sdk: Sdk) -> None:
    job = sdk.call("run", command=f"sh -c '{GATE}'")
    sdk.call("wait", id=job["id"], statuses=["running"])
    result = sdk.call("exec", id=job["id"], cmd="sh -c 'echo out; echo err >&2; exit 3'")
    assert result == {"stdout": "out\n", "stderr": "err\n", "exit_code": 3}
    echoed = sdk.call("exec", id=job["id"], cmd="cat", stdin="through stdin\n")
    assert echoed == {"stdout": "through stdin\n", "stderr": "", "exit_code": 0}
    env = sdk.call("exec", id=job["id"], cmd="sh -c 'echo $NEURO_JOB_ID'")
    assert env["stdout"] == f"{job['id']}\n"
    tty = sdk.call("exec", id=job["id"], cmd="sh -c 'test -t 1 && echo terminal'", tty=True)
    assert tty["stdout"].strip() == "terminal"
    assert tty["exit_code"] == 0
    sdk.call("exec", id=job["id"], cmd="touch go")
    sdk.call("wait", id=job["id"], statuses=FINISHED)
    refused = sdk.fails("exec", id=job["id"], cmd="true")
    assert refused["error"] == "ResourceNotFound"
    assert "not running" in refused["message"]


def test_top_reports_memory_in_bytes(sdk: Sdk) -> None:
    job = sdk.call("run", command=f"sh -c '{GATE}'")
    sdk.call("wait", id=job["id"], statuses=["running"])
    sample = sdk.call("top", id=job["id"])
    assert sample["memory_bytes"] > 0
    assert sample["cpu"] >= 0
    sdk.call("kill", id=job["id"])


def test_attach_over_websocket(sdk: Sdk) -> None:
    job = sdk.call("run", command=f"sh -c 'echo before; {GATE}; echo after; exit 7'")
    sdk.call("wait", id=job["id"], statuses=["running"])
    attached = sdk.call("attach", id=job["id"], then="touch go")
    assert attached["output"].endswith("after\n")
    assert attached["exit_code"] == 7


def test_attach_to_the_jobs_terminal(sdk: Sdk) -> None:
    """neuro-sdk's `attach(tty=True, stdin=True)` and `StdStream.resize`/`write_in` against a
    job run with `tty`."""
    script = (
        "read line; echo got:$line; "
        'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; echo resized; exit 5'
    )
    job = sdk.call("run", command=f"sh -c '{script}'", tty=True)
    sdk.call("wait", id=job["id"], statuses=["running"])
    attached = sdk.call(
        "attach_tty", id=job["id"], rows=40, columns=120, lines=[["hello\r", "got:hello"]]
    )
    assert "got:hello" in attached["output"] and "resized" in attached["output"]
    assert attached["exit_code"] == 5


def test_port_forward_over_websocket(sdk: Sdk, platform2022: LocalPlatform) -> None:
    server = (
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "open('port.tmp', 'w').write(str(s.getsockname()[1]))\n"
        "import os; os.rename('port.tmp', 'port')\n"
        "while True:\n"
        "    c, _ = s.accept(); data = c.recv(100); c.sendall(b'echo:' + data); c.close()\n"
    )
    job = sdk.call("run", command="sh -c 'exec python3 -c \"$SERVER\"'", env={"SERVER": server})
    sdk.call("wait", id=job["id"], statuses=["running"])
    port_text = sdk.call(
        "exec", id=job["id"], cmd="sh -c 'while [ ! -e port ]; do sleep 0.05; done; cat port'"
    )
    port = int(port_text["stdout"])
    forwarded = sdk.call("port_forward", id=job["id"], port=port, payload="hello")
    assert forwarded["reply"] == "echo:hello"
    sdk.call("kill", id=job["id"])


def test_pass_config_logs_the_job_in(sdk: Sdk, platform2022: LocalPlatform) -> None:
    # The variable is what the SDK's Factory reads to log in from inside a job.
    script = (
        "import base64, json, os\n"
        "data = json.loads(base64.b64decode(os.environ['NEURO_PASSED_CONFIG']))\n"
        "print(data['cluster'], data['url'], len(data['token']) > 20)\n"
    )
    job = sdk.call(
        "run",
        command="sh -c 'exec python3 -c \"$SCRIPT\"'",
        env={"SCRIPT": script},
        pass_config=True,
    )
    assert job["pass_config"] is True
    sdk.call("wait", id=job["id"], statuses=FINISHED)
    assert sdk.call("logs", id=job["id"])["text"] == f"default {platform2022.url} True\n"


def test_start_with_a_preset(sdk: Sdk) -> None:
    job = sdk.call("start", preset_name="cpu-small", command="true")
    assert job["preset_name"] == "cpu-small"
    missing = sdk.fails("start", preset_name="no-such-preset", command="true")
    assert missing["error"] == "IllegalArgumentError"
