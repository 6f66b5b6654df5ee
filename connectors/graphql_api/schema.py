"""The schema: Twisp's Query and Mutation roots over the ledger.

Queries read the read model; mutations send commands through Kafka (``writes``).
``Mutation.queries`` gives the Query root back inside a mutation; its reads include every
write of the request made before it, on every account the write touched.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension, ValidationCache
from strawberry.extensions.directives import DirectivesExtension, DirectivesExtensionSync
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

import ledger_core as core
from connectors.graphql_api import writes
from connectors.graphql_api.ach import AchMutation, AchQuery, WorkflowMutation
from connectors.graphql_api.auth.authorize import Authorize
from connectors.graphql_api.auth.namespace import AuthMutation, AuthQuery
from connectors.graphql_api.calculations import (
    CALCULATION_FIELDS,
    AttachCalculationInput,
    AttachedCalculation,
    Calculation,
    CalculationFilterInput,
    CalculationIndexInput,
    CreateCalculationInput,
    attach_calculation,
    calculation_or_none,
    create_calculation,
    delete_calculation,
)
from connectors.graphql_api.card_mutations import CardMutation
from connectors.graphql_api.computed_balances import EffectiveInput
from connectors.graphql_api.document_limits import DOCUMENTS_CACHED_MAX, DocumentLimits
from connectors.graphql_api.dry_run import DryRunDirective, dry_run
from connectors.graphql_api.enums import EntryIndex
from connectors.graphql_api.errors import ApiError
from connectors.graphql_api.inputs import (
    AccountFilterInput,
    AccountIndexInput,
    AccountInput,
    AccountSetFilterInput,
    AccountSetIndexInput,
    AccountSetInput,
    AccountSetMemberInput,
    AccountSetUpdateInput,
    AccountUpdateInput,
    BalanceFilterInput,
    BalanceIndexInput,
    EntryFilterInput,
    EntryIndexInput,
    JournalFilterInput,
    JournalIndexInput,
    JournalInput,
    TranCodeFilterInput,
    TranCodeIndexInput,
    TranCodeInput,
    TransactionFilterInput,
    TransactionIndexInput,
    TransactionInput,
)
from connectors.graphql_api.iso8583 import Iso8583Mutation, Iso8583Query
from connectors.graphql_api.lists import conditions, listing
from connectors.graphql_api.objects import (
    USD,
    Account,
    AccountSet,
    Balance,
    Connection,
    Entry,
    EntryConnection,
    Info,
    Journal,
    TranCode,
    Transaction,
    account_or_none,
    account_set_or_none,
    balance_of,
    balances_of,
    connection,
    described,
    entry_or_none,
    journal_or_none,
    mutation,
    request,
    transaction_or_none,
)
from connectors.graphql_api.scalars import JSON, SCALARS, CurrencyCode
from connectors.graphql_api.turns import YieldToLoop
from connectors.graphql_api.velocity import VelocityMutations, VelocityQueries
from ledger_core.catalog import CatalogKind

__all__ = ["Mutation", "Query", "build_schema"]

log = logging.getLogger(__name__)


# Each list query's filter fields, by the index each one reads.
ACCOUNT_FIELDS = {"account_id": "ACCOUNT_ID", "name": "NAME", "code": "CODE",
                  "status": "STATUS", "external_id": "EXTERNAL_ID"}
JOURNAL_FIELDS = {"journal_id": "JOURNAL_ID", "name": "NAME", "code": "CODE",
                  "status": "STATUS"}
TRAN_CODE_FIELDS = {"tran_code_id": "TRAN_CODE_ID", "code": "CODE", "status": "STATUS"}
TRANSACTION_FIELDS = {"transaction_id": "TRANSACTION_ID", "correlation_id": "CORRELATION_ID",
                      "external_id": "EXTERNAL_ID"}
ACCOUNT_SET_FIELDS = {"account_set_id": "ACCOUNT_SET_ID", "name": "NAME", "code": "CODE"}


@strawberry.type(description="Reads, from the read model kept by the ledger's topics.")
class Query(VelocityQueries):
    """The read side."""

    @described("An account by its accountId.")
    async def account(self, info: Info, id: UUID) -> Account | None:
        """The account, or null."""
        return await account_or_none(request(info), id)

    @described("An account set by its accountSetId.")
    async def account_set(self, info: Info, id: UUID) -> AccountSet | None:
        """The account set, or null."""
        return await account_set_or_none(request(info), id)

    @described("Account sets by index (ACCOUNT_SET_ID, NAME, CODE), filtered by where, a "
               "page at a time.")
    async def account_sets(self, info: Info, index: AccountSetIndexInput, first: int,
                           where: AccountSetFilterInput | None = None,
                           after: str | None = None) -> Connection[AccountSet]:
        """A page of account sets."""
        return await listing(request(info), "accountSets", index.name.value,
                             conditions(where, ACCOUNT_SET_FIELDS), first, after, index.sort,
                             AccountSet.of)

    @described("The balance of an account in a journal and currency.")
    async def balance(self, info: Info, account_id: UUID, journal_id: UUID | None = None,
                      currency: CurrencyCode = USD, effective: EffectiveInput | None = None,
                      calculation_id: UUID | None = None, dimension: JSON | None = None
                      ) -> Balance | None:
        """The balance, or null while the account has none there."""
        return await balance_of(request(info), account_id, journal_id, currency, effective,
                                calculation_id, dimension)

    @described("Balances by index: ACCOUNT_ID, every balance of the account (or account "
               "set) where.accountId.eq names, by journal then currency.")
    async def balances(self, info: Info, index: BalanceIndexInput, first: int,
                       where: BalanceFilterInput | None = None,
                       after: str | None = None) -> Connection[Balance]:
        """A page of one owner's balances."""
        value = None if where is None or where.account_id is None else where.account_id.eq
        try:
            owner = UUID(str(value))
        except ValueError:
            raise ApiError("bad_request", f"index {index.name.value} needs where: "
                                          "{accountId: {eq: <id>}}") from None
        return await balances_of(request(info), owner, first, after, where)

    @described("A calculation by its calculationId.")
    async def calculation(self, info: Info, calculation_id: UUID) -> Calculation | None:
        """The calculation, or null."""
        return await calculation_or_none(request(info), calculation_id)

    @described("Calculations by index (CALCULATION_ID, CODE), filtered by where, a page at a "
               "time.")
    async def calculations(self, info: Info, index: CalculationIndexInput, first: int,
                           where: CalculationFilterInput | None = None,
                           after: str | None = None) -> Connection[Calculation]:
        """A page of calculations."""
        return await listing(request(info), "calculations", index.name.value,
                             conditions(where, CALCULATION_FIELDS), first, after, None,
                             Calculation.of)

    @described("A transaction by its transactionId.")
    async def transaction(self, info: Info, id: UUID) -> Transaction | None:
        """The transaction, or null."""
        return await transaction_or_none(request(info), id)

    @described("An entry by its entryId.")
    async def entry(self, info: Info, id: UUID) -> Entry | None:
        """The entry, or null."""
        return await entry_or_none(request(info), id)

    @described("Entries by index: ENTRY_ID or TRANSACTION_ID (entries of "
                                  "an account: Account.entries).")
    async def entries(self, info: Info, index: EntryIndexInput,
                      where: EntryFilterInput | None = None, first: int | None = None,
                      after: str | None = None) -> EntryConnection:
        """A page of entries."""
        context = request(info)
        key = _index_key(index, where)
        if index.name is EntryIndex.TRANSACTION_ID:
            found = await transaction_or_none(context, key)
            entries = () if found is None else found.model.entries
        else:
            found_entry = await entry_or_none(context, key)
            entries = () if found_entry is None else (found_entry.model,)
        return connection(entries, first, after)

    @described("The latest version of a tran code by its tranCodeId.")
    async def tran_code(self, info: Info, id: UUID) -> TranCode | None:
        """The tran code, or null."""
        context = request(info)
        await context.fresh([context.services.catalog_part()])
        model = context.services.read_model.tran_code_by_id(id)
        return None if model is None else TranCode.of(model)

    @described("A journal by its journalId; the DEFAULT journal without one.")
    async def journal(self, info: Info, id: UUID | None = None) -> Journal | None:
        """The journal, or null."""
        return await journal_or_none(request(info), id or core.DEFAULT_JOURNAL_ID)

    @described("Accounts by index (ACCOUNT_ID, NAME, CODE, STATUS, EXTERNAL_ID), filtered "
               "by where, a page at a time.")
    async def accounts(self, info: Info, index: AccountIndexInput, first: int,
                       where: AccountFilterInput | None = None,
                       after: str | None = None) -> Connection[Account]:
        """A page of accounts."""
        return await listing(request(info), "accounts", index.name.value,
                             conditions(where, ACCOUNT_FIELDS), first, after, index.sort,
                             Account.of)

    @described("Journals by index (JOURNAL_ID, NAME, CODE, STATUS), filtered by where, a "
               "page at a time.")
    async def journals(self, info: Info, index: JournalIndexInput, first: int,
                       where: JournalFilterInput | None = None,
                       after: str | None = None) -> Connection[Journal]:
        """A page of journals."""
        return await listing(request(info), "journals", index.name.value,
                             conditions(where, JOURNAL_FIELDS), first, after, index.sort,
                             Journal.of)

    @described("Tran codes (their latest versions) by index (TRAN_CODE_ID, CODE, STATUS), "
               "filtered by where, a page at a time.")
    async def tran_codes(self, info: Info, index: TranCodeIndexInput, first: int,
                         where: TranCodeFilterInput | None = None,
                         after: str | None = None) -> Connection[TranCode]:
        """A page of tran codes."""
        return await listing(request(info), "tranCodes", index.name.value,
                             conditions(where, TRAN_CODE_FIELDS), first, after, index.sort,
                             TranCode.of)

    @described("Transactions by index (TRANSACTION_ID, CORRELATION_ID, EXTERNAL_ID), "
               "filtered by where, a page at a time.")
    async def transactions(self, info: Info, index: TransactionIndexInput, first: int,
                           where: TransactionFilterInput | None = None,
                           after: str | None = None) -> Connection[Transaction]:
        """A page of transactions."""
        return await listing(request(info), "transactions", index.name.value,
                             conditions(where, TRANSACTION_FIELDS), first, after, index.sort,
                             Transaction.of)

    @described("Clients and their policies (Twisp's auth namespace).")
    def auth(self) -> AuthQuery:
        """The auth namespace."""
        return AuthQuery()

    @described("ISO 8583 configs (Twisp's iso8583 namespace).")
    def iso8583(self) -> Iso8583Query:
        """The iso8583 namespace."""
        return Iso8583Query()

    @described("ACH configurations and files (Twisp's ach namespace).")
    def ach(self) -> AchQuery:
        """The ach namespace."""
        return AchQuery()


