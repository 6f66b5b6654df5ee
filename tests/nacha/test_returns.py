"""Return files: what each return entry carries from its original, the batches and header
they mirror, the totals, what cannot be returned, and that any choice of entries returns
as a valid file."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nacha import (
    AchFile,
    FileBuilder,
    ReturnError,
    addenda,
    build_return_file,
    check_digit,
    generate,
    parse,
    validate,
)
from nacha.codes import is_credit, return_transaction_code
from nacha.records import ADDENDA_99, BLOCKING_FACTOR
from nacha.returns import ENTRY_RETURN_CODES
from tests.nacha import samples
from tests.nacha.samples import text
from tests.nacha.strategies import Spec, files
from tests.nacha.support import overwrite

SENDER = "076401251"       # who sent the received file: the return file goes back to it
BANK = "026009593"         # the RDFI, returning its customers' entries
RETURNING_DFI = BANK[:8]
CREATED = datetime(2025, 11, 17, 8, 5)


def received() -> tuple[AchFile, dict[str, str]]:
    """A file the bank received from two ODFIs, and its entries' trace numbers by name."""
    made = FileBuilder(immediate_destination=BANK, immediate_origin=SENDER,
                       created=datetime(2025, 11, 14, 9, 30), file_id_modifier="C",
                       immediate_destination_name="EXAMPLE BANK",
                       immediate_origin_name="ORIGIN BANK")
    payroll = made.batch("PPD", originating_dfi="07640125", effective_entry_date=date(2025, 11, 14),
                         company_name="ACME PAYROLL", company_discretionary_data="DEPT 7",
                         company_identification="1234567890",
                         company_entry_description="PAYROLL", company_descriptive_date="NOV 14")
    shop = made.batch("WEB", originating_dfi="09100001", effective_entry_date=date(2025, 11, 15),
                      company_name="SHOP", company_identification="9999999999",
                      company_entry_description="ONLINE")
    vendor = made.batch("CCD", originating_dfi="07640125",
                        effective_entry_date=date(2025, 11, 14), company_name="GLOBEX",
                        company_identification="1122334455", company_entry_description="VENDOR")
    traces = {
        "checking credit": payroll.entry(
            22, BANK, 215000, dfi_account_number="00123456789", individual_name="JANE DOE",
            individual_identification_number="EMP0001", discretionary_data="AB",
            addenda=[addenda("05", payment_related_information="BONUS")]),
        # a debit among the payroll's credits: the batch is mixed (200), its returns are not
        "kept": payroll.entry(27, BANK, 100, dfi_account_number="5", individual_name="JO"),
        "savings credit": payroll.entry(32, BANK, 187550, dfi_account_number="94455667788",
                                        individual_name="JOHN ROE"),
        "prenote": payroll.entry(23, BANK, 0, dfi_account_number="55500011",
                                 individual_name="WEI CHEN"),
        "checking debit": shop.entry(27, BANK, 4999, dfi_account_number="112233445",
                                     individual_name="MARIA GARCIA",
                                     individual_identification_number="ORDER-88123",
                                     payment_type_code="R"),
        "savings debit": shop.entry(37, BANK, 1500, dfi_account_number="998877",
                                    individual_name="AL", payment_type_code="S"),
        "company debit": vendor.entry(27, BANK, 34500, dfi_account_number="300400500",
                                      identification_number="CUST-0007",
                                      receiving_company_name="INITECH LLC"),
    }
    return made.build(), traces


RETURNS = {"checking credit": "R03", "savings credit": "R02", "prenote": "R04",
           "checking debit": "R01", "savings debit": "R10", "company debit": "R29"}


def returned(first_sequence: int = 1) -> tuple[AchFile, AchFile, dict[str, str]]:
    """The received file, its return file for RETURNS, and the trace numbers by name."""
    original, traces = received()
    returns = {traces[name]: code for name, code in RETURNS.items()}
    made = build_return_file(original, returns, originating_dfi=RETURNING_DFI, created=CREATED,
                             file_id_modifier="R", first_sequence=first_sequence)
    return original, made, traces


