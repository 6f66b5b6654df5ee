"""Reconciling generated files with the ledger, as pure functions of what the topics hold.

Three things must agree:

1. each file's recorded totals with its entries (count, batches, debit and credit totals,
   entry hash), and the file COMPLETED with every trace number kept by its execution;
2. each entry with the ledger transaction its execution's SUBMIT posted: posted, not voided,
   and moving the entry's amount on the settlement account (a credit's SUBMIT credits it on
   SETTLED, a debit's debits it on PENDING);
3. the settlement account's movement on the day with the ACH flow: every transaction of
   the day on a settlement account is one a workflow task posted or one a received file's
   entry posted (the RDFI tran codes), so nothing moved it that ACH does not account for.

The settlement account is debit-normal: amounts here are net debits (debits minus credits).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from connectors.ach.file_entries import FileEntryStatus, OdfiFileEntry
from connectors.ach.file_generation import statistics
from connectors.ach.files import AchFileRecord, AchFileStatus, FileStatistics
from ledger_core.ach_rdfi import RDFI_TRAN_CODES
from ledger_core.ach_workflows import Task, Workflow, WorkflowExecution, task_transaction_id

# The layer on which each workflow's SUBMIT moves the entry's amount on the settlement
# account, and the sign of that net debit: a credit sent is money out, a debit money in.
_SUBMIT_LEG = {Workflow.PUSH: ("SETTLED", -1), Workflow.PULL: ("PENDING", 1)}
LAYERS = ("SETTLED", "PENDING", "ENCUMBRANCE")


class DifferenceCode(StrEnum):
    """What disagrees."""

    FILE_NOT_COMPLETED = "file_not_completed"
    FILE_TOTALS_DIFFER = "file_totals_differ"
    ENTRY_TRACE_REFUSED = "entry_trace_refused"
    ENTRY_EXECUTION_MISSING = "entry_execution_missing"
    ENTRY_TRANSACTION_MISSING = "entry_transaction_missing"
    ENTRY_TRANSACTION_VOIDED = "entry_transaction_voided"
    ENTRY_AMOUNT_DIFFERS = "entry_amount_differs"
    SETTLEMENT_POSTING_OUTSIDE_WORKFLOW = "settlement_posting_outside_workflow"


@dataclass(frozen=True)
class Difference:
    """One disagreement, with the ids that locate it."""

    code: DifferenceCode
    message: str
    file_id: UUID | None = None
    execution_id: UUID | None = None
    transaction_id: UUID | None = None


@dataclass(frozen=True)
class Leg:
    """One entry of a posted transaction: its account, layer and net debit."""

    account_id: UUID
    layer: str
    net_debit: Decimal


@dataclass(frozen=True)
class PostedTransaction:
    """A transaction as the ledger's transactions topic last recorded it."""

    transaction_id: UUID
    tran_code: str
    effective: date
    voided_by: UUID | None
    legs: tuple[Leg, ...]

    def net_debit(self, accounts: Collection[UUID], layer: str) -> Decimal:
        """The net debit of the transaction's legs on ``accounts`` on ``layer``."""
        return sum((leg.net_debit for leg in self.legs
                    if leg.account_id in accounts and leg.layer == layer), Decimal(0))


@dataclass(frozen=True)
class FileTotals:
    """A file's recorded totals beside those of its entries, and the ledger's for them:
    the amounts the entries' SUBMIT transactions moved on the settlement account."""

    record: AchFileRecord
    entries: FileStatistics
    ledger_credits: Decimal
    ledger_debits: Decimal


# The RDFI processor posts received entries through these: ACH movement, not a posting
# outside the ACH flow.
_RECEIVED_CODES = frozenset(tran_code.code for tran_code in RDFI_TRAN_CODES)


@dataclass
class Movement:
    """A settlement account's net debit per layer on the day, split by who posted it."""

    account_id: UUID
    total: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(LAYERS, Decimal(0)))
    workflows: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(LAYERS, Decimal(0)))
    # Received files' entries, posted through the RDFI tran codes.
    received: dict[str, Decimal] = field(
        default_factory=lambda: dict.fromkeys(LAYERS, Decimal(0)))
    outside: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(LAYERS, Decimal(0)))


@dataclass(frozen=True)
class Reconciliation:
    """The files reconciled, the settlement accounts' movement on the day (none when one
    file was asked for) and every difference."""

    files: tuple[FileTotals, ...]
    movements: tuple[Movement, ...]
    differences: tuple[Difference, ...]


def reconcile(files: Sequence[tuple[AchFileRecord, Sequence[OdfiFileEntry]]],
              executions: Mapping[UUID, WorkflowExecution],
              transactions: Mapping[UUID, PostedTransaction], *,
              day: date | None, settlement_accounts: Collection[UUID]) -> Reconciliation:
    """Reconcile ``files`` (each with its entries) with the executions and the ledger's
    transactions; with ``day``, also the ``settlement_accounts``' movement on that day."""
    differences: list[Difference] = []
    totals = [_file(record, entries, executions, transactions, differences)
              for record, entries in files]
    movements = [] if day is None else _movements(day, settlement_accounts, executions.values(),
                                                   transactions.values(), differences)
    return Reconciliation(tuple(totals), tuple(movements), tuple(differences))