def _index_key(index: EntryIndexInput, where: EntryFilterInput | None) -> UUID:
    field = "entryId" if index.name is EntryIndex.ENTRY_ID else "transactionId"
    value = None
    if where is not None:
        condition = where.entry_id if index.name is EntryIndex.ENTRY_ID else where.transaction_id
        value = None if condition is None else condition.eq
    if value is None:
        raise ApiError("bad_request", f"index {index.name.value} needs where: {{{field}: "
                                      "{eq: <id>}}")
    try:
        return UUID(value)
    except ValueError:
        raise ApiError("bad_request", f"where.{field}.eq: {value!r} is not a UUID") from None


@strawberry.type(description="Writes, through Kafka; each waits for the ledger's result.")
class Mutation(VelocityMutations):
    """The write side."""

    @mutation("Create a journal.")
    async def create_journal(self, info: Info, input: JournalInput) -> Journal | None:
        """The journal as written."""
        return await writes.create_journal(request(info), input)

    @mutation("Create an account.")
    async def create_account(self, info: Info, input: AccountInput) -> Account | None:
        """The account as written."""
        return await writes.create_account(request(info), input)

    @mutation("Create up to 1,000 accounts in one go: every command is sent before the "
              "first answer is awaited, and they are decided in the order given. A refused "
              "account is null, with its error at its index; the others are created.")
    async def create_accounts(self, info: Info, input: list[AccountInput]
                              ) -> list[Account | None]:
        """The accounts as written, in the order given."""
        # A RejectionError in the list is raised by graphql-core for its item alone: that
        # item is null, with the error at its index.
        return await writes.create_accounts(request(info), input)  # type: ignore[return-value]

    @mutation("Change an account: status, metadata, name, ...")
    async def update_account(self, info: Info, id: UUID, input: AccountUpdateInput
                             ) -> Account | None:
        """The account as written."""
        return await writes.update_account(request(info), id, input)

    @mutation("Create an account set, in the DEFAULT journal unless one is given; "
              "accountSetIds adds it to those sets.")
    async def create_account_set(self, info: Info, input: AccountSetInput
                                 ) -> AccountSet | None:
        """The account set as written."""
        return await writes.create_account_set(request(info), input)

    @mutation("Change an account set's name, code, description, metadata or config.")
    async def update_account_set(self, info: Info, id: UUID, input: AccountSetUpdateInput
                                 ) -> AccountSet | None:
        """The account set as written."""
        return await writes.update_account_set(request(info), id, input)

    @mutation("Add an account or a set (of the same journal) to a set; a set that would "
              "contain itself is refused. Entries posted from then on roll up into it.")
    async def add_to_account_set(self, info: Info, id: UUID, member: AccountSetMemberInput
                                 ) -> AccountSet | None:
        """The set."""
        return await writes.change_members(request(info), CatalogKind.ADD_TO_ACCOUNT_SET, id,
                                           member)

    @mutation("Remove a member from a set; its entries stop rolling up from then on.")
    async def remove_from_account_set(self, info: Info, id: UUID,
                                      member: AccountSetMemberInput) -> AccountSet | None:
        """The set."""
        return await writes.change_members(request(info),
                                           CatalogKind.REMOVE_FROM_ACCOUNT_SET, id, member)

    @mutation("Delete an account set: it is kept, LOCKED, with the balance it rolled up, "
              "and takes no new entries or members.")
    async def delete_account_set(self, info: Info, id: UUID) -> AccountSet | None:
        """The set as deleted."""
        return await writes.delete_account_set(request(info), id)

    @mutation("Create a calculation: balances grouped by dimensions (CEL over "
              "context.vars.account, .transaction and .entry), for every account and set "
              "(GLOBAL) or where attached (LOCAL).")
    async def create_calculation(self, info: Info, input: CreateCalculationInput
                                 ) -> Calculation | None:
        """The calculation as written."""
        return await create_calculation(request(info), input)

    @mutation("Delete a calculation: it is kept, LOCKED; detach a LOCAL one everywhere "
              "first.")
    async def delete_calculation(self, info: Info, id: UUID) -> Calculation | None:
        """The calculation as deleted."""
        return await delete_calculation(request(info), id)

    @mutation("Attach a LOCAL calculation to an account (in a journal) or a set.")
    async def attach_calculation(self, info: Info, input: AttachCalculationInput
                                 ) -> AttachedCalculation | None:
        """The attachment."""
        return await attach_calculation(request(info), CatalogKind.ATTACH_CALCULATION, input)

    @mutation("Detach a calculation from an account or a set.")
    async def detach_calculation(self, info: Info, input: AttachCalculationInput
                                 ) -> AttachedCalculation | None:
        """The attachment that ended."""
        return await attach_calculation(request(info), CatalogKind.DETACH_CALCULATION, input)

    @mutation("Create a tran code.")
    async def create_tran_code(self, info: Info, input: TranCodeInput) -> TranCode | None:
        """The tran code as written."""
        return await writes.create_tran_code(request(info), input)

    @mutation("Post a transaction through a tran code.")
    async def post_transaction(self, info: Info, input: TransactionInput
                               ) -> Transaction | None:
        """The posted transaction."""
        return await writes.post_transaction(request(info), input)

    @mutation("Void a posted transaction; returns the void.")
    async def void_transaction(self, info: Info, id: UUID) -> Transaction | None:
        """The void transaction."""
        return await writes.void_transaction(request(info), id)

    @described("Reads inside a mutation: they include every write made "
                                  "before this field, on every account it touched.")
    def queries(self) -> Query:
        """The Query root; its reads include the request's writes."""
        return Query()

    @described("Creating, changing and deleting clients (Twisp's auth namespace).")
    def auth(self) -> AuthMutation:
        """The auth namespace."""
        return AuthMutation()

    @described("Creating, changing and deleting ISO 8583 configs (Twisp's iso8583 "
               "namespace).")
    def iso8583(self) -> Iso8583Mutation:
        """The iso8583 namespace."""
        return Iso8583Mutation()

    @described("Card processors' transactions (Twisp's cards namespace).")
    def cards(self) -> CardMutation:
        """The cards namespace."""
        return CardMutation()

    @described("ACH configurations and files (Twisp's ach namespace).")
    def ach(self) -> AchMutation:
        """The ach namespace."""
        return AchMutation()

    @described("Workflow executions: the ACH_PUSH and ACH_PULL tasks (Twisp's workflow "
               "namespace).")
    def workflow(self) -> WorkflowMutation:
        """The workflow namespace."""
        return WorkflowMutation()


