"""The six record types and their layouts, and a record: a layout over its original text.

A record keeps the text it was read from (or written to), so writing it back is byte-identical;
its fields are read from that text on demand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import msgspec

from nacha.codes import CONTESTED_RETURN_CODES, DISHONORED_RETURN_CODES, REFUSED_CHANGE_CODES
from nacha.fields import Field, FieldValue, Kind

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
PADDING = "9" * RECORD_LENGTH


@dataclass(frozen=True, eq=False)
class Layout:
    """The fields of one record layout, covering positions 1 to 94 without gaps."""

    name: str
    fields: tuple[Field, ...]

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {spec.name: spec for spec in self.fields}

    @cached_property
    def _slices(self) -> dict[str, slice]:
        return {spec.name: slice(spec.start - 1, spec.end) for spec in self.fields}

    @cached_property
    def shape(self) -> re.Pattern[str]:
        """What a whole line matches when its fields break no rule, but perhaps those of
        ``checked``: one match clears a valid record's fields at C speed."""
        return re.compile("".join(spec.pattern or f".{{{spec.width}}}" for spec in self.fields),
                          re.DOTALL)

    @cached_property
    def checked(self) -> tuple[Field, ...]:
        """The fields a line of the layout's shape still leaves to their own check: those no
        regular expression can judge (check digits, calendar dates)."""
        return tuple(spec for spec in self.fields if spec.pattern is None)

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no field {name!r}") from None

    def has(self, name: str) -> bool:
        return name in self._by_name

    def render(self, values: Mapping[str, FieldValue]) -> str:
        """A record's text from field values; fields left out get their constant or blanks."""
        unknown = set(values) - {candidate.name for candidate in self.fields}
        if unknown:
            raise ValueError(f"{self.name} has no field(s) {sorted(unknown)}")
        return "".join(candidate.render(values.get(candidate.name)) for candidate in self.fields)


# a file holds one per line: a Struct is built several times faster than a frozen dataclass,
# and gc=False keeps it out of the cyclic collector, whose walks over hundreds of thousands of
# records otherwise cost a large file's parse a fifth of its time (a record refers only to its
# layout and its text, so it can never be part of a cycle)
class Record(msgspec.Struct, frozen=True, gc=False, eq=False):
    """One line of a file: its layout, its text, and its 1-based line number (not compared)."""

    layout: Layout
    text: str
    line: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return self.layout is other.layout and self.text == other.text

    def __hash__(self) -> int:
        return hash((id(self.layout), self.text))

    def raw(self, name: str) -> str:
        """The field's text exactly as it stands, padding included."""
        try:
            return self.text[self.layout._slices[name]]
        except KeyError:
            self.layout.field(name)  # raises, naming the layout
            raise

    def __getitem__(self, name: str) -> str:
        """The field's text without its padding blanks."""
        return self.raw(name).strip()

    def number(self, name: str) -> int | None:
        """The field as an integer, or None when it is not all digits."""
        return number(self.raw(name))


def number(text: str) -> int | None:
    """``text`` as an integer, or None when it is not all ASCII digits (or empty)."""
    return int(text) if text.isascii() and text.isdigit() else None


def _layout(name: str, *specs: tuple[str, int, int, Kind] | Field) -> Layout:
    return Layout(name, tuple(spec if isinstance(spec, Field) else Field(*spec) for spec in specs))


def _const(name: str, start: int, value: str) -> Field:
    return Field(name, start, start + len(value) - 1, Kind.CONSTANT, constant=value)


N, A, R = Kind.NUMERIC, Kind.ALPHANUMERIC, Kind.RESERVED
TYPE_CODE = "record_type_code"


def _required(name: str, start: int, end: int) -> Field:
    return Field(name, start, end, A, required=True)


FILE_HEADER = _layout(
    "file header",
    _const(TYPE_CODE, 1, "1"),
    _const("priority_code", 2, "01"),
    Field("immediate_destination", 4, 13, Kind.ROUTING),
    _required("immediate_origin", 14, 23),
    ("file_creation_date", 24, 29, Kind.DATE),
    Field("file_creation_time", 30, 33, Kind.TIME, optional=True),
    _required("file_id_modifier", 34, 34),
    _const("record_size", 35, "094"),
    _const("blocking_factor", 38, "10"),
    _const("format_code", 40, "1"),
    ("immediate_destination_name", 41, 63, A),
    ("immediate_origin_name", 64, 86, A),
    ("reference_code", 87, 94, A),
)

