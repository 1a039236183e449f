"""A released SDK (the 2019 `neuromation`, neuro-sdk 22.7.1) driven from a test.

The SDK gets a venv of its own under `.bench/` (made on first use by the mechanism of the
benchmarks' peer, `benchmarks.peer_sdk.ensure_peer_venv`; the 2019 SDK's is the benchmarks'
`.bench/peer-venv`); where it cannot be installed (no
package index, no cache) the tests that need it are skipped, saying why. The SDK runs in a
driver process (a `driver.py` next to the tests, JSON lines over a pipe): `call(op, ...)`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.peer_sdk import PeerSpec, PeerUnavailable, ensure_peer_venv

ROOT = Path(__file__).resolve().parents[2]


def sdk_python(spec: PeerSpec) -> Path:
    """The python of the SDK's venv, or a skip saying why it cannot be had."""
    venv = ROOT / ".bench" / spec.venv_name
    try:
        return ensure_peer_venv(venv, spec=spec, log=lambda _: None).python
    except (PeerUnavailable, OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"{spec.package} cannot be installed here: {err}")


class Sdk:
    """One SDK client in its own process. The token goes over the pipe, never on the
    command line."""

    def __init__(self, python: Path, driver: Path, url: str, token: str) -> None:
        self.proc = subprocess.Popen(
            [str(python), "-W", "ignore", str(driver)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
        )
        self._send({"url": url, "token": token})
        ready = self._receive()
        assert ready == {"ready": True}, ready

    def _send(self, data: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(data) + "\n")
        self.proc.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the SDK driver exited ({self.proc.poll()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        """The op's answer; an SDK exception fails the test (see `fails`)."""
        self._send({"op": op, **arguments})
        answer = self._receive()
        assert "error" not in answer, answer
        return answer

    def fails(self, op: str, **arguments: Any) -> dict[str, Any]:
        """The answer of an op expected to raise: `{"error": class, "message": text}`."""
        self._send({"op": op, **arguments})
        answer = self._receive()
        assert "error" in answer, answer
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