class LedgerSchema(strawberry.Schema):
    """The schema; expected errors are the client's business, so only the others are logged."""

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """The extensions, without the DirectivesExtension strawberry adds to a schema that
        declares directives: it wraps every field's resolver to apply field directives, and
        the one directive here (``@dryRun``) is on the operation, read by
        ``DryRunDirective``. With it a request cost the API about 12% more CPU."""
        return [extension for extension in super().get_extensions(sync)
                if not isinstance(extension, DirectivesExtension | DirectivesExtensionSync)]

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        """Log errors that are not ApiErrors (bugs), with their traceback."""
        for error in errors:
            original = error.original_error
            if error.path is not None and original is not None \
                    and not isinstance(original, ApiError):
                log.error("unexpected error in %s", error.path, exc_info=original)


def build_schema() -> LedgerSchema:
    """The API's schema.

    Clients send the same few documents over and over: parsing and validating each once is
    most of the CPU a request would otherwise cost, so both are cached by the document
    (DOCUMENTS_CACHED_MAX of them). ``DocumentLimits`` parses, in place of strawberry's
    ParserCache, and refuses a document over a limit before it is validated; ``YieldToLoop``
    makes each request's resolvers take turns with the other requests; ``Authorize``
    decides the caller's actions when authentication is on; ``DryRunDirective`` marks a
    ``@dryRun`` mutation.
    """
    config: Any = StrawberryConfig(scalar_map=SCALARS)
    return LedgerSchema(query=Query, mutation=Mutation, config=config, directives=[dry_run],
                        extensions=[DocumentLimits,
                                    lambda: ValidationCache(maxsize=DOCUMENTS_CACHED_MAX),
                                    Authorize, DryRunDirective, YieldToLoop])
