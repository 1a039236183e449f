"""One context-manager protocol for everything that holds a connection or a process."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """`with obj:` calls `obj.close()` on the way out; subclasses implement `close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
