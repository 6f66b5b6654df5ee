"""The JSON bodies of each event type, from records the ledger's own mapping writes."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from connectors.webhooks.config import EventType, parse_config
from connectors.webhooks.events import LedgerEvent, ledger_event, wants
from ledger_core import MemoryLedger, Posted, PostedTransaction, Rejection, RejectionCode, tutorial
from schemas import mapping
from schemas.codec import codec
from streams.outputs import Source, result_record
from streams.topics import Topics

TOPICS = Topics(prefix="t")
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODk="


def _deposit() -> Posted:
    ledger = MemoryLedger()
    tutorial.install(ledger)
    decision = ledger.post(tutorial.DEPOSIT, NOW)
    assert isinstance(decision, Posted)
    return decision


def _body(event: LedgerEvent | None) -> Any:
    assert event is not None
    # Floats would show up as float here: every number that is money must be a string.
    return json.loads(event.body, parse_float=Decimal)


def test_balance_updated_carries_every_layer_as_decimal_strings() -> None:
    """The balance body: ids, version and settled/pending/encumbrance dr, cr and normal."""
    decision = _deposit()
    ernie = next(b for b in decision.balances if b.account_id == tutorial.ERNIE.account_id)
    event = ledger_event(TOPICS, TOPICS.balances,
                         codec().encode("balance", mapping.balance_record(ernie)))
    body = _body(event)
    assert event is not None and event.ordering_key == str(tutorial.ERNIE.account_id)
    assert body["type"] == "balance.updated"
    data = body["data"]
    assert data["accountId"] == str(tutorial.ERNIE.account_id)
    assert data["journalId"] == str(tutorial.JOURNAL.journal_id)
    assert (data["currency"], data["normalBalanceType"], data["version"]) == ("USD", "CREDIT", 1)
    assert data["settled"] == {"drBalance": "0", "crBalance": "9.53", "normalBalance": "9.53"}
    assert data["pending"] == {"drBalance": "0", "crBalance": "0", "normalBalance": "0"}
    assert data["encumbrance"] == data["pending"]
    assert data["transactionId"] == str(tutorial.DEPOSIT.transaction_id)


def test_transaction_posted_and_voided() -> None:
    """A posting's record is transaction.posted; the later record with voided_by, voided."""
    decision = _deposit()
    posted = PostedTransaction(transaction=decision.transaction, entries=decision.entries)
    record = codec().encode("transaction", mapping.transaction_record(posted))
    event = ledger_event(TOPICS, TOPICS.transactions, record)
    body = _body(event)
    assert event is not None and event.type is EventType.TRANSACTION_POSTED
    assert event.ordering_key == str(tutorial.DEPOSIT.transaction_id)
    data = body["data"]
    assert (data["transactionId"], data["tranCode"], data["effective"]) == (
        str(tutorial.DEPOSIT.transaction_id), "ACH_CREDIT", "2022-09-21")
    assert data["voidedBy"] is None and data["voidOf"] is None
    assert sorted((e["accountId"], e["direction"], e["units"]) for e in data["entries"]) == sorted(
        [(str(tutorial.ERNIE.account_id), "CREDIT", "9.53"),
         (str(tutorial.ASSETS.account_id), "DEBIT", "9.53")])
    assert event.accounts == {tutorial.ERNIE.account_id, tutorial.ASSETS.account_id}

    void_id = uuid.uuid4()
    voided = PostedTransaction(
        transaction=msgspec.structs.replace(decision.transaction, voided_by=void_id),
        entries=decision.entries)
    event = ledger_event(TOPICS, TOPICS.transactions,
                         codec().encode("transaction", mapping.transaction_record(voided)))
    assert event is not None and event.type is EventType.TRANSACTION_VOIDED
    assert _body(event)["data"]["voidedBy"] == str(void_id)
    assert event.ordering_key == str(tutorial.DEPOSIT.transaction_id)


def test_only_rejected_results_make_result_rejected() -> None:
    """A rejection carries the code and the command; a POSTED result makes no event."""
    source = Source(TOPICS.commands, 2, 17)
    rejected = result_record("cmd-1", "REJECTED", source, NOW, transaction_id=uuid.uuid4(),
                             rejection=Rejection(code=RejectionCode.ENTRIES_MUST_BALANCE,
                                                 message="entries do not balance"))
    body = _body(ledger_event(TOPICS, TOPICS.results, rejected))
    assert body["type"] == "result.rejected"
    assert body["data"]["commandId"] == "cmd-1"
    assert body["data"]["code"] == "entries_must_balance"
    assert (body["data"]["sourcePartition"], body["data"]["sourceOffset"]) == (2, 17)
    posted = result_record("cmd-2", "POSTED", source, NOW)
    assert ledger_event(TOPICS, TOPICS.results, posted) is None


def test_filters_by_type_account_and_journal() -> None:
    """A subscription gets its types, and only the accounts and journals it names."""
    decision = _deposit()
    posted = PostedTransaction(transaction=decision.transaction, entries=decision.entries)
    event = ledger_event(TOPICS, TOPICS.transactions,
                         codec().encode("transaction", mapping.transaction_record(posted)))
    assert event is not None

    def subscription(**fields: object) -> Any:
        return parse_config({"subscriptions": [{
            "id": "s", "url": "http://127.0.0.1:1/x", "secret": SECRET, **fields}]},
            "x").subscriptions[0]

    assert wants(subscription(events=["transaction.posted"]), event)
    assert not wants(subscription(events=["balance.updated"]), event)
    assert wants(subscription(events=["transaction.posted"],
                              accounts=[str(tutorial.ERNIE.account_id)]), event)
    assert not wants(subscription(events=["transaction.posted"],
                                  accounts=[str(tutorial.BERT.account_id)]), event)
    assert wants(subscription(events=["transaction.posted"],
                              journals=[str(tutorial.JOURNAL.journal_id)]), event)
    assert not wants(subscription(events=["transaction.posted"], journals=[str(uuid.uuid4())]),
                     event)
