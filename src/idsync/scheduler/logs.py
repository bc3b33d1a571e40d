"""Structured JSON logs: one object per line on stderr, with the fields passed as ``extra``."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from idsync.secrets.redaction import RedactingFilter

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            # exc_text: the traceback as the redacting filter left it (idsync.secrets).
            data["exception"] = record.exc_text or self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
