"""Markers by directory, so that `make unit` can leave out everything that starts servers.

Markers (registered in pyproject.toml; `make unit` runs the tests without `integration`,
`sockets`, `packaging` and `docs`; `make test` runs everything):

* `integration`: starts the local platform (threads and job processes) and drives it over real
  sockets: every test in tests/integration, tests/server and tests/ssh, the load test, the CLI
  console tests and the docs code blocks.
* `sockets`: talks to a server in this process on 127.0.0.1 (the socket fault server of
  tests/reliability, the WebSocket server of tests/unit/test_top.py).
* `slow`: takes seconds by design (load, timing bounds); also one of the two above.
* `packaging`: builds the wheel and sdist and installs the wheel into a fresh venv.
* `docs`: runs the code blocks of README.md and docs/ against the local platform.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent
_INTEGRATION_DIRECTORIES = ("integration", "server", "ssh")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            top = item.path.relative_to(_HERE).parts[0]
        except ValueError:
            continue
        if top in _INTEGRATION_DIRECTORIES:
            item.add_marker(pytest.mark.integration)
