"""The mutations: each sends one command through Kafka and answers with what was written.

The answer is built from the command's result (the posted transaction, or the catalog
entity as the desk wrote it), never from the read model, so it is exact even while the read
model is catching up. Each successful write clears the request's snapshot
(``RequestContext.wrote``) so the request's later reads include it. Under ``@dryRun`` the
postings are decided in the API instead, and nothing is sent (``dry_run``).

Two things the API decides itself, because the command cannot be keyed without them:
which tran code version a posting uses (it pins the version it evaluated, so the owner it
computed is the owner the processor sees), and which transaction a void targets. When
either does not exist, the API answers with the ledger's own rejection code
(``tran_code_not_found``, ``tran_code_version_not_found``, ``void_target_not_found``) after
reading the catalog or the transactions to their current end.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import ledger_core as core
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.errors import ApiError, RejectionError
from connectors.graphql_api.inputs import (
    AccountInput,
    AccountSetInput,
    AccountSetMemberInput,
    AccountSetUpdateInput,
    AccountUpdateInput,
    JournalInput,
    TranCodeInput,
    TransactionInput,
)
from connectors.graphql_api.objects import (
    Account,
    AccountSet,
    Journal,
    TranCode,
    Transaction,
    TransactionException,
    account_set_or_none,
)
from connectors.graphql_api.owners import posting_owner, void_owner
from connectors.graphql_api.velocity_errors import with_velocity_exception
from ledger_core.catalog import CatalogKind
from streams.client import Result, posting_command
from streams.errors import CommandRefusedError
from streams.partitioning import owner_partition

__all__ = [
    "catalog_change",
    "change_members",
    "create_account",
    "create_account_set",
    "create_accounts",
    "create_journal",
    "create_tran_code",
    "delete_account_set",
    "post_transaction",
    "update_account",
    "update_account_set",
    "void_transaction",
]

# How many derived keys a void tries before giving up on reaching the original's partition.
VOID_KEY_ATTEMPTS_MAX = 10_000


async def catalog_change(context: RequestContext, kind: CatalogKind,
                         body: Mapping[str, Any]) -> dict[str, Any]:
    """Send one catalog command; the entity as the catalog desk wrote it."""
    result = await context.services.gateway.catalog(kind, body)
    context.wrote()
    assert result.entity is not None, "an APPLIED catalog result carries its entity"
    return result.entity


async def create_journal(context: RequestContext, journal: JournalInput) -> Journal:
    """Create a journal."""
    entity = await catalog_change(context, CatalogKind.CREATE_JOURNAL, journal.body())
    return Journal.of(core.Journal.model_validate(entity))


async def create_account(context: RequestContext, account: AccountInput) -> Account:
    """Create an account, and add it to the sets ``accountSetIds`` names."""
    await _sets_exist(context, account.account_set_ids)
    entity = await catalog_change(context, CatalogKind.CREATE_ACCOUNT, account.body())
    created = Account.of(core.Account.model_validate(entity))
    await _join(context, account.account_id, core.MemberType.ACCOUNT, account.account_set_ids)
    return created


async def _sets_exist(context: RequestContext, set_ids: list[UUID] | None) -> None:
    """Refuse, before anything is written, a create that names a set that does not exist
    (the desk decides each membership again, with every other rule)."""
    if not set_ids:
        return
    await context.fresh([context.services.catalog_part()])
    for set_id in set_ids:
        if context.services.read_model.account_set(set_id) is None:
            raise RejectionError(core.RejectionCode.ACCOUNT_SET_NOT_FOUND.value,
                                  f"account set {set_id} does not exist", "accountSetIds",
                                  str(set_id))


async def _join(context: RequestContext, member_id: UUID, member_type: core.MemberType,
                set_ids: list[UUID] | None) -> None:
    """Add a member just created to each of ``set_ids``, in order; the first refusal is the
    mutation's error (the member and the memberships before it stay)."""
    if not set_ids:
        return
    bodies = [{"accountSetId": str(set_id), "memberId": str(member_id),
               "memberType": member_type.value} for set_id in set_ids]
    results = await context.services.gateway.catalog_many(CatalogKind.ADD_TO_ACCOUNT_SET,
                                                          bodies)
    context.wrote()
    for result in results:
        if isinstance(result, RejectionError):
            raise result