def test_each_return_carries_its_original() -> None:
    original, made, traces = returned()
    by_trace = {entry.detail["trace_number"]: entry for entry in original.entries}
    odfi_of = {entry.detail["trace_number"]: batch.header["originating_dfi_identification"]
               for batch in original.batches for entry in batch.entries}
    assert len(made.entries) == len(RETURNS)
    for entry in made.entries:
        detail, (reason,) = entry.detail, entry.addenda
        assert reason.layout is ADDENDA_99
        first = by_trace[reason["original_entry_trace_number"]]
        odfi = odfi_of[first.detail["trace_number"]]
        code = first.detail.number("transaction_code")
        assert code is not None
        assert detail.number("transaction_code") == return_transaction_code(code)
        # the return goes to the original's ODFI; its RDFI is named in the addenda
        assert (detail["receiving_dfi_identification"], detail["check_digit"]) == (
            odfi, str(check_digit(odfi)))
        assert reason["original_receiving_dfi_identification"] == RETURNING_DFI
        assert detail.layout is first.detail.layout
        for name in ("amount", "dfi_account_number", "discretionary_data", "payment_type_code",
                     "individual_name", "individual_identification_number",
                     "identification_number", "receiving_company_name"):
            if detail.layout.has(name):
                assert detail.raw(name) == first.detail.raw(name), name
        assert detail["addenda_record_indicator"] == "1"
        assert reason["trace_number"] == detail["trace_number"]
        assert (reason.raw("date_of_death"), reason["addenda_information"]) == (" " * 6, "")
    codes = {entry.addenda[0]["original_entry_trace_number"]:
             (entry.addenda[0]["return_reason_code"], entry.detail.number("transaction_code"))
             for entry in made.entries}
    assert codes == {traces["checking credit"]: ("R03", 21), traces["savings credit"]: ("R02", 31),
                     traces["prenote"]: ("R04", 21), traces["checking debit"]: ("R01", 26),
                     traces["savings debit"]: ("R10", 36), traces["company debit"]: ("R29", 26)}


def test_new_trace_numbers_ascend_in_the_returning_dfis_prefix() -> None:
    for first in (1, 9_000_000):
        _, made, _ = returned(first_sequence=first)
        assert [entry.detail["trace_number"] for entry in made.entries] == [
            f"{RETURNING_DFI}{sequence:07d}" for sequence in range(first, first + len(RETURNS))]


def test_batches_mirror_the_originals_and_the_header_is_swapped() -> None:
    original, made, _ = returned()
    # every batch has an entry returned, so every batch comes back, in the same order
    assert [b.sec_code for b in made.batches] == ["PPD", "WEB", "CCD"]
    for back, first in zip(made.batches, original.batches, strict=True):
        for name in ("service_class_code", "company_name", "company_discretionary_data",
                     "company_identification", "standard_entry_class_code",
                     "company_entry_description", "company_descriptive_date",
                     "effective_entry_date", "originator_status_code"):
            assert back.header.raw(name) == first.header.raw(name), name
        assert back.header["originating_dfi_identification"] == RETURNING_DFI
        assert back.header.raw("settlement_date") == "   "
    assert [b.header.number("batch_number") for b in made.batches] == [1, 2, 3]
    header, first_header = made.header, original.header
    assert header is not None and first_header is not None
    assert (header["immediate_destination"], header["immediate_origin"]) == (SENDER, BANK)
    assert (header["immediate_destination_name"], header["immediate_origin_name"]) == (
        "ORIGIN BANK", "EXAMPLE BANK")
    assert (header["file_creation_date"], header["file_creation_time"],
            header["file_id_modifier"]) == ("251117", "0805", "R")


def test_the_returning_dfi_may_name_itself() -> None:
    original, traces = received()
    made = build_return_file(original, {traces["prenote"]: "R04"}, originating_dfi=RETURNING_DFI,
                             created=CREATED, immediate_origin_name="RETURNING BANK")
    assert made.header is not None
    assert (made.header["immediate_origin_name"], made.header["immediate_destination_name"]) == (
        "RETURNING BANK", "ORIGIN BANK")


