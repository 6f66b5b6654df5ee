"""What a generated (ODFI) NACHA file holds, as pure functions of the executions, the
configuration and the time: no I/O, no clock.

``plan_file`` takes the SUBMITTED executions still to be sent and makes the file's entries:
it groups them into batches, gives each a trace number and leaves out the entries that
cannot be written. ``build_file`` writes the NACHA file from recorded entries, so a file
is the same text every time it is written: the entries, the configuration version and the
creation time decide it whole.

Batches. One batch per configuration-independent header: SEC code, company name,
company identification, company entry description, effective entry date, and direction.
Credits (PUSH) go into credits-only batches (service class 220), debits (PULL) into
debits-only ones (225): a receiver's bank and the operator settle and return a batch as
one direction, and a batch never mixes an originator's payouts with its collections.

Trace numbers. The ODFI's 8 routing digits and a 7-digit sequence that continues from the
highest sequence any earlier file (or execution) used, in batch order, so trace numbers
ascend through the file and are never given twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from itertools import groupby
from uuid import UUID
from zoneinfo import ZoneInfo

from connectors.ach.file_entries import BatchHeader, FileEntryStatus, OdfiFileEntry
from connectors.ach.files import FileStatistics
from ledger_core.ach_tran_codes import AchConfiguration
from ledger_core.ach_workflows import AccountType, State, Workflow, WorkflowExecution
from nacha import AchFile, FileBuilder, FileRejectedError
from nacha.codes import CREDITS_ONLY, DEBITS_ONLY
from nacha.fields import FieldValue
from streams.errors import LedgerError

SEQUENCE_MAX = 9_999_999
# What the NACHA control fields can count: 6 digits of entries in a batch control, 12 of
# cents in a total, 6 of blocks (10 records each) in the file control.
BATCH_ENTRIES_MAX = 999_999
TOTAL_CENTS_MAX = 999_999_999_999
FILE_RECORDS_MAX = 999_999 * 10
FILE_ID_MODIFIERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ENTRY_HASH_MODULUS = 10**10

# Transaction codes: a credit to (PUSH) or debit of (PULL) a checking or savings account.
_TRANSACTION_CODES = {
    (Workflow.PUSH, AccountType.CHECKING): 22, (Workflow.PUSH, AccountType.SAVINGS): 32,
    (Workflow.PULL, AccountType.CHECKING): 27, (Workflow.PULL, AccountType.SAVINGS): 37,
}
# The receiver's name field is 16 wide on CTX entries, 22 on the others.
_RECEIVER_NAME_WIDTH = {"CTX": 16}


class AchFileErrorCode(StrEnum):
    """Why a file could not be generated or written."""

    # Every 7-digit trace sequence of the ODFI has been used.
    ACH_TRACE_NUMBERS_EXHAUSTED = "ach_trace_numbers_exhausted"
    # 36 files (modifiers A-Z, 0-9) were already generated on the day.
    ACH_FILE_MODIFIERS_EXHAUSTED = "ach_file_modifiers_exhausted"
    # The configuration's immediate origin is not the ODFI's 9-digit routing number.
    ACH_ODFI_ROUTING_INVALID = "ach_odfi_routing_invalid"
    # The recorded entries do not make one file (a gap in the trace numbers, a batch whose
    # entries disagree on its header): the records were not written by this generator.
    ACH_FILE_ENTRIES_INCONSISTENT = "ach_file_entries_inconsistent"
    # The file breaks a NACHA rule (the configuration's header fields, say).
    ACH_FILE_INVALID = "ach_file_invalid"
    # The file's configuration version cannot be found.
    ACH_CONFIGURATION_NOT_FOUND = "ach_configuration_not_found"
    ACH_FILE_NOT_FOUND = "ach_file_not_found"
    # The file's trace numbers are still being given to its executions.
    ACH_FILE_NOT_COMPLETED = "ach_file_not_completed"
    # Another generator took over (it fenced this one) while this one ran.
    ACH_GENERATOR_FENCED = "ach_generator_fenced"


class AchFileError(LedgerError):
    """A file could not be generated or written: a code and a message."""

    def __init__(self, code: AchFileErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class HeldCode(StrEnum):
    """Why a queued entry cannot go into a file; it stays queued."""

    # POS entries need the terminal's addenda 02, which CREATE does not carry.
    ACH_ADDENDA_REQUIRED = "ach_addenda_required"
    # TEL entries are debits: a receiver's phone call never authorizes a credit.
    ACH_CREDIT_NOT_ALLOWED = "ach_credit_not_allowed"
    # The entry's metadata names an RDFI other than its routing number's.
    ACH_RDFI_CONFLICT = "ach_rdfi_conflict"
    # A field does not fit its place in the SEC code's layout (a CTX receiver's name).
    ACH_FIELD_TOO_LONG = "ach_field_too_long"
    # No company name: the entry's metadata names none and the configuration's origin
    # name does not fit a batch header's 16 characters.
    ACH_COMPANY_NAME_MISSING = "ach_company_name_missing"


@dataclass(frozen=True)
class Held:
    """A queued execution left out of the file, and why."""

    execution_id: UUID
    code: HeldCode
    message: str


@dataclass(frozen=True)
class FilePlan:
    """A new file's entries; the queued executions it leaves out (``held``, which no file
    can take as they stand) and how many wait for a later file because this one is full."""

    entries: tuple[OdfiFileEntry, ...]
    held: tuple[Held, ...]
    deferred: int


def queued(executions: Iterable[WorkflowExecution], config_id: UUID,
           in_files: Iterable[UUID]) -> list[WorkflowExecution]:
    """The executions of the configuration to put in the next file: SUBMITTED, with no
    trace number, and in no file already (a file whose trace numbers are still being sent
    holds executions that have none yet). Oldest first."""
    taken = set(in_files)
    found = [execution for execution in executions
             if execution.config_id == config_id and execution.state is State.SUBMITTED
             and execution.trace_number is None and execution.execution_id not in taken]
    return sorted(found, key=lambda e: (e.runs[-1].at, str(e.execution_id)))


def sequence_of(trace_number: str) -> int:
    """The 7-digit sequence of a trace number."""
    return int(trace_number[-7:])


def highest_sequence(trace_numbers: Iterable[str]) -> int:
    """The highest trace sequence used (0: none yet)."""
    return max((sequence_of(trace) for trace in trace_numbers), default=0)


def originating_dfi(configuration: AchConfiguration) -> str:
    """The ODFI's 8 routing digits, from the configuration's immediate origin, which names
    the ODFI by its 9-digit routing number."""
    origin = configuration.odfi.immediate_origin
    if len(origin) != 9:
        raise AchFileError(AchFileErrorCode.ACH_ODFI_ROUTING_INVALID,
                           f"configuration {configuration.config_id} version "
                           f"{configuration.version}: the immediate origin must be the ODFI's "
                           f"9-digit routing number to make trace numbers, it has {len(origin)} "
                           "digits")
    return origin[:8]


def file_name(created: date, modifier: str) -> str:
    """The name of the file generated on ``created`` (its header's creation date) with the
    file ID modifier ``modifier``: ``ODFI-20251114-A``. The modifier is read back from it."""
    return f"ODFI-{created:%Y%m%d}-{modifier}"


def modifier_of(name: str) -> str:
    """The file ID modifier a generated file's name ends with."""
    return name[-1]


def local_created(created_at: datetime, configuration: AchConfiguration) -> datetime:
    """The creation time as the file's header writes it: in the configuration's time zone."""
    return created_at.astimezone(ZoneInfo(configuration.time_zone))


def next_modifier(created: date, names: Iterable[str]) -> str:
    """The first file ID modifier no file generated on ``created`` has used: a file's
    header is told apart from the day's other files by it."""
    prefix = file_name(created, "")
    used = {modifier_of(name) for name in names if name.startswith(prefix)}
    free = [modifier for modifier in FILE_ID_MODIFIERS if modifier not in used]
    if not free:
        raise AchFileError(AchFileErrorCode.ACH_FILE_MODIFIERS_EXHAUSTED,
                           f"{len(FILE_ID_MODIFIERS)} files were generated on {created}; "
                           "the next one can be generated the next day")
    return free[0]


def plan_file(executions: Sequence[WorkflowExecution], *, file_id: UUID,
              configuration: AchConfiguration, first_sequence: int,
              max_entries: int | None = None) -> FilePlan:
    """The entries of a new file from the queued ``executions`` (``queued``), trace numbers
    from ``first_sequence`` on. Entries past what the file can hold (``max_entries``, the
    trace sequences left, NACHA's control fields) wait for a later file."""
    odfi = originating_dfi(configuration)
    held: list[Held] = []
    drafts: list[_Draft] = []
    for execution in executions:
        draft = _draft(execution, configuration)
        if isinstance(draft, Held):
            held.append(draft)
        else:
            drafts.append(draft)
    room = SEQUENCE_MAX - first_sequence + 1
    if drafts and room <= 0:
        raise AchFileError(AchFileErrorCode.ACH_TRACE_NUMBERS_EXHAUSTED,
                           f"every trace sequence of ODFI {odfi} up to {SEQUENCE_MAX:,} is used")
    limit = min(room, max_entries if max_entries is not None else room)
    drafts.sort(key=lambda d: _batch_order(d.header))  # stable: oldest first within a batch
    entries: list[OdfiFileEntry] = []
    totals = _Totals()
    batch_number, batch_totals = 0, _Totals()
    previous: BatchHeader | None = None
    for draft in drafts:
        new_batch = (draft.header != previous
                     or not batch_totals.admits(draft, BATCH_ENTRIES_MAX))
        records = 2 + 2 * (batch_number + new_batch) + len(entries) + 1
        if len(entries) >= limit or records > FILE_RECORDS_MAX or not totals.admits(draft):
            break
        if new_batch:
            batch_number, batch_totals, previous = batch_number + 1, _Totals(), draft.header
        batch_totals.add(draft)
        totals.add(draft)
        entries.append(OdfiFileEntry.model_validate({
            "file_id": file_id,
            "trace_number": f"{odfi}{first_sequence + len(entries):07d}",
            "execution_id": draft.execution.execution_id, "workflow": draft.execution.workflow,
            "batch_number": batch_number, "batch": draft.header, **draft.fields}))
    return FilePlan(tuple(entries), tuple(held), len(drafts) - len(entries))


@dataclass(frozen=True)
class _Draft:
    """An execution's entry before it has a file, a batch and a trace number."""

    execution: WorkflowExecution
    header: BatchHeader
    fields: dict[str, object]
    amount_cents: int

    @property
    def credit(self) -> bool:
        return self.execution.workflow is Workflow.PUSH


@dataclass
class _Totals:
    entries: int = 0
    debits: int = 0
    credits: int = 0

    def admits(self, draft: _Draft, most_entries: int | None = None) -> bool:
        total = (self.credits if draft.credit else self.debits) + draft.amount_cents
        return total <= TOTAL_CENTS_MAX and (most_entries is None
                                             or self.entries < most_entries)

    def add(self, draft: _Draft) -> None:
        self.entries += 1
        if draft.credit:
            self.credits += draft.amount_cents
        else:
            self.debits += draft.amount_cents


def _batch_order(header: BatchHeader) -> tuple[object, ...]:
    return (header.service_class_code, header.standard_entry_class_code, header.company_name,
            header.company_identification, header.company_entry_description,
            header.effective_entry_date)


def _draft(execution: WorkflowExecution, configuration: AchConfiguration) -> _Draft | Held:
    """The batch header and entry fields of an execution, or why it cannot be written."""
    params = execution.params
    meta = params.entry_metadata
    sec = meta.standard_entry_class_code
    credit = execution.workflow is Workflow.PUSH

    def held(code: HeldCode, message: str) -> Held:
        return Held(execution.execution_id, code, message)

    if sec == "POS":
        return held(HeldCode.ACH_ADDENDA_REQUIRED,
                    "a POS entry needs its terminal's addenda 02, which CREATE does not carry")
    if sec == "TEL" and credit:
        return held(HeldCode.ACH_CREDIT_NOT_ALLOWED,
                    "a TEL entry is a debit; an ACH_PUSH credit cannot be one")
    routing = params.routing_number
    rdfi = meta.rdfi_identification
    if rdfi is not None and rdfi != routing[:len(rdfi)]:
        return held(HeldCode.ACH_RDFI_CONFLICT,
                    "entryMetadata.rdfiIdentification names another bank than routingNumber")
    name = meta.individual_name or params.individual_name
    width = _RECEIVER_NAME_WIDTH.get(sec, 22)
    if len(name) > width:
        return held(HeldCode.ACH_FIELD_TOO_LONG,
                    f"the receiver's name has {len(name)} characters; a {sec} entry holds "
                    f"{width}")
    company = meta.company_name or configuration.odfi.immediate_origin_name
    if not 1 <= len(company) <= 16:
        return held(HeldCode.ACH_COMPANY_NAME_MISSING,
                    "entryMetadata.companyName is not given and the configuration's immediate "
                    "origin name does not fit the batch header's 16 characters")
    header = BatchHeader(
        service_class_code=CREDITS_ONLY if credit else DEBITS_ONLY,
        standard_entry_class_code=sec, company_name=company,
        company_identification=configuration.odfi.company_identification,
        company_entry_description=meta.company_entry_description or params.entry_description,
        effective_entry_date=params.effective)
    # CREATE bounds the amount to whole cents, at most ten digits of them.
    amount_cents = int(params.amount * 100)
    fields: dict[str, object] = {
        "transaction_code": _TRANSACTION_CODES[execution.workflow, params.account_type],
        "routing_number": routing,
        "dfi_account_number": meta.dfi_account_number or params.account_number,
        "amount_cents": amount_cents,
        "receiver_name": name,
        "receiver_identification": meta.identification_number or "",
        # WEB and TEL entries say whether the payment recurs; an execution is one payment.
        "payment_type_code": "S" if sec in {"WEB", "TEL"} else "",
    }
    return _Draft(execution, header, fields, amount_cents)


def build_file(entries: Sequence[OdfiFileEntry], configuration: AchConfiguration,
               created_at: datetime, modifier: str) -> AchFile:
    """The NACHA file of recorded entries: the header from the configuration (its version
    the file recorded), created at ``created_at`` in the configuration's time zone. Raises
    AchFileError if the entries do not make one valid file."""
    odfi = originating_dfi(configuration)
    ordered = sorted(entries, key=lambda e: e.trace_number)
    if not ordered:
        raise _inconsistent("a file has at least one entry")
    first = sequence_of(ordered[0].trace_number)
    header = configuration.odfi
    builder = FileBuilder(immediate_destination=header.immediate_destination,
                          immediate_origin=header.immediate_origin,
                          created=local_created(created_at, configuration),
                          file_id_modifier=modifier,
                          immediate_destination_name=header.immediate_destination_name,
                          immediate_origin_name=header.immediate_origin_name,
                          sequence=first - 1)
    batches = groupby(ordered, key=lambda e: e.batch_number)
    for expected_batch, (batch_number, group) in enumerate(batches, start=1):
        batch_entries = list(group)
        if batch_number != expected_batch:
            raise _inconsistent(f"batch {batch_number} where batch {expected_batch} is due")
        batch_header = batch_entries[0].batch
        if any(entry.batch != batch_header for entry in batch_entries):
            raise _inconsistent(f"the entries of batch {batch_number} disagree on its header")
        batch = builder.batch(batch_header.standard_entry_class_code, originating_dfi=odfi,
                              effective_entry_date=batch_header.effective_entry_date,
                              service_class_code=batch_header.service_class_code,
                              company_name=batch_header.company_name,
                              company_identification=batch_header.company_identification,
                              company_entry_description=batch_header.company_entry_description)
        for entry in batch_entries:
            trace = batch.entry(entry.transaction_code, entry.routing_number,
                                entry.amount_cents, addenda=(), **_entry_fields(entry))
            if trace != entry.trace_number:
                raise _inconsistent(f"trace number {entry.trace_number} is not the next of the "
                                    f"file's (expected {trace}): the trace numbers must run "
                                    "on without a gap")
    try:
        return builder.build()
    except FileRejectedError as exc:
        raise AchFileError(AchFileErrorCode.ACH_FILE_INVALID,
                           f"the file breaks {rules_broken(exc)}") from None


def rules_broken(rejected: FileRejectedError) -> str:
    """The rules a file breaks and where, the first few: never a field's value, which may be
    an account number."""
    broken = "; ".join(f"record {v.record} {v.field}: {v.rule}"
                       for v in rejected.violations[:5])
    return f"{len(rejected.violations)} NACHA rule(s): {broken}"


def _entry_fields(entry: OdfiFileEntry) -> dict[str, FieldValue]:
    sec = entry.batch.standard_entry_class_code
    fields: dict[str, FieldValue] = {"dfi_account_number": entry.dfi_account_number}
    if sec in {"CCD", "CTX"}:
        fields |= {"identification_number": entry.receiver_identification,
                   "receiving_company_name": entry.receiver_name}
    else:
        fields |= {"individual_identification_number": entry.receiver_identification,
                   "individual_name": entry.receiver_name}
    if sec in {"WEB", "TEL"}:
        fields["payment_type_code"] = entry.payment_type_code
    return fields


def _inconsistent(message: str) -> AchFileError:
    return AchFileError(AchFileErrorCode.ACH_FILE_ENTRIES_INCONSISTENT, message)


def statistics(entries: Sequence[OdfiFileEntry]) -> FileStatistics:
    """A file's totals from its entries: the entry hash is the sum of the RDFIs' 8 routing
    digits, its rightmost 10 digits, as the file control counts it."""
    return FileStatistics(
        batches=len({entry.batch_number for entry in entries}),
        entries=len(entries),
        entries_unprocessed=sum(entry.status is FileEntryStatus.SENT for entry in entries),
        total_debit_cents=sum(e.amount_cents for e in entries if not e.is_credit),
        total_credit_cents=sum(e.amount_cents for e in entries if e.is_credit),
        entry_hash=sum(int(e.routing_number[:8]) for e in entries) % ENTRY_HASH_MODULUS)
