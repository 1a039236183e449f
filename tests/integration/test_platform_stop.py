"""LocalPlatform.stop() right after start() ends the server thread (it once missed the stop
request and left the thread serving, with stop() returning after its 30 s join)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from neuro_sync.local import LocalPlatform

pytestmark = pytest.mark.integration


def test_stop_right_after_start_ends_the_server_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    platform = LocalPlatform(tmp_path).start()
    (thread,) = [t for t in set(threading.enumerate()) - before if t.name == "neuro-sync-local"]
    platform.stop()
    assert not thread.is_alive()
