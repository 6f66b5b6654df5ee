"""Target ``catalog``: the bytes of a record on the catalog-commands topic, through the real desk.

Each input is routed by a real ``streams.routing.Router`` on the catalog-commands topic, which
hands it to a real ``streams.catalog_commands.CatalogDesk`` (``handle``) inside the router's
containment and record size checks, as ``streams.processor.Processor`` does; so the target
follows the desk as it changes. The desk reads its catalog through a stand-in reader (the
real one reads Kafka) whose table holds the tutorial's and the card lifecycle's entities
(``tests.fuzz.targets._processor``, built once per process). After each input the desk's
pending changes are discarded, as an aborted batch's are, so inputs do not affect each
other.

Expected: every outcome the desk returns (a dead letter, a REJECTED result, an APPLIED
result with its catalog record). What the target checks of it: every output is bytes on a
topic and partition of the ledger and decodes with that topic's schemas, and each command
gets exactly one answer (``_processor.check_outputs``). For an APPLIED command, the entity
the desk decided is worked out again with ``ledger_core.catalog.decide_catalog`` on a copy of
the catalog (the result's ``entity_json`` must show that same entity, or the target is out of
date); every processor reads the catalog record back (``streams.catalog.entity_from``), so
it must decode to that same entity.

A finding: any exception escaping ``Router.route``, an exception it *contains* (answered
``processing_failed``; the target raises it again), a catalog record that does not read back
as the entity decided, a broken check (``FindingError``), a hang past libFuzzer's
``-timeout`` or a memory blow-up.

Inputs starting with ``0x4C`` are the message value itself. Any other input is read by
``atheris.FuzzedDataProvider`` into one or two catalog commands (journal, account, tran code,
limit and card documents with fuzzed names, codes, metadata and CEL sources), each encoded with
the codec and routed in turn, in one batch: the second sees the first (a card update can
find the card the first command created).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ledger_core import Rejected, card_lifecycle, tutorial
from ledger_core.catalog import Catalog, CatalogEntity, CatalogKind, decide_catalog
from schemas.codec import MAGIC, DecodeError, codec
from schemas.mapping import load_json
from streams.catalog import entity_from
from streams.outputs import Output, command_key
from streams.routing import BatchMarks
from streams.topics import Topics
from tests.fuzz.targets import FindingError
from tests.fuzz.targets._processor import FuzzMessage, Ledger, check_outputs, ledger
from tests.fuzz.targets._structured import SPECIAL_DATES, Fuzzed, json_text

__all__ = ["CEL_POOL", "NOW", "decide", "desk", "test_one_input"]

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 22, 9, 59, 59, tzinfo=UTC)
TOPICS = Topics("fuzz", 1)
# Where every input is read from: the key clients send catalog commands with (their
# command's; only dead letters carry it), and fixed offsets (the first command's, then the
# second's), so an input's outputs never depend on the inputs before it.
KEY = command_key("fuzz")
OFFSET = 7

JOURNAL_IDS = (str(tutorial.JOURNAL.journal_id), "00000000-0000-0000-0000-000000000000",
               "f0220000-0000-4000-8000-0000000000a1", "not-a-uuid")
ACCOUNT_IDS = (*(str(a.account_id) for a in (*tutorial.ACCOUNTS, *card_lifecycle.ACCOUNTS)),
               "f0220000-0000-4000-8000-0000000000a2", "")
ACCOUNT_CODES = (*(a.code for a in (*tutorial.ACCOUNTS, *card_lifecycle.ACCOUNTS)), "NEW.CODE")
TRAN_CODE_IDS = (*(str(t.tran_code_id) for t in (*tutorial.TRAN_CODES,
                                                  *card_lifecycle.TRAN_CODES)),
                 "f0220000-0000-4000-8000-0000000000a3")
TRAN_CODE_CODES = (*(t.code for t in (*tutorial.TRAN_CODES, *card_lifecycle.TRAN_CODES)),
                   "NEW_CODE")
STATUSES = ("ACTIVE", "LOCKED", "INACTIVE", "active", "")
CARD_IDS = ("f0220000-0000-4000-8000-0000000000c1", "f0220000-0000-4000-8000-0000000000c2")
# Valid hashes (one shared, so a second card meets card_pan_duplicate), an uppercase one and
# a PAN, which the model refuses.
PAN_HASHES = ("0" * 64, "0123456789abcdef" * 4, "AB" * 32, "4111111111111111")
CARD_TOKENS = ("tok_1", "tok_2", "")
DIRECTIONS = ("DEBIT", "CREDIT", "debit", "")
LAYERS = ("SETTLED", "PENDING", "ENCUMBRANCE", "settled")
PARAM_TYPES = ("STRING", "INTEGER", "DECIMAL", "BOOLEAN", "UUID", "DATE", "TIMESTAMP", "JSON",
               "FLOAT")

# CEL as tran codes write it, for fields to start from; the fuzzer combines and mutates them.
CEL_POOL = (
    "params.amount", "params.account", "params.effective", "params.currency", "'USD'", "'JPY'",
    "DEBIT", "CREDIT", "SETTLED", "PENDING", "ENCUMBRANCE", "true", "false", "null", "1", "0",
    "uuid('78551b96-9c34-46f9-8d5f-c86e4459fcd7')", "uuid(params.account)", "transaction_id",
    "date('2022-09-21')", "timestamp('2026-11-22T10:00:00Z')", "decimal('0.01')",
    "decimal(params.amount) * decimal('0.01')", "params.amount > decimal('5')",
    "vars.fee", "vars.x", "params.flag ? 'PENDING' : 'SETTLED'", "{'note': params.note}",
    "params.items.map(i, i.amount)", "params.items.filter(i, i > 1).size() > 0",
    "[1, 2, 3].map(x, [4].map(y, y))", "size(params.note) > 3", "string(params.count)",
    "params.note.startsWith('a')", "params.note.matches('^[a-z]+$')", "1 / 0",
    "int(params.count) + 9223372036854775807", "'a' + 'b'", "duration('1h')", "[1,2][5]",
    "has(params.x)", "params.amount == params.amount", "upperAscii(params.note)",
)
OPERATORS = (" + ", " - ", " * ", " / ", " % ", " == ", " < ", " && ", " || ", ".", ", ")


@cache
def desk() -> Ledger:
    """The ledger whose desk every input goes to; its catalog never changes after this."""
    return ledger(TOPICS,
                  (tutorial.JOURNAL, *tutorial.ACCOUNTS, *tutorial.TRAN_CODES,
                   *card_lifecycle.ACCOUNTS, *card_lifecycle.TRAN_CODES,
                   card_lifecycle.CUSTOMER_NO_OVERDRAFT),
                  (), NOW, SENT_AT, state=False)


def decide(values: list[bytes]) -> None:
    """Route message values on the catalog-commands topic, as one batch; raise on a
    finding."""
    built = desk()
    working = built.reader.table.copy()  # what the desk decides on, for the checks
    marks = BatchMarks()
    try:
        for number, value in enumerate(values):
            message = FuzzMessage(TOPICS.catalog_commands, 0, OFFSET + number, KEY, value)
            outputs = built.route(message, NOW, marks)
            decoded = check_outputs(TOPICS, outputs)
            _check_applied(working, value, outputs, decoded)
    finally:
        built.discard_pending()


def _check_applied(working: Catalog, value: bytes, outputs: list[Output],
                   decoded: list[dict[str, Any]]) -> None:
    results = [record for output, record in zip(outputs, decoded, strict=True)
               if output.topic == TOPICS.results]
    if not results or results[0]["status"] != "APPLIED":
        return
    records = [record for output, record in zip(outputs, decoded, strict=True)
               if output.topic == TOPICS.catalog]
    if len(records) != 1:
        raise FindingError(f"an APPLIED command wrote {len(records)} catalog records, not one")
    decided = _decided(working, value)
    shown = json.dumps(decided.model_dump(mode="json", by_alias=True), default=str)
    if results[0]["entity_json"] != shown:
        raise FindingError("the target decided another entity than the desk (the target is "
                           f"out of date): desk {results[0]['entity_json']}, target {shown}")
    read_back = entity_from(records[0])
    if read_back != decided:
        fields, read = dict(decided), dict(read_back)
        changed = "; ".join(f"{name} decided {fields[name]!r}, read {read.get(name)!r}"
                            for name in fields if fields[name] != read.get(name))
        raise FindingError(f"the catalog record of a {type(decided).__name__} reads back "
                           f"as another entity: {changed}")
    working.put(decided)


def _decided(working: Catalog, value: bytes) -> CatalogEntity:
    """The entity an APPLIED command holds, decided again on the desk's catalog."""
    try:
        record = codec().decode("catalog_command", value)
        decision = decide_catalog(working, CatalogKind(record["kind"]),
                                  load_json(record["body_json"]))
    except (DecodeError, ValueError) as exc:
        raise FindingError(f"the desk applied a command the target cannot decide ({exc}): "
                           "the target is out of date") from exc
    if isinstance(decision, Rejected):
        raise FindingError(f"the desk applied a command decide_catalog rejects "
                           f"({decision.code.value}): the target is out of date")
    return decision


