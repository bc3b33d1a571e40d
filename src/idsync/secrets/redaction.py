"""Keep secret values out of what idsync writes: logs, run history, events, error messages
and tracebacks.

Every secret this process opens or reads from its operator is remembered here (in memory
only); ``redact`` replaces each occurrence with a mask. A filter on the logging handlers and a
wrapper around ``sys.excepthook`` apply it to every log line and to a traceback that escapes
(``--debug``). Values shorter than ``MIN_LENGTH`` are not masked: masking ``ab`` everywhere
would garble every message (and a secret that short protects little).
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

MASK = "********"
MIN_LENGTH = 6

_known: set[str] = set()
_lock = threading.Lock()
_installed = False


def remember(value: str) -> None:
    if len(value) >= MIN_LENGTH:
        with _lock:
            _known.add(value)


def redact(text: str) -> str:
    if not _known or not text:
        return text
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record's message and traceback now, masked (formatters then use them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        # Replaces a text another handler may have cached unmasked.
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        elif record.exc_info:
            record.exc_text = redact(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return True


def _excepthook(kind: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))


def install() -> None:
    """Mask secrets in every handler the root logger has now and in escaping tracebacks."""
    global _installed
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    if not _installed:
        _installed = True
        sys.excepthook = _excepthook
