"""Return files: the file an RDFI sends back with the entries it received and returns.

Each returned entry becomes a return entry and its addenda 99, as NACHA lays them out:

- the transaction code is the return code of the original's account type and direction
  (``return_transaction_code``: a 22 credit comes back as 21, a 27 debit as 26);
- the receiving DFI is the original's ODFI (its batch header's originating DFI), where the
  return is going; the original's receiving DFI moves to the addenda 99, beside the return
  reason code and the original trace number;
- the amount, the account number and the receiver's name and identification are the
  original's;
- the trace number is new: the returning DFI's 8 routing digits and a sequence ascending
  through the file, as in any file the returning DFI originates.

Each original batch with an entry returned gives one batch, in the original's order, with
its service class, SEC code, company fields and effective entry date; the returning DFI is
its originating DFI and the ACH operator fills in the settlement date. The file header
swaps the original's immediate origin and destination: the file goes back to whoever sent
the original, under the name the original gave the sender.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

from nacha.build import FileBuilder, addenda
from nacha.codes import (
    CONTESTED_RETURN_CODES,
    DISHONORED_RETURN_CODES,
    RETURN_CODES,
    TRANSACTION_CODES,
    is_return_or_noc,
    return_transaction_code,
)
from nacha.fields import DIGITS, FieldValue, Kind, check_digit
from nacha.model import AchFile, Entry
from nacha.records import FILE_HEADER, IAT_BATCH_HEADER, Record

# The dishonored and contested codes answer a return, in addenda 99 layouts of their own;
# an RDFI returns an entry it received with the others.
ENTRY_RETURN_CODES = frozenset(RETURN_CODES) - DISHONORED_RETURN_CODES - CONTESTED_RETURN_CODES
SEQUENCE_MAX = 9_999_999


class ReturnError(ValueError):
    """The entries asked for cannot be returned as they stand. The message names trace
    numbers, codes and header fields, never an account number or a name."""


def build_return_file(original: AchFile, returns: Mapping[str, str], *, originating_dfi: str,
                      created: datetime, immediate_origin_name: str | None = None,
                      file_id_modifier: str = "A", first_sequence: int = 1) -> AchFile:
    """The return file of ``original``'s entries named in ``returns`` (trace number: return
    reason code, R01 ...), originated by the returning DFI ``originating_dfi`` (its first 8
    routing digits) under its name ``immediate_origin_name`` (default: the name the
    original gave its immediate destination), created at ``created``; its trace sequences
    start at ``first_sequence``. Raises ReturnError when an entry cannot be returned, and
    FileRejectedError, with every violation, if the file would break a rule."""
    header = original.header
    if header is None:
        raise ReturnError("the original file has no file header to answer")
    if not returns:
        raise ReturnError("no entry to return")
    if len(originating_dfi) != 8 or not set(originating_dfi) <= DIGITS:
        raise ReturnError(f"originating_dfi is the returning DFI's first 8 routing digits, not "
                          f"{originating_dfi!r}")
    if first_sequence < 1 or first_sequence + len(returns) - 1 > SEQUENCE_MAX:
        raise ReturnError(f"{len(returns)} trace sequences from {first_sequence} do not fit "
                          f"1 to {SEQUENCE_MAX:,}")
    unknown = sorted(code for code in set(returns.values()) if code not in ENTRY_RETURN_CODES)
    if unknown:
        raise ReturnError(f"not return reason codes an RDFI returns an entry with: {unknown}")
    sender = header["immediate_origin"]
    # the return file's immediate destination is a routing number, check digit included
    if FILE_HEADER.field("immediate_destination").check(sender.rjust(10)) is not None:
        raise ReturnError(f"the original's immediate origin {sender!r} is not a routing number "
                          "to send the return file to")
    _check_entries(original, returns)
    builder = FileBuilder(immediate_destination=sender,
                          immediate_origin=header["immediate_destination"], created=created,
                          file_id_modifier=file_id_modifier,
                          immediate_destination_name=header["immediate_origin_name"],
                          immediate_origin_name=(header["immediate_destination_name"]
                                                 if immediate_origin_name is None
                                                 else immediate_origin_name),
                          sequence=first_sequence - 1)
    for batch in original.batches:
        chosen = [entry for entry in batch.entries if entry.detail["trace_number"] in returns]
        if not chosen:
            continue
        returning = builder.batch(
            batch.sec_code, originating_dfi=originating_dfi,
            effective_entry_date=_date(batch.header.raw("effective_entry_date")),
            service_class_code=batch.header.number("service_class_code"),
            **_carried(batch.header, leave_out={"standard_entry_class_code"}))
        odfi = batch.header.raw("originating_dfi_identification")
        for entry in chosen:
            detail = entry.detail
            trace = detail["trace_number"]
            reason = addenda("99", return_reason_code=returns[trace],
                             original_entry_trace_number=trace,
                             original_receiving_dfi_identification=detail.raw(
                                 "receiving_dfi_identification"))
            returning.entry(return_transaction_code(_number(detail, "transaction_code")),
                            odfi + str(check_digit(odfi)), _number(detail, "amount"),
                            addenda=[reason], **_carried(detail))
    return builder.build()


def _check_entries(original: AchFile, returns: Mapping[str, str]) -> None:
    """Every trace number names exactly one entry, and one that can be returned."""
    found: dict[str, list[Entry]] = {}
    iat: set[str] = set()
    for batch in original.batches:
        for entry in batch.entries:
            trace = entry.detail["trace_number"]
            if trace in returns:
                found.setdefault(trace, []).append(entry)
                if batch.header.layout is IAT_BATCH_HEADER:
                    iat.add(trace)
    problems = []
    for trace in sorted(returns):
        entries = found.get(trace, [])
        if not entries:
            problems.append(f"{trace}: no entry of the file has this trace number")
        elif len(entries) > 1:
            problems.append(f"{trace}: {len(entries)} entries have this trace number")
        elif trace in iat:
            # an IAT return carries the original's IAT addenda before its 99
            problems.append(f"{trace}: IAT entries are not returned here")
        elif entries[0].detail.number("transaction_code") not in TRANSACTION_CODES:
            problems.append(f"{trace}: not a NACHA transaction code")
        elif _is_reply(entries[0]):
            problems.append(f"{trace}: a return or a notification of change, not an entry "
                            "to return")
    if problems:
        raise ReturnError("cannot return " + "; ".join(problems))


def _is_reply(entry: Entry) -> bool:
    """Whether the entry answers another: a return or a NOC, by its code or its addenda."""
    return (is_return_or_noc(_number(entry.detail, "transaction_code"))
            or any(record["addenda_type_code"] in {"98", "99"} for record in entry.addenda))


def _carried(record: Record, leave_out: Collection[str] = ()) -> dict[str, FieldValue]:
    """The record's alphanumeric fields exactly as they stand: the names, identifications
    and descriptions the return repeats. Its numeric and coded fields are the return's own,
    computed by the builder."""
    return {spec.name: record.raw(spec.name) for spec in record.layout.fields
            if spec.kind is Kind.ALPHANUMERIC and spec.name not in leave_out}


def _number(record: Record, name: str) -> int:
    value = record.number(name)
    if value is None:
        raise ReturnError(f"record {record.line}: {name} is not digits")
    return value


def _date(yymmdd: str) -> date:
    # %y reads 69-99 as the 1900s; written back with %y, the field is the same text
    try:
        return datetime.strptime(yymmdd, "%y%m%d").date()
    except ValueError:
        raise ReturnError(f"the effective entry date {yymmdd!r} is not a date") from None
