"""The rules a parsed file is held to; each broken rule becomes a Violation naming its field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from nacha.codes import (
    CHANGE_CODES,
    CREDITS_ONLY,
    DEBITS_ONLY,
    FOREIGN_EXCHANGE_INDICATORS,
    FOREIGN_EXCHANGE_REFERENCE_INDICATORS,
    IAT_TRANSACTION_TYPE_CODES,
    ORIGINATOR_STATUS_CODES,
    RETURN_CODES,
    SEC_CODES,
    SERVICE_CLASSES,
    TRANSACTION_CODES,
    is_credit,
    is_live,
    is_zero_amount,
)
from nacha.errors import Rule, Violation
from nacha.fields import check_digit
from nacha.model import AchFile, Batch, Entry
from nacha.records import (
    ADDENDA_10,
    ADDENDA_98,
    ADDENDA_98_REFUSED,
    ADDENDA_99,
    ADDENDA_LAYOUTS,
    BLOCKING_FACTOR,
    ENTRY_LAYOUTS,
    IAT_BATCH_HEADER,
    LAYOUTS,
    RECORD_LENGTH,
    Layout,
    Record,
    number,
)

ENTRY_HASH_MODULUS = 10 ** 10
FILE_ID_MODIFIERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True)
class Slot:
    """Where an addenda type may stand after an entry, and how many times in a row."""

    type_code: str
    least: int
    most: int


_IAT_SLOTS = (*(Slot(str(code), 1, 1) for code in range(10, 17)), Slot("17", 0, 2),
              Slot("18", 0, 5))
# the addenda a forward entry may carry, in order, per SEC code; TEL entries take none
FORWARD_ADDENDA = {
    "PPD": (Slot("05", 0, 1),), "CCD": (Slot("05", 0, 1),), "WEB": (Slot("05", 0, 1),),
    "CTX": (Slot("05", 0, 9999),), "TEL": (), "POS": (Slot("02", 1, 1),),
    "COR": (Slot("98", 1, 1),), "IAT": _IAT_SLOTS,
}
RETURN_SLOT = Slot("99", 1, 1)
NOC_LAYOUTS = frozenset({ADDENDA_98, ADDENDA_98_REFUSED})

# the fields of an entry detail that the entry rules read, taken from its text in one call
_ENTRY_FIELDS: dict[Layout, Callable[[str], tuple[str, ...]]] = {
    layout: itemgetter(*(slice(spec.start - 1, spec.end) for spec in map(layout.field, (
        "transaction_code", "amount", "receiving_dfi_identification", "check_digit",
        "trace_number", "addenda_record_indicator"))))
    for layout in ENTRY_LAYOUTS.values()}
# per transaction code: whether it is a credit, carries no amount, moves money
_CODE_KINDS = {code: (is_credit(code), is_zero_amount(code), is_live(code))
               for code in TRANSACTION_CODES}
_COUNTS_ADDENDA = frozenset(layout for layout in ENTRY_LAYOUTS.values()
                            if layout.has("number_of_addenda_records"))


def _slice(layout: Layout, name: str) -> slice | None:
    return slice(layout.field(name).start - 1, layout.field(name).end) if layout.has(name) else None


# where each layout keeps the fields that tie an addenda to its entry (None where it has none)
_ADDENDA_TIES = {layout: (_slice(layout, "addenda_sequence_number"),
                          _slice(layout, "entry_detail_sequence_number"),
                          _slice(layout, "trace_number"))
                 for layout in LAYOUTS if layout.has("addenda_type_code")}


def check(ach_file: AchFile, *, origination: bool = False) -> list[Violation]:
    """Every rule ``ach_file`` breaks; record-order problems are the parser's to report."""
    checks = _Checks(origination)
    # one walk over the records: each record's own fields are checked before the rules that
    # read it, so its violations come in the same order as field by field, then rule by rule
    if ach_file.header is not None:
        checks.fields(ach_file.header)
        checks.code(ach_file.header, "file_id_modifier", FILE_ID_MODIFIERS)
    previous_batch_number = 0
    batch_totals = []
    for batch in ach_file.batches:
        batch_totals.append(checks.batch(batch))
        number = batch.header.number("batch_number")
        if number is not None:
            if number <= previous_batch_number:
                checks.report(batch.header, "batch_number", Rule.BATCH_NUMBER_ORDER,
                              f"batch numbers must ascend; the one before is "
                              f"{previous_batch_number}")
            previous_batch_number = number
    if ach_file.control is not None:
        checks.fields(ach_file.control)
        checks.file_control(ach_file, Totals.combined(batch_totals))
    return checks.violations


