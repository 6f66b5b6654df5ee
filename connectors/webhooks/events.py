"""Ledger records as webhook events: the JSON bodies (docs/webhooks.md documents them), the
ordering keys, and the webhook-id each event keeps for every attempt and every replay.

Bodies are built from the record alone, so every attempt of an event sends the same bytes.
Amounts are decimal strings in plain notation; free-form metadata keeps its numbers exact.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from connectors.webhooks.config import EventType, Subscription
from schemas import mapping
from schemas.codec import codec
from streams.topics import Topics


@dataclass(frozen=True)
class LedgerEvent:
    """What one record of a source topic says, before any subscription looks at it."""

    type: EventType
    ordering_key: str
    accounts: frozenset[UUID]
    journals: frozenset[UUID]
    body: bytes


@dataclass(frozen=True)
class Event:
    """One event for one subscription: what is sent, and where it came from."""

    subscription_id: str
    webhook_id: str
    type: EventType
    ordering_key: str
    topic: str
    partition: int
    offset: int
    body: bytes


def webhook_id(subscription_id: str, topic: str, partition: int, offset: int) -> str:
    """The id of the event a record makes for a subscription: the record's position names
    it, so a retry, a restart or a replay sends the same id."""
    digest = hashlib.sha256(f"{subscription_id}\0{topic}\0{partition}\0{offset}".encode())
    return "msg_" + digest.hexdigest()[:32]


def ledger_event(topics: Topics, topic: str, value: bytes) -> LedgerEvent | None:
    """The event a record of ``topic`` makes; None for records that make none (results
    that are not rejections)."""
    if topic == topics.balances:
        return _balance_event(codec().decode("balance", value))
    if topic == topics.transactions:
        return _transaction_event(codec().decode("transaction", value))
    if topic == topics.results:
        return _rejection_event(codec().decode("result", value))
    raise ValueError(f"{topic} is not a topic webhook events come from")


def wants(subscription: Subscription, event: LedgerEvent) -> bool:
    """Whether the subscription asked for the event's type, accounts and journals."""
    return (event.type in subscription.events
            and (not subscription.accounts or not subscription.accounts.isdisjoint(
                event.accounts))
            and (not subscription.journals or not subscription.journals.isdisjoint(
                event.journals)))


def event_for(subscription: Subscription, event: LedgerEvent, topic: str, partition: int,
              offset: int) -> Event:
    """The subscription's event of the record at ``topic[partition]@offset``."""
    return Event(subscription.id, webhook_id(subscription.id, topic, partition, offset),
                 event.type, event.ordering_key, topic, partition, offset, event.body)


def _envelope(event_type: EventType, timestamp: datetime | None, data: dict[str, Any]) -> bytes:
    text = mapping.dump_json({"type": event_type.value, "timestamp": _time(timestamp),
                              "data": data})
    assert text is not None
    return text.encode()


def _amount(text: str) -> str:
    # Plain notation: a consumer parsing "0E-8" would be surprised, "0.00000000" is the same
    # exact value.
    return format(Decimal(text), "f")


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: date) -> str:
    return value.isoformat()


def _layer(record: dict[str, str]) -> dict[str, str]:
    return {"drBalance": _amount(record["dr_balance"]), "crBalance": _amount(record["cr_balance"]),
            "normalBalance": _amount(record["normal_balance"])}


def _balance_event(record: dict[str, Any]) -> LedgerEvent:
    data = {
        "accountId": record["account_id"], "journalId": record["journal_id"],
        "currency": record["currency"], "normalBalanceType": record["normal_balance_type"],
        "version": record["version"],
        "settled": _layer(record["settled"]), "pending": _layer(record["pending"]),
        "encumbrance": _layer(record["encumbrance"]),
        "entryId": record["entry_id"], "transactionId": record["transaction_id"],
        "created": _time(record["created"]), "modified": _time(record["modified"]),
    }
    return LedgerEvent(EventType.BALANCE_UPDATED, record["account_id"],
                       frozenset({UUID(record["account_id"])}),
                       frozenset({UUID(record["journal_id"])}),
                       _envelope(EventType.BALANCE_UPDATED, record["modified"], data))


def _entry(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "entryId": record["entry_id"], "accountId": record["account_id"],
        "journalId": record["journal_id"], "sequence": record["sequence"],
        "units": _amount(record["units"]), "currency": record["currency"],
        "direction": record["direction"], "entryType": record["entry_type"],
        "layer": record["layer"], "description": record["description"],
        "metadata": mapping.load_json(record["metadata_json"]),
        "effective": _date(record["effective"]), "created": _time(record["created"]),
    }


def _transaction_event(record: dict[str, Any]) -> LedgerEvent:
    # The processor writes a posting's transaction once, and the original again, carrying
    # voided_by, in the void's batch: that second record is the voided event. A void is
    # itself a posted transaction, with voidOf naming the original.
    event_type = (EventType.TRANSACTION_POSTED if record["voided_by"] is None
                  else EventType.TRANSACTION_VOIDED)
    entries = [_entry(entry) for entry in record["entries"]]
    data = {
        "transactionId": record["transaction_id"], "journalId": record["journal_id"],
        "tranCode": record["tran_code"], "tranCodeId": record["tran_code_id"],
        "tranCodeVersion": record["tran_code_version"],
        "correlationId": record["correlation_id"], "externalId": record["external_id"],
        "effective": _date(record["effective"]), "created": _time(record["created"]),
        "description": record["description"],
        "metadata": mapping.load_json(record["metadata_json"]),
        "voidOf": record["void_of"], "voidedBy": record["voided_by"], "entries": entries,
    }
    accounts = frozenset(UUID(entry["accountId"]) for entry in entries)
    journals = frozenset({UUID(record["journal_id"]),
                          *(UUID(entry["journalId"]) for entry in entries)})
    return LedgerEvent(event_type, record["transaction_id"], accounts, journals,
                       _envelope(event_type, record["created"], data))


def _rejection_event(record: dict[str, Any]) -> LedgerEvent | None:
    if record["status"] != "REJECTED":
        return None
    data = {
        "commandId": record["command_id"], "transactionId": record["transaction_id"],
        "code": record["code"], "message": record["message"], "field": record["field"],
        "value": record["value"], "sourceTopic": record["source_topic"],
        "sourcePartition": record["source_partition"],
        "sourceOffset": record["source_offset"],
        "processedAt": _time(record["processed_at"]),
    }
    return LedgerEvent(EventType.RESULT_REJECTED, record["command_id"], frozenset(),
                       frozenset(), _envelope(EventType.RESULT_REJECTED,
                                              record["processed_at"], data))
