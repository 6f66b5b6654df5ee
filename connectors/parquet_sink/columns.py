"""The Arrow shape of each entity, and the records of the ledger's topics as Arrow tables.

Money columns are ``decimal128(38, MONEY_SCALE)``: one column holds every currency, so its
scale is the largest minor-unit exponent the ledger may meet, and its 34 integer digits hold
any entry (below 10^24, ``UNITS_INTEGER_DIGITS_MAX``) and any balance of fewer than 10^10
such entries. Amounts arrive as decimal strings; one that this type cannot hold exactly is
never rounded: its record is refused and goes to the quarantine entity instead.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation
from functools import cached_property, lru_cache
from typing import Any

import pyarrow as pa

MONEY_PRECISION = 38
# ISO 4217 exponents go up to 4 (the ledger knows currencies up to 3): one scale for all.
MONEY_SCALE = 4
MONEY = pa.decimal128(MONEY_PRECISION, MONEY_SCALE)
MICROS = pa.timestamp("us", tz="UTC")
MILLIS = pa.timestamp("ms", tz="UTC")
_DAY_MICROS = 86_400_000_000
_DAY_MILLIS = 86_400_000
_EPOCH = date(1970, 1, 1)
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
# Quantizing to the column's scale may only add zeros: a discarded digit (Inexact) or more
# than 38 digits (InvalidOperation) is a value the column cannot hold.
_EXACT = Context(prec=MONEY_PRECISION, traps=[Inexact, InvalidOperation])


def money_refusal(text: object) -> str | None:
    """Why ``text`` cannot be a money cell exactly, or None when it can."""
    if not isinstance(text, str):
        return f"{text!r} is not a decimal string"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return f"{text!r} is not a decimal number"
    if not value.is_finite():
        return f"{text!r} is not a finite amount"
    try:
        value.quantize(_QUANTUM, context=_EXACT)
    except (Inexact, InvalidOperation):
        return (f"{text!r} does not fit decimal128({MONEY_PRECISION}, {MONEY_SCALE}) "
                "without rounding")
    return None


def money_array(texts: Sequence[Any]) -> pa.Array:
    """Decimal strings as a money column; every one must pass ``money_refusal``."""
    try:
        return pa.array(texts, pa.string()).cast(MONEY)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Arrow reads a few spellings differently from Decimal; Decimal is the authority.
        return pa.array([Decimal(t) for t in texts], MONEY)


@lru_cache(maxsize=4096)
def day_text(days: int) -> str:
    """``YYYY-MM-DD`` of a count of days since 1970-01-01."""
    return (_EPOCH + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Column:
    """A column of an entity and the field of the record it holds (a nested record's field
    is ``(record, field)``)."""

    name: str
    type: Any
    path: tuple[str, ...]


# Every entity row also says where its record came from: the sink's own bookkeeping, and
# what orders two records of one key (a later transaction record carries voided_by).
KAFKA_COLUMNS = (Column("kafka_partition", pa.int32(), ("kafka_partition",)),
                 Column("kafka_offset", pa.int64(), ("kafka_offset",)),
                 Column("kafka_timestamp", MILLIS, ("kafka_timestamp",)))


def _plain(*names: str, kind: Any = None) -> tuple[Column, ...]:
    return tuple(Column(name, pa.string() if kind is None else kind, (name,)) for name in names)


def _layers(*layers: str) -> tuple[Column, ...]:
    return tuple(Column(f"{layer}_{side}", MONEY, (layer, side)) for layer in layers
                 for side in ("dr_balance", "cr_balance", "normal_balance"))


@dataclass(frozen=True)
class Entity:
    """One kind of record the sink writes, and the date directory each record goes to.

    Its rows are held column by column (``cells``, in the order of its columns); the date of
    a row is ``day`` of its cells named by ``day_columns``, in days since 1970-01-01."""

    name: str
    schema_name: str
    columns: tuple[Column, ...]
    day: Callable[..., int]
    day_columns: tuple[str, ...]
    date_doc: str

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of its files (the ``date`` is the directory, not a column)."""
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @cached_property
    def record_paths(self) -> tuple[tuple[str, ...], ...]:
        """The record's fields a row holds: every column but the Kafka ones, which end it."""
        assert self.columns[-len(KAFKA_COLUMNS):] == KAFKA_COLUMNS, "Kafka columns go last"
        return tuple(c.path for c in self.columns[:-len(KAFKA_COLUMNS)])

    @cached_property
    def _day_cells(self) -> tuple[int, ...]:
        names = [c.name for c in self.columns]
        return tuple(names.index(name) for name in self.day_columns)

    def dates(self, cells: Sequence[Sequence[Any]]) -> tuple[list[str], dict[int, str]]:
        """The date directory of each row (``cells`` column by column), and the rows whose
        date no calendar holds, with why."""
        inputs = [cells[i] for i in self._day_cells]
        try:
            return list(map(day_text, map(self.day, *inputs))), {}
        except (OverflowError, ValueError):
            pass
        dates: list[str] = []
        failed: dict[int, str] = {}
        for index, args in enumerate(zip(*inputs, strict=True)):
            try:
                dates.append(day_text(self.day(*args)))
            except (OverflowError, ValueError) as exc:
                dates.append("")
                failed[index] = f"{type(exc).__name__}: {exc}"
        return dates, failed

    def refusals(self, cells: Sequence[Sequence[Any]]) -> dict[int, str]:
        """The rows whose money cells the column type cannot hold, with why; ``cells`` are
        the columns' cells, column by column."""
        refused: dict[int, str] = {}
        for column, texts in zip(self.columns, cells, strict=True):
            if column.type != MONEY:
                continue
            try:
                pa.array(texts, pa.string()).cast(MONEY)
                continue
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
            for index, text in enumerate(texts):
                reason = money_refusal(text)
                if reason is not None and index not in refused:
                    refused[index] = f"{column.name}: {reason}"
        return refused

    def table(self, cells: Sequence[Sequence[Any]]) -> pa.Table:
        """The columns' ``cells`` (none refused), column by column, as a table of this
        entity's schema."""
        arrays = [money_array(texts) if column.type == MONEY else pa.array(texts, column.type)
                  for column, texts in zip(self.columns, cells, strict=True)]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _balance_day(modified: int | None, created: int | None, timestamp: int) -> int:
    moment = modified or created
    if moment is None:
        return timestamp // _DAY_MILLIS
    return moment // _DAY_MICROS


