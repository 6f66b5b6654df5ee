"""The ledger entities the ACH workflows post through, created in the catalog, and the
example configuration that names them."""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import AdminClient

from connectors.ach.configurations import create_configuration
from connectors.ach.topics import AchTopics
from ledger_core.ach_rdfi import RDFI_TRAN_CODES
from ledger_core.ach_tran_codes import ACCOUNTS, CONFIGURATION, JOURNAL, TRAN_CODES
from streams.client import LedgerClient
from streams.kafka_config import kafka_config
from streams.topics import ensure_specs


def create_entities(client: LedgerClient) -> dict[str, Any]:
    """Create the ACH topics, the example configuration's journal and accounts, the ACH tran
    codes and the configuration itself; return the configuration with each entity's status.
    The catalog applies the creation of an entity that exists, the same, without change, and
    the same configuration again is no new version, so running it again is safe."""
    created = []
    for entity in (JOURNAL, *ACCOUNTS, *TRAN_CODES, *RDFI_TRAN_CODES):
        result = client.create(entity)
        created.append({"entity": type(entity).__name__, "code": entity.code,
                        "status": result.status, "rejection": result.code})
    topics = AchTopics(client.topics.prefix, client.partitions)
    ensure_specs(AdminClient(kafka_config(client.bootstrap)), topics.specs(), None)
    configuration, _new = create_configuration(
        client.bootstrap, topics, CONFIGURATION.model_dump(mode="json", by_alias=True,
                                                           exclude={"version"}))
    return {"configuration": configuration.model_dump(mode="json", by_alias=True),
            "created": created}
