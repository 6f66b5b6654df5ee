"""Coercion of posting params, as they arrive on the wire, to their declared types.

Wire values are mostly strings (``"9.53"``, ``"2022-09-21"``, ``"true"``). Each is turned
into the exact value CEL will see, or refused with the reason; nothing is ever rounded.

==========  ================================  =======================================
type        accepted                           value inside CEL
==========  ================================  =======================================
STRING      str                                str
INTEGER     int, or text of one (int64)        int
DECIMAL     Decimal, int, or decimal text      Decimal (exact; floats refused)
BOOLEAN     bool, "true" or "false"            bool
UUID        UUID or its text                   canonical lower-case str
DATE        date or "YYYY-MM-DD"               "YYYY-MM-DD" str
TIMESTAMP   aware datetime or RFC 3339 text    datetime in UTC
JSON        any JSON value (no floats)         the value, numbers as int or Decimal
==========  ================================  =======================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from ledger_core.enums import ParamType
from ledger_core.money import parse_decimal

__all__ = ["coerce_param"]

_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64_DIGITS = len(str(_INT64_MAX))


def coerce_param(param_type: ParamType, value: object) -> tuple[object, str | None]:
    """Return ``(coerced, None)``, or ``(None, reason)`` when ``value`` is not a ``param_type``."""
    coercer = _COERCERS[param_type]
    return coercer(value)


def _string(value: object) -> tuple[object, str | None]:
    if isinstance(value, str):
        return value, None
    return None, f"expected a string, got {type(value).__name__}"


def _integer(value: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return None, "expected an integer, got a boolean"
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, Decimal) and value.is_finite():
        if value.adjusted() > _INT64_DIGITS:
            # int() of 1E+999999999 would build a billion-digit number first
            return None, "integer out of the 64-bit range"
        if value == value.to_integral_value():
            value = int(value)
    if not isinstance(value, int):
        return None, "expected an integer"
    if not _INT64_MIN <= value <= _INT64_MAX:
        return None, "integer out of the 64-bit range"
    return value, None


def _decimal(value: object) -> tuple[object, str | None]:
    parsed = parse_decimal(value)
    if isinstance(parsed, str):
        return None, f"expected a decimal: {parsed}"
    return parsed, None


def _boolean(value: object) -> tuple[object, str | None]:
    if isinstance(value, bool):
        return value, None
    if value in ("true", "false"):
        return value == "true", None
    return None, 'expected a boolean (true, false, "true" or "false")'


def _uuid(value: object) -> tuple[object, str | None]:
    if isinstance(value, UUID):
        return str(value), None
    if isinstance(value, str):
        try:
            return str(UUID(value)), None
        except ValueError:
            pass
    return None, "expected a UUID"


def _date(value: object) -> tuple[object, str | None]:
    if isinstance(value, datetime):
        return None, "expected a date, got a timestamp"
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            pass
    return None, "expected a date as YYYY-MM-DD"


def _timestamp(value: object) -> tuple[object, str | None]:
    if isinstance(value, str) and _TIMESTAMP_TEXT.fullmatch(value):
        text = value.replace("z", "Z").replace("Z", "+00:00")
        fraction = re.search(r"\.(\d+)", text)
        if fraction and len(fraction.group(1)) > 6:
            # Python keeps microseconds; finer digits are refused, not truncated.
            if fraction.group(1)[6:].strip("0"):
                return None, "timestamps finer than a microsecond are not accepted"
            text = text.replace(fraction.group(0), "." + fraction.group(1)[:6])
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None, "expected an RFC 3339 timestamp"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return None, "expected a timestamp with a time zone"
        return value.astimezone(UTC), None
    return None, "expected an RFC 3339 timestamp"


# A JSON param feeds CEL comprehensions; bounding its size bounds what one evaluation costs.
JSON_VALUES_MAX = 1000


def _json(value: object) -> tuple[object, str | None]:
    reason = _json_problem(value)
    if reason is not None:
        return None, reason
    size = _json_size(value)
    if size > JSON_VALUES_MAX:
        return None, f"a JSON param holds at most {JSON_VALUES_MAX} values, this one {size}"
    return value, None


def _json_size(value: object) -> int:
    if isinstance(value, Mapping):
        return 1 + sum(_json_size(item) for item in value.values())
    if isinstance(value, list | tuple):
        return 1 + sum(_json_size(item) for item in value)
    return 1


def _json_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, Decimal):
        return None if value.is_finite() else "non-finite numbers are not JSON"
    if isinstance(value, float):
        return "floats are not accepted; decode JSON numbers as Decimal"
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return "JSON object keys must be strings"
            problem = _json_problem(item)
            if problem is not None:
                return problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = _json_problem(item)
            if problem is not None:
                return problem
        return None
    return f"a {type(value).__name__} is not a JSON value"


_COERCERS = {
    ParamType.STRING: _string,
    ParamType.INTEGER: _integer,
    ParamType.DECIMAL: _decimal,
    ParamType.BOOLEAN: _boolean,
    ParamType.UUID: _uuid,
    ParamType.DATE: _date,
    ParamType.TIMESTAMP: _timestamp,
    ParamType.JSON: _json,
}
