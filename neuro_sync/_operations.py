"""The wire operations of the jobs API: one method per endpoint, generated code inside.

`Jobs` (the public surface, which owns every signature and docstring) validates and maps the
user's arguments with `_mapping`, then calls one of these with wire-level values: a request
body, a job id, a list query. They send it through the transport and map the reply back.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from typing import Any

import requests
from neuro_sync_api.api.monitoring import get_job_log, get_job_top, save_job
from neuro_sync_api.api.platform import create_job, get_config, get_job, kill_job, list_jobs
from neuro_sync_api.client import AuthenticatedClient
from neuro_sync_api.models import JobRequest, SaveRequest, ServerConfig
from neuro_sync_api.types import UNSET
from yarl import URL

from . import _mapping
from ._joblist import NDJSON, JobStream, jobs_from_body
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
        ctx = self._context()
        hint = (
            f"check with jobs.list(name={name!r})" if name else "check with jobs.list()"
        ) + " before submitting again"
        try:
            response = self._send(create_job.build_request(body=body), timeout)
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
        try:
            # Any 2xx (the documented one is 202) carries the job object.
            return _mapping.job_from_json(_json(response.content, "job"), ctx)
        except ResponseValidationError as err:
            raise ResponseValidationError(
                f"{err} (the server answered, so the job was probably created; {hint})"
            ) from err

    def query(
        self, query: _mapping.ListQuery, *, timeout: Timeout | ClientDefault
    ) -> list[JobDescription]:
        ctx = self._context()
        response = self._send(_list_request(query), timeout)
        return jobs_from_body(response.content, ctx)

    def stream_query(
        self, query: _mapping.ListQuery, *, timeout: Timeout | ClientDefault
    ) -> JobStream:
        """GET /jobs asking for NDJSON; the reply is parsed as it arrives (`JobStream`)."""
        ctx = self._context()
        kwargs = _list_request(query)
        # NDJSON first (servers since 2020); a 2019 server ignores it and sends the array.
        kwargs["headers"] = {"Accept": f"{NDJSON}, application/json;q=0.5"}
        response = self._send(kwargs, timeout, stream=True)
        return JobStream(response, ctx, self._t.redact)

    def get(self, job_id: str, *, timeout: Timeout | ClientDefault) -> JobDescription:
        ctx = self._context()
        response = self._send(get_job.build_request(job_id), timeout)
        return _mapping.job_from_json(_json(response.content, "job"), ctx)

    def _send(
        self, kwargs: dict[str, Any], timeout: Timeout | ClientDefault, *, stream: bool = False
    ) -> requests.Response:
        """Send a request built by the generated code; the reply is mapped by the caller.

        Job replies skip the generated models: `_mapping` reads the JSON directly, which
        halves the cost of a big list (see `_mapping`).
        """
        options = self._options(timeout) or {}
        if stream:
            options["stream"] = True
        return self._t.api.request(**kwargs, **options)

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


def _json(content: bytes, what: str) -> Any:
    with _mapping.reply_guard(what):
        return json.loads(content)


def _list_request(query: _mapping.ListQuery) -> dict[str, Any]:
    return list_jobs.build_request(
        # UNSET, not None: the generated builder iterates any non-UNSET value.
        status=query.statuses or UNSET,  # type: ignore[arg-type]  # checked by list_query
        name=query.name or UNSET,
        owner=query.owners or UNSET,
    )
