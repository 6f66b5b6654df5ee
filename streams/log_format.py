"""How a ledger process writes its log: the usual text lines, or one JSON object per line.

``--log-format json`` gives each record as one JSON object: ``timestamp`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, the traceback as ``exception`` when there is one, and
every structured field the call passed with ``extra=`` (``topic``, ``partition``,
``offset``, ...), so a log pipeline can filter on them without parsing messages.

No secret reaches a line through a field: a field whose name says it holds one (a password,
a token, a key of a signature, an ``Authorization`` header) is written as ``[redacted]``.
Messages never carry client settings or credentials in the first place.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logging"]

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|credential|authori[sz]ation|api_?key"
                          r"|signing_?key|private", re.IGNORECASE)
# What every LogRecord carries; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime",
                                                               "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the record's structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name not in line:
                line[name] = REDACTED if _SECRET_NAME.search(name) else value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send the process's log to stderr as text lines (the default) or JSON lines."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
