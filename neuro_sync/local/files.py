"""Private files: everything the platform writes under its data dir is for its user only
(job environments in the database, logs, keys, images)."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Sequence
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
    # O_NOFOLLOW: whatever sits at `path`, the platform never writes through a symlink.
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    flags |= os.O_APPEND if mode == "ab" else os.O_TRUNC
    if exclusive:
        flags |= os.O_EXCL
    fd = os.open(path, flags, FILE_MODE)
    return cast(BinaryIO, os.fdopen(fd, mode))


# A directory, pinned: never through a symlink, whatever is swapped in while we walk.
_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class NotBeneath(ValueError):
    """A path component is a symlink or not a directory: the walk would leave its root."""


def open_dir_beneath(root: Path, parts: Sequence[str], *, create: bool = False) -> int:
    """An O_PATH descriptor of the directory `root/parts[0]/parts[1]/...`, walked one
    component at a time with O_NOFOLLOW, each relative to the descriptor of the previous one.

    `root` is the platform's own (followed as given); no component below it is ever followed
    through a symlink, so a job that swaps a directory for a symlink at any moment makes the
    walk fail (NotBeneath) instead of leading it elsewhere. `create`: missing components are
    made (mode 0755) with mkdirat in the directory already pinned. The caller closes the
    descriptor; what it refers to stays that directory, wherever it is renamed to later.
    """
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise NotBeneath(f"not a plain path component: {part!r}")
            try:
                child = _open_child(part, fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):  # another job made it meanwhile
                    os.mkdir(part, 0o755, dir_fd=fd)
                child = _open_child(part, fd)
            os.close(fd)
            fd = child
            if not stat.S_ISDIR(os.fstat(fd).st_mode):  # pragma: no cover - O_DIRECTORY
                raise NotBeneath(f"{part!r} is not a directory")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_child(part: str, dir_fd: int) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno in (errno.ENOTDIR, errno.ELOOP):
            raise NotBeneath(f"{part!r} is a symlink or not a directory") from None
        raise


def tail(path: Path, size: int = 4096) -> bytes:
    """The last `size` bytes of a file (a log's end), empty if it cannot be read."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - size))
            return f.read(size)
    except OSError:
        return b""
