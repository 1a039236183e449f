"""Server contract fixtures: one local platform for the session, driven with plain `requests`.

Tests that need isolation from each other's jobs (listing, ordering, names) use `fresh`, an
`Api` for a brand-new user: users only ever see their own jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from neuro_sync.local import LocalPlatform

from .helpers import Api, unique_user


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("server-platform")) as lp:
        yield lp


@pytest.fixture(scope="session")
def data_dir(platform: LocalPlatform) -> Path:
    return platform.data_dir


@pytest.fixture(scope="session")
def api(platform: LocalPlatform) -> Api:
    """The platform's default user."""
    return Api(platform.url, platform.token, platform.user)


@pytest.fixture
def fresh(platform: LocalPlatform) -> Api:
    """A new user with no jobs yet."""
    user = unique_user()
    return Api(platform.url, platform.issue_token(user), user)


@pytest.fixture
def other(platform: LocalPlatform) -> Api:
    """Another new user, for permission checks."""
    user = unique_user()
    return Api(platform.url, platform.issue_token(user), user)
