"""`exec` and `port_forward` through the platform SSH gateway (docs/protocol.md §5).

The gateway takes one JSON command on an SSH exec channel:
`{"method": "job_exec" | "job_port_forward", "token": ..., "params": {...}}`.

The token must not sit in the process list: instead of passing the JSON as an `ssh` argument
(as the 2019 SDK did), it goes into a private (0600) temporary ssh config file as
`RemoteCommand`, which is removed as soon as ssh has exited.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, TextIO

from yarl import URL

from ._closing import Closing
from .errors import ClientError, ExecTimeout, JobNotRunning, SSHNotAvailable, ValidationError
from .models import JobDescription, JobStatus

if TYPE_CHECKING:
    import subprocess

__all__ = ["ExecResult", "PortForward", "SSHGateway"]


def _ssh_binary() -> str:
    path = shutil.which("ssh")
    if path is None:
        raise SSHNotAvailable(
            "exec and port_forward need the OpenSSH client: install it (e.g. apt-get install "
            "openssh-client) and make sure `ssh` is on PATH"
        )
    return path


# ssh takes the RemoteCommand value verbatim (no quote removal), then expands `%x` tokens and
# `${VAR}` in it, and a `#` could start a comment. In JSON text these characters only occur
# inside string literals, where their `\\u` escapes mean the same: the gateway reads the same
# JSON, and ssh sees nothing to expand.
_CONFIG_ESCAPES = str.maketrans({"%": "\\u0025", "$": "\\u0024", "#": "\\u0023"})


def _remote_command(payload: Mapping[str, object]) -> str:
    """The JSON command as a RemoteCommand value: one ASCII line that ssh passes unchanged."""
    return json.dumps(payload).translate(_CONFIG_ESCAPES)


@dataclass(frozen=True, slots=True)
class ExecResult:
    """The result of `jobs.exec(..., capture_output=True)`, like `subprocess.CompletedProcess`.

    Attributes:
        returncode: the command's exit code.
        stdout: everything it wrote to stdout.
        stderr: everything it wrote to stderr (ssh's own errors included).
    """

    returncode: int
    stdout: bytes
    stderr: bytes


def _redirected() -> bool:
    """True when sys.stdout or sys.stderr is not the process's own (Jupyter, a redirect)."""
    return sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__


def _collect(pipe: IO[bytes], into: list[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        while data := os.read(pipe.fileno(), 65536):
            into.append(data)


def _forward(pipe: IO[bytes], out: TextIO) -> None:
    """Copy a pipe to a text stream as it arrives, decoding UTF-8 across reads."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with contextlib.suppress(OSError, ValueError):
        while data := os.read(pipe.fileno(), 65536):
            out.write(decoder.decode(data))
            out.flush()
        out.write(decoder.decode(b"", final=True))
        out.flush()


class SSHGateway:
    """Runs ssh against a job's `ssh_server` with a gateway JSON command."""

    def __init__(self, token: str, *, status: Callable[[str], JobDescription]) -> None:
        self._token = token
        self._status = status

    def _running_job(self, job_id: str) -> JobDescription:
        job = self._status(job_id)
        if job.status is not JobStatus.RUNNING:
            raise JobNotRunning(f"Job is not running. Job Id = {job_id}")
        if not job.ssh_server.host:
            raise ClientError(f"Job {job_id} has no SSH server address")
        return job

    @contextlib.contextmanager
    def _command(
        self, server: URL, payload: Mapping[str, object], *, tty: bool, no_key_check: bool
    ) -> Iterator[list[str]]:
        """The ssh argv; the token travels in a temporary 0600 config file."""
        fd, config = tempfile.mkstemp(prefix="neuro-sync-ssh-", suffix=".conf")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"Host *\n  RemoteCommand {_remote_command(payload)}\n")
                f.write("  LogLevel ERROR\n  BatchMode yes\n")
                if no_key_check:
                    f.write("  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n")
            argv = [_ssh_binary(), "-F", config, "-tt" if tty else "-T"]
            argv += ["-p", str(server.port or 22), f"{server.user or 'nobody'}@{server.host}"]
            yield argv
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(config)

    def exec(
        self,
        job_id: str,
        cmd: Sequence[str],
        *,
        tty: bool = False,
        no_key_check: bool = False,
        timeout: float | None = None,
        capture_output: bool = False,
    ) -> int | ExecResult:
        if isinstance(cmd, str) or not all(isinstance(c, str) for c in cmd) or not cmd:
            raise ValidationError("cmd", "must be a non-empty list of strings")
        job = self._running_job(job_id)
        payload = {
            "method": "job_exec",
            "token": self._token,
            "params": {"job": job_id, "command": list(cmd)},
        }
        import subprocess  # with the first exec or forwarded connection, not with neuro_sync

        with self._command(job.ssh_server, payload, tty=tty, no_key_check=no_key_check) as argv:
            if not capture_output and not _redirected():
                return self._wait(subprocess.Popen(argv), job_id, timeout, [])
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            assert proc.stdout is not None and proc.stderr is not None
            out: list[bytes] = []
            err: list[bytes] = []
            if capture_output:
                pumps = [
                    threading.Thread(target=_collect, args=(proc.stdout, out), daemon=True),
                    threading.Thread(target=_collect, args=(proc.stderr, err), daemon=True),
                ]
            else:
                pumps = [
                    threading.Thread(target=_forward, args=(proc.stdout, sys.stdout), daemon=True),
                    threading.Thread(target=_forward, args=(proc.stderr, sys.stderr), daemon=True),
                ]
            for pump in pumps:
                pump.start()
            try:
                code = self._wait(proc, job_id, timeout, pumps)
            finally:
                proc.stdout.close()
                proc.stderr.close()
            if capture_output:
                return ExecResult(code, b"".join(out), b"".join(err))
            return code

    @staticmethod
    def _wait(
        proc: subprocess.Popen[bytes],
        job_id: str,
        timeout: float | None,
        pumps: list[threading.Thread],
    ) -> int:
        """The exit code; on a timeout or Ctrl-C, ssh is killed (the job itself runs on)."""
        import subprocess

        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end(proc, pumps)
            assert timeout is not None
            raise ExecTimeout(
                f"exec in job {job_id} timed out after {timeout} s", job_id=job_id, max_time=timeout
            ) from None
        except BaseException:
            _end(proc, pumps)
            raise
        for pump in pumps:
            pump.join()  # ssh has exited: its pipes reach EOF
        return code

    def port_forward(
        self, job_id: str, local_port: int, job_port: int, *, no_key_check: bool = False
    ) -> PortForward:
        for field, port, lowest in (("local_port", local_port, 0), ("job_port", job_port, 1)):
            if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
                raise ValidationError(field, f"must be a port number {lowest}-65535")
        job = self._running_job(job_id)
        payload = {
            "method": "job_port_forward",
            "token": self._token,
            "params": {"job": job_id, "port": job_port},
        }
        return PortForward(self, job.ssh_server, payload, local_port, no_key_check)


class PortForward(Closing):
    """Forwards `127.0.0.1:local_port` to a port of a job while open (a context manager).

    Each accepted local connection gets its own gateway channel (`job_port_forward`), which
    the gateway connects to the job's port: the same byte stream the 2019 CLI used as a
    ProxyCommand.
    """

    def __init__(
        self,
        gateway: SSHGateway,
        server: URL,
        payload: Mapping[str, object],
        local_port: int,
        no_key_check: bool,
    ) -> None:
        self._gateway = gateway
        self._server = server
        self._payload = payload
        self._no_key_check = no_key_check
        self._listener = socket.create_server(("127.0.0.1", local_port))
        self.local_port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._conns: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        import subprocess

        try:
            with (
                conn,
                self._gateway._command(
                    self._server, self._payload, tty=False, no_key_check=self._no_key_check
                ) as argv,
            ):
                with self._lock:
                    if self._stop.is_set():  # close() has begun: start nothing new
                        return
                    proc = subprocess.Popen(
                        argv,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    )
                    self._procs.add(proc)
                upstream = threading.Thread(target=_copy_to_ssh, args=(conn, proc), daemon=True)
                upstream.start()
                try:
                    _copy_from_ssh(proc, conn)
                finally:
                    if proc.poll() is None:
                        proc.terminate()
                        try:
                            proc.wait(timeout=2)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                            proc.wait()
                    upstream.join()
                    with self._lock:
                        self._procs.discard(proc)
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def close(self) -> None:
        """Stop forwarding; returns once every ssh subprocess has ended."""
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)
        with self._lock:
            conns, procs, threads = list(self._conns), list(self._procs), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for thread in threads:
            thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<PortForward 127.0.0.1:{self.local_port} open={not self._stop.is_set()}>"


def _end(proc: subprocess.Popen[bytes], pumps: list[threading.Thread]) -> None:
    proc.kill()
    proc.wait()
    for pump in pumps:
        # A grandchild of ssh (none is expected) could hold the pipe open: do not hang on it.
        pump.join(timeout=1)


def _copy_to_ssh(conn: socket.socket, proc: subprocess.Popen[bytes]) -> None:
    """Local socket -> ssh stdin; the socket's EOF becomes ssh's (the channel's) EOF."""
    assert proc.stdin is not None
    with contextlib.suppress(OSError, ValueError):
        while data := conn.recv(65536):
            proc.stdin.write(data)
            proc.stdin.flush()
    with contextlib.suppress(OSError, ValueError):
        proc.stdin.close()


def _copy_from_ssh(proc: subprocess.Popen[bytes], conn: socket.socket) -> None:
    """ssh stdout -> local socket until ssh's EOF, then shut the socket down.

    Each direction has its own thread, so a full pipe one way never stalls the other.
    """
    assert proc.stdout is not None
    with contextlib.suppress(OSError, ValueError):
        while data := os.read(proc.stdout.fileno(), 65536):
            conn.sendall(data)
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
