"""Target ``command``: the bytes of a record on the commands topic, through the real router.

Each input is routed by a real ``streams.routing.Router`` (``Router.route(message, NOW,
BatchMarks())``), the object ``streams.processor.Processor`` routes every record of a batch
with, so the target follows the processor as it changes: its containment, JSON depth limits,
typed refusals, record size checks and transaction id registry included. The router, built
once per process (``tests.fuzz.targets._processor``), holds a ledger of one partition
(``Topics("fuzz", 1)``): a real ``PartitionTask`` on a real RocksDB ``PartitionState`` in a
temporary directory, a real ``IdRegistry`` and a real ``CatalogDesk``; only the catalog reader
is a stand-in (the real one reads Kafka). Its catalog holds the tutorial's and the card
lifecycle's entities plus ``FUZZ_TYPED`` (a tran code with a param of every type), and three
transactions are posted through the router and committed, so voids have originals. After
each input its staged writes are discarded, as an aborted batch's are, so inputs do not
affect each other.

Expected: every outcome the router returns. What the target checks of it
(``_processor.check_outputs``, ``check_posted``): every output is bytes on a topic and
partition of the ledger and decodes with that topic's schemas; a record gets exactly one
answer (a result or a dead letter); a POSTED result's transaction record decodes, numbers its
entries 1..n, counts them, balances per currency, and holds the entries written to the
entries topic.

A finding: any exception escaping ``Router.route`` (it contains everything but
``LedgerError`` and ``KafkaException``), an exception it *contains* (answered
``processing_failed``: the rules missed the input, or a defect; the target raises it again),
a broken check (``FindingError``), a hang past libFuzzer's ``-timeout`` or a memory blow-up.

Inputs starting with the codec's magic byte (``0x4C``) are the message value itself. Any
other input is read by ``atheris.FuzzedDataProvider`` into a command *record* (fuzzed ids,
tran codes, params JSON, versions, overrides) that is encoded with the codec and then takes
the same path, so the fuzzer reaches the core without first learning the Avro framing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from ledger_core import TranCode, card_lifecycle, tutorial
from schemas import mapping
from schemas.codec import MAGIC, codec
from streams.partitioning import account_key
from streams.topics import Topics
from tests.fuzz.targets import FindingError
from tests.fuzz.targets._processor import (
    FuzzMessage,
    Ledger,
    check_outputs,
    check_posted,
    ledger,
)
from tests.fuzz.targets._structured import SPECIAL_DATES, Fuzzed, json_text

__all__ = ["FUZZ_TYPED", "NOW", "process", "processor", "test_one_input"]

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 22, 9, 59, 59, 123456, tzinfo=UTC)
TOPICS = Topics("fuzz", 1)
# Where every input is read from: the key clients send commands with (the owner account's;
# only dead letters carry it), and a fixed offset, so an input's outputs never depend on
# the inputs before it.
KEY = account_key(tutorial.ERNIE.account_id)
OFFSET = 41

FUZZ_TYPED = TranCode.model_validate({
    "tranCodeId": "f0220000-0000-4000-8000-0000000000c1",
    "code": "FUZZ_TYPED",
    "description": "A param of every type, and fuzzed text flowing into entries.",
    "params": [
        {"name": "account", "type": "UUID"},
        {"name": "amount", "type": "DECIMAL"},
        {"name": "count", "type": "INTEGER", "default": "1"},
        {"name": "flag", "type": "BOOLEAN", "default": "true"},
        {"name": "day", "type": "DATE", "default": "date('2026-11-22')"},
        {"name": "at", "type": "TIMESTAMP", "default": "timestamp('2026-11-22T10:00:00Z')"},
        {"name": "note", "type": "STRING", "default": "'fuzz'"},
        {"name": "currency", "type": "STRING", "default": "'USD'"},
        {"name": "layer", "type": "STRING", "default": "'SETTLED'"},
        {"name": "extra", "type": "JSON", "default": "{}"},
    ],
    "vars": {"fee": "decimal(params.amount) * decimal('0.01')",
             "label": "params.note + ':' + string(params.count)"},
    "transaction": {"effective": "params.day", "correlationId": "params.note",
                    "description": "vars.label", "metadata": "params.extra"},
    "entries": [
        {"accountId": "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "units": "params.amount",
         "currency": "params.currency", "direction": "DEBIT", "layer": "params.layer",
         "entryType": "'FUZZ_DR'", "description": "params.note"},
        {"accountId": "params.account", "units": "params.amount", "currency": "params.currency",
         "direction": "CREDIT", "layer": "params.layer", "entryType": "'FUZZ_CR'",
         "metadata": "{'note': params.note, 'count': params.count}",
         "condition": "params.flag"},
        {"accountId": "params.account", "units": "params.amount", "currency": "params.currency",
         "direction": "CREDIT", "layer": "params.layer", "entryType": "'FUZZ_CR'",
         "condition": "!params.flag"},
    ],
})  # fmt: skip

ACCOUNT_IDS = tuple(str(a.account_id) for a in (*tutorial.ACCOUNTS, *card_lifecycle.ACCOUNTS))
POSTED_IDS = tuple(str(p.transaction_id) for p in
                   (tutorial.DEPOSIT, card_lifecycle.FUND, card_lifecycle.HOLD))
TRANSACTION_IDS = (*POSTED_IDS, "00000000-0000-4000-8000-000000000001",
                   "00000000-0000-0000-0000-000000000000", "not-a-uuid")
TRAN_CODES = ("ACH_CREDIT", "ACH_DEBIT", "DEPOSIT", "CARD_HOLD", "CARD_SETTLE", "FUZZ_TYPED")
PARAM_NAMES = ("account", "amount", "effective", "currency", "correlationId", "count", "flag",
               "day", "at", "note", "layer", "extra")


@cache
def processor() -> Ledger:
    """The ledger every input is routed in; its committed state never changes after this."""
    return ledger(TOPICS,
                  (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES,
                   *card_lifecycle.ACCOUNTS, *card_lifecycle.TRAN_CODES,
                   card_lifecycle.CUSTOMER_NO_OVERDRAFT, FUZZ_TYPED),
                  (tutorial.DEPOSIT, card_lifecycle.FUND, card_lifecycle.HOLD), NOW, SENT_AT)


def process(data: bytes) -> None:
    """Route one message value on the commands topic; raise on a finding."""
    built = processor()
    try:
        outputs = built.route(FuzzMessage(TOPICS.commands, 0, OFFSET, KEY, data), NOW)
        decoded = check_outputs(TOPICS, outputs)
        entry_ids = [record["entry_id"] for output, record in zip(outputs, decoded, strict=True)
                     if output.topic == TOPICS.entries]
        for output, record in zip(outputs, decoded, strict=True):
            if output.topic == TOPICS.results and record["status"] == "POSTED":
                _check_posted_result(record, entry_ids)
    finally:
        built.discard_pending()


def _check_posted_result(result: dict[str, Any], entry_ids: list[str]) -> None:
    if result["transaction"] is None:
        raise FindingError("a POSTED result carries no transaction")
    posted = mapping.posted_from(codec().decode("transaction", result["transaction"]))
    check_posted(posted)
    if str(posted.transaction.transaction_id) != result["transaction_id"]:
        raise FindingError(f"a POSTED result for {result['transaction_id']} carries "
                           f"transaction {posted.transaction.transaction_id}")
    if [str(e.entry_id) for e in posted.entries] != entry_ids:
        raise FindingError("the transaction record does not hold the entries written to the "
                           "entries topic")


def structured_record(fuzzed: Fuzzed) -> dict[str, Any]:
    """A command record built from fuzzer bytes."""
    kind = "VOID" if fuzzed.integer(0, 3) == 0 else "POST"
    version = fuzzed.pick((None, None, None, 1, 2, 0, -1, 2**31 - 1))
    return {
        "command_id": fuzzed.one_of(("c-1", "9f1c6c1e-0000-4000-8000-000000000001")),
        "kind": kind,
        "transaction_id": fuzzed.maybe(TRANSACTION_IDS),
        "tran_code": fuzzed.maybe(TRAN_CODES) if kind == "POST" else None,
        "tran_code_version": version,
        "params_json": _params_json(fuzzed) if kind == "POST" else None,
        "void_of": fuzzed.maybe(TRANSACTION_IDS) if kind == "VOID" else None,
        "sent_at": SENT_AT,
        "override_enforcement": fuzzed.pick((None, None, "WARN", "REJECT", "warn", "")),
    }


def _params_json(fuzzed: Fuzzed) -> str | None:
    shape = fuzzed.integer(0, 9)
    if shape == 0:
        return None
    if shape == 1:
        return fuzzed.text(80)  # whatever text a client put there
    if shape == 2:
        return json_text(fuzzed.json_value())
    params: dict[str, Any] = {}
    for _ in range(fuzzed.integer(0, 6)):
        name = fuzzed.one_of(PARAM_NAMES, 12)
        params[name] = _param_value(fuzzed, name)
    return json_text(params)


def _param_value(fuzzed: Fuzzed, name: str) -> Any:
    if fuzzed.integer(0, 5) == 0:
        return fuzzed.json_value(2)
    if name == "account":
        return fuzzed.one_of(ACCOUNT_IDS)
    if name == "amount":
        return fuzzed.amount()
    if name in ("effective", "day", "at"):
        return fuzzed.one_of(SPECIAL_DATES)
    if name == "count":
        return fuzzed.pick((0, 1, -1, 2**63, "7", " 7 ", "1" * 30, Decimal("2.0"),
                            Decimal("1E+3"), True))
    if name == "flag":
        return fuzzed.pick((True, False, "true", "false", 1, None))
    if name == "layer":
        return fuzzed.one_of(("SETTLED", "PENDING", "ENCUMBRANCE"))
    if name == "currency":
        return fuzzed.one_of(("USD", "JPY", "BHD", "EUR", "usd", "XXX"))
    if name == "extra":
        return fuzzed.json_value(3)
    return fuzzed.one_of(("x", str(UUID(int=1))))


def test_one_input(data: bytes) -> None:
    """The fuzz target."""
    if data[:1] == bytes([MAGIC]):
        process(data)
        return
    record = structured_record(Fuzzed(data))
    try:
        value = codec().encode("command", record)
    except Exception:  # a record no client could send is not an input
        return
    process(value)