async def create_account_set(context: RequestContext, account_set: AccountSetInput
                             ) -> AccountSet:
    """Create an account set, and add it to the sets ``accountSetIds`` names."""
    await _sets_exist(context, account_set.account_set_ids)
    entity = await catalog_change(context, CatalogKind.CREATE_ACCOUNT_SET, account_set.body())
    created = AccountSet.of(core.AccountSet.model_validate(entity))
    await _join(context, account_set.account_set_id, core.MemberType.ACCOUNT_SET,
                account_set.account_set_ids)
    return created


async def update_account_set(context: RequestContext, account_set_id: UUID,
                             changes: AccountSetUpdateInput) -> AccountSet:
    """Change an account set's name, code, description, metadata or config."""
    entity = await catalog_change(context, CatalogKind.UPDATE_ACCOUNT_SET,
                                  changes.body(account_set_id))
    return AccountSet.of(core.AccountSet.model_validate(entity))


async def delete_account_set(context: RequestContext, account_set_id: UUID) -> AccountSet:
    """Delete an account set: it is kept, LOCKED, with the balance it rolled up."""
    entity = await catalog_change(context, CatalogKind.DELETE_ACCOUNT_SET,
                                  {"accountSetId": str(account_set_id)})
    return AccountSet.of(core.AccountSet.model_validate(entity))


async def change_members(context: RequestContext, kind: CatalogKind, account_set_id: UUID,
                         member: AccountSetMemberInput) -> AccountSet:
    """Add a member to a set, or remove one; the set, as the request's later reads see it."""
    await catalog_change(context, kind, member.body(account_set_id))
    found = await account_set_or_none(context, account_set_id)
    assert found is not None, "a set the desk changed is in the catalog it wrote"
    return found


# The accounts one createAccounts may open: bounds the commands one request puts in flight.
ACCOUNTS_PER_REQUEST_MAX = 1000


async def create_accounts(context: RequestContext, accounts: list[AccountInput]
                          ) -> list[Account | RejectionError]:
    """Create many accounts at once; each refused one is its RejectionError, in its place."""
    if len(accounts) > ACCOUNTS_PER_REQUEST_MAX:
        raise ApiError("bad_request", f"createAccounts takes at most {ACCOUNTS_PER_REQUEST_MAX} "
                       f"accounts, not {len(accounts)}", limit=ACCOUNTS_PER_REQUEST_MAX,
                       measured=len(accounts))
    results = await context.services.gateway.catalog_many(
        CatalogKind.CREATE_ACCOUNT, [account.body() for account in accounts])
    context.wrote()
    answers: list[Account | RejectionError] = [
        result if isinstance(result, RejectionError)
        else Account.of(core.Account.model_validate(result.entity)) for result in results]
    # Every membership of every created account in one go; an account whose membership is
    # refused answers with that refusal (it exists, with the memberships before it).
    joins = [(index, {"accountSetId": str(set_id), "memberId": str(account.account_id),
                      "memberType": core.MemberType.ACCOUNT.value})
             for index, account in enumerate(accounts)
             if not isinstance(answers[index], RejectionError)
             for set_id in account.account_set_ids or ()]
    if joins:
        joined = await context.services.gateway.catalog_many(
            CatalogKind.ADD_TO_ACCOUNT_SET, [body for _, body in joins])
        for (index, _), result in zip(joins, joined, strict=True):
            if isinstance(result, RejectionError) and \
                    not isinstance(answers[index], RejectionError):
                answers[index] = result
    return answers


async def update_account(context: RequestContext, account_id: UUID,
                         changes: AccountUpdateInput) -> Account:
    """Change an account's updatable fields (status, metadata, name, ...)."""
    entity = await catalog_change(context, CatalogKind.UPDATE_ACCOUNT, changes.body(account_id))
    return Account.of(core.Account.model_validate(entity))


async def create_tran_code(context: RequestContext, tran_code: TranCodeInput) -> TranCode:
    """Create a tran code (version 1)."""
    entity = await catalog_change(context, CatalogKind.CREATE_TRAN_CODE, tran_code.body())
    return TranCode.of(core.TranCode.model_validate(entity))


