"""Exec and port forwarding over WebSockets: the later platform's monitoring endpoints (2022
dialect; docs/protocol.md "The 2022 dialect").

`GET|POST {monitoring_url}/{job}/exec?cmd=..&tty=0|1&stdin=0|1&stdout=0|1&stderr=0|1` runs a
command in a running job. Every frame is binary and starts with its channel: the client sends
0 (stdin bytes; an empty one is the end of stdin) and 4 (`{"height": h, "width": w}`, the
terminal size); the server sends 1 (stdout), 2 (stderr) and, once the command has exited and its
output is sent, 3 (`{"exit_code": n}`), then closes. With `tty=1` the command runs on a
pseudo-terminal (its output all on channel 1; in a container, `podman exec --tty`). The command
runs as `job_exec` of the SSH gateway
does (`Runtime.exec_spec`: the job's user, directory and environment) and ends (SIGTERM, then
SIGKILL) when the client goes away or the job stops.

`GET|POST {monitoring_url}/{job}/attach?stdout=1&stderr=1` follows a running job's output
(from the moment of attaching, all on channel 1: the local runtimes keep one combined log),
then sends the job's exit code on channel 3 and closes. A job run with `container.tty` has a
terminal of its own (`terminal.JobTerminal`): with `stdin=1` (and `tty=1`) the client's
channel 0 is typed into it and channel 4 sets its window size. Any number of clients may
attach; detaching (closing the socket) leaves the job running. `stdin=1` or `tty=1` for a job
without a terminal, or on a runtime that gives none (Slurm), is a 400 saying so.

Every endpoint reads client messages of at most `MAX_MESSAGE` bytes; a larger one closes the
socket (1009) before its payload is read.

`GET|POST {monitoring_url}/{job}/port_forward/{port}` connects to the job's port before the
upgrade (a failure is 400), then carries raw bytes both ways in binary frames.

Errors before the upgrade are HTTP statuses whose `X-Error` header holds `{"error": ...}` (what
neuro-sdk reports): 400 for a bad request, an unknown job or an unreachable port, 401, 403, and
404 for a job that is not running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import WSMsgType, web

from . import app as platform
from .runtime import ExecSpec
from .ssh_gateway import _groups, _signal_group, end_process
from .store import JobRecord
from .terminal import TerminalRuntime, set_size, tty_argv

BUFSIZE = 64 * 1024
# The largest message a client may send (aiohttp closes the socket with 1009 past it, before
# reading the payload): a stdin or port-forward chunk is far smaller.
MAX_MESSAGE = BUFSIZE * 4
OUTPUT_GRACE = 2.0
JOB_POLL = 0.2
CONNECT_TIMEOUT = 10.0
PROTOCOLS = ("v2.channels.neu.ro",)
STDIN, STDOUT, STDERR, EXIT, RESIZE = 0, 1, 2, 3, 4


def _refuse(status: int, message: str) -> web.Response:
    body = json.dumps({"error": message})
    return web.Response(
        status=status, text=body, content_type="application/json", headers={"X-Error": body}
    )


def before_upgrade(request: web.Request, action: str = "read") -> JobRecord | web.Response:
    """The job of a WebSocket request, or the refusal (with `X-Error`)."""
    found = platform._lookup(request, action)
    if isinstance(found, web.Response):
        if found.status == 401:
            return found
        text = found.text or ""
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            message = text
        if found.status == 403:
            message = f"Forbidden: no {action} access to the job"
        return _refuse(found.status, str(message))
    return found


def _running(request: web.Request, action: str) -> JobRecord | web.Response:
    found = before_upgrade(request, action)
    if isinstance(found, web.Response):
        return found
    state = platform._state(request)
    if found.status != "running" or found.id not in state.runner.running:
        return _refuse(404, f"Job is not running. Job Id = {found.id}")
    return found


def _flag(request: web.Request, name: str, default: bool) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false"):
        return False
    raise ValueError(f"{name} must be 0, 1, true or false")


def _streams(request: web.Request) -> tuple[bool, bool, bool, bool]:
    """The `tty`, `stdin`, `stdout` and `stderr` flags (defaults: off, off, on, on)."""
    return (
        _flag(request, "tty", False),
        _flag(request, "stdin", False),
        _flag(request, "stdout", True),
        _flag(request, "stderr", True),
    )


async def _job_ended(request: web.Request, job_id: str) -> None:
    state = platform._state(request)
    while True:
        job = state.store.get(job_id)
        if job is None or job.status != "running" or job_id not in state.runner.running:
            return
        await asyncio.sleep(JOB_POLL)


# ---------------------------------------------------------------------------- exec


async def exec_ws(request: web.Request) -> web.StreamResponse:
    found = _running(request, "write")
    if isinstance(found, web.Response):
        return found
    try:
        argv = shlex.split(request.query.get("cmd", ""))
        tty, want_stdin, want_out, want_err = _streams(request)
    except ValueError as err:
        return _refuse(400, str(err))
    if not argv:
        return _refuse(400, "cmd is required")
    spec = platform._state(request).runtime.exec_spec(found, argv)
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=30, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)
    try:
        code = await _exec(request, ws, found, spec, tty, want_stdin, want_out, want_err)
        if code is not None:
            await ws.send_bytes(bytes([EXIT]) + json.dumps({"exit_code": code}).encode())
    except ConnectionResetError:
        pass
    finally:
        await ws.close()
    return ws


async def _exec(
    request: web.Request,
    ws: web.WebSocketResponse,
    job: JobRecord,
    spec: ExecSpec,
    tty: bool,
    want_stdin: bool,
    want_out: bool,
    want_err: bool,
) -> int | None:
    """Run the command; its exit status, or None if the client has gone."""
    loop = asyncio.get_running_loop()
    master = -1
    send_lock = asyncio.Lock()

    async def send(channel: int, data: bytes) -> None:
        async with send_lock:
            await ws.send_bytes(bytes([channel]) + data)

    try:
        if tty:
            master, slave = os.openpty()
            term = spec.env.get("TERM", "xterm")
            spec = replace(spec, env={**spec.env, "TERM": term}, argv=spec.tty_argv or spec.argv)
            argv, new_session = tty_argv(spec.argv)
            try:
                proc = await _spawn(spec, argv, slave, slave, slave, new_session)
            finally:
                os.close(slave)
        else:
            proc = await _spawn(
                spec,
                spec.argv,
                subprocess.PIPE if want_stdin else subprocess.DEVNULL,
                subprocess.PIPE,
                subprocess.PIPE,
                True,
            )
    except (OSError, ValueError) as err:
        if master >= 0:
            os.close(master)
        missing = isinstance(err, FileNotFoundError)
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        await send(STDERR, f"cannot run {spec.argv[0]!r}: {reason}\n".encode())
        return 127 if missing else 126

    outputs: list[asyncio.Future[None]] = []
    if tty:
        os.set_blocking(master, False)
        output_done: asyncio.Future[None] = loop.create_future()
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        def readable() -> None:
            try:
                data = os.read(master, BUFSIZE)
            except BlockingIOError:
                return
            except OSError:  # EIO: the terminal's other side is closed
                data = b""
            queue.put_nowait(data)
            if not data:
                loop.remove_reader(master)

        async def pty_out() -> None:
            while data := await queue.get():
                if want_out or want_err:
                    await send(STDOUT, data)
            output_done.set_result(None)

        loop.add_reader(master, readable)
        outputs.append(asyncio.ensure_future(pty_out()))
    else:
        assert proc.stdout is not None and proc.stderr is not None
        outputs.append(asyncio.ensure_future(_pipe(proc.stdout, STDOUT, want_out, send)))
        outputs.append(asyncio.ensure_future(_pipe(proc.stderr, STDERR, want_err, send)))

    def write_in(data: bytes) -> None:
        if tty:
            with contextlib.suppress(OSError):
                os.write(master, data)
        elif proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.write(data)

    async def feed() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY or not msg.data:
                continue
            channel, data = msg.data[0], msg.data[1:]
            if channel == STDIN and want_stdin:
                if data:
                    write_in(data)
                    if proc.stdin is not None:
                        with contextlib.suppress(OSError):
                            await proc.stdin.drain()
                elif proc.stdin is not None:
                    proc.stdin.close()
            elif channel == RESIZE and tty:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    size = json.loads(data)
                    set_size(master, int(size["width"]), int(size["height"]))

    feeder = asyncio.ensure_future(feed())
    exited = asyncio.ensure_future(proc.wait())
    job_ended = asyncio.ensure_future(_job_ended(request, job.id))
    try:
        await asyncio.wait([exited, feeder, job_ended], return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            await end_process(proc, exited)
            if feeder.done():
                return None  # the client closed the socket
        await asyncio.wait(outputs, timeout=OUTPUT_GRACE)
        code = exited.result()
        return code if code >= 0 else 128 - code
    finally:
        for task in (feeder, job_ended, *outputs):
            task.cancel()
        if proc.returncode is None:
            _signal_group(proc, signal.SIGKILL)
        if master >= 0:
            loop.remove_reader(master)
            os.close(master)


async def _spawn(
    spec: ExecSpec, argv: list[str], stdin: Any, stdout: Any, stderr: Any, new_session: bool
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv,
        cwd=spec.cwd,
        env=spec.env,
        user=spec.user,
        group=spec.group,
        extra_groups=_groups(spec),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=new_session,
    )


async def _pipe(
    reader: asyncio.StreamReader,
    channel: int,
    wanted: bool,
    send: Callable[[int, bytes], Awaitable[None]],
) -> None:
    with contextlib.suppress(OSError, ConnectionResetError):
        while data := await reader.read(BUFSIZE):
            if wanted:
                await send(channel, data)


# ---------------------------------------------------------------------------- port forward


async def port_forward_ws(request: web.Request) -> web.StreamResponse:
    found = _running(request, "write")
    if isinstance(found, web.Response):
        return found
    try:
        port = int(request.match_info["port"])
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        return _refuse(400, f"Invalid port: {request.match_info['port']}")
    runtime = platform._state(request).runtime
    try:
        sock = await asyncio.get_running_loop().run_in_executor(
            None, runtime.connect, found, port, CONNECT_TIMEOUT
        )
        reader, writer = await asyncio.open_connection(sock=sock)
    except OSError as err:
        return _refuse(400, f"cannot connect to port {port} of job {found.id}: {err}")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)

    async def down() -> None:  # job -> client
        with contextlib.suppress(OSError, ConnectionResetError):
            while data := await reader.read(BUFSIZE):
                await ws.send_bytes(data)

    async def up() -> None:  # client -> job
        with contextlib.suppress(OSError, ConnectionResetError):
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    writer.write(msg.data)
                    await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

    tasks = [
        asyncio.ensure_future(down()),
        asyncio.ensure_future(up()),
        asyncio.ensure_future(_job_ended(request, found.id)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        await ws.close()
    return ws


# ---------------------------------------------------------------------------- attach


async def attach_ws(request: web.Request) -> web.StreamResponse:
    found = _running(request, "write")
    if isinstance(found, web.Response):
        return found
    try:
        tty, want_stdin, want_out, want_err = _streams(request)
    except ValueError as err:
        return _refuse(400, str(err))
    if not (want_stdin or want_out or want_err):
        return _refuse(400, "Required at least one of stdin, stdout or stderr")
    state = platform._state(request)
    runtime = state.runtime
    if tty or want_stdin:
        if not isinstance(runtime, TerminalRuntime):
            return _refuse(
                400,
                f"the {runtime.name} runtime gives jobs no terminal: attaching with tty or "
                "stdin needs the process or podman runtime",
            )
        if runtime.terminal(found.id) is None:
            return _refuse(
                400,
                f"job {found.id} has no terminal to attach to: only a job run with "
                "container.tty has stdin (attach with stdin=0&tty=0 to follow its output)",
            )
    path = state.runner.log_path(found.id)
    try:
        offset = path.stat().st_size
    except OSError:
        offset = 0
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=30, max_msg_size=MAX_MESSAGE)
    await ws.prepare(request)

    async def follow() -> None:
        nonlocal offset
        while True:
            job = state.store.get(found.id)
            done = job is None or (job.finished and found.id not in state.runner.running)
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(offset)
                data = f.read(BUFSIZE)
                offset += len(data)
                if data:
                    if want_out or want_err:
                        await ws.send_bytes(bytes([STDOUT]) + data)
                    continue
            if done:
                code = job.exit_code if job is not None and job.exit_code is not None else 0
                await ws.send_bytes(bytes([EXIT]) + json.dumps({"exit_code": code}).encode())
                return
            await asyncio.sleep(0.05)

    async def typed(channel: int, data: bytes) -> None:
        """Input of the attached client: typed into the job's terminal (detaching, or an
        empty stdin frame, leaves the job as it is)."""
        # Looked up each time: a restarted job has a new terminal.
        terminal = runtime.terminal(found.id) if isinstance(runtime, TerminalRuntime) else None
        if terminal is None or not (tty or want_stdin):
            return
        if channel == STDIN and want_stdin:
            while data:
                data = data[terminal.write(data) :]
                if data:  # the job is not reading: hold this client back, not the platform
                    await asyncio.sleep(0.05)
        elif channel == RESIZE:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                size = json.loads(data)
                terminal.resize(int(size["width"]), int(size["height"]))

    await send_until_closed(ws, follow(), typed)
    return ws


async def send_until_closed(
    ws: web.WebSocketResponse,
    sender: Awaitable[None],
    received: Callable[[int, bytes], Awaitable[None]] | None = None,
) -> None:
    """Run `sender` until it ends or the client closes the socket (a client that stops
    reading closes it), then close. The client's binary frames go to `received` (channel,
    data), or are dropped."""

    async def until_closed() -> None:
        async for msg in ws:
            if received is not None and msg.type == WSMsgType.BINARY and msg.data:
                await received(msg.data[0], msg.data[1:])

    tasks = [asyncio.ensure_future(sender), asyncio.ensure_future(until_closed())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await ws.close()