# -- structured inputs ------------------------------------------------------------------


def cel(fuzzed: Fuzzed) -> str:
    """A CEL source: from the pool, combined, wrapped, or fuzzed text."""
    shape = fuzzed.integer(0, 9)
    if shape <= 4:
        return fuzzed.pick(CEL_POOL)
    if shape <= 6:
        return fuzzed.pick(CEL_POOL) + fuzzed.pick(OPERATORS) + fuzzed.pick(CEL_POOL)
    if shape == 7:
        depth = fuzzed.integer(1, 40)
        return "(" * depth + fuzzed.pick(CEL_POOL) + ")" * depth
    return fuzzed.text(60)


def _maybe_cel(fuzzed: Fuzzed) -> str | None:
    return None if fuzzed.integer(0, 2) == 0 else cel(fuzzed)


def _journal(fuzzed: Fuzzed) -> dict[str, Any]:
    body: dict[str, Any] = {"journalId": fuzzed.one_of(JOURNAL_IDS),
                            "name": fuzzed.one_of(("Primary journal", "Other"))}
    for field in ("description", "code"):
        if fuzzed.flag():
            body[field] = fuzzed.one_of(("PRIMARY", "OTHER", "DEFAULT"))
    if fuzzed.flag():
        body["status"] = fuzzed.one_of(STATUSES)
    return body


