"""`Jobs`: the jobs subsystem of a `Client` (start, list, inspect, stream, kill, wait)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Sequence
from typing import Literal, TextIO, TypedDict, Unpack, overload

from . import _mapping, _validation
from ._display import Progress, status_text
from ._joblist import JobStream
from ._operations import Operations
from ._ssh import ExecResult, PortForward, SSHGateway, check_ports
from ._streams import LogLines, LogStream, TelemetryStream
from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout
from .errors import APIConnectionError, JobNotRunning, ValidationError, WaitTimeout
from .models import (
    Container,
    JobDescription,
    JobList,
    JobRestartPolicy,
    JobStatus,
    RemoteImage,
)

__all__ = ["JobOptions", "Jobs"]


class JobOptions(TypedDict, total=False):
    """The 2022 dialect's keyword arguments of `Jobs.run` (and `neuro_sync.run`), each
    optional; under 2019 giving one raises `ValidationError` before anything is sent.

    Attributes:
        tags: up to 16 tags (1-256 characters, no whitespace); the server sorts them.
        life_span: seconds the job may run (at least 60; counted in whole minutes), after
            which it is cancelled (default: no limit).
        restart_policy: a `JobRestartPolicy` (or its value): restart the job on exit
            (default: `NEVER`).
        pass_config: give the job a login of its owner (`NEURO_PASSED_CONFIG`; default False).
        wait_for_jobs_quota: wait for the jobs quota instead of failing (default False).
        privileged: run the container privileged (default False).
        preset_name: the resource preset the job is accounted to (default: none).
    """

    tags: Iterable[str] | None
    life_span: float | None
    restart_policy: JobRestartPolicy | str
    pass_config: bool
    wait_for_jobs_quota: bool
    privileged: bool
    preset_name: str | None


def _job_options(options: JobOptions) -> JobOptions:
    """`options`, refusing a key that is not one (as Python refuses an unknown keyword)."""
    for key in options:
        if key not in JobOptions.__optional_keys__:
            raise TypeError(f"run() got an unexpected keyword argument {key!r}")
    return options


_FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
# `logs(follow=False)` on a live job: the log so far is whatever arrives before the stream has
# been quiet this long (the 2019 endpoint itself always follows a live job).
_SNAPSHOT_IDLE = 1.0
# `wait(timeout=S)`: a status call may overrun the deadline by this much at most.
_WAIT_GRACE = 0.5


class Jobs:
    """Jobs subsystem: start a job, terminate it, get its status, list jobs, and so on.

    Every method blocks until it has the answer. `timeout=` on an HTTP method overrides the
    client's timeout for that call: seconds or a `(connect, read)` pair, where `read=None`
    waits between bytes without limit; the default, `CLIENT_DEFAULT`, is the client's.

    Ctrl-C (`KeyboardInterrupt`, also Jupyter's "interrupt kernel") stops `wait`, `logs`,
    `monitor`, `top` and `exec` promptly: the stream or the ssh process is closed, the
    exception propagates, and the job keeps running (`kill` ends it).
    """

    def __init__(self, ops: Operations, token: str, *, known_hosts: str | None = None) -> None:
        self._ops = ops
        self._ssh = SSHGateway(token, status=self.status, known_hosts=known_hosts)

    def run(
        self,
        container: Container,
        *,
        name: str | None = None,
        description: str | None = None,
        is_preemptible: bool = False,
        schedule_timeout: float | None = None,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        **options: Unpack[JobOptions],
    ) -> JobDescription:
        """Start a new job.

        Args:
            container: the `Container` to start.
            name: optional job name (3-40 lower-case letters, digits and single dashes,
                starting with a letter); unique among the user's unfinished jobs.
            description: optional job description.
            is_preemptible: whether the job may be preempted.
            schedule_timeout: seconds (1 to 30 days) to wait for resources before the job fails.
            timeout: per-call HTTP timeout.

        The keyword arguments of `JobOptions` (tags, life span, restart policy, ...) and
        `Container.working_dir`/`tty` exist only in the 2022 dialect
        (`Client(..., dialect="2022")`); under 2019 giving one raises `ValidationError`
        before anything is sent.

        Returns:
            The `JobDescription` of the started job (usually pending).

        Raises:
            ValidationError: bad input, found before anything is sent.
            IllegalArgumentError: the server rejected the job (e.g. a duplicate name).
            JobSubmissionUncertain: the connection failed after the request may have arrived;
                the job may exist. It is never retried automatically.
        """
        body = _mapping.job_request(
            container,
            name=name,
            description=description,
            is_preemptible=is_preemptible,
            schedule_timeout=schedule_timeout,
            dialect=self._ops.dialect,
            options=_mapping.RunOptions(**_job_options(options)),
        )
        return self._ops.submit(body, name=name, timeout=timeout)

    def list(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None = None,
        name: str | None = None,
        owners: Iterable[str] | None = None,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        tags: Iterable[str] | None = None,
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> JobList:
        """List the user's jobs, oldest first.

        Args:
            statuses: only jobs in any of these statuses (all when None).
            name: only jobs with this name.
            owners: only jobs of these users (beyond the 2019 SDK).
            timeout: per-call HTTP timeout.

        Returns:
            A list of `JobDescription` in server order (oldest first): a `JobList`, which is a
            plain `list` that Jupyter shows as a table.

        For long histories, `iter` (same filters) yields the jobs as they arrive instead.

        The filters below exist only in the 2022 dialect (under 2019 they raise
        `ValidationError`: a 2019 server would ignore them silently):

        Args:
            tags: only jobs carrying every one of these tags.
            since: only jobs created at or after this (timezone-aware) time.
            until: only jobs created at or before this time.
            reverse: newest first.
            limit: at most this many jobs (after ordering).
        """
        query = _mapping.list_query(
            statuses,
            name,
            owners,
            tags=tags,
            since=since,
            until=until,
            reverse=reverse,
            limit=limit,
            dialect=self._ops.dialect,
        )
        if self._ops.dialect != "2019":
            # A 2022 server streams the list (NDJSON), ending it with an error line on failure.
            with self._ops.stream_query(query, timeout=timeout) as jobs:
                return JobList(jobs)
        return JobList(self._ops.query(query, timeout=timeout))

    def iter(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None = None,
        name: str | None = None,
        owners: Iterable[str] | None = None,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        tags: Iterable[str] | None = None,
        since: datetime.datetime | None = None,
        until: datetime.datetime | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> JobStream:
        """Stream the user's jobs, oldest first: the jobs of `list`, one at a time.

        Each job is mapped as its bytes arrive, so memory stays flat however long the history
        and the first job is there before the whole reply. It asks for NDJSON (servers since
        2020) and reads a 2019 server's JSON array incrementally. Filters as in `list`::

            with client.jobs.iter(statuses={JobStatus.FAILED}) as jobs:
                for job in jobs:
                    print(job.id, job.history.reason)

        Returns:
            A `JobStream`: an iterator of `JobDescription` and a context manager that
            releases the connection (iterating to the end releases it too).

        Raises:
            ValidationError: bad filters, before anything is sent.
            ResponseValidationError: (while iterating) a malformed reply or job.
            StreamInterrupted: (while iterating) the connection broke before the end.
            ServerError: (while iterating) a 2022 server ended the stream with an error line.
        """
        query = _mapping.list_query(
            statuses,
            name,
            owners,
            tags=tags,
            since=since,
            until=until,
            reverse=reverse,
            limit=limit,
            dialect=self._ops.dialect,
        )
        return self._ops.stream_query(query, timeout=timeout)

    def status(
        self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT
    ) -> JobDescription:
        """The current `JobDescription` of a job. Under 2022, `id` may also be the name of
        one of your jobs (the server resolves it to the newest job of that name).

        Raises:
            JobNotFound: no such job (both `ResourceNotFound` and `IllegalArgumentError`).
        """
        return self._ops.get(_validation.validate_job_id(id), timeout=timeout)

    def kill(self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT) -> None:
        """Kill a job. A killed job ends `SUCCEEDED` (`CANCELLED` on a 2022 server); killing a
        finished job does nothing. Under 2022, `id` may also be a job name, as in `status`.

        Raises:
            JobNotFound: no such job.
        """
        self._ops.kill(_validation.validate_job_id(id), timeout=timeout)

    def bump_life_span(
        self,
        id: str,
        additional_seconds: float,
        *,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
    ) -> None:
        """Extend a job's life span by `additional_seconds` (at least 60, counted in whole
        minutes); a job without one gets one, counted from its start. 2022 dialect only.

        Raises:
            ValidationError: under the 2019 dialect, or a bad duration (before sending).
            JobNotFound: no such job.
            IllegalArgumentError: the job has finished.
        """
        if self._ops.dialect == "2019":
            raise _mapping.later_only("bump_life_span")
        job_id = _validation.validate_job_id(id)
        body = _mapping.life_span_request(additional_seconds)
        self._ops.bump_life_span(job_id, body, timeout=timeout)

    def monitor(
        self,
        id: str,
        *,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        since: datetime.datetime | None = None,
        timestamps: bool = False,
    ) -> LogStream:
        """Stream the job's output: a `LogStream` of `bytes` chunks; close it when done.

        The stream follows a running job until it ends. With the default timeout a job silent
        for longer than the read timeout raises `APITimeoutError`; pass `timeout=(10, None)` to
        wait indefinitely between chunks, or use `logs`, which yields text lines and does.
        `since` and `timestamps` are as in `logs` (2022 dialect only).
        """
        job_id = _validation.validate_job_id(id)
        query = _mapping.log_query(since, timestamps, self._ops.dialect)
        return self._ops.log(job_id, timeout=timeout, query=query)

    def logs(
        self,
        id: str,
        *,
        follow: bool = True,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        since: datetime.datetime | None = None,
        timestamps: bool = False,
    ) -> LogLines:
        """The job's output as `str` lines (without their newline); close it when done::

            with client.jobs.logs(job.id) as lines:
                for line in lines:
                    print(line)

        Bytes are decoded incrementally as UTF-8 (invalid bytes become U+FFFD); `\\n` and
        `\\r\\n` end a line; a last line without a newline comes out at the end.

        Args:
            id: the job id.
            follow: True: follow a live job until it ends, however long it is silent (with
                the default timeout there is no read limit, only a connect limit). False:
                return the log so far and stop; a finished job's log is read to its end, a live
                job's until no data came for a second (or 10 s in all).
            timeout: per-call HTTP timeout. The default is the client's, except that a
                followed log has no read limit.

        The arguments below exist only in the 2022 dialect (under 2019 they raise
        `ValidationError` before anything is sent: a 2019 server ignores them):

        Args:
            since: only lines written at or after this (timezone-aware) time.
            timestamps: start each line with the time it was written (RFC 3339, UTC) and a
                space.

        Under 2022, `id` may also be the name of one of your jobs (the server resolves it).

        Raises:
            ValidationError: bad arguments, before anything is sent.
            JobNotFound: no such job.
            StreamInterrupted: (while iterating) the connection broke before the log ended.
        """
        job_id = _validation.validate_job_id(id)
        query = _mapping.log_query(since, timestamps, self._ops.dialect)
        if follow:
            if timeout is CLIENT_DEFAULT:
                t = self._ops.timeout
                timeout = (t[0] if isinstance(t, tuple) else t, None)
            return LogLines(self._ops.log(job_id, timeout=timeout, query=query))
        job = self.status(job_id, timeout=timeout)
        finished = _has_finished(job)
        stream = self._ops.log(job_id, timeout=timeout, query=query)
        return LogLines(stream, idle=None if finished else _SNAPSHOT_IDLE)

    def top(self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT) -> TelemetryStream:
        """Telemetry of a running job: a `TelemetryStream` of `JobTelemetry`, about one a second.

        Raises:
            JobNotFound: no such job (on connecting).
            JobNotRunning: the job finished without sending a sample (while iterating).
        """
        return self._ops.top(_validation.validate_job_id(id), timeout=timeout)

    def save(
        self,
        id: str,
        image: RemoteImage,
        *,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
        progress: bool | TextIO = False,
    ) -> None:
        """Save the job's container as an image in the platform registry.

        Reads the server's progress stream to the end.

        Args:
            id: the job id.
            image: the platform image to create.
            timeout: per-call HTTP timeout.
            progress: show the commit and push steps with the elapsed time: True for a
                tqdm bar when tqdm is installed, else text on stderr; or a stream to write
                the text to (one line rewritten in place on a terminal, else a line a step).

        Raises:
            ValidationError: the image is not a platform image (needs owner and registry).
            JobSaveError: the server reported a failure in the stream (e.g. job not running).
        """
        job_id = _validation.validate_job_id(id)
        body = _mapping.save_request(image)
        bar = Progress(f"save {job_id}", to=progress)
        try:
            self._ops.save(job_id, body, timeout=timeout, on_status=bar.update)
        finally:
            bar.close()

    def wait(
        self,
        id: str,
        *,
        max_time: float | None = None,
        statuses: Iterable[JobStatus | str] | None = None,
        poll_interval: float = 1.0,
        progress: bool | TextIO = False,
        timeout: float | None = None,
    ) -> JobDescription:
        """Block until the job reaches one of `statuses` (default: finished) and return it.

        A job that has finished is returned whatever `statuses` says, since it will reach no
        other status: `wait(id, statuses=["running"])` returns a job that ended before it was
        seen running (check `.status`), and a finished job with a status newer than this
        client (`JobStatus.UNKNOWN`) is returned too.

        Args:
            id: the job id.
            max_time: give up after this many seconds (None: wait as long as it takes). The
                call returns or raises within about half a second of it whatever the server
                does: each status request gets no more than the time left.
            statuses: the awaited statuses; SUCCEEDED, FAILED and CANCELLED by default.
            poll_interval: seconds between polls (grows to 5x while nothing changes).
            progress: show the status (with its reason and exit code) and the elapsed time:
                True for a tqdm bar when tqdm is installed, else text on stderr; or a stream
                to write the text to (one line rewritten in place on a terminal, else a line
                a change).
            timeout: the earlier name of `max_time`, still accepted (not an HTTP timeout).

        Raises:
            WaitTimeout: `max_time` passed first (`.job` is the last state seen, or None).
        """
        field = "timeout" if timeout is not None else "max_time"  # as the caller named it
        timeout = _max_time(max_time, timeout)
        try:
            wanted = _FINISHED if statuses is None else frozenset(JobStatus(s) for s in statuses)
        except ValueError as err:
            raise ValidationError("statuses", str(err)) from None
        if not wanted:
            raise ValidationError("statuses", "must not be empty")
        if not isinstance(poll_interval, int | float) or poll_interval <= 0:
            raise ValidationError("poll_interval", "must be seconds > 0")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
            raise ValidationError(field, "must be seconds >= 0 or None")
        job_id = _validation.validate_job_id(id)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        last: JobDescription | None = None
        bar = Progress(job_id, to=progress)
        try:
            while True:
                job = self._poll(job_id, deadline, last, timeout)
                bar.update(status_text(job))
                if job.status in wanted or _has_finished(job):
                    return job
                if last is None or job.status is not last.status:
                    interval = poll_interval
                else:
                    interval = min(interval * 1.5, poll_interval * 5)
                last = job
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    raise _wait_timeout(job_id, job, timeout)
                sleep = interval if deadline is None else min(interval, deadline - now)
                time.sleep(max(sleep, 0.0))
        finally:
            bar.close()

    def _poll(
        self,
        job_id: str,
        deadline: float | None,
        last: JobDescription | None,
        timeout: float | None,
    ) -> JobDescription:
        """One status request of `wait`, bounded by the deadline.

        The transport gives it no more than the time left (plus the grace), retries
        included: a retried or trickled status call must not stretch `wait(timeout=...)`.
        """
        if deadline is None:
            return self.status(job_id)
        try:
            return self._ops.get(job_id, timeout=CLIENT_DEFAULT, deadline=deadline + _WAIT_GRACE)
        except APIConnectionError as err:
            if time.monotonic() >= deadline:
                raise _wait_timeout(job_id, last, timeout) from err
            raise

    @overload
    def exec(
        self,
        id: str,
        cmd: Sequence[str],
        *,
        tty: bool = ...,
        no_key_check: bool = ...,
        max_time: float | None = ...,
        timeout: float | None = ...,
        capture_output: Literal[False] = ...,
    ) -> int: ...

    @overload
    def exec(
        self,
        id: str,
        cmd: Sequence[str],
        *,
        tty: bool = ...,
        no_key_check: bool = ...,
        max_time: float | None = ...,
        timeout: float | None = ...,
        capture_output: Literal[True],
    ) -> ExecResult: ...

    @overload
    def exec(
        self,
        id: str,
        cmd: Sequence[str],
        *,
        tty: bool = ...,
        no_key_check: bool = ...,
        max_time: float | None = ...,
        timeout: float | None = ...,
        capture_output: bool = ...,
    ) -> int | ExecResult: ...

    def exec(
        self,
        id: str,
        cmd: Sequence[str],
        *,
        tty: bool = False,
        no_key_check: bool = False,
        max_time: float | None = None,
        timeout: float | None = None,
        capture_output: bool = False,
    ) -> int | ExecResult:
        """Run a command inside a running job and return its exit code.

        Under 2019, goes through the platform SSH gateway (the job's `ssh_server`) with the
        system `ssh`; the token is handed to ssh in a private temporary file, never on its
        command line. Under 2022, goes over the monitoring `exec` WebSocket (no `ssh`).

        Where the output goes:

        - `capture_output=True`: into the returned `ExecResult` (`returncode`, and `stdout`
          and `stderr` as bytes, like `subprocess.run`); the command's stdin is empty.
        - otherwise, when `sys.stdout`/`sys.stderr` are not the process's own (Jupyter,
          `contextlib.redirect_stdout`): written to them as text (UTF-8) as it arrives, so it
          shows in the notebook cell; the command's stdin is empty.
        - otherwise (a terminal, a plain script): straight to this process's stdout and
          stderr, with its stdin, as in 2019.

        Args:
            id: the job id.
            cmd: the command and its arguments.
            tty: allocate a terminal (for interactive programs).
            no_key_check: skip host key verification of the gateway.
            max_time: seconds before the command is killed (None: no limit).
            timeout: the earlier name of `max_time`, still accepted (not an HTTP timeout).
            capture_output: return an `ExecResult` instead of the exit code.

        Raises:
            JobNotFound: no such job.
            JobNotRunning: the job is not running.
            SSHNotAvailable: no `ssh` program on PATH.
            ExecTimeout: `max_time` passed (ssh is stopped; the job runs on).
        """
        if self._ops.dialect != "2019":
            return self._ws_exec(id, cmd, tty, _max_time(max_time, timeout), capture_output)
        return self._ssh.exec(
            id,
            cmd,
            tty=tty,
            no_key_check=no_key_check,
            timeout=_max_time(max_time, timeout),
            capture_output=capture_output,
        )

    def port_forward(
        self, id: str, local_port: int, job_port: int, *, no_key_check: bool = False
    ) -> PortForward:
        """Forward `127.0.0.1:local_port` to `job_port` of a running job.

        Returns a context manager; forwarding runs in the background while it is open::

            with client.jobs.port_forward(job.id, 8080, 80) as fwd:
                requests.get(f"http://127.0.0.1:{fwd.local_port}/")

        `local_port=0` picks a free port (see `.local_port`). Under 2022 each connection is a
        monitoring `port_forward` WebSocket instead of an SSH gateway channel.

        Raises:
            JobNotFound: no such job.
            JobNotRunning: the job is not running.
            SSHNotAvailable: no `ssh` program on PATH.
        """
        if self._ops.dialect == "2019":
            return self._ssh.port_forward(id, local_port, job_port, no_key_check=no_key_check)
        from ._channels import WSPortForward

        check_ports(local_port, job_port)
        job_id = self._running(id)
        return WSPortForward(
            lambda: self._ops.channel("port_forward", job_id, {}, port=job_port),
            local_port,
            job_id,
        )

    @overload
    def attach(
        self,
        id: str,
        *,
        tty: bool = ...,
        max_time: float | None = ...,
        capture_output: Literal[False] = ...,
    ) -> int: ...

    @overload
    def attach(
        self,
        id: str,
        *,
        tty: bool = ...,
        max_time: float | None = ...,
        capture_output: Literal[True],
    ) -> ExecResult: ...

    def attach(
        self,
        id: str,
        *,
        tty: bool = False,
        max_time: float | None = None,
        capture_output: bool = False,
    ) -> int | ExecResult:
        """Follow a running job's output from now until it ends, and return its exit code.

        2022 dialect only (the monitoring `attach` WebSocket). The output goes where `exec`'s
        does (`capture_output=True`: into the returned `ExecResult`).

        `tty=True` connects to the terminal of a job run with `Container(tty=True)`: this
        process's stdin is typed into it, and when stdin is a terminal it is put in raw mode
        (restored on return, also after Ctrl-C or an error) and the job's terminal gets its
        window size and every change of it. Detaching (returning, `max_time`) leaves the
        job running.

        Raises:
            ValidationError: under the 2019 dialect (before sending).
            JobNotFound: no such job.
            JobNotRunning: the job is not running.
            ExecTimeout: `max_time` passed (the job runs on).
        """
        if self._ops.dialect == "2019":
            raise _mapping.later_only("attach")
        from ._channels import run_channels, stdin_mode

        job_id = self._running(id)
        forward = tty and stdin_mode(capture_output)
        query = {
            "tty": "1" if tty else "0",
            "stdin": "1" if forward else "0",
            "stdout": "1",
            "stderr": "1",
        }
        ws = self._ops.channel("attach", job_id, query)
        return run_channels(
            ws,
            job_id,
            what="attach",
            tty=tty,
            forward_stdin=forward,
            max_time=max_time,
            capture_output=capture_output,
        )

    def _running(self, id: str) -> str:
        job_id = _validation.validate_job_id(id)
        if self.status(job_id).status is not JobStatus.RUNNING:
            raise JobNotRunning(f"Job is not running. Job Id = {job_id}")
        return job_id

    def _ws_exec(
        self,
        id: str,
        cmd: Sequence[str],
        tty: bool,
        max_time: float | None,
        capture_output: bool,
    ) -> int | ExecResult:
        import shlex

        from ._channels import run_channels, stdin_mode

        if isinstance(cmd, str) or not all(isinstance(c, str) for c in cmd) or not cmd:
            raise ValidationError("cmd", "must be a non-empty list of strings")
        job_id = self._running(id)
        forward = stdin_mode(capture_output)
        query = {
            "cmd": shlex.join(cmd),
            "tty": "1" if tty else "0",
            "stdin": "1" if forward else "0",
            "stdout": "1",
            "stderr": "1",
        }
        ws = self._ops.channel("exec", job_id, query)
        return run_channels(
            ws,
            job_id,
            what="exec",
            tty=tty,
            forward_stdin=forward,
            max_time=max_time,
            capture_output=capture_output,
        )

    def __repr__(self) -> str:
        return f"<Jobs user={self._ops.username!r}>"


def _max_time(max_time: float | None, timeout: float | None) -> float | None:
    """The total of `wait`/`exec`: `max_time`, or `timeout`, its earlier name (one, not both)."""
    if timeout is None:
        return max_time
    if max_time is not None:
        raise ValidationError("timeout", "is the earlier name of max_time: pass only max_time")
    return timeout


def _has_finished(job: JobDescription) -> bool:
    """Finished for good: a finished status, or a finish time (a status newer than 2019)."""
    return job.status.is_finished or job.history.finished_at is not None


def _wait_timeout(job_id: str, job: JobDescription | None, timeout: float | None) -> WaitTimeout:
    state = "in an unknown state" if job is None else f"still {job.status.value}"
    return WaitTimeout(f"Job {job_id} is {state} after {timeout:g} s", job)
