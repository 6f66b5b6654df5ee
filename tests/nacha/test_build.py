"""The builder: what it computes, and what it refuses to make."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nacha import FileBuilder, FileRejectedError, Rule, addenda, generate, parse
from nacha.records import BLOCKING_FACTOR, PADDING

CREATED = datetime(2024, 3, 1, 9, 30)
EFFECTIVE = date(2024, 3, 4)
COMPANY = {"company_name": "ACME", "company_identification": "1234567890",
           "company_entry_description": "PAYROLL"}
RECEIVER = {"dfi_account_number": "1", "individual_name": "JO"}


def builder() -> FileBuilder:
    return FileBuilder(immediate_destination="076401251", immediate_origin="1234567890",
                       created=CREATED)


def test_the_service_class_follows_the_entries() -> None:
    made = builder()
    for codes in ((22, 32), (27, 37), (22, 27)):
        batch = made.batch("PPD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
                           **COMPANY)
        for code in codes:
            batch.entry(code, "231380104", 100, **RECEIVER)
    assert [b.header.number("service_class_code") for b in made.build().batches] == [
        220, 225, 200]


def test_trace_numbers_ascend_through_the_file_and_start_with_the_odfi() -> None:
    made = builder()
    first = made.batch("CCD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
                       **COMPANY)
    second = made.batch("CCD", originating_dfi="23138010", effective_entry_date=EFFECTIVE,
                        **COMPANY)
    traces = [first.entry(22, "091000019", 5, dfi_account_number="1"),
              second.entry(22, "091000019", 5, dfi_account_number="2"),
              first.entry(22, "091000019", 5, dfi_account_number="3")]
    assert traces == ["076401250000001", "231380100000002", "076401250000003"]
    assert [e.detail["trace_number"] for e in made.build().entries] == [
        traces[0], traces[2], traces[1]]


def test_a_full_block_gets_no_padding_and_a_partial_one_is_filled() -> None:
    made = builder()
    batch = made.batch("PPD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
                       **COMPANY)
    for _ in range(6):  # 1 + 1 + 6 + 1 + 1 = 10 records
        batch.entry(22, "231380104", 1, **RECEIVER)
    assert made.build().padding == 0
    batch.entry(22, "231380104", 1, **RECEIVER)
    text = generate(made.build())
    assert len(text.splitlines()) == 2 * BLOCKING_FACTOR
    assert text.splitlines()[-1] == PADDING
    assert parse(text).file.control is not None


def test_the_builder_writes_newlines_and_a_blank_settlement_date() -> None:
    made = builder()
    made.batch("PPD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
               **COMPANY).entry(22, "231380104", 1, **RECEIVER)
    text = generate(made.build())
    assert "\r" not in text
    assert text.endswith("\n")
    assert text.splitlines()[1][75:78] == "   "


def test_a_wrong_check_digit_is_refused_with_its_violation() -> None:
    made = builder()
    made.batch("PPD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
               **COMPANY).entry(22, "231380105", 1, **RECEIVER)
    with pytest.raises(FileRejectedError) as rejected:
        made.build()
    assert [(v.record, v.field, v.rule) for v in rejected.value.violations] == [
        (3, "check_digit", Rule.ROUTING_CHECK_DIGIT)]


def test_tel_entries_take_no_addenda() -> None:
    made = builder()
    made.batch("TEL", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
               **COMPANY).entry(27, "231380104", 1, **RECEIVER,
                                addenda=[addenda("05", payment_related_information="X")])
    with pytest.raises(FileRejectedError) as rejected:
        made.build()
    assert [v.rule for v in rejected.value.violations] == [Rule.ADDENDA_NOT_ALLOWED]


@pytest.mark.parametrize(("routing", "amount", "fields", "error"), [
    ("23138010", 1, {}, ValueError),                        # 8 digits: no check digit
    ("231380104", 1.5, {}, TypeError),                      # money is integer cents
    ("231380104", 1, {"trace_number": "1"}, ValueError),    # computed by the builder
    ("231380104", 1, {"individual_nam": "X"}, ValueError),  # not a field of the layout
    ("231380104", 1, {"individual_name": "X" * 23}, ValueError),  # wider than 22
])
def test_bad_entries_are_refused_when_added(routing: str, amount: int, fields: dict[str, str],
                                            error: type[Exception]) -> None:
    batch = builder().batch("PPD", originating_dfi="07640125", effective_entry_date=EFFECTIVE,
                            **COMPANY)
    with pytest.raises(error):
        batch.entry(22, routing, amount, dfi_account_number="1", **fields)


def test_the_odfi_is_eight_digits() -> None:
    with pytest.raises(ValueError, match="first 8 routing digits"):
        builder().batch("PPD", originating_dfi="076401251", effective_entry_date=EFFECTIVE)