def _account(fuzzed: Fuzzed, update: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"accountId": fuzzed.one_of(ACCOUNT_IDS)}
    fields = ("code", "name", "description", "normalBalanceType", "status", "metadata",
              "externalId", "config")
    for field in fields:
        required = not update and field in ("code", "name")
        if required or fuzzed.integer(0, 3 if update else 1) == 0:
            body[field] = _account_field(fuzzed, field)
    return body


def _account_field(fuzzed: Fuzzed, field: str) -> Any:
    if field == "code":
        return fuzzed.one_of(ACCOUNT_CODES)
    if field == "normalBalanceType":
        return fuzzed.one_of(DIRECTIONS)
    if field == "status":
        return fuzzed.one_of(STATUSES)
    if field == "metadata":
        return fuzzed.json_value(3)
    if field == "config":
        return {"enableConcurrentPosting": fuzzed.pick((True, False, "yes", None))}
    return fuzzed.one_of(("Ernie Bishop - Checking", "Assets", "ext-1"))


def _tran_code(fuzzed: Fuzzed, update: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"code": fuzzed.one_of(TRAN_CODE_CODES)}
    if not update:
        body["tranCodeId"] = fuzzed.one_of(TRAN_CODE_IDS)
    if fuzzed.flag():
        body["description"] = fuzzed.one_of(("An ACH credit.",))
    if fuzzed.integer(0, 3) == 0:
        body["status"] = fuzzed.one_of(STATUSES)
    if fuzzed.flag():
        body["params"] = [
            {"name": fuzzed.one_of(("account", "amount", "effective", "note", "items")),
             "type": fuzzed.one_of(PARAM_TYPES),
             **({"default": cel(fuzzed)} if fuzzed.flag() else {}),
             **({"description": fuzzed.text()} if fuzzed.integer(0, 3) == 0 else {})}
            for _ in range(fuzzed.integer(0, 4))]
    if fuzzed.integer(0, 2) == 0:
        body["vars"] = {fuzzed.one_of(("fee", "x", "total")): cel(fuzzed)
                        for _ in range(fuzzed.integer(0, 3))}
    if fuzzed.flag():
        fields = ("effective", "journalId", "correlationId", "externalId", "description",
                  "metadata")
        body["transaction"] = {field: cel(fuzzed) for field in fields if fuzzed.flag()}
    if not update or fuzzed.flag():
        body["entries"] = [_entry(fuzzed) for _ in range(fuzzed.integer(0, 3))]
    if fuzzed.integer(0, 3) == 0:
        body["metadata"] = fuzzed.json_value(2)
    return body


