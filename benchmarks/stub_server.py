"""A fast stub of the 2019 platform jobs API, for benchmarks only.

It serves canned, pre-serialised replies in the August 2019 wire format
(docs/protocol.md §1.4, §2.3, §2.4, §2.6, §3.1):

* `GET /api/v1/config`          the login/cluster config (OAuth part only without a token)
* `GET /api/v1/jobs`            `{"jobs": [...]}` with N varied job objects (query ignored)
* `GET /api/v1/jobs/{id}`       one job object; unknown id: 400 `{"error": "no such job …"}`
* `GET /api/v1/jobs/{id}/log`   a chunked `text/plain` log of a fixed size, framed in
                                `--log-chunk`-byte chunks like the 2019 monitoring service
* `GET /api/v1/ping`, and `GET /__stats` (connections and requests served, for the runner)

Every reply except the stats is built once at start-up, headers included, so a request costs
a header parse, a dict lookup and `transport.write`. The log is written from one pre-framed
block with write flow control. It is a raw asyncio protocol with HTTP/1.1 keep-alive, meant to
run in its own process (`StubServerProcess`) so that it never shares a GIL with the client
being measured. Every request except `/config`, `/ping` and `/__stats` needs an
`Authorization: Bearer …` header (401 otherwise); the token itself is not checked.

Run it by hand: `python -m benchmarks.stub_server --port 8080` prints one JSON line with its
URL, then serves until interrupted (or, with `--exit-on-stdin-eof`, until stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any

API = "/api/v1"
DEFAULT_USER = "bench-user"
DEFAULT_SEED = 2019
REGISTRY_URL = "http://registry.localhost"
JOBS_DOMAIN = "jobs.localhost"
SSH_SERVER = "ssh://nobody@ssh-auth.localhost:22"
SERVER_HEADER = "Python/3.7 aiohttp/3.5.4"
MIB = 1024 * 1024
NDJSON_TYPE = "application/x-ndjson"
STREAM_CHUNK = 64 * 1024  # HTTP chunk size of streamed job lists

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
}

# ----------------------------------------------------------------------------- payloads


def job_ids(count: int, seed: int = DEFAULT_SEED) -> list[str]:
    """The ids of the `count` canned jobs, in list order (deterministic for a seed)."""
    rng = random.Random(seed)
    return [f"job-{uuid.UUID(int=rng.getrandbits(128), version=4)}" for _ in range(count)]


def _iso(moment: datetime) -> str:
    return moment.isoformat()  # `+00:00`; no fraction when microsecond == 0, as in 2019


_IMAGES = (
    "ubuntu:latest",
    "ubuntu",
    "python:3.7-slim",
    "neuromation/base:v1.2",
    "gcr.io/my-project/trainer:2019-08",
    "localhost:5000/tools/ubuntu:18.04",
    "pytorch/pytorch:1.1.0-cuda10.0-cudnn7.5-runtime",
    "tensorflow/tensorflow:1.14.0-gpu-py3",
    "registry.localhost/{owner}/experiment:v{n}",
    "registry.localhost/alice/shared-model:latest",
)
_COMMANDS = (
    "python train.py --epochs 10 --lr 0.001",
    "sleep 3600",
    "jupyter notebook --no-browser --ip=0.0.0.0 --port 8888 --NotebookApp.token=",
    "bash -c 'echo hello && sleep 10'",
    "tensorboard --logdir /var/storage/results --port 6006",
)
_ENV = (
    ("PYTHONUNBUFFERED", "1"),
    ("EPOCHS", "10"),
    ("DATA_DIR", "/var/storage/data"),
    ("WANDB_MODE", "dryrun"),
    ("EMPTY", ""),
)
_FAILURES = (
    ("Error", 1, 'Traceback (most recent call last):\n  File "train.py", line 42\nFailed!\n'),
    ("OOMKilled", 137, "Killed\n"),
    ("Collected", None, "Image can not be pulled"),
    ("ClusterScaleUpFailed", None, "Failed to scale up the cluster to get more resources"),
    ("NotFound", None, "The job could not be scheduled or was preempted."),
)
_PENDING = (
    (None, None),
    ("Scheduling", None),
    ("ContainerCreating", None),
    ("ClusterScalingUp", "Scaling up the cluster to get more resources"),
)


def make_job(rng: random.Random, index: int, job_id: str, user: str) -> dict[str, Any]:
    """One varied job object shaped like a 2019 platform-api reply (docs/protocol.md §2.6)."""
    roll = rng.random()
    owner = user if roll < 0.85 else ("alice" if roll < 0.95 else "bob-2")
    created = datetime(2019, 8, 1, tzinfo=UTC) + timedelta(
        seconds=index * 37 + rng.randint(0, 30),
        microseconds=0 if rng.random() < 0.1 else rng.randint(1, 999_999),
    )
    started = created + timedelta(seconds=rng.randint(1, 300), microseconds=rng.randint(1, 9999))
    finished = started + timedelta(seconds=rng.randint(5, 36_000), microseconds=rng.randint(1, 99))
    status = rng.choices(("succeeded", "failed", "running", "pending"), (45, 20, 20, 15))[0]
    history: dict[str, Any] = {"status": status, "reason": None, "description": None}
    history["created_at"] = _iso(created)
    if status == "pending":
        history["reason"], history["description"] = rng.choice(_PENDING)
    elif status == "running":
        history["started_at"] = _iso(started)
    elif status == "succeeded":
        history["started_at"] = _iso(started)
        history["finished_at"] = _iso(finished)
        if rng.random() < 0.9:  # else killed: no exit code
            history["exit_code"] = 0
    else:
        reason, exit_code, text = rng.choice(_FAILURES)
        history["reason"], history["description"] = reason, text
        if exit_code is None:  # never seen running: started_at falls back to the finish time
            history["started_at"] = history["finished_at"] = _iso(finished)
        else:
            history["started_at"] = _iso(started)
            history["finished_at"] = _iso(finished)
            history["exit_code"] = exit_code

    resources: dict[str, Any] = {
        "cpu": rng.choice((0.1, 0.5, 1.0, 2.0, 4.0, 7.0)),
        "memory_mb": rng.choice((16, 256, 1024, 2048, 4096, 14336, 30720)),
    }
    gpu_roll = rng.random()
    if gpu_roll < 0.15:
        resources["gpu"] = rng.choice((1, 1, 2))
        resources["gpu_model"] = rng.choice(("nvidia-tesla-k80", "nvidia-tesla-v100"))
    elif gpu_roll < 0.2:
        resources["gpu"] = 0
    if rng.random() < 0.8:
        resources["shm"] = rng.random() < 0.7
    container: dict[str, Any] = {
        "image": rng.choice(_IMAGES).format(owner=owner, n=index % 17),
        "env": dict(rng.sample(_ENV, rng.randint(1, 4))) if rng.random() < 0.4 else {},
        "volumes": [],
        "resources": resources,
    }
    if rng.random() < 0.1:
        container["entrypoint"] = "/bin/bash"
    if rng.random() < 0.85:
        container["command"] = rng.choice(_COMMANDS)
    if rng.random() < 0.4:
        container["volumes"].append(
            {
                "src_storage_uri": f"storage://{owner}/data",
                "dst_path": "/var/storage/data",
                "read_only": True,
            }
        )
        if rng.random() < 0.5:
            container["volumes"].append(
                {
                    "src_storage_uri": f"storage://{owner}/results/{index}",
                    "dst_path": "/var/storage/results",
                    "read_only": False,
                }
            )
    has_http = rng.random() < 0.25
    if has_http:
        container["http"] = {
            "port": rng.choice((80, 6006, 8888)),
            "health_check_path": rng.choice(("/", "/api")),
            "requires_auth": rng.random() < 0.5,
        }
    if rng.random() < 0.05:
        container["ssh"] = {"port": 22}

    job: dict[str, Any] = {
        "id": job_id,
        "owner": owner,
        "cluster_name": "default",
        "status": status,
        "history": history,
        "container": container,
        "ssh_server": SSH_SERVER,
        "ssh_auth_server": SSH_SERVER,
        "is_preemptible": rng.random() < 0.2,
    }
    name = (
        f"exp-{index}-{rng.choice(('train', 'eval', 'notebook'))}" if rng.random() < 0.35 else None
    )
    if name:
        job["name"] = name
    if rng.random() < 0.25:
        job["description"] = f"Training run {index} (lr sweep)"
    if has_http:
        job["http_url"] = f"http://{job_id}.{JOBS_DOMAIN}"
        if name:
            job["http_url_named"] = f"http://{name}--{owner}.{JOBS_DOMAIN}"
    job["internal_hostname"] = f"{job_id}.default"
    if rng.random() < 0.1:
        job["schedule_timeout"] = rng.choice((180.0, 600.5))
    return job


SHAPES = ("varied", "full", "minimal")


def make_jobs(
    count: int, user: str = DEFAULT_USER, seed: int = DEFAULT_SEED, shape: str = "varied"
) -> list[dict[str, Any]]:
    """`count` jobs, oldest first, with the ids of `job_ids(count, seed)`.

    `shape`: "varied" (some with env, volumes, http), "full" (every job with env and two
    volumes, http on a quarter, as on a busy real platform) or "minimal" (the required fields
    only).
    """
    rng = random.Random(seed + 1)
    jobs = [make_job(rng, i, job_id, user) for i, job_id in enumerate(job_ids(count, seed))]
    if shape == "full":
        for i, job in enumerate(jobs):
            container, owner = job["container"], job["owner"]
            container["env"] = dict(_ENV[:3])
            container["volumes"] = [
                {
                    "src_storage_uri": f"storage://{owner}/data",
                    "dst_path": "/var/storage/data",
                    "read_only": True,
                },
                {
                    "src_storage_uri": f"storage://{owner}/results/{i}",
                    "dst_path": "/var/storage/results",
                    "read_only": False,
                },
            ]
    elif shape == "minimal":
        required = ("id", "owner", "status", "history", "container", "is_preemptible")
        for i, job in enumerate(jobs):
            container = job["container"]
            jobs[i] = {key: job[key] for key in required}
            jobs[i]["container"] = {
                "image": container["image"],
                "resources": {key: container["resources"][key] for key in ("cpu", "memory_mb")},
            }
    elif shape != "varied":
        raise ValueError(f"unknown job shape {shape!r}")
    return jobs


def make_config(base_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `/config` replies: (with a token, without a token)."""
    oauth: dict[str, Any] = {
        "auth_url": "https://auth.localhost/authorize",
        "token_url": "https://auth.localhost/oauth/token",
        "client_id": "bench-client-id",
        "audience": "https://platform.localhost",
        "callback_urls": [f"http://127.0.0.1:{p}" for p in (54540, 54541, 54542)],
        "headless_callback_url": "https://platform.localhost/oauth/show-code",
    }
    cluster = {
        "registry_url": REGISTRY_URL,
        "storage_url": f"{base_url}/storage",
        "users_url": f"{base_url}/users",
        "monitoring_url": f"{base_url}/jobs",
        "resource_presets": [
            {"name": "cpu-small", "cpu": 1.0, "memory_mb": 1024, "is_preemptible": False},
            {"name": "cpu-large", "cpu": 3.0, "memory_mb": 14336, "is_preemptible": False},
            {
                "name": "gpu-small",
                "cpu": 7.0,
                "memory_mb": 30720,
                "gpu": 1,
                "gpu_model": "nvidia-tesla-k80",
                "is_preemptible": False,
            },
        ],
    }
    return {**oauth, **cluster}, oauth


