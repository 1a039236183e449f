"""The SSH gateway of the local platform: `exec` and `port_forward` (docs/protocol.md §5).

An asyncssh server on the platform's event loop. The SSH layer authenticates nobody (any
user name, no password or key): the credential is the platform token inside the one JSON
command a client sends on an exec channel:

    {"method": "job_exec", "token": "<jwt>", "params": {"job": "<id>", "command": [argv]}}
    {"method": "job_port_forward", "token": "<jwt>", "params": {"job": "<id>", "port": n}}

`job_exec` runs the argv (no shell) in the job's working directory with the job's
environment; stdin, stdout and stderr travel over the channel and the exit status comes back
(128 + n for signal n; 127/126 when the program cannot be run). A client that asks for a
terminal (`ssh -t`) gets the command on a pseudo-terminal. `job_port_forward` connects the
channel's byte stream to 127.0.0.1:<port>, where the job's ports are on this machine.

Anything else (a shell request, bad JSON, a bad or missing token, an unknown job, another
user's job, a job not running) gets a message on stderr and exit status 255, like ssh's own
failures. A command ends (SIGTERM, then SIGKILL) when its client goes away or its job stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import subprocess
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncssh

from . import auth
from .connections import Gate, Limits
from .files import open_private, private_dir
from .runner import Runner
from .runtime import ExecSpec
from .store import JobRecord, Store
from .terminal import set_size, tty_argv

__all__ = ["HOST_KEY_FILE", "REFUSED", "GatewayError", "SSHGateway", "load_host_key"]

log = logging.getLogger("neuro_sync.local")

HOST_KEY_FILE = "ssh_host_key"
REFUSED = 255  # the exit status of a refused request
BUFSIZE = 64 * 1024
KILL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL for a command whose client left
JOB_POLL = 0.2  # seconds between checks that the job of a running command still runs
CONNECT_TIMEOUT = 10.0  # seconds to connect to a job's port
OUTPUT_GRACE = 2.0  # seconds to wait for output after the command exited (background children)

Process = asyncssh.SSHServerProcess[bytes]


class GatewayError(Exception):
    """A refused request: the message goes to the client's stderr."""


def load_host_key(data_dir: Path) -> asyncssh.SSHKey:
    """The gateway's host key: `<data-dir>/ssh_host_key` (0600), generated on first use."""
    path = data_dir / HOST_KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key("ssh-ed25519")
    private_dir(data_dir)
    try:
        f = open_private(path, "wb", exclusive=True)
    except FileExistsError:  # another server on this data dir made one first
        return asyncssh.read_private_key(path)
    with f:
        f.write(key.export_private_key())
    return key


class _Server(asyncssh.SSHServer):
    """One SSH connection: no SSH-level authentication; tracked for shutdown, and admitted
    by the gateway's connection gate (limits and timeouts: connections.py)."""

    def __init__(self, conns: set[asyncssh.SSHServerConnection], gate: Gate) -> None:
        self._conns = conns
        self._gate = gate
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._conns.add(conn)
        peer = conn.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        if not self._gate.admit(conn, address, conn.abort, conn.is_closed):
            asyncio.get_running_loop().call_soon(conn.abort)  # not from inside its callback

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._conns.discard(self._conn)
            self._gate.release(self._conn)

    def begin_auth(self, username: str) -> bool:
        return False  # no SSH authentication: the token in the JSON command is the credential


