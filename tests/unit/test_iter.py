"""`jobs.iter`: NDJSON and the 2019 JSON array, read incrementally, whatever the chunking."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

import neuro_sync
from neuro_sync import JobStatus, JobStream, ResponseValidationError, ValidationError, _joblist
from neuro_sync._joblist import array_items, ndjson_items

from .conftest import BASE, make_job

NDJSON = "application/x-ndjson"

WIRE = [
    make_job(id="job-1", status="running", name="first-job", http_port=80),
    # multi-byte UTF-8 and a number at the end of the object, where chunks may split them
    make_job(
        id="job-2",
        status="failed",
        reason="Error",
        status_description="größe ✓ 失败\n",
        exit_code=137,
        env={"KEY": "värde"},
        volumes=[{"src_storage_uri": "storage://alice/d", "dst_path": "/d", "read_only": False}],
    ),
    make_job(id="job-3", status="succeeded", exit_code=0, gpu=1, gpu_model="nvidia-tesla-k80"),
]


def _ndjson(jobs: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(j, ensure_ascii=False).encode() + b"\n" for j in jobs)


def _array(jobs: list[dict[str, Any]]) -> bytes:
    return json.dumps({"jobs": jobs}, ensure_ascii=False).encode()


def _chunks(body: bytes, *cuts: int) -> list[bytes]:
    edges = [0, *cuts, len(body)]
    return [body[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _fresh() -> list[dict[str, Any]]:
    fresh: list[dict[str, Any]] = json.loads(json.dumps(WIRE))  # the mapping consumes its input
    return fresh


# --------------------------------------------------------------------------- through the client


def test_ndjson_is_asked_for_and_read(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", body=_ndjson(WIRE), content_type=NDJSON)
    with client.jobs.iter() as jobs:
        assert jobs.ndjson
        got = list(jobs)
    assert [j.id for j in got] == ["job-1", "job-2", "job-3"]
    assert got[1].history.description == "größe ✓ 失败\n"
    assert got[1].history.exit_code == 137
    accept = mocked.calls[0].request.headers["Accept"]
    assert accept.split(",")[0] == NDJSON and "application/json" in accept


def test_a_2019_json_array_is_read_incrementally(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", body=_array(WIRE), content_type="application/json")
    with client.jobs.iter() as jobs:
        assert not jobs.ndjson
        got = list(jobs)
    mocked.get(f"{BASE}/jobs", json={"jobs": WIRE})
    assert got == client.jobs.list()


def test_iter_takes_the_filters_of_list(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", body=b"", content_type=NDJSON)
    mocked.get(f"{BASE}/jobs", json={"jobs": []})
    filters: dict[str, Any] = {
        "statuses": {JobStatus.RUNNING, "pending"},
        "name": "my-job",
        "owners": ["bob"],
    }
    assert list(client.jobs.iter(**filters)) == []
    assert client.jobs.list(**filters) == []
    assert mocked.calls[0].request.url == mocked.calls[1].request.url
    assert "status=pending&status=running" in str(mocked.calls[0].request.url)


def test_bad_filters_fail_before_sending(client: neuro_sync.Client) -> None:
    with pytest.raises(ValidationError, match="statuses"):
        client.jobs.iter(statuses="running")


def test_closing_early_releases_and_forbids_iteration(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", body=_ndjson(WIRE), content_type=NDJSON)
    with client.jobs.iter() as jobs:
        assert isinstance(jobs, JobStream)
        assert next(jobs).id == "job-1"
    assert jobs.closed
    with pytest.raises(ValueError, match="closed"):
        next(jobs)


def test_iterating_to_the_end_closes(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs", body=_ndjson(WIRE), content_type=NDJSON)
    jobs = client.jobs.iter()
    assert len(list(jobs)) == 3
    assert jobs.closed
    assert list(jobs) == []  # exhausted, like any iterator


def test_a_malformed_line_is_a_typed_error_naming_it(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    body = _ndjson(WIRE[:1]) + b'{"id": "job-2", oops\n' + _ndjson(WIRE[2:])
    mocked.get(f"{BASE}/jobs", body=body, content_type=NDJSON)
    jobs = client.jobs.iter()
    assert next(jobs).id == "job-1"
    with pytest.raises(
        ResponseValidationError, match=r"^Malformed job list reply: job #1 is not JSON"
    ):
        next(jobs)
    assert jobs.closed


def test_a_malformed_job_is_named_by_position_and_id(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    bad = make_job(id="job-bad")
    bad["history"]["exit_code"] = "0"
    mocked.get(f"{BASE}/jobs", body=_ndjson([WIRE[0], bad]), content_type=NDJSON)
    with pytest.raises(ResponseValidationError) as info:
        list(client.jobs.iter())
    assert str(info.value) == (
        "Malformed job #1 ('job-bad') in the list reply: history.exit_code is not an int"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"jobs": [', "Malformed job list reply: the reply ended early"),
        (b'{"jobs": [] } trailing', "Malformed job list reply: extra data after the reply"),
        (b'{"jobs": {}}', "Malformed job list reply: 'jobs' is not a list"),
        (b'{"items": []}', "Malformed job list reply: missing field 'jobs'"),
        (b"[]", "Malformed job list reply: expected '{' at the start of the reply, found '['"),
        (b'{"jobs": [] ]', "Malformed job list reply: expected '}' at the end of the reply"),
        (b'{"jobs": [5]}', "Malformed job #0 in the list reply: job is not a JSON object"),
    ],
)
def test_a_malformed_array_is_a_typed_error(
    client: neuro_sync.Client, mocked: responses.RequestsMock, body: bytes, message: str
) -> None:
    mocked.get(f"{BASE}/jobs", body=body, content_type="application/json")
    with pytest.raises(ResponseValidationError) as info:
        list(client.jobs.iter())
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------------- readers


def test_ndjson_at_every_chunk_boundary() -> None:
    body = _ndjson(WIRE)
    expected = _fresh()
    for cut in range(len(body) + 1):
        assert list(ndjson_items(_chunks(body, cut))) == expected, cut
    assert list(ndjson_items(_chunks(body, *range(1, len(body))))) == expected  # byte by byte


def test_ndjson_tolerates_blank_lines_crlf_and_no_final_newline() -> None:
    body = b"\r\n" + json.dumps(WIRE[0]).encode() + b"\r\n\n  \n" + json.dumps(WIRE[1]).encode()
    assert list(ndjson_items([body])) == _fresh()[:2]


def test_array_at_every_chunk_boundary() -> None:
    body = _array(WIRE)
    expected = _fresh()
    for cut in range(len(body) + 1):
        assert list(array_items(_chunks(body, cut))) == expected, cut
    assert list(array_items(_chunks(body, *range(1, len(body))))) == expected


def test_array_with_other_members_and_odd_spacing() -> None:
    text = '\n{ "total" : 3 , "jobs" :[ 12 ,\t{"a": [1, {"b": "]"}]} ,"x"\n] , "next": null }\n '
    body = text.encode()
    for cut in range(len(body) + 1):
        assert list(array_items(_chunks(body, cut))) == [12, {"a": [1, {"b": "]"}]}, "x"]


def test_items_without_a_comma_are_an_error() -> None:
    with pytest.raises(ValueError, match="expected ']' after a job in the list"):
        list(array_items([b'{"jobs": [1 2]}']))


def test_a_number_split_across_chunks_is_read_whole() -> None:
    assert list(array_items([b'{"jobs": [12', b"34, 5", b"6]}"])) == [1234, 56]


def test_a_cut_utf8_sequence_at_the_end_is_an_error() -> None:
    with pytest.raises(ValueError):
        list(array_items([b'{"jobs": ["\xc3']))


@pytest.mark.parametrize("reader", [ndjson_items, array_items])
def test_an_endless_item_is_bounded(monkeypatch: pytest.MonkeyPatch, reader: Any) -> None:
    """A hostile server cannot make the reader buffer more than MAX_ITEM for one job."""
    monkeypatch.setattr(_joblist, "MAX_ITEM", 1000)
    prefix = b'{"jobs": [' if reader is array_items else b""
    chunks = iter([prefix + b'{"id": "'] + [b"x" * 100] * 1_000_000)
    with pytest.raises(ValueError):
        list(reader(chunks))
    assert len(list(chunks)) > 999_000  # it stopped after about MAX_ITEM bytes
