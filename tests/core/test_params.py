"""Param coercion: wire values become exact typed values, or are refused with a reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from ledger_core import ParamType
from ledger_core.params import coerce_param


@pytest.mark.parametrize(
    ("param_type", "value", "expected"),
    [
        (ParamType.STRING, "abc", "abc"),
        (ParamType.INTEGER, "42", 42),
        (ParamType.INTEGER, -7, -7),
        (ParamType.DECIMAL, "9.53", Decimal("9.53")),
        (ParamType.DECIMAL, 12, Decimal(12)),
        (ParamType.BOOLEAN, "true", True),
        (ParamType.BOOLEAN, False, False),
        (ParamType.UUID, "1FD1DD3E-33FE-4EF5-9D58-676EF8D306B5",
         "1fd1dd3e-33fe-4ef5-9d58-676ef8d306b5"),
        (ParamType.UUID, UUID(int=1), str(UUID(int=1))),
        (ParamType.DATE, "2022-09-21", "2022-09-21"),
        (ParamType.DATE, date(2022, 9, 21), "2022-09-21"),
        (ParamType.TIMESTAMP, "2022-09-21T10:00:00Z", datetime(2022, 9, 21, 10, tzinfo=UTC)),
        (ParamType.TIMESTAMP, "2022-09-21T12:00:00+02:00", datetime(2022, 9, 21, 10, tzinfo=UTC)),
        (ParamType.JSON, {"a": [1, Decimal("2.5"), None]}, {"a": [1, Decimal("2.5"), None]}),
    ],
)  # fmt: skip
def test_valid_values_are_coerced(param_type: ParamType, value: object, expected: object) -> None:
    """Each type accepts its wire forms and yields the value CEL will see."""
    assert coerce_param(param_type, value) == (expected, None)


@pytest.mark.parametrize(
    ("param_type", "value"),
    [
        (ParamType.STRING, 5),
        (ParamType.INTEGER, "4.2"),
        (ParamType.INTEGER, True),
        (ParamType.INTEGER, str(2**63)),
        (ParamType.INTEGER, Decimal("1E+999999999")),
        (ParamType.DECIMAL, 0.1),
        (ParamType.DECIMAL, "Infinity"),
        (ParamType.DECIMAL, "1,5"),
        (ParamType.BOOLEAN, "yes"),
        (ParamType.BOOLEAN, 1),
        (ParamType.UUID, "1234"),
        (ParamType.DATE, "2022-02-30"),
        (ParamType.DATE, datetime(2022, 1, 1, tzinfo=UTC)),
        (ParamType.TIMESTAMP, "2022-09-21 10:00:00"),
        (ParamType.TIMESTAMP, datetime(2022, 9, 21)),
        (ParamType.TIMESTAMP, "2022-09-21T10:00:00.123456789Z"),
        (ParamType.JSON, {"a": 0.5}),
        (ParamType.JSON, {1: "a"}),
    ],
)
def test_invalid_values_are_refused(param_type: ParamType, value: object) -> None:
    """A value that is not exactly of the declared type gets a reason, not a guess."""
    coerced, reason = coerce_param(param_type, value)
    assert coerced is None
    assert reason


def test_nanosecond_zeros_are_accepted() -> None:
    """Nanosecond digits that are all zero lose nothing and are accepted."""
    value, reason = coerce_param(ParamType.TIMESTAMP, "2022-09-21T10:00:00.123456000Z")
    assert reason is None
    assert value == datetime(2022, 9, 21, 10, 0, 0, 123456, tzinfo=UTC)


def test_aware_datetime_is_normalised_to_utc() -> None:
    """A timestamp given in another zone is held in UTC."""
    eastern = timezone(timedelta(hours=-5))
    value, _ = coerce_param(ParamType.TIMESTAMP, datetime(2022, 1, 1, 19, tzinfo=eastern))
    assert value == datetime(2022, 1, 2, 0, tzinfo=UTC)