_BATCH_TAIL = (
    ("effective_entry_date", 70, 75, Kind.DATE),
    Field("settlement_date", 76, 78, Kind.JULIAN, optional=True),
    _required("originator_status_code", 79, 79),
    ("originating_dfi_identification", 80, 87, N),
    ("batch_number", 88, 94, N),
)
BATCH_HEADER = _layout(
    "batch header",
    _const(TYPE_CODE, 1, "5"),
    ("service_class_code", 2, 4, N),
    _required("company_name", 5, 20),
    ("company_discretionary_data", 21, 40, A),
    _required("company_identification", 41, 50),
    _required("standard_entry_class_code", 51, 53),
    _required("company_entry_description", 54, 63),
    ("company_descriptive_date", 64, 69, A),
    *_BATCH_TAIL,
)
IAT_BATCH_HEADER = _layout(
    "IAT batch header",
    _const(TYPE_CODE, 1, "5"),
    ("service_class_code", 2, 4, N),
    ("iat_indicator", 5, 20, A),
    _required("foreign_exchange_indicator", 21, 22),
    ("foreign_exchange_reference_indicator", 23, 23, N),
    ("foreign_exchange_reference", 24, 38, A),
    _required("iso_destination_country_code", 39, 40),
    _required("originator_identification", 41, 50),
    _const("standard_entry_class_code", 51, "IAT"),
    _required("company_entry_description", 54, 63),
    _required("iso_originating_currency_code", 64, 66),
    _required("iso_destination_currency_code", 67, 69),
    *_BATCH_TAIL,
)

_ENTRY_HEAD = (
    _const(TYPE_CODE, 1, "6"),
    ("transaction_code", 2, 3, N),
    ("receiving_dfi_identification", 4, 11, N),
    ("check_digit", 12, 12, N),
)
_ENTRY_ACCOUNT = (_required("dfi_account_number", 13, 29), ("amount", 30, 39, N))
_ENTRY_TAIL = (("addenda_record_indicator", 79, 79, N), ("trace_number", 80, 94, N))


def _entry(name: str, *middle: tuple[str, int, int, Kind] | Field) -> Layout:
    return _layout(name, *_ENTRY_HEAD, *_ENTRY_ACCOUNT, *middle, *_ENTRY_TAIL)


_CONSUMER_ID = ("individual_identification_number", 40, 54, A)
# consumer entries name their receiver, except at a point of sale, where the card stands for them
_CONSUMER = (_CONSUMER_ID, _required("individual_name", 55, 76))
PPD_ENTRY = _entry("PPD entry detail", *_CONSUMER, ("discretionary_data", 77, 78, A))
# WEB and TEL use positions 77-78 for whether the payment recurs (R) or is single (S)
WEB_TEL_ENTRY = _entry("WEB/TEL entry detail", *_CONSUMER, ("payment_type_code", 77, 78, A))
POS_ENTRY = _entry("POS entry detail", _CONSUMER_ID, ("individual_name", 55, 76, A),
                   ("card_transaction_type_code", 77, 78, A))
CCD_ENTRY = _entry("CCD entry detail", ("identification_number", 40, 54, A),
                   ("receiving_company_name", 55, 76, A), ("discretionary_data", 77, 78, A))
CTX_ENTRY = _entry("CTX entry detail", ("identification_number", 40, 54, A),
                   ("number_of_addenda_records", 55, 58, N),
                   ("receiving_company_name", 59, 74, A), ("reserved", 75, 76, R),
                   ("discretionary_data", 77, 78, A))
IAT_ENTRY = _layout(
    "IAT entry detail", *_ENTRY_HEAD,
    ("number_of_addenda_records", 13, 16, N),
    ("reserved", 17, 29, R),
    ("amount", 30, 39, N),
    _required("foreign_receivers_account_number", 40, 74),
    ("reserved_2", 75, 76, R),
    ("gateway_operator_ofac_screening_indicator", 77, 77, A),
    ("secondary_ofac_screening_indicator", 78, 78, A),
    *_ENTRY_TAIL,
)
ENTRY_LAYOUTS = {"PPD": PPD_ENTRY, "WEB": WEB_TEL_ENTRY, "TEL": WEB_TEL_ENTRY, "POS": POS_ENTRY,
                 "CCD": CCD_ENTRY, "COR": CCD_ENTRY, "CTX": CTX_ENTRY, "IAT": IAT_ENTRY}


def _addenda(type_code: str, *specs: tuple[str, int, int, Kind] | Field) -> Layout:
    return _layout(f"addenda {type_code}", _const(TYPE_CODE, 1, "7"),
                   _const("addenda_type_code", 2, type_code), *specs)


