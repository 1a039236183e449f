"""Module-level calls on a default client, the way `requests.get` needs no Session.

    import neuro_sync
    job = neuro_sync.run("ubuntu", "python train.py", preset="cpu-small")
    for line in neuro_sync.logs(job.id):
        print(line)

The default client is made by `neuro_sync.get()` on first use, once (thread-safe), and then
kept: environment or config-file changes after that do not affect it. Call
`set_default_client(None)` to have the next call make a new one, or pass your own client.

Every function except `run` is `Jobs`'s method of the same name bound to the default client:
generated from it, so signatures and docstrings are written once, in `Jobs`.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Concatenate, ParamSpec, TypeVar, Unpack

from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout
from .client import Client, get
from .errors import ValidationError
from .jobs import JobOptions, Jobs
from .models import (
    Container,
    HTTPPort,
    JobDescription,
    RemoteImage,
    Volume,
)

__all__ = [
    "default_client",
    "exec",
    "iter",
    "kill",
    "list",
    "logs",
    "port_forward",
    "run",
    "save",
    "set_default_client",
    "status",
    "top",
    "wait",
]

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_client: Client | None = None
_owned = False  # made here (so closed here when replaced), not handed in by the user


def default_client() -> Client:
    """The client the module-level calls use; made with `neuro_sync.get()` on first use.

    Raises:
        ConfigError: no URL or token could be found (see `neuro_sync.get`).
    """
    global _client, _owned
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                _client, _owned = get(), True
            client = _client
    return client


def set_default_client(client: Client | None) -> None:
    """Make `client` the default; `None` resets it, so the next call makes a new one.

    A default client made by neuro-sync is closed when replaced; one you set is yours to close.
    """
    global _client, _owned
    if client is not None and not isinstance(client, Client):
        raise ValidationError("client", "must be a neuro_sync.Client or None")
    with _lock:
        old, was_owned = _client, _owned
        _client, _owned = client, False
    if was_owned and old is not None and old is not client:
        old.close()


def _on_default(method: Callable[Concatenate[Jobs, P], R]) -> Callable[P, R]:
    """`method` as a module-level function calling it on the default client's `jobs`."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return method(default_client().jobs, *args, **kwargs)

    call.__qualname__ = call.__name__
    call.__module__ = "neuro_sync"
    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=tuple(signature.parameters.values())[1:]
    )
    return call


status = _on_default(Jobs.status)
kill = _on_default(Jobs.kill)
logs = _on_default(Jobs.logs)
wait = _on_default(Jobs.wait)
top = _on_default(Jobs.top)
save = _on_default(Jobs.save)
exec = _on_default(Jobs.exec)  # shadows the builtin here on purpose: `neuro_sync.exec`
port_forward = _on_default(Jobs.port_forward)
list = _on_default(Jobs.list)  # likewise `neuro_sync.list`; no builtin list() below
iter = _on_default(Jobs.iter)  # likewise `neuro_sync.iter`; no builtin iter() below


def run(
    image: str | RemoteImage | Container,
    command: str | None = None,
    *,
    preset: str | None = None,
    env: Mapping[str, str] | None = None,
    volumes: Sequence[str | Volume] | None = None,
    http: int | HTTPPort | None = None,
    entrypoint: str | None = None,
    shm: bool | None = None,
    name: str | None = None,
    description: str | None = None,
    is_preemptible: bool | None = None,
    schedule_timeout: float | None = None,
    timeout: Timeout | ClientDefault = CLIENT_DEFAULT,
    working_dir: str | None = None,
    tty: bool = False,
    **options: Unpack[JobOptions],
) -> JobDescription:
    """Start a job on the default client, in short form::

        neuro_sync.run("ubuntu", "python train.py", preset="cpu-small", env={"EPOCHS": "3"})
        neuro_sync.run(container, name="train")      # a full Container works too

    Args:
        image: an image name (`ubuntu:22.04`, `image://alice/model:v1`), a `RemoteImage`,
            or a whole `Container` (then only the job-level arguments below may be given).
        command: the command line (None: the image's CMD).
        preset: one of `client.config.resource_presets` (None: the cluster's first).
        env: environment variables.
        volumes: `Volume`s or `storage://...:/path[:ro|rw]` strings.
        http: a port (or `HTTPPort`) to expose over HTTP.
        entrypoint: overrides the image's ENTRYPOINT.
        shm: mount a shared-memory `/dev/shm`.
        name, description, schedule_timeout, timeout: as for `Jobs.run`.
        is_preemptible: None: the preset's setting (False with a `Container`).

    The 2022 dialect's arguments (under 2019 each raises `ValidationError` before anything is
    sent): `working_dir` and `tty` as `Container.working_dir` and `Container.tty` (not with a
    `Container`: set them there), and those of `JobOptions`, as for `Jobs.run`.

    Returns:
        The `JobDescription` of the started job.

    Raises:
        ValidationError: bad input (an unknown preset names the known ones), found before
            the job is submitted.
    """
    client = default_client()
    if isinstance(image, Container):
        given = {
            "command": command,
            "preset": preset,
            "env": env,
            "volumes": volumes,
            "http": http,
            "entrypoint": entrypoint,
            "shm": shm,
            "working_dir": working_dir,
            "tty": tty or None,
        }
        for field, value in given.items():
            if value is not None:
                raise ValidationError(field, "is part of the Container: set it there")
        container = image
        preemptible = bool(is_preemptible)
    else:
        if isinstance(volumes, str):
            raise ValidationError("volumes", "must be a list of volumes, not one string")
        remote = client.parse.remote_image(image) if isinstance(image, str) else image
        if not isinstance(remote, RemoteImage):
            raise ValidationError("image", "must be an image name, a RemoteImage or a Container")
        found = client.config.preset(preset)[1]
        container = Container(
            image=remote,
            resources=client.config.preset_resources(preset, shm=shm),
            entrypoint=entrypoint,
            command=command,
            http=_http_port(http),
            env=dict(env or {}),
            volumes=[client.parse.volume(v) if isinstance(v, str) else v for v in volumes or ()],
            working_dir=working_dir,
            tty=tty,
        )
        preemptible = found.is_preemptible if is_preemptible is None else is_preemptible
    return client.jobs.run(
        container,
        name=name,
        description=description,
        is_preemptible=preemptible,
        schedule_timeout=schedule_timeout,
        timeout=timeout,
        **options,
    )


def _http_port(http: int | HTTPPort | None) -> HTTPPort | None:
    if http is None or isinstance(http, HTTPPort):
        return http
    if isinstance(http, bool) or not isinstance(http, int):
        raise ValidationError("http", "must be a port number or an HTTPPort")
    return HTTPPort(http)
