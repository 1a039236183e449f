"""Stream objects: the job log (chunked HTTP) and telemetry (WebSocket).

Both iterate, close, and work as context managers; an abnormal end raises instead of looking
like the end of the data.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import socket
import struct
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from yarl import URL

from . import _mapping
from ._closing import Closing
from ._lines import LineSplitter
from ._redaction import chain_is_clean
from ._tunnel import connect_through
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
    import ssl

    from websockets.sync.client import ClientConnection

    from ._transport import Stream

__all__ = [
    "MAX_MESSAGE",
    "LogLines",
    "LogStream",
    "JobSocket",
    "TelemetryStream",
    "open_websocket",
    "ws_messages",
]

# The largest WebSocket message read (`ReplyTooLarge` past it): what aiohttp (the real
# platform's and neuro-sdk's WebSocket library) accepts by default; the local platform sends at
# most 64 KiB at a time.
MAX_MESSAGE = 4 * 1024 * 1024

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
        headers: list[tuple[str, str]],
        connect_timeout: float | None,
        read_timeout: float | None,
        redact: Callable[[str], str],
        tls: ssl.SSLContext | None = None,
        proxy: str | None = None,
    ) -> None:
        self._job_id = job_id
        self._redact = redact
        self._read_timeout = read_timeout
        self._ws: JobSocket | None = None
        self._ws = open_websocket(
            url,
            what="telemetry",
            job_id=job_id,
            headers=headers,
            connect_timeout=connect_timeout,
            redact=redact,
            tls=tls,
            proxy=proxy,
        )
        self._received = 0

    def __iter__(self) -> Iterator[JobTelemetry]:
        ws = self._ws
        if ws is None:
            raise ValueError("I/O operation on a closed telemetry stream")
        try:
            for message in ws_messages(
                ws,
                stream=f"the telemetry stream of job {self._job_id}",
                idle_text=f"No telemetry for job {self._job_id} within the read timeout",
                redact=self._redact,
                idle=self._read_timeout,
            ):
                if not isinstance(message, str):
                    continue  # binary frames carry nothing in this protocol
                try:
                    payload = json.loads(message)
                except ValueError:
                    raise ResponseValidationError("Malformed telemetry frame: not JSON") from None
                self._received += 1
                yield _mapping.telemetry_from_json(payload)
            if not self._received:
                raise JobNotRunning(f"Job is not running. Job Id = {self._job_id}")
        finally:
            self.close()

    def close(self) -> None:
        """Close the WebSocket (a close handshake of at most a second)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()

    def __repr__(self) -> str:
        return f"<TelemetryStream job={self._job_id} open={self._ws is not None}>"


class JobSocket:
    """A job's open WebSocket: a websockets connection, and the TCP connection under it (ours:
    `open_websocket` connects it) to cut it at once where a close handshake would only wait.

    `send` may be called from one thread while another iterates `ws_messages` (websockets
    serializes writes with a lock).
    """

    def __init__(self, connection: ClientConnection, tcp: socket.socket) -> None:
        self.connection = connection
        self._tcp = tcp  # a duplicate of the connection's socket: the same TCP connection

    def send(self, data: bytes) -> None:
        """Send one binary message."""
        self.connection.send(data)

    def close(self) -> None:
        """The close handshake (at most `_CLOSE_TIMEOUT` for the server), then the socket is
        released; a second call returns at once."""
        with contextlib.suppress(OSError, RuntimeError):
            self.connection.close()
        with contextlib.suppress(OSError):
            self._tcp.close()

    def abort(self) -> None:
        """Cut the TCP connection without a close handshake (the peer is gone or hostile);
        wakes a thread blocked reading it."""
        with contextlib.suppress(OSError):
            # A reset, not a FIN: a peer stuck sending into a full window learns of it at once.
            self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._tcp.shutdown(socket.SHUT_RDWR)
        self.close()


# The wait for the server's end of a close handshake.
_CLOSE_TIMEOUT = 1.0
# How often a read checks whether the connection failed (websockets, having refused a message,
# reads and drops the rest until the connection ends: `ws_messages` then cuts it).
_CHECK = 0.02
# How long a connection may stay closing before `ws_messages` cuts it. Not at once: a server's
# close frame also makes it closing, while websockets' reader thread is still handing over the
# messages that came before it (a cut then drops them: seen in CI); a close handshake takes one
# round trip. After a refused message, what the server sends meanwhile is read and dropped.
_CLOSING_GRACE = 0.5