class SSHGateway:
    """Serves the gateway JSON commands for the jobs of one platform."""

    def __init__(
        self,
        *,
        secret: bytes,
        store: Store,
        runner: Runner,
        data_dir: Path,
        host: str,
        port: int,
        limits: Limits,
    ) -> None:
        self._secret = secret
        self._store = store
        self._runner = runner
        self._data_dir = data_dir
        self.host = host
        self.port = port
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self.limits = limits
        self._gate = Gate("ssh gateway", limits)
        self._conns: set[asyncssh.SSHServerConnection] = set()
        self._procs: set[asyncio.subprocess.Process] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        """Listen (port 0: a free one) and return the port."""
        self._gate.start()
        self._acceptor = await asyncssh.create_server(
            lambda: _Server(self._conns, self._gate),
            self.host,
            self.port,
            server_host_keys=[load_host_key(self._data_dir)],
            process_factory=self._handle,
            encoding=None,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=self.limits.header_timeout,
        )
        self.port = int(self._acceptor.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening, drop the connections and end the commands still running."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for conn in list(self._conns):
            conn.close()
        procs = list(self._procs)
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        if procs:
            waits = [asyncio.ensure_future(p.wait()) for p in procs]
            _, pending = await asyncio.wait(waits, timeout=KILL_GRACE)
            for proc in procs:
                _signal_group(proc, signal.SIGKILL)
            if pending:
                await asyncio.wait(pending)
        if self._tasks:  # the handlers see their channels closed and finish
            await asyncio.wait(list(self._tasks), timeout=KILL_GRACE)
        await self._gate.stop()

    # ------------------------------------------------------------------------ one request

    async def _handle(self, process: Process) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            with self._gate.busy(process.channel.get_connection()):
                status = await self._dispatch(process)
        except GatewayError as err:
            _tell(process, str(err))
            status = REFUSED
        except Exception:  # noqa: BLE001 - one broken channel must not reach asyncssh
            log.exception("ssh gateway: unexpected error")
            _tell(process, "internal error")
            status = REFUSED
        if status is None:  # the client has gone
            process.close()
            return
        with contextlib.suppress(Exception):
            await process.stdout.drain()
            await process.stderr.drain()
        with contextlib.suppress(Exception):
            process.exit(status)

    async def _dispatch(self, process: Process) -> int | None:
        command = process.command
        if not command:
            raise GatewayError("no shell here: send a job_exec or job_port_forward command")
        try:
            request = json.loads(command)
        except (ValueError, RecursionError):
            request = None
        if not isinstance(request, dict):
            raise GatewayError("the command is not a gateway JSON request")
        method, params, token = request.get("method"), request.get("params"), request.get("token")
        if method not in ("job_exec", "job_port_forward"):
            raise GatewayError(f"unknown method {method!r}")
        user = None
        if isinstance(token, str):
            user = auth.user_from_header(self._secret, f"Bearer {token}")
        if user is None:
            raise GatewayError("Unauthorized: a missing or invalid token")
        if not isinstance(params, dict) or not isinstance(params.get("job"), str):
            raise GatewayError("params.job must be a job id")
        job = self._running_job(params["job"], user)
        if method == "job_exec":
            argv = params.get("command")
            if (
                not isinstance(argv, list)
                or not argv
                or not all(isinstance(a, str) and "\0" not in a for a in argv)
            ):
                raise GatewayError("params.command must be a non-empty list of strings")
            return await self._job_exec(process, job, argv)
        port = params.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise GatewayError("params.port must be a port number 1-65535")
        return await self._job_port_forward(process, job, port)

    def _running_job(self, job_id: str, user: str) -> JobRecord:
        job = self._store.get(job_id)
        if job is None:
            raise GatewayError(f"no such job {job_id}")
        if job.owner != user:
            raise GatewayError(f"Forbidden: job://{job.owner}/{job.id} is not shared with {user}")
        if job.status != "running" or job.id not in self._runner.running:
            raise GatewayError(f"Job is not running. Job Id = {job.id}")
        return job

    # ------------------------------------------------------------------------ job_exec

    async def _job_exec(self, process: Process, job: JobRecord, argv: list[str]) -> int | None:
        spec = self._runner.runtime.exec_spec(job, argv)
        term = process.get_terminal_type()
        if term:
            spec = replace(spec, env={**spec.env, "TERM": term}, argv=spec.tty_argv or spec.argv)
            return await self._exec_pty(process, job.id, argv, spec)
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.argv,
                cwd=spec.cwd,
                env=spec.env,
                user=spec.user,
                group=spec.group,
                extra_groups=_groups(spec),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except (OSError, ValueError) as err:  # ValueError: text that cannot be encoded
            return _cannot_run(process, argv, err)
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        stdin = proc.stdin

        async def feed() -> None:
            with contextlib.suppress(OSError):
                while data := await _read_input(process):
                    stdin.write(data)
                    await stdin.drain()
            stdin.close()

        return await self._supervise(
            process,
            job.id,
            proc,
            feed(),
            _copy(proc.stdout, process.stdout),
            _copy(proc.stderr, process.stderr),
        )

    async def _exec_pty(
        self, process: Process, job_id: str, argv: list[str], spec: ExecSpec
    ) -> int | None:
        master, slave = os.openpty()
        try:
            set_size(slave, *process.get_terminal_size())
            # `setsid --ctty` makes the terminal the controlling one, so ^C reaches the command.
            full, new_session = tty_argv(spec.argv)
            try:
                proc = await asyncio.create_subprocess_exec(
                    *full,
                    cwd=spec.cwd,
                    env=spec.env,
                    user=spec.user,
                    group=spec.group,
                    extra_groups=_groups(spec),
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    start_new_session=new_session,
                )
            except (OSError, ValueError) as err:
                os.close(master)
                return _cannot_run(process, argv, err)
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        loop = asyncio.get_running_loop()
        output_done: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            try:
                data = os.read(master, BUFSIZE)
            except BlockingIOError:
                return
            except OSError:  # EIO: every descriptor of the terminal's other side is closed
                data = b""
            if data:
                with contextlib.suppress(Exception):
                    process.stdout.write(data)
                return
            loop.remove_reader(master)
            if not output_done.done():
                output_done.set_result(None)

        def resize(change: asyncssh.TerminalSizeChanged) -> None:
            set_size(master, change.width, change.height, change.pixwidth, change.pixheight)

        async def feed() -> None:
            with contextlib.suppress(OSError):
                while data := await _read_input(process, resize):
                    while data:
                        try:
                            data = data[os.write(master, data) :]
                        except BlockingIOError:
                            await asyncio.sleep(0.01)

        loop.add_reader(master, readable)
        try:
            return await self._supervise(process, job_id, proc, feed(), output_done)
        finally:
            loop.remove_reader(master)
            os.close(master)

    async def _supervise(
        self,
        process: Process,
        job_id: str,
        proc: asyncio.subprocess.Process,
        feed: Coroutine[Any, Any, None],
        *outputs: Coroutine[Any, Any, None] | asyncio.Future[None],
    ) -> int | None:
        """The command's exit status once it has exited and its output is sent.

        The command is ended (SIGTERM, then SIGKILL) if the job stops running, as in a
        container; or if the client goes away, and then the result is None.
        """
        self._procs.add(proc)
        feeder = asyncio.ensure_future(feed)
        copies = [asyncio.ensure_future(o) for o in outputs]
        exited = asyncio.ensure_future(proc.wait())
        closed = asyncio.ensure_future(process.wait_closed())
        job_ended = asyncio.ensure_future(self._job_ended(job_id))
        try:
            await asyncio.wait([exited, closed, job_ended], return_when=asyncio.FIRST_COMPLETED)
            if not exited.done():
                await end_process(proc, exited)
                if closed.done():
                    return None
            await asyncio.wait(copies, timeout=OUTPUT_GRACE)
            code = exited.result()
            return code if code >= 0 else 128 - code
        finally:
            for task in (feeder, *copies, closed, job_ended):
                task.cancel()
            if proc.returncode is None:
                _signal_group(proc, signal.SIGKILL)
            self._procs.discard(proc)

    async def _job_ended(self, job_id: str) -> None:
        while True:
            job = self._store.get(job_id)
            if job is None or job.status != "running" or job_id not in self._runner.running:
                return
            await asyncio.sleep(JOB_POLL)

    # ------------------------------------------------------------------------ job_port_forward

    async def _job_port_forward(self, process: Process, job: JobRecord, port: int) -> int | None:
        try:
            sock = await asyncio.get_running_loop().run_in_executor(
                None, self._runner.runtime.connect, job, port, CONNECT_TIMEOUT
            )
            reader, writer = await asyncio.open_connection(sock=sock)
        except OSError as err:
            raise GatewayError(
                f"cannot connect to port {port} of job {job.id}: {err.strerror or err}"
            ) from None

        async def upstream() -> None:  # channel -> job; the client's EOF becomes a half-close
            with contextlib.suppress(OSError):
                while data := await _read_input(process):
                    writer.write(data)
                    await writer.drain()
                if writer.can_write_eof():
                    writer.write_eof()

        up = asyncio.ensure_future(upstream())
        down = asyncio.ensure_future(_copy(reader, process.stdout))  # job -> channel
        closed = asyncio.ensure_future(process.wait_closed())
        try:
            await asyncio.wait([down, closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down, closed):
                task.cancel()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return None if closed.done() else 0


async def _read_input(
    process: Process, on_resize: Callable[[asyncssh.TerminalSizeChanged], None] | None = None
) -> bytes:
    """The next bytes from the client; b"" at its EOF or when the channel is gone."""
    while True:
        try:
            data: bytes = await process.stdin.read(BUFSIZE)
        except asyncssh.TerminalSizeChanged as change:
            if on_resize is not None:
                on_resize(change)
        except (asyncssh.BreakReceived, asyncssh.SignalReceived):
            pass  # not forwarded
        except (asyncssh.Error, OSError):
            return b""
        else:
            return data


async def _copy(reader: asyncio.StreamReader, writer: asyncssh.SSHWriter[bytes]) -> None:
    """Bytes from a local stream to the channel until the local EOF."""
    with contextlib.suppress(OSError, asyncssh.Error):
        while data := await reader.read(BUFSIZE):
            writer.write(data)
            await writer.drain()


def _tell(process: Process, message: str) -> None:
    with contextlib.suppress(Exception):
        process.stderr.write(f"neuro-sync gateway: {message}\n".encode())


def _cannot_run(process: Process, argv: list[str], err: OSError | ValueError) -> int:
    """Exit status 127 for a missing program, 126 for one that cannot be run (as shells)."""
    missing = isinstance(err, OSError) and err.errno == errno.ENOENT
    reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
    _tell(process, f"cannot run {argv[0]!r}: {reason}")
    return 127 if missing else 126


def _groups(spec: ExecSpec) -> list[int] | None:
    """No supplementary groups (the server's) for a command run as the job's user."""
    return [] if spec.user is not None else None


async def end_process(proc: asyncio.subprocess.Process, exited: asyncio.Future[int]) -> None:
    """End a command that is still running: SIGTERM to its process group, SIGKILL after
    KILL_GRACE s; return once `exited` (its `wait()`) is done."""
    _signal_group(proc, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(exited), KILL_GRACE)
    except TimeoutError:
        _signal_group(proc, signal.SIGKILL)
        await exited


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