def test_a_batch_with_nothing_returned_is_left_out() -> None:
    original, traces = received()
    made = build_return_file(original, {traces["checking debit"]: "R01"},
                             originating_dfi=RETURNING_DFI, created=CREATED)
    assert [(b.sec_code, len(b.entries)) for b in made.batches] == [("WEB", 1)]
    assert made.batches[0].header["company_name"] == "SHOP"


def test_the_file_validates_adds_up_and_round_trips() -> None:
    _, made, _ = returned()
    assert validate(made) == ()
    written = generate(made)
    assert parse(written, origination=True).ok
    assert generate(parse(written).file) == written
    assert len(written.splitlines()) % BLOCKING_FACTOR == 0
    control = made.control
    assert control is not None
    # returns of credits (21, 31) count as credits, returns of debits (26, 36) as debits
    assert control.number("total_credit_entry_dollar_amount") == 215000 + 187550
    assert control.number("total_debit_entry_dollar_amount") == 4999 + 1500 + 34500
    assert control.number("entry_addenda_count") == 2 * len(RETURNS)
    # the entry hash adds the receiving DFIs of the returns: the original ODFIs
    assert control.number("entry_hash") == 4 * 7640125 + 2 * 9100001
    assert control.number("batch_count") == 3
    assert control.number("block_count") == len(written.splitlines()) // BLOCKING_FACTOR


# A received WEB debit and its return (R01), as written here: read without errors by
# moov-io/ach's achcli as well.
RECEIVED_WEB = r"""
101 026009593 0764012512511140930C094101EXAMPLE BANK           ORIGIN BANK                    |
5225SHOP                                9999999999WEBONLINE          251115   1091000010000001|
627026009593112233445        0000004999ORDER-88123    MARIA GARCIA          R 0091000010000001|
822500000100026009590000000049990000000000009999999999                         091000010000001|
9000001000001000000010002600959000000004999000000000000                                       |
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
"""
RETURNED_WEB = r"""
101 076401251 0260095932511170805A094101ORIGIN BANK            EXAMPLE BANK                   |
5225SHOP                                9999999999WEBONLINE          251115   1026009590000001|
626091000019112233445        0000004999ORDER-88123    MARIA GARCIA          R 1026009590000001|
799R01091000010000001      02600959                                            026009590000001|
822500000200091000010000000049990000000000009999999999                         026009590000001|
9000001000001000000020009100001000000004999000000000000                                       |
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999|
"""


def test_a_return_file_is_written_exactly_as_nacha_lays_it_out() -> None:
    original = parse(text(RECEIVED_WEB)).file
    made = build_return_file(original, {"091000010000001": "R01"},
                             originating_dfi=RETURNING_DFI, created=CREATED)
    assert generate(made) == text(RETURNED_WEB)


@pytest.mark.parametrize(("code", "returned_as"), [
    (22, 21), (23, 21), (24, 21), (27, 26), (28, 26), (29, 26), (32, 31), (33, 31), (37, 36),
    (38, 36), (42, 41), (47, 46), (52, 51), (55, 56)])
def test_the_return_transaction_code_matches_the_original(code: int, returned_as: int) -> None:
    assert return_transaction_code(code) == returned_as


@pytest.mark.parametrize("code", [21, 26, 31, 36, 20, 99])
def test_returns_nocs_and_unknown_codes_have_no_return_code(code: int) -> None:
    with pytest.raises(ValueError, match=f"transaction code {code}"):
        return_transaction_code(code)


def _refusal(original: AchFile, returns: dict[str, str], *,
             originating_dfi: str = RETURNING_DFI, first_sequence: int = 1) -> str:
    with pytest.raises(ReturnError) as refused:
        build_return_file(original, returns, originating_dfi=originating_dfi, created=CREATED,
                          first_sequence=first_sequence)
    return str(refused.value)