def _file(record: AchFileRecord, entries: Sequence[OdfiFileEntry],
          executions: Mapping[UUID, WorkflowExecution],
          transactions: Mapping[UUID, PostedTransaction],
          differences: list[Difference]) -> FileTotals:
    file_id = record.file_id
    if record.status is not AchFileStatus.COMPLETED:
        differences.append(Difference(
            DifferenceCode.FILE_NOT_COMPLETED,
            f"file {record.name} is {record.status}: its trace numbers are not all kept yet",
            file_id))
    recomputed = statistics(entries)
    for name, recorded in record.statistics:
        if getattr(recomputed, name) != recorded:
            differences.append(Difference(
                DifferenceCode.FILE_TOTALS_DIFFER,
                f"file {record.name}: {name} is {recorded} in its record, "
                f"{getattr(recomputed, name)} in its entries", file_id))
    credits, debits = Decimal(0), Decimal(0)
    for entry in entries:
        moved = _entry(entry, executions, transactions, differences)
        if entry.is_credit:
            credits += moved
        else:
            debits += moved
    return FileTotals(record, recomputed, credits, debits)


def _entry(entry: OdfiFileEntry, executions: Mapping[UUID, WorkflowExecution],
           transactions: Mapping[UUID, PostedTransaction],
           differences: list[Difference]) -> Decimal:
    """What the entry's SUBMIT moved on its settlement account (0 if nothing)."""
    where = f"entry {entry.trace_number} (execution {entry.execution_id})"

    def differ(code: DifferenceCode, message: str, transaction_id: UUID | None = None) -> None:
        differences.append(Difference(code, f"{where}: {message}", entry.file_id,
                                      entry.execution_id, transaction_id))

    if entry.status is FileEntryStatus.REFUSED:
        differ(DifferenceCode.ENTRY_TRACE_REFUSED,
               f"the workflow refused its trace number: {entry.refusal_code}: "
               f"{entry.refusal_message}")
    execution = executions.get(entry.execution_id)
    if execution is None:
        differ(DifferenceCode.ENTRY_EXECUTION_MISSING, "no such execution")
        return Decimal(0)
    transaction_id = task_transaction_id(entry.execution_id, Task.SUBMIT)
    posted = transactions.get(transaction_id)
    if posted is None:
        differ(DifferenceCode.ENTRY_TRANSACTION_MISSING,
               f"its SUBMIT transaction {transaction_id} is not on the ledger", transaction_id)
        return Decimal(0)
    if posted.voided_by is not None:
        differ(DifferenceCode.ENTRY_TRANSACTION_VOIDED,
               f"its SUBMIT transaction {transaction_id} was voided by {posted.voided_by}",
               transaction_id)
    layer, sign = _SUBMIT_LEG[entry.workflow]
    moved = sign * posted.net_debit({execution.settlement_account_id}, layer)
    amount = Decimal(entry.amount_cents).scaleb(-2)
    if moved != amount:
        differ(DifferenceCode.ENTRY_AMOUNT_DIFFERS,
               f"the file carries {amount}, its SUBMIT transaction {transaction_id} moved "
               f"{moved} on the settlement account's {layer} layer", transaction_id)
    return moved


def _movements(day: date, accounts: Collection[UUID], executions: Iterable[WorkflowExecution],
               transactions: Iterable[PostedTransaction],
               differences: list[Difference]) -> list[Movement]:
    by_workflow = {tid for execution in executions for tid in execution.transaction_ids}
    movements = {account: Movement(account) for account in sorted(accounts, key=str)}
    for posted in sorted(transactions, key=lambda t: str(t.transaction_id)):
        legs = [leg for leg in posted.legs if leg.account_id in movements]
        if posted.effective != day or not legs:
            continue
        for leg in legs:
            movement = movements[leg.account_id]
            movement.total[leg.layer] += leg.net_debit
            part = (movement.workflows if posted.transaction_id in by_workflow
                    else movement.received if posted.tran_code in _RECEIVED_CODES
                    else movement.outside)
            part[leg.layer] += leg.net_debit
        if posted.transaction_id not in by_workflow and posted.tran_code not in _RECEIVED_CODES:
            moved = ", ".join(f"{layer} {posted.net_debit(accounts, layer)}" for layer in LAYERS
                              if posted.net_debit(accounts, layer))
            differences.append(Difference(
                DifferenceCode.SETTLEMENT_POSTING_OUTSIDE_WORKFLOW,
                f"transaction {posted.transaction_id} ({posted.tran_code}) moved the "
                f"settlement account on {day} and no ACH workflow posted it: net debit "
                f"{moved or '0'}", transaction_id=posted.transaction_id))
    return list(movements.values())
