"""The local platform: a wire-compatible 2019 jobs server that runs jobs as local processes.

It imports nothing from the client facade: it is an independent implementation of the wire
protocol (docs/protocol.md), so that the client and the server check each other.

    with LocalPlatform("/tmp/data") as platform:
        print(platform.url, platform.token, platform.config_path)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from aiohttp import web

from . import auth, connections
from .app import PRESETS, STATE, Settings, cluster_part, make_app, oauth_part
from .files import open_private, private_dir
from .ssh_gateway import load_host_key

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_USER",
    "KNOWN_HOSTS_FILE",
    "LocalPlatform",
    "write_client_config",
    "write_known_hosts",
]

DEFAULT_USER = "user"
# The one default data dir (the command's, and the docs'): `~` is expanded where it is used.
DEFAULT_DATA_DIR = "~/.neuro-sync-local"

# Silent unless the embedding program configures logging (the CLI does).
logging.getLogger("neuro_sync.local").addHandler(logging.NullHandler())
log = logging.getLogger("neuro_sync.local")
_http_log = logging.getLogger("neuro_sync.local.http")


class _NoRequestEcho(logging.Filter):
    """aiohttp logs a malformed request with its parser error, which quotes the offending
    header (an Authorization header among them): keep only the error's class name."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


_http_log.addFilter(_NoRequestEcho())


KNOWN_HOSTS_FILE = "known_hosts"


def write_known_hosts(settings: Settings) -> Path:
    """`<data-dir>/known_hosts`: the SSH gateway's host key, in OpenSSH's known_hosts format,
    for the address jobs name in `ssh_server`; `client.nmrc` names it, so the client checks
    the key without a prompt (and without turning the check off)."""
    public = load_host_key(settings.data_dir).export_public_key().decode().split()
    host, port = settings.ssh_host, settings.ssh_port
    address = host if port == 22 else f"[{host}]:{port}"
    path = settings.data_dir / KNOWN_HOSTS_FILE
    tmp = path.with_name(KNOWN_HOSTS_FILE + ".tmp")
    with open_private(tmp, "wb") as f:
        f.write(f"{address} {public[0]} {public[1]}\n".encode())
    os.replace(tmp, path)
    return path


def write_client_config(settings: Settings, token: str) -> Path:
    """`<data-dir>/client.nmrc`: the 2019 `.nmrc` format, so `NEUROMATION_CONFIG` finds us.

    Beside the 2019 keys, `ssh_known_hosts` names the file with the SSH gateway's host key."""
    cluster = cluster_part(settings)
    presets: dict[str, Any] = {}
    for p in PRESETS:
        presets[str(p["name"])] = {k: v for k, v in p.items() if k != "name"}
    cluster["resource_presets"] = presets
    data = {
        "url": settings.base_url,
        "auth_config": oauth_part(settings.base_url),
        "cluster_config": cluster,
        "auth_token": {
            "token": token,
            "expiration_time": int(time.time()) + 3 * 365 * 24 * 3600,
            "refresh_token": "",
        },
        "pypi": {},
        "cookie_session": {},
        "version": "neuro-sync-local",
        "ssh_known_hosts": str(write_known_hosts(settings)),
    }
    path = settings.data_dir / "client.nmrc"
    tmp = path.with_name("client.nmrc.tmp")
    with open_private(tmp, "wb") as f:
        f.write(yaml.safe_dump(data, default_flow_style=False, sort_keys=False).encode())
    os.replace(tmp, path)
    return path