def _timestamp_day(timestamp: int) -> int:
    return timestamp // _DAY_MILLIS


ENTRIES = Entity(
    "entries", "entry",
    (*_plain("entry_id", "transaction_id", "journal_id", "account_id"),
     Column("sequence", pa.int32(), ("sequence",)), Column("units", MONEY, ("units",)),
     *_plain("currency", "direction", "entry_type", "layer", "description", "metadata_json"),
     Column("effective", pa.date32(), ("effective",)), Column("created", MICROS, ("created",)),
     *KAFKA_COLUMNS),
    int, ("effective",), "the entry's effective date")

TRANSACTIONS = Entity(
    "transactions", "transaction",
    (*_plain("transaction_id", "tran_code_id", "tran_code"),
     Column("tran_code_version", pa.int32(), ("tran_code_version",)),
     *_plain("journal_id", "correlation_id", "external_id"),
     Column("effective", pa.date32(), ("effective",)), Column("created", MICROS, ("created",)),
     *_plain("description", "metadata_json"),
     Column("entry_count", pa.int32(), ("entry_count",)), *_plain("void_of", "voided_by"),
     *KAFKA_COLUMNS),
    int, ("effective",), "the transaction's effective date")

BALANCES = Entity(
    "balances", "balance",
    (*_plain("account_id", "journal_id", "currency", "normal_balance_type"),
     *_layers("settled", "pending", "encumbrance"),
     Column("version", pa.int64(), ("version",)), *_plain("entry_id", "transaction_id"),
     Column("created", MICROS, ("created",)), Column("modified", MICROS, ("modified",)),
     *KAFKA_COLUMNS),
    _balance_day, ("modified", "created", "kafka_timestamp"),
    "the version's modified date (created, then the record's timestamp, if it has none)")

QUARANTINE = Entity(
    "quarantine", "",
    (Column("topic", pa.string(), ("topic",)), *KAFKA_COLUMNS,
     *_plain("code", "error"), *_plain("key", "value", kind=pa.binary())),
    _timestamp_day, ("kafka_timestamp",), "the record's timestamp")

# The topic each entity comes from, by the topic's suffix.
BY_TOPIC_SUFFIX = {"entries": ENTRIES, "transactions": TRANSACTIONS, "balances": BALANCES}
