"""The CLI's 2022 flags (click's runner against `responses`): `--dialect` and
`$NEURO_SYNC_DIALECT`, what `run`, `ps`, `logs` and `bump-life-span` send, jobs by name, and the
usage error naming the flag under 2019 (nothing of the command sent)."""

from __future__ import annotations

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from neuro_sync.cli.params import Duration, Moment

from .conftest import BASE, JOB_ID, MONITORING, invoke, submitted, wire_job

D22 = ("--dialect", "2022")


def _query(api: responses.RequestsMock, path_end: str) -> dict[str, list[str]]:
    urls = [urlsplit(str(c.request.url)) for c in api.calls]
    (query,) = [u.query for u in urls if u.path.endswith(path_end)]
    return parse_qs(query)


@pytest.mark.parametrize(
    ("text", "seconds"), [("1h30m", 5400), ("90m", 5400), ("3600s", 3600), ("1d2h", 93600)]
)
def test_compound_durations(text: str, seconds: float) -> None:
    assert Duration().convert(text, None, None) == seconds


def test_moments_are_iso_times_or_durations_ago() -> None:
    aware = Moment().convert("2022-07-01T12:00:00+02:00", None, None)
    assert aware == datetime.datetime(2022, 7, 1, 10, tzinfo=datetime.UTC)
    naive = Moment().convert("2022-07-01T12:00", None, None)
    assert naive.tzinfo is not None  # local time, made aware
    before = datetime.datetime.now(datetime.UTC)
    ago = Moment().convert("1h30m", None, None)
    assert (
        before - datetime.timedelta(seconds=5410) < ago < before - datetime.timedelta(seconds=5390)
    )


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("run", "--detach", "--tag", "a", "ubuntu", "true"), "--tag"),
        (("run", "--detach", "--life-span", "1h", "ubuntu", "true"), "--life-span"),
        (("run", "--detach", "--restart", "always", "ubuntu", "true"), "--restart"),
        (("run", "--detach", "--working-dir", "/w", "ubuntu", "true"), "--working-dir"),
        (("run", "--detach", "--privileged", "ubuntu", "true"), "--privileged"),
        (("ps", "-t", "a"), "--tag"),
        (("ps", "--since", "1h"), "--since"),
        (("ps", "--until", "2022-07-01T00:00Z"), "--until"),
        (("ps", "--recent-first"), "--recent-first"),
        (("ps", "--limit", "3"), "--limit"),
        (("logs", "--since", "10m", JOB_ID), "--since"),
        (("logs", "--timestamps", JOB_ID), "--timestamps"),
        (("bump-life-span", JOB_ID, "1h"), "bump-life-span"),
    ],
)
@pytest.mark.parametrize("dialect", [(), ("--dialect", "2019")])
def test_2022_flags_are_a_usage_error_under_2019(
    offline: responses.RequestsMock, args: tuple[str, ...], flag: str, dialect: tuple[str, ...]
) -> None:
    result = invoke(*dialect, *args)
    assert result.exit_code == 2, result.output
    assert f"{flag} needs --dialect 2022" in result.stderr
    assert len(offline.calls) == 0


def test_the_environment_chooses_2022_and_the_flag_wins(
    offline: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEURO_SYNC_DIALECT", "2022")
    offline.put(f"{BASE}/jobs/{JOB_ID}/max_run_time_minutes", status=204)
    result = invoke("bump-life-span", JOB_ID, "1h30m")
    assert result.exit_code == 0, result.output
    assert json.loads(offline.calls[0].request.body or b"") == {
        "additional_max_run_time_minutes": 90
    }
    result = invoke("--dialect", "2019", "bump-life-span", JOB_ID, "1h")
    assert result.exit_code == 2 and "needs --dialect 2022" in result.stderr
    assert len(offline.calls) == 1


def test_a_bad_dialect_is_a_usage_error(offline: responses.RequestsMock) -> None:
    result = invoke("--dialect", "2020", "ps")
    assert result.exit_code == 2 and "--dialect" in result.stderr


def test_run_sends_the_2022_fields(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    result = invoke(
        *D22, "run", "--detach", "--tag", "b", "--tag", "a", "--life-span", "1h30m",
        "--restart", "on-failure", "--working-dir", "/work", "--privileged", "ubuntu", "true",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (body,) = submitted(api)
    assert body["tags"] == ["b", "a"]  # as given; the server sorts them
    assert body["max_run_time_minutes"] == 90
    assert body["restart_policy"] == "on-failure"
    assert body["privileged"] is True
    assert body["container"]["working_dir"] == "/work"


def test_a_plain_2022_run_sends_no_2022_options(api: responses.RequestsMock) -> None:
    api.post(f"{BASE}/jobs", json=wire_job(), status=202)
    assert invoke(*D22, "run", "--detach", "ubuntu", "true").exit_code == 0
    (body,) = submitted(api)
    for key in ("tags", "max_run_time_minutes", "restart_policy", "privileged"):
        assert key not in body
    assert "working_dir" not in body["container"]


def test_ps_sends_the_2022_filters(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/jobs", json={"jobs": [wire_job("running")]})
    result = invoke(
        *D22, "ps", "-a", "-t", "x", "-t", "y", "--since", "2022-07-01T00:00:00Z",
        "--until", "2022-07-02T00:00:00+00:00", "--recent-first", "--limit", "5", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{JOB_ID}\n"
    assert _query(api, "/jobs") == {
        "tag": ["x", "y"],
        "since": ["2022-07-01T00:00:00+00:00"],
        "until": ["2022-07-02T00:00:00+00:00"],
        "reverse": ["1"],
        "limit": ["5"],
    }


@pytest.mark.parametrize("follow", [(), ("--no-follow",)])
def test_logs_sends_since_and_timestamps(
    api: responses.RequestsMock, follow: tuple[str, ...]
) -> None:
    if follow:
        api.get(f"{BASE}/jobs/my-job", json=wire_job("succeeded"))
    api.get(f"{MONITORING}/my-job/log", body=b"2022-07-01T12:00:01Z hi\n")
    result = invoke(
        *D22, "logs", *follow, "--since", "2022-07-01T12:00:00Z", "--timestamps", "my-job"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "2022-07-01T12:00:01Z hi\n"
    assert _query(api, "/my-job/log") == {
        "since": ["2022-07-01T12:00:00+00:00"],
        "timestamps": ["true"],
    }


def test_status_and_kill_by_name(api: responses.RequestsMock) -> None:
    api.get(f"{BASE}/jobs/my-job", json=wire_job("running", name="my-job"))
    api.delete(f"{BASE}/jobs/my-job", status=204)
    result = invoke(*D22, "status", "my-job")
    assert result.exit_code == 0, result.output
    assert JOB_ID in result.stdout
    result = invoke(*D22, "kill", "my-job")
    assert result.exit_code == 0, result.output
    assert result.stdout == "my-job\n"


def test_bump_life_span_rejects_a_bad_duration(offline: responses.RequestsMock) -> None:
    for bad in ("soon", "30s"):  # not a duration; under a minute
        result = invoke(*D22, "bump-life-span", JOB_ID, bad)
        assert result.exit_code == 2, result.output
    assert len(offline.calls) == 0
