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
from typing import TYPE_CHECKING, Any

from . import _mapping
from ._closing import Closing
from ._lines import LineSplitter
from ._redaction import chain_is_clean
from ._transport import Stream
from .errors import (
    APIConnectionError,
    APITimeoutError,
    ClientError,
    JobNotRunning,
    ReplyTooLarge,
    ResponseValidationError,
    StreamInterrupted,
    error_from_status,
)
from .models import JobTelemetry

if TYPE_CHECKING:
    import websocket

__all__ = ["LogLines", "LogStream", "TelemetryStream", "open_websocket", "ws_messages"]

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

    def __init__(self, stream: Stream, job_id: str) -> None:
        self._stream = stream
        self._job_id = job_id
        self._closed = False
        self._idle: float | None = None

    def __iter__(self) -> Iterator[bytes]:
        if self._closed:
            raise ValueError("I/O operation on a closed log stream")
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        # One generator, no wrapper: the log may come in 1 KiB chunks, 100,000 for 100 MiB.
        try:
            yield from self._stream.chunks(
                timeout_text=f"No log data for job {self._job_id} within the read timeout",
                cut_text=f"The log stream of job {self._job_id} was cut",
                idle=self._idle,
            )
        finally:
            self.close()

    def read(self) -> bytes:
        """Read the whole log (until the job ends) and return it."""
        return b"".join(self)

    def close(self) -> None:
        """Release the connection; further iteration is an error."""
        if not self._closed:
            self._closed = True
            self._stream.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def job_id(self) -> str:
        return self._job_id

    def set_read_timeout(self, seconds: float) -> bool:
        """From the next chunk on, a chunk that takes longer than `seconds` raises
        `APITimeoutError` and ends the stream; always True.

        Only for a stream that is read to a stop on the first timeout: the connection is cut.
        """
        self._idle = seconds
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
        if idle is not None:
            stream.set_read_timeout(idle)

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        lines = LineSplitter("\n", _MAX_LINE, "\r")
        stop_at = None if self._idle is None else time.monotonic() + self._idle * 10
        with self._stream:
            try:
                for chunk in self._stream:
                    yield from lines.feed(decoder.decode(chunk))
                    if stop_at is not None and time.monotonic() >= stop_at:
                        break
            except APITimeoutError:
                if self._idle is None:
                    raise
                # A snapshot: the job is alive but quiet, so this is all there is now.
            yield from lines.feed(decoder.decode(b"", final=True))
        last = lines.flush()
        if last:
            yield last[:-1] if last.endswith("\r") else last

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
        ws = open_websocket(
            url,
            what="telemetry",
            job_id=job_id,
            headers=headers,
            connect_timeout=connect_timeout,
            redact=redact,
            sslopt=sslopt,
        )
        ws.settimeout(read_timeout)
        self._ws = ws
        self._received = 0

    def __iter__(self) -> Iterator[JobTelemetry]:
        import websocket  # loaded by __init__

        ws = self._ws
        if ws is None:
            raise ValueError("I/O operation on a closed telemetry stream")
        try:
            for opcode, data in ws_messages(
                ws,
                stream=f"the telemetry stream of job {self._job_id}",
                idle_text=f"No telemetry for job {self._job_id} within the read timeout",
                redact=self._redact,
            ):
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
        except (APITimeoutError, StreamInterrupted, ResponseValidationError):
            # The peer is silent, gone or hostile: a close handshake would only wait.
            self._abort()
            raise
        finally:
            self.close()

    def _abort(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.shutdown()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the WebSocket."""
        import websocket  # loaded by __init__

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


def open_websocket(
    url: str,
    *,
    what: str,
    job_id: str,
    headers: list[str],
    connect_timeout: float | None,
    redact: Callable[[str], str],
    sslopt: dict[str, Any] | None = None,
    subprotocols: list[str] | None = None,
) -> websocket.WebSocket:
    """Connect a WebSocket of a job (`what`: "telemetry", "exec"...); handshake failures
    become the typed errors of an HTTP reply, redirects are refused and the token is redacted.
    """
    # websocket-client loads with the first WebSocket, not with neuro_sync.
    import websocket

    from ._ws_cap import CappedWebSocket

    ws: websocket.WebSocket | None = None
    failed: BaseException | None = None
    try:
        ws = websocket.create_connection(
            url,
            header=headers,
            timeout=connect_timeout,
            sslopt=sslopt or {},
            subprotocols=subprotocols,
            # websocket-client would follow a redirect to any host with our headers,
            # the token included.
            redirect_limit=0,
            # Every message read is bounded (websocket-client has no option for it).
            class_=CappedWebSocket,
        )
    except (websocket.WebSocketException, OSError, ssl.SSLError) as err:
        failed = err
    if ws is None:
        # Raised outside the except block: the library's exception quotes the server (the
        # handshake reply's headers and body, a redirect target), which may echo the
        # token; chained or even left as __context__ it would show in every traceback.
        error = _connect_error(failed, what, job_id, redact)
        if failed is not None and chain_is_clean(failed, redact):
            raise error from failed
        raise error
    return ws


def ws_messages(
    ws: websocket.WebSocket,
    *,
    stream: str,
    idle_text: str,
    redact: Callable[[str], str],
    deadline: float | None = None,
) -> Iterator[tuple[int, bytes]]:
    """The data messages (opcode, payload) of a job's WebSocket until the server's close frame:
    the one read loop of telemetry, exec, attach and port forwarding.

    `stream` names it in errors ("the exec of job X"); `deadline` (a `time.monotonic()`
    value) bounds the whole read, else the socket's own timeout bounds each message.

    Raises:
        APITimeoutError: nothing within the socket's timeout or before `deadline` (`idle_text`).
        StreamInterrupted: the connection was cut or failed.
        ReplyTooLarge: a message larger than `MAX_MESSAGE` bytes (4 MiB; nothing more of it
            is read).
    """
    import websocket  # loaded by open_websocket

    from ._ws_cap import MAX_MESSAGE, MessageTooLarge

    while True:
        if deadline is not None:
            ws.settimeout(max(deadline - time.monotonic(), 0.001))
        failure: BaseException | None = None
        try:
            opcode, data = ws.recv_data(control_frame=False)
        except (websocket.WebSocketException, OSError) as err:
            failure = err
        if failure is not None:
            error: ClientError
            if isinstance(failure, MessageTooLarge):
                error = ReplyTooLarge(
                    f"{stream.capitalize()} sent a message larger than {MAX_MESSAGE} bytes",
                    limit=MAX_MESSAGE,
                )
            elif isinstance(failure, TimeoutError | websocket.WebSocketTimeoutException):
                error = APITimeoutError(idle_text)
            elif isinstance(failure, websocket.WebSocketConnectionClosedException):
                # A close without a close frame: the connection dropped.
                error = StreamInterrupted(f"{stream.capitalize()} was cut")
            else:
                error = StreamInterrupted(redact(f"{stream.capitalize()} failed: {failure}"))
            if chain_is_clean(failure, redact):
                raise error from failure
            raise error
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            yield opcode, data


def _connect_error(
    err: BaseException | None, what: str, job_id: str, redact: Callable[[str], str]
) -> ClientError:
    import websocket  # loaded by open_websocket

    if isinstance(err, websocket.WebSocketBadStatusException):
        status = int(getattr(err, "status_code", 0) or 0)
        if 300 <= status < 400:
            return _redirect_error(f"a redirect ({status})", what, job_id)
        body = getattr(err, "resp_body", None) or b""
        if isinstance(body, str):
            body = body.encode()
        return error_from_status(status, body, redact=redact)
    if isinstance(err, TimeoutError | websocket.WebSocketTimeoutException):
        return APITimeoutError(f"{what.capitalize()} connection for job {job_id} timed out")
    if isinstance(err, websocket.WebSocketException) and str(err).startswith("Redirect"):
        return _redirect_error("a redirect", what, job_id)
    return APIConnectionError(
        redact(f"{what.capitalize()} connection for job {job_id} failed: {err}")
    )


def _redirect_error(how: str, what: str, job_id: str) -> ClientError:
    return ResponseValidationError(
        f"The {what} connection for job {job_id} got {how}; redirects are not "
        "followed, so that the token never goes to another address"
    )