class LocalPlatform:
    """Runs the server on its own event loop in a background thread (for tests and the demo).

    Attributes (after start): `url` (API base), `token` and `user` (the default user),
    `config_path` (the client config file), `runtime` (what runs the jobs).

    Other keyword arguments are `app.Settings` fields: `cpus`, `memory_mb`, and the connection
    limits `max_connections`, `max_proxy_connections`, `max_ssh_connections`,
    `max_connections_per_client`, `header_timeout`, `idle_timeout` (docs/local-platform.md).
    Starting raises the process's soft open-files limit to the hard one.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = DEFAULT_USER,
        runtime: str = "process",
        **settings: Any,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self.user = user
        # `runtime`: "process" (job commands run on this machine), "podman" (each job is a
        # container), "auto" (podman if a trial container runs, else processes) or "slurm"
        # (containers on a Slurm cluster: `slurm_conf`, `slurm_partition`, `slurm_account`).
        # `image_store=PATH` (podman): a host podman storage whose images jobs may run.
        self.settings = Settings(data_dir=self.data_dir, runtime=runtime, **settings)
        self.runtime = runtime  # after start: the runtime that was chosen
        self.runtime_info: dict[str, Any] = {}  # after start: its `/config` description
        self.url = ""
        self.token = ""
        self.config_path = self.data_dir / "client.nmrc"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> LocalPlatform:
        private_dir(self.data_dir)
        # Every connection and job costs descriptors; the default limits follow this one.
        before, after = connections.raise_open_files_limit()
        if after > before:
            log.info("open files limit raised from %d to %d (the hard limit)", before, after)
        else:
            log.info("open files limit: %d", after)
        self._thread = threading.Thread(target=self._run, name="neuro-sync-local", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"the local platform failed to start: {self._error}")
        if not self._ready.is_set():
            raise RuntimeError("the local platform did not start within 30 s")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        # This loop is ours: what asyncio would print goes to our (silent by default) logger.
        loop.set_exception_handler(
            lambda _, context: logging.getLogger("neuro_sync.local").debug(
                "event loop: %s", context.get("message")
            )
        )
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as err:  # noqa: BLE001 - reported to start()
            self._error = err
            self._ready.set()
            return
        # Ready only once run_forever runs: a stop() scheduled earlier would be consumed by
        # run_until_complete, and run_forever would then never stop.
        loop.call_soon(self._ready.set)
        loop.run_forever()
        loop.run_until_complete(self._shutdown())
        # Handlers still streaming to clients at stop: end them here, or asyncio reports
        # them ("Task was destroyed but it is pending") on stderr.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _serve(self) -> None:
        app = make_app(self.settings)
        self.runtime = app[STATE].runtime.name
        self.runtime_info = app[STATE].runtime.describe()
        # aiohttp waits `shutdown_timeout` for open handlers before on_cleanup ends the jobs;
        # a log or top stream follows a running job until it ends, so the default 60 s
        # would hold stop() (and leave the jobs running) for a minute.
        state = app[STATE]
        self._runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=1.0,
            logger=_http_log,
            keepalive_timeout=self.settings.idle_timeout,
        )
        await self._runner.setup()
        server = self._runner.server
        assert server is not None  # set up
        listener = connections.loopback_listener(self.host, self.port)
        port = int(listener.getsockname()[1])
        self._accepting = asyncio.get_running_loop().create_task(
            connections.serve(listener, state.api_gate, server)
        )
        described = (
            ("api", state.api_gate.limits),
            ("http proxies", state.ingress.gate.limits),
            ("ssh gateway", state.gateway.limits),
        )
        for kind, limits in described:
            log.info(
                "%s: at most %d connections, %d per client address; timeouts: %g s for a "
                "request's head, %g s idle",
                kind,
                limits.max_connections,
                limits.per_address,
                limits.header_timeout,
                limits.idle_timeout,
            )
        self.port = port
        self.settings.base_url = f"http://{self.host}:{port}/api/v1"
        self.url = self.settings.base_url
        self.token = auth.issue_token(app[STATE].secret, self.user)
        self.config_path = write_client_config(self.settings, self.token)

    async def _shutdown(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._runner is not None:
            await self._runner.cleanup()

    def issue_token(self, user: str) -> str:
        """A token for another user of this platform."""
        return auth.issue_token(auth.load_secret(self.data_dir), user)

    def stop(self) -> None:
        """Stop the server, end job processes and free the port."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        self._loop = self._thread = None

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (
            f"<LocalPlatform url={self.url!r} data_dir={str(self.data_dir)!r}"
            f" runtime={self.runtime!r}>"
        )
