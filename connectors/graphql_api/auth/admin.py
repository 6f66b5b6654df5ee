"""Managing a tenant's clients outside the API: the first administrator, API keys, scripts.

``ledger auth`` and the demo call these; they write the tenant's auth topic (created when
missing) exactly as the API's ``auth`` mutations do, and every API instance serving the
tenant picks the change up.
"""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.graphql_api.auth.keys import KeyHash, new_key
from connectors.graphql_api.auth.store import (
    AuthTable,
    AuthWriter,
    ClientRecord,
    ensure_auth_topic,
)
from streams.topics import Topics

__all__ = ["ADMINISTRATOR", "create_api_key", "create_client", "delete_client", "list_clients"]

# Every action on every resource: the policy of a first administrator.
ADMINISTRATOR: list[dict[str, Any]] = [
    {"effect": "ALLOW", "actions": ["SELECT", "INSERT", "UPDATE", "DELETE"],
     "resources": ["*"]}]
READ_TIMEOUT_S = 30.0


def create_client(bootstrap: str, topics: Topics, principal: str, name: str,
                  policies: object) -> ClientRecord:
    """Create or replace the client of ``principal`` (a token issuer); ValueError when the
    client or its policies cannot be used."""
    record = ClientRecord.new(principal, name, policies)
    _write(bootstrap, topics, lambda writer: writer.put(record))
    return record


def create_api_key(bootstrap: str, topics: Topics, tenant: str, name: str,
                   policies: object) -> tuple[str, ClientRecord]:
    """A new API key for ``tenant`` (served from ``topics``) with its own client: the key's
    text, to hand out once (only its hash is kept), and the client."""
    key = new_key(tenant)
    record = ClientRecord.new(key.principal, name, policies, KeyHash.of(key.secret))
    _write(bootstrap, topics, lambda writer: writer.put(record))
    return key.text, record


def delete_client(bootstrap: str, topics: Topics, principal: str) -> None:
    """Delete the client of ``principal`` (a token issuer, or ``apikey:<key id>``)."""
    _write(bootstrap, topics, lambda writer: writer.delete(principal))


def list_clients(bootstrap: str, topics: Topics) -> list[ClientRecord]:
    """Every client of the ledger, read to the topic's end."""
    table = AuthTable(bootstrap, topics)
    table.start()
    try:
        asyncio.run(table.caught_up(READ_TIMEOUT_S))
        return table.clients()
    finally:
        table.stop()


def _write(bootstrap: str, topics: Topics, write: Any) -> None:
    ensure_auth_topic(bootstrap, topics)
    writer = AuthWriter(bootstrap, topics)
    try:
        write(writer)
    finally:
        writer.close()
