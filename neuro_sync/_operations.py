"""The wire operations of the jobs API: one method per endpoint, generated code inside.

`Jobs` (the public surface, which owns every signature and docstring) validates and maps the
user's arguments with `_mapping`, then calls one of these with wire-level values: a request
body, a job id, a list query. They send it through the transport and map the reply back.
"""

from __future__ import annotations

import contextlib
import gc
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

from neuro_sync_api.api.monitoring import get_job_log, get_job_top, save_job
from neuro_sync_api.api.platform import create_job, get_config, get_job, kill_job, list_jobs
from neuro_sync_api.client import AuthenticatedClient
from neuro_sync_api.models import Job, JobList, JobRequest, SaveRequest, ServerConfig
from neuro_sync_api.types import UNSET
from yarl import URL

from . import _mapping
from ._streams import LogStream, TelemetryStream, iter_lines
from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout, check_timeout
from ._transport import Transport
from .config import ClusterConfig
from .errors import (
    APIConnectionError,
    AuthenticationError,
    JobSaveError,
    JobSubmissionUncertain,
    ResponseValidationError,
    ServerError,
)
from .models import JobDescription


class Operations:
    """The jobs calls of one client. Thread-safe: the cluster config is fetched once, locked."""

    def __init__(
        self, transport: Transport, username: str, cluster: ClusterConfig | None = None
    ) -> None:
        self._t = transport
        self.username = username
        self._cluster = cluster
        self._lock = threading.Lock()
        self._ctx: _mapping.ReplyContext | None = None

    # ------------------------------------------------------------------ config

    def fetch_config(self) -> ClusterConfig:
        """GET /config with the token; the cluster part must be there."""
        with _mapping.reply_guard("/config"):
            # The generated parser runs inside sync_detailed: a non-JSON or malformed body
            # must become ResponseValidationError, not a raw JSONDecodeError/KeyError.
            response = get_config.sync_detailed(client=self._t.api)
            parsed = response.parsed
            if not isinstance(parsed, ServerConfig):
                parsed = _mapping.parse_server_config(None)
        cluster = _mapping.cluster_config(parsed)
        if cluster is None:
            # The server swallows a rejected token on /config (docs/protocol.md §1.4).
            raise AuthenticationError(
                "Cannot authorize user: the server did not accept the token", status=401
            )
        return cluster

    @property
    def cluster(self) -> ClusterConfig:
        if self._cluster is None:
            with self._lock:
                if self._cluster is None:
                    self._cluster = self.fetch_config()
        return self._cluster

    @property
    def timeout(self) -> Timeout:
        """The client's HTTP timeout (what `CLIENT_DEFAULT` stands for)."""
        return check_timeout(self._t.timeout)

    def _context(self) -> _mapping.ReplyContext:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = _mapping.ReplyContext(self.cluster.registry_host, self.username)
        return ctx

    def _monitoring(self) -> AuthenticatedClient:
        return self._t.monitoring(str(self.cluster.monitoring_url))

    @staticmethod
    def _options(timeout: Timeout | ClientDefault) -> dict[str, Any] | None:
        if timeout is CLIENT_DEFAULT:
            return None
        return {"timeout": check_timeout(timeout)}

    # ------------------------------------------------------------------ jobs

    def submit(
        self, body: JobRequest, *, name: str | None, timeout: Timeout | ClientDefault
    ) -> JobDescription:
        options = self._options(timeout)
        ctx = self._context()
        hint = (
            f"check with jobs.list(name={name!r})" if name else "check with jobs.list()"
        ) + " before submitting again"
        try:
            # reply_guard: a malformed 202 body (parsed inside sync_detailed) must not leak
            # KeyError/JSONDecodeError; transport errors (ClientError) pass through unchanged.
            with _mapping.reply_guard("job"):
                response = create_job.sync_detailed(
                    client=self._t.api, body=body, request_options=options
                )
        except APIConnectionError as err:
            if err.request_sent is False:
                raise
            raise JobSubmissionUncertain(
                f"The job may or may not have been created ({err}); {hint}",
                request_sent=err.request_sent,
            ) from err
        except ServerError as err:
            raise ServerError(
                f"{err.message} (the job may or may not have been created; {hint})",
                status=err.status,
            ) from err
        except ResponseValidationError as err:
            raise ResponseValidationError(
                f"{err} (the server answered, so the job was probably created; {hint})"
            ) from err
        try:
            parsed = response.parsed
            if isinstance(parsed, Job):
                return _mapping.job_from_wire(parsed, ctx)
            # Another 2xx than the documented 202: the body is still a job object.
            return _mapping.job_from_json(_json(response.content), ctx)
        except ResponseValidationError as err:
            raise ResponseValidationError(
                f"{err} (the server accepted the job, so it probably exists; {hint})"
            ) from err

    def query(
        self, query: _mapping.ListQuery, *, timeout: Timeout | ClientDefault
    ) -> list[JobDescription]:
        options = self._options(timeout)
        ctx = self._context()
        with _gc_paused(), _mapping.reply_guard("job list"):
            response = list_jobs.sync_detailed(
                client=self._t.api,
                # Sorted, so the same filter always makes the same URL.
                # UNSET, not None: the generated builder iterates any non-UNSET value.
                status=query.statuses or UNSET,  # type: ignore[arg-type]  # checked by list_query
                name=query.name or UNSET,
                owner=query.owners or UNSET,
                request_options=options,
            )
            parsed = response.parsed
            if not isinstance(parsed, JobList):
                parsed = JobList.from_dict(_json(response.content))
            return _mapping.jobs_from_wire(parsed, ctx)

    def get(self, job_id: str, *, timeout: Timeout | ClientDefault) -> JobDescription:
        options = self._options(timeout)
        ctx = self._context()
        with _mapping.reply_guard("job"):
            response = get_job.sync_detailed(job_id, client=self._t.api, request_options=options)
            parsed = response.parsed
            if not isinstance(parsed, Job):
                return _mapping.job_from_json(_json(response.content), ctx)
        return _mapping.job_from_wire(parsed, ctx)

    def kill(self, job_id: str, *, timeout: Timeout | ClientDefault) -> None:
        kill_job.sync_detailed(job_id, client=self._t.api, request_options=self._options(timeout))

    def log(self, job_id: str, *, timeout: Timeout | ClientDefault) -> LogStream:
        response = get_job_log.stream(
            job_id, client=self._monitoring(), request_options=self._options(timeout)
        )
        return LogStream(response, job_id, self._t.redact)

    def top(self, job_id: str, *, timeout: Timeout | ClientDefault) -> TelemetryStream:
        t = self._t.timeout if timeout is CLIENT_DEFAULT else check_timeout(timeout)
        connect, read = t if isinstance(t, tuple) else (t, t)
        client = self._monitoring()
        url = URL(client.url_for(get_job_top.build_request(job_id)["url"]))
        ws_url = url.with_scheme("wss" if url.scheme == "https" else "ws")
        headers = [f"Authorization: Bearer {self._t.token}"] if self._t.token else []
        sslopt: dict[str, Any] | None = None
        verify = self._t.session.verify
        if verify is False:
            sslopt = {"cert_reqs": ssl.CERT_NONE}
        elif isinstance(verify, str):
            sslopt = {"ca_certs": verify}
        return TelemetryStream(
            str(ws_url),
            job_id=job_id,
            headers=headers,
            connect_timeout=connect,
            read_timeout=read,
            redact=self._t.redact,
            sslopt=sslopt,
        )

    def save(
        self,
        job_id: str,
        body: SaveRequest,
        *,
        timeout: Timeout | ClientDefault,
        on_status: Callable[[str], None] | None = None,
    ) -> list[str]:
        response = save_job.stream(
            job_id, client=self._monitoring(), body=body, request_options=self._options(timeout)
        )
        statuses: list[str] = []
        with response:
            if response.status_code == 201:  # the pre-2019-08-01 protocol: done, no body
                return statuses
            for line in iter_lines(response, job_id):
                status, error = _mapping.save_progress(line)
                if error is not None:
                    raise JobSaveError(self._t.redact(error))
                if status is not None:
                    statuses.append(status)
                    if on_status is not None:
                        on_status(status)
        if "CommitFinished" not in statuses:
            raise JobSaveError(f"Saving job {job_id} ended without CommitFinished")
        return statuses


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a big reply becomes objects.

    A 10,000-job list allocates ~150,000 objects, none of them cyclic garbage; with the GC on,
    CPython 3.11 re-scans the growing heap many times over and parsing takes twice as long.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise ResponseValidationError("The server reply is not JSON") from None
