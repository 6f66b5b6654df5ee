"""The sample files: each reads strictly, writes back byte for byte, and means what it says."""

from __future__ import annotations

import pytest

from nacha import AchFile, generate, parse
from nacha.records import (
    ADDENDA_98_REFUSED,
    ADDENDA_99,
    ADDENDA_99_CONTESTED,
    ADDENDA_99_DISHONORED,
    IAT_BATCH_HEADER,
    IAT_ENTRY,
)
from tests.nacha import samples

SAMPLES = {name: samples.text(value) for name, value in vars(samples).items() if name.isupper()}


def read(sample: str) -> AchFile:
    return parse(samples.text(sample)).file


@pytest.mark.parametrize("text", SAMPLES.values(), ids=SAMPLES.keys())
def test_a_sample_reads_strictly_and_writes_back_byte_identical(text: str) -> None:
    parsed = parse(text, origination=True)
    assert parsed.ok
    assert generate(parsed.file) == text
    assert parse(generate(parsed.file)).file == parsed.file


def test_the_file_header() -> None:
    header = read(samples.PPD_PAYROLL).header
    assert header is not None
    assert header.raw("immediate_destination") == " 076401251"
    assert header["immediate_origin"] == "1234567890"
    assert (header["file_creation_date"], header["file_creation_time"]) == ("240301", "0930")
    assert header["immediate_destination_name"] == "FIRST FEDERAL BANK"


def test_a_ppd_payroll() -> None:
    ach_file = read(samples.PPD_PAYROLL)
    batch = ach_file.batches[0]
    assert (batch.sec_code, batch.header.number("service_class_code")) == ("PPD", 220)
    assert batch.header["company_entry_description"] == "PAYROLL"
    amounts = [entry.detail.number("amount") for entry in batch.entries]
    assert amounts == [215000, 187550, 99953, 0]
    assert [entry.detail["trace_number"] for entry in batch.entries][:2] == [
        "076401250000001", "076401250000002"]
    assert batch.entries[2].addenda[0]["payment_related_information"] == "BONUS Q1 2024"
    assert batch.entries[3].detail.number("transaction_code") == 23  # a prenote
    assert batch.control is not None
    assert batch.control.number("total_credit_entry_dollar_amount") == 502503
    # the entry hash: the four receiving DFIs' 8-digit routing numbers added up
    assert batch.control.number("entry_hash") == 23138010 + 9100001 + 1100001 + 12100024


def test_a_ccd_batch_mixes_debits_and_credits() -> None:
    batch = read(samples.CCD_ADDENDA).batches[0]
    assert batch.header.number("service_class_code") == 200
    assert batch.control is not None
    assert (batch.control.number("total_debit_entry_dollar_amount"),
            batch.control.number("total_credit_entry_dollar_amount")) == (34500, 1250000)
    assert batch.entries[1].detail["receiving_company_name"] == "INITECH LLC"


def test_a_ctx_entry_counts_its_addenda() -> None:
    entry = read(samples.CTX_REMITTANCE).entries[0]
    assert entry.detail.number("number_of_addenda_records") == 3
    assert [addenda.number("addenda_sequence_number") for addenda in entry.addenda] == [1, 2, 3]
    assert entry.addenda[0]["payment_related_information"].startswith("ISA*00*")


def test_web_and_tel_carry_a_payment_type_code() -> None:
    web = read(samples.WEB_DEBITS).entries
    assert [entry.detail["payment_type_code"] for entry in web] == ["S", "R"]
    tel = read(samples.TEL_DEBIT)
    assert tel.batches[0].header.number("service_class_code") == 225
    assert tel.entries[0].addenda == ()


def test_a_pos_entry_and_its_terminal() -> None:
    entry = read(samples.POS_PURCHASE).entries[0]
    terminal = entry.addenda[0]
    assert entry.detail["card_transaction_type_code"] == "01"
    assert (terminal["terminal_city"], terminal["terminal_state"]) == ("SPRINGFIELD", "IL")
    assert terminal["transaction_date"] == "0229"
    assert terminal["trace_number"] == entry.detail["trace_number"]


def test_an_iat_payment_uses_its_own_layouts() -> None:
    batch = read(samples.IAT_PAYMENT).batches[0]
    assert batch.header.layout is IAT_BATCH_HEADER
    assert (batch.header["iso_destination_country_code"],
            batch.header["iso_destination_currency_code"]) == ("CA", "CAD")
    entry = batch.entries[0]
    assert entry.detail.layout is IAT_ENTRY
    assert entry.detail["foreign_receivers_account_number"] == "CA0012345678901"
    assert [addenda["addenda_type_code"] for addenda in entry.addenda] == [
        "10", "11", "12", "13", "14", "15", "16", "17", "18"]
    assert entry.detail.number("number_of_addenda_records") == 9
    assert entry.addenda[0].number("foreign_payment_amount") == 250000
    assert entry.addenda[4]["receiving_dfi_identification"] == "BOFMCAM2"


def test_returns_carry_the_original_trace_and_reason() -> None:
    entries = read(samples.RETURNS).entries
    assert all(entry.addenda[0].layout is ADDENDA_99 for entry in entries)
    assert [entry.addenda[0]["return_reason_code"] for entry in entries] == ["R03", "R15"]
    assert entries[1].addenda[0]["date_of_death"] == "240220"
    assert entries[0].addenda[0]["original_entry_trace_number"] == "076401250000001"


def test_notifications_of_change_carry_corrected_data() -> None:
    ach_file = read(samples.NOC)
    assert ach_file.batches[0].sec_code == "COR"
    changes = [entry.addenda[0] for entry in ach_file.entries]
    assert [(noc["change_code"], noc["corrected_data"]) for noc in changes] == [
        ("C01", "00123456780"), ("C05", "37")]


def test_a_refused_notification_of_change() -> None:
    refusal = read(samples.REFUSED_NOC).entries[0].addenda[0]
    assert refusal.layout is ADDENDA_98_REFUSED
    assert (refusal["refused_change_code"], refusal["change_code"]) == ("C62", "C05")


def test_dishonored_and_contested_returns_have_their_own_layouts() -> None:
    dishonored = read(samples.DISHONORED).entries[0].addenda[0]
    assert dishonored.layout is ADDENDA_99_DISHONORED
    assert (dishonored["dishonored_return_reason_code"], dishonored["return_reason_code"],
            dishonored["return_settlement_date"]) == ("R69", "03", "065")
    contested = read(samples.CONTESTED).entries[0].addenda[0]
    assert contested.layout is ADDENDA_99_CONTESTED
    assert (contested["contested_return_code"], contested["dishonored_return_reason_code"],
            contested["date_original_entry_returned"]) == ("R73", "69", "240305")
