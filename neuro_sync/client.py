"""`Client`, `get()` and `Factory`: how a program gets a connected, blocking client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict, Unpack

from yarl import URL

from ._closing import Closing
from ._limits import DEFAULT_MAX_REPLY_BYTES
from ._operations import Operations
from ._retry import RetryPolicy
from ._timeouts import DEFAULT_TIMEOUT, Timeout, check_timeout
from .config import (
    DIALECTS,
    ENV_DIALECT,
    ENV_TOKEN,
    ENV_URL,
    ClusterConfig,
    check_dialect,
    config_file_path,
    load_config_file,
    username_from_token,
    write_config_file,
)
from .errors import ConfigError, ValidationError
from .jobs import Jobs
from .parsing import Parser

__all__ = ["Client", "ClientOptions", "Factory", "get"]


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of `Client` besides `url` and `token` (see `Client` for each), as
    `get()` and `Factory` take them."""

    timeout: Timeout
    max_retries: int
    verify: bool | str
    cluster_config: ClusterConfig | None
    headers: Mapping[str, str] | None
    max_reply_bytes: int
    known_hosts: str | os.PathLike[str] | None
    dialect: str


class Client(Closing):
    """A blocking client of the Neuromation platform.

    Args:
        url: the API base URL, e.g. `https://dev.neu.ro/api/v1` or `http://127.0.0.1:8080/api/v1`.
        token: the JWT access token (the user name is read from its `identity` claim).
        timeout: seconds, or a `(connect, read)` pair, for every request (default (10, 60)).
            It bounds each attempt as a whole, not each read: a number `t` is a deadline of `t`
            seconds, a pair one of `connect + read` (70 s by default), covering connect, headers
            and body, however slowly the server sends them. Streamed replies (`monitor`, `save`)
            are bounded so up to their headers; after that `read` applies to each read.
            `read=None` waits between bytes without limit and sets no deadline.
        max_retries: retries of idempotent calls on connection errors, timeouts and
            502/503/504/429 (default 2; 0 disables). Job creation is retried only when the
            request provably never left. A call therefore takes at most
            `(max_retries + 1) x deadline` plus the waits between attempts (each a backoff of
            at most 8 s, or a server's `Retry-After` of at most 60 s): with the defaults,
            3 x 70 s + waits. (`jobs.wait` is bounded by its own `timeout`.)
        max_reply_bytes: the largest reply body read (default 256 MiB); a larger one raises
            `ReplyTooLarge` without being read whole. Streams (`monitor`, `save`) are not capped.
        verify: TLS certificate verification (True, False, or a CA bundle path).
        cluster_config: the cluster part of `/config` if already known (skips the request).
        known_hosts: an OpenSSH known_hosts file with the SSH gateway's host key: `exec` and
            `port_forward` then check the key against it, without a prompt (a config file's
            `ssh_known_hosts`; the local platform writes one). Default: ssh's own files.
        headers: extra headers for every request.
        dialect: the wire form of the server, `"2019"` (the default) or `"2022"`
            (docs/dialects.md). Arguments of the 2022 dialect raise `ValidationError` under
            2019 before anything is sent.

    The client is safe to share between threads. Use it as a context manager or call
    `close()` to release its connections.

    Raises:
        ConfigError: the URL or the token is unusable.
    """

    def __init__(
        self,
        url: str | URL,
        token: str,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        verify: bool | str = True,
        cluster_config: ClusterConfig | None = None,
        headers: Mapping[str, str] | None = None,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        known_hosts: str | os.PathLike[str] | None = None,
        dialect: str = DIALECTS[0],
    ) -> None:
        self._dialect = check_dialect(dialect)
        parsed = URL(str(url)) if isinstance(url, str | URL) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError(
                f"url must be an http(s) API base URL like https://dev.neu.ro/api/v1, got {url!r}"
            )
        if not isinstance(token, str) or not token.strip():
            raise ConfigError(
                "A token is required: pass token=..., set $NEURO_SYNC_TOKEN, "
                "or log in (Factory().login_with_token)"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValidationError("max_retries", "must be an int >= 0")
        if (
            isinstance(max_reply_bytes, bool)
            or not isinstance(max_reply_bytes, int)
            or max_reply_bytes < 1
        ):
            raise ValidationError("max_reply_bytes", "must be an int >= 1 (bytes)")
        # requests loads with the first client's transport, not with `import neuro_sync`.
        from ._transport import Transport

        self._url = parsed
        self._username = username_from_token(token)
        self._transport = Transport(
            str(parsed),
            token,
            timeout=check_timeout(timeout),
            policy=RetryPolicy(max_retries=max_retries),
            verify=verify,
            headers=headers,
            max_reply_bytes=max_reply_bytes,
        )
        self._ops = Operations(
            self._transport, self._username, cluster_config, dialect=self._dialect
        )
        self.jobs = Jobs(
            self._ops, token, known_hosts=None if known_hosts is None else os.fspath(known_hosts)
        )
        self.parse = Parser(username=self._username, registry_host=self._registry_host)

    def _registry_host(self) -> str:
        return self._ops.cluster.registry_host

    @property
    def url(self) -> URL:
        """The API base URL."""
        return self._url

    @property
    def dialect(self) -> str:
        """The dialect the client speaks, `"2019"` or `"2022"`."""
        return self._dialect

    @property
    def username(self) -> str:
        """The user name from the token."""
        return self._username

    @property
    def config(self) -> ClusterConfig:
        """The cluster configuration (fetched from `GET /config` on first use)."""
        return self._ops.cluster

    def close(self) -> None:
        """Release the connections. The client is unusable afterwards."""
        self._transport.close()

    def __repr__(self) -> str:
        dialect = "" if self._dialect == DIALECTS[0] else f" dialect={self._dialect!r}"
        return f"<neuro_sync.Client url={str(self._url)!r} user={self._username!r}{dialect}>"


def get(
    path: str | os.PathLike[str] | None = None,
    *,
    url: str | URL | None = None,
    token: str | None = None,
    **kwargs: Unpack[ClientOptions],
) -> Client:
    """A `Client` from one configuration source, the first one that is set:

    1. arguments: `url=` and `token=` together, or a config file `path`;
    2. the environment: `NEURO_SYNC_URL` and `NEURO_SYNC_TOKEN` together;
    3. the 2019 config file: `$NEUROMATION_CONFIG`, else `~/.nmrc` (with its `cluster_config`).

    URL and token always come from the same source: a token only goes to the server it was
    given or saved for. A source that is half set (a URL without a token, or the reverse) is an
    error, not a cue to take the other half from elsewhere. Other keyword arguments go to
    `Client`. The dialect is the `dialect=` argument, else `$NEURO_SYNC_DIALECT`, else the
    config file's `dialect` key (when the file is the source), else `"2019"`.

    Raises:
        ConfigError: no source is set, one is half set (the message says which value is
            missing and where it was looked for), the file is unreadable, or
            `$NEURO_SYNC_DIALECT` names no dialect.
    """
    env_dialect = os.environ.get(ENV_DIALECT)
    if "dialect" not in kwargs and env_dialect:
        kwargs["dialect"] = check_dialect(env_dialect, f"${ENV_DIALECT}")
    if url is not None or token is not None:
        if path is not None:
            raise ConfigError(
                "Pass either url= and token= or a config file path to neuro_sync.get(), not both"
            )
        if not url or not token:
            given, missing = ("url", "token") if url else ("token", "url")
            raise ConfigError(
                f"neuro_sync.get() was given {given}= but no {missing}=: pass both. A token is "
                "never taken from another source than its URL"
            )
        return Client(url, token, **kwargs)
    if path is None:
        env_url, env_token = os.environ.get(ENV_URL), os.environ.get(ENV_TOKEN)
        if env_url or env_token:
            if not env_url or not env_token:
                given, missing = (ENV_URL, ENV_TOKEN) if env_url else (ENV_TOKEN, ENV_URL)
                raise ConfigError(
                    f"${given} is set but ${missing} is not: set both, or unset ${given} to "
                    f"use the config file {config_file_path()}"
                )
            return Client(env_url, env_token, **kwargs)
    file = config_file_path(path)
    if not file.exists():
        raise ConfigError(
            "No url and token: pass neuro_sync.get(url=..., token=...), set "
            f"${ENV_URL} and ${ENV_TOKEN}, or create the config file {file} "
            "(neuro_sync.Factory().login_with_token(token, url=...))"
        )
    return Factory(file).get(**kwargs)


class Factory:
    """Reads and writes the 2019 config file (`~/.nmrc` or `$NEUROMATION_CONFIG`).

    Nothing here writes the file unless asked to by `login_with_token`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path: Path = config_file_path(path)

    def get(self, **kwargs: Unpack[ClientOptions]) -> Client:
        """A `Client` from the config file."""
        loaded = load_config_file(self.path)
        kwargs.setdefault("cluster_config", loaded.cluster)
        kwargs.setdefault("known_hosts", loaded.known_hosts)
        if loaded.dialect is not None:
            kwargs.setdefault("dialect", loaded.dialect)
        return Client(loaded.url, loaded.token, **kwargs)

    def login_with_token(
        self, token: str, *, url: str | URL, **kwargs: Unpack[ClientOptions]
    ) -> Client:
        """Check the token against `GET {url}/config` and save url, token and cluster config
        to the config file (mode 0600). Returns a client using them."""
        client = Client(url, token, **kwargs)
        try:
            cluster = client.config
            write_config_file(
                self.path,
                url=str(client.url),
                token=token,
                cluster=cluster,
                dialect=client.dialect,
            )
        except BaseException:
            client.close()
            raise
        return client

    def __repr__(self) -> str:
        return f"<neuro_sync.Factory path={str(self.path)!r}>"
