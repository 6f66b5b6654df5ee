"""The pure part of ODFI file generation: which executions are queued, batches, trace numbers,
the NACHA text of recorded entries and its totals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.ach.file_entries import OdfiFileEntry
from connectors.ach.file_generation import (
    AchFileError,
    AchFileErrorCode,
    HeldCode,
    build_file,
    file_name,
    highest_sequence,
    next_modifier,
    plan_file,
    queued,
    statistics,
)
from ledger_core import ach_tran_codes as ach
from ledger_core.ach_workflows import (
    CreateParams,
    State,
    Task,
    TaskRun,
    Workflow,
    WorkflowExecution,
    assign_trace,
    task_transaction_id,
)
from nacha import generate, parse

CONFIGURATION = ach.CONFIGURATION
ODFI = CONFIGURATION.odfi.immediate_origin[:8]
FILE_ID = UUID("6b8f1c2e-0d4a-4e55-9a7e-0c1d2e3f4a50")
AT = datetime(2025, 11, 14, 15, 30, tzinfo=UTC)
NAMESPACE = UUID("6b8f1c2e-0d4a-4e55-9a7e-0c1d2e3f4a51")


def execution(number: int, workflow: Workflow = Workflow.PUSH, amount: str = "150.00", *,
              sec: str = "PPD", company: str | None = "ACME PAYROLL", account_type: str =
              "checking", effective: date = date(2025, 11, 17), name: str = "CLARK KENT",
              state: State = State.SUBMITTED, **entry_metadata: Any) -> WorkflowExecution:
    """A SUBMITTED execution as the workflow processor keeps it."""
    execution_id = uuid5(NAMESPACE, str(number))
    params = CreateParams.model_validate({
        "configId": str(CONFIGURATION.config_id), "accountId": str(uuid5(NAMESPACE, "c")),
        "amount": amount, "routingNumber": "026009593", "accountNumber": f"98765{number:05d}",
        "accountType": account_type, "individualName": name, "entryDescription": "XFER",
        "effective": effective.isoformat(), "correlationId": f"c-{number}",
        "entryMetadata": {"standardEntryClassCode": sec,
                          **({"companyName": company} if company else {}), **entry_metadata}})
    at = AT + timedelta(seconds=number)
    runs = (TaskRun(task=Task.CREATE, from_state=None, state=State.CREATED, at=at,
                    transaction_ids=(task_transaction_id(execution_id, Task.CREATE),)),
            TaskRun(task=Task.SUBMIT, from_state=State.CREATED, state=State.SUBMITTED, at=at,
                    transaction_ids=(task_transaction_id(execution_id, Task.SUBMIT),)))
    return WorkflowExecution(
        execution_id=execution_id, workflow=workflow, state=state, params=params,
        config_id=CONFIGURATION.config_id, config_version=CONFIGURATION.version,
        journal_id=CONFIGURATION.journal_id,
        settlement_account_id=CONFIGURATION.settlement_account_id,
        fee_account_id=CONFIGURATION.fee_account_id, runs=runs)


def plan(executions: list[WorkflowExecution], first: int = 1, **options: Any
         ) -> tuple[OdfiFileEntry, ...]:
    return plan_file(executions, file_id=FILE_ID, configuration=CONFIGURATION,
                     first_sequence=first, **options).entries


def written(entries: tuple[OdfiFileEntry, ...]) -> str:
    return generate(build_file(entries, CONFIGURATION, AT, "A"))


def test_push_and_pull_go_into_credit_and_debit_batches_with_their_control_totals() -> None:
    executions = [execution(1, Workflow.PUSH, "150.00"), execution(2, Workflow.PULL, "20.05"),
                  execution(3, Workflow.PUSH, "0.01", account_type="savings"),
                  execution(4, Workflow.PULL, "99999999.99")]
    entries = plan(executions, first=41)
    parsed = parse(written(entries), origination=True).file  # strict: raises on any rule
    assert [(b.header.number("service_class_code"), len(b.entries)) for b in parsed.batches] \
        == [(220, 2), (225, 2)]
    assert [e.detail.number("transaction_code") for e in parsed.entries] == [22, 32, 27, 27]
    control = parsed.control
    assert control is not None
    assert control.number("total_credit_entry_dollar_amount") == 15001
    assert control.number("total_debit_entry_dollar_amount") == 2005 + 9999999999
    assert control.number("batch_count") == 2
    assert control.number("entry_hash") == 4 * 2600959
    assert [e.detail["trace_number"] for e in parsed.entries] == \
        [f"{ODFI}{n:07d}" for n in range(41, 45)]
    assert [e.trace_number for e in entries] == [f"{ODFI}{n:07d}" for n in range(41, 45)]
    stats = statistics(entries)
    assert (stats.batches, stats.entries, stats.entries_unprocessed, stats.total_credit_cents,
            stats.total_debit_cents, stats.entry_hash) == \
        (2, 4, 4, 15001, 2005 + 9999999999, 4 * 2600959)
    header = parsed.header
    assert header is not None
    assert header["immediate_destination"] == CONFIGURATION.odfi.immediate_destination
    assert (header["file_creation_date"], header["file_creation_time"],
            header["file_id_modifier"]) == ("251114", "1530", "A")


def test_batches_split_by_header_and_the_entry_fields_come_from_the_metadata() -> None:
    executions = [
        execution(1, company="ACME PAYROLL"), execution(2, company="OTHER CO"),
        execution(3, company="ACME PAYROLL", effective=date(2025, 11, 18)),
        execution(4, sec="CCD", company="ACME PAYROLL", identificationNumber="INV-42",
                  individualName="WAYNE ENTERPRISES", dfiAccountNumber="55501"),
        execution(5, sec="WEB", companyEntryDescription="ONLINE"),
        execution(6, company=None),
    ]
    entries = plan(executions)
    assert len({e.batch_number for e in entries}) == 6
    parsed = parse(written(entries), origination=True).file
    by_company = {(b.header["company_name"], b.header["standard_entry_class_code"],
                   b.header["effective_entry_date"], b.header["company_entry_description"])
                  for b in parsed.batches}
    assert by_company == {("ACME PAYROLL", "PPD", "251117", "XFER"),
                          ("OTHER CO", "PPD", "251117", "XFER"),
                          ("ACME PAYROLL", "PPD", "251118", "XFER"),
                          ("ACME PAYROLL", "CCD", "251117", "XFER"),
                          ("ACME PAYROLL", "WEB", "251117", "ONLINE"),
                          # no company name: the configuration's origin name
                          ("EXAMPLE BANK", "PPD", "251117", "XFER")}
    ccd = next(b for b in parsed.batches if b.header["standard_entry_class_code"] == "CCD")
    detail = ccd.entries[0].detail
    assert (detail["identification_number"], detail["receiving_company_name"],
            detail["dfi_account_number"]) == ("INV-42", "WAYNE ENTERPRISES", "55501")
    web = next(b for b in parsed.batches if b.header["standard_entry_class_code"] == "WEB")
    assert web.entries[0].detail["payment_type_code"] == "S"
    assert {b.header["company_identification"] for b in parsed.batches} == \
        {CONFIGURATION.odfi.company_identification}


def test_entries_no_file_can_take_are_held_with_their_reason() -> None:
    executions = [execution(1, sec="POS"), execution(2, Workflow.PUSH, sec="TEL"),
                  execution(3, Workflow.PULL, sec="TEL"),
                  execution(4, rdfiIdentification="07640125"),
                  execution(5, sec="CTX", name="SEVENTEEN LETTERS"),
                  execution(6, rdfiIdentification="02600959")]
    result = plan_file(executions, file_id=FILE_ID, configuration=CONFIGURATION,
                       first_sequence=1)
    assert [(h.execution_id, h.code) for h in result.held] == [
        (executions[0].execution_id, HeldCode.ACH_ADDENDA_REQUIRED),
        (executions[1].execution_id, HeldCode.ACH_CREDIT_NOT_ALLOWED),
        (executions[3].execution_id, HeldCode.ACH_RDFI_CONFLICT),
        (executions[4].execution_id, HeldCode.ACH_FIELD_TOO_LONG)]
    assert {e.execution_id for e in result.entries} == \
        {executions[2].execution_id, executions[5].execution_id}
    parse(written(result.entries), origination=True)


def test_only_submitted_executions_without_a_trace_and_in_no_file_are_queued() -> None:
    traced = assign_trace(execution(3), f"{ODFI}0000007", FILE_ID)
    assert isinstance(traced, WorkflowExecution)
    other_config = execution(5).model_copy(update={"config_id": uuid4()})
    executions = [execution(2), execution(1), traced, execution(4, state=State.CANCELED),
                  other_config, execution(6)]
    found = queued(executions, CONFIGURATION.config_id, in_files={execution(6).execution_id})
    # oldest submission first
    assert [e.execution_id for e in found] == [execution(1).execution_id,
                                               execution(2).execution_id]


def test_trace_numbers_continue_from_the_highest_used_and_stop_at_the_last() -> None:
    assert highest_sequence([]) == 0
    assert highest_sequence([f"{ODFI}0000009", f"{ODFI}0000120", "076401250000011"]) == 120
    entries = plan([execution(n) for n in range(5)], first=9_999_998)
    assert [e.trace_number[-7:] for e in entries] == ["9999998", "9999999"]
    with pytest.raises(AchFileError) as raised:
        plan([execution(1)], first=10_000_000)
    assert raised.value.code is AchFileErrorCode.ACH_TRACE_NUMBERS_EXHAUSTED


def test_a_full_file_leaves_the_rest_for_the_next_one() -> None:
    result = plan_file([execution(n) for n in range(5)], file_id=FILE_ID,
                       configuration=CONFIGURATION, first_sequence=1, max_entries=3)
    assert (len(result.entries), result.deferred) == (3, 2)


def test_file_modifiers_and_names() -> None:
    day = date(2025, 11, 14)
    assert file_name(day, "A") == "ODFI-20251114-A"
    assert next_modifier(day, ["ODFI-20251113-A"]) == "A"
    assert next_modifier(day, ["ODFI-20251114-A", "ODFI-20251114-B"]) == "C"
    with pytest.raises(AchFileError) as raised:
        next_modifier(day, [file_name(day, m) for m in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"])
    assert raised.value.code is AchFileErrorCode.ACH_FILE_MODIFIERS_EXHAUSTED


def test_the_text_is_a_function_of_the_recorded_entries() -> None:
    entries = plan([execution(n, Workflow.PULL if n % 2 else Workflow.PUSH) for n in range(6)])
    again = tuple(OdfiFileEntry.model_validate_json(e.model_dump_json(by_alias=True))
                  for e in reversed(entries))
    assert written(again) == written(entries)
    in_local_time = build_file(entries, CONFIGURATION.model_copy(
        update={"time_zone": "America/New_York"}), AT, "B").header
    assert in_local_time is not None
    assert (in_local_time["file_creation_time"], in_local_time["file_id_modifier"]) == \
        ("1030", "B")


def test_entries_with_a_gap_or_a_disagreeing_batch_are_not_written() -> None:
    entries = plan([execution(n) for n in range(3)])
    with pytest.raises(AchFileError) as gap:
        build_file((entries[0], entries[2]), CONFIGURATION, AT, "A")
    assert gap.value.code is AchFileErrorCode.ACH_FILE_ENTRIES_INCONSISTENT
    other = entries[1].model_copy(update={"batch": entries[1].batch.model_copy(
        update={"company_name": "OTHER"})})
    with pytest.raises(AchFileError) as header:
        build_file((entries[0], other, entries[2]), CONFIGURATION, AT, "A")
    assert header.value.code is AchFileErrorCode.ACH_FILE_ENTRIES_INCONSISTENT


_SECS = st.sampled_from(["PPD", "CCD", "WEB", "CTX", "TEL", "POS"])
_EXECUTIONS = st.lists(st.tuples(
    st.sampled_from(list(Workflow)),
    st.integers(min_value=1, max_value=9_999_999_999),
    _SECS,
    st.sampled_from(["ACME PAYROLL", "OTHER CO", None]),
    st.sampled_from(["checking", "savings"]),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1,
            max_size=22).filter(str.strip)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(_EXECUTIONS, st.integers(min_value=1, max_value=9_999_000))
def test_any_executions_make_a_file_that_parses_strictly_with_their_totals(
        drawn: list[tuple[Workflow, int, str, str | None, str, date, str]], first: int) -> None:
    executions = [execution(n, workflow, str(Decimal(cents) / 100), sec=sec, company=company,
                            account_type=account_type, effective=effective, name=name)
                  for n, (workflow, cents, sec, company, account_type, effective, name)
                  in enumerate(drawn)]
    result = plan_file(executions, file_id=FILE_ID, configuration=CONFIGURATION,
                       first_sequence=first)
    writable = [e for e in executions if e.execution_id not in
                {h.execution_id for h in result.held}]
    assert result.deferred == 0
    assert {e.execution_id for e in result.entries} == {e.execution_id for e in writable}
    assert len(result.entries) == len(writable)
    if not result.entries:
        return
    parsed = parse(written(result.entries), origination=True).file
    control = parsed.control
    assert control is not None
    credits = sum(int(e.params.amount * 100) for e in writable if e.workflow is Workflow.PUSH)
    debits = sum(int(e.params.amount * 100) for e in writable if e.workflow is Workflow.PULL)
    assert control.number("total_credit_entry_dollar_amount") == credits
    assert control.number("total_debit_entry_dollar_amount") == debits
    assert control.number("entry_addenda_count") == len(writable)
    traces = [e.detail["trace_number"] for e in parsed.entries]
    assert traces == [f"{ODFI}{n:07d}" for n in range(first, first + len(writable))]
    for batch in parsed.batches:
        codes = {e.detail.number("transaction_code") for e in batch.entries}
        assert codes <= ({22, 32} if batch.header.number("service_class_code") == 220
                         else {27, 37})
    stats = statistics(result.entries)
    assert (stats.total_credit_cents, stats.total_debit_cents, stats.entry_hash,
            stats.batches) == (credits, debits, control.number("entry_hash"),
                               control.number("batch_count"))
