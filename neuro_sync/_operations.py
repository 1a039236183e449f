"""Jobs operations: validation -> mapping -> generated endpoint via the transport -> mapping.

The public `Jobs` class is a thin, documented front for these.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import json
import ssl
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from neuro_sync_api.api.monitoring import get_job_log, get_job_top, save_job
from neuro_sync_api.api.platform import create_job, get_config, get_job, kill_job, list_jobs
from neuro_sync_api.client import AuthenticatedClient
from neuro_sync_api.models import Job, JobList, ServerConfig
from neuro_sync_api.types import UNSET
from yarl import URL

from . import _mapping, _validation
from ._streams import LogStream, TelemetryStream, iter_lines
from ._transport import TimeoutType, Transport
from .config import ClusterConfig
from .errors import (
    APIConnectionError,
    AuthenticationError,
    JobSaveError,
    JobSubmissionUncertain,
    ResponseValidationError,
    ServerError,
    ValidationError,
)
from .models import Container, JobDescription, JobStatus, RemoteImage

_UNSET_TIMEOUT: Any = object()


def check_timeout(timeout: object, field: str = "timeout") -> TimeoutType:
    """A timeout is seconds (> 0) or a (connect, read) pair; read may be None (wait forever)."""

    def positive(value: object, allow_none: bool) -> bool:
        if value is None:
            return allow_none
        return isinstance(value, int | float) and not isinstance(value, bool) and value > 0

    if isinstance(timeout, tuple) and len(timeout) == 2:
        if positive(timeout[0], False) and positive(timeout[1], True):
            if timeout[1] is None:
                return (float(timeout[0]), None)
            return (float(timeout[0]), float(timeout[1]))
    elif positive(timeout, False):
        return float(timeout)  # type: ignore[arg-type]
    raise ValidationError(
        field, "must be seconds > 0 or a (connect, read) pair; only read may be None"
    )


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
            # The server swallows a rejected token on /config (wire-2019 §1.4).
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

    def _context(self) -> _mapping.ReplyContext:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = _mapping.ReplyContext(self.cluster.registry_host, self.username)
        return ctx

    def _monitoring(self) -> AuthenticatedClient:
        return self._t.monitoring(str(self.cluster.monitoring_url))

    @staticmethod
    def _options(timeout: Any) -> dict[str, Any] | None:
        if timeout is _UNSET_TIMEOUT or timeout is None:
            return None
        return {"timeout": check_timeout(timeout)}

    # ------------------------------------------------------------------ jobs

    def run(
        self,
        container: Container,
        *,
        name: str | None,
        description: str | None,
        is_preemptible: bool,
        schedule_timeout: float | None,
        timeout: Any = _UNSET_TIMEOUT,
    ) -> JobDescription:
        body = _mapping.job_request(
            container,
            name=name,
            description=description,
            is_preemptible=is_preemptible,
            schedule_timeout=schedule_timeout,
        )
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

    def list(
        self,
        *,
        statuses: Iterable[JobStatus | str] | None,
        name: str | None,
        owners: Iterable[str] | None = None,
        timeout: Any = _UNSET_TIMEOUT,
    ) -> list[JobDescription]:
        for field, value in (("statuses", statuses), ("owners", owners)):
            if isinstance(value, str | bytes):
                raise ValidationError(field, "must be a collection (e.g. a set), not a string")
        status_values = (
            None
            if statuses is None
            else [s.value if isinstance(s, JobStatus) else s for s in statuses]
        )
        owner_values = None if owners is None else list(owners)
        filters: dict[str, Any] = {}
        if status_values is not None:
            filters["statuses"] = status_values
        if name:
            filters["name"] = name
        if owner_values is not None:
            filters["owners"] = owner_values
        _validation.validate_list(filters)
        options = self._options(timeout)
        ctx = self._context()
        with _gc_paused(), _mapping.reply_guard("job list"):
            response = list_jobs.sync_detailed(
                client=self._t.api,
                # Sorted, so the same filter always makes the same URL.
                # UNSET, not None: the generated builder iterates any non-UNSET value.
                status=sorted(set(status_values)) if status_values else UNSET,  # type: ignore[arg-type]
                name=name or None,  # type: ignore[arg-type]
                owner=owner_values or None,  # type: ignore[arg-type]
                request_options=options,
            )
            parsed = response.parsed
            if not isinstance(parsed, JobList):
                parsed = JobList.from_dict(_json(response.content))
            return _mapping.jobs_from_wire(parsed, ctx)

    def status(self, job_id: str, *, timeout: Any = _UNSET_TIMEOUT) -> JobDescription:
        job_id = _validation.validate_job_id(job_id)
        options = self._options(timeout)
        ctx = self._context()
        with _mapping.reply_guard("job"):
            response = get_job.sync_detailed(job_id, client=self._t.api, request_options=options)
            parsed = response.parsed
            if not isinstance(parsed, Job):
                return _mapping.job_from_json(_json(response.content), ctx)
        return _mapping.job_from_wire(parsed, ctx)

    def kill(self, job_id: str, *, timeout: Any = _UNSET_TIMEOUT) -> None:
        job_id = _validation.validate_job_id(job_id)
        kill_job.sync_detailed(job_id, client=self._t.api, request_options=self._options(timeout))

    def monitor(self, job_id: str, *, timeout: Any = _UNSET_TIMEOUT) -> LogStream:
        job_id = _validation.validate_job_id(job_id)
        response = get_job_log.stream(
            job_id, client=self._monitoring(), request_options=self._options(timeout)
        )
        return LogStream(response, job_id, self._t.redact)

    def top(self, job_id: str, *, timeout: Any = _UNSET_TIMEOUT) -> TelemetryStream:
        job_id = _validation.validate_job_id(job_id)
        t = (
            self._t.timeout
            if timeout is _UNSET_TIMEOUT or timeout is None
            else check_timeout(timeout)
        )
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
        self, job_id: str, image: RemoteImage, *, timeout: Any = _UNSET_TIMEOUT
    ) -> builtins.list[str]:
        job_id = _validation.validate_job_id(job_id)
        body = _mapping.save_request(image)
        response = save_job.stream(
            job_id, client=self._monitoring(), body=body, request_options=self._options(timeout)
        )
        statuses: builtins.list[str] = []
        with response:
            if response.status_code == 201:  # the pre-2019-08-01 protocol: done, no body
                return statuses
            for line in iter_lines(response, job_id):
                status, error = _mapping.save_progress(line)
                if error is not None:
                    raise JobSaveError(self._t.redact(error))
                if status is not None:
                    statuses.append(status)
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