async def post_transaction(context: RequestContext, posting: TransactionInput) -> Transaction:
    """Post through a tran code, keyed by the posting's owner account."""
    params = _params(posting)
    tran_code = await _tran_code(context, posting.tran_code, posting.tran_code_version)
    owner = posting_owner(tran_code, params, posting.transaction_id, datetime.now(UTC).date(),
                          context.services.read_model.catalog)
    properties = posting.properties
    override = None
    if properties is not None and properties.override_velocity_enforcement is not None:
        override = core.Enforcement(properties.override_velocity_enforcement.action.value)
    try:
        if context.dry_run:
            try:
                command = posting_command(posting.transaction_id, posting.tran_code, params,
                                          tran_code.version, override)
            except CommandRefusedError as refused:
                raise RejectionError.of(refused.rejection) from None
            posted, warnings = (await context.dry_ledger()).decide(command)
            return Transaction.of(posted, [TransactionException.of_warning(
                w.code.value, w.message, w.detail) for w in warnings])
        result = await context.services.gateway.post(
            posting.transaction_id, posting.tran_code, params, owner, tran_code.version,
            override)
    except RejectionError as refused:
        raise with_velocity_exception(refused, posting.transaction_id,
                                      context.services.read_model.catalog) from None
    return _written(context, result)


async def void_transaction(context: RequestContext, transaction_id: UUID) -> Transaction:
    """Void a posted transaction, keyed by the owner of the posting it voids."""
    services = context.services
    if context.dry_run:
        dry = await context.dry_ledger()
        posted, _ = dry.decide(core.VoidTransaction(void_of=transaction_id))
        return Transaction.of(posted)
    original = services.read_model.transaction(transaction_id)
    if original is None:
        await context.fresh(services.transaction_parts())
        original = services.read_model.transaction(transaction_id)
    if original is None:
        raise RejectionError(core.RejectionCode.VOID_TARGET_NOT_FOUND.value,
                              f"voidOf {transaction_id} is not a posted transaction", "id",
                              str(transaction_id))
    partitions = services.topics.partitions
    owner = void_owner(original, partitions) or _key_on(original.partition, transaction_id,
                                                          partitions)
    result = await services.gateway.void(transaction_id, owner)
    return _written(context, result)


def _params(posting: TransactionInput) -> dict[str, Any]:
    params: object = {} if posting.params is None else posting.params
    if not isinstance(params, dict):
        raise RejectionError(core.RejectionCode.COMMAND_INVALID.value,
                              "params must be an object of param values", "params",
                              str(params))
    if posting.tran_code_version is not None and posting.tran_code_version < 1:
        raise RejectionError(core.RejectionCode.COMMAND_INVALID.value,
                              "tranCodeVersion must be 1 or more", "tranCodeVersion",
                              str(posting.tran_code_version))
    return params


async def _tran_code(context: RequestContext, code: str, version: int | None) -> core.TranCode:
    read_model = context.services.read_model
    found = read_model.tran_code(code, version)
    if found is None:
        await context.fresh([context.services.catalog_part()])
        found = read_model.tran_code(code, version)
    if found is not None:
        return found
    if version is not None and read_model.tran_code(code, None) is not None:
        raise RejectionError(core.RejectionCode.TRAN_CODE_VERSION_NOT_FOUND.value,
                              f"tranCode {code} has no version {version}", "tranCodeVersion",
                              str(version))
    raise RejectionError(core.RejectionCode.TRAN_CODE_NOT_FOUND.value,
                          f"tranCode {code!r} does not exist", "tranCode", code)


def _key_on(partition: int, transaction_id: UUID, partitions: int) -> UUID:
    """A key on ``partition``, derived from the transaction id, for a posting keyed by an
    account none of its entries names (a producer other than this API chose its owner)."""
    for attempt in range(VOID_KEY_ATTEMPTS_MAX):
        candidate = uuid.uuid5(transaction_id, f"void-key-{attempt}")
        if owner_partition(candidate, partitions) == partition:
            return candidate
    raise AssertionError(f"no key reaches partition {partition} of {partitions}")


def _written(context: RequestContext, result: Result) -> Transaction:
    posted = result.transaction
    assert posted is not None, "a POSTED result carries its transaction"
    context.wrote()
    return Transaction.of(posted, [TransactionException.of_warning(
        w["code"], w["message"], w["detail"]) for w in result.warnings])
