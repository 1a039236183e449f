"""`jobs.logs`: bytes chunks decoded into `str` lines (split characters, CRLF, no final newline)
and the timeouts each mode sends."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
import requests
import responses

import neuro_sync
from neuro_sync import LogLines, LogStream
from neuro_sync._transport import Stream

from .conftest import BASE, JOB_ID, MONITORING, make_job, sent_timeout


class _ChunkedBody:
    """A `raw` for `requests.Response` that hands out the given chunks one read at a time."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = list(chunks)

    def read(self, size: int = -1, **_: object) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""

    def close(self) -> None:
        self._chunks = []


def lines_of(*chunks: bytes) -> list[str]:
    response = requests.Response()
    response.status_code = 200
    response.raw = _ChunkedBody(chunks)
    with LogLines(LogStream(Stream(response, None, lambda s: s), JOB_ID)) as lines:
        return list(lines)


def test_lines_across_chunks() -> None:
    assert lines_of(b"one\ntw", b"o\n", b"\nthree\n") == ["one", "two", "", "three"]


@pytest.mark.parametrize("cut", range(1, len("añ€😀\n".encode())))
def test_a_character_split_between_chunks_comes_out_whole(cut: int) -> None:
    data = "añ€😀\n".encode()
    assert lines_of(data[:cut], data[cut:]) == ["añ€😀"]


def test_one_byte_per_chunk() -> None:
    data = "grüße\nмир\n".encode()
    assert lines_of(*(data[i : i + 1] for i in range(len(data)))) == ["grüße", "мир"]


def test_last_line_without_newline() -> None:
    assert lines_of(b"first\nlast") == ["first", "last"]
    assert lines_of(b"only") == ["only"]
    assert lines_of(b"") == []


def test_a_cut_character_at_the_very_end_is_replaced() -> None:
    assert lines_of("ok\n€".encode()[:-1]) == ["ok", "\ufffd"]


def test_crlf_ends_a_line_even_split_between_chunks() -> None:
    assert lines_of(b"a\r\nb\r", b"\nc\r\n") == ["a", "b", "c"]


def test_a_lone_cr_stays_in_the_line() -> None:
    # A progress bar redrawing itself: one line with its carriage returns.
    assert lines_of(b"10%\r50%\r100%\n") == ["10%\r50%\r100%"]


def test_invalid_utf8_becomes_replacement_characters() -> None:
    assert lines_of(b"bin \xff\xfe end\n") == ["bin \ufffd\ufffd end"]


def test_a_huge_line_comes_in_pieces() -> None:
    big = b"x" * (2 * 1024 * 1024 + 5)
    pieces = lines_of(big[:1000], big[1000:], b"\nnext\n")
    assert "".join(pieces[:-1]) == big.decode()
    assert max(len(p) for p in pieces) <= 1024 * 1024
    assert pieces[-1] == "next"


# ---------------------------------------------------------------------------- through the API


def test_logs_follows_without_a_read_limit(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body="héllo\nworld".encode())
    with client.jobs.logs(JOB_ID) as lines:
        assert list(lines) == ["héllo", "world"]
    assert lines.closed
    # The client's connect timeout, no read timeout: a silent job is not an error.
    assert sent_timeout(mocked.calls[0]) == (10.0, None)


def test_logs_explicit_timeout_is_kept(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"x\n")
    assert client.jobs.logs(JOB_ID, timeout=(3, 4)).read() == "x"
    assert sent_timeout(mocked.calls[0]) == (3.0, 4.0)


def test_logs_of_a_finished_job_without_follow(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{BASE}/jobs/{JOB_ID}", json=make_job(status="succeeded", exit_code=0))
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"a\nb\n")
    assert list(client.jobs.logs(JOB_ID, follow=False)) == ["a", "b"]
    # A finished job's log is read to its end with the client's own timeout.
    assert sent_timeout(mocked.calls[1]) == (10.0, 60.0)


def test_logs_iterated_twice_is_an_error(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body=b"x\n")
    lines = client.jobs.logs(JOB_ID)
    assert lines.read() == "x"
    with pytest.raises(ValueError, match="closed log stream"):
        list(lines)


def test_logs_validates_the_id_before_any_request(client: neuro_sync.Client) -> None:
    with pytest.raises(neuro_sync.ValidationError, match="id"):
        client.jobs.logs("  ")


def test_monitor_still_yields_bytes(
    client: neuro_sync.Client, mocked: responses.RequestsMock
) -> None:
    mocked.get(f"{MONITORING}/{JOB_ID}/log", body="é\n".encode())
    with client.jobs.monitor(JOB_ID) as stream:
        assert stream.read() == "é\n".encode()
