"""The JSON log format: one object per record, structured fields kept, secrets not."""

import json
import logging
import sys

from streams.log_format import REDACTED, JsonFormatter


def _line(record: logging.LogRecord) -> dict[str, object]:
    line: dict[str, object] = json.loads(JsonFormatter().format(record))
    return line


def test_a_record_is_one_json_object_with_its_structured_fields() -> None:
    """Timestamp, level, logger and the formatted message, then every ``extra`` field."""
    record = logging.getLogger("streams.routing").makeRecord(
        "streams.routing", logging.WARNING, __file__, 1, "%s[%d]@%d quarantined",
        ("t.legs", 2, 41), None, extra={"topic": "t.legs", "partition": 2, "offset": 41})
    line = _line(record)
    assert line["level"] == "WARNING" and line["logger"] == "streams.routing"
    assert line["message"] == "t.legs[2]@41 quarantined"
    assert (line["topic"], line["partition"], line["offset"]) == ("t.legs", 2, 41)
    assert str(line["timestamp"]).endswith("+00:00")
    assert "\n" not in JsonFormatter().format(record)


def test_a_field_named_as_a_secret_is_redacted_and_a_traceback_kept() -> None:
    """Passwords, tokens and authorization headers never reach the line."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info(),
            extra={"sasl_password": "hunter2", "authorization": "Bearer abc",
                   "api_token": "t0k", "client": "ledger-app"})
    formatted = JsonFormatter().format(record)
    assert "hunter2" not in formatted and "Bearer abc" not in formatted and "t0k" not in formatted
    line = json.loads(formatted)
    assert line["sasl_password"] == line["authorization"] == line["api_token"] == REDACTED
    assert line["client"] == "ledger-app"
    assert "ValueError: boom" in line["exception"]
