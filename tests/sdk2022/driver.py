"""Runs INSIDE the neuro-sdk 22.7.1 venv (standard library and the SDK only): the ops the
tests of tests/sdk2022 call, each one of the SDK's public `Client.jobs` methods. The loop (JSON
lines over a pipe) is tests/support/driver_loop.py; the client is made the way the SDK's users
make it: `Factory(path).login_with_token(token, url=...)` (which reads `GET /config`), then
`await Factory(path).get()`.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import sys
import time
from pathlib import Path
from typing import Any

MIB = 2**20


def _job(job: Any) -> dict[str, Any]:
    history = job.history
    return {
        "id": job.id,
        "name": job.name,
        "owner": job.owner,
        "status": job.status.value,
        "reason": history.reason,
        "exit_code": history.exit_code,
        "restarts": history.restarts,
        "run_time_seconds": history.run_time_seconds,
        "created_at": history.created_at.isoformat() if history.created_at else None,
        "transitions": [[t.status.value, t.reason] for t in history.transitions],
        "tags": list(job.tags),
        "life_span": job.life_span,
        "restart_policy": str(job.restart_policy),
        "pass_config": job.pass_config,
        "privileged": job.privileged,
        "preset_name": job.preset_name,
        "uri": str(job.uri),
        "working_dir": job.container.working_dir,
        "tty": job.container.tty,
        "memory": job.container.resources.memory,
        "scheduler_enabled": job.scheduler_enabled,
    }


def _time(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None


async def op_run(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    from neuro_sdk import Container, JobRestartPolicy, Resources

    container = Container(
        image=client.parse.remote_image(a.get("image", "ubuntu")),
        resources=Resources(memory=a.get("memory_mb", 64) * MIB, cpu=a.get("cpu", 0.1)),
        command=a["command"],
        working_dir=a.get("working_dir"),
        tty=a.get("tty", False),
        env=a.get("env", {}),
    )
    job = await client.jobs.run(
        container,
        name=a.get("name"),
        tags=a.get("tags", ()),
        life_span=a.get("life_span"),
        restart_policy=JobRestartPolicy(a.get("restart_policy", "never")),
        pass_config=a.get("pass_config", False),
        wait_for_jobs_quota=a.get("wait_for_jobs_quota", False),
    )
    return _job(job)


async def op_start(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    job = await client.jobs.start(
        image=client.parse.remote_image(a.get("image", "ubuntu")),
        preset_name=a["preset_name"],
        command=a["command"],
        privileged=a.get("privileged", False),
    )
    return _job(job)


async def op_status(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    return _job(await client.jobs.status(a["id"]))


async def op_list(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    from neuro_sdk import JobStatus

    jobs = []
    async with client.jobs.list(
        statuses={JobStatus(s) for s in a.get("statuses", ())},
        name=a.get("name", ""),
        tags=a.get("tags", ()),
        since=_time(a.get("since")),
        until=_time(a.get("until")),
        reverse=a.get("reverse", False),
        limit=a.get("limit"),
    ) as it:
        async for job in it:
            jobs.append(_job(job))
    return {"jobs": jobs}


async def op_kill(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    await client.jobs.kill(a["id"])
    return {}


async def op_bump(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    await client.jobs.bump_life_span(a["id"], a["seconds"])
    return {}


async def op_wait(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """Poll the job until its status is one of `statuses` (or `timeout` passes)."""
    deadline = time.monotonic() + a.get("timeout", 30)
    while True:
        job = _job(await client.jobs.status(a["id"]))
        done = job["status"] in a["statuses"]
        if done and job["restarts"] >= a.get("restarts", 0):
            return job
        if time.monotonic() > deadline:
            return {"error": "Timeout", "message": f"still {job['status']}", "job": job}
        await asyncio.sleep(0.05)


async def op_top(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """The first telemetry sample of a running job."""
    async with client.jobs.top(a["id"]) as it:
        async for sample in it:
            return {"cpu": sample.cpu, "memory_bytes": sample.memory_bytes}
    return {"error": "NoSample", "message": "the stream ended without a sample"}


async def op_logs(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    chunks = []
    async with client.jobs.monitor(
        a["id"], since=_time(a.get("since")), timestamps=a.get("timestamps", False)
    ) as it:
        async for chunk in it:
            chunks.append(chunk)
    return {"text": b"".join(chunks).decode()}


async def op_exec(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    from neuro_sdk import StdStreamError

    out = {1: b"", 2: b""}
    code = None
    stdin = a.get("stdin")
    async with client.jobs.exec(
        a["id"],
        a["cmd"],
        tty=a.get("tty", False),
        stdin=stdin is not None,
        stdout=True,
        stderr=True,
    ) as stream:
        if stdin is not None:
            await stream.write_in(stdin.encode())
            await stream.write_in(b"")  # the end of stdin
        try:
            while (message := await stream.read_out()) is not None:
                out[message.fileno] += message.data
        except StdStreamError as err:
            code = err.exit_code
    return {"stdout": out[1].decode(), "stderr": out[2].decode(), "exit_code": code}


async def op_attach(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """Attach to the job's output, then run `then` in it (over exec), and read the output
    until the job's exit code arrives."""
    from neuro_sdk import StdStreamError

    out = b""
    code = None
    async with client.jobs.attach(a["id"], stdout=True, stderr=True) as stream:
        await op_exec(client, {"id": a["id"], "cmd": a["then"]})
        try:
            while (message := await stream.read_out()) is not None:
                out += message.data
        except StdStreamError as err:
            code = err.exit_code
    return {"output": out.decode(), "exit_code": code}


