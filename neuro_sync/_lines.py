"""Splitting a stream into lines in linear time and bounded memory.

A line without a newline may be megabytes long (a progress bar redrawn with `\\r`, a hostile
server): the text is searched for newlines only where it is new, the pieces of an unfinished
line are joined once, and a line longer than `limit` comes out in pieces of `limit`.
"""

from __future__ import annotations

from typing import AnyStr, Generic

__all__ = ["LineSplitter"]


class LineSplitter(Generic[AnyStr]):
    """Feed it chunks (`str` or `bytes`); it returns the complete lines, without `\\n` (and
    without a last `\\r`, when `carriage_return` is given), then the pieces of an unfinished
    line past `limit`."""

    def __init__(self, newline: AnyStr, limit: int, carriage_return: AnyStr | None = None) -> None:
        self._newline: AnyStr = newline
        self._cr: AnyStr | None = carriage_return
        self._limit = limit
        self._parts: list[AnyStr] = []
        self._size = 0

    @property
    def pending(self) -> int:
        """The length of the unfinished line."""
        return self._size

    def feed(self, data: AnyStr) -> list[AnyStr]:
        lines: list[AnyStr] = []
        newline, start = self._newline, 0
        end = data.find(newline)
        while end >= 0:
            piece = data[start:end]
            if self._parts:
                self._parts.append(piece)
                piece = piece[:0].join(self._parts)
                self._parts, self._size = [], 0
            if self._cr is not None and piece.endswith(self._cr):
                piece = piece[:-1]
            lines.append(piece)
            start = end + 1
            end = data.find(newline, start)
        if start < len(data):
            rest = data[start:]
            self._parts.append(rest)
            self._size += len(rest)
            if self._size > self._limit:
                joined = rest[:0].join(self._parts)
                # Pieces while more than `limit` remains: the rest may still end in a newline.
                cut = (len(joined) - 1) // self._limit * self._limit
                lines += [joined[i : i + self._limit] for i in range(0, cut, self._limit)]
                rest = joined[cut:]
                self._parts, self._size = ([rest] if rest else []), len(rest)
        return lines

    def flush(self) -> AnyStr | None:
        """The unfinished line, if any (at the end of the stream)."""
        if not self._parts:
            return None
        line = self._parts[0][:0].join(self._parts)
        self._parts, self._size = [], 0
        return line
