"""The CLI in-process (click's runner) against `responses`: parsing, output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import responses
import yaml

from neuro_sync.cli.params import Duration, MemorySize, command_line

from .conftest import BASE, JOB_ID, MONITORING, OTHER_ID, TOKEN, USER, invoke, submitted, wire_job

JOB_URL = f"{BASE}/jobs/{JOB_ID}"


def list_query(api: responses.RequestsMock) -> str:
    """The query string of the one `GET /jobs` sent."""
    urls = [urlsplit(str(c.request.url)) for c in api.calls]
    (query,) = [u.query for u in urls if u.path.endswith("/jobs")]
    return query


# ---------------------------------------------------------------------------- help, parsing


def test_help_documents_exit_codes_and_the_token_caveat() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for text in ("125", "130", "usage error", "process list", "NEURO_SYNC_TOKEN"):
        assert text in result.stdout
    for command in ("run", "ps", "status", "logs", "kill", "top", "exec", "port-forward"):
        assert f"\n  {command} " in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), None),
        (("echo hi && ls",), "echo hi && ls"),
        (("sh", "-c", "exit 3"), "sh -c 'exit 3'"),
        (("--", "echo", "a b"), "echo 'a b'"),
    ],
)
def test_command_line(args: tuple[str, ...], expected: str | None) -> None:
    assert command_line(args) == expected


@pytest.mark.parametrize(
    ("text", "mb"),
    [("512M", 512), ("1G", 1024), ("1.5GB", 1536), ("2Gi", 2048), ("100", 100), ("1k", 1)],
)
def test_memory_sizes(text: str, mb: int) -> None:
    assert MemorySize().convert(text, None, None) == mb


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("10m", 600), ("2h", 7200)])
def test_durations(text: str, seconds: float) -> None:
    assert Duration().convert(text, None, None) == seconds


@pytest.mark.parametrize(
    "args",
    [
        ("run", "-m", "lots", "ubuntu"),
        ("run", "-c", "0", "ubuntu"),
        ("run", "--schedule-timeout", "soon", "ubuntu"),
        ("run", "-e", "1BAD=x", "ubuntu"),
        ("run", "-e", "NOT_SET_ANYWHERE_42", "ubuntu"),
        ("ps", "-s", "sleeping"),
        ("port-forward", JOB_ID, "8080"),
        ("kill",),
        ("no-such-command",),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    offline: responses.RequestsMock, args: tuple[str, ...]
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(offline.calls) == 0


def test_no_configuration_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEURO_SYNC_URL")
    monkeypatch.delenv("NEURO_SYNC_TOKEN")
    result = invoke("ps")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: No URL and token: pass --url and --token")
    assert "neuro-sync login-with-token" in result.stderr
    assert "neuro_sync." not in result.stderr  # the CLI's words, not the library's
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--url", BASE, "ps"), "--url needs --token too"),
        (("--token", TOKEN, "ps"), "--token needs --url too"),
        (("--url", BASE, "--token", TOKEN, "--config", "x.nmrc", "ps"), "--config, not both"),
    ],
)
def test_configuration_errors_name_the_flags(
    offline: responses.RequestsMock, args: tuple[str, ...], words: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert "neuro_sync." not in result.stderr and "url=" not in result.stderr
    assert len(offline.calls) == 0


def test_a_malformed_url_flag_is_named(offline: responses.RequestsMock) -> None:
    result = invoke("--url", "foo", "--token", TOKEN, "ps")
    assert result.exit_code == 2
    assert "Invalid value for --url: must be an http(s) API base URL" in result.stderr


def test_a_wrong_url_says_it_is_not_a_jobs_api(offline: responses.RequestsMock) -> None:
    offline.get("http://api.test/config", body="<html>404: Not Found</html>", status=404)
    result = invoke("--url", "http://api.test", "--token", TOKEN, "ps")
    assert result.exit_code == 1
    assert "the URL does not look like a jobs API" in result.stderr
    assert "Check the URL (--url" in result.stderr


# ---------------------------------------------------------------------------- run


def test_run_detach_sends_the_job_and_prints_the_id(
    api: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nFROM_FILE=1\nBOTH=file\n")
    monkeypatch.setenv("SECRET_HERE", "s3cret")
    result = invoke(
        "run", "--detach", "-s", "gpu-small", "-m", "2G", "-x", "--http", "8080",
        "--no-http-auth", "-n", "my-job", "-d", "a test", "-e", "BOTH=flag", "-e", "SECRET_HERE",
        "--env-file", str(env_file), "-v", "storage:data:/data:ro", "--entrypoint", "python",
        "--preemptible", "--schedule-timeout", "10m",
        "image:trainer:v1", "--", "sh", "-c", "exit 3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{JOB_ID}\n"
    (body,) = submitted(api)
    container = body["container"]
    assert container["image"] == f"registry.test/{USER}/trainer:v1"
    assert container["command"] == "sh -c 'exit 3'"
    assert container["entrypoint"] == "python"
    assert container["resources"] == {
        "cpu": 7.0,
        "memory_mb": 2048,
        "gpu": 1,
        "gpu_model": "nvidia-k80",
        "shm": True,
    }
    assert container["http"]["port"] == 8080 and container["http"]["requires_auth"] is False
    assert container["env"] == {"FROM_FILE": "1", "BOTH": "flag", "SECRET_HERE": "s3cret"}
    assert container["volumes"] == [
        {"src_storage_uri": f"storage://{USER}/data", "dst_path": "/data", "read_only": True}
    ]
    assert body["name"] == "my-job" and body["description"] == "a test"
    assert body["is_preemptible"] is True
    assert body["schedule_timeout"] == 600


def test_run_defaults_to_cpu_small_and_cpu_memory_skip_presets(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    assert invoke("run", "--detach", "ubuntu").exit_code == 0
    assert invoke("run", "--detach", "-c", "0.5", "-m", "512M", "ubuntu", "true").exit_code == 0
    first, second = submitted(api)
    assert first["container"]["resources"] == {"cpu": 1.0, "memory_mb": 1024}
    assert "command" not in first["container"]
    assert second["container"]["resources"] == {"cpu": 0.5, "memory_mb": 512}


@pytest.mark.parametrize(
    ("args", "preemptible"),
    [
        (["-s", "cpu-spot"], True),  # the preset's setting
        (["-s", "cpu-spot", "--no-preemptible"], False),
        (["-s", "cpu-small"], False),
        (["-s", "cpu-small", "--preemptible"], True),
        (["-c", "1", "-m", "1G"], False),  # no preset
        (["-c", "1", "-m", "1G", "--preemptible"], True),
    ],
)
def test_run_preemptible_defaults_to_the_presets(
    api: responses.RequestsMock, args: list[str], preemptible: bool
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    assert invoke("run", "--detach", *args, "ubuntu").exit_code == 0
    (body,) = submitted(api)
    assert body["is_preemptible"] is preemptible


def test_run_unknown_preset_lists_the_known_ones(api: responses.RequestsMock) -> None:
    result = invoke("run", "-s", "huge", "ubuntu")
    assert result.exit_code == 2
    assert "cpu-small, gpu-small" in result.stderr


def test_run_bad_job_name_is_a_usage_error(api: responses.RequestsMock) -> None:
    result = invoke("run", "--detach", "-n", "Bad_Name", "ubuntu")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: name")
    assert len(api.calls) == 1  # /config only: nothing was submitted


def test_run_detach_json(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(name="my-job"), status=202)
    result = invoke("run", "--detach", "--format", "json", "ubuntu", "true")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == JOB_ID and data["name"] == "my-job" and data["status"] == "pending"
    assert data["container"]["image"] == "ubuntu:latest"


def test_run_attached_streams_the_log_and_passes_the_exit_code(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.get(JOB_URL, json=wire_job("running"))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"line 1\n\xffraw bytes\n")
    finished = {"exit_code": 3, "reason": "Error", "finished_at": "2019-08-16T10:12:00+00:00"}
    api.get(JOB_URL, json=wire_job("failed", history=finished))
    result = invoke("run", "ubuntu", "sh", "-c", "exit 3")
    assert result.exit_code == 3, result.output
    assert result.stdout_bytes == b"line 1\n\xffraw bytes\n"  # the log, untouched
    # Why it ended: one line after the job id.
    assert result.stderr == f"Job ID: {JOB_ID}\nJob {JOB_ID}: failed: Error (exit 3)\n"


def test_attached_run_says_why_a_killed_job_ended(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.get(JOB_URL, json=wire_job("running"))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"")
    finished = {
        "exit_code": 137,
        "reason": "OOMKilled",
        "description": "the job used more than its\n 64 MB",
        "finished_at": "2019-08-16T10:12:00+00:00",
    }
    api.get(JOB_URL, json=wire_job("failed", history=finished))
    result = invoke("run", "ubuntu", "python big.py")
    assert result.exit_code == 137
    assert result.stderr.splitlines()[1:] == [
        f"Job {JOB_ID}: failed: OOMKilled: the job used more than its 64 MB (exit 137)"
    ]


def test_attached_run_of_a_successful_job_adds_nothing(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.get(JOB_URL, json=wire_job("running"))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"ok\n")
    finished = {"exit_code": 0, "finished_at": "2019-08-16T10:12:00+00:00"}
    api.get(JOB_URL, json=wire_job("succeeded", history=finished))
    result = invoke("run", "ubuntu", "true")
    assert (result.exit_code, result.stderr) == (0, f"Job ID: {JOB_ID}\n")


def test_run_that_never_started_exits_125_and_says_why(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    history = {
        "reason": "ClusterScaleUpFailed",
        "description": "no nodes for this preset",
        "finished_at": "2019-08-16T10:12:00+00:00",
    }
    api.get(JOB_URL, json=wire_job("failed", history=history))
    result = invoke("run", "ubuntu", "true")
    assert result.exit_code == 125
    assert "ClusterScaleUpFailed: no nodes for this preset" in result.stderr
    assert result.stdout == ""


CANCELLED = {"finished_at": "2019-08-16T10:12:00+00:00", "reason": "Cancelled"}


def test_wait_start_returns_a_job_that_finished_with_a_newer_status(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.get(JOB_URL, json=wire_job("cancelled", history=CANCELLED))
    result = invoke("run", "--detach", "--wait-start", "--format", "json", "ubuntu", "true")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "cancelled"  # a JobStatus since 2022


def test_attached_run_of_a_job_that_ended_with_a_newer_status(
    api: responses.RequestsMock,
) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    api.get(JOB_URL, json=wire_job("cancelled", history=CANCELLED))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"")
    result = invoke("run", "ubuntu", "true")
    assert result.exit_code == 1
    assert f"Job {JOB_ID}: cancelled: Cancelled" in result.stderr


# ---------------------------------------------------------------------------- ps, status


def test_ps_defaults_to_live_jobs_and_is_complete_when_piped(
    api: responses.RequestsMock,
) -> None:
    long = wire_job(
        "running", name="a-rather-long-job-name", container={"command": "python " + "x" * 200}
    )
    api.get(f"{BASE}/jobs", json={"jobs": [long, wire_job(id=OTHER_ID)]})
    result = invoke("ps")
    assert result.exit_code == 0
    query = list_query(api)
    assert sorted(query.split("&")) == ["status=pending", "status=running"]
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "NAME", "IMAGE", "COMMAND"]
    # Not a terminal: nothing is cut (a terminal's width applies only to a terminal).
    assert lines[1].startswith(f"{JOB_ID}  running  a-rather-long-job-name")
    assert lines[1].endswith("python " + "x" * 200)


def test_the_table_fits_a_terminal_width() -> None:
    from neuro_sync.cli.output import table

    lines = table(["ID", "COMMAND"], [["job-1", "python " + "x" * 200]], width=80, flexible=(1,))
    assert lines[1].endswith("...") and all(len(line) <= 80 for line in lines)


def test_ps_wide_all_and_filters(api: responses.RequestsMock) -> None:
    command = "python " + "x" * 200
    api.get(f"{BASE}/jobs", json={"jobs": [wire_job(container={"command": command})]})
    result = invoke("ps", "-a", "-w", "-n", "job-name", "-o", "bob", "-o", "carol")
    assert result.exit_code == 0
    query = list_query(api)
    assert "status=" not in query and "name=job-name" in query
    assert "owner=bob" in query and "owner=carol" in query
    assert command in result.stdout and "OWNER" in result.stdout


def test_ps_quiet_and_json(api: responses.RequestsMock) -> None:
    jobs = {"jobs": [wire_job(), wire_job(id=OTHER_ID, status="running")]}
    api.get(f"{BASE}/jobs", json=jobs)
    api.get(f"{BASE}/jobs", json=jobs)
    assert invoke("ls", "-q").stdout == f"{JOB_ID}\n{OTHER_ID}\n"
    data = json.loads(invoke("ps", "-s", "running", "--format", "json").stdout)
    assert [j["id"] for j in data] == [JOB_ID, OTHER_ID]


def test_status_text_and_json(api: responses.RequestsMock) -> None:
    job = wire_job(
        "failed",
        name="my-job",
        http_url="http://my-job.jobs.test",
        history={"reason": "Error", "description": "log tail\nlast line", "exit_code": 2},
        container={
            "env": {"PASSWORD": "hunter2"},
            "http": {"port": 80, "requires_auth": True},
            "volumes": [
                {"src_storage_uri": "storage://alice/d", "dst_path": "/d", "read_only": False}
            ],
            "resources": {"cpu": 1.0, "memory_mb": 1024, "gpu": 1, "gpu_model": "k80"},
        },
    )
    api.get(JOB_URL, json=job)
    api.get(JOB_URL, json=job)
    text = invoke("status", JOB_ID).stdout
    assert "Status:        failed (Error)" in text
    assert "Exit code:     2" in text
    assert "1 CPU, 1024 MB, 1 GPU k80" in text
    assert "PASSWORD=..." in text and "hunter2" not in text
    assert text.endswith("log tail\nlast line\n")
    data = json.loads(invoke("status", "--format", "json", JOB_ID).stdout)
    assert data["history"]["exit_code"] == 2 and data["history"]["reason"] == "Error"
    assert data["container"]["http"] == {"port": 80, "requires_auth": True}
    assert data["container"]["volumes"][0]["read_only"] is False
    assert data["container"]["resources"]["gpu_model"] == "k80"
    assert data["http_url"] == "http://my-job.jobs.test"


# ---------------------------------------------------------------------------- kill, wait, logs


def test_kill_reports_each_job_and_fails_if_one_failed(
    offline: responses.RequestsMock,
) -> None:
    offline.delete(JOB_URL, status=204)
    offline.delete(f"{BASE}/jobs/{OTHER_ID}", json={"error": f"no such job {OTHER_ID}"}, status=400)
    result = invoke("kill", JOB_ID, OTHER_ID)
    assert result.exit_code == 1
    assert result.stdout == f"{JOB_ID}\n"
    assert result.stderr.startswith(f"Cannot kill {OTHER_ID}: no such job")
    assert result.stderr.count("\n") == 1


def test_wait_prints_the_final_status(api: responses.RequestsMock) -> None:
    api.get(JOB_URL, json=wire_job("succeeded", history={"exit_code": 0}))
    result = invoke("wait", JOB_ID)
    assert result.exit_code == 0
    assert result.stdout == f"{JOB_ID}: succeeded, exit code 0\n"


@pytest.mark.parametrize(
    ("status", "history", "code"),
    [
        ("failed", {"exit_code": 3, "reason": "Error"}, 3),
        ("failed", {"exit_code": 137, "reason": "OOMKilled"}, 137),
        ("failed", {"reason": "ErrImagePull", "description": "no such image"}, 125),
        ("cancelled", {"reason": "Cancelled"}, 1),
        ("succeeded", {"exit_code": 0}, 0),
    ],
)
def test_wait_exits_with_the_outcome_like_attached_run(
    api: responses.RequestsMock, status: str, history: dict[str, object], code: int
) -> None:
    history = history | {"finished_at": "2019-08-16T10:12:00+00:00"}
    api.get(JOB_URL, json=wire_job(status, history=history))
    api.get(JOB_URL, json=wire_job(status, history=history))
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    if code != 125:  # a job that never started has no log to stream
        api.get(f"{MONITORING}/{JOB_ID}/log", body=b"")
    waited = invoke("wait", JOB_ID)
    assert waited.exit_code == code, waited.output
    assert waited.stderr == ""  # the outcome is on stdout already
    as_json = invoke("wait", "--format", "json", JOB_ID)
    assert as_json.exit_code == code
    # The JSON itself is unchanged: the job.
    assert json.loads(as_json.stdout)["history"]["reason"] == history.get("reason", "")
    attached = invoke("run", "ubuntu", "true")
    assert attached.exit_code == code


def test_wait_help_documents_its_exit_codes() -> None:
    text = invoke("wait", "--help").stdout
    for line in ("0    the job succeeded", "N    the job's own exit code", "125  it failed"):
        assert line in text


def test_wait_timeout_is_exit_1(api: responses.RequestsMock) -> None:
    api.get(JOB_URL, json=wire_job("pending"))
    result = invoke("wait", "--timeout", "0", JOB_ID)
    assert result.exit_code == 1
    assert result.stderr == f"Error: Job {JOB_ID} is still pending after 0 s\n"


def test_logs_no_follow_prints_what_is_there(api: responses.RequestsMock) -> None:
    # A finished job: the library reads its log to the end (no waiting for a pause).
    finished = {"exit_code": 0, "finished_at": "2019-06-01T12:00:00+00:00"}
    api.get(JOB_URL, json=wire_job("succeeded", history=finished))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"so far\nlast")
    result = invoke("logs", "--no-follow", JOB_ID)
    assert result.exit_code == 0
    assert result.stdout_bytes == b"so far\nlast\n"


@pytest.mark.parametrize("follow", ["--follow", "--no-follow"])
def test_logs_tail_prints_the_last_lines(api: responses.RequestsMock, follow: str) -> None:
    finished = {"exit_code": 0, "finished_at": "2019-06-01T12:00:00+00:00"}
    api.get(JOB_URL, json=wire_job("succeeded", history=finished))
    api.get(f"{MONITORING}/{JOB_ID}/log", body=b"one\ntwo\nthree\nfour\n")
    result = invoke("logs", "--tail", "2", follow, JOB_ID)
    assert result.exit_code == 0, result.output
    assert result.stdout == "three\nfour\n"


# ---------------------------------------------------------------------------- errors, secrets


def test_rejected_token_is_one_line_exit_1(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/jobs", body="401: Unauthorized", status=401)
    result = invoke("ps")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: The server rejected the token")
    assert "login-with-token" in result.stderr
    assert result.stderr.count("\n") == 1


def test_verbose_shows_a_traceback_without_the_token(api: responses.RequestsMock) -> None:
    # A server that echoes the token back in its error text.
    api.get(f"{BASE}/jobs", json={"error": f"bad token {TOKEN}"}, status=500)
    result = invoke("--verbose", "ps")  # `invoke` asserts the token is in no output
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("Error: The server failed")


def test_token_from_a_flag_is_hidden_too(api: responses.RequestsMock, tmp_path: Path) -> None:
    other = TOKEN.replace("c2lnbmF0dXJl", "b3RoZXI")
    api.get(f"{BASE}/jobs", json={"error": f"token {other}"}, status=500)
    token_file = tmp_path / "token"
    token_file.write_text(other + "\n")
    # --url too: a token given alone is never sent to a URL from another source.
    result = invoke("-v", "--url", BASE, "--token", f"@{token_file}", "ps")
    assert result.exit_code == 1
    assert other not in result.stderr
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {other}"


def test_connection_refused_names_the_url_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURO_SYNC_URL", "http://127.0.0.1:9/api/v1")
    result = invoke("ps")
    assert result.exit_code == 1
    assert "NEURO_SYNC_URL" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- configuration


def test_login_with_token_from_stdin_then_config_show(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NEURO_SYNC_URL")
    monkeypatch.delenv("NEURO_SYNC_TOKEN")
    config = tmp_path / "nmrc"
    result = invoke("--config", str(config), "login-with-token", "-", BASE, input=TOKEN + "\n")
    assert result.exit_code == 0, result.output
    assert f"as {USER}" in result.stdout
    saved = yaml.safe_load(config.read_text())
    assert saved["url"] == BASE and saved["auth_token"]["token"] == TOKEN
    assert config.stat().st_mode & 0o777 == 0o600
    shown = invoke("--config", str(config), "config", "show")
    assert shown.exit_code == 0
    assert f"URL:          {BASE}" in shown.stdout and f"User:         {USER}" in shown.stdout
    assert "gpu-small" in shown.stdout and "1 nvidia-k80" in shown.stdout
