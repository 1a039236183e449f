"""The wire operations of the jobs API: one method per endpoint.

`Jobs` (the public surface, which owns every signature and docstring) validates and maps the
user's arguments with `_mapping`, then calls one of these with wire-level values: a request
body, a job id, a list query. Each describes its request with the generated `build_request`
(method, path, query, body), sends it with the transport, and maps the reply back with
`_mapping`: the path of a request is `Jobs` -> `Operations` -> `Transport` -> requests.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from neuro_sync_api.types import UNSET
from yarl import URL

from . import _mapping
from ._joblist import NDJSON, JobStream, jobs_from_body
from ._lines import LineSplitter
from ._streams import JobSocket, LogStream, TelemetryStream, open_websocket
from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout, check_timeout
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

if TYPE_CHECKING:
    import ssl

    from neuro_sync_api.models import JobRequest, SaveRequest

    from ._transport import Stream, Transport

# The longest save progress line read (a real one is under 1 KiB); a longer one is an error.
MAX_PROGRESS_LINE = 64 * 1024


class Operations:
    """The jobs calls of one client. Thread-safe: the cluster config is fetched once, locked."""

    def __init__(
        self,
        transport: Transport,
        username: str,
        cluster: ClusterConfig | None = None,
        *,
        dialect: str = "2019",
    ) -> None:
        self._t = transport
        self.dialect = dialect
        self.username = username
        self._cluster = cluster
        self._lock = threading.Lock()
        self._ctx: _mapping.ReplyContext | None = None

    # ------------------------------------------------------------------ config

    def fetch_config(self) -> ClusterConfig:
        """GET /config with the token; the cluster part must be there."""
        # The generated endpoints import the generated models, which are slow to import:
        # each method imports its endpoint, so that they load on the first call.
        from neuro_sync_api.api.platform import get_config

        reply = self._t.send(get_config.build_request())
        config = _mapping.parse_server_config(reply.content if reply.status == 200 else None)
        cluster = _mapping.cluster_config(config)
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

    def _timeout(self, timeout: Timeout | ClientDefault) -> Timeout | None:
        """A per-call timeout for the transport; None: the client's."""
        return None if timeout is CLIENT_DEFAULT else check_timeout(timeout)

    def _context(self) -> _mapping.ReplyContext:
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = _mapping.ReplyContext(self.cluster.registry_host, self.username)
        return ctx

    def _monitoring(self) -> str:
        return str(self.cluster.monitoring_url)

    # ------------------------------------------------------------------ jobs

    def submit(
        self, body: JobRequest, *, name: str | None, timeout: Timeout | ClientDefault
    ) -> JobDescription:
        from neuro_sync_api.api.platform import create_job

        ctx = self._context()
        hint = (
            f"check with jobs.list(name={name!r})" if name else "check with jobs.list()"
        ) + " before submitting again"
        try:
            reply = self._t.send(
                create_job.build_request(body=body), timeout=self._timeout(timeout)
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
        try:
            # Any 2xx (the documented one is 202) carries the job object.
            return _mapping.job_from_reply(reply.content, ctx)
        except ResponseValidationError as err:
            raise ResponseValidationError(
                f"{err} (the server answered, so the job was probably created; {hint})"
            ) from err

    def query(
        self, query: _mapping.ListQuery, *, timeout: Timeout | ClientDefault
    ) -> list[JobDescription]:
        ctx = self._context()
        reply = self._t.send(_list_request(query), timeout=self._timeout(timeout))
        return jobs_from_body(reply.content, ctx)

    def stream_query(
        self, query: _mapping.ListQuery, *, timeout: Timeout | ClientDefault
    ) -> JobStream:
        """GET /jobs asking for NDJSON; the reply is parsed as it arrives (`JobStream`)."""
        ctx = self._context()
        kwargs = _list_request(query)
        # NDJSON first (servers since 2020); a 2019 server ignores it and sends the array.
        kwargs["headers"] = {"Accept": f"{NDJSON}, application/json;q=0.5"}
        stream = self._t.open(kwargs, timeout=self._timeout(timeout))
        return JobStream(stream, ctx)

    def get(
        self, job_id: str, *, timeout: Timeout | ClientDefault, deadline: float | None = None
    ) -> JobDescription:
        """One job; `deadline` (a `time.monotonic()` instant) bounds all attempts together."""
        from neuro_sync_api.api.platform import get_job

        ctx = self._context()
        reply = self._t.send(
            get_job.build_request(job_id), timeout=self._timeout(timeout), deadline=deadline
        )
        return _mapping.job_from_reply(reply.content, ctx)

    def kill(self, job_id: str, *, timeout: Timeout | ClientDefault) -> None:
        from neuro_sync_api.api.platform import kill_job

        self._t.send(kill_job.build_request(job_id), timeout=self._timeout(timeout))

    def bump_life_span(
        self, job_id: str, body: dict[str, Any], *, timeout: Timeout | ClientDefault
    ) -> None:
        """PUT /jobs/{id}/max_run_time_minutes (2022); the answer is 204."""
        from neuro_sync_api.api.platform import bump_life_span
        from neuro_sync_api.models import LifeSpanRequest

        request = bump_life_span.build_request(job_id, body=LifeSpanRequest.from_dict(body))
        self._t.send(request, timeout=self._timeout(timeout))

    def log(
        self,
        job_id: str,
        *,
        timeout: Timeout | ClientDefault,
        query: Mapping[str, str] | None = None,
    ) -> LogStream:
        """GET {id}/log; `query` is the 2022 log query of `_mapping.log_query`."""
        from neuro_sync_api.api.monitoring import get_job_log

        query = query or {}
        stream = self._t.open(
            get_job_log.build_request(
                job_id,
                since=query.get("since", UNSET),
                timestamps="true" if "timestamps" in query else UNSET,
            ),
            base=self._monitoring(),
            timeout=self._timeout(timeout),
        )
        return LogStream(stream, job_id)

    def top(self, job_id: str, *, timeout: Timeout | ClientDefault) -> TelemetryStream:
        from neuro_sync_api.api.monitoring import get_job_top

        path = get_job_top.build_request(job_id)["url"]
        url, headers, connect, read, tls, proxy = self._ws_target(path, timeout)
        return TelemetryStream(
            url,
            job_id=job_id,
            headers=headers,
            connect_timeout=connect,
            read_timeout=read,
            redact=self._t.redact,
            tls=tls,
            proxy=proxy,
        )

    def _ws_target(
        self, path: str, timeout: Timeout | ClientDefault
    ) -> tuple[
        str, list[tuple[str, str]], float | None, float | None, ssl.SSLContext | None, str | None
    ]:
        """The ws(s) URL of a monitoring path, its headers, timeouts, TLS context (the CA
        settings of the HTTP transport: `verify`) and proxy (the HTTP transport's for it)."""
        t = self._t.timeout if timeout is CLIENT_DEFAULT else check_timeout(timeout)
        connect, read = t if isinstance(t, tuple) else (t, t)
        url = URL(self._t.url_for(path, self._monitoring()))
        ws_url = url.with_scheme("wss" if url.scheme == "https" else "ws")
        headers = [("Authorization", f"Bearer {self._t.token}")] if self._t.token else []
        import ssl  # slow to import: with the first WebSocket (requests loads it for HTTP)

        tls: ssl.SSLContext | None = None
        verify = self._t.verify
        if verify is False:
            tls = ssl.create_default_context()
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
        elif isinstance(verify, str):
            tls = ssl.create_default_context(
                capath=verify if os.path.isdir(verify) else None,
                cafile=None if os.path.isdir(verify) else verify,
            )
        return str(ws_url), headers, connect, read, tls, self._t.proxy_for(str(url))

    def channel(self, kind: str, job_id: str, query: dict[str, str], *, port: int = 0) -> JobSocket:
        """Open the `exec`, `attach` or `port_forward` WebSocket of a job (2022 dialect).

        Connecting is bounded by the client's connect timeout; reading then has no deadline
        (a command may be silent for hours).
        """
        from neuro_sync_api.api.monitoring import attach_to_job, exec_in_job, port_forward_job

        if kind == "exec":
            path = exec_in_job.build_request(job_id)["url"]
        elif kind == "attach":
            path = attach_to_job.build_request(job_id)["url"]
        else:
            path = port_forward_job.build_request(job_id, port)["url"]
        url, headers, connect, _, tls, proxy = self._ws_target(path, CLIENT_DEFAULT)
        if query:
            url = str(URL(url).with_query(query))
        return open_websocket(
            url,
            what=kind.replace("_", " "),
            job_id=job_id,
            headers=headers,
            connect_timeout=connect,
            redact=self._t.redact,
            tls=tls,
            # As neuro-sdk 22.7.1 asks (docs/protocol.md §8.5): a server that does not echo an
            # asked-for subprotocol fails the handshake.
            subprotocols=["v2.channels.neu.ro"] if kind == "attach" else None,
            proxy=proxy,
        )

    def save(
        self,
        job_id: str,
        body: SaveRequest,
        *,
        timeout: Timeout | ClientDefault,
        on_status: Callable[[str], None] | None = None,
    ) -> list[str]:
        from neuro_sync_api.api.monitoring import save_job

        t = self._t.timeout if timeout is CLIENT_DEFAULT else check_timeout(timeout)
        stream = self._t.open(
            save_job.build_request(job_id, body=body), base=self._monitoring(), timeout=t
        )
        statuses: list[str] = []
        with stream:
            if stream.status == 201:  # the pre-2019-08-01 protocol: done, no body
                return statuses
            read = t[1] if isinstance(t, tuple) else t
            for line in _progress_lines(stream, job_id, read):
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


def _progress_lines(stream: Stream, job_id: str, read: float | None) -> Iterator[bytes]:
    """The non-empty lines of the save stream (ndjson), split in linear time.

    Each line must be complete within the read timeout `read` of the end of the one before (a
    server that trickles one endless line sends no progress) and within `MAX_PROGRESS_LINE`
    bytes.
    """
    lines = LineSplitter(b"\n", MAX_PROGRESS_LINE)
    chunks = stream.chunks(
        timeout_text=f"No complete save progress line for job {job_id} within {read:g} s"
        if read is not None
        else f"No save progress for job {job_id} within the read timeout",
        cut_text=f"The save stream of job {job_id} was cut",
    )
    if read is not None:
        stream.arm(read)  # the first line has `read` seconds to arrive whole
    for chunk in chunks:
        for line in lines.feed(chunk):
            if len(line) >= MAX_PROGRESS_LINE:
                raise ResponseValidationError(
                    f"A save progress line of job {job_id} is longer than "
                    f"{MAX_PROGRESS_LINE:,} bytes"
                )
            if line.strip():
                yield line
        if read is not None and not lines.pending:
            stream.arm(read)  # a line ended: the next one has `read` seconds
    stream.disarm()
    last = lines.flush()
    if last is not None and last.strip():
        yield last


def _list_request(query: _mapping.ListQuery) -> dict[str, Any]:
    from neuro_sync_api.api.platform import list_jobs

    return list_jobs.build_request(
        # UNSET, not None: the generated builder iterates any non-UNSET value.
        status=query.statuses or UNSET,  # type: ignore[arg-type]  # checked by list_query
        name=query.name or UNSET,
        owner=query.owners or UNSET,
        # the 2022 dialect's (list_query refuses them under 2019)
        tag=query.tags or UNSET,
        since=query.since or UNSET,
        until=query.until or UNSET,
        reverse=query.reverse or UNSET,  # type: ignore[arg-type]  # "1", checked
        limit=query.limit or UNSET,
    )
