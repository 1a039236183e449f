"""The real neuro-sdk 22.7.1 against a 2022-dialect local platform.

The SDK gets a venv of its own (`.bench/sdk-22.7.1`, made on first use by the mechanism of the
benchmarks' 2019 peer, `benchmarks.peer_sdk.ensure_peer_venv`); where it cannot be installed
(no package index, no cache) every test here is skipped, saying why. One SDK client serves the
session (`driver.py` in that venv, JSON lines over a pipe).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.peer_sdk import SDK_2022, PeerUnavailable, ensure_peer_venv
from neuro_sync.local import LocalPlatform

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".bench" / "sdk-22.7.1"
DRIVER = Path(__file__).with_name("driver.py")
# Life spans are whole minutes on the wire (at least one): this platform's minute is one
# second, so that a life span really ends within a test.
MINUTE = 1.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.sdk2022)


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    try:
        env = ensure_peer_venv(VENV, spec=SDK_2022, log=lambda _: None)
    except PeerUnavailable as err:
        pytest.skip(f"neuro-sdk 22.7.1 cannot be installed here: {err}")
    except (OSError, subprocess.SubprocessError) as err:
        pytest.skip(f"neuro-sdk 22.7.1 cannot be installed here: {err}")
    return env.python


@pytest.fixture(scope="session")
def platform2022(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(
        tmp_path_factory.mktemp("sdk2022-platform"),
        dialect="2022",
        runtime="process",
        life_span_minute=MINUTE,
    ) as lp:
        yield lp


class Sdk:
    """The SDK client in its own process: `call(op, **arguments)` returns the op's answer."""

    def __init__(self, python: Path, url: str, token: str) -> None:
        self.proc = subprocess.Popen(
            [str(python), "-W", "ignore", str(DRIVER)],
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
        answer = self.fails(op, **arguments, _expect_error=False)
        return answer

    def fails(self, op: str, _expect_error: bool = True, **arguments: Any) -> dict[str, Any]:
        """The answer of an op expected to raise: `{"error": class, "message": text}`."""
        self._send({"op": op, **arguments})
        answer = self._receive()
        if _expect_error:
            assert "error" in answer, answer
        else:
            assert "error" not in answer, answer
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def sdk(sdk_python: Path, platform2022: LocalPlatform) -> Iterator[Sdk]:
    client = Sdk(sdk_python, platform2022.url, platform2022.token)
    yield client
    client.close()