@dataclass(frozen=True)
class Totals:
    """What a control record must say about the entries it closes."""

    entry_addenda_count: int
    entry_hash: int
    debits: int
    credits: int

    @staticmethod
    def of(entries: Iterable[Entry]) -> Totals:
        tally = _Tally()
        for entry in entries:
            detail = entry.detail
            tally.add(detail.number("receiving_dfi_identification"),
                      detail.number("transaction_code"), detail.number("amount"),
                      len(entry.addenda))
        return tally.totals()

    @staticmethod
    def combined(parts: Iterable[Totals]) -> Totals:
        """The totals of all the entries of ``parts``, as ``of`` would count them together."""
        count = entry_hash = debits = credits = 0
        for part in parts:
            count += part.entry_addenda_count
            entry_hash += part.entry_hash
            debits += part.debits
            credits += part.credits
        return Totals(count, entry_hash % ENTRY_HASH_MODULUS, debits, credits)


@dataclass
class _Tally:
    """Totals being counted, entry by entry."""

    count: int = 0
    entry_hash: int = 0
    debits: int = 0
    credits: int = 0

    def add(self, routing: int | None, code: int | None, amount: int | None,
            addenda: int) -> None:
        """An entry with its receiving DFI, transaction code and amount (None where not
        digits) and its number of addenda."""
        self.count += 1 + addenda
        self.entry_hash += routing or 0
        if code is not None and amount is not None and code in TRANSACTION_CODES:
            if is_credit(code):
                self.credits += amount
            else:
                self.debits += amount

    def totals(self) -> Totals:
        return Totals(self.count, self.entry_hash % ENTRY_HASH_MODULUS, self.debits, self.credits)


# a file's entries repeat a handful of addenda sequences, so each sequence is judged once; the
# bound keeps a hostile file of endless distinct sequences from growing the cache
@lru_cache(maxsize=1024)
def _addenda_order(sec_code: str, type_codes: tuple[str, ...]
                   ) -> tuple[tuple[int, str, Rule, str], ...]:
    """Where a sequence of addenda type codes breaks the order a ``sec_code`` entry allows: the
    index of each addenda at fault (-1 for the entry detail), the field, the rule, a message."""
    found: list[tuple[int, str, Rule, str]] = []
    slots = FORWARD_ADDENDA.get(sec_code, ())
    if "99" in type_codes:
        slots = (*slots, RETURN_SLOT) if sec_code == "IAT" else (RETURN_SLOT,)
    at, seen = 0, 0
    for index, type_code in enumerate(type_codes):
        if type_code not in ADDENDA_LAYOUTS:
            found.append((index, "addenda_type_code", Rule.UNKNOWN_ADDENDA_TYPE,
                          "not an addenda type NACHA defines"))
            continue
        later = [slot for slot in range(at, len(slots)) if slots[slot].type_code == type_code]
        if later and later[0] == at and seen >= slots[at].most:
            found.append((index, "addenda_type_code", Rule.ADDENDA_COUNT,
                          f"at most {slots[at].most} addenda {type_code} per entry"))
            continue
        if not later:
            found.append((index, "addenda_type_code", Rule.ADDENDA_NOT_ALLOWED,
                          f"not allowed here in a {sec_code} entry"))
            continue
        for slot in range(at, later[0]):
            if (seen if slot == at else 0) < slots[slot].least:
                found.append((index, "addenda_type_code", Rule.ADDENDA_COUNT,
                              f"addenda {slots[slot].type_code} must come before this one"))
        if later[0] != at:
            at, seen = later[0], 0
        seen += 1
    for slot in range(at, len(slots)):
        if (seen if slot == at else 0) < slots[slot].least:
            found.append((-1, "addenda_record_indicator", Rule.ADDENDA_COUNT,
                          f"a {sec_code} entry needs addenda {slots[slot].type_code}"))
    return tuple(found)


