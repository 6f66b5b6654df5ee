"""Each rule, broken once: the exact record, field, positions and rule code that is reported."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from nacha import FileBuilder, FileRejectedError, Rule, generate, parse
from tests.nacha import samples
from tests.nacha.support import Where, join, lines_of, overwrite, reported

PPD = samples.text(samples.PPD_PAYROLL)
# PPD's records: 1 file header, 2 batch header, 3-5 and 7 entries, 6 the addenda 05 of entry 5,
# 8 batch control, 9 file control, 10 padding

BROKEN_FIELDS = {
    "record_length": (PPD, 4, 94, "  ", (4, "record", 1, 94, Rule.RECORD_LENGTH)),
    "record_type_unknown": (PPD, 4, 1, "3", (4, "record_type_code", 1, 1,
                                             Rule.RECORD_TYPE_UNKNOWN)),
    "field_not_numeric": (PPD, 3, 30, "00002150A0", (3, "amount", 30, 39,
                                                     Rule.FIELD_NOT_NUMERIC)),
    "field_not_alphanumeric": (PPD, 3, 55, "JÖ", (3, "individual_name", 55, 76,
                                                  Rule.FIELD_NOT_ALPHANUMERIC)),
    "field_not_blank": (PPD, 9, 56, "X", (9, "reserved", 56, 94, Rule.FIELD_NOT_BLANK)),
    "field_required": (PPD, 2, 5, " " * 16, (2, "company_name", 5, 20, Rule.FIELD_REQUIRED)),
    "invalid_constant": (PPD, 1, 35, "095", (1, "record_size", 35, 37, Rule.INVALID_CONSTANT)),
    "invalid_code": (PPD, 1, 34, "a", (1, "file_id_modifier", 34, 34, Rule.INVALID_CODE)),
    "originator_status_code": (PPD, 2, 79, "7", (2, "originator_status_code", 79, 79,
                                                 Rule.INVALID_CODE)),
    "invalid_date": (PPD, 1, 24, "240230", (1, "file_creation_date", 24, 29,
                                            Rule.INVALID_DATE)),
    "effective_entry_date": (PPD, 2, 70, "241301", (2, "effective_entry_date", 70, 75,
                                                    Rule.INVALID_DATE)),
    "settlement_date_julian": (PPD, 2, 76, "367", (2, "settlement_date", 76, 78,
                                                   Rule.INVALID_DATE)),
    "invalid_time": (PPD, 1, 30, "2460", (1, "file_creation_time", 30, 33, Rule.INVALID_TIME)),
    "routing_check_digit": (PPD, 3, 12, "5", (3, "check_digit", 12, 12,
                                              Rule.ROUTING_CHECK_DIGIT)),
    "destination_check_digit": (PPD, 1, 13, "2", (1, "immediate_destination", 4, 13,
                                                  Rule.ROUTING_CHECK_DIGIT)),
    "unknown_service_class": (PPD, 2, 2, "230", (2, "service_class_code", 2, 4,
                                                 Rule.UNKNOWN_SERVICE_CLASS)),
    "unknown_sec_code": (PPD, 2, 51, "XYZ", (2, "standard_entry_class_code", 51, 53,
                                             Rule.UNKNOWN_SEC_CODE)),
    "unknown_transaction_code": (PPD, 3, 2, "25", (3, "transaction_code", 2, 3,
                                                   Rule.UNKNOWN_TRANSACTION_CODE)),
    "service_class_mismatch": (PPD, 3, 2, "27", (3, "transaction_code", 2, 3,
                                                 Rule.SERVICE_CLASS_MISMATCH)),
    "credit_not_allowed": (samples.text(samples.TEL_DEBIT), 3, 2, "22", (
        3, "transaction_code", 2, 3, Rule.CREDIT_NOT_ALLOWED)),
    "amount_must_be_zero": (PPD, 7, 30, "0000000100", (7, "amount", 30, 39,
                                                       Rule.AMOUNT_MUST_BE_ZERO)),
    "amount_must_not_be_zero": (PPD, 3, 30, "0000000000", (3, "amount", 30, 39,
                                                           Rule.AMOUNT_MUST_NOT_BE_ZERO)),
    "individual_name_required": (PPD, 3, 55, " " * 22, (3, "individual_name", 55, 76,
                                                        Rule.FIELD_REQUIRED)),
    "trace_number_order": (PPD, 4, 80, "076401250000001", (4, "trace_number", 80, 94,
                                                           Rule.TRACE_NUMBER_ORDER)),
    "trace_number_odfi": (PPD, 3, 80, "07640126", (3, "trace_number", 80, 94,
                                                   Rule.TRACE_NUMBER_ODFI)),
    "addenda_indicator": (PPD, 3, 79, "1", (3, "addenda_record_indicator", 79, 79,
                                            Rule.ADDENDA_INDICATOR)),
    "addenda_sequence": (PPD, 6, 84, "0002", (6, "addenda_sequence_number", 84, 87,
                                              Rule.ADDENDA_SEQUENCE)),
    "addenda_trace_mismatch": (PPD, 6, 88, "0000004", (6, "entry_detail_sequence_number", 88,
                                                       94, Rule.ADDENDA_TRACE_MISMATCH)),
    "addenda_not_allowed": (PPD, 6, 2, "98", (6, "addenda_type_code", 2, 3,
                                              Rule.ADDENDA_NOT_ALLOWED)),
    "unknown_addenda_type": (PPD, 6, 2, "07", (6, "addenda_type_code", 2, 3,
                                               Rule.UNKNOWN_ADDENDA_TYPE)),
    "batch_header_control_mismatch": (PPD, 8, 45, "9999999999", (
        8, "company_identification", 45, 54, Rule.BATCH_HEADER_CONTROL_MISMATCH)),
    "batch_control_service_class": (PPD, 8, 2, "200", (
        8, "service_class_code", 2, 4, Rule.BATCH_HEADER_CONTROL_MISMATCH)),
    "entry_addenda_count_mismatch": (PPD, 8, 5, "000004", (8, "entry_addenda_count", 5, 10,
                                                           Rule.ENTRY_ADDENDA_COUNT_MISMATCH)),
    "entry_hash_mismatch": (PPD, 8, 11, "0000000001", (8, "entry_hash", 11, 20,
                                                       Rule.ENTRY_HASH_MISMATCH)),
    "file_entry_hash_mismatch": (PPD, 9, 22, "0000000001", (9, "entry_hash", 22, 31,
                                                            Rule.ENTRY_HASH_MISMATCH)),
    "total_debit_mismatch": (PPD, 8, 21, "000000000001", (
        8, "total_debit_entry_dollar_amount", 21, 32, Rule.TOTAL_DEBIT_MISMATCH)),
    "file_total_credit_mismatch": (PPD, 9, 44, "000000000001", (
        9, "total_credit_entry_dollar_amount", 44, 55, Rule.TOTAL_CREDIT_MISMATCH)),
    "batch_count_mismatch": (PPD, 9, 2, "000002", (9, "batch_count", 2, 7,
                                                   Rule.BATCH_COUNT_MISMATCH)),
    "block_count_mismatch": (PPD, 9, 8, "000002", (9, "block_count", 8, 13,
                                                   Rule.BLOCK_COUNT_MISMATCH)),
    "unknown_return_code": (samples.text(samples.RETURNS), 4, 4, "R48", (
        4, "return_reason_code", 4, 6, Rule.UNKNOWN_RETURN_CODE)),
    "unknown_change_code": (samples.text(samples.NOC), 4, 4, "C15", (
        4, "change_code", 4, 6, Rule.UNKNOWN_CHANGE_CODE)),
    "refused_noc_change_code": (samples.text(samples.REFUSED_NOC), 4, 65, "C99", (
        4, "change_code", 65, 67, Rule.UNKNOWN_CHANGE_CODE)),
    "noc_amount": (samples.text(samples.NOC), 3, 30, "0000000001", (
        3, "amount", 30, 39, Rule.AMOUNT_MUST_BE_ZERO)),
    "return_trace": (samples.text(samples.RETURNS), 4, 80, "231380100000009", (
        4, "trace_number", 80, 94, Rule.ADDENDA_TRACE_MISMATCH)),
    "ctx_addenda_count": (samples.text(samples.CTX_REMITTANCE), 3, 55, "0002", (
        3, "number_of_addenda_records", 55, 58, Rule.ADDENDA_COUNT)),
    "iat_foreign_exchange_indicator": (samples.text(samples.IAT_PAYMENT), 2, 21, "XX", (
        2, "foreign_exchange_indicator", 21, 22, Rule.INVALID_CODE)),
    "iat_transaction_type_code": (samples.text(samples.IAT_PAYMENT), 4, 4, "ZZZ", (
        4, "transaction_type_code", 4, 6, Rule.INVALID_CODE)),
    "iat_addenda_order": (samples.text(samples.IAT_PAYMENT), 5, 2, "12", (
        5, "addenda_type_code", 2, 3, Rule.ADDENDA_COUNT)),
    "pos_terminal_date": (samples.text(samples.POS_PURCHASE), 4, 26, "0230", (
        4, "transaction_date", 26, 29, Rule.INVALID_DATE)),
}


@pytest.mark.parametrize(("text", "record", "start", "new", "expected"), BROKEN_FIELDS.values(),
                         ids=BROKEN_FIELDS.keys())
def test_a_broken_field_is_reported_where_it_is(text: str, record: int, start: int, new: str,
                                               expected: Where) -> None:
    broken = overwrite(text, record, start, new)
    assert expected in reported(broken)
    with pytest.raises(FileRejectedError) as rejected:
        parse(broken)
    assert rejected.value.violations == parse(broken, lenient=True).violations


def test_a_settlement_date_is_filled_in_by_the_ach_operator_not_the_originator() -> None:
    received = overwrite(PPD, 2, 76, "064")
    assert parse(received).ok
    assert reported(received, origination=True) == [
        (2, "settlement_date", 76, 78, Rule.SETTLEMENT_DATE_NOT_BLANK)]


def test_a_debit_in_a_credits_only_batch_names_the_service_class() -> None:
    violation = parse(overwrite(PPD, 3, 2, "27"), lenient=True).violations
    assert [str(v) for v in violation if v.rule is Rule.SERVICE_CLASS_MISMATCH] == [
        "record 3, transaction_code (2-3): service_class_mismatch: a debit in a batch of "
        "service class 220 (found '27')"]


def test_a_changed_amount_breaks_both_controls_totals() -> None:
    assert reported(overwrite(PPD, 3, 30, "0000215001")) == [
        (8, "total_credit_entry_dollar_amount", 33, 44, Rule.TOTAL_CREDIT_MISMATCH),
        (9, "total_credit_entry_dollar_amount", 44, 55, Rule.TOTAL_CREDIT_MISMATCH)]


def test_strict_mode_reports_every_error_not_just_the_first() -> None:
    broken = overwrite(overwrite(PPD, 3, 12, "5"), 9, 2, "000007")
    with pytest.raises(FileRejectedError) as rejected:
        parse(broken)
    assert [(v.record, v.rule) for v in rejected.value.violations] == [
        (3, Rule.ROUTING_CHECK_DIGIT), (9, Rule.BATCH_COUNT_MISMATCH)]
    assert "ACH file rejected: record 3, check_digit (12-12)" in str(rejected.value)


def test_padding_must_fill_the_last_block_exactly() -> None:
    lines = lines_of(PPD)
    assert reported(join(lines[:-1])) == [(9, "record", 1, 94, Rule.BLOCK_PADDING)]
    assert reported(join([*lines, "9" * 94])) == [
        (11, "record", 1, 94, Rule.BLOCK_PADDING)]


def test_a_second_addenda_05_on_a_ppd_entry_is_one_too_many() -> None:
    lines = lines_of(PPD)
    extra = lines[5][:83] + "00020000003"
    violations = reported(join([*lines[:6], extra, *lines[6:]]))
    assert (7, "addenda_type_code", 2, 3, Rule.ADDENDA_COUNT) in violations


def test_a_pos_entry_needs_its_addenda_02() -> None:
    lines = lines_of(samples.text(samples.POS_PURCHASE))
    without = join([*lines[:2], lines[2][:78] + "0" + lines[2][79:], *lines[4:]])
    assert (3, "addenda_record_indicator", 79, 79, Rule.ADDENDA_COUNT) in reported(without)


def test_a_tel_entry_takes_no_addenda_05() -> None:
    lines = lines_of(samples.text(samples.TEL_DEBIT))
    trace = lines[2][80:]
    addenda = "705" + "CALL NOTES".ljust(80) + "0001" + trace[-7:]
    with_addenda = join([*lines[:2], lines[2][:78] + "1" + lines[2][79:], addenda, *lines[3:]])
    assert (4, "addenda_type_code", 2, 3, Rule.ADDENDA_NOT_ALLOWED) in reported(with_addenda)


def test_a_batch_needs_an_entry() -> None:
    # the TEL sample without its entry, its controls zeroed to match
    lines = lines_of(samples.text(samples.TEL_DEBIT))
    batch_control = lines[3][:4] + "0" * 40 + lines[3][44:]
    file_control = lines[4][:13] + "0" * 42 + lines[4][55:]
    empty = join([*lines[:2], batch_control, file_control, *lines[5:], "9" * 94])
    assert reported(empty) == [(2, "record", 1, 94, Rule.BATCH_EMPTY)]


def test_batch_numbers_ascend_through_the_file() -> None:
    builder = FileBuilder(immediate_destination="076401251", immediate_origin="1234567890",
                          created=datetime(2024, 3, 1, 9, 30))
    for _ in range(2):
        builder.batch("CCD", originating_dfi="07640125", effective_entry_date=date(2024, 3, 4),
                      company_name="ACME", company_identification="1234567890",
                      company_entry_description="FEES").entry(
            27, "231380104", 100, dfi_account_number="1")
    text = generate(builder.build())
    # the second batch renumbered 1, in its header (record 5) and its control (record 7)
    broken = overwrite(overwrite(text, 5, 88, "0000001"), 7, 88, "0000001")
    assert reported(broken) == [(5, "batch_number", 88, 94, Rule.BATCH_NUMBER_ORDER)]
