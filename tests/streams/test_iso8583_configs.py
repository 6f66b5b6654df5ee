"""ISO 8583 configurations on the real log: created, updated and deleted through the client,
read back by the catalog reader at their latest version, and matched by the audit."""

import json
import subprocess
import sys
import uuid

from ledger_core import Account, Iso8583Config, Journal, Status
from ledger_core.catalog import CatalogKind
from ledger_core.iso8583_configs import Iso8583Processor, MessageVariant
from streams.catalog import CatalogReader
from tests.streams.conftest import KafkaLedger


def test_a_config_is_created_updated_deleted_and_audited(kafka_ledger: KafkaLedger) -> None:
    """Through LedgerClient: the config reaches the catalog; an update is version 2 and a
    delete version 3, LOCKED; the reader holds the latest; refusals carry their codes; the
    audit matches every catalog record to its result."""
    kafka_ledger.add_processor()
    client = kafka_ledger.client()
    journal = Journal(journal_id=uuid.uuid4(), name="Card program")
    settlement = Account(account_id=uuid.uuid4(), code=f"SETTLE.{uuid.uuid4().hex[:8]}",
                         name="Network settlement")
    assert client.create(journal).ok and client.create(settlement).ok
    config = Iso8583Config(config_id=uuid.uuid4(), journal_id=journal.journal_id,
                           settlement_account_id=settlement.account_id,
                           time_zone="America/Chicago", processor=Iso8583Processor.GALILEO)
    created = client.create(config)
    assert (created.status, created.entity) == (
        "APPLIED", config.model_dump(mode="json", by_alias=True))

    updated = client.catalog(CatalogKind.UPDATE_ISO8583_CONFIG, {
        "configId": str(config.config_id), "processorSpec": {"variant": "binary"}})
    assert updated.status == "APPLIED", updated
    deleted = client.catalog(CatalogKind.DELETE_ISO8583_CONFIG,
                             {"configId": str(config.config_id)})
    assert deleted.status == "APPLIED", deleted
    locked = client.catalog(CatalogKind.UPDATE_ISO8583_CONFIG, {
        "configId": str(config.config_id), "description": "after the delete"})
    assert (locked.status, locked.code) == ("REJECTED", "iso8583_config_locked")
    missing = client.create(config.model_copy(update={"config_id": uuid.uuid4(),
                                                      "journal_id": uuid.uuid4()}))
    assert (missing.status, missing.code) == ("REJECTED", "journal_not_found")

    reader = CatalogReader(kafka_ledger.bootstrap, kafka_ledger.topics.catalog)
    try:
        reader.catch_up()
        found = reader.table.iso8583_config(config.config_id)
        assert found is not None
        assert (found.version, found.status, found.processor_spec.variant) == (
            3, Status.LOCKED, MessageVariant.BINARY)
        assert reader.quarantined == []
    finally:
        reader.close()

    audit = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "audit", "--json", "--bootstrap-servers",
         kafka_ledger.bootstrap, "--topic-prefix", kafka_ledger.topics.prefix],
        capture_output=True, text=True, timeout=120, check=False)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    report = json.loads(audit.stdout)
    assert (report["violations"], report["catalogRecords"]) == ([], 5)
