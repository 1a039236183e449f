"""Session-wide clean-up, and markers by directory so that `make unit` can leave out
everything that starts servers.

Markers (registered in pyproject.toml; `make unit` runs the tests without `integration`,
`sockets`, `packaging`, `docs` and `notebook`; `make test` runs everything):

* `integration`: starts the local platform (threads and job processes) and drives it over real
  sockets: every test in tests/integration, tests/server, tests/ssh, tests/sdk2019 and
  tests/sdk2022, the load test, the CLI console tests and the docs code blocks.
* `sockets`: talks to a server in this process on 127.0.0.1 (the socket fault server of
  tests/reliability, the WebSocket server of tests/unit/test_top.py).
* `slow`: takes seconds by design (load, timing bounds); also one of the two above.
* `podman`: runs jobs in podman containers (tests/containers; also `integration`); skipped
  where podman cannot run them.
* `slurm`: runs jobs on a private 3-node Slurm cluster it starts (tests/slurm; also
  `integration`); skipped without root, Slurm, munge or podman.
* `packaging`: builds the wheel and sdist and installs the wheel into a fresh venv.
* `docs`: runs the code blocks of README.md and docs/ against the local platform.
* `sdk`: drives a released SDK, installed into a venv of its own on first use, against the
  local platform: `neuromation` 19.8.23 against the 2019 dialect (tests/sdk2019), neuro-sdk
  22.7.1 against the 2022 dialect (tests/sdk2022); also `integration`; skipped where the SDK
  cannot be installed.
* `notebook`: executes a notebook in a real Jupyter kernel.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from neuro_sync.local import LocalPlatform

_HERE = Path(__file__).parent
_INTEGRATION_DIRECTORIES = ("integration", "server", "ssh", "sdk2019", "sdk2022")
_SDK_DIRECTORIES = ("sdk2019", "sdk2022")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            top = item.path.relative_to(_HERE).parts[0]
        except ValueError:
            continue
        if top in _INTEGRATION_DIRECTORIES:
            item.add_marker(pytest.mark.integration)
        if top in _SDK_DIRECTORIES:
            item.add_marker(pytest.mark.sdk)


@pytest.fixture(scope="session", autouse=True)
def _remove_jobs_roots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Local platforms keep job directories outside their data dir (in the system's temporary
    directory, where isolated job uids can reach them): remove those of this session's."""
    yield
    from neuro_sync.local.process_runtime import default_jobs_root

    for database in tmp_path_factory.getbasetemp().rglob("jobs.sqlite3"):
        shutil.rmtree(default_jobs_root(database.parent), ignore_errors=True)


@pytest.fixture(scope="module")
def platform22(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """A 2022-dialect local platform (jobs as processes) of the test module's own."""
    from neuro_sync.local import LocalPlatform

    with LocalPlatform(
        tmp_path_factory.mktemp("platform-2022"), dialect="2022", runtime="process"
    ) as lp:
        yield lp
