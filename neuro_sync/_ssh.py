"""`exec` and `port_forward` through the platform SSH gateway (docs/protocol.md §5).

The gateway takes one JSON command on an SSH exec channel:
`{"method": "job_exec" | "job_port_forward", "token": ..., "params": {...}}`.

The token must not sit in the process list: instead of passing the JSON as an `ssh` argument
(as the 2019 SDK did), it goes into a private (0600) temporary ssh config file as
`RemoteCommand`, which is removed as soon as ssh has exited.

The gateway's host key is checked, never prompted for: against the `known_hosts` file the
client was given (a config file's `ssh_known_hosts`, which the local platform writes), else
against ssh's own files. ssh's own messages go to a private log file (`ssh -E`), read when ssh
has exited: a host key that does not match becomes `HostKeyMismatch`, anything else is passed
on as ssh's stderr.
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
from .errors import (
    ClientError,
    ExecTimeout,
    HostKeyMismatch,
    JobNotRunning,
    SSHNotAvailable,
    ValidationError,
)
from .models import JobDescription, JobStatus

if TYPE_CHECKING:
    import subprocess

__all__ = ["ExecResult", "ExitCode", "PortForward", "SSHGateway"]

# What ssh logs when the host key check fails (OpenSSH's wording, stable for decades).
_KEY_FAILURES = ("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED")


class ExitCode(int):
    """An exec's exit code, which a notebook cell does not echo when it is 0 (the command's
    output was shown already); a non-zero code shows as `exit code N`."""

    def _ipython_display_(self) -> None:
        if self:
            print(f"exit code {int(self)}")  # noqa: T201 - the cell's display


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


def check_ports(local_port: int, job_port: int) -> None:
    """Refuse a bad `port_forward` port (before anything is sent)."""
    for field, port, lowest in (("local_port", local_port, 0), ("job_port", job_port, 1)):
        if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
            raise ValidationError(field, f"must be a port number {lowest}-65535")


class SSHGateway:
    """Runs ssh against a job's `ssh_server` with a gateway JSON command."""

    def __init__(
        self,
        token: str,
        *,
        status: Callable[[str], JobDescription],
        known_hosts: str | None = None,
    ) -> None:
        self._token = token
        self._status = status
        self._known_hosts = known_hosts

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
    ) -> Iterator[tuple[list[str], str]]:
        """The ssh argv and its log file; the token travels in a temporary 0600 config file
        (in a 0700 directory, with the log)."""
        ssh = _ssh_binary()
        folder = tempfile.mkdtemp(prefix="neuro-sync-ssh-")
        config, log = os.path.join(folder, "config"), os.path.join(folder, "log")
        try:
            fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(f"Host *\n  RemoteCommand {_remote_command(payload)}\n")
                f.write("  LogLevel ERROR\n  BatchMode yes\n")
                if no_key_check:
                    f.write("  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n")
                elif self._known_hosts is not None:
                    # ssh expands `%` tokens in the path; quotes keep spaces in it.
                    path = os.path.abspath(self._known_hosts).replace("%", "%%")
                    f.write(f'  StrictHostKeyChecking yes\n  UserKnownHostsFile "{path}"\n')
                    f.write("  GlobalKnownHostsFile /dev/null\n")
            argv = [ssh, "-F", config, "-E", log, "-tt" if tty else "-T"]
            argv += ["-p", str(server.port or 22), f"{server.user or 'nobody'}@{server.host}"]
            yield argv, log
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _ssh_messages(self, log: str, server: URL) -> bytes:
        """What ssh itself logged (never the remote command's output); a failed host key
        check raises `HostKeyMismatch`."""
        try:
            with open(log, "rb") as f:
                text = f.read(65536)
        except OSError:
            return b""
        if any(m.encode() in text for m in _KEY_FAILURES):
            raise HostKeyMismatch(self._key_advice(server))
        return text

    def _key_advice(self, server: URL) -> str:
        where = f"{server.host}:{server.port or 22}"
        if self._known_hosts is not None:
            return (
                f"The SSH gateway at {where} presented a host key that is not the one in "
                f"{self._known_hosts}: check that your config file belongs to the platform "
                "that runs at this address now (the local platform writes the key next to its "
                "client.nmrc; one started with another data dir has another key)"
            )
        return (
            f"ssh could not verify the SSH gateway's host key at {where}: it is not in your "
            "known_hosts, or it changed. Check the key with the platform's operator and add "
            "it to ~/.ssh/known_hosts, or set `ssh_known_hosts` in the config file"
        )

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

        server = job.ssh_server
        with self._command(server, payload, tty=tty, no_key_check=no_key_check) as (argv, log):
            if not capture_output and not _redirected():
                code = self._wait(subprocess.Popen(argv), job_id, timeout, [])
                _write_stderr(self._ssh_messages(log, server))
                return ExitCode(code)
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
            messages = self._ssh_messages(log, server)
            if capture_output:
                return ExecResult(code, b"".join(out), b"".join(err) + messages)
            _write_stderr(messages)
            return ExitCode(code)

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
        check_ports(local_port, job_port)
        job = self._running_job(job_id)
        payload = {
            "method": "job_port_forward",
            "token": self._token,
            "params": {"job": job_id, "port": job_port},
        }
        return SSHPortForward(self, job.ssh_server, payload, local_port, no_key_check)


