"""`Jobs`: the jobs subsystem of a `Client` (start, list, inspect, stream, kill, wait)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from . import _mapping, _validation
from ._operations import Operations
from ._ssh import PortForward, SSHGateway
from ._streams import LogStream, TelemetryStream
from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout
from .errors import ValidationError, WaitTimeout
from .models import Container, JobDescription, JobStatus, RemoteImage

__all__ = ["Jobs"]

_FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class Jobs:
    """Jobs subsystem: start a job, terminate it, get its status, list jobs, and so on.

    Every method blocks until it has the answer. `timeout=` on an HTTP method overrides the
    client's timeout for that call: seconds or a `(connect, read)` pair, where `read=None`
    waits between bytes without limit; the default, `CLIENT_DEFAULT`, is the client's.
    """

    def __init__(self, ops: Operations, token: str) -> None:
        self._ops = ops
        self._ssh = SSHGateway(token, status=self.status)

    def run(
        self,
        container: Container,
        *,
        name: str | None = None,
        description: str | None = None,
        is_preemptible: bool = False,
        schedule_timeout: float | None = None,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
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
        )
        return self._ops.submit(body, name=name, timeout=timeout)

    def list(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None = None,
        name: str | None = None,
        owners: Iterable[str] | None = None,
        timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
    ) -> list[JobDescription]:
        """List the user's jobs, oldest first.

        Args:
            statuses: only jobs in any of these statuses (all when None).
            name: only jobs with this name.
            owners: only jobs of these users (beyond the 2019 SDK).
            timeout: per-call HTTP timeout.

        Returns:
            A list of `JobDescription` in server order (oldest first).
        """
        query = _mapping.list_query(statuses, name, owners)
        return self._ops.query(query, timeout=timeout)

    def status(
        self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT
    ) -> JobDescription:
        """The current `JobDescription` of a job.

        Raises:
            JobNotFound: no such job (both `ResourceNotFound` and `IllegalArgumentError`).
        """
        return self._ops.get(_validation.validate_job_id(id), timeout=timeout)

    def kill(self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT) -> None:
        """Kill a job. A killed job ends `SUCCEEDED`; killing a finished job does nothing.

        Raises:
            JobNotFound: no such job.
        """
        self._ops.kill(_validation.validate_job_id(id), timeout=timeout)

    def monitor(self, id: str, *, timeout: Timeout | ClientDefault = CLIENT_DEFAULT) -> LogStream:
        """Stream the job's output: a `LogStream` of `bytes` chunks; close it when done.

        The stream follows a running job until it ends. With the default timeout a job silent
        for longer than the read timeout raises `APITimeoutError`; pass `timeout=(10, None)` to
        wait indefinitely between chunks.
        """
        return self._ops.log(_validation.validate_job_id(id), timeout=timeout)

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
    ) -> None:
        """Save the job's container as an image in the platform registry.

        Reads the server's progress stream to the end.

        Raises:
            ValidationError: the image is not a platform image (needs owner and registry).
            JobSaveError: the server reported a failure in the stream (e.g. job not running).
        """
        job_id = _validation.validate_job_id(id)
        self._ops.save(job_id, _mapping.save_request(image), timeout=timeout)

    def wait(
        self,
        id: str,
        *,
        timeout: float | None = None,
        statuses: Iterable[JobStatus | str] | None = None,
        poll_interval: float = 1.0,
    ) -> JobDescription:
        """Block until the job reaches one of `statuses` (default: finished) and return it.

        Args:
            id: the job id.
            timeout: give up after this many seconds (None: wait as long as it takes).
            statuses: the awaited statuses; SUCCEEDED and FAILED by default.
            poll_interval: seconds between polls (grows to 5x while nothing changes).

        Raises:
            WaitTimeout: the timeout passed first (`.job` is the last state seen).
        """
        try:
            wanted = _FINISHED if statuses is None else frozenset(JobStatus(s) for s in statuses)
        except ValueError as err:
            raise ValidationError("statuses", str(err)) from None
        if not wanted:
            raise ValidationError("statuses", "must not be empty")
        if not isinstance(poll_interval, int | float) or poll_interval <= 0:
            raise ValidationError("poll_interval", "must be seconds > 0")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0):
            raise ValidationError("timeout", "must be seconds >= 0 or None")
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        last_status = None
        while True:
            job = self.status(id)
            if job.status in wanted:
                return job
            if (
                statuses is None
                and job.status is JobStatus.UNKNOWN
                and job.history.finished_at is not None
            ):
                # A status newer than 2019 (e.g. `cancelled`) that has finished.
                return job
            if job.status is not last_status:
                last_status, interval = job.status, poll_interval
            else:
                interval = min(interval * 1.5, poll_interval * 5)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise WaitTimeout(f"Job {id} is still {job.status.value} after {timeout} s", job)
            sleep = interval if deadline is None else min(interval, deadline - now)
            time.sleep(max(sleep, 0.0))

    def exec(
        self,
        id: str,
        cmd: Sequence[str],
        *,
        tty: bool = False,
        no_key_check: bool = False,
        timeout: float | None = None,
    ) -> int:
        """Run a command inside a running job and return its exit code.

        Goes through the platform SSH gateway (the job's `ssh_server`) with the system `ssh`;
        the command's output goes to this process's stdout and stderr. The token is handed
        to ssh in a private temporary file, never on its command line.

        Args:
            id: the job id.
            cmd: the command and its arguments.
            tty: allocate a terminal (for interactive programs).
            no_key_check: skip host key verification of the gateway.
            timeout: seconds before the command is killed (None: no limit).

        Raises:
            JobNotFound: no such job.
            JobNotRunning: the job is not running.
            SSHNotAvailable: no `ssh` program on PATH.
        """
        return self._ssh.exec(id, cmd, tty=tty, no_key_check=no_key_check, timeout=timeout)

    def port_forward(
        self, id: str, local_port: int, job_port: int, *, no_key_check: bool = False
    ) -> PortForward:
        """Forward `127.0.0.1:local_port` to `job_port` of a running job.

        Returns a context manager; forwarding runs in the background while it is open::

            with client.jobs.port_forward(job.id, 8080, 80) as fwd:
                requests.get(f"http://127.0.0.1:{fwd.local_port}/")

        `local_port=0` picks a free port (see `.local_port`).

        Raises:
            JobNotFound: no such job.
            JobNotRunning: the job is not running.
            SSHNotAvailable: no `ssh` program on PATH.
        """
        return self._ssh.port_forward(id, local_port, job_port, no_key_check=no_key_check)

    def __repr__(self) -> str:
        return f"<Jobs user={self._ops.username!r}>"
