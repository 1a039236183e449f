"""The `neuro-sync` console script as a subprocess on a pseudo-terminal of the test: what it
shows, what is typed into it, its window size, and the terminal's mode after it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path


class CliTerminal:
    """`neuro-sync ARGS...` on a new pseudo-terminal of `rows` x `columns`."""

    def __init__(self, env: dict[str, str], *args: str, rows: int, columns: int) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.mode = termios.tcgetattr(self.slave)
        self.shown = b""
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("neuro-sync")), *args],
            env=env | {"TERM": "xterm"},
            stdin=self.slave,
            stdout=self.slave,
            stderr=self.slave,
            start_new_session=True,
        )

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_raw(self, timeout: float = 60) -> None:
        """Until the CLI has put the terminal in raw mode (it discards what was typed before)."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.slave)[3] & termios.ECHO:
            assert self.proc.poll() is None, f"exited {self.proc.returncode}: {self.shown!r}"
            assert time.monotonic() < deadline, "the CLI did not put the terminal in raw mode"
            time.sleep(0.02)

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        # The CLI is not in this terminal's foreground group, so the kernel does not signal it.
        self.proc.send_signal(signal.SIGWINCH)

    def wait_for(self, wanted: bytes, timeout: float = 60) -> None:
        """Until the terminal has shown `wanted` (`timeout` is a hang guard)."""
        deadline = time.monotonic() + timeout
        while wanted not in self.shown:
            assert time.monotonic() < deadline, f"no {wanted!r} in {self.shown!r}"
            if select.select([self.master], [], [], 0.5)[0]:
                self.shown += os.read(self.master, 4096)
            elif self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}: {self.shown!r}")

    def finish(self) -> tuple[int, bool]:
        """The exit code, and whether the terminal's mode is back as it was."""
        code = self.proc.wait(timeout=60)
        restored = termios.tcgetattr(self.slave) == self.mode
        os.close(self.master)
        os.close(self.slave)
        return code, restored