def open_websocket(
    url: str,
    *,
    what: str,
    job_id: str,
    headers: list[tuple[str, str]],
    connect_timeout: float | None,
    redact: Callable[[str], str],
    tls: ssl.SSLContext | None = None,
    subprotocols: list[str] | None = None,
    proxy: str | None = None,
) -> JobSocket:
    """Connect a WebSocket of a job (`what`: "telemetry", "exec"...); handshake failures
    become the typed errors of an HTTP reply, redirects are refused and the token is redacted.

    `connect_timeout` bounds the TCP connect (through `proxy`, an http:// proxy URL, if
    given), then the TLS and WebSocket handshakes together.
    """
    # websockets and ssl load with the first WebSocket, not with neuro_sync.
    import ssl

    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    target = URL(url)
    start = time.monotonic()
    ws: JobSocket | None = None
    failed: BaseException | None = None
    sock: socket.socket | None = None
    tcp: socket.socket | None = None
    try:
        # Our own socket: websockets follows a redirect (to the same origin, with our
        # headers) unless it was given a connected socket, and then it refuses every redirect.
        address = (target.host or "", target.port or 0)
        if proxy is None:
            sock = socket.create_connection(address, timeout=connect_timeout)
        else:
            sock = connect_through(proxy, *address, connect_timeout)
        sock.settimeout(None)  # reads are bounded by ws_messages
        tcp = sock.dup()  # TLS takes `sock` over; this stays usable to cut the connection
        left = None if connect_timeout is None else connect_timeout - (time.monotonic() - start)
        connection = connect(
            url,
            sock=sock,
            ssl=(tls or ssl.create_default_context()) if target.scheme == "wss" else None,
            additional_headers=headers,
            subprotocols=[Subprotocol(p) for p in subprotocols] if subprotocols else None,
            compression=None,  # the platform does not compress
            open_timeout=max(left, 0.001) if left is not None else None,
            ping_interval=None,  # the reads' own timeouts tell a dead peer
            close_timeout=_CLOSE_TIMEOUT,
            # Every message read is bounded (ReplyTooLarge past it).
            max_size=MAX_MESSAGE,
            legacy=True,  # a plain connection, closed by its owner
        )
        # The handshake request stays on the connection; the token must not show in its repr.
        if connection.request is not None and "Authorization" in connection.request.headers:
            del connection.request.headers["Authorization"]
        ws = JobSocket(connection, tcp)
    except (InvalidHandshake, InvalidURI, OSError, ValueError) as err:
        failed = err
        for each in (sock, tcp):
            if each is not None:
                each.close()
    if ws is None:
        # Raised outside the except block: the library's exception quotes the server (a
        # redirect target), which may echo the token; chained or even left as __context__ it
        # would show in every traceback.
        cause = failed.__cause__ if isinstance(failed, ValueError) else failed
        if isinstance(cause, InvalidStatus):
            failed = cause  # a redirect, refused because the socket was ours
        error = _connect_error(failed, what, job_id, redact)
        if failed is not None and chain_is_clean(failed, redact):
            raise error from failed
        raise error
    return ws


def ws_messages(
    ws: JobSocket,
    *,
    stream: str,
    idle_text: str,
    redact: Callable[[str], str],
    idle: float | None = None,
    deadline: float | None = None,
) -> Iterator[str | bytes]:
    """The data messages of a job's WebSocket (`str` for a text frame, `bytes` for a binary
    one) until the server's close frame: the one read loop of telemetry, exec, attach and port
    forwarding.

    `stream` names it in errors ("the exec of job X"); `deadline` (a `time.monotonic()`
    value) bounds the whole read, else `idle` (seconds, None: no bound) each message.

    Raises:
        APITimeoutError: nothing within `idle` or before `deadline` (`idle_text`).
        StreamInterrupted: the connection was cut or failed.
        ReplyTooLarge: a message larger than `MAX_MESSAGE` bytes (4 MiB; the connection is
            cut as soon as it is refused).
    """
    from websockets.exceptions import ConnectionClosed, WebSocketException
    from websockets.frames import CloseCode
    from websockets.protocol import State

    connection = ws.connection
    quiet_since = time.monotonic()
    closing_since: float | None = None
    while True:
        now = time.monotonic()
        if deadline is not None:
            left: float | None = deadline - now
        else:
            left = None if idle is None else quiet_since + idle - now
        failure: BaseException | None = None
        try:
            message = connection.recv(timeout=_CHECK if left is None else max(min(left, _CHECK), 0))
        except TimeoutError as err:
            if connection.state is State.CLOSING:
                # A close handshake under way: the server closes (done in a round trip), or
                # websockets refused a message and drops the rest for as long as the server
                # sends: cut it then.
                closing_since = now if closing_since is None else closing_since
                if now - closing_since > _CLOSING_GRACE:
                    ws.abort()
                continue
            if left is None or left > _CHECK:
                continue
            failure = err
        except ConnectionClosed as closed:
            too_big = closed.sent is not None and closed.sent.code == CloseCode.MESSAGE_TOO_BIG
            if closed.rcvd is not None and not too_big:
                return  # the server's close frame
            failure = closed
        except (WebSocketException, OSError) as err:
            failure = err
        if failure is not None:
            error: ClientError
            sent = failure.sent if isinstance(failure, ConnectionClosed) else None
            if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
                error = ReplyTooLarge(
                    f"{stream.capitalize()} sent a message larger than {MAX_MESSAGE} bytes",
                    limit=MAX_MESSAGE,
                )
            elif isinstance(failure, TimeoutError):
                error = APITimeoutError(idle_text)
            elif isinstance(failure, ConnectionClosed):
                # A close without a close frame: the connection dropped.
                error = StreamInterrupted(f"{stream.capitalize()} was cut")
            else:
                error = StreamInterrupted(redact(f"{stream.capitalize()} failed: {failure}"))
            if chain_is_clean(failure, redact):
                raise error from failure
            raise error
        quiet_since = time.monotonic()
        yield message


def _connect_error(
    err: BaseException | None, what: str, job_id: str, redact: Callable[[str], str]
) -> ClientError:
    from websockets.exceptions import InvalidStatus

    if isinstance(err, InvalidStatus):
        status = err.response.status_code
        if 300 <= status < 400:
            return _redirect_error(f"a redirect ({status})", what, job_id)
        return error_from_status(status, bytes(err.response.body or b""), redact=redact)
    if isinstance(err, TimeoutError):
        return APITimeoutError(f"{what.capitalize()} connection for job {job_id} timed out")
    return APIConnectionError(
        redact(f"{what.capitalize()} connection for job {job_id} failed: {err}")
    )


def _redirect_error(how: str, what: str, job_id: str) -> ClientError:
    return ResponseValidationError(
        f"The {what} connection for job {job_id} got {how}; redirects are not "
        "followed, so that the token never goes to another address"
    )
