"""The Kafka shell of reconciliation: read the files, their entries, the executions and the
ledger's transactions, and hand them to ``reconciliation.reconcile``.

The files of a day are the generated files created on it (UTC), the day of the ledger's
effective dates, which are the UTC day each transaction posted.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from uuid import UUID

from confluent_kafka.admin import AdminClient

from connectors.ach.configuration_lookup import configuration_version
from connectors.ach.executions import read_executions
from connectors.ach.file_entries import read_file_entries
from connectors.ach.files import AchFileType, read_files
from connectors.ach.reconciliation import Leg, PostedTransaction, Reconciliation, reconcile
from connectors.ach.topics import AchTopics
from schemas.codec import DecodeError, codec
from streams.errors import LedgerError
from streams.kafka_config import kafka_config
from streams.reading import read_committed
from streams.topics import Topics, topic_partitions


def reconcile_files(bootstrap: str, prefix: str, config_id: UUID, *, day: date | None,
                    file_id: UUID | None = None) -> Reconciliation:
    """Reconcile the configuration's files created on ``day`` (with the settlement
    account's movement on it), or the one file ``file_id``."""
    admin = AdminClient(kafka_config(bootstrap))
    ach = AchTopics(prefix, _partitions(admin, AchTopics(prefix).commands))
    ledger = Topics(prefix=prefix, partitions=_partitions(admin, Topics(prefix=prefix).commands))
    records = [record for record in read_files(bootstrap, ach).values()
               if record.file_type is AchFileType.ODFI and record.config_id == config_id
               and (record.file_id == file_id if file_id is not None
                    else record.created_at.astimezone(UTC).date() == day)]
    if file_id is not None and not records:
        raise LedgerError(f"no generated file of configuration {config_id} has id {file_id}")
    records.sort(key=lambda record: (record.created_at, str(record.file_id)))
    entries = read_file_entries(bootstrap, ach, [record.file_id for record in records])
    executions = read_executions(bootstrap, ach)
    settlement = {configuration_version(bootstrap, ach, config_id).settlement_account_id}
    settlement |= {executions[entry.execution_id].settlement_account_id
                   for found in entries.values() for entry in found
                   if entry.execution_id in executions}
    return reconcile([(record, entries[record.file_id]) for record in records], executions,
                     read_transactions(bootstrap, ledger), day=day,
                     settlement_accounts=settlement)


def _partitions(admin: AdminClient, topic: str) -> int:
    partitions = topic_partitions(admin, topic)
    if partitions is None:
        raise LedgerError(f"topic {topic} does not exist: is this the ledger's topic prefix?")
    return partitions


def read_transactions(bootstrap: str, topics: Topics) -> dict[UUID, PostedTransaction]:
    """The latest record of every posted transaction (a void's record follows the first).
    A record that does not decode stops the reconciliation: it could be any amount."""
    latest: dict[UUID, PostedTransaction] = {}
    for message in read_committed(bootstrap, topics.transactions, range(topics.partitions)):
        try:
            record = codec().decode("transaction", message.value())
        except DecodeError as exc:
            raise LedgerError(f"{topics.transactions}[{message.partition()}]@"
                              f"{message.offset()} does not decode ({exc}): `ledger audit` "
                              "reports it; nothing can be reconciled past it") from None
        legs = tuple(Leg(UUID(entry["account_id"]), entry["layer"],
                         Decimal(entry["units"]) if entry["direction"] == "DEBIT"
                         else -Decimal(entry["units"]))
                     for entry in record["entries"])
        voided_by = record["voided_by"]
        transaction = PostedTransaction(UUID(record["transaction_id"]), record["tran_code"],
                                        record["effective"],
                                        None if voided_by is None else UUID(voided_by), legs)
        latest[transaction.transaction_id] = transaction
    return latest
