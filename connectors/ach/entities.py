"""The ledger entities the ACH workflows post through, created in the catalog."""

from __future__ import annotations

from typing import Any

from ledger_core.ach_tran_codes import ACCOUNTS, CONFIGURATION, JOURNAL, TRAN_CODES
from streams.client import LedgerClient


def create_entities(client: LedgerClient) -> dict[str, Any]:
    """Create the configuration's journal and accounts and the ACH tran codes; return the
    configuration with each entity's status. The catalog applies the creation of an entity
    that exists, the same, without change, so running it again is safe."""
    created = []
    for entity in (JOURNAL, *ACCOUNTS, *TRAN_CODES):
        result = client.create(entity)
        created.append({"entity": type(entity).__name__, "code": entity.code,
                        "status": result.status, "rejection": result.code})
    return {"configuration": CONFIGURATION.model_dump(mode="json", by_alias=True),
            "created": created}
