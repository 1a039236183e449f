"""Every Python and shell block of README.md and docs/*.md runs against the local platform.

The Python blocks of one page run in order in one namespace (later blocks use the imports and
names of earlier ones), with `NEUROMATION_CONFIG` pointing at a fresh LocalPlatform's
client.nmrc, so `neuro_sync.get()` in an example finds it as a reader's would.

The shell blocks of one page run in order as one bash script (`set -e -o pipefail`), with this
venv's commands first on PATH and a fresh HOME whose `~/.neuro-sync-local` (the default data
dir) holds a running platform, as a reader who started `neuro-sync-local` has it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import neuro_sync
from neuro_sync.local import DEFAULT_DATA_DIR, LocalPlatform

from .blocks import NO_TEST, python_blocks, shell_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p)]
PAGES_WITH_COMMANDS = [p for p in PAGES if any(not b.skipped for b in shell_blocks(p))]
SHELL_TIMEOUT = 300  # bounds a hung page; the pages take seconds


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
    if "exec(" in page.read_text(encoding="utf-8") and shutil.which("ssh") is None:
        pytest.skip("exec and port_forward need the OpenSSH client (ssh)")
    for var in ("NEURO_SYNC_URL", "NEURO_SYNC_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NEUROMATION_CONFIG", str(platform.config_path))
    monkeypatch.chdir(tmp_path)  # an example writing a file writes it here
    namespace: dict[str, Any] = {"__name__": "__main__"}
    ran = 0
    for block in python_blocks(page):
        if not block.skipped:
            capsys.readouterr()
            exec(block.compiled(), namespace)  # noqa: S102 - running the examples is the test
            ran += 1
            printed = capsys.readouterr().out
            # A `# prints: TEXT` comment says what the reader sees: the block prints it.
            for expected in re.findall(r"# prints: (.+)$", block.code, re.MULTILINE):
                assert expected.strip() in printed, f"{page.name}: {expected!r} not in {printed!r}"
    assert ran, f"every Python block of {page.name} is marked {NO_TEST}"
    # Jobs an example left running do not leak into the next page's examples.
    with neuro_sync.Client(platform.url, platform.token) as client:
        for job in client.jobs.list(statuses={"pending", "running"}):
            client.jobs.kill(job.id)
    capsys.readouterr()


def shell_script(page: Path) -> str:
    """The page's shell blocks as one script whose line numbers are the page's."""
    lines = ["set -e -o pipefail; trap 'echo \"failed: line $LINENO\" >&2' ERR"]
    for block in shell_blocks(page):
        if block.skipped:
            continue
        lines += [""] * (block.line - 1 - len(lines))
        lines += block.code.splitlines()
    return "\n".join(lines) + "\n"


@pytest.mark.docs
@pytest.mark.integration
@pytest.mark.parametrize("page", PAGES_WITH_COMMANDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_commands_run(page: Path, tmp_path: Path) -> None:
    script = shell_script(page)
    if re.search(r"neuro-sync (exec|port-forward)", script) and shutil.which("ssh") is None:
        pytest.skip("exec and port-forward need the OpenSSH client (ssh)")
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    data_dir = Path(DEFAULT_DATA_DIR.replace("~", str(home), 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEURO_SYNC_", "NEUROM"))}
    env |= {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "NEUROMATION_CONFIG": str(data_dir / "client.nmrc"),
    }
    with LocalPlatform(data_dir) as platform:
        try:
            done = subprocess.run(
                ["bash", "-c", script, page.name],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=SHELL_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            with neuro_sync.Client(platform.url, platform.token) as client:
                for job in client.jobs.list(statuses={"pending", "running"}):
                    client.jobs.kill(job.id)
    report = f"{page.name}:\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, report
    assert "Traceback" not in done.stderr, report
    assert platform.token not in done.stdout + done.stderr


def test_the_pages_that_must_have_examples_have_them() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES_WITH_CODE}
    assert {"README.md", "docs/getting-started.md", "docs/migrating.md"} <= names
    commands = {p.relative_to(ROOT).as_posix() for p in PAGES_WITH_COMMANDS}
    assert {"README.md", "docs/getting-started.md", "docs/cli.md"} <= commands


def test_every_page_names_the_one_default_data_dir() -> None:
    """The docs' data dir is the command's default, so a reader following two pages gets one
    platform and one token (issue: `~/neuro-sync-local` here, `~/.neuro-sync-local` there)."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for found in re.findall(r"~/\.?neuro-sync-local\b", text):
            assert found == DEFAULT_DATA_DIR, f"{page.name} names {found}"


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

<!-- no-test: installs -->

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
        (27, 'z = "```"\n', False),
    ]


def test_shell_blocks_and_their_skips() -> None:
    blocks = shell_blocks(Path("page.md"), SAMPLE)
    assert [(b.line, b.code, b.skipped) for b in blocks] == [(24, "echo not python\n", True)]


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


@pytest.mark.docs
def test_the_site_scrolls_wide_code_blocks_instead_of_cutting_them(tmp_path: Path) -> None:
    """The built pages load our stylesheet, which lets a wide code block scroll sideways."""
    sphinx = Path(sys.executable).with_name("sphinx-build")
    if not sphinx.exists():
        pytest.skip("sphinx is not installed (the `docs` extra)")
    subprocess.run(
        [str(sphinx), "-q", "-b", "html", str(ROOT / "docs"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=SHELL_TIMEOUT,
    )
    page = (tmp_path / "getting-started.html").read_text(encoding="utf-8")
    assert re.search(r'href="_static/neuro-sync\.css(\?[^"]*)?"', page)
    css = (tmp_path / "_static" / "neuro-sync.css").read_text(encoding="utf-8")
    rule = re.search(r"div\.highlight pre,[^{]*\{([^}]*)\}", css)
    assert rule and "overflow-x: auto" in rule[1] and "white-space: pre" in rule[1]
    assert '<div class="highlight-sh notranslate">' in page  # the blocks it applies to
