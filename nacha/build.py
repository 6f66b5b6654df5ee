"""Building files in code: the builder computes what NACHA derives from the entries.

Trace numbers, addenda indicators and counts, addenda sequence numbers, the batch and file
controls (counts, entry hashes, debit and credit totals), batch numbers, the block count and
the padding are all computed; a finished file is then read back in strict mode, so a builder
never hands out a file that breaks a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from nacha.codes import CREDITS_ONLY, DEBITS_ONLY, MIXED, is_credit
from nacha.fields import DIGITS, FieldValue
from nacha.model import AchFile, Entry
from nacha.parse import parse
from nacha.records import (
    ADDENDA_98_REFUSED,
    ADDENDA_99_CONTESTED,
    ADDENDA_99_DISHONORED,
    ADDENDA_LAYOUTS,
    BATCH_CONTROL,
    BATCH_HEADER,
    BLOCKING_FACTOR,
    FILE_CONTROL,
    FILE_HEADER,
    IAT_BATCH_HEADER,
    PADDING,
    Layout,
    Record,
    entry_layout,
)
from nacha.validate import Totals


@dataclass(frozen=True)
class Addenda:
    """An addenda record to add to an entry: its type code and the fields the caller knows."""

    type_code: str
    fields: Mapping[str, FieldValue]

    @property
    def layout(self) -> Layout:
        # the return and NOC variants share a type code; the fields given tell them apart
        # (a contested dishonored return also names the dishonored return's reason code)
        variants = {"refused_change_code": ADDENDA_98_REFUSED,
                    "contested_return_code": ADDENDA_99_CONTESTED,
                    "dishonored_return_reason_code": ADDENDA_99_DISHONORED}
        for name, layout in variants.items():
            if name in self.fields:
                return layout
        if self.type_code not in ADDENDA_LAYOUTS:
            raise ValueError(f"unknown addenda type {self.type_code!r}")
        return ADDENDA_LAYOUTS[self.type_code]


def addenda(type_code: str, **fields: FieldValue) -> Addenda:
    """``addenda("05", payment_related_information="INV 42")``."""
    return Addenda(type_code, fields)


def _render(layout: Layout, computed: Mapping[str, FieldValue],
            given: Mapping[str, FieldValue]) -> str:
    clash = set(computed) & set(given)
    if clash:
        raise ValueError(f"the builder computes {sorted(clash)}; leave them out")
    return layout.render({**computed, **given})


@dataclass
class BatchBuilder:
    """One batch being built; add entries with ``entry``."""

    owner: FileBuilder
    sec_code: str
    originating_dfi: str
    header_fields: Mapping[str, FieldValue]
    service_class_code: int | None = None
    entries: list[Entry] = field(default_factory=list)

    def entry(self, transaction_code: int, routing: str, amount: int, *,
              addenda: Sequence[Addenda] = (), **fields: FieldValue) -> str:
        """Add an entry and return its trace number.

        ``routing`` is the receiving DFI's 9-digit routing number, check digit included;
        ``amount`` is in cents. The other fields are named as in the SEC code's layout
        (docs/nacha.md): ``dfi_account_number``, ``individual_name``, ...
        """
        if len(routing) != 9 or not set(routing) <= DIGITS:
            raise ValueError(f"routing must be 9 digits, not {routing!r}")
        if type(amount) is not int:
            raise TypeError(f"amount is integer cents, not {type(amount).__name__}")
        trace = self.originating_dfi + f"{self.owner.next_sequence():07d}"
        layout = entry_layout(self.sec_code)
        computed: dict[str, FieldValue] = {
            "transaction_code": transaction_code, "receiving_dfi_identification": routing[:8],
            "check_digit": routing[8], "amount": amount, "trace_number": trace,
            "addenda_record_indicator": 1 if addenda else 0}
        if layout.has("number_of_addenda_records"):
            computed["number_of_addenda_records"] = len(addenda)
        detail = Record(layout, _render(layout, computed, fields))
        self.entries.append(Entry(detail, tuple(self._addenda(addenda, trace))))
        return trace

    @staticmethod
    def _addenda(specs: Sequence[Addenda], trace: str) -> list[Record]:
        records, per_type = [], dict[str, int]()
        for spec in specs:
            layout = spec.layout
            per_type[spec.type_code] = per_type.get(spec.type_code, 0) + 1
            derived: dict[str, FieldValue] = {"addenda_sequence_number": per_type[spec.type_code],
                                              "entry_detail_sequence_number": trace[-7:],
                                              "trace_number": trace}
            computed = {name: value for name, value in derived.items() if layout.has(name)}
            records.append(Record(layout, _render(layout, computed, spec.fields)))
        return records

    def records(self, batch_number: int) -> list[Record]:
        codes = {entry.detail.number("transaction_code") or 0 for entry in self.entries}
        service_class = self.service_class_code or (
            CREDITS_ONLY if codes and all(map(is_credit, codes)) else
            DEBITS_ONLY if codes and not any(map(is_credit, codes)) else MIXED)
        header_values: dict[str, FieldValue] = {"originator_status_code": "1",
                                                **self.header_fields}
        layout = IAT_BATCH_HEADER if self.sec_code == "IAT" else BATCH_HEADER
        header_text = _render(
            layout,
            {"service_class_code": service_class, "standard_entry_class_code": self.sec_code,
             "originating_dfi_identification": self.originating_dfi,
             "batch_number": batch_number},
            header_values)
        header = Record(layout, header_text)
        company = header.raw("originator_identification" if self.sec_code == "IAT"
                             else "company_identification")
        totals = Totals.of(self.entries)
        control = Record(BATCH_CONTROL, BATCH_CONTROL.render({
            "service_class_code": service_class, "entry_addenda_count": totals.entry_addenda_count,
            "entry_hash": totals.entry_hash, "total_debit_entry_dollar_amount": totals.debits,
            "total_credit_entry_dollar_amount": totals.credits, "company_identification": company,
            "originating_dfi_identification": self.originating_dfi,
            "batch_number": batch_number}))
        return [header, *(record for entry in self.entries for record in entry.records()),
                control]


@dataclass
class FileBuilder:
    """An ACH file being built. ``created`` is the file's creation date and time."""

    immediate_destination: str
    immediate_origin: str
    created: datetime
    file_id_modifier: str = "A"
    immediate_destination_name: str = ""
    immediate_origin_name: str = ""
    reference_code: str = ""
    batches: list[BatchBuilder] = field(default_factory=list)
    sequence: int = 0

    def next_sequence(self) -> int:
        """Trace sequence numbers ascend through the whole file, so each batch's ascend too."""
        self.sequence += 1
        return self.sequence

    def batch(self, sec_code: str, *, originating_dfi: str, effective_entry_date: date,
              service_class_code: int | None = None, **fields: FieldValue) -> BatchBuilder:
        """Open a batch; ``service_class_code`` defaults to what its entries make it
        (220 credits only, 225 debits only, 200 mixed)."""
        if len(originating_dfi) != 8 or not set(originating_dfi) <= DIGITS:
            raise ValueError(f"originating_dfi is the ODFI's first 8 routing digits, not "
                             f"{originating_dfi!r}")
        batch = BatchBuilder(self, sec_code, originating_dfi,
                             {"effective_entry_date": effective_entry_date, **fields},
                             service_class_code)
        self.batches.append(batch)
        return batch

    def build(self) -> AchFile:
        """The finished file; raises FileRejectedError, with every violation, if it is invalid."""
        header = FILE_HEADER.render({
            "immediate_destination": self.immediate_destination,
            "immediate_origin": self.immediate_origin.rjust(10),
            "file_creation_date": self.created, "file_creation_time": self.created,
            "file_id_modifier": self.file_id_modifier,
            "immediate_destination_name": self.immediate_destination_name,
            "immediate_origin_name": self.immediate_origin_name,
            "reference_code": self.reference_code})
        lines = [header]
        entries: list[Entry] = []
        for number, batch in enumerate(self.batches, start=1):
            lines += [record.text for record in batch.records(number)]
            entries += batch.entries
        totals = Totals.of(entries)
        blocks = -(-(len(lines) + 1) // BLOCKING_FACTOR)
        lines.append(FILE_CONTROL.render({
            "batch_count": len(self.batches), "block_count": blocks,
            "entry_addenda_count": totals.entry_addenda_count, "entry_hash": totals.entry_hash,
            "total_debit_entry_dollar_amount": totals.debits,
            "total_credit_entry_dollar_amount": totals.credits}))
        lines += [PADDING] * (blocks * BLOCKING_FACTOR - len(lines))
        return parse("\n".join(lines) + "\n", origination=True).file

