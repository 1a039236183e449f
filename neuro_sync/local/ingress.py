"""A job's HTTP port served on loopback: its `http_url` (`container.http`).

Each job gets an address of its own, `http://127.a.b.c:<P>`: a loopback address drawn at
random for the job (all of 127.0.0.0/8 is loopback on Linux) and never given to another
job of this platform, on the platform's ingress port P. Distinct host names, not distinct
ports, because cookies are scoped by host and not by port (RFC 6265 §8.5): a browser that
opens alice's job and then bob's sends neither one's cookies to the other. A loopback address
rather than a `<job>.localhost` name because such names do not resolve on every machine,
while `requests.get(job.http_url)` always reaches an address.

The address is listened on only while the job runs (connections are refused before and
after): a thousand pending jobs hold no descriptor. Port P is held, bound but not listening,
on 127.0.0.1 by the platform, so that no job can bind the wildcard address on it and take
the jobs' addresses in advance; a job's address is drawn at random (24 bits), so it cannot
be guessed either; should it be taken all the same when the job starts, the job gets a new
address (its `http_url` changes) and a warning is logged.

A request reaches the job's port through `Runtime.connect` (which checks, with the process
runtime, that the job itself listens there; inside the job's network namespace with podman),
spoken with h11 over that socket. `requires_auth`: the request needs the platform token of a
user who may see the job (401 without a valid one, 403 for another user), and that token is
not passed on to the job. Bodies are streamed both ways; header sizes are capped; the
connections of all the jobs' addresses share one `connections.Gate` (per job owner too); nothing
logs a header.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import secrets
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass

import h11
from aiohttp import web
from yarl import URL

from . import auth
from .connections import Gate, Limits, serve
from .runtime import Runtime
from .store import JobRecord, Store

log = logging.getLogger("neuro_sync.local")
# The logger the API server uses: its filter keeps parser errors from quoting headers.
_http_log = logging.getLogger("neuro_sync.local.http")

GUARD_HOST = "127.0.0.1"
URL_KEY = "http_url"  # JobRecord.extra: the job's served address, kept across a restart
CONNECT_TIMEOUT = 10.0  # seconds to connect to the job's port
MAX_LINE = 8190  # bytes of a request line and of one header field from the client
MAX_REPLY_HEAD = 64 * 1024  # bytes of the job's status line and headers
CHUNK = 64 * 1024
WATCH_INTERVAL = 0.05  # seconds between checks for jobs that start or end
SHUTDOWN_GRACE = 0.5  # seconds requests in flight get when the job ends
DRAW_ATTEMPTS = 64
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


def draw_address(taken: Collection[str]) -> str:
    """A random loopback address, not 127.0.x.x (where the platform's own listeners are), not
    a network or broadcast-looking .0/.255, and not in `taken`."""
    for _ in range(DRAW_ATTEMPTS):
        value = secrets.randbelow(1 << 24)
        a, b, c = value >> 16, (value >> 8) & 0xFF, value & 0xFF
        if a == 0 or c in (0, 255):
            continue
        address = f"127.{a}.{b}.{c}"
        if address not in taken:
            return address
    raise RuntimeError("no free loopback address for a job")  # pragma: no cover


def _bind(host: str, port: int, *, listen: bool) -> socket.socket:
    """No SO_REUSEADDR: the bind fails if anything else holds the address or the port's
    wildcard, which is what tells a squatted address (and what the guard relies on)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(socket.SOMAXCONN)
            sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass
class _Upstream:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    conn: h11.Connection

    async def event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self.conn.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            self.conn.receive_data(await self.reader.read(CHUNK))

    async def send(self, event: h11.Event) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()


class _Proxy:
    """The listener of one running job."""

    def __init__(self, ingress: Ingress, job: JobRecord, listener: socket.socket) -> None:
        self.ingress = ingress
        self.job_id = job.id
        self.owner = job.owner
        self.job_port = int(job.container["http"]["port"])
        self.requires_auth = bool(job.container["http"].get("requires_auth"))
        server = web.Server(
            self.handle,
            logger=_http_log,
            access_log=None,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            keepalive_timeout=ingress.gate.limits.idle_timeout,
        )
        self.runner = web.ServerRunner(server, shutdown_timeout=SHUTDOWN_GRACE)
        self.listener = listener
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.runner.setup()
        server = self.runner.server
        assert server is not None  # set up
        self.task = asyncio.get_running_loop().create_task(
            serve(self.listener, self.ingress.gate, server, group=self.owner)
        )

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self.listener.close()
        await self.runner.cleanup()

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
        with self.ingress.gate.busy(request.transport):
            job = self.ingress.store.get(self.job_id)
            if job is None or job.finished:
                raise web.HTTPBadGateway(text="502: the job has ended")
            self._check_access(request, job)
            if job.status != "running":
                raise web.HTTPBadGateway(text="502: the job is not running")
            return await self._forward(request, job)

    def _no_answer(self, err: object) -> web.HTTPBadGateway:
        log.debug("job %s: no answer on port %s: %s", self.job_id, self.job_port, err)
        return web.HTTPBadGateway(text=f"502: nothing answers on port {self.job_port} of the job")

    async def _forward(self, request: web.BaseRequest, job: JobRecord) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        try:
            sock = await loop.run_in_executor(
                None, self.ingress.runtime.connect, job, self.job_port, CONNECT_TIMEOUT
            )
            reader, writer = await asyncio.open_connection(sock=sock)
        except OSError as err:
            raise self._no_answer(err) from None
        upstream = _Upstream(reader, writer, h11.Connection(h11.CLIENT, MAX_REPLY_HEAD))
        sending: asyncio.Task[None] | None = None
        try:
            await upstream.send(self._request_head(request))
            # The body goes up while the reply comes down: a job may answer before reading it.
            sending = loop.create_task(self._send_body(request, upstream))
            reply = await upstream.event()
            while isinstance(reply, h11.InformationalResponse):  # 100 Continue: ours to send
                reply = await upstream.event()
            if not isinstance(reply, h11.Response):
                raise h11.RemoteProtocolError("no reply")
        except (h11.ProtocolError, OSError) as err:
            writer.close()
            if sending is not None:
                sending.cancel()
            raise self._no_answer(err) from None
        try:
            return await self._reply(request, reply, upstream)
        finally:
            sending.cancel()
            writer.close()

    def _request_head(self, request: web.BaseRequest) -> h11.Request:
        headers = [
            (name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
            and not (self.requires_auth and name.lower() == "authorization")
        ]
        if "Host" not in request.headers:
            headers.append((b"Host", f"127.0.0.1:{self.job_port}".encode()))
        if request.body_exists and "Content-Length" not in request.headers:
            headers.append((b"Transfer-Encoding", b"chunked"))
        headers.append((b"Connection", b"close"))  # one upstream connection per request
        return h11.Request(
            method=request.method,
            target=request.raw_path.encode("utf-8", "surrogateescape"),
            headers=headers,
        )

    async def _send_body(self, request: web.BaseRequest, upstream: _Upstream) -> None:
        with contextlib.suppress(h11.ProtocolError, OSError):
            if request.body_exists:
                async for chunk in request.content.iter_chunked(CHUNK):
                    await upstream.send(h11.Data(data=chunk))
            await upstream.send(h11.EndOfMessage())

    async def _reply(
        self, request: web.BaseRequest, reply: h11.Response, upstream: _Upstream
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=reply.status_code, reason=reply.reason.decode())
        for name, value in reply.headers:
            text = name.decode("latin-1")
            if text.lower() not in HOP_BY_HOP:
                response.headers.add(text, value.decode("latin-1"))
        await response.prepare(request)
        try:
            while isinstance(event := await upstream.event(), h11.Data):
                await response.write(bytes(event.data))
            if not isinstance(event, h11.EndOfMessage):
                raise h11.RemoteProtocolError("the reply ended early")
        except (h11.ProtocolError, OSError):
            # Mid-body, a status can no longer be sent: cut the client's connection so
            # that it sees a truncated reply, not a complete one.
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response


class Ingress:
    """The addresses of the jobs with `container.http`; see the module docstring."""

    def __init__(
        self,
        *,
        secret: bytes,
        store: Store,
        runtime: Runtime,
        running: Callable[[], Collection[str]],
        limits: Limits,
        port: int = 0,
    ) -> None:
        self.secret = secret
        self.store = store
        self.runtime = runtime
        self._running = running
        self.gate = Gate("http proxy", limits)
        self.port = port  # the ingress port P; 0 until `start`
        self._guard: socket.socket | None = None
        self._taken: set[str] = set()  # every address ever given to a job here
        self._proxies: dict[str, _Proxy] = {}
        self._failed: set[str] = set()  # jobs whose address could not be listened on (logged)
        self._lock = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None

    def assign(self, job: JobRecord) -> None:
        """Give a new job (before it is stored) its address, in `job.extra`."""
        address = draw_address(self._taken)
        self._taken.add(address)
        job.extra[URL_KEY] = f"http://{address}:{self.port}"

    async def start(self, jobs: list[JobRecord]) -> None:
        """At server start: hold the ingress port, and watch for jobs that start or end."""
        preferred = self.port
        for job in jobs:
            if URL_KEY in job.extra:
                url = URL(job.extra[URL_KEY])
                if url.host is not None:
                    self._taken.add(url.host)
                if not job.finished and url.host == GUARD_HOST:
                    del job.extra[URL_KEY]  # an address of an older version: shared, redrawn
                elif not job.finished and not preferred:
                    preferred = url.port or 0
        try:
            self._guard = _bind(GUARD_HOST, preferred, listen=False)
        except OSError:
            self._guard = _bind(GUARD_HOST, 0, listen=False)
        self.port = int(self._guard.getsockname()[1])
        for job in jobs:
            if not job.finished and "http" in job.container and URL_KEY not in job.extra:
                self.assign(job)
                self.store.save(job)
        self.gate.start()
        self._watch = asyncio.get_running_loop().create_task(self._watch_jobs())

    async def _watch_jobs(self) -> None:
        while True:
            await self.sync(close=True)
            await asyncio.sleep(WATCH_INTERVAL)

    async def sync(self, close: bool = False) -> None:
        """Listen for the jobs that run, and with `close` stop for the ones that ended (which
        may wait for requests in flight). Also called before a job's status is answered, so
        that a client that sees it running can connect."""
        running = self._running()
        if not running and not self._proxies:
            return
        for job_id in list(self._proxies) if close else ():
            job = self.store.get(job_id)
            if job_id not in running or job is None or job.finished:
                await self._close(job_id)
        async with self._lock:  # one opening of an address at a time
            for job_id in list(running):
                job = self.store.get(job_id)
                if (
                    job_id not in self._proxies
                    and job_id not in self._failed
                    and job is not None
                    and job.status == "running"
                    and "http" in job.container
                ):
                    try:
                        await self._open(job)
                    except Exception as err:  # noqa: BLE001 - the other jobs are still served
                        log.warning("job %s: cannot serve its http_url: %s", job_id, err)
                        self._failed.add(job_id)

    async def _open(self, job: JobRecord) -> None:
        if URL_KEY not in job.extra:
            self.assign(job)
        url = URL(job.extra[URL_KEY])
        try:
            listener = _bind(url.host or "", url.port or 0, listen=True)
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise
            # Taken by something else (a job that guessed it?): never serve the job there.
            self.assign(job)
            log.warning(
                "job %s: its address %s was taken by another program; now %s",
                job.id,
                url,
                job.extra[URL_KEY],
            )
            self.store.save(job)
            url = URL(job.extra[URL_KEY])
            listener = _bind(url.host or "", url.port or 0, listen=True)
        proxy = _Proxy(self, job, listener)
        try:
            await proxy.start()
        except BaseException:
            await proxy.close()
            raise
        self._proxies[job.id] = proxy

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
        await self.gate.stop()
        if self._guard is not None:
            self._guard.close()
            self._guard = None