async def op_attach_tty(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """Attach to the job's terminal (tty, stdin), size it, type `lines` one by one (each
    after `await` shows up), then read to the job's exit code."""
    from neuro_sdk import StdStreamError

    out = b""
    code = None
    async with client.jobs.attach(
        a["id"], tty=True, stdin=True, stdout=True, stderr=True
    ) as stream:
        await stream.resize(h=a["rows"], w=a["columns"])
        try:
            for line, wanted in a["lines"]:
                await stream.write_in(line.encode())
                while wanted.encode() not in out:
                    message = await stream.read_out()
                    if message is None:
                        break
                    out += message.data
            while (message := await stream.read_out()) is not None:
                out += message.data
        except StdStreamError as err:
            code = err.exit_code
    return {"output": out.decode(errors="replace"), "exit_code": code}


async def op_port_forward(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """Forward a free local port to the job's port, send `payload`, read until EOF; retried
    until the job's server answers (it may still be starting)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
    deadline = time.monotonic() + a.get("timeout", 30)
    async with client.jobs.port_forward(a["id"], local, a["port"]):
        while True:
            reader, writer = await asyncio.open_connection("127.0.0.1", local)
            writer.write(a["payload"].encode())
            await writer.drain()
            reply = await reader.read()
            writer.close()
            if reply or time.monotonic() > deadline:
                return {"reply": reply.decode(errors="replace"), "local_port": local}
            await asyncio.sleep(0.1)


async def op_parse(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """Each payload of the file `path` parsed by the SDK's own job parser (the one its
    `status`/`list`/`run` use; no public entry takes a dict)."""
    import json

    from neuro_sdk._jobs import _job_description_from_api

    from tests.support.job_fields import job_fields

    payloads = json.loads(Path(a["path"]).read_text())
    jobs = [_job_description_from_api(p, client.parse) for p in payloads]
    return {"jobs": [job_fields(j, j.container.resources.memory) for j in jobs]}


async def op_body(client: Any, a: dict[str, Any]) -> dict[str, Any]:
    """The JSON body `Jobs.run` sends for the arguments of `op_run` (plus `volumes`, `http`):
    observed on the SDK's one request method, then sent."""
    from neuro_sdk import HTTPPort, Volume
    from yarl import URL

    core = client._core
    original = core.request
    sent: list[Any] = []

    def recording(method: str, url: Any, **kwargs: Any) -> Any:
        if method == "POST" and url.path.endswith("/jobs"):
            sent.append(kwargs.get("json"))
        return original(method, url, **kwargs)

    core.request = recording
    try:
        from neuro_sdk import Container, JobRestartPolicy, Resources

        container = Container(
            image=client.parse.remote_image(a.get("image", "ubuntu")),
            resources=Resources(memory=a.get("memory_mb", 64) * MIB, cpu=a.get("cpu", 0.1)),
            command=a["command"],
            working_dir=a.get("working_dir"),
            tty=a.get("tty", False),
            env=a.get("env", {}),
            http=HTTPPort(**a["http"]) if a.get("http") else None,
            volumes=[
                Volume(URL(v["storage_path"]), v["container_path"], v["read_only"])
                for v in a.get("volumes", ())
            ],
        )
        try:
            await client.jobs.run(
                container,
                tags=a.get("tags", ()),
                life_span=a.get("life_span"),
                restart_policy=JobRestartPolicy(a.get("restart_policy", "never")),
                pass_config=a.get("pass_config", False),
            )
        except Exception as err:  # noqa: BLE001 - the body is what is compared, not the reply
            print(f"run: {err!r}", file=sys.stderr)
    finally:
        del core.request  # the instance attribute goes; the class's method is back
    return {"body": sent[0]}


async def connect(url: str, token: str, workdir: Path) -> Any:
    from neuro_sdk import Factory
    from yarl import URL

    path = workdir / "config"
    await Factory(path).login_with_token(token, url=URL(url))
    return await Factory(path).get()


if __name__ == "__main__":
    # Run as a script in the SDK's venv: the repository root makes `tests.support` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.driver_loop import ops_of, run

    sys.exit(run(connect, ops_of(globals())))
