"""`exec`, `attach` and `port_forward` over the monitoring WebSockets (2022 dialect;
docs/protocol.md, "The 2022 dialect").

Every exec/attach frame is binary and starts with its channel: we send 0 (stdin; an empty
frame ends it) and 4 (`{"height": h, "width": w}`); the server sends 1 (stdout), 2 (stderr)
and 3 (`{"exit_code": n}`) before it closes. Port forwarding carries raw bytes both ways.
The sockets are opened by `Operations.channel` (the same handshake, auth and error mapping as
`top`).
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ._ssh import ExecResult, ExitCode, PortForward
from ._streams import JobSocket, ws_messages
from .errors import (
    APITimeoutError,
    ClientError,
    ExecTimeout,
    ResponseValidationError,
    StreamInterrupted,
)

__all__ = ["WSPortForward", "run_channels"]

STDIN, STDOUT, STDERR, EXIT, RESIZE = 0, 1, 2, 3, 4
_BUFSIZE = 64 * 1024


def stdin_mode(capture_output: bool) -> bool:
    """Whether this process's stdin and stdout are the command's (a terminal, a script)."""
    redirected = sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__
    return not capture_output and not redirected


def run_channels(
    ws: JobSocket,
    job_id: str,
    *,
    what: str,
    tty: bool,
    forward_stdin: bool,
    max_time: float | None,
    capture_output: bool,
) -> int | ExecResult:
    """Drive an exec or attach socket to its end; the exit code the server sent."""
    out: list[bytes] = []
    err: list[bytes] = []
    sinks: dict[int, Callable[[bytes], None]]
    decoders: list[tuple[codecs.IncrementalDecoder, Any]] = []
    if capture_output:
        sinks = {STDOUT: out.append, STDERR: err.append}
    elif forward_stdin:
        sinks = {STDOUT: _raw_writer(1), STDERR: _raw_writer(2)}
    else:
        sinks = {}
        for channel, stream in ((STDOUT, sys.stdout), (STDERR, sys.stderr)):
            decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")(
                errors="replace"
            )
            decoders.append((decoder, stream))
            sinks[channel] = _text_writer(decoder, stream)
    stop = threading.Event()
    restore: list[Callable[[], None]] = []
    try:
        if forward_stdin:
            if tty and os.isatty(0):
                restore.extend(_terminal(ws))
            threading.Thread(target=_pump_stdin, args=(ws, stop), daemon=True).start()
        code = _receive(ws, job_id, what, sinks, max_time)
    finally:
        stop.set()
        for undo in reversed(restore):
            undo()
        ws.close()
    for decoder, stream in decoders:
        stream.write(decoder.decode(b"", final=True))
        stream.flush()
    if capture_output:
        return ExecResult(code, b"".join(out), b"".join(err))
    return ExitCode(code)


def _receive(
    ws: JobSocket,
    job_id: str,
    what: str,
    sinks: dict[int, Callable[[bytes], None]],
    max_time: float | None,
) -> int:
    deadline = None if max_time is None else time.monotonic() + max_time
    code: int | None = None
    try:
        for message in ws_messages(
            ws,
            stream=f"the {what} of job {job_id}",
            idle_text=f"{what} in job {job_id} timed out after {max_time} s",
            redact=_same,
            deadline=deadline,
        ):
            data = message.encode() if isinstance(message, str) else message
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == EXIT:
                try:
                    code = int(json.loads(payload)["exit_code"])
                except (ValueError, KeyError, TypeError):
                    raise ResponseValidationError(
                        f"Malformed exit code frame from the {what} of job {job_id}"
                    ) from None
            elif channel in sinks:
                sinks[channel](payload)
    except APITimeoutError as exc:
        assert max_time is not None
        raise ExecTimeout(str(exc), job_id=job_id, max_time=max_time) from None
    except StreamInterrupted:
        if code is not None:
            return code  # the exit code came; only the close handshake was lost
        raise
    if code is None:
        raise StreamInterrupted(f"The {what} of job {job_id} ended without an exit code")
    return code


def _same(text: str) -> str:
    return text  # the socket's errors never quote our request


def _raw_writer(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        with contextlib.suppress(OSError):
            while data:
                data = data[os.write(fd, data) :]

    return write


def _text_writer(decoder: codecs.IncrementalDecoder, stream: Any) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        stream.write(decoder.decode(data))
        stream.flush()

    return write


def _pump_stdin(ws: JobSocket, stop: threading.Event) -> None:
    """This process's stdin -> channel 0; its end -> an empty frame (the command's EOF).

    `send` is safe while the main thread reads (websockets serializes writes with a lock).
    """
    from websockets.exceptions import WebSocketException

    with contextlib.suppress(OSError, ValueError, WebSocketException):
        while not stop.is_set():
            ready, _, _ = select.select([0], [], [], 0.2)
            if not ready:
                continue
            data = os.read(0, _BUFSIZE)
            ws.send(bytes([STDIN]) + data)
            if not data:
                return


def _terminal(ws: JobSocket) -> list[Callable[[], None]]:
    """Raw mode and the window size (and its changes); the undo steps."""
    import termios
    import tty

    undo: list[Callable[[], None]] = []
    saved = termios.tcgetattr(0)
    tty.setraw(0)
    undo.append(lambda: termios.tcsetattr(0, termios.TCSADRAIN, saved))

    def send_size(*_: object) -> None:
        from websockets.exceptions import WebSocketException

        size = os.get_terminal_size(0)
        frame = json.dumps({"height": size.lines, "width": size.columns}).encode()
        with contextlib.suppress(OSError, WebSocketException):
            ws.send(bytes([RESIZE]) + frame)

    send_size()
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGWINCH, send_size)

        def unhook() -> None:
            signal.signal(signal.SIGWINCH, previous)

        undo.append(unhook)
    return undo


class WSPortForward(PortForward):
    """`PortForward` over a port-forward WebSocket per connection (2022 dialect)."""

    def __init__(self, connect: Callable[[], JobSocket], local_port: int, job_id: str) -> None:
        self._connect = connect
        self._job_id = job_id
        self._sockets: set[JobSocket] = set()
        super().__init__(local_port)

    def _serve(self, conn: socket.socket, number: int) -> None:
        from websockets.exceptions import WebSocketException

        try:
            ws = self._connect()
        except ClientError as exc:
            self._outcome(number, exc)  # the connection is closed; this says why
            return
        self._outcome(number, None)
        with self._lock:
            if self._stop.is_set():
                ws.close()
                return
            self._sockets.add(ws)

        def up() -> None:  # local -> job
            with contextlib.suppress(OSError, WebSocketException):
                while data := conn.recv(_BUFSIZE):
                    ws.send(data)

        upstream = threading.Thread(target=up, daemon=True)
        upstream.start()
        try:
            try:
                for message in ws_messages(
                    ws,
                    stream=f"the port forward of job {self._job_id}",
                    idle_text="",  # no read timeout
                    redact=_same,
                ):
                    if isinstance(message, bytes):
                        conn.sendall(message)
            except ResponseValidationError as exc:
                self._outcome(number, exc)  # the server misbehaves; a cut is an ordinary end
            except (OSError, ClientError):
                pass
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        finally:
            ws.close()
            upstream.join(timeout=5)
            with self._lock:
                self._sockets.discard(ws)

    def close(self) -> None:
        """Stop forwarding; returns once every connection has ended."""
        self._stop.set()
        with self._lock:
            sockets = list(self._sockets)
        for ws in sockets:
            ws.abort()  # wakes the thread reading it
        super().close()