@dataclass
class _Checks:
    origination: bool
    violations: list[Violation] = field(default_factory=list)

    def report(self, record: Record, name: str, rule: Rule, message: str) -> None:
        spec = record.layout.field(name)
        self.violations.append(
            Violation(record.line, name, spec.start, spec.end, rule, record.raw(name), message))

    def fields(self, record: Record) -> bool:
        """Check the record's own fields; True when it has its layout's shape, so that every
        numeric field it has is digits."""
        text = record.text
        # positions mean nothing in a record of the wrong length, which is reported already
        if len(text) != RECORD_LENGTH:
            return False
        layout = record.layout
        # a record of its layout's shape leaves only the fields no regular expression checks
        shaped = layout.shape.fullmatch(text) is not None
        for spec in layout.checked if shaped else layout.fields:
            broken = spec.check(text[spec.start - 1:spec.end])
            if broken is not None:
                self.report(record, spec.name, *broken)
        return shaped

    def code(self, record: Record, name: str, allowed: Iterable[str]) -> None:
        if record.raw(name) not in allowed:
            self.report(record, name, Rule.INVALID_CODE, f"must be one of {sorted(allowed)}")

    def batch(self, batch: Batch) -> Totals:
        header = batch.header
        self.fields(header)
        service_class = header.number("service_class_code")
        if service_class is not None and service_class not in SERVICE_CLASSES:
            self.report(header, "service_class_code", Rule.UNKNOWN_SERVICE_CLASS,
                        f"must be one of {sorted(SERVICE_CLASSES)}")
        sec_code = batch.sec_code
        if sec_code not in SEC_CODES:
            self.report(header, "standard_entry_class_code", Rule.UNKNOWN_SEC_CODE,
                        f"supported: {', '.join(SEC_CODES)}")
        self.code(header, "originator_status_code", ORIGINATOR_STATUS_CODES)
        if self.origination and header.raw("settlement_date").strip():
            self.report(header, "settlement_date", Rule.SETTLEMENT_DATE_NOT_BLANK,
                        "the ACH operator fills in the settlement date; originate it blank")
        if header.layout is IAT_BATCH_HEADER:
            self.code(header, "foreign_exchange_indicator", FOREIGN_EXCHANGE_INDICATORS)
            self.code(header, "foreign_exchange_reference_indicator",
                      FOREIGN_EXCHANGE_REFERENCE_INDICATORS)
        if not batch.entries:
            self.violations.append(Violation(header.line, "record", 1, RECORD_LENGTH,
                                             Rule.BATCH_EMPTY, "", "a batch needs an entry"))
        odfi = header.raw("originating_dfi_identification")
        tally = _Tally()
        previous_trace = ""
        for entry in batch.entries:
            trace = self.entry(entry, sec_code, service_class, odfi, tally)
            if previous_trace and trace <= previous_trace:
                self.report(entry.detail, "trace_number", Rule.TRACE_NUMBER_ORDER,
                            f"trace numbers must ascend within a batch; the one before is "
                            f"{previous_trace}")
            previous_trace = trace
        totals = tally.totals()
        if batch.control is not None:
            self.fields(batch.control)
            self.batch_control(batch, batch.control, totals)
        return totals

    def entry(self, entry: Entry, sec_code: str, service_class: int | None, odfi: str,
              tally: _Tally) -> str:
        """Check an entry and its addenda and count it in ``tally``; return its trace number."""
        detail, addenda = entry.detail, entry.addenda
        shaped = self.fields(detail)
        for record in addenda:
            self.fields(record)
        code_text, amount_text, routing, digit_text, trace, indicator = (
            _ENTRY_FIELDS[detail.layout](detail.text))
        code: int | None
        amount: int | None
        routing_number: int | None
        digit: int | None
        if shaped:
            code, amount, routing_number, digit = (
                int(code_text), int(amount_text), int(routing), int(digit_text))
        else:
            code, amount, routing_number, digit = (
                number(code_text), number(amount_text), number(routing), number(digit_text))
        tally.add(routing_number, code, amount, len(addenda))
        kind = _CODE_KINDS.get(code) if code is not None else None
        if code is not None and kind is None:
            self.report(detail, "transaction_code", Rule.UNKNOWN_TRANSACTION_CODE,
                        "not a NACHA transaction code")
        elif kind is not None:
            credit, zero_amount, live = kind
            if service_class == (DEBITS_ONLY if credit else CREDITS_ONLY):
                self.report(detail, "transaction_code", Rule.SERVICE_CLASS_MISMATCH,
                            f"a {'credit' if credit else 'debit'} in a batch of "
                            f"service class {service_class}")
            # a receiver's phone call authorizes a debit, never a credit
            if sec_code == "TEL" and credit and not addenda:
                self.report(detail, "transaction_code", Rule.CREDIT_NOT_ALLOWED,
                            "TEL entries are debits")
            if amount and (zero_amount or sec_code == "COR"):
                self.report(detail, "amount", Rule.AMOUNT_MUST_BE_ZERO,
                            "prenotes, zero-dollar entries and notifications of change carry "
                            "no amount")
            if amount == 0 and live and sec_code != "COR":
                self.report(detail, "amount", Rule.AMOUNT_MUST_NOT_BE_ZERO,
                            "a live entry moves money; a zero-dollar one needs a prenote or "
                            "zero-dollar transaction code")
        if digit is not None and routing_number is not None and check_digit(routing) != digit:
            self.report(detail, "check_digit", Rule.ROUTING_CHECK_DIGIT,
                        f"the check digit of {routing} is {check_digit(routing)}")
        if not trace.startswith(odfi):
            self.report(detail, "trace_number", Rule.TRACE_NUMBER_ODFI,
                        f"must start with the batch's originating DFI {odfi}")
        if indicator != ("1" if addenda else "0"):
            self.report(detail, "addenda_record_indicator", Rule.ADDENDA_INDICATOR,
                        f"the entry has {len(addenda)} addenda")
        if (detail.layout in _COUNTS_ADDENDA
                and detail.number("number_of_addenda_records") != len(addenda)):
            self.report(detail, "number_of_addenda_records", Rule.ADDENDA_COUNT,
                        f"the entry has {len(addenda)} addenda")
        # positions 2-3 hold the type code in every addenda layout
        type_codes = tuple(record.text[1:3] for record in addenda) if addenda else ()
        for at, name, rule, message in _addenda_order(sec_code, type_codes):
            self.report(detail if at < 0 else addenda[at], name, rule, message)
        if addenda:
            self.addenda_contents(addenda, trace)
        return trace

    def addenda_contents(self, records: tuple[Record, ...], trace: str) -> None:
        sequence = trace[-7:]
        per_type: dict[str, int] = {}
        for addenda in records:
            layout, text = addenda.layout, addenda.text
            type_code = text[1:3]
            per_type[type_code] = per_type.get(type_code, 0) + 1
            sequence_at, entry_sequence_at, trace_at = _ADDENDA_TIES[layout]
            if sequence_at and number(text[sequence_at]) != per_type[type_code]:
                self.report(addenda, "addenda_sequence_number", Rule.ADDENDA_SEQUENCE,
                            f"this is addenda {type_code} number {per_type[type_code]}")
            if entry_sequence_at and text[entry_sequence_at] != sequence:
                self.report(addenda, "entry_detail_sequence_number", Rule.ADDENDA_TRACE_MISMATCH,
                            f"must be the last 7 digits of the entry's trace number {trace}")
            if trace_at and text[trace_at] != trace:
                self.report(addenda, "trace_number", Rule.ADDENDA_TRACE_MISMATCH,
                            f"must be the entry's trace number {trace}")
            if layout is ADDENDA_10:
                self.code(addenda, "transaction_type_code", IAT_TRANSACTION_TYPE_CODES)
            if layout is ADDENDA_99 and addenda["return_reason_code"] not in RETURN_CODES:
                self.report(addenda, "return_reason_code", Rule.UNKNOWN_RETURN_CODE,
                            "not a NACHA return reason code")
            if layout in NOC_LAYOUTS and addenda["change_code"] not in CHANGE_CODES:
                self.report(addenda, "change_code", Rule.UNKNOWN_CHANGE_CODE,
                            "not a NACHA change code")

    def batch_control(self, batch: Batch, control: Record, totals: Totals) -> None:
        header = batch.header
        company = ("originator_identification" if header.layout is IAT_BATCH_HEADER
                   else "company_identification")
        for name, header_name in (("service_class_code", "service_class_code"),
                                  ("company_identification", company),
                                  ("originating_dfi_identification",
                                   "originating_dfi_identification"),
                                  ("batch_number", "batch_number")):
            if control.raw(name) != header.raw(header_name):
                self.report(control, name, Rule.BATCH_HEADER_CONTROL_MISMATCH,
                            f"the batch header says {header.raw(header_name)!r}")
        self.totals(control, totals)

    def file_control(self, ach_file: AchFile, totals: Totals) -> None:
        control = ach_file.control
        assert control is not None
        self.expect(control, "batch_count", len(ach_file.batches), Rule.BATCH_COUNT_MISMATCH)
        # every record but the padding, counted from the totals rather than walked again
        records = ((ach_file.header is not None) + 1 + totals.entry_addenda_count
                   + sum(1 + (batch.control is not None) for batch in ach_file.batches))
        blocks = -(-records // BLOCKING_FACTOR)
        self.expect(control, "block_count", blocks, Rule.BLOCK_COUNT_MISMATCH)
        self.totals(control, totals)
        if ach_file.padding != blocks * BLOCKING_FACTOR - records:
            lines = records + ach_file.padding
            self.violations.append(Violation(
                control.line + ach_file.padding, "record", 1, RECORD_LENGTH, Rule.BLOCK_PADDING,
                str(ach_file.padding),
                f"{records} records need {blocks * BLOCKING_FACTOR - records} padding lines to "
                f"fill blocks of {BLOCKING_FACTOR}; the file has {lines} lines"))

    def totals(self, control: Record, totals: Totals) -> None:
        self.expect(control, "entry_addenda_count", totals.entry_addenda_count,
                    Rule.ENTRY_ADDENDA_COUNT_MISMATCH)
        self.expect(control, "entry_hash", totals.entry_hash, Rule.ENTRY_HASH_MISMATCH)
        self.expect(control, "total_debit_entry_dollar_amount", totals.debits,
                    Rule.TOTAL_DEBIT_MISMATCH)
        self.expect(control, "total_credit_entry_dollar_amount", totals.credits,
                    Rule.TOTAL_CREDIT_MISMATCH)

    def expect(self, record: Record, name: str, expected: int, rule: Rule) -> None:
        # a field that is not numeric is reported as such; comparing it would say it twice
        found = record.number(name)
        if found is not None and found != expected:
            self.report(record, name, rule, f"should be {expected}")
