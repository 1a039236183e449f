"""Session-wide clean-up shared by every test directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _remove_jobs_roots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Local platforms keep job directories outside their data dir (in the system's temporary
    directory, where isolated job uids can reach them): remove those of this session's."""
    yield
    from neuro_sync.local.process_runtime import default_jobs_root

    for database in tmp_path_factory.getbasetemp().rglob("jobs.sqlite3"):
        shutil.rmtree(default_jobs_root(database.parent), ignore_errors=True)