def make_log_text(size: int, seed: int = DEFAULT_SEED) -> bytes:
    """`size` bytes of plausible training-log text (UTF-8, `\\n`-terminated lines)."""
    rng = random.Random(seed + 2)
    out: list[str] = []
    total = 0
    step = 0
    moment = datetime(2019, 8, 16, 10, 0, tzinfo=UTC)
    while total < size:
        step += 1
        moment += timedelta(milliseconds=rng.randint(50, 900))
        roll = rng.random()
        if roll < 0.9:
            line = (
                f"{moment:%Y-%m-%d %H:%M:%S,%f} INFO  epoch {step // 500:3d} step {step:7d} "
                f"loss={rng.random() * 2:.6f} acc={rng.random():.4f} lr={1e-3 * rng.random():.2e} "
                f"throughput={rng.uniform(100, 900):.1f} samples/s\n"
            )
        elif roll < 0.97:
            line = f"{step:7d}/1000000 [{'=' * (step % 30):<30}] - ETA: {rng.randint(1, 999)}s\n"
        else:
            line = f"{moment:%Y-%m-%d %H:%M:%S} WARNING  größe ✓ GPU memory is {rng.random():.1%}\n"
        out.append(line)
        total += len(line.encode())
    return "".join(out).encode()[:size]


