"""The ``auth`` namespace of the schema, as Twisp has it: ``auth { clients client }`` and
``auth { createClient updateClient deleteClient }``.

Clients live on the tenant's auth topic (``store``); a mutation returns once this instance
reads its own write, so the next request through it sees the change (other instances
follow within a poll). Each field is itself authorized as an action on ``system.Client``.
With authentication off the namespace answers ``auth_disabled``: clients are then managed
with ``ledger auth``.
"""

from __future__ import annotations

from typing import Any

import strawberry

from connectors.graphql_api.auth.keys import KEY_PRINCIPAL_PREFIX
from connectors.graphql_api.auth.policies import PolicyError
from connectors.graphql_api.auth.store import AuthStore, ClientRecord
from connectors.graphql_api.errors import ApiError
from connectors.graphql_api.objects import Info, described, request
from connectors.graphql_api.scalars import JSON, Timestamp
from streams.errors import LedgerError

__all__ = ["AuthMutation", "AuthQuery", "Client"]

AUTH_DISABLED = "auth_disabled"
CLIENT_INVALID = "client_invalid"
CLIENT_NOT_FOUND = "client_not_found"
CLIENT_EXISTS = "client_exists"


@strawberry.type(description="A policy: its effect on actions over resources, where every "
                             "assertion (CEL) holds.")
class Policy:
    """One policy of a client."""

    effect: str
    actions: list[str]
    resources: list[str]
    assertions: JSON


@strawberry.type(description="A principal let in (a token issuer, or an API key), with its "
                             "policies.")
class Client:
    """A client of the tenant."""

    principal: str
    name: str
    policies: list[Policy]
    created: Timestamp
    modified: Timestamp

    @classmethod
    def of(cls, record: ClientRecord) -> Client:
        """The GraphQL view of a client (an API key's hash stays on the topic)."""
        return cls(principal=record.principal, name=record.name,
                   policies=[Policy(effect=p["effect"], actions=p["actions"],
                                    resources=p["resources"], assertions=JSON(p["assertions"]))
                             for p in record.policies_json()],
                   created=Timestamp(record.created), modified=Timestamp(record.modified))


@strawberry.input(description="A policy: effect ALLOW or DENY, actions (SELECT, INSERT, "
                              "UPDATE, DELETE), resources, and named CEL assertions.")
class PolicyInput:
    """A policy to give a client."""

    effect: str
    actions: list[str]
    resources: list[str]
    assertions: JSON | None = None

    def body(self) -> dict[str, Any]:
        """The policy's JSON form."""
        return {"effect": self.effect, "actions": self.actions, "resources": self.resources,
                "assertions": self.assertions or {}}


@strawberry.input(description="A new client.")
class ClientInput:
    """The principal (a token's iss), a name and the policies."""

    principal: str
    name: str
    policies: list[PolicyInput]


@strawberry.input(description="Changes to a client.")
class ClientUpdateInput:
    """A new name and/or new policies."""

    name: str | None = None
    policies: list[PolicyInput] | None = None


def _store(info: Info) -> AuthStore:
    store = request(info).services.auth
    if store is None:
        raise ApiError(AUTH_DISABLED, "authentication is off on this API: manage clients with "
                                      "`ledger auth`")
    return store


async def _fresh(info: Info) -> AuthStore:
    """The store, once its table has read every client written before the request."""
    store = _store(info)
    try:
        await store.table.caught_up(store.timeout_s)
    except LedgerError as exc:
        raise ApiError("read_model_timeout", str(exc), retriable=True) from None
    return store


def _existing(store: AuthStore, principal: str) -> ClientRecord:
    found = store.table.client(principal)
    if found is None:
        raise ApiError(CLIENT_NOT_FOUND, "no client has this principal", field="principal")
    return found


async def _written(store: AuthStore, record: ClientRecord) -> Client:
    try:
        await store.put(record)
    except LedgerError as exc:
        raise ApiError("kafka_unavailable", str(exc), retriable=True) from None
    return Client.of(record)


@strawberry.type(description="Clients and their policies.")
class AuthQuery:
    """The read side of ``auth``."""

    @described("Every client of the tenant.")
    async def clients(self, info: Info) -> list[Client]:
        """The clients, by principal."""
        store = await _fresh(info)
        return [Client.of(record) for record in store.table.clients()]

    @described("A client by its principal.")
    async def client(self, info: Info, principal: str) -> Client | None:
        """The client, or null."""
        store = await _fresh(info)
        found = store.table.client(principal)
        return None if found is None else Client.of(found)


@strawberry.type(description="Creating, changing and deleting clients.")
class AuthMutation:
    """The write side of ``auth``."""

    @described("Create a client: a principal (a token issuer) with a name and policies.")
    async def create_client(self, info: Info, input: ClientInput) -> Client | None:
        """The client as written."""
        if input.principal.startswith(KEY_PRINCIPAL_PREFIX):
            raise ApiError(CLIENT_INVALID, f"principals starting {KEY_PRINCIPAL_PREFIX!r} are "
                                           "API keys: create them with `ledger auth create-key`",
                           field="principal")
        store = await _fresh(info)
        if store.table.client(input.principal) is not None:
            raise ApiError(CLIENT_EXISTS, "a client has this principal already: update it",
                           field="principal")
        try:
            record = ClientRecord.new(input.principal, input.name,
                                      [policy.body() for policy in input.policies])
        except PolicyError as exc:
            raise ApiError(CLIENT_INVALID, str(exc)) from None
        return await _written(store, record)

    @described("Change a client's name or policies.")
    async def update_client(self, info: Info, principal: str,
                            input: ClientUpdateInput) -> Client | None:
        """The client as written."""
        store = await _fresh(info)
        policies = None if input.policies is None else [p.body() for p in input.policies]
        try:
            record = _existing(store, principal).changed(input.name, policies)
        except PolicyError as exc:
            raise ApiError(CLIENT_INVALID, str(exc)) from None
        return await _written(store, record)

    @described("Delete a client; returns it as it was.")
    async def delete_client(self, info: Info, principal: str) -> Client | None:
        """The deleted client."""
        store = await _fresh(info)
        record = _existing(store, principal)
        try:
            await store.delete(principal)
        except LedgerError as exc:
            raise ApiError("kafka_unavailable", str(exc), retriable=True) from None
        return Client.of(record)
