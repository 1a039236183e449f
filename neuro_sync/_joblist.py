"""`JobStream`: the jobs of a list reply, mapped one by one while the reply arrives.

Two reply formats: NDJSON (one job object per line, what the platform serves from 2020 on
when asked with `Accept: application/x-ndjson`) and the 2019 `{"jobs": [...]}` object, read
with an incremental reader so that neither needs the whole body in memory. A hostile server
cannot make either buffer more than `MAX_ITEM` bytes for one job.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import _mapping
from ._closing import Closing
from ._mapping import MALFORMED
from .errors import ResponseValidationError, ServerError
from .models import JobDescription

if TYPE_CHECKING:
    from ._transport import Stream

__all__ = [
    "MAX_ITEM",
    "NDJSON",
    "JobStream",
    "MalformedReply",
    "array_items",
    "jobs_from_body",
    "ndjson_items",
]

NDJSON = "application/x-ndjson"
# The longest one job (an NDJSON line, an array item) may be; a real one is 1-3 KiB.
MAX_ITEM = 4 * 1024 * 1024
_CHUNK = 64 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
# (value, end) of the JSON value at an index: the public face of json's C scanner.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().raw_decode
_END: Any = object()


def _stream_error(error: object, index: int, status: int) -> ServerError:
    """A line holding `error`: the server failed after it began the list (its status was 2xx,
    kept as `.status`); the jobs before it were yielded."""
    text = error if isinstance(error, str) else json.dumps(error)[:1000]
    return ServerError(
        f"The server failed while listing jobs (after {index}): {text}", status=status
    )


class MalformedReply(ValueError):
    """A list reply that cannot be read (the message says where it goes wrong)."""


def ndjson_items(chunks: Iterable[bytes]) -> Iterator[Any]:
    """The JSON values of an NDJSON body, one per non-blank line, whatever the chunking.

    Raises:
        MalformedReply: a line is not JSON, or longer than `MAX_ITEM`.
    """
    buffer = bytearray()
    index = 0
    for chunk in chunks:
        scan = len(buffer)
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", scan)) >= 0:
            if end > start:
                line = buffer[start:end]
                if line.strip():
                    yield _line(line, index)
                    index += 1
            start = scan = end + 1
        del buffer[:start]
        if len(buffer) > MAX_ITEM:
            raise MalformedReply(f"job #{index} is longer than {MAX_ITEM} bytes")
    if buffer.strip():
        yield _line(buffer, index)


def _line(line: bytearray, index: int) -> Any:
    try:
        return json.loads(line)
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise MalformedReply(f"job #{index} is not JSON: {err}") from None


class _ArrayReader:
    """Reads `{"jobs": [...], ...}` from chunks of UTF-8 text, one array item at a time."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._decode = codecs.getincrementaldecoder("utf-8")().decode
        self._text = ""
        self._pos = 0
        self._eof = False

    def _fill(self) -> bool:
        """Append the next chunk of text; False at the end of the body."""
        while not self._eof:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._eof = True
                text = self._decode(b"", True)  # a cut UTF-8 sequence raises here
            else:
                text = self._decode(chunk)
            if text:
                self._text = self._text[self._pos :] + text
                self._pos = 0
                return True
        return False

    def _peek(self) -> str:
        """The next character after whitespace, not consumed ("" at the end of the body)."""
        while True:
            match = _WS.match(self._text, self._pos)
            assert match is not None  # the pattern matches the empty string
            self._pos = match.end()
            if self._pos < len(self._text):
                return self._text[self._pos]
            if not self._fill():
                return ""

    def _expect(self, char: str, what: str) -> None:
        found = self._peek()
        if found != char:
            raise ValueError(f"expected {char!r} {what}, found {found or 'the end'!r}")
        self._pos += 1

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = _SCAN(self._text, self._pos)
            except ValueError as err:
                # Most likely cut at the chunk boundary: retry with more text, within limits.
                if len(self._text) - self._pos > MAX_ITEM or not self._fill():
                    if self._pos >= len(self._text):
                        raise ValueError("the reply ended early") from None
                    if isinstance(err, json.JSONDecodeError) and err.msg == "Expecting value":
                        raise ValueError("expected a JSON value") from None
                    raise
                continue
            # A number at the end of the text may go on in the next chunk ("12" + "3").
            if end == len(self._text) and self._fill():
                continue
            self._pos = end
            return value

    def items(self) -> Iterator[Any]:
        """The items of the `jobs` array, one by one (one generator: they run per job)."""
        try:
            self._expect("{", "at the start of the reply")
            found = False
            if self._peek() == "}":
                self._pos += 1
            else:
                while True:
                    key = self._value()
                    if type(key) is not str:
                        raise ValueError("an object key is not a string")
                    self._expect(":", "after a key")
                    if key == "jobs" and not found:
                        found = True
                        if self._peek() != "[":
                            raise TypeError("'jobs' is not a list")
                        self._pos += 1
                        if self._peek() == "]":
                            self._pos += 1
                        else:
                            # The array, inlined: this loop runs once per job.
                            scan = _SCAN
                            text, pos = self._text, self._pos
                            while True:
                                # The common case with local variables: a whole item in the
                                # text, then "," or ", " and the next item. Anything else
                                # takes the careful path through `self`.
                                try:
                                    value, end = scan(text, pos)
                                except ValueError:
                                    end = len(text)
                                if end >= len(text):
                                    self._pos = pos
                                    value = self._value()
                                    text, end = self._text, self._pos
                                yield value
                                if text.startswith(",", end):
                                    pos = end + 2 if text.startswith(" ", end + 1) else end + 1
                                    if pos < len(text):
                                        continue
                                self._pos = end
                                if self._peek() == ",":
                                    self._pos += 1
                                    self._peek()
                                    text, pos = self._text, self._pos
                                    continue
                                self._expect("]", "after a job in the list")
                                break
                    else:
                        self._value()  # another member: read and dropped
                    if self._peek() == ",":
                        self._pos += 1
                        continue
                    self._expect("}", "at the end of the reply object")
                    break
            if self._peek():
                raise ValueError("extra data after the reply object")
            if not found:
                raise KeyError("jobs")
        except MALFORMED as err:
            raise MalformedReply(_mapping.describe(err)) from None