def _entry(fuzzed: Fuzzed) -> dict[str, Any]:
    entry: dict[str, Any] = {"accountId": cel(fuzzed), "units": cel(fuzzed),
                             "currency": cel(fuzzed), "direction": cel(fuzzed)}
    for field in ("entryType", "layer", "description", "metadata", "condition"):
        source = _maybe_cel(fuzzed)
        if source is not None:
            entry[field] = source
    return entry


def _limit(fuzzed: Fuzzed) -> dict[str, Any]:
    body: dict[str, Any] = {
        "limitId": fuzzed.one_of((str(card_lifecycle.CUSTOMER_NO_OVERDRAFT.limit_id),
                                  "f0220000-0000-4000-8000-0000000000a4")),
        "accountId": fuzzed.one_of(ACCOUNT_IDS), "layer": fuzzed.one_of(LAYERS)}
    for field in ("minAvailable", "maxAvailable"):
        if fuzzed.flag():
            body[field] = fuzzed.amount()
    if fuzzed.flag():
        body["enforcement"] = fuzzed.one_of(("REJECT", "WARN"))
    if fuzzed.flag():
        body["condition"] = cel(fuzzed)
    for field in ("journalId", "currency", "description"):
        if fuzzed.integer(0, 3) == 0:
            body[field] = fuzzed.one_of((*JOURNAL_IDS, "USD", *SPECIAL_DATES[:1]))
    return body


def _card(fuzzed: Fuzzed, update: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"cardId": fuzzed.one_of(CARD_IDS)}
    if not update:
        body.update(accountId=fuzzed.one_of(ACCOUNT_IDS), panHash=fuzzed.one_of(PAN_HASHES),
                    lastFour=fuzzed.one_of(("1111", "4444", "44a4")))
    if fuzzed.flag():
        body["status"] = fuzzed.one_of(STATUSES)
    if fuzzed.flag():
        body["cardToken"] = fuzzed.pick((*CARD_TOKENS, None))
    if fuzzed.integer(0, 3) == 0:
        body["metadata"] = fuzzed.json_value(2)
    return body


def structured_body(fuzzed: Fuzzed, kind: CatalogKind) -> Any:
    """The input document of a catalog command of ``kind``, from fuzzer bytes."""
    if fuzzed.integer(0, 15) == 0:
        return fuzzed.json_value(3)  # any JSON at all: the desk must answer it too
    if kind is CatalogKind.CREATE_JOURNAL:
        return _journal(fuzzed)
    if kind in (CatalogKind.CREATE_ACCOUNT, CatalogKind.UPDATE_ACCOUNT):
        return _account(fuzzed, kind is CatalogKind.UPDATE_ACCOUNT)
    if kind in (CatalogKind.CREATE_TRAN_CODE, CatalogKind.UPDATE_TRAN_CODE):
        return _tran_code(fuzzed, kind is CatalogKind.UPDATE_TRAN_CODE)
    if kind in (CatalogKind.CREATE_CARD, CatalogKind.UPDATE_CARD):
        return _card(fuzzed, kind is CatalogKind.UPDATE_CARD)
    return _limit(fuzzed)


def structured_values(data: bytes) -> list[bytes]:
    """One or two encoded catalog commands built from fuzzer bytes."""
    fuzzed = Fuzzed(data)
    values = []
    for number in range(fuzzed.integer(1, 2)):
        kind = fuzzed.pick(tuple(CatalogKind))
        record = {"command_id": f"c-{number}", "kind": kind.value,
                  "body_json": json_text(structured_body(fuzzed, kind)), "sent_at": SENT_AT}
        try:
            values.append(codec().encode("catalog_command", record))
        except Exception:  # a record no client could send is not an input
            continue
    return values


def test_one_input(data: bytes) -> None:
    """The fuzz target."""
    if data[:1] == bytes([MAGIC]):
        decide([data])
        return
    decide(structured_values(data))
