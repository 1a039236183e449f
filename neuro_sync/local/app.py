"""The aiohttp application: platform-api jobs endpoints and monitoring (log, top, save).

Error shapes follow docs/protocol.md §2.7 and §3.4: 400/500 `{"error": ...}`, 401 text, 403 JSON
`{"resources": [...]}` from the jobs endpoints and text from monitoring, and monitoring's
unknown-job 400 carries the platform-api error body as a nested JSON string.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web
from neuro_sync_api import writers
from neuro_sync_api.writers import OMIT, Omit

from . import auth, logs, validation
from .connections import Gate
from .ingress import Ingress
from .runner import Runner
from .runtime import VolumeForbidden, create_runtime, storage_path
from .settings import Settings as Settings  # re-exported: `from .app import Settings` works
from .ssh_gateway import SSHGateway
from .store import CLUSTER, MIB, JobRecord, Store, now_iso

log = logging.getLogger("neuro_sync.local")

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
MAX_BODY = 1024 * 1024
GPU_MODELS = ("nvidia-tesla-k80", "nvidia-tesla-p4", "nvidia-tesla-v100")
PRESETS = [
    {"name": "cpu-micro", "cpu": 0.1, "memory_mb": 128, "is_preemptible": False},
    {"name": "cpu-small", "cpu": 1.0, "memory_mb": 1024, "is_preemptible": False},
    {"name": "cpu-large", "cpu": 2.0, "memory_mb": 4096, "is_preemptible": False},
]


STATE: web.AppKey[State] = web.AppKey("state", object)  # type: ignore[arg-type]


class State:
    def __init__(self, settings: Settings) -> None:
        if settings.dialect not in ("2019", "2022"):
            raise ValueError(f"unknown dialect {settings.dialect!r}: 2019 or 2022")
        self.settings = settings
        self.secret = auth.load_secret(settings.data_dir)
        self.store = Store(settings.data_dir / "jobs.sqlite3")
        self.runtime = create_runtime(settings)
        self.runner = Runner(
            self.store,
            settings.data_dir,
            self.runtime,
            cpus=settings.cpus,
            memory_mb=settings.memory_mb,
            max_pending_per_user=settings.max_pending_per_user,
            max_jobs_per_user=settings.max_jobs_per_user,
            max_log_bytes=settings.max_log_bytes,
        )
        self.api_gate = Gate("api", settings.limits("api"))
        self.ingress = Ingress(
            secret=self.secret,
            store=self.store,
            runtime=self.runtime,
            running=lambda: self.runner.running,
            limits=settings.limits("proxy"),
            port=settings.ingress_port,
        )
        self.gateway = SSHGateway(
            secret=self.secret,
            store=self.store,
            runner=self.runner,
            data_dir=settings.data_dir,
            host=settings.ssh_host,
            port=settings.ssh_port,
            limits=settings.limits("ssh"),
        )
        if settings.dialect == "2022":
            from . import dialect2022

            dialect2022.setup(self)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data), status=status, content_type=JSON_TYPE, charset="utf-8"
    )


def _error(message: str, status: int = 400) -> web.Response:
    return _json({"error": message}, status)


def _unauthorized(request: web.Request) -> web.Response:
    text = "401: Unauthorized"
    if auth.signed_elsewhere(_state(request).secret, request.headers.get("Authorization")):
        text += (
            ": the token was issued by a platform with another data dir (signed with another"
            " secret); use the client.nmrc in the --data-dir this platform runs with"
        )
    return web.Response(text=text, status=401, content_type="text/plain")


def _forbidden_text() -> web.Response:
    return web.Response(text="403: Forbidden", status=403, content_type="text/plain")


def _forbidden_json(uri: str, action: str) -> web.Response:
    return _json({"resources": [{"uri": uri, "action": action}]}, 403)


def _nested_no_such_job(job_id: str) -> web.Response:
    return _error(json.dumps({"error": f"no such job {job_id}"}))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def busy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """While a request is handled, its connection neither times out nor is evicted."""
    with request.app[STATE].api_gate.busy(request.transport):
        return await handler(request)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unexpected exceptions become 500 `{"error": ...}` as on the real server."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except ConnectionResetError:
        # The client went away mid-stream (a log, top or save it stopped reading): normal.
        log.debug("client disconnected: %s", request.path)
        return web.Response(status=204)
    except validation.InvalidRequest as err:
        return _error(str(err))
    except Exception as err:  # noqa: BLE001 - the server must answer, not crash
        log.exception("unexpected error")
        return _error(
            f"Unexpected exception: {err}. Path with query: {request.path_qs}.", status=500
        )


def _state(request: web.Request) -> State:
    return request.app[STATE]


def _user(request: web.Request) -> str | None:
    return auth.user_from_header(_state(request).secret, request.headers.get("Authorization"))


async def _body(request: web.Request) -> Any:
    try:
        # A body sent too slowly would hold its (busy) connection: bounded like a head.
        async with asyncio.timeout(_state(request).settings.header_timeout):
            raw = await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="408: the request body came too slowly") from None
    try:
        return json.loads(raw)
    except ValueError as err:
        raise validation.InvalidRequest(str(err)) from None
    except RecursionError:  # absurdly deep nesting is malformed input, not a server error
        raise validation.InvalidRequest("JSON nested too deeply") from None


# ---------------------------------------------------------------------------- platform-api


async def ping(request: web.Request) -> web.Response:
    return web.Response(status=200)


def oauth_part(base: str) -> dict[str, Any]:
    origin = base.split("/api/", 1)[0]
    return {
        "auth_url": f"{origin}/oauth/authorize",
        "token_url": f"{origin}/oauth/token",
        "client_id": "neuro-sync-local",
        "audience": origin,
        "callback_urls": [f"http://127.0.0.1:{p}" for p in (54540, 54541, 54542)],
        "headless_callback_url": f"{origin}/oauth/show-code",
    }


def cluster_part(settings: Settings) -> dict[str, Any]:
    base = settings.base_url
    return {
        "registry_url": settings.registry_url,
        "storage_url": f"{base}/storage",
        "users_url": f"{base}/users",
        "monitoring_url": f"{base}/jobs",
        "resource_presets": PRESETS,
    }


def config_body(settings: Settings, user: str | None) -> dict[str, Any]:
    """`GET /config` in the platform's dialect: the OAuth part, and for a signed-in user the
    cluster part. The values of both dialects are given; the writer generated from the spec
    keeps the keys the dialect sends (2019: the cluster's keys at the top level; 2022: a
    `clusters` list with presets in bytes, `logout_url`, `authorized`)."""
    base = settings.base_url
    origin = base.split("/api/", 1)[0]
    dialect = settings.dialect
    clusters: list[dict[str, Any]] | Omit = OMIT
    if user is not None:
        presets = [
            writers.write_resource_preset_2022(
                dialect,
                name=str(p["name"]),
                cpu=float(str(p["cpu"])),
                memory=int(str(p["memory_mb"])) * MIB,
                credits_per_hour="0",
                scheduler_enabled=bool(p.get("is_preemptible", False)),
                preemptible_node=False,
            )
            for p in PRESETS
        ]
        clusters = [
            writers.write_cluster_config(
                dialect,
                name=CLUSTER,
                registry_url=settings.registry_url,
                storage_url=f"{base}/storage",
                users_url=f"{base}/users",
                monitoring_url=f"{base}/jobs",
                secrets_url=f"{base}/secrets",
                disks_url=f"{base}/disks",
                buckets_url=f"{base}/buckets",
                resource_presets=presets,
            )
        ]
    return writers.write_server_config(
        dialect,
        **oauth_part(base),
        **({} if user is None else cluster_part(settings)),
        logout_url=f"{origin}/oauth/logout",
        authorized=user is not None,
        clusters=clusters,
    )


async def get_config(request: web.Request) -> web.Response:
    state = _state(request)
    user = _user(request)
    body = config_body(state.settings, user)
    if user is not None:
        # Not in the schema (clients ignore it): what runs jobs here, how isolated; under
        # 2022 also the dialect (a 2019 platform's answer stays exactly as it was).
        body["local_platform"] = state.runtime.describe()
        if state.settings.dialect != "2019":
            body["local_platform"]["dialect"] = state.settings.dialect
    return _json(body)


async def create_job(request: web.Request) -> web.Response:
    user = _user(request)
    if user is None:
        return _unauthorized(request)
    state = _state(request)
    raw = await _body(request)
    if state.settings.dialect == "2022" and "from_preset" in request.query:
        from . import dialect2022

        raw = dialect2022.from_preset(raw)
    data = validation.job_request(raw, gpu_models=GPU_MODELS, dialect=state.settings.dialect)
    extra: dict[str, Any] = {}
    if state.settings.dialect == "2022":
        from . import dialect2022

        fields = dialect2022.job_fields(data, user, state.settings)
        if isinstance(fields, web.Response):
            return fields
        extra = fields
    name = data.get("name")
    if name:
        for other in reversed(state.store.owned(user)):
            if other.owner == user and other.name == name:
                if not other.finished:
                    return _error(
                        f"Failed to create job: job with name '{name}' and owner '{user}' "
                        f"already exists: '{other.id}'"
                    )
                break
    job = JobRecord(
        id=f"job-{uuid.uuid4()}",
        owner=user,
        container=data["container"],
        created_at=now_iso(),
        is_preemptible=data["is_preemptible"] or data.get("scheduler_enabled", False),
        name=name,
        description=data.get("description"),
        schedule_timeout=data.get("schedule_timeout"),
        extra=extra,
    )
    saved = validation.platform_image(job.container["image"], state.settings.registry_host)
    if saved is not None and saved[0] != user:
        # A saved image is its owner's: the registry would refuse anyone else the pull.
        return _forbidden_json(saved[1], "read")
    problem = state.runtime.check(job)
    if problem is not None:
        return _error(problem)
    for volume in job.container["volumes"]:
        try:
            storage_path(state.settings.data_dir, user, volume)
        except VolumeForbidden as err:
            return _forbidden_json(err.uri, err.action)
        except ValueError as err:
            return _error(str(err))
    refusal = state.runner.admit(user)
    if refusal is not None:
        return _error(refusal)  # a quota: 400, as the real platform (docs/protocol.md §2.7)
    if "http" in job.container:
        state.ingress.assign(job)
    state.store.add(job)
    if state.runner.lifecycle is not None:
        state.runner.lifecycle.watch(job)
    state.runner.wake()
    return _json(job.to_wire(state.settings), 202)


def _visible(state: State, user: str, filters: dict[str, Any]) -> list[JobRecord]:
    out = []
    for job in state.store.owned(user):
        if job.owner != user:
            continue
        if filters["statuses"] and job.status not in filters["statuses"]:
            continue
        if "name" in filters and job.name != filters["name"]:
            continue
        if filters["owners"] and job.owner not in filters["owners"]:
            continue
        if "hostname" in filters:
            label = filters["hostname"].split(".", 1)[0]
            if label not in (job.id, f"{job.name}--{job.owner}"):
                continue
        out.append(job)
    return out


async def list_jobs(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    if user is None:
        return _unauthorized(request)
    state = _state(request)
    filters = validation.list_filters(request.query, dialect=state.settings.dialect)
    await state.ingress.sync()  # a job seen running can be reached at its http_url
    visible = _visible(state, user, filters)
    if state.settings.dialect == "2022":
        from . import dialect2022

        visible = dialect2022.filter_jobs(visible, filters)
    ndjson = NDJSON_TYPE in request.headers.get("Accept", "")
    return await _stream_jobs(request, visible, state.settings, ndjson=ndjson)


async def _stream_jobs(
    request: web.Request, jobs: list[JobRecord], settings: Settings, *, ndjson: bool
) -> web.StreamResponse:
    """A list reply, serialized one job at a time and streamed in chunks of about 64 KiB, so
    a list of many big jobs never exists whole in memory. `ndjson`: the platform's format
    since 2020, one job per line; else the 2019 `{"jobs": [...]}`."""
    kind = NDJSON_TYPE if ndjson else JSON_TYPE
    response = web.StreamResponse(headers={"Content-Type": f"{kind}; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = bytearray() if ndjson else bytearray(b'{"jobs": [')
    try:
        for i, job in enumerate(jobs):
            if not ndjson and i:
                chunk += b", "
            chunk += json.dumps(job.to_wire(settings)).encode()
            if ndjson:
                chunk += b"\n"
            if len(chunk) >= 64 * 1024:
                await response.write(bytes(chunk))
                chunk.clear()
    except Exception as err:
        if not (ndjson and settings.dialect == "2022"):
            raise
        # The 2022 server's in-band failure: one last object, without a newline, then EOF.
        log.exception("listing jobs failed")
        message = f"Unexpected exception: {err}. Path with query: {request.path_qs}."
        await response.write(bytes(chunk) + json.dumps({"error": message}).encode())
        await response.write_eof()
        return response
    if not ndjson:
        chunk += b"]}"
    await response.write(bytes(chunk))
    await response.write_eof()
    return response


def _lookup(request: web.Request, action: str) -> JobRecord | web.Response:
    user = _user(request)
    if user is None:
        return _unauthorized(request)
    job_id = request.match_info["job_id"]
    state = _state(request)
    job = state.store.get(job_id)
    if job is None and state.settings.dialect == "2022":
        from . import dialect2022

        job = dialect2022.by_name(state.store, user, job_id)
    if job is None:
        return _error(f"no such job {job_id}")
    if job.owner != user:
        return _forbidden_json(f"job://{job.owner}/{job.id}", action)
    return job


async def get_job(request: web.Request) -> web.Response:
    found = _lookup(request, "read")
    if isinstance(found, web.Response):
        return found
    await _state(request).ingress.sync()  # a job seen running can be reached at its http_url
    return _json(found.to_wire(_state(request).settings))


async def kill_job(request: web.Request) -> web.Response:
    found = _lookup(request, "write")
    if isinstance(found, web.Response):
        return found
    if _state(request).settings.dialect == "2022":
        _state(request).runner.kill(found, "cancelled", "UserRequested")
    else:
        _state(request).runner.kill(found)
    return web.Response(status=204)


# ---------------------------------------------------------------------------- monitoring


def _monitoring_lookup(request: web.Request) -> JobRecord | web.Response:
    found = _lookup(request, "read")
    if isinstance(found, web.Response):
        if found.status == 400:
            return _nested_no_such_job(request.match_info["job_id"])
        if found.status == 403:
            return _forbidden_text()
    return found


async def job_log(request: web.Request) -> web.StreamResponse:
    found = _monitoring_lookup(request)
    if isinstance(found, web.Response):
        return found
    state = _state(request)
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    reader = logs.Reader(state.runner.log_path(found.id), state.runner.max_log_bytes)
    while True:
        job = state.store.get(found.id)
        done = job is None or (job.finished and found.id not in state.runner.running)
        data = reader.read()  # with a marker line where the log cap dropped a part
        if data:
            for i in range(0, len(data), 1024):
                await response.write(data[i : i + 1024])
            continue
        if done:
            break
        await asyncio.sleep(0.05)
    await response.write_eof()
    return response


async def job_top(request: web.Request) -> web.StreamResponse:
    found = _monitoring_lookup(request)
    if isinstance(found, web.Response):
        return found
    state = _state(request)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    reader = asyncio.get_running_loop().create_task(ws.receive())
    try:
        while True:
            job = state.store.get(found.id)
            if job is None or job.finished:
                break
            if job.status == "running":
                sample = state.runner.telemetry(found.id)
                if sample is not None:
                    if state.settings.dialect == "2022":  # neuro-sdk 22.7 requires bytes
                        sample = {**sample, "memory_bytes": int(sample["memory"] * 2**20)}
                    await ws.send_json(sample)
            done, _ = await asyncio.wait({reader}, timeout=1.0)
            if done:
                msg = reader.result()
                if msg.type in (
                    WSMsgType.CLOSE,
                    WSMsgType.CLOSING,
                    WSMsgType.CLOSED,
                    WSMsgType.ERROR,
                ):
                    break
                reader = asyncio.get_running_loop().create_task(ws.receive())
    finally:
        reader.cancel()
        await ws.close()
    return ws


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\r\n"


async def save_job(request: web.Request) -> web.StreamResponse:
    found = _lookup(request, "write")
    if isinstance(found, web.Response):
        if found.status == 400:
            return _nested_no_such_job(request.match_info["job_id"])
        if found.status == 403:
            return _forbidden_text()
        return found
    state = _state(request)
    image = validation.save_request(await _body(request), state.settings.registry_host)
    if image.split("/")[1] != found.owner:
        # Pushing needs write on the image's namespace: only the job owner's own here.
        return _forbidden_text()
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    job = state.store.get(found.id)
    if job is None or job.status != "running":
        message = f"Job '{found.id}' is not running."
        await response.write(_line({"error": message, "errorDetail": {"message": message}}))
        await response.write_eof()
        return response
    repo, _, tag = image.rpartition(":")
    if "/" in tag or not repo:
        repo, tag = image, "latest"
    container_id = hashlib.sha256(f"{job.id}{now_iso()}".encode()).hexdigest()
    await response.write(
        _line(
            {
                "status": "CommitStarted",
                "details": {"container": container_id, "image": f"{repo}:{tag}"},
            }
        )
    )
    _, owner_and_name = repo.split("/", 1)
    target = state.settings.data_dir / "images" / owner_and_name / f"{tag}.tar.gz"
    try:
        digest, size = await asyncio.get_running_loop().run_in_executor(
            None, state.runtime.save, job, target, image
        )
    except OSError as err:
        message = f"Failed to save job '{job.id}': {err}"
        await response.write(_line({"error": message, "errorDetail": {"message": message}}))
        await response.write_eof()
        return response
    await response.write(_line({"status": "CommitFinished"}))
    await response.write(_line({"status": f"The push refers to repository [{repo}]"}))
    await response.write(
        _line(
            {
                "status": f"{tag}: digest: sha256:{digest} size: {size}",
                "progressDetail": {},
                "aux": {"Tag": tag, "Digest": f"sha256:{digest}", "Size": size},
            }
        )
    )
    await response.write_eof()
    return response


# ---------------------------------------------------------------------------- app


def make_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[busy_middleware, errors_middleware], client_max_size=MAX_BODY
    )
    state = State(settings)
    app[STATE] = state
    api = "/api/v1"
    app.router.add_get(f"{api}/ping", ping)
    app.router.add_get(f"{api}/config", get_config)
    app.router.add_post(f"{api}/jobs", create_job)
    app.router.add_get(f"{api}/jobs", list_jobs)
    app.router.add_get(f"{api}/jobs/{{job_id}}", get_job)
    app.router.add_delete(f"{api}/jobs/{{job_id}}", kill_job)
    log_handler: Handler = job_log
    if settings.dialect == "2022":
        from . import dialect2022

        log_handler = dialect2022.job_log
        dialect2022.add_routes(app, api)
    app.router.add_get(f"{api}/jobs/{{job_id}}/log", log_handler)
    app.router.add_get(f"{api}/jobs/{{job_id}}/top", job_top)
    app.router.add_post(f"{api}/jobs/{{job_id}}/save", save_job)

    async def on_startup(app: web.Application) -> None:
        state.runner.recover()
        state.api_gate.start()
        await state.ingress.start(state.store.ordered())
        state.runner.start_loop()
        # Before any job reply: `ssh_server` names the port the gateway really got.
        settings.ssh_port = await state.gateway.start()

    async def on_cleanup(app: web.Application) -> None:
        await state.gateway.stop()
        await state.ingress.stop()
        await state.api_gate.stop()
        await state.runner.stop()
        state.store.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