def test_what_cannot_be_returned_is_refused_with_its_trace_number() -> None:
    original, traces = received()
    credit = traces["checking credit"]
    assert "no entry to return" in _refusal(original, {})
    assert "091000010000009: no entry of the file" in _refusal(original,
                                                               {"091000010000009": "R03"})
    # the dishonored and contested codes answer a return, in layouts of their own
    for code in ("R69", "R73", "R99", "C01"):
        assert code in _refusal(original, {credit: code})
    assert "8 routing digits" in _refusal(original, {credit: "R03"}, originating_dfi="026009593")
    assert "do not fit" in _refusal(original, {credit: "R03", traces["prenote"]: "R03"},
                                    first_sequence=9_999_999)
    assert "do not fit" in _refusal(original, {credit: "R03"}, first_sequence=0)
    # a return file's entries are returns already
    _, made, _ = returned()
    back = made.entries[0].detail["trace_number"]
    assert f"{back}: a return or a notification of change" in _refusal(made, {back: "R03"})


def test_a_file_from_an_originator_has_no_routing_number_to_return_to() -> None:
    # PPD_PAYROLL went from ACME (immediate origin 1234567890) to its ODFI
    original = parse(text(samples.PPD_PAYROLL)).file
    assert "'1234567890' is not a routing number" in _refusal(original,
                                                              {"076401250000001": "R03"})


def test_iat_and_duplicate_trace_numbers_are_refused() -> None:
    # the IAT sample, as if received from the ODFI 231380104
    iat = parse(overwrite(text(samples.IAT_PAYMENT), 1, 14, " 231380104")).file
    assert "076401250000001: IAT entries are not returned here" in _refusal(
        iat, {"076401250000001": "R03"})
    made = FileBuilder(immediate_destination=BANK, immediate_origin=SENDER, created=CREATED)
    for odfi in ("07640125", "07640125"):
        made.batch("PPD", originating_dfi=odfi, effective_entry_date=date(2025, 11, 14),
                   company_name="ACME", company_identification="1", company_entry_description="X")
    made.batches[0].entry(22, BANK, 1, dfi_account_number="1", individual_name="A")
    made.sequence = 0  # the second batch's entry takes the same trace number
    made.batches[1].entry(22, BANK, 2, dfi_account_number="2", individual_name="B")
    assert "076401250000001: 2 entries have this trace number" in _refusal(
        made.build(), {"076401250000001": "R03"})


@st.composite
def chosen(draw: st.DrawFn) -> tuple[AchFile, list[Spec], dict[str, str]]:
    """A received file and some of its entries (at least one), each with a return code."""
    original, specs = draw(files(immediate_origin=SENDER, min_batches=1))
    traces = [entry.detail["trace_number"] for entry in original.entries]
    picked = draw(st.lists(st.sampled_from(traces), min_size=1, unique=True))
    codes = st.sampled_from(sorted(ENTRY_RETURN_CODES))
    return original, specs, {trace: draw(codes) for trace in picked}


@settings(deadline=None)  # building and parsing whole files is slow on a busy machine
@given(chosen(), st.integers(1, 9_000_000))
def test_any_entries_of_a_file_return_as_a_valid_file(
        made: tuple[AchFile, list[Spec], dict[str, str]], first_sequence: int) -> None:
    original, specs, returns = made
    back = build_return_file(original, returns, originating_dfi=RETURNING_DFI,
                             created=CREATED, first_sequence=first_sequence)
    written = generate(back)
    assert parse(written, origination=True).ok
    assert generate(parse(written).file) == written
    spec_of = {entry.detail["trace_number"]: spec
               for entry, spec in zip(original.entries, specs, strict=True)}
    found = {entry.addenda[0]["original_entry_trace_number"]:
             (entry.addenda[0]["return_reason_code"], entry.detail.number("amount"))
             for entry in back.entries}
    assert found == {trace: (code, spec_of[trace].amount) for trace, code in returns.items()}
    control = back.control
    assert control is not None
    returned_specs = [spec_of[trace] for trace in returns]
    assert control.number("total_credit_entry_dollar_amount") == sum(
        spec.amount for spec in returned_specs if is_credit(spec.code))
    assert control.number("total_debit_entry_dollar_amount") == sum(
        spec.amount for spec in returned_specs if not is_credit(spec.code))
