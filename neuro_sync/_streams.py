"""Stream objects: the job log (chunked HTTP) and telemetry (WebSocket).

Both iterate, close, and work as context managers; an abnormal end raises instead of looking
like the end of the data.
"""

from __future__ import annotations

import codecs
import json
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
import urllib3.exceptions
import websocket

from . import _mapping
from ._closing import Closing
from ._transport import chain_is_clean, error_from_status
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientError,
    JobNotRunning,
    ResponseValidationError,
    StreamInterrupted,
)
from .models import JobTelemetry

__all__ = ["LogLines", "LogStream", "TelemetryStream", "iter_lines", "read_chunks"]

_CHUNK = 64 * 1024
# A "line" without a newline is cut into pieces of this many characters, so that a log
# without newlines cannot grow one string without bound.
_MAX_LINE = 1024 * 1024


class LogStream(Closing):
    """The log of a job as an iterable of `bytes` chunks, as they arrive.

    Use it as a context manager (or call `close()`) so the connection is released::

        with client.jobs.monitor(job_id) as log:
            for chunk in log:
                sys.stdout.buffer.write(chunk)

    Raises (while iterating):
        StreamInterrupted: the connection broke before the server ended the log.
        APITimeoutError: no data arrived within the read timeout.
    """

    def __init__(
        self, response: requests.Response, job_id: str, redact: Callable[[str], str]
    ) -> None:
        self._response = response
        self._job_id = job_id
        self._redact = redact
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        if self._closed:
            raise ValueError("I/O operation on a closed log stream")
        return read_chunks(
            self._response,
            self._redact,
            timeout_text=f"No log data for job {self._job_id} within the read timeout",
            cut_text=f"The log stream of job {self._job_id} was cut",
            on_end=self.close,
        )

    def read(self) -> bytes:
        """Read the whole log (until the job ends) and return it."""
        return b"".join(self)

    def close(self) -> None:
        """Release the connection; further iteration is an error."""
        if not self._closed:
            self._closed = True
            self._response.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def job_id(self) -> str:
        return self._job_id

    def set_read_timeout(self, seconds: float) -> bool:
        """Shorten the read timeout of the open connection; False if that is not possible.

        Only for a stream that is read to a stop on the first timeout: a timeout in the middle
        of a chunk loses the chunk's bytes read so far.
        """
        connection = getattr(self._response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is None:
            return False
        sock.settimeout(seconds)
        return True

    def __repr__(self) -> str:
        return f"<LogStream job={self._job_id} closed={self._closed}>"


class LogLines(Closing):
    """The log of a job as `str` lines (see `Jobs.logs`); close it, or use `with`.

    Bytes are decoded incrementally as UTF-8: a character split between chunks comes out
    whole, invalid bytes become U+FFFD. A line ends at `\\n` or `\\r\\n`, which are not part
    of it; a lone `\\r` (a progress bar redrawing) stays in the line. A last line without a
    newline is yielded at the end; one longer than a million characters comes in pieces.

    Args:
        stream: the byte stream to decode.
        idle: stop quietly once no data arrived for this many seconds (reading a snapshot),
            or after `idle * 10` seconds in all; None reads to the end of the stream.
    """

    def __init__(self, stream: LogStream, *, idle: float | None = None) -> None:
        self._stream = stream
        self._idle = idle
        if idle is not None and not stream.set_read_timeout(idle):
            self._idle = None  # no socket to shorten: read with the timeout given

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        stop_at = None if self._idle is None else time.monotonic() + self._idle * 10
        with self._stream:
            try:
                for chunk in self._stream:
                    pending += decoder.decode(chunk)
                    *lines, pending = pending.split("\n")
                    for line in lines:
                        yield line[:-1] if line.endswith("\r") else line
                    while len(pending) > _MAX_LINE:
                        yield pending[:_MAX_LINE]
                        pending = pending[_MAX_LINE:]
                    if stop_at is not None and time.monotonic() >= stop_at:
                        break
            except APITimeoutError:
                if self._idle is None:
                    raise
                # A snapshot: the job is alive but quiet, so this is all there is now.
            pending += decoder.decode(b"", final=True)
        if pending:
            yield pending[:-1] if pending.endswith("\r") else pending

    def read(self) -> str:
        """All the lines, joined with newlines."""
        return "\n".join(self)

    def close(self) -> None:
        """Release the connection; further iteration is an error."""
        self._stream.close()

    @property
    def closed(self) -> bool:
        return self._stream.closed

    def __repr__(self) -> str:
        return f"<LogLines job={self._stream.job_id} closed={self.closed}>"


class TelemetryStream(Closing):
    """`JobTelemetry` samples of a running job over the `top` WebSocket, about one a second.

    Iteration ends when the server closes the socket (the job finished). A job that closes
    without any sample was not running: `JobNotRunning`.
    """

    def __init__(
        self,
        url: str,
        *,
        job_id: str,
        headers: list[str],
        connect_timeout: float | None,
        read_timeout: float | None,
        redact: Callable[[str], str],
        sslopt: dict[str, Any] | None = None,
    ) -> None:
        self._job_id = job_id
        self._redact = redact
        self._read_timeout = read_timeout
        self._ws: websocket.WebSocket | None = None
        ws: websocket.WebSocket | None = None
        failed: BaseException | None = None
        try:
            ws = websocket.create_connection(
                url,
                header=headers,
                timeout=connect_timeout,
                sslopt=sslopt or {},
                # websocket-client would follow a redirect to any host with our headers,
                # the token included.
                redirect_limit=0,
            )
        except (websocket.WebSocketException, OSError, ssl.SSLError) as err:
            failed = err
        if ws is None:
            # Raised outside the except block: the library's exception quotes the server (the
            # handshake reply's headers and body, a redirect target), which may echo the
            # token; chained or even left as __context__ it would show in every traceback.
            error = self._connect_error(failed)
            if failed is not None and chain_is_clean(failed, redact):
                raise error from failed
            raise error
        ws.settimeout(read_timeout)
        self._ws = ws
        self._received = 0

    def _connect_error(self, err: BaseException | None) -> ClientError:
        job_id = self._job_id
        if isinstance(err, websocket.WebSocketBadStatusException):
            return self._handshake_error(err)
        if isinstance(err, TimeoutError | websocket.WebSocketTimeoutException):
            return APITimeoutError(f"Telemetry connection for job {job_id} timed out")
        if isinstance(err, websocket.WebSocketException) and str(err).startswith("Redirect"):
            return self._redirect_error("a redirect")
        return APIConnectionError(
            self._redact(f"Telemetry connection for job {job_id} failed: {err}")
        )

    def _redirect_error(self, what: str) -> ClientError:
        return ResponseValidationError(
            f"The telemetry connection for job {self._job_id} got {what}; redirects are not "
            "followed, so that the token never goes to another address"
        )

    def _handshake_error(self, err: websocket.WebSocketBadStatusException) -> ClientError:
        status = int(getattr(err, "status_code", 0) or 0)
        if 300 <= status < 400:
            return self._redirect_error(f"a redirect ({status})")
        body = getattr(err, "resp_body", None) or b""
        if isinstance(body, str):
            body = body.encode()
        return error_from_status(status, body, redact=self._redact)

    def __iter__(self) -> Iterator[JobTelemetry]:
        ws = self._ws
        if ws is None:
            raise ValueError("I/O operation on a closed telemetry stream")
        try:
            while True:
                failure: BaseException | None = None
                try:
                    opcode, data = ws.recv_data(control_frame=False)
                except (websocket.WebSocketException, OSError) as err:
                    failure = err
                if failure is not None:
                    error = self._receive_error(failure)
                    if chain_is_clean(failure, self._redact):
                        raise error from failure
                    raise error
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                if opcode != websocket.ABNF.OPCODE_TEXT:
                    continue  # binary frames carry nothing in this protocol
                try:
                    payload = json.loads(data)
                except ValueError:
                    raise ResponseValidationError("Malformed telemetry frame: not JSON") from None
                self._received += 1
                yield _mapping.telemetry_from_json(payload)
            if not self._received:
                raise JobNotRunning(f"Job is not running. Job Id = {self._job_id}")
        except (APITimeoutError, StreamInterrupted):
            # The peer is silent or gone: a close handshake would only wait for nothing.
            self._abort()
            raise
        finally:
            self.close()

    def _receive_error(self, err: BaseException) -> ClientError:
        if isinstance(err, websocket.WebSocketConnectionClosedException):
            # A close without a close frame: the connection dropped.
            return StreamInterrupted(f"The telemetry stream of job {self._job_id} was cut")
        if isinstance(err, TimeoutError | websocket.WebSocketTimeoutException):
            return APITimeoutError(f"No telemetry for job {self._job_id} within the read timeout")
        return StreamInterrupted(
            self._redact(f"The telemetry stream of job {self._job_id} failed: {err}")
        )

    def _abort(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.shutdown()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the WebSocket."""
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=1)
            except (websocket.WebSocketException, OSError):
                pass
            finally:
                # After the server's close frame the socket counts as disconnected and close()
                # returns at once without closing it; shutdown() always releases the fd.
                ws.shutdown()  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"<TelemetryStream job={self._job_id} open={self._ws is not None}>"


def read_chunks(
    response: requests.Response,
    redact: Callable[[str], str],
    *,
    timeout_text: str,
    cut_text: str,
    on_end: Callable[[], None] | None = None,
) -> Iterator[bytes]:
    """The non-empty chunks of a streamed body as they arrive; a broken body raises
    `APITimeoutError(timeout_text)` or `StreamInterrupted(cut_text: <error type>)`.

    `on_end` runs when the iteration ends, however it ends (one generator, no wrapper: the
    log may come in 1 KiB chunks, 100,000 for 100 MiB).
    """
    chunks = response.iter_content(_CHUNK)
    try:
        while True:
            failure: BaseException | None = None
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except (
                requests.exceptions.RequestException,
                urllib3.exceptions.HTTPError,
                OSError,
            ) as err:
                failure = err
            if failure is not None:
                # Raised out of the except block; chained only when the library's text
                # (which may quote the server, e.g. a bad chunk-size line) is clean.
                error = _stream_error(failure, timeout_text, redact(f"{cut_text}: "))
                if chain_is_clean(failure, redact):
                    raise error from failure
                raise error
            if chunk:
                yield chunk
    finally:
        if on_end is not None:
            on_end()


def _stream_error(err: BaseException, timeout_text: str, cut_prefix: str) -> ClientError:
    # requests reports a read timeout in the middle of a body as a ConnectionError.
    reason = err.args[0] if err.args else None
    if isinstance(err, requests.exceptions.Timeout | TimeoutError) or isinstance(
        reason, urllib3.exceptions.ReadTimeoutError
    ):
        return APITimeoutError(timeout_text)
    return StreamInterrupted(cut_prefix + type(err).__name__)


def iter_lines(response: requests.Response, job_id: str) -> Iterator[bytes]:
    """Non-empty lines of a streamed ndjson reply (save); a cut stream raises."""
    try:
        for line in response.iter_lines():
            if line.strip():
                yield line
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
        raise StreamInterrupted(
            f"The save stream of job {job_id} was cut: {type(err).__name__}"
        ) from err