class PortForward(Closing):
    """Forwards `127.0.0.1:local_port` to a port of a job while open (a context manager).

    Each accepted local connection gets its own channel to the job's port: a gateway channel
    (`job_port_forward`, the same byte stream the 2019 CLI used as a ProxyCommand) in the 2019
    dialect, a port-forward WebSocket in the 2022 dialect.

    Attributes:
        local_port: the local port forwarded.
        error: why the latest local connection could not be forwarded (it was closed), or
            None: no connection failed, or a connection accepted after the failed one got
            through. So it says whether forwarding works now, not whether it ever failed:
            a job whose server was not listening yet when the first connection came is
            fine once a later one succeeds. "Latest" is the order in which the local
            connections were accepted. The errors: `HostKeyMismatch` (2019), the typed
            error of the port-forward socket's handshake (`JobNotRunning`, a 400 for a
            port nothing listens on...) or a `ResponseValidationError` for a message over
            the size limit (2022).
    """

    def __init__(self, local_port: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", local_port))
        self.local_port: int = self._listener.getsockname()[1]
        self.error: ClientError | None = None
        self._accepted = 0  # local connections accepted so far
        self._reported = 0  # the latest connection whose outcome set `error`
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
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._accepted += 1
                thread = threading.Thread(
                    target=self._serve_one, args=(conn, self._accepted), daemon=True
                )
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve_one(self, conn: socket.socket, number: int) -> None:
        try:
            with conn:
                self._serve(conn, number)
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _serve(self, conn: socket.socket, number: int) -> None:
        """Forward one accepted connection (the `number`th); report how it went with
        `_outcome`."""
        raise NotImplementedError

    def _outcome(self, number: int, error: ClientError | None) -> None:
        """Connection `number` got through (None) or failed: `error` follows the latest."""
        with self._lock:
            if number >= self._reported:
                self._reported = number
                self.error = error

    def close(self) -> None:
        """Stop forwarding; returns once every connection has ended."""
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


class SSHPortForward(PortForward):
    """`PortForward` through the SSH gateway (2019 dialect)."""

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
        super().__init__(local_port)

    def _serve(self, conn: socket.socket, number: int) -> None:
        import subprocess

        with self._gateway._command(
            self._server, self._payload, tty=False, no_key_check=self._no_key_check
        ) as (argv, log):
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
            try:
                self._gateway._ssh_messages(log, self._server)
            except HostKeyMismatch as err:
                self._outcome(number, err)
            else:
                self._outcome(number, None)


def _write_stderr(data: bytes) -> None:
    if data:
        sys.stderr.write(data.decode("utf-8", "replace"))
        sys.stderr.flush()


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