def _frame(data: bytes, chunk: int) -> bytes:
    """`data` in HTTP/1.1 chunked framing, `chunk` bytes per chunk (no terminator)."""
    parts: list[bytes] = []
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    return b"".join(parts)


def _response(status: int, body: bytes, content_type: str, date: str) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Date: {date}\r\n"
        f"Server: {SERVER_HEADER}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _json_response(status: int, payload: Any, date: str) -> bytes:
    return _response(status, json.dumps(payload).encode(), "application/json; charset=utf-8", date)


def _text_response(status: int, date: str) -> bytes:
    body = f"{status}: {_REASONS[status]}".encode()
    return _response(status, body, "text/plain; charset=utf-8", date)


@dataclass
class Payloads:
    """Every reply of the stub, pre-encoded (headers included)."""

    jobs_list: bytes
    jobs_body_size: int
    job_replies: dict[bytes, bytes]  # path -> full reply
    log_paths: frozenset[bytes]
    log_head: bytes
    log_block: bytes
    log_blocks: int
    log_tail: bytes
    log_size: int
    unauthorized: bytes
    not_found: bytes
    not_allowed: bytes
    ping: bytes
    date: str
    config: bytes = b""
    config_anonymous: bytes = b""
    # Streamed job lists (`--list-repeat` > 1 or NDJSON): the jobs, repeated, chunked.
    list_repeat: int = 1
    ndjson: bool = False
    ndjson_head: bytes = b""
    ndjson_block: bytes = b""
    array_head: bytes = b""
    array_first: bytes = b""
    array_block: bytes = b""
    stream_tail: bytes = b""

    def set_base_url(self, base_url: str) -> None:
        with_token, without_token = make_config(base_url)
        self.config = _json_response(200, with_token, self.date)
        self.config_anonymous = _json_response(200, without_token, self.date)