_SEQUENCE = ("addenda_sequence_number", 84, 87, N)
_ENTRY_SEQUENCE = ("entry_detail_sequence_number", 88, 94, N)
_TRACE = ("trace_number", 80, 94, N)

ADDENDA_02 = _addenda(
    "02",
    ("reference_information_1", 4, 10, A),
    ("reference_information_2", 11, 13, A),
    _required("terminal_identification_code", 14, 19),
    _required("transaction_serial_number", 20, 25),
    ("transaction_date", 26, 29, Kind.MONTH_DAY),
    ("authorization_code_or_card_expiration_date", 30, 35, A),
    _required("terminal_location", 36, 62),
    _required("terminal_city", 63, 77),
    _required("terminal_state", 78, 79),
    _TRACE,
)
ADDENDA_05 = _addenda("05", ("payment_related_information", 4, 83, A), _SEQUENCE, _ENTRY_SEQUENCE)
_NOC_HEAD = (
    ("original_entry_trace_number", 7, 21, N),
    ("reserved", 22, 27, R),
    ("original_receiving_dfi_identification", 28, 35, N),
    _required("corrected_data", 36, 64),
)
ADDENDA_98 = _addenda("98", ("change_code", 4, 6, A), *_NOC_HEAD, ("reserved_2", 65, 79, R),
                      _TRACE)
ADDENDA_98_REFUSED = _addenda(
    "98", ("refused_change_code", 4, 6, A), *_NOC_HEAD,
    ("change_code", 65, 67, A),
    ("trace_sequence_number", 68, 74, N),
    ("reserved_2", 75, 79, R),
    _TRACE,
)
ADDENDA_99 = _addenda(
    "99",
    ("return_reason_code", 4, 6, A),
    ("original_entry_trace_number", 7, 21, N),
    Field("date_of_death", 22, 27, Kind.DATE, optional=True),
    ("original_receiving_dfi_identification", 28, 35, N),
    ("addenda_information", 36, 79, A),
    _TRACE,
)
_RETURN_OF_RETURN = (
    ("return_trace_number", 39, 53, N),
    ("return_settlement_date", 54, 56, Kind.JULIAN),
    ("return_reason_code", 57, 58, N),
)
ADDENDA_99_DISHONORED = _addenda(
    "99",
    ("dishonored_return_reason_code", 4, 6, A),
    ("original_entry_trace_number", 7, 21, N),
    ("reserved", 22, 27, R),
    ("original_receiving_dfi_identification", 28, 35, N),
    ("reserved_2", 36, 38, R),
    *_RETURN_OF_RETURN,
    ("addenda_information", 59, 79, A),
    _TRACE,
)
ADDENDA_99_CONTESTED = _addenda(
    "99",
    ("contested_return_code", 4, 6, A),
    ("original_entry_trace_number", 7, 21, N),
    ("date_original_entry_returned", 22, 27, Kind.DATE),
    ("original_receiving_dfi_identification", 28, 35, N),
    ("original_settlement_date", 36, 38, Kind.JULIAN),
    *_RETURN_OF_RETURN,
    ("dishonored_return_trace_number", 59, 73, N),
    ("dishonored_return_settlement_date", 74, 76, Kind.JULIAN),
    ("dishonored_return_reason_code", 77, 78, N),
    ("reserved", 79, 79, R),
    _TRACE,
)


def _iat_party(type_code: str, party: str) -> Layout:
    """Addenda 13 and 14: the name and identification of the originating or receiving DFI."""
    return _addenda(
        type_code,
        _required(f"{party}_name", 4, 38),
        _required(f"{party}_identification_number_qualifier", 39, 40),
        _required(f"{party}_identification", 41, 74),
        _required(f"{party}_branch_country_code", 75, 77),
        ("reserved", 78, 87, R),
        _ENTRY_SEQUENCE,
    )


def _iat_two_lines(type_code: str, first: str, second: str) -> Layout:
    """Addenda 11, 12 and 16: two 35-character lines of a name or an address."""
    return _addenda(type_code, _required(first, 4, 38), _required(second, 39, 73),
                    ("reserved", 74, 87, R), _ENTRY_SEQUENCE)


ADDENDA_10 = _addenda(
    "10",
    _required("transaction_type_code", 4, 6),
    ("foreign_payment_amount", 7, 24, N),
    ("foreign_trace_number", 25, 46, A),
    _required("receiving_company_or_individual_name", 47, 81),
    ("reserved", 82, 87, R),
    _ENTRY_SEQUENCE,
)
ADDENDA_11 = _iat_two_lines("11", "originator_name", "originator_street_address")
ADDENDA_12 = _iat_two_lines("12", "originator_city_and_state",
                            "originator_country_and_postal_code")
