"""Fenced code blocks of the Markdown pages (README.md, docs/*.md), for testing them: the
Python blocks and the shell (`sh`) command blocks.

A block is skipped only when the line before its fence (blank lines aside) is the comment
`<!-- no-test -->` or `<!-- no-test: why -->`: for examples that need a real remote platform,
install packages, or start a server in the foreground.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

NO_TEST = "<!-- no-test -->"
_NO_TEST = re.compile(r"^<!-- no-test(:[^>]*)? -->$")
# ```python, ```py, and MyST's ```{code-block} python (or {code}, {sourcecode}).
_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*"
    r"(?:\{(?:code-block|code|sourcecode)\}[ \t]+)?(?P<lang>[\w+-]*)"
)
PYTHON = {"python", "py", "python3"}
SHELL = {"sh", "bash", "shell"}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the first code line
    code: str
    skipped: bool

    def compiled(self) -> CodeType:
        """Compiled so a traceback names the page and the line in it."""
        return compile("\n" * (self.line - 1) + self.code, str(self.path), "exec")


def python_blocks(path: Path, text: str | None = None) -> list[Block]:
    return code_blocks(path, PYTHON, text)


def shell_blocks(path: Path, text: str | None = None) -> list[Block]:
    return code_blocks(path, SHELL, text)


def code_blocks(path: Path, languages: set[str], text: str | None = None) -> list[Block]:
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m["fence"], m["indent"]
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if m["lang"].lower() in languages:
            body = [ln.removeprefix(indent) for ln in lines[i + 1 : end]]
            # MyST directive options (`:caption: ...`) open a code-block's body.
            start = i + 1
            while body and re.match(r"^:[\w-]+:", body[0]):
                body.pop(0)
                start += 1
            before = [ln.strip() for ln in lines[:i] if ln.strip()]
            skipped = bool(before) and bool(_NO_TEST.match(before[-1]))
            code = textwrap.dedent("\n".join(body)) + "\n"
            blocks.append(Block(path, start + 1, code, skipped))
        i = end + 1
    return blocks
