"""Rich display (job cards, job tables, escaped HTML), `JobList` as a plain list, and the
progress of `wait` and `save`."""

from __future__ import annotations

import copy
import io
import pickle
import re
import sys
import time
from typing import Any

import pytest
import responses

import neuro_sync
from neuro_sync import JobDescription, JobList, RemoteImage, WaitTimeout, _display

from .conftest import BASE, JOB_ID, MONITORING, REGISTRY, make_job, sent_timeout

HOSTILE = "<script>alert('x')</script>&"


class _Printer:
    """Stands in for IPython's PrettyPrinter."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def text(self, obj: str) -> None:
        self.out.append(obj)


def _jobs(client: neuro_sync.Client, mocked: responses.RequestsMock, *jobs: Any) -> JobList:
    mocked.get(f"{BASE}/jobs", json={"jobs": list(jobs)})
    return client.jobs.list()


def _hostile_job(client: neuro_sync.Client, mocked: responses.RequestsMock) -> JobDescription:
    mocked.get(
        f"{BASE}/jobs/{JOB_ID}",
        json=make_job(
            status="failed",
            reason="Error",
            exit_code=2,
            name="train",
            description=HOSTILE,
            command=f"echo {HOSTILE}",
            http_port=80,
        ),
    )
    return client.jobs.status(JOB_ID)


def test_job_card_html_escapes_everything(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _hostile_job(client, mocked)
    card = job._repr_html_()
    assert "<script>" not in card
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;" in card
    assert JOB_ID in card
    assert "failed (Error, exit code 2)" in card
    assert "ubuntu:latest" in card
    assert "0.1 CPU, 16 MB" in card
    assert "2019-08-16 10:11:12" in card  # created


def test_job_pretty_is_a_short_card(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _hostile_job(client, mocked)
    printer = _Printer()
    job._repr_pretty_(printer, False)
    (text,) = printer.out
    assert text.splitlines()[0] == f"Job {JOB_ID}"
    assert "  status:      failed (Error, exit code 2)" in text.splitlines()
    assert str(job.http_url) in text


def test_plain_repr_is_the_dataclass_repr(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    job = _hostile_job(client, mocked)
    assert repr(job).startswith(f"JobDescription(id='{JOB_ID}', owner='alice'")


def test_job_list_is_a_plain_list_shown_as_a_table(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    first = make_job(name="first")
    second = make_job(id="job-11111111-2222-3333-4444-555555555555", description=HOSTILE)
    jobs = _jobs(client, mocked, first, second)
    assert isinstance(jobs, JobList) and isinstance(jobs, list)
    plain = list(jobs)
    assert jobs == plain and plain == jobs
    assert jobs[1:] == plain[1:] and jobs[0] is plain[0]
    assert pickle.loads(pickle.dumps(jobs)) == plain  # noqa: S301 - our own bytes
    assert copy.copy(jobs) == plain
    assert repr(jobs) == repr(plain)
    table = jobs._repr_html_()
    assert table.count("<tr>") == 3  # the header and two jobs
    assert "<th style='text-align:left'>status</th>" in table
    assert "first" in table
    printer = _Printer()
    jobs._repr_pretty_(printer, False)
    assert printer.out[0].splitlines()[0].split() == [
        "id",
        "name",
        "status",
        "image",
        "command",
        "created",
    ]


def test_job_list_command_is_escaped(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    jobs = _jobs(client, mocked, make_job(command=HOSTILE, name="x1"))
    assert "<script>" not in jobs._repr_html_()
    assert "&lt;script&gt;" in jobs._repr_html_()


def test_empty_job_list(client: neuro_sync.Client, mocked: responses.RequestsMock) -> None:
    jobs = _jobs(client, mocked)
    assert jobs == []
    printer = _Printer()
    jobs._repr_pretty_(printer, False)
    assert printer.out == ["JobList([])"]


# ---------------------------------------------------------------------------- progress


@pytest.fixture
def no_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # `import` raises ImportError


def test_wait_progress_without_tqdm_prints_each_change(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    no_tqdm: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{BASE}/jobs/{JOB_ID}"
    for status in ("pending", "pending", "running", "running", "succeeded"):
        mocked.get(url, json=make_job(status=status))
    client.jobs.wait(JOB_ID, poll_interval=0.001, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        f"{JOB_ID}: pending",
        f"{JOB_ID}: running",
        f"{JOB_ID}: succeeded",
    ]
    assert all(line.endswith(" s)") for line in lines)


def test_wait_without_progress_is_silent(
    client: neuro_sync.Client, mocked: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="succeeded"))
    client.jobs.wait(JOB_ID)
    assert capsys.readouterr() == ("", "")


def test_wait_progress_with_tqdm(
    client: neuro_sync.Client, mocked: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    url = f"{BASE}/jobs/{JOB_ID}"
    for status in ("pending", "succeeded"):
        mocked.get(url, json=make_job(status=status))
    client.jobs.wait(JOB_ID, poll_interval=0.001, progress=True)
    err = capsys.readouterr().err
    assert f"{JOB_ID}: succeeded [" in err


def test_save_progress_shows_commit_and_push(
    client: neuro_sync.Client,
    mocked: responses.RequestsMock,
    no_tqdm: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = [
        b'{"status": "CommitStarted"}',
        b'{"status": "CommitFinished"}',
        b'{"status": "The push refers to repository [x]"}',
    ]
    mocked.post(f"{MONITORING}/{JOB_ID}/save", body=b"\r\n".join(lines))
    client.jobs.save(JOB_ID, RemoteImage("img", "v1", "alice", REGISTRY), progress=True)
    steps = [line.split(" (")[0] for line in capsys.readouterr().err.splitlines()]
    assert steps == [
        f"save {JOB_ID}: CommitStarted",
        f"save {JOB_ID}: CommitFinished",
        f"save {JOB_ID}: The push refers to repository [x]",
    ]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


IN_PLACE = "\r\x1b[K"


def _screen_lines(text: str) -> list[str]:
    """What stays on a terminal: each line's last redraw, without its elapsed time."""
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert all(line.startswith(IN_PLACE) for line in lines), text
    return [line.rsplit(IN_PLACE, 1)[1].rsplit("  ", 1)[0] for line in lines]


