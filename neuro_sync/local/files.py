"""Private files: everything the platform writes under its data dir is for its user only
(job environments in the database, logs, keys, images)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, cast

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) with mode 0700; tighten it if it exists."""
    missing = []
    for parent in (path, *path.parents):  # Path.mkdir(parents=True) ignores `mode` for them
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        with contextlib.suppress(FileExistsError):
            parent.mkdir(mode=DIR_MODE)
    if path.stat().st_mode & 0o077:
        os.chmod(path, DIR_MODE)
    return path


def open_private(path: Path, mode: str = "ab", *, exclusive: bool = False) -> BinaryIO:
    """Open a file for writing, created with mode 0600 (`ab`, `wb`; `exclusive`: must not
    exist yet)."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode == "ab" else os.O_TRUNC
    if exclusive:
        flags |= os.O_EXCL
    fd = os.open(path, flags, FILE_MODE)
    return cast(BinaryIO, os.fdopen(fd, mode))
