"""Every Python block of README.md and docs/*.md runs against the local platform.

The blocks of one page run in order in one namespace (later blocks use the imports and names
of earlier ones), with `NEUROMATION_CONFIG` pointing at a fresh LocalPlatform's client.nmrc,
so `neuro_sync.get()` in an example finds it as a reader's would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import neuro_sync
from neuro_sync.local import LocalPlatform

from .blocks import NO_TEST, python_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p)]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(tmp_path_factory.mktemp("docs-platform")) as lp:
        yield lp


@pytest.mark.docs
@pytest.mark.integration
@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(
    page: Path,
    platform: LocalPlatform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for var in ("NEURO_SYNC_URL", "NEURO_SYNC_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEUROMATION_CONFIG", str(platform.config_path))
    monkeypatch.chdir(tmp_path)  # an example writing a file writes it here
    namespace: dict[str, Any] = {"__name__": "__main__"}
    ran = 0
    for block in python_blocks(page):
        if not block.skipped:
            exec(block.compiled(), namespace)  # noqa: S102 - running the examples is the test
            ran += 1
    assert ran, f"every Python block of {page.name} is marked {NO_TEST}"
    # Jobs an example left running do not leak into the next page's examples.
    with neuro_sync.Client(platform.url, platform.token) as client:
        for job in client.jobs.list(statuses={"pending", "running"}):
            client.jobs.kill(job.id)
    capsys.readouterr()


def test_the_pages_that_must_have_examples_have_them() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES_WITH_CODE}
    assert {"README.md", "docs/getting-started.md", "docs/migrating.md"} <= names


SAMPLE = """\
# Title

```python
import os
x = 1
```

<!-- no-test -->

```python
remote_only()
```

- a list item:

  ```{code-block} python
  :caption: indented, with an option
  y = x + 1
  ```

```sh
echo not python
```
````py
z = "```"
````
"""


def test_extractor_finds_lines_skips_and_dedents() -> None:
    blocks = python_blocks(Path("page.md"), SAMPLE)
    assert [(b.line, b.code, b.skipped) for b in blocks] == [
        (4, "import os\nx = 1\n", False),
        (11, "remote_only()\n", True),
        (18, "y = x + 1\n", False),
        (25, 'z = "```"\n', False),
    ]


def test_a_failing_block_points_at_its_page_line() -> None:
    (block,) = python_blocks(Path("docs/page.md"), "text\n\n```python\nok = 1\n1 / 0\n```\n")
    with pytest.raises(ZeroDivisionError) as err:
        exec(block.compiled(), {})  # noqa: S102
    frame = err.traceback[-1]
    assert (str(frame.path), frame.lineno + 1) == ("docs/page.md", 5)


def test_the_api_reference_documents_every_public_name() -> None:
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    # `neuro_sync.Jobs()`: a class documented without its constructor (made by the client).
    missing = [
        n
        for n in neuro_sync.__all__
        if f"neuro_sync.{n}\n" not in api and f"neuro_sync.{n}()\n" not in api
    ]
    assert not missing, f"docs/api.md lacks {missing}"
