"""Fields: the ABA check digit, writing values into fixed widths, and what each kind accepts."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from nacha import Field, Kind, Layout, Rule, check_digit
from nacha.records import LAYOUTS, RECORD_LENGTH


@pytest.mark.parametrize("routing", ["076401251", "231380104", "091000019", "011000015",
                                     "121000248"])
def test_check_digit_is_aba_3_7_1(routing: str) -> None:
    assert check_digit(routing[:8]) == int(routing[8])


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_every_layout_covers_positions_1_to_94_once(layout: Layout) -> None:
    fields = layout.fields
    assert [spec.start for spec in fields] == [1] + [spec.end + 1 for spec in fields[:-1]]
    assert fields[-1].end == RECORD_LENGTH
    assert len({spec.name for spec in fields}) == len(fields)


def test_numeric_fields_are_right_justified_and_zero_filled() -> None:
    assert Field("amount", 30, 39, Kind.NUMERIC).render(9953) == "0000009953"


def test_alphanumeric_fields_are_left_justified_and_space_filled() -> None:
    assert Field("name", 1, 6, Kind.ALPHANUMERIC).render("JO") == "JO    "


def test_dates_times_and_julian_days_have_their_formats() -> None:
    assert Field("d", 1, 6, Kind.DATE).render(date(2024, 2, 29)) == "240229"
    assert Field("md", 1, 4, Kind.MONTH_DAY).render(date(2024, 2, 29)) == "0229"
    assert Field("t", 1, 4, Kind.TIME).render(time(9, 5)) == "0905"
    assert Field("j", 1, 3, Kind.JULIAN).render(64) == "064"


def test_a_routing_field_puts_a_blank_before_nine_digits() -> None:
    assert Field("immediate_destination", 4, 13, Kind.ROUTING).render("076401251") == " 076401251"


def test_a_value_too_wide_is_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Field("amount", 30, 39, Kind.NUMERIC).render(10 ** 10)


@pytest.mark.parametrize("value", [-1, 1.5, True])
def test_money_is_a_non_negative_integer(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Field("amount", 30, 39, Kind.NUMERIC).render(value)  # type: ignore[arg-type]


def test_a_required_numeric_field_needs_a_value() -> None:
    with pytest.raises(ValueError, match="needs a value"):
        Field("amount", 30, 39, Kind.NUMERIC).render(None)


@pytest.mark.parametrize(("kind", "text", "rule"), [
    (Kind.NUMERIC, "12 4", Rule.FIELD_NOT_NUMERIC),
    (Kind.NUMERIC, "١٢٣٤", Rule.FIELD_NOT_NUMERIC),  # digits, but not ASCII ones
    (Kind.ALPHANUMERIC, "AB\tC", Rule.FIELD_NOT_ALPHANUMERIC),
    (Kind.ALPHANUMERIC, "ÄBCD", Rule.FIELD_NOT_ALPHANUMERIC),
    (Kind.RESERVED, "  X ", Rule.FIELD_NOT_BLANK),
    (Kind.MONTH_DAY, "0230", Rule.INVALID_DATE),
    (Kind.TIME, "2400", Rule.INVALID_TIME),
])
def test_each_kind_refuses_what_it_does_not_hold(kind: Kind, text: str, rule: Rule) -> None:
    broken = Field("f", 1, 4, kind).check(text)
    assert broken is not None
    assert broken[0] == rule


@pytest.mark.parametrize(("kind", "text"), [
    (Kind.ALPHANUMERIC, "a~!{"), (Kind.MONTH_DAY, "0229"), (Kind.TIME, "2359"),
])
def test_each_kind_accepts_what_it_holds(kind: Kind, text: str) -> None:
    assert Field("f", 1, 4, kind).check(text) is None


def test_julian_days_run_from_001_to_366() -> None:
    julian = Field("settlement_date", 76, 78, Kind.JULIAN)
    assert julian.check("366") is None
    assert julian.check("000") == (Rule.INVALID_DATE, "not a day of the year")
    assert julian.check("367") == (Rule.INVALID_DATE, "not a day of the year")


def test_the_docs_list_every_rule() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "nacha.md").read_text()
    assert [rule.value for rule in Rule if f"`{rule.value}`" not in docs] == []