def build_payloads(
    *,
    jobs: int,
    log_bytes: int,
    log_chunk: int,
    user: str = DEFAULT_USER,
    seed: int = DEFAULT_SEED,
    list_repeat: int = 1,
    ndjson: bool = False,
    shape: str = "varied",
) -> Payloads:
    date = formatdate(usegmt=True)
    job_objects = make_jobs(jobs, user, seed, shape)
    body = json.dumps({"jobs": job_objects}).encode()
    encoded = [json.dumps(job).encode() for job in job_objects]
    chunked_head = "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\n"
    chunked_head += f"Date: {date}\r\nServer: {SERVER_HEADER}\r\n\r\n"
    replies = {
        f"{API}/jobs/{job['id']}".encode(): _json_response(200, job, date) for job in job_objects
    }
    per_block = max(1, MIB // log_chunk) * log_chunk
    text = make_log_text(per_block, seed)
    full, rest = divmod(log_bytes, per_block)
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Transfer-Encoding: chunked\r\nDate: {date}\r\nServer: {SERVER_HEADER}\r\n\r\n"
    ).encode("ascii")
    return Payloads(
        jobs_list=_response(200, body, "application/json; charset=utf-8", date),
        jobs_body_size=len(body),
        job_replies=replies,
        log_paths=frozenset(path + b"/log" for path in replies),
        log_head=head,
        log_block=_frame(text, log_chunk),
        log_blocks=full,
        log_tail=_frame(text[:rest], log_chunk) + b"0\r\n\r\n",
        log_size=log_bytes,
        unauthorized=_text_response(401, date),
        not_found=_text_response(404, date),
        not_allowed=_text_response(405, date),
        ping=_response(200, b"", "application/octet-stream", date),
        date=date,
        list_repeat=list_repeat,
        ndjson=ndjson,
        ndjson_head=chunked_head.format(NDJSON_TYPE).encode("ascii"),
        ndjson_block=_frame(b"".join(line + b"\n" for line in encoded), STREAM_CHUNK),
        array_head=chunked_head.format("application/json; charset=utf-8").encode("ascii")
        + _frame(b'{"jobs": [', STREAM_CHUNK),
        array_first=_frame(b", ".join(encoded), STREAM_CHUNK),
        array_block=_frame(b", " + b", ".join(encoded), STREAM_CHUNK),
        stream_tail=_frame(b"]}", STREAM_CHUNK) + b"0\r\n\r\n",
    )


# ----------------------------------------------------------------------------- server

