"""A job's own terminal (2022 dialect, `container.tty: true`): the job runs on the slave side
of a pseudo-terminal, the platform keeps the master.

Everything the job writes to its terminal is copied to the job's log by a thread (so `/log`
and `attach` see it, and a job nobody is attached to never blocks on output). Attached clients
type into the master and set its window size (`attach?tty=1&stdin=1`, `ws_monitoring`).

The process runtime runs the job's command on it; the podman runtime runs its foreground
`podman run --tty --interactive` on it, which passes input, output and the window size on to
the container's console. `setsid --ctty` makes the terminal the job's controlling one, so a
^C typed by an attached user interrupts the job's foreground program, as in a local terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

__all__ = ["JobTerminal", "TerminalRuntime", "set_size", "tty_argv"]

BUFSIZE = 64 * 1024
DEFAULT_SIZE = (80, 24)  # columns, rows: until a client says otherwise
DRAIN_GRACE = 2.0  # how long the job's end may wait for the terminal's last output


def set_size(fd: int, columns: int, rows: int, xpixels: int = 0, ypixels: int = 0) -> None:
    """Set a terminal's window size (the foreground program gets SIGWINCH)."""
    with contextlib.suppress(OSError, struct.error):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, xpixels, ypixels))


def tty_argv(argv: list[str]) -> tuple[list[str], bool]:
    """`argv` made to take its stdin terminal as its controlling one, and whether the caller
    must start it in a new session itself (no `setsid` program: no controlling terminal)."""
    wrapper = shutil.which("setsid")
    # Started outside a new session the process is no group leader, so `setsid` calls
    # setsid() in place and execs: the pid, group and session stay the job's own.
    return ([wrapper, "--ctty", *argv], False) if wrapper else (argv, True)


class JobTerminal:
    """A command started on a new pseudo-terminal whose output is appended to `log`."""

    def __init__(
        self,
        argv: list[str],
        *,
        log: IO[bytes],
        cwd: Path | str | None,
        env: dict[str, str],
        user: int | None = None,
    ) -> None:
        master, slave = os.openpty()
        try:
            set_size(slave, *DEFAULT_SIZE)
            full, new_session = tty_argv(argv)
            self.proc = subprocess.Popen(
                full,
                cwd=cwd,
                env={"TERM": "xterm", **env},
                stdin=slave,
                stdout=slave,
                stderr=slave,
                start_new_session=new_session,
                user=user,
                group=user,
                extra_groups=None if user is None else [],
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._closed = False  # the master's fd number may be reused once closed
        self._exited_at: float | None = None  # when the job's process was first seen ended
        self._log_fd = log.fileno()
        self._stop = threading.Event()
        self._pump = threading.Thread(target=self._copy_output, daemon=True)
        self._pump.start()

    def _copy_output(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while not self._stop.is_set():
                ready, _, _ = select.select([self._master], [], [], 0.2)
                if not ready:
                    continue
                try:
                    data = os.read(self._master, BUFSIZE)
                except BlockingIOError:
                    continue
                except OSError:  # EIO: no process has the terminal open any more
                    return
                if not data:
                    return
                while data:
                    data = data[os.write(self._log_fd, data) :]

    @property
    def drained(self) -> bool:
        """All the output the job wrote to its terminal is in its log."""
        return not self._pump.is_alive()

    def holds_exit(self) -> bool:
        """Whether the end of the job, whose process has exited, waits: its last output may
        still be in the terminal. It ends once that is in the log, or after `DRAIN_GRACE`
        (something of the job may keep the terminal open)."""
        if self.drained:
            return False
        self._exited_at = self._exited_at or time.monotonic()
        return time.monotonic() - self._exited_at < DRAIN_GRACE

    def write(self, data: bytes) -> int:
        """Type `data`; how much the terminal took (0: its input buffer is full, try later).
        Once the terminal is closed (the job ended) input is dropped."""
        if self._closed:
            return len(data)
        try:
            return os.write(self._master, data)
        except BlockingIOError:
            return 0
        except OSError:  # EIO: the job is gone
            return len(data)

    def resize(self, columns: int, rows: int) -> None:
        if not self._closed:
            set_size(self._master, columns, rows)

    def close(self) -> None:
        """Stop copying (the job has ended: `poll` waited for the output) and release the
        master; returns within a select() timeout."""
        self._stop.set()
        self._pump.join()
        if not self._closed:
            self._closed = True
            os.close(self._master)


@runtime_checkable
class TerminalRuntime(Protocol):
    """A runtime that can give a job a terminal of its own."""

    name: str

    def terminal(self, job_id: str) -> JobTerminal | None:
        """The terminal of a running job started with `container.tty`, else None."""
        ...
