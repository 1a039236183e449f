"""`Client`, `get()` and `Factory`: how a program gets a connected, blocking client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yarl import URL

from ._closing import Closing
from ._operations import Operations
from ._timeouts import DEFAULT_TIMEOUT, Timeout, check_timeout
from ._transport import RetryPolicy, Transport
from .config import (
    ENV_TOKEN,
    ENV_URL,
    ClusterConfig,
    config_file_path,
    load_config_file,
    username_from_token,
    write_config_file,
)
from .errors import ConfigError, ValidationError
from .jobs import Jobs
from .parsing import Parser

__all__ = ["Client", "Factory", "get"]


class Client(Closing):
    """A blocking client of the Neuromation platform.

    Args:
        url: the API base URL, e.g. `https://dev.neu.ro/api/v1` or `http://127.0.0.1:8080/api/v1`.
        token: the JWT access token (the user name is read from its `identity` claim).
        timeout: seconds, or a `(connect, read)` pair, for every request (default (10, 60));
            `read=None` waits between bytes without limit.
        max_retries: retries of idempotent calls on connection errors, read timeouts and
            502/503/504/429 (default 2; 0 disables). Job creation is retried only when the
            request provably never left.
        verify: TLS certificate verification (True, False, or a CA bundle path).
        cluster_config: the cluster part of `/config` if already known (skips the request).
        headers: extra headers for every request.

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
    ) -> None:
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
        self._url = parsed
        self._username = username_from_token(token)
        self._transport = Transport(
            str(parsed),
            token,
            timeout=check_timeout(timeout),
            policy=RetryPolicy(max_retries=max_retries),
            verify=verify,
            headers=headers,
        )
        self._ops = Operations(self._transport, self._username, cluster_config)
        self.jobs = Jobs(self._ops, token)
        self.parse = Parser(username=self._username, registry_host=self._registry_host)

    def _registry_host(self) -> str:
        return self._ops.cluster.registry_host

    @property
    def url(self) -> URL:
        """The API base URL."""
        return self._url

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
        return f"<neuro_sync.Client url={str(self._url)!r} user={self._username!r}>"


def get(
    path: str | os.PathLike[str] | None = None,
    *,
    url: str | URL | None = None,
    token: str | None = None,
    **kwargs: Any,
) -> Client:
    """A `Client` from configuration, resolved once in this order:

    1. explicit `url=` / `token=` arguments;
    2. the environment: `NEURO_SYNC_URL`, `NEURO_SYNC_TOKEN`;
    3. the 2019 config file: `path`, else `$NEUROMATION_CONFIG`, else `~/.nmrc`
       (its `cluster_config` is used when the URL is the file's own).

    Other keyword arguments go to `Client`.

    Raises:
        ConfigError: no URL or token could be found, or the file is unreadable.
    """
    url = url or os.environ.get(ENV_URL) or None
    token = token or os.environ.get(ENV_TOKEN) or None
    if url is None or token is None:
        file = config_file_path(path)
        if not file.exists():
            missing = " and ".join(n for n, v in (("url", url), ("token", token)) if v is None)
            raise ConfigError(
                f"No {missing}: pass them to neuro_sync.get(url=..., token=...), set "
                f"${ENV_URL} / ${ENV_TOKEN}, or create the config file {file} "
                "(neuro_sync.Factory().login_with_token(token, url=...))"
            )
        loaded = load_config_file(file)
        if url is None and loaded.cluster is not None and "cluster_config" not in kwargs:
            kwargs["cluster_config"] = loaded.cluster
        url = url or loaded.url
        token = token or loaded.token
    return Client(url, token, **kwargs)


class Factory:
    """Reads and writes the 2019 config file (`~/.nmrc` or `$NEUROMATION_CONFIG`).

    Nothing here writes the file unless asked to by `login_with_token`.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path: Path = config_file_path(path)

    def get(self, **kwargs: Any) -> Client:
        """A `Client` from the config file."""
        loaded = load_config_file(self.path)
        kwargs.setdefault("cluster_config", loaded.cluster)
        return Client(loaded.url, loaded.token, **kwargs)

    def login_with_token(self, token: str, *, url: str | URL, **kwargs: Any) -> Client:
        """Check the token against `GET {url}/config` and save url, token and cluster config
        to the config file (mode 0600). Returns a client using them."""
        client = Client(url, token, **kwargs)
        try:
            cluster = client.config
            write_config_file(self.path, url=str(client.url), token=token, cluster=cluster)
        except BaseException:
            client.close()
            raise
        return client

    def __repr__(self) -> str:
        return f"<neuro_sync.Factory path={str(self.path)!r}>"
