"""The reconciliation rules on values: each difference from the case that makes it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID, uuid5

from connectors.ach.file_entries import FileEntryStatus, OdfiFileEntry
from connectors.ach.file_generation import plan_file, statistics
from connectors.ach.files import AchFileRecord, AchFileStatus, AchFileType
from connectors.ach.reconciliation import (
    DifferenceCode,
    Leg,
    PostedTransaction,
    reconcile,
)
from ledger_core.ach_rdfi import RDFI_TRAN_CODES
from ledger_core.ach_workflows import Task, Workflow, WorkflowExecution, task_transaction_id
from tests.ach.test_file_generation import AT, CONFIGURATION, FILE_ID, NAMESPACE, execution

DAY = date(2025, 11, 14)
SETTLEMENT = CONFIGURATION.settlement_account_id
PUSH, PULL = execution(1, Workflow.PUSH, "150.00"), execution(2, Workflow.PULL, "20.05")


def _submit(execution: WorkflowExecution, moved: str) -> PostedTransaction:
    """The SUBMIT transaction of ``execution`` as the ledger posted it, moving ``moved`` on
    the settlement account (credited on SETTLED for a PUSH, debited on PENDING for a PULL)."""
    amount = Decimal(moved)
    leg = (Leg(SETTLEMENT, "SETTLED", -amount) if execution.workflow is Workflow.PUSH
           else Leg(SETTLEMENT, "PENDING", amount))
    customer = execution.params.account_id
    return PostedTransaction(task_transaction_id(execution.execution_id, Task.SUBMIT),
                             f"{execution.workflow}_SUBMIT", DAY, None,
                             (leg, Leg(customer, leg.layer, -leg.net_debit)))


def _file(entries: tuple[OdfiFileEntry, ...],
          status: AchFileStatus = AchFileStatus.COMPLETED) -> AchFileRecord:
    return AchFileRecord(file_id=FILE_ID, file_type=AchFileType.ODFI, name="ODFI-20251114-A",
                         config_id=CONFIGURATION.config_id,
                         config_version=CONFIGURATION.version, status=status,
                         statistics=statistics(entries), created_at=AT, updated_at=AT)


def _traced() -> tuple[OdfiFileEntry, ...]:
    planned = plan_file([PUSH, PULL], file_id=FILE_ID, configuration=CONFIGURATION,
                        first_sequence=1).entries
    return tuple(e.model_copy(update={"status": FileEntryStatus.TRACED}) for e in planned)


def _codes(entries: tuple[OdfiFileEntry, ...], record: AchFileRecord,
           transactions: list[PostedTransaction], *, day: date | None = DAY
           ) -> list[DifferenceCode]:
    executions = {PUSH.execution_id: PUSH, PULL.execution_id: PULL}
    found = reconcile([(record, entries)], executions,
                      {t.transaction_id: t for t in transactions}, day=day,
                      settlement_accounts={SETTLEMENT})
    return [difference.code for difference in found.differences]


def test_files_that_agree_with_the_ledger_have_no_difference() -> None:
    entries = _traced()
    found = reconcile([(_file(entries), entries)],
                      {PUSH.execution_id: PUSH, PULL.execution_id: PULL},
                      {t.transaction_id: t for t in (_submit(PUSH, "150.00"),
                                                     _submit(PULL, "20.05"))},
                      day=DAY, settlement_accounts={SETTLEMENT})
    assert found.differences == ()
    (totals,) = found.files
    assert (totals.ledger_credits, totals.ledger_debits) == (Decimal("150.00"),
                                                              Decimal("20.05"))
    (movement,) = found.movements
    assert (movement.total["SETTLED"], movement.total["PENDING"]) == (Decimal("-150.00"),
                                                                      Decimal("20.05"))
    assert movement.outside == dict.fromkeys(("SETTLED", "PENDING", "ENCUMBRANCE"), Decimal(0))


def test_an_amount_that_differs_and_a_transaction_missing_are_differences() -> None:
    entries = _traced()
    assert _codes(entries, _file(entries), [_submit(PUSH, "149.99")]) == [
        DifferenceCode.ENTRY_AMOUNT_DIFFERS, DifferenceCode.ENTRY_TRANSACTION_MISSING]


def test_a_refused_trace_recorded_totals_that_differ_and_an_unfinished_file() -> None:
    entries = _traced()
    refused = (entries[0].model_copy(update={"status": FileEntryStatus.REFUSED,
                                             "refusal_code": "ach_trace_not_submitted",
                                             "refusal_message": "it is SETTLED"}),
               entries[1])
    record = _file(entries, AchFileStatus.PROCESSING)
    record = record.model_copy(update={"statistics": record.statistics.model_copy(
        update={"total_credit_cents": 1})})
    transactions = [_submit(PUSH, "150.00"), _submit(PULL, "20.05")]
    assert _codes(refused, record, transactions) == [
        DifferenceCode.FILE_NOT_COMPLETED, DifferenceCode.FILE_TOTALS_DIFFER,
        DifferenceCode.ENTRY_TRACE_REFUSED]


def test_a_settlement_posting_no_workflow_made_is_a_difference_on_its_day_only() -> None:
    entries = _traced()
    adjustment = PostedTransaction(uuid5(NAMESPACE, "adjustment"), "ADJUST", DAY, None,
                                   (Leg(SETTLEMENT, "SETTLED", Decimal("5.00")),
                                    Leg(UUID(int=7), "SETTLED", Decimal("-5.00"))))
    transactions = [_submit(PUSH, "150.00"), _submit(PULL, "20.05"), adjustment]
    assert _codes(entries, _file(entries), transactions) == [
        DifferenceCode.SETTLEMENT_POSTING_OUTSIDE_WORKFLOW]
    assert _codes(entries, _file(entries), transactions, day=date(2025, 11, 15)) == []
    assert _codes(entries, _file(entries), transactions, day=None) == []


def test_a_received_entry_posted_through_the_rdfi_tran_codes_is_ach_movement() -> None:
    """The RDFI processor's postings on the settlement account are counted as received,
    not as postings outside the ACH flow; the same legs under another tran code are."""
    entries = _traced()
    legs = (Leg(SETTLEMENT, "SETTLED", Decimal("25.00")),
            Leg(UUID(int=8), "SETTLED", Decimal("-25.00")))
    received = PostedTransaction(uuid5(NAMESPACE, "received"), RDFI_TRAN_CODES[0].code, DAY,
                                 None, legs)
    transactions = [_submit(PUSH, "150.00"), _submit(PULL, "20.05"), received]
    executions = {PUSH.execution_id: PUSH, PULL.execution_id: PULL}
    found = reconcile([(_file(entries), entries)], executions,
                      {t.transaction_id: t for t in transactions}, day=DAY,
                      settlement_accounts={SETTLEMENT})
    assert found.differences == ()
    (movement,) = found.movements
    assert movement.received["SETTLED"] == Decimal("25.00")
    other = PostedTransaction(received.transaction_id, "ADJUST", DAY, None, legs)
    assert _codes(entries, _file(entries), [*transactions[:2], other]) == [
        DifferenceCode.SETTLEMENT_POSTING_OUTSIDE_WORKFLOW]
