"""An in-process platform (a notebook's) writes nothing to stderr: a client leaving a log, top
or save stream early is normal, and an oversized header gets a plain 4xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# Runs in a child process so that its stderr can be checked whole. Raw sockets, so the
# client side can close at the worst moment (right after the request).
SCRIPT = r"""
import json, socket, sys, time
import requests
from neuro_sync.local import LocalPlatform

def send(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    reply = s.recv(200) if read else b""
    s.close()
    return reply

with LocalPlatform(sys.argv[1]) as lp:
    h = {"Authorization": f"Bearer {lp.token}"}
    if sys.argv[2] == "header":
        reply = send(lp.port, b"GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     + b"a" * 60000 + b"\r\n\r\n")
        print(reply.split(b" ")[1].decode())
        time.sleep(0.5)
        sys.exit(0)
    command = "sh -c 'head -c 20000000 /dev/zero > big; while true; do echo line; sleep 0.01; done'"
    body = {"container": {"image": "x", "command": command,
                          "resources": {"cpu": 0.1, "memory_mb": 16}}}
    job = requests.post(f"{lp.url}/jobs", headers=h, json=body).json()
    while requests.get(f"{lp.url}/jobs/{job['id']}", headers=h).json()["status"] != "running":
        time.sleep(0.05)
    time.sleep(0.3)
    auth = f"Authorization: Bearer {lp.token}\r\n".encode()
    path = f"/api/v1/jobs/{job['id']}"
    send(lp.port, f"GET {path}/log HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
    send(lp.port, f"GET {path}/top HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n".encode() + auth + b"\r\n")
    save = json.dumps({"container": {"image": "registry.localhost/user/img:1"}}).encode()
    send(lp.port, f"POST {path}/save HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         f"Content-Length: {len(save)}\r\n".encode() + auth + b"\r\n" + save, read=False)
    time.sleep(1.5)  # the streams notice the closed connections
    # And a stream still open when the platform stops.
    held = requests.get(f"{lp.url}/jobs/{job['id']}/log", headers=h, stream=True)
    held.raw.read(10)
"""


def run(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data"), mode],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_clients_leaving_streams_early_print_nothing(tmp_path: Path) -> None:
    done = run(tmp_path, "streams")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_oversized_header_gets_a_4xx_and_prints_nothing(tmp_path: Path) -> None:
    done = run(tmp_path, "header")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("400", "431")
    assert done.stderr == ""