_API_PREFIX = API.encode()
_CONFIG = f"{API}/config".encode()
_PING = f"{API}/ping".encode()
_JOBS = f"{API}/jobs".encode()
_JOB_PREFIX = _JOBS + b"/"
_STATS = b"/__stats"
_MAX_HEAD = 64 * 1024


@dataclass
class Stats:
    connections: int = 0
    requests: int = 0
    log_streams: int = 0


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: sequential requests, keep-alive unless asked to close."""

    def __init__(self, payloads: Payloads, stats: Stats) -> None:
        self._p = payloads
        self._stats = stats
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._paused = False
        self._streaming = False
        self._close_after_stream = False
        self._wants_ndjson = False
        self._stream_first = self._stream_block = self._stream_tail = b""
        self._stream_blocks = self._stream_sent = 0

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=4 * MIB, low=MIB)
        self._stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._streaming = False

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._streaming:
            self._pump()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._streaming:
            self._process()

    # requests

    def _process(self) -> None:
        buffer = self._buffer
        while self._transport is not None and not self._streaming:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    self._send(_text_response(431, self._p.date), keep_alive=False)
                return
            lines = bytes(buffer[:end]).split(b"\r\n")
            parts = lines[0].split(b" ")
            if len(parts) != 3:
                self._send(_text_response(400, self._p.date), keep_alive=False)
                return
            method, target, version = parts
            keep_alive = version == b"HTTP/1.1"
            authorized = False
            length = 0
            self._wants_ndjson = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"accept":
                    self._wants_ndjson = NDJSON_TYPE.encode() in value
                elif name == b"authorization":
                    authorized = len(value.strip()) > 7 and value.strip()[:7] == b"Bearer "
                elif name == b"connection":
                    value = value.strip().lower()
                    keep_alive = value != b"close" and (keep_alive or value == b"keep-alive")
                elif name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    self._send(_text_response(501, self._p.date), keep_alive=False)
                    return
            total = end + 4 + length
            if len(buffer) < total:
                return
            del buffer[:total]
            self._stats.requests += 1
            self._handle(method, target.partition(b"?")[0], authorized, keep_alive)

    def _handle(self, method: bytes, path: bytes, authorized: bool, keep_alive: bool) -> None:
        p = self._p
        if path == _STATS:
            stats = self._stats.__dict__
            self._send(_json_response(200, stats, p.date), keep_alive)
            return
        if not path.startswith(_API_PREFIX):
            self._send(p.not_found, keep_alive)
            return
        reply = p.job_replies.get(path)
        is_log = reply is None and path in p.log_paths
        known = (
            reply is not None
            or is_log
            or path in (_CONFIG, _PING, _JOBS)
            or path.startswith(_JOB_PREFIX)
        )
        if not known:
            self._send(p.not_found, keep_alive)
        elif method != b"GET":
            self._send(p.not_allowed, keep_alive)
        elif path == _CONFIG:
            self._send(p.config if authorized else p.config_anonymous, keep_alive)
        elif path == _PING:
            self._send(p.ping, keep_alive)
        elif not authorized:
            self._send(p.unauthorized, keep_alive)
        elif reply is not None:
            self._send(reply, keep_alive)
        elif path == _JOBS:
            if p.ndjson and self._wants_ndjson:
                self._start_stream(p.ndjson_head, p.ndjson_block, p.ndjson_block, b"0\r\n\r\n")
            elif p.list_repeat > 1:
                self._start_stream(p.array_head, p.array_first, p.array_block, p.stream_tail)
            else:
                self._send(p.jobs_list, keep_alive)
                return
            self._close_after_stream = not keep_alive
            self._stream_blocks = p.list_repeat
            self._pump()
        elif is_log:
            self._start_log(keep_alive)
        else:
            rest = path[len(_JOB_PREFIX) :].decode("utf-8", "replace")
            job_id = rest[: -len("/log")] if rest.endswith("/log") else rest
            error = f"no such job {job_id}"
            if rest.endswith("/log"):  # monitoring nests the platform-api body (§3.1)
                error = json.dumps({"error": error})
            if "/" in job_id:
                self._send(p.not_found, keep_alive)
            else:
                self._send(_json_response(400, {"error": error}, p.date), keep_alive)

    def _send(self, data: bytes, keep_alive: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(data)
        if not keep_alive:
            self._transport.close()
            self._transport = None

    def _start_log(self, keep_alive: bool) -> None:
        self._stats.log_streams += 1
        self._start_stream(self._p.log_head, self._p.log_block, self._p.log_block, self._p.log_tail)
        self._close_after_stream = not keep_alive
        self._stream_blocks = self._p.log_blocks
        self._pump()

    def _start_stream(self, head: bytes, first: bytes, block: bytes, tail: bytes) -> None:
        """Stream `head`, then `first` and `block`s (`_stream_blocks` in all), then `tail`."""
        assert self._transport is not None
        self._streaming = True
        self._stream_first, self._stream_block, self._stream_tail = first, block, tail
        self._stream_sent = 0
        self._transport.write(head)

    def _pump(self) -> None:
        transport = self._transport
        while (
            transport is not None and not self._paused and self._stream_sent < self._stream_blocks
        ):
            transport.write(self._stream_block if self._stream_sent else self._stream_first)
            self._stream_sent += 1
        if transport is None or self._stream_sent < self._stream_blocks:
            return
        transport.write(self._stream_tail)
        self._streaming = False
        if self._close_after_stream:
            transport.close()
            self._transport = None
        elif self._buffer:
            self._process()


async def serve(
    payloads: Payloads, host: str = "127.0.0.1", port: int = 0
) -> tuple[asyncio.Server, str]:
    """Start serving; returns the server and the API base URL (`http://host:port/api/v1`)."""
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(payloads, stats), host, port, backlog=256, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    base_url = f"http://{host}:{bound}{API}"
    payloads.set_base_url(base_url)
    return server, base_url


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in the list")
    parser.add_argument("--log-mib", type=float, default=100.0, help="size of every job's log")
    parser.add_argument("--log-chunk", type=int, default=1024, help="bytes per HTTP chunk")
    parser.add_argument("--user", default=DEFAULT_USER, help="owner of most jobs")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--list-repeat", type=int, default=1, help="GET /jobs streams the jobs this many times"
    )
    parser.add_argument(
        "--ndjson", action="store_true", help="answer Accept: application/x-ndjson (2020 on)"
    )
    parser.add_argument("--shape", choices=SHAPES, default="varied", help="what jobs hold")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="stop when stdin closes (parent gone)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    payloads = build_payloads(
        jobs=args.jobs,
        log_bytes=int(args.log_mib * MIB),
        log_chunk=args.log_chunk,
        user=args.user,
        seed=args.seed,
        list_repeat=args.list_repeat,
        ndjson=args.ndjson,
        shape=args.shape,
    )
    loop = asyncio.new_event_loop()
    server, base_url = loop.run_until_complete(serve(payloads, args.host, args.port))
    ready = {
        "url": base_url,
        "pid": os.getpid(),
        "jobs": args.jobs,
        "jobs_body_bytes": payloads.jobs_body_size,
        "log_bytes": payloads.log_size,
        "log_chunk": args.log_chunk,
        "seed": args.seed,
        "user": args.user,
    }
    print(json.dumps(ready), flush=True)

    def watch_stdin() -> None:  # the parent closes our stdin (or dies): stop
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(loop.stop)

    if args.exit_on_stdin_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, loop.stop)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


# ----------------------------------------------------------------------------- process


class StubServerProcess:
    """Runs the stub in a child process; a context manager exposing `url` and `info`."""

    def __init__(
        self,
        *,
        jobs: int = 10_000,
        log_mib: float = 100.0,
        log_chunk: int = 1024,
        user: str = DEFAULT_USER,
        seed: int = DEFAULT_SEED,
        list_repeat: int = 1,
        ndjson: bool = False,
        shape: str = "varied",
        python: str = sys.executable,
    ) -> None:
        self.args = [
            "--shape",
            shape,
            "--list-repeat",
            str(list_repeat),
            *(["--ndjson"] if ndjson else []),
            "--jobs",
            str(jobs),
            "--log-mib",
            str(log_mib),
            "--log-chunk",
            str(log_chunk),
            "--user",
            user,
            "--seed",
            str(seed),
        ]
        self.python = python
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def start(self) -> StubServerProcess:
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        self._proc = subprocess.Popen(
            [self.python, "-m", "benchmarks.stub_server", "--exit-on-stdin-eof", *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=root,
            env=env,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait(timeout=10)
            raise RuntimeError(f"the stub server exited with status {code} before it was ready")
        self.info = json.loads(line)
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> StubServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    main()
