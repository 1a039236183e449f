"""The `requests` session every request goes through: pooled connections the watchdog can
cut, and the proxy environment read once per origin."""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

import requests

from ._urllib3_hooks import WatchedAdapter

__all__ = ["Session"]


# What requests' proxy and CA-bundle lookup reads for an http(s) URL; any other `*_proxy`
# variable only matters for other schemes. REQUEST_METHOD: urllib ignores HTTP_PROXY under CGI.
_ENV_VARIABLES = tuple(
    name
    for base in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    for name in (base, base.upper())
) + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD")
_EnvSettings = tuple[dict[str, str], str | None]


def _environment_values() -> tuple[str | None, ...]:
    """The current values of `_ENV_VARIABLES`, read once per request through the public
    `os.environ` (a few microseconds; not CPython's private mapping behind it, whose
    behaviour is no contract)."""
    return tuple(map(os.environ.get, _ENV_VARIABLES))


class Session(requests.Session):
    """A `requests.Session` with the environment read once per origin, and the watchdog's
    adapter: every request of neuro-sync is sent through one (by `Transport`)."""

    def __init__(self) -> None:
        super().__init__()
        # More than requests' default 10 pooled connections per host: a Client is meant to be
        # shared by many threads, and a full pool discards connections (and warns).
        adapter = WatchedAdapter(pool_connections=4, pool_maxsize=64)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self._env_cache: dict[tuple[str, tuple[str | None, ...]], _EnvSettings] = {}
        self._env_lock = threading.Lock()

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> Any:
        """requests' merge, with the proxy settings computed once per origin and environment.

        requests scans all of `os.environ` twice per request for proxy settings; for a client
        that talks to one or two hosts that was the largest single cost of a call. The result is
        cached, keyed on the origin and on the values of the few variables it depends on
        (read directly, which is cheap), so a changed `HTTPS_PROXY` or `NO_PROXY` counts at once.
        """
        if not self.trust_env or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        origin = (f"{parts.scheme}://{parts.netloc}", _environment_values())
        env = self._env_cache.get(origin)
        if env is None:
            with self._env_lock:
                if len(self._env_cache) >= 64:
                    self._env_cache.clear()  # an environment that keeps changing: stay small
                env = self._env_cache[origin] = (
                    dict(requests.utils.get_environ_proxies(url, no_proxy=None)),
                    os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"),
                )
        merged_proxies = dict(proxies or {})
        for key, value in env[0].items():
            merged_proxies.setdefault(key, value)
        if (verify is True or verify is None) and env[1]:
            verify = env[1]
        session_proxies = {k: v for k, v in self.proxies.items() if v is not None}
        return {
            # A per-request value wins over the session's, as in requests' merge_setting.
            "proxies": {**session_proxies, **merged_proxies},
            "stream": self.stream if stream is None else stream,
            "verify": self.verify if verify is None else verify,
            "cert": self.cert if cert is None else cert,
        }
