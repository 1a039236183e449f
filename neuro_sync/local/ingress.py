"""A job's HTTP port served on 127.0.0.1: its `http_url` (`container.http`).

One small reverse proxy per job, on its own free port: `http://127.0.0.1:<port>`. Chosen over
one shared listener routing by Host header (`<id>.jobs.localhost`), because such names do not
resolve on every machine while a loopback port always works with a plain `requests.get`.

The proxy listens from the job's creation (so the address is known in the 202 reply; 502
until the job runs and its server accepts) until the job ends, is killed, or the platform
stops. It reaches the job's port through `Runtime.connect` (inside the job's network namespace
under podman). `requires_auth`: the request needs the platform token of a user who may see the
job (401 without a valid one, 403 for another user), and that token is not passed on to the
job. Bodies are streamed both ways; header sizes are capped; nothing logs a header.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from functools import partial

import aiohttp
from aiohttp import web
from aiohttp.client_proto import ResponseHandler
from yarl import URL

from . import auth
from .runtime import Runtime
from .store import JobRecord, Store

log = logging.getLogger("neuro_sync.local")
# The logger the API server uses: its filter keeps parser errors from quoting headers.
_http_log = logging.getLogger("neuro_sync.local.http")

HOST = "127.0.0.1"
URL_KEY = "http_url"  # JobRecord.extra: the job's served address, kept across a restart
CONNECT_TIMEOUT = 10.0  # seconds to connect to the job's port
MAX_LINE = 8190  # bytes of a request or status line, and of one header field
CHUNK = 64 * 1024
WATCH_INTERVAL = 0.05  # seconds between checks for ended jobs
SHUTDOWN_GRACE = 0.5  # seconds requests in flight get when the job ends
# Per connection, not end to end (RFC 9110 §7.6.1); Host is passed on as the client sent it.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class _JobConnector(aiohttp.BaseConnector):
    """Client connections made by a callable (the runtime's connect), not from an address.

    Overrides aiohttp's connector hook as its own Unix-socket connector does.
    """

    def __init__(self, connect: Callable[[], socket.socket]) -> None:
        super().__init__(force_close=True)  # a fresh connection per request: no stale pool
        self._connect = connect

    async def _create_connection(
        self,
        req: aiohttp.ClientRequest,
        traces: list[aiohttp.tracing.Trace],
        timeout: aiohttp.ClientTimeout,
    ) -> ResponseHandler:
        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(None, self._connect)
        try:
            _, proto = await loop.create_connection(self._factory, sock=sock)
        except BaseException:
            sock.close()
            raise
        return proto


class _Proxy:
    """The listener of one job."""

    def __init__(self, ingress: Ingress, job: JobRecord) -> None:
        self.ingress = ingress
        self.job_id = job.id
        self.job_port = int(job.container["http"]["port"])
        self.requires_auth = bool(job.container["http"].get("requires_auth"))
        connect = partial(ingress.runtime.connect, job, self.job_port, CONNECT_TIMEOUT)
        self.session = aiohttp.ClientSession(
            connector=_JobConnector(connect),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),
            auto_decompress=False,  # bytes pass through as the job sent them
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
        )
        server = web.Server(
            self.handle,
            logger=_http_log,
            access_log=None,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
        )
        self.runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE)

    async def start(self, port: int) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, HOST, port).start()
        return int(self.runner.addresses[0][1])

    async def close(self) -> None:
        await self.runner.cleanup()
        await self.session.close()

    def _check_access(self, request: web.BaseRequest, job: JobRecord) -> None:
        if not self.requires_auth:
            return
        header = request.headers.get("Authorization")
        user = auth.user_from_header(self.ingress.secret, header)
        if user is None:
            raise web.HTTPUnauthorized()
        if user != job.owner:  # no sharing here: only the owner may see a job
            raise web.HTTPForbidden()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        job = self.ingress.store.get(self.job_id)
        if job is None or job.finished:
            raise web.HTTPBadGateway(text="502: the job has ended")
        self._check_access(request, job)
        if job.status != "running":
            raise web.HTTPBadGateway(text="502: the job is not running yet")
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
            and not (self.requires_auth and name.lower() == "authorization")
        ]
        try:
            upstream = await self.session.request(
                request.method,
                URL(f"http://{HOST}:{self.job_port}{request.raw_path}", encoded=True),
                headers=headers,
                data=request.content if request.body_exists else None,
                allow_redirects=False,
                skip_auto_headers=("Accept-Encoding", "Content-Type", "User-Agent"),
            )
        except (aiohttp.ClientError, OSError) as err:
            log.debug("job %s: no answer on port %s: %s", self.job_id, self.job_port, err)
            raise web.HTTPBadGateway(
                text=f"502: nothing answers on port {self.job_port} of the job"
            ) from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_chunked(CHUNK):
                    await response.write(chunk)
            except (aiohttp.ClientError, OSError):
                # Mid-body, a status can no longer be sent: cut the client's connection so
                # that it sees a truncated reply, not a complete one.
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write_eof()
        return response


class Ingress:
    """The listeners of the jobs with `container.http`; see the module docstring."""

    def __init__(self, *, secret: bytes, store: Store, runtime: Runtime) -> None:
        self.secret = secret
        self.store = store
        self.runtime = runtime
        self._proxies: dict[str, _Proxy] = {}
        self._watch: asyncio.Task[None] | None = None

    async def open(self, job: JobRecord) -> None:
        """Listen for a new job (before it is stored): sets its address in `job.extra`."""
        await self._listen(job, 0)

    async def _listen(self, job: JobRecord, port: int) -> None:
        proxy = _Proxy(self, job)
        try:
            port = await proxy.start(port)
        except BaseException:
            await proxy.close()
            raise
        self._proxies[job.id] = proxy
        job.extra[URL_KEY] = f"http://{HOST}:{port}"

    async def start(self, jobs: list[JobRecord]) -> None:
        """At server start (after the runner's recovery): listen again for the jobs still to
        run, on their former port if it is free (else a new one), and watch for jobs that end."""
        for job in jobs:
            if job.finished or "http" not in job.container:
                continue
            former = URL(job.extra[URL_KEY]).port or 0 if URL_KEY in job.extra else 0
            try:
                await self._listen(job, former)
            except OSError:
                await self._listen(job, 0)
            self.store.save(job)
        self._watch = asyncio.get_running_loop().create_task(self._watch_jobs())

    async def _watch_jobs(self) -> None:
        while True:
            for job_id in list(self._proxies):
                job = self.store.get(job_id)
                if job is None or job.finished:
                    await self._close(job_id)
            await asyncio.sleep(WATCH_INTERVAL)

    async def _close(self, job_id: str) -> None:
        proxy = self._proxies.pop(job_id, None)
        if proxy is not None:
            with contextlib.suppress(Exception):
                await proxy.close()

    async def stop(self) -> None:
        """Close every listener (at server stop)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for job_id in list(self._proxies):
            await self._close(job_id)
