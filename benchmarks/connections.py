"""The local platform's connection limits, against a crowd: figures for docs/local-platform.md.

    .venv/bin/python -m benchmarks.connections [--crowd 1200] [--pending 1000]

Runs `neuro-sync-local` from this source tree in a subprocess whose open-files limit is 1024
(soft and hard, so the raise at start cannot lift it), then:

* crowd: opens `--crowd` connections to the API without a token, every other one with a
  request head half sent, and keeps them open; then one authenticated `GET /jobs` on a new
  connection: its status and wall time, how many of the crowd the platform still holds, and
  its open descriptors.
* pending: submits `--pending` http jobs that never fit (they stay pending): the statuses
  of the replies, and the platform's open descriptors after them.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

NOFILE = 1024
HALF_SENT = b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"


def _lower_nofile() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def _held(socks: list[socket.socket]) -> int:
    count = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            while sock.recv(1 << 16):
                pass
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowd", type=int, default=1200)
    parser.add_argument("--pending", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.crowd + 512)), hard))
    data = Path(tempfile.mkdtemp(prefix="bench-connections-"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuro_sync.local", "--data-dir", str(data), "--port", "0"]
        + ["--runtime", "process"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_lower_nofile,
    )
    try:
        deadline = time.monotonic() + 30
        while not (data / "client.nmrc").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the platform did not start")
            time.sleep(0.05)
        nmrc = yaml.safe_load((data / "client.nmrc").read_text())
        url, token = nmrc["url"], nmrc["auth_token"]["token"]
        auth = {"Authorization": f"Bearer {token}"}
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        socks: list[socket.socket] = []
        for i in range(args.crowd):
            sock = socket.socket()
            sock.settimeout(2)
            try:
                sock.connect((host, int(port)))
                if i % 2:
                    sock.sendall(HALF_SENT)
                socks.append(sock)
            except OSError:
                sock.close()
        start = time.monotonic()
        status = requests.get(f"{url}/jobs", headers=auth, timeout=60).status_code
        took = time.monotonic() - start
        print(
            f"crowd: {len(socks)} connections open; list {status} in {took * 1000:.0f} ms; "
            f"the platform holds {_held(socks)} of the crowd, "
            f"{len(os.listdir(f'/proc/{proc.pid}/fd'))} descriptors"
        )
        for sock in socks:
            sock.close()
        body = {
            "container": {
                "image": "ubuntu",
                "command": "sleep 60",
                "resources": {"cpu": 0.1, "memory_mb": 1 << 20},  # never fits
                "http": {"port": 80},
            }
        }
        session = requests.Session()
        codes: dict[int, int] = {}
        for _ in range(args.pending):
            code = session.post(f"{url}/jobs", json=body, headers=auth, timeout=60).status_code
            codes[code] = codes.get(code, 0) + 1
        print(
            f"pending: {args.pending} http jobs, replies {codes}; "
            f"the platform holds {len(os.listdir(f'/proc/{proc.pid}/fd'))} descriptors"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


if __name__ == "__main__":
    main()
