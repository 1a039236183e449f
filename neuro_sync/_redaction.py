"""The token never shows: redaction of texts, of library log records, of exception chains."""

from __future__ import annotations

import logging
import threading
import traceback
import weakref
from collections.abc import Callable

__all__ = ["chain_is_clean", "protect_library_logs", "token_redactor"]


def token_redactor(token: str) -> Callable[[str], str]:
    """A function that replaces `token` by `<redacted>` in a text."""

    def redact(text: str) -> str:
        return text.replace(token, "<redacted>") if token else text

    return redact


def chain_is_clean(err: BaseException, redact: Callable[[str], str]) -> bool:
    """True when no text of `err` or of the exceptions chained to it holds the token.

    Library exceptions quote what the server sent (a status line, a redirect target), which a
    hostile or careless server may have filled with the token it was given. Such an exception
    is not chained to ours: `raise ... from` would show its text in every traceback.
    """
    texts = traceback.format_exception(err)
    seen: list[BaseException] = []
    todo = [err]
    while todo:
        e = todo.pop()
        if any(e is s for s in seen) or len(seen) > 20:
            continue
        seen.append(e)
        texts.append(repr(e))
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
    return all(redact(t) == t for t in texts)


class _RedactingFilter(logging.Filter):
    """Takes live tokens out of the records of the HTTP libraries' own loggers.

    urllib3 logs, for instance, the raw header bytes of a reply it cannot parse; a server that
    echoes the request there would put the token in the application's logs. Each `Transport`
    registers its redactor (weakly: a closed and collected client leaves nothing behind).
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Callable[[str], str]] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, redact: Callable[[str], str]) -> None:
        with self._lock:
            self._redactors.add(redact)

    def _redact(self, text: str) -> str:
        with self._lock:
            redactors = list(self._redactors)
        for redact in redactors:
            text = redact(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the handler's business
            return True
        clean = self._redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            clean = self._redact(text)
            if clean != text:
                # The formatted, redacted traceback replaces the exception itself.
                record.exc_info, record.exc_text = None, clean
        return True


_LOG_FILTER = _RedactingFilter()
_FILTERED_LOGGERS = (
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "websockets",
    "websockets.client",
)
_filter_installed = False
_filter_lock = threading.Lock()


def protect_library_logs(redact: Callable[[str], str]) -> None:
    global _filter_installed
    with _filter_lock:
        if not _filter_installed:
            for name in _FILTERED_LOGGERS:
                logging.getLogger(name).addFilter(_LOG_FILTER)
            _filter_installed = True
    _LOG_FILTER.add(redact)