ADDENDA_13 = _iat_party("13", "originating_dfi")
ADDENDA_14 = _iat_party("14", "receiving_dfi")
ADDENDA_15 = _addenda(
    "15",
    ("receiver_identification_number", 4, 18, A),
    _required("receiver_street_address", 19, 53),
    ("reserved", 54, 87, R),
    _ENTRY_SEQUENCE,
)
ADDENDA_16 = _iat_two_lines("16", "receiver_city_and_state", "receiver_country_and_postal_code")
ADDENDA_17 = _addenda("17", ("payment_related_information", 4, 83, A), _SEQUENCE,
                      _ENTRY_SEQUENCE)
ADDENDA_18 = _addenda(
    "18",
    _required("foreign_correspondent_bank_name", 4, 38),
    _required("foreign_correspondent_bank_identification_number_qualifier", 39, 40),
    _required("foreign_correspondent_bank_identification_number", 41, 74),
    _required("foreign_correspondent_bank_branch_country_code", 75, 77),
    ("reserved", 78, 83, R),
    _SEQUENCE,
    _ENTRY_SEQUENCE,
)
# an addenda type NACHA does not define here: kept whole so the file still round-trips
UNKNOWN_ADDENDA = _layout("addenda", _const(TYPE_CODE, 1, "7"),
                          ("addenda_type_code", 2, 3, A), ("content", 4, 94, A))

ADDENDA_LAYOUTS = {layout.field("addenda_type_code").constant: layout for layout in (
    ADDENDA_02, ADDENDA_05, ADDENDA_10, ADDENDA_11, ADDENDA_12, ADDENDA_13, ADDENDA_14,
    ADDENDA_15, ADDENDA_16, ADDENDA_17, ADDENDA_18, ADDENDA_98, ADDENDA_99)}

BATCH_CONTROL = _layout(
    "batch control",
    _const(TYPE_CODE, 1, "8"),
    ("service_class_code", 2, 4, N),
    ("entry_addenda_count", 5, 10, N),
    ("entry_hash", 11, 20, N),
    ("total_debit_entry_dollar_amount", 21, 32, N),
    ("total_credit_entry_dollar_amount", 33, 44, N),
    ("company_identification", 45, 54, A),
    ("message_authentication_code", 55, 73, A),
    ("reserved", 74, 79, R),
    ("originating_dfi_identification", 80, 87, N),
    ("batch_number", 88, 94, N),
)
FILE_CONTROL = _layout(
    "file control",
    _const(TYPE_CODE, 1, "9"),
    ("batch_count", 2, 7, N),
    ("block_count", 8, 13, N),
    ("entry_addenda_count", 14, 21, N),
    ("entry_hash", 22, 31, N),
    ("total_debit_entry_dollar_amount", 32, 43, N),
    ("total_credit_entry_dollar_amount", 44, 55, N),
    ("reserved", 56, 94, R),
)

LAYOUTS = (FILE_HEADER, BATCH_HEADER, IAT_BATCH_HEADER, PPD_ENTRY, WEB_TEL_ENTRY, POS_ENTRY,
           CCD_ENTRY, CTX_ENTRY, IAT_ENTRY, *ADDENDA_LAYOUTS.values(), ADDENDA_98_REFUSED,
           ADDENDA_99_DISHONORED, ADDENDA_99_CONTESTED, UNKNOWN_ADDENDA, BATCH_CONTROL,
           FILE_CONTROL)


def batch_header_layout(text: str) -> Layout:
    """IAT batches have their own header layout, told by the SEC code at positions 51-53."""
    return IAT_BATCH_HEADER if text[50:53] == "IAT" else BATCH_HEADER


def entry_layout(sec_code: str) -> Layout:
    """The entry detail layout for a batch's SEC code; unknown codes read as PPD."""
    return ENTRY_LAYOUTS.get(sec_code, PPD_ENTRY)


def addenda_layout(text: str) -> Layout:
    """The addenda layout, told by the type code and, for 98 and 99, by the reason code."""
    type_code, reason = text[1:3], text[3:6]
    if type_code == "98" and reason in REFUSED_CHANGE_CODES:
        return ADDENDA_98_REFUSED
    if type_code == "99" and reason in DISHONORED_RETURN_CODES:
        return ADDENDA_99_DISHONORED
    if type_code == "99" and reason in CONTESTED_RETURN_CODES:
        return ADDENDA_99_CONTESTED
    return ADDENDA_LAYOUTS.get(type_code, UNKNOWN_ADDENDA)