def array_items(chunks: Iterable[bytes]) -> Iterator[Any]:
    """The items of the `jobs` array of a `{"jobs": [...]}` body, whatever the chunking.

    Raises:
        MalformedReply: the body is not such an object, has no `jobs` array, or an item is
            longer than `MAX_ITEM`.
    """
    return _ArrayReader(chunks).items()


def jobs_from_body(content: bytes, ctx: _mapping.ReplyContext) -> list[JobDescription]:
    """All jobs of a complete `{"jobs": [...]}` body.

    The compiled decoder first (`_mapping.fast_jobs`); a body it refuses is read again here,
    item by item rather than with `json.loads` (each job's parsed JSON is dropped as soon as
    it is mapped, so the garbage collector never scans a whole parsed reply), with the errors
    that name the job and the field.
    """
    fast = _mapping.fast_jobs(content, ctx)
    if fast is not None:
        return fast
    out: list[JobDescription] = []
    append, job = out.append, _mapping.map_job
    value: Any = None
    try:
        for value in array_items((content,)):
            append(job(value, ctx))
    except MalformedReply as err:
        raise ResponseValidationError(f"Malformed job list reply: {err}") from None
    except MALFORMED as err:
        raise _mapping.list_error(value, len(out), err) from None
    return out


class JobStream(Closing):
    """The jobs of `Jobs.iter`: an iterator of `JobDescription`, in server order (oldest
    first), each mapped as its bytes arrive, so memory stays flat however long the history.

    Iterating to the end releases the connection; to stop early, use it as a context manager
    (or call `close()`)::

        with client.jobs.iter(statuses={JobStatus.RUNNING}) as jobs:
            for job in jobs:
                ...

    Raises (while iterating):
        ResponseValidationError: a malformed reply or job (named by its position and id).
        StreamInterrupted: the connection broke before the reply ended.
        APITimeoutError: no data arrived within the read timeout.
    """

    def __init__(
        self,
        stream: Stream,
        ctx: _mapping.ReplyContext,
    ) -> None:
        self._stream = stream
        self._ctx = ctx
        self._items: Generator[JobDescription, None, None] | None = None
        self._closed = False
        content_type = stream.headers.get("Content-Type", "")
        self.ndjson = content_type.split(";", 1)[0].strip().lower() == NDJSON

    def __iter__(self) -> JobStream:
        return self

    def __next__(self) -> JobDescription:
        if self._items is None:
            if self._closed:
                raise ValueError("I/O operation on a closed job stream")
            self._items = self._jobs()
        return next(self._items)

    def _jobs(self) -> Generator[JobDescription, None, None]:
        index = 0
        value: Any = None
        job, ctx = _mapping.map_job, self._ctx
        try:
            if self.ndjson:
                for value in ndjson_items(self._chunks()):
                    if type(value) is dict and "error" in value:
                        raise _stream_error(value["error"], index, self._stream.status)
                    yield job(value, ctx)
                    index += 1
            else:
                for value in array_items(self._chunks()):
                    yield job(value, ctx)
                    index += 1
        except MalformedReply as err:
            raise ResponseValidationError(f"Malformed job list reply: {err}") from None
        except ServerError:
            raise  # the server's error line (a ValueError, but not a malformed job)
        except MALFORMED as err:
            raise _mapping.list_error(value, index, err) from None
        finally:
            self._release()

    def _chunks(self) -> Iterator[bytes]:
        return self._stream.chunks(
            timeout_text="No job list data within the read timeout",
            cut_text="The job list reply was cut",
        )

    def _release(self) -> None:
        self._closed = True
        self._stream.close()

    def close(self) -> None:
        """Release the connection; further iteration is an error."""
        if not self._closed:
            items, self._items = self._items, None
            if items is not None:
                items.close()  # runs its `finally`, which releases the connection
            self._release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        kind = "ndjson" if self.ndjson else "json"
        return f"<JobStream {kind} closed={self._closed}>"
