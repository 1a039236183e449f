"""Measuring helpers shared by the runner and the 2019 SDK driver (standard library only).

Everything here must import under any Python 3.11 venv: the peer driver runs in
`.bench/peer-venv`, which has neither neuro_sync nor requests.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import os
import resource
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

MIB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def make_token(user: str, secret: bytes = b"neuro-sync-bench") -> str:
    """An HS256 JWT whose `identity` claim is `user` (the 2019 SDK reads only the claims)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"identity": user, "iat": 1565913600}).encode())
    signing_input = header + b"." + claims
    signature = b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def current_rss() -> int | None:
    """Resident set size of this process in bytes (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def max_rss() -> int:
    """The peak RSS of this process so far, bytes (`ru_maxrss`, KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


class PeakRss:
    """Samples this process's RSS in a thread; `growth` is the peak above the start value.

    Also compares `ru_maxrss` before and after: a peak between two samples raises the
    kernel's high-water mark, so the reported growth is the larger of the two views.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start_rss = 0
        self.peak_rss = 0
        self.samples = 0
        self._maxrss_before = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = current_rss()
            if rss is not None:
                self.samples += 1
                if rss > self.peak_rss:
                    self.peak_rss = rss
        rss = current_rss()
        if rss is not None and rss > self.peak_rss:
            self.peak_rss = rss

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.start_rss = current_rss() or 0
        self.peak_rss = self.start_rss
        self._maxrss_before = max_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        maxrss_after = max_rss()
        if maxrss_after > self._maxrss_before:  # a new high-water mark while measuring
            self.peak_rss = max(self.peak_rss, maxrss_after)

    @property
    def growth(self) -> int:
        return max(0, self.peak_rss - self.start_rss)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rss_start": self.start_rss,
            "rss_peak": self.peak_rss,
            "rss_growth": self.growth,
            "rss_samples": self.samples,
        }


def import_time_code(module: str) -> str:
    """`python -c` code printing the seconds one `import module` takes in a fresh process."""
    return (
        "import time as _t\n"
        "_s = _t.perf_counter()\n"
        f"import {module}\n"
        "_e = _t.perf_counter()\n"
        "print(repr(_e - _s))\n"
    )


# ----------------------------------------------------------------------------- raw HTTP


class RawHttp:
    """A minimal keep-alive HTTP/1.1 client on one socket, to measure the stub server alone.

    No header parsing beyond Content-Length / chunked-end detection, no copying of bodies:
    it shows how fast the server can serve, not what a real client costs.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self._sock = socket.create_connection((host, port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._host = f"{host}:{port}"
        self._auth = f"Bearer {token}"
        self._buffer = bytearray()
        self._chunk = bytearray(4 * MIB)
        self._view = memoryview(self._chunk)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> RawHttp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(self, path: str) -> None:
        self._sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Authorization: {self._auth}\r\nAccept: */*\r\n\r\n".encode()
        )

    def _head(self) -> tuple[int, dict[bytes, bytes]]:
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            got = self._sock.recv_into(self._view)
            if not got:
                raise ConnectionError("server closed the connection")
            self._buffer += self._view[:got]
        lines = bytes(self._buffer[:end]).split(b"\r\n")
        del self._buffer[: end + 4]
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        return int(lines[0].split(b" ")[1]), headers

    def get(self, path: str) -> tuple[int, int]:
        """GET `path`; returns (status, body bytes received incl. chunk framing)."""
        self._request(path)
        status, headers = self._head()
        if headers.get(b"transfer-encoding") == b"chunked":
            return status, self._drain_chunked()
        length = int(headers.get(b"content-length", b"0"))
        have = min(len(self._buffer), length)
        del self._buffer[:have]
        left = length - have
        while left:
            got = self._sock.recv_into(self._view, min(left, len(self._chunk)))
            if not got:
                raise ConnectionError("server closed the connection")
            left -= got
        return status, length

    def _drain_chunked(self) -> int:
        # The stub's log text has no "\r\n", so the terminator can only be the last chunk.
        total = len(self._buffer)
        tail = bytes(self._buffer[-7:])
        self._buffer.clear()
        while not tail.endswith(b"\r\n0\r\n\r\n"):
            got = self._sock.recv_into(self._view)
            if not got:
                raise ConnectionError("server closed the connection")
            total += got
            tail = (tail + bytes(self._view[max(0, got - 7) : got]))[-7:]
        return total


def server_capacity(
    url: str, token: str, job_ids: Sequence[str], status_calls: int, log_bytes: int
) -> dict[str, Any]:
    """How fast the stub serves with (almost) no client work: list, status, log."""
    rest = url.split("://", 1)[1]
    hostport, _, prefix = rest.partition("/")
    host, _, port = hostport.partition(":")
    base = "/" + prefix
    out: dict[str, Any] = {}
    with RawHttp(host, int(port), token) as raw:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            status, size = raw.get(f"{base}/jobs")
            times.append(time.perf_counter() - start)
            assert status == 200, status
        out["list_seconds"] = median(times)
        out["list_body_bytes"] = size
        rates = []
        for _ in range(3):
            start = time.perf_counter()
            for i in range(status_calls):
                raw.get(f"{base}/jobs/{job_ids[i % len(job_ids)]}")
            rates.append(status_calls / (time.perf_counter() - start))
        out["status_calls_per_s"] = median(rates)
        start = time.perf_counter()
        status, wire = raw.get(f"{base}/jobs/{job_ids[0]}/log")
        elapsed = time.perf_counter() - start
        assert status == 200, status
        out["log_mib_per_s"] = log_bytes / MIB / elapsed
        out["log_wire_bytes"] = wire
    return out


def server_stats(url: str) -> dict[str, int]:
    """The stub's raw counters (`GET /__stats`), which count this request and its connection."""
    rest = url.split("://", 1)[1]
    hostport = rest.partition("/")[0]
    host, _, port = hostport.partition(":")
    with RawHttp(host, int(port), "") as raw:
        raw._request("/__stats")
        _, headers = raw._head()
        length = int(headers[b"content-length"])
        while len(raw._buffer) < length:
            got = raw._sock.recv_into(raw._view)
            if not got:
                break
            raw._buffer += raw._view[:got]
        stats: dict[str, int] = json.loads(bytes(raw._buffer[:length]))
    return stats


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What happened between two `server_stats` calls, less the second call itself."""
    return {key: after[key] - before[key] - (key != "log_streams") for key in after}