def test_wait_progress_to_a_terminal_rewrites_one_line_per_status(
    client: neuro_sync.Client, mocked: responses.RequestsMock, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{BASE}/jobs/{JOB_ID}"
    mocked.get(url, json=make_job(status="pending", reason="ContainerCreating"))
    for status in ("running", "running", "succeeded"):
        mocked.get(url, json=make_job(status=status))
    terminal = _Terminal()
    client.jobs.wait(JOB_ID, poll_interval=0.001, progress=terminal)
    out = terminal.getvalue()
    assert _screen_lines(out) == [
        f"{JOB_ID}: pending (ContainerCreating)",
        f"{JOB_ID}: running",
        f"{JOB_ID}: succeeded",
    ]
    assert re.search(r"succeeded  \d+:\d\d\n$", out)
    assert capsys.readouterr() == ("", "")  # only the stream given


def test_wait_progress_to_a_file_writes_a_line_per_change(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    url = f"{BASE}/jobs/{JOB_ID}"
    for status in ("pending", "pending", "succeeded"):
        mocked.get(url, json=make_job(status=status))
    log = io.StringIO()
    client.jobs.wait(JOB_ID, poll_interval=0.001, progress=log)
    lines = log.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [f"{JOB_ID}: pending", f"{JOB_ID}: succeeded"]
    assert "\r" not in log.getvalue()


def test_in_place_progress_moves_its_clock_between_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_display, "_TICK", 0.01)
    terminal = _Terminal()
    bar = _display.Progress("save", to=terminal)
    bar.update("pushing")
    deadline = time.monotonic() + 10  # bounds a broken ticker, not a speed check
    while terminal.getvalue().count(IN_PLACE) < 3:
        assert time.monotonic() < deadline, terminal.getvalue()
        time.sleep(0.01)
    bar.close()
    after_close = terminal.getvalue()
    assert _screen_lines(after_close) == ["save: pushing"]
    bar.close()  # twice is fine, and nothing is drawn any more
    assert terminal.getvalue() == after_close


@pytest.mark.parametrize("bad", [1, "stderr", None, object()])
def test_bad_progress_is_rejected_before_any_request(
    client: neuro_sync.Client, mocked: responses.RequestsMock, bad: Any
) -> None:
    with pytest.raises(neuro_sync.ValidationError) as info:
        client.jobs.wait(JOB_ID, progress=bad)
    assert info.value.field == "progress"
    with pytest.raises(neuro_sync.ValidationError):
        client.jobs.save(JOB_ID, RemoteImage("img", "v1", "alice", REGISTRY), progress=bad)
    assert len(mocked.calls) == 0


# ---------------------------------------------------------------------------- wait's deadline


def test_wait_status_requests_get_at_most_the_time_left(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="running"))
    with pytest.raises(WaitTimeout, match="still running after 1 s") as info:
        client.jobs.wait(JOB_ID, timeout=1, poll_interval=0.05)
    assert isinstance(info.value.job, JobDescription)
    timeouts = [sent_timeout(call) for call in mocked.calls]
    assert len(timeouts) >= 2
    assert all(c <= 1.5 and r <= 1.5 for c, r in timeouts)
    assert timeouts[-1][1] < timeouts[0][1]  # shrinking with the time left
