"""The GraphQL object types, in Twisp's shape, over the ledger's own records.

Each type wraps one ``ledger_core`` record and exposes Twisp's field names. Relations
(``Entry.account``, ``Account.balance``, ``Transaction.tranCode``, ...) are resolved from the
read model, after waiting until it is as fresh as the request needs (see ``context``).
Amounts are ``Money { units currency }`` with exact decimal units.
"""

from __future__ import annotations

import base64
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeAlias, TypeVar
from uuid import UUID

import strawberry
from strawberry.types.field import StrawberryField

import ledger_core as core
from connectors.graphql_api.computed_balances import EffectiveInput, computed_balance
from connectors.graphql_api.context import RequestContext
from connectors.graphql_api.enums import (
    AccountStatus,
    DebitOrCredit,
    Layer,
    ParamDataType,
    Status,
)
from connectors.graphql_api.errors import BAD_REQUEST, ApiError, RejectionError
from connectors.graphql_api.indexes import CursorError, decode_cursor, encode_cursor
from connectors.graphql_api.inputs import (
    AccountSetMembersFilterInput,
    BalanceFilterInput,
    BalanceHistoryFilterInput,
    EntriesFilterInput,
    FilterValue,
    MoneyFormatInput,
)
from connectors.graphql_api.money_format import MoneyFormat, MoneyFormatError, format_money
from connectors.graphql_api.scalars import (
    JSON,
    CurrencyCode,
    EntryType,
    Expression,
    ExpressionNestedMap,
    Timestamp,
)

__all__ = [
    "USD",
    "Account",
    "AccountConfig",
    "AccountSet",
    "AccountSetConfig",
    "AccountSetMember",
    "Balance",
    "BalanceAmount",
    "Connection",
    "Edge",
    "Entry",
    "EntryConnection",
    "EntryConnectionEdge",
    "Info",
    "Journal",
    "Money",
    "PageInfo",
    "ParamDefinition",
    "TranCode",
    "TranCodeEntry",
    "TranCodeTransaction",
    "Transaction",
    "account_or_none",
    "account_set_or_none",
    "connection",
    "described",
    "paged",
    "request",
]

if TYPE_CHECKING:
    from connectors.graphql_api.calculations import Calculation
    from connectors.graphql_api.velocity import ResolvedVelocityControl, VelocityBalance

Info: TypeAlias = strawberry.Info[RequestContext, None]
# Types of modules that build on this one, resolved when the schema is built.
VelocityBalanceType: TypeAlias = Annotated[
    "VelocityBalance", strawberry.lazy("connectors.graphql_api.velocity")]
ResolvedControlType: TypeAlias = Annotated[
    "ResolvedVelocityControl", strawberry.lazy("connectors.graphql_api.velocity")]
CalculationType: TypeAlias = Annotated[
    "Calculation", strawberry.lazy("connectors.graphql_api.calculations")]
_T = TypeVar("_T")
PAGE_MAX = 1000
USD = CurrencyCode("USD")


def described(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    """A field decorator with a description, typed so that mypy keeps the resolver typed."""
    def field(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.field(resolver, description=description)

    return field


def mutation(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    """A mutation decorator with a description, typed so that mypy keeps it typed."""
    def field(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.mutation(resolver, description=description)

    return field


def request(info: Info) -> RequestContext:
    """The request context of a resolver."""
    return info.context


@strawberry.type(description="An amount of one currency; units are exact decimals.")
class Money:
    """Units and currency."""

    units: Decimal
    currency: CurrencyCode

    @described("The amount written in a locale's notation (CLDR), e.g. $1,234.50.")
    def formatted(self, as_: Annotated[MoneyFormatInput | None, strawberry.argument(
            name="as")] = None) -> str:
        """The amount as ``as`` writes it (the defaults when not given)."""
        given = as_ or MoneyFormatInput()
        options = MoneyFormat(
            locale=given.locale, group_digits=given.group_digits,
            add_plus_sign=given.add_plus_sign, rounding_mode=given.rounding_mode.value,
            currency_display=given.currency_display.value, min_digits=given.min_digits,
            max_digits=given.max_digits)
        try:
            return format_money(self.units, str(self.currency), options)
        except MoneyFormatError as exc:
            raise ApiError(BAD_REQUEST, str(exc)) from None


@strawberry.type(description="Debit and credit totals of a layer, and the normal balance.")
class BalanceAmount:
    """Totals of one layer (or of several layers, for ``available``)."""

    dr_balance: Money
    cr_balance: Money
    normal_balance: Money

    @classmethod
    def of(cls, layer: core.LayerBalance, currency: str) -> BalanceAmount:
        """The totals of ``layer`` in ``currency``."""
        code = CurrencyCode(currency)
        return cls(dr_balance=Money(units=layer.dr, currency=code),
                   cr_balance=Money(units=layer.cr, currency=code),
                   normal_balance=Money(units=layer.normal_balance, currency=code))


@strawberry.type(description="System configuration of an account.")
class AccountConfig:
    """Per-account switches."""

    enable_concurrent_posting: bool


@strawberry.type(description="A ledger account.")
class Account:
    """An account of the chart, with its balances and entries."""

    model: strawberry.Private[core.Account]
    account_id: UUID
    external_id: str | None
    name: str
    code: str
    description: str
    status: AccountStatus
    normal_balance_type: DebitOrCredit
    metadata: JSON | None
    config: AccountConfig

    @classmethod
    def of(cls, model: core.Account) -> Account:
        """The GraphQL view of an account record."""
        return cls(model=model, account_id=model.account_id, external_id=model.external_id,
                   name=model.name, code=model.code, description=model.description,
                   status=AccountStatus(model.status.value),
                   normal_balance_type=DebitOrCredit(model.normal_balance_type.value),
                   metadata=JSON(model.metadata) if model.metadata is not None else None,
                   config=AccountConfig(
                       enable_concurrent_posting=model.config.enable_concurrent_posting))

    @described("The balance in a journal (default: the DEFAULT journal) and "
               "currency; null while the account has no entry there. With effective, as of "
               "an accounting date or period (the journal must enable effective balances).")
    async def balance(self, info: Info, journal_id: UUID | None = None,
                      currency: CurrencyCode = USD, effective: EffectiveInput | None = None,
                      calculation_id: UUID | None = None, dimension: JSON | None = None
                      ) -> Balance | None:
        """The account's balance in the journal and currency, or None."""
        return await balance_of(request(info), self.account_id, journal_id, currency,
                                effective, calculation_id, dimension)

    @described("Every entry on the account, in posting order; where: journalId, currency.")
    async def entries(self, info: Info, first: int, after: str | None = None,
                      where: EntriesFilterInput | None = None) -> EntryConnection:
        """A page of the account's entries."""
        return await entries_of(request(info), self.account_id, first, after, where)

    @described("The account's balances in every journal and currency; where: journalId, "
               "currency.")
    async def balances(self, info: Info, first: int, after: str | None = None,
                       where: BalanceFilterInput | None = None) -> Connection[Balance]:
        """A page of the account's balances."""
        return await balances_of(request(info), self.account_id, first, after, where)

    @described("The account sets the account is a member of (directly).")
    async def sets(self, info: Info, first: int, after: str | None = None
                   ) -> Connection[AccountSet]:
        """A page of the account's sets, by accountSetId."""
        return await sets_of(request(info), self.account_id, first, after)

    @described("What the account has spent and has left of each velocity limit attached "
               "to it, in a currency and journal (default: the attachment's).")
    async def velocity(self, info: Info, window: JSON, currency: CurrencyCode = USD,
                       velocity_limit_id: UUID | None = None, journal_id: UUID | None = None
                       ) -> list[VelocityBalanceType]:
        """The account's velocity balances."""
        return await _velocity_of(request(info), self.account_id, window, currency,
                                  velocity_limit_id, journal_id)

    @described("The velocity controls attached to the account, as its params resolve them.")
    async def controls(self, info: Info, first: int, after: str = ""
                       ) -> Connection[ResolvedControlType]:
        """A page of the account's controls."""
        return await _controls_of(request(info), self.account_id, first, after)

    @described("The calculations attached to the account in a journal (default: DEFAULT).")
    async def calculations(self, info: Info, journal_id: UUID | None = None
                           ) -> list[CalculationType]:
        """The account's attached calculations."""
        return await _calculations_of(request(info), self.account_id,
                                      journal_id or core.DEFAULT_JOURNAL_ID)


async def _controls_of(context: RequestContext, owner_id: UUID, first: int, after: str
                       ) -> Connection[ResolvedControlType]:
    # As the velocity reads: the velocity module builds on this one.
    from connectors.graphql_api.velocity import attached_controls
    return await attached_controls(context, owner_id, first, after or None)


async def _calculations_of(context: RequestContext, owner_id: UUID, journal_id: UUID
                           ) -> list[CalculationType]:
    from connectors.graphql_api.calculations import Calculation
    await context.fresh([context.services.catalog_part()])
    catalog = context.services.read_model.catalog
    return [Calculation.of(catalog.calculations[calculation_id])
            for (calculation_id, account_id, journal) in sorted(catalog.attachments)
            if account_id == owner_id and journal == journal_id]


async def _velocity_of(context: RequestContext, owner_id: UUID, window: JSON, currency: str,
                       velocity_limit_id: UUID | None, journal_id: UUID | None
                       ) -> list[VelocityBalanceType]:
    # The velocity module builds on this one's types, so it is imported when first read.
    from connectors.graphql_api.velocity import velocity_balances
    return list(await velocity_balances(context, owner_id, window, currency,
                                        velocity_limit_id, journal_id))


# Versions are listed latest first by a key that counts down from this.
_VERSION_MAX = 10**15


async def balance_versions(context: RequestContext, owner_id: UUID, journal_id: UUID,
                           currency: str) -> list[core.Balance]:
    """Every version of an account's (or set's) balance in a journal and currency, oldest
    first: the fold of its entries there, one at a time (read time, O(its entries))."""
    catalog = context.services.read_model.catalog
    account_set = catalog.account_sets.get(owner_id)
    account = catalog.accounts.get(owner_id)
    owner = account_set or account
    if owner is None:
        return []
    versions: list[core.Balance] = []
    current: core.Balance | None = None
    for entry in await _owner_entries(context, owner_id):
        if entry.journal_id != journal_id or entry.currency != currency:
            continue
        current = (core.fold_into_set(current, owner_id, entry, owner.normal_balance_type)
                   if account_set is not None
                   else core.fold_entry(current, entry, owner.normal_balance_type))
        versions.append(current)
    return versions


async def entries_of(context: RequestContext, owner_id: UUID, first: int,
                     after: str | None, where: EntriesFilterInput | None = None
                     ) -> EntryConnection:
    """A page of the entries on an account, or rolled up into a set, in the request's view;
    with ``where``, of those in a journal or currency (read through: each entry is
    decoded to be compared, so a filter costs the account's whole list)."""
    entries = await _owner_entries(context, owner_id)
    if where is not None:
        keep = _in_journal_and_currency(where)
        entries = [e for e in entries if keep(e.journal_id, e.currency)]
    return connection(entries, first, after)


def _in_journal_and_currency(where: EntriesFilterInput | BalanceFilterInput
                             ) -> Callable[[UUID, str], bool]:
    """Whether a journal and currency meet ``where``'s journalId and currency conditions."""
    journal = None if where.journal_id is None else where.journal_id.condition()
    currency = None if where.currency is None else where.currency.condition()
    return lambda journal_id, code: (journal is None or journal.matches(str(journal_id))) \
        and (currency is None or currency.matches(code))


async def _owner_entries(context: RequestContext, owner_id: UUID) -> Sequence[core.Entry]:
    """The entries on an account, or rolled up into a set, that the request reads."""
    dry_run = await context.reads()
    if dry_run is None:
        return context.services.read_model.account_entries(owner_id, await context.view())
    return dry_run.account_entries(owner_id)


async def sets_of(context: RequestContext, member_id: UUID, first: int,
                  after: str | None) -> Connection[AccountSet]:
    """The sets ``member_id`` (an account or a set) is directly in, a page at a time."""
    await context.fresh([context.services.catalog_part()])
    catalog = context.services.read_model.catalog
    sets = [catalog.account_sets[set_id] for set_id in catalog.member_of.get(member_id, ())]
    return paged([(str(s.account_set_id), AccountSet.of(s)) for s in sets], first, after)


async def balance_of(context: RequestContext, account_id: UUID, journal_id: UUID | None,
                     currency: str, effective: EffectiveInput | None = None,
                     calculation_id: UUID | None = None, dimension: JSON | None = None
                     ) -> Balance | None:
    """The balance of an account (or set) from the read model, once it is fresh enough;
    with ``effective``, as of an accounting date or period, and with ``calculation_id``
    under a calculation (``computed_balances``)."""
    journal_id = journal_id or core.DEFAULT_JOURNAL_ID
    if effective is not None or calculation_id is not None or dimension is not None:
        return await _computed_balance_of(context, account_id, journal_id, currency,
                                          effective, calculation_id, dimension)
    dry_run = await context.reads()
    model = (context.services.read_model.balance(account_id, journal_id, currency,
                                                 await context.view())
             if dry_run is None else dry_run.balance(account_id, journal_id, currency))
    return None if model is None else Balance.of(model)


async def _computed_balance_of(context: RequestContext, owner_id: UUID, journal_id: UUID,
                               currency: str, effective: EffectiveInput | None,
                               calculation_id: UUID | None, dimension: JSON | None
                               ) -> Balance | None:
    await context.fresh([context.services.catalog_part()])
    read_model = context.services.read_model
    catalog = read_model.catalog
    journal = read_model.journal(journal_id)
    owner = read_model.account(owner_id) or read_model.account_set(owner_id)
    if journal is None or owner is None:
        return None
    calculation = None
    if calculation_id is not None:
        calculation = catalog.calculations.get(calculation_id)
        if calculation is None:
            raise RejectionError(core.RejectionCode.CALCULATION_NOT_FOUND.value,
                                  f"calculation {calculation_id} does not exist",
                                  "calculationId", str(calculation_id))
        if calculation.scope is core.CalculationScope.LOCAL and \
                (calculation_id, owner_id, journal_id) not in catalog.attachments:
            raise ApiError(BAD_REQUEST, f"calculation {calculation.code!r} is LOCAL and not "
                                        f"attached to {owner_id} in journal {journal_id}")
    if dimension is not None and not isinstance(dimension, dict):
        raise ApiError(BAD_REQUEST, "dimension must be an object of dimension values")
    dry_run = await context.reads()
    view = await context.view()

    def transaction_of(transaction_id: UUID) -> core.Transaction:
        posted = dry_run.posted(transaction_id) if dry_run is not None else None
        if posted is None:
            stored = read_model.transaction(transaction_id, view)
            assert stored is not None, "an entry the view sees has its transaction"
            posted = stored.posted
        return posted.transaction

    model = computed_balance(owner_id, await _owner_entries(context, owner_id), journal,
                             currency, owner.normal_balance_type, effective=effective,
                             calculation=calculation, dimension=dimension,
                             transaction_of=transaction_of, account_of=read_model.account)
    return None if model is None else Balance.of(model)


async def balances_of(context: RequestContext, owner_id: UUID, first: int,
                      after: str | None, where: BalanceFilterInput | None = None
                      ) -> Connection[Balance]:
    """A page of an account's (or set's) balances in every journal and currency, by journal
    then currency; ``where`` may narrow them to a journal or a currency."""
    dry_run = await context.reads()
    models = (context.services.read_model.balances_of(owner_id, await context.view())
              if dry_run is None else dry_run.balances_of(owner_id))
    if where is not None:
        keep = _in_journal_and_currency(where)
        models = [b for b in models if keep(b.journal_id, b.currency)]
    return paged([(f"{b.journal_id}:{b.currency}", Balance.of(b)) for b in models], first,
                 after)


async def account_or_none(context: RequestContext, account_id: UUID) -> Account | None:
    """The account from the read model's catalog, once it is fresh enough, or None."""
    await context.fresh([context.services.catalog_part()])
    model = context.services.read_model.account(account_id)
    return None if model is None else Account.of(model)


async def journal_or_none(context: RequestContext, journal_id: UUID) -> Journal | None:
    """The journal from the read model's catalog, once it is fresh enough, or None."""
    await context.fresh([context.services.catalog_part()])
    model = context.services.read_model.journal(journal_id)
    return None if model is None else Journal.of(model)


def _required(value: _T | None, what: str) -> _T:
    # A posted record names only entities that existed when it was decided; a miss means
    # the read model lost part of the catalog, which is a bug to report, not a null.
    if value is None:
        raise ApiError("internal_error", f"{what} is missing from the read model")
    return value


@strawberry.type(description="System configuration of an account set.")
class AccountSetConfig:
    """Per-set switches."""

    enable_concurrent_posting: bool


@strawberry.type(description="A set of accounts and sets in one journal; its balances roll "
                             "up every entry of that journal posted to its members, and to "
                             "the members of its member sets, since they joined.")
class AccountSet:
    """An account set, with its balances, entries, members and parent sets."""

    model: strawberry.Private[core.AccountSet]
    account_set_id: UUID
    journal_id: UUID
    name: str
    code: str
    description: str
    status: Status
    normal_balance_type: DebitOrCredit
    metadata: JSON | None
    config: AccountSetConfig

    @classmethod
    def of(cls, model: core.AccountSet) -> AccountSet:
        """The GraphQL view of an account set record."""
        return cls(model=model, account_set_id=model.account_set_id,
                   journal_id=model.journal_id, name=model.name, code=model.code,
                   description=model.description, status=Status(model.status.value),
                   normal_balance_type=DebitOrCredit(model.normal_balance_type.value),
                   metadata=JSON(model.metadata) if model.metadata is not None else None,
                   config=AccountSetConfig(
                       enable_concurrent_posting=model.config.enable_concurrent_posting))

    @described("The set's balance in its journal and a currency; null while no entry has "
               "rolled up into it there. With effective, as of an accounting date or period.")
    async def balance(self, info: Info, currency: CurrencyCode = USD,
                      effective: EffectiveInput | None = None,
                      calculation_id: UUID | None = None, dimension: JSON | None = None
                      ) -> Balance | None:
        """The set's roll-up in ``currency``, or None."""
        return await balance_of(request(info), self.account_set_id, self.journal_id, currency,
                                effective, calculation_id, dimension)

    @described("What the set has spent and has left of each velocity limit attached to it, "
               "in a currency.")
    async def velocity(self, info: Info, window: JSON, currency: CurrencyCode = USD,
                       velocity_limit_id: UUID | None = None) -> list[VelocityBalanceType]:
        """The set's velocity balances."""
        return await _velocity_of(request(info), self.account_set_id, window, currency,
                                  velocity_limit_id, self.journal_id)

    @described("The velocity controls attached to the set, as its params resolve them.")
    async def controls(self, info: Info, first: int, after: str = ""
                       ) -> Connection[ResolvedControlType]:
        """A page of the set's controls."""
        return await _controls_of(request(info), self.account_set_id, first, after)

    @described("The calculations attached to the set.")
    async def calculations(self, info: Info) -> list[CalculationType]:
        """The set's attached calculations."""
        return await _calculations_of(request(info), self.account_set_id, self.journal_id)

    @described("The set's balances in every currency; where: currency.")
    async def balances(self, info: Info, first: int, after: str | None = None,
                       where: BalanceFilterInput | None = None) -> Connection[Balance]:
        """A page of the set's balances."""
        return await balances_of(request(info), self.account_set_id, first, after, where)

    @described("Every entry that rolled up into the set (from its accounts and the "
               "accounts of its sets), in posting order; where: currency.")
    async def entries(self, info: Info, first: int, after: str | None = None,
                      where: EntriesFilterInput | None = None) -> EntryConnection:
        """A page of the set's entries."""
        return await entries_of(request(info), self.account_set_id, first, after, where)

    @described("The set's members, accounts and sets, by memberId; where: memberId "
               "(accountSetId is this set's).")
    async def members(self, info: Info, first: int, after: str | None = None,
                      where: AccountSetMembersFilterInput | None = None
                      ) -> Connection[AccountSetMember]:
        """A page of the set's members."""
        context = request(info)
        await context.fresh([context.services.catalog_part()])
        catalog = context.services.read_model.catalog
        conditions = {} if where is None else {
            name: value.condition() for name, value in (
                ("accountSetId", where.account_set_id), ("memberId", where.member_id))
            if value is not None}
        if "accountSetId" in conditions and \
                not conditions["accountSetId"].matches(str(self.account_set_id)):
            return paged([], first, after)
        nodes: list[tuple[str, Account | AccountSet]] = []
        for member in catalog.set_members.get(self.account_set_id, {}).values():
            if "memberId" in conditions and \
                    not conditions["memberId"].matches(str(member.member_id)):
                continue
            if member.member_type is core.MemberType.ACCOUNT:
                account = catalog.account(member.member_id)
                if account is not None:
                    nodes.append((str(member.member_id), Account.of(account)))
            else:
                inner = catalog.account_set(member.member_id)
                if inner is not None:
                    nodes.append((str(member.member_id), AccountSet.of(inner)))
        return paged(nodes, first, after)

    @described("The account sets this set is a member of (directly).")
    async def sets(self, info: Info, first: int, after: str | None = None
                   ) -> Connection[AccountSet]:
        """A page of the set's parent sets, by accountSetId."""
        return await sets_of(request(info), self.account_set_id, first, after)


AccountSetMember = Annotated[Account | AccountSet, strawberry.union(
    "AccountSetMember", description="A member of an account set: an Account or an AccountSet.")]


async def account_set_or_none(context: RequestContext, account_set_id: UUID
                              ) -> AccountSet | None:
    """The account set from the read model's catalog, once it is fresh enough, or None."""
    await context.fresh([context.services.catalog_part()])
    model = context.services.read_model.account_set(account_set_id)
    return None if model is None else AccountSet.of(model)


@strawberry.type(description="The balance of one account in one journal and currency.")
class Balance:
    """Every layer of a balance, and ``available(layer)``."""

    model: strawberry.Private[core.Balance]
    account_id: UUID
    journal_id: UUID
    currency: CurrencyCode
    settled: BalanceAmount
    pending: BalanceAmount
    encumbrance: BalanceAmount
    version: int
    entry_id: UUID | None
    created: Timestamp | None
    modified: Timestamp | None

    @classmethod
    def of(cls, model: core.Balance) -> Balance:
        """The GraphQL view of a balance record."""
        currency = model.currency
        return cls(model=model, account_id=model.account_id, journal_id=model.journal_id,
                   currency=CurrencyCode(currency),
                   settled=BalanceAmount.of(model.settled, currency),
                   pending=BalanceAmount.of(model.pending, currency),
                   encumbrance=BalanceAmount.of(model.encumbrance, currency),
                   version=model.version, entry_id=model.entry_id,
                   created=None if model.created is None else Timestamp(model.created),
                   modified=None if model.modified is None else Timestamp(model.modified))

    @described("The layer summed with every layer above it: SETTLED, "
                                  "then SETTLED+PENDING, then all three.")
    def available(self, layer: Layer) -> BalanceAmount:
        """The cumulative totals up to ``layer``."""
        return BalanceAmount.of(self.model.available(core.Layer(layer.value)), self.model.currency)

    @described("The account of the balance (null for an account set's balance: see "
               "Query.accountSet).")
    async def account(self, info: Info) -> Account | None:
        """The balance's account."""
        context = request(info)
        found = await account_or_none(context, self.account_id)
        if found is None and context.services.read_model.account_set(self.account_id):
            return None
        return _required(found, f"account {self.account_id}")

    @described("The entry the balance last folded.")
    async def entry(self, info: Info) -> Entry | None:
        """The most recent entry of the balance."""
        return None if self.entry_id is None else await entry_or_none(request(info),
                                                                      self.entry_id)

    @described("The entries the balance is the fold of, in posting order (for an account "
               "set's balance, the entries that rolled up into it).")
    async def entries(self, info: Info, first: int, after: str | None = None
                      ) -> EntryConnection:
        """A page of the balance's entries: its owner's, in its journal and currency."""
        where = EntriesFilterInput(journal_id=FilterValue(eq=str(self.journal_id)),
                                   currency=FilterValue(eq=str(self.currency)))
        return await entries_of(request(info), self.account_id, first, after, where)

    @described("Every version of the balance, the latest first: one per entry it folded. "
               "where: modified and committed (both the instant the entry was posted), "
               "compared as timestamps.")
    async def history(self, info: Info, first: int, after: str | None = None,
                      where: BalanceHistoryFilterInput | None = None) -> Connection[Balance]:
        """A page of the balance's versions."""
        versions = await balance_versions(request(info), self.account_id, self.journal_id,
                                          str(self.currency))
        keep = (lambda _modified: True) if where is None else where.matcher()
        return paged([(f"{_VERSION_MAX - v.version:016d}", Balance.of(v)) for v in versions
                      if v.modified is not None and keep(v.modified)], first, after)

    @described("The journal of the balance.")
    async def journal(self, info: Info) -> Journal:
        """The balance's journal."""
        found = await journal_or_none(request(info), self.journal_id)
        return _required(found, f"journal {self.journal_id}")


@strawberry.type(description="A book of transactions.")
class Journal:
    """A journal."""

    journal_id: UUID
    name: str
    description: str
    status: Status
    code: str | None
    config: JournalConfig

    @classmethod
    def of(cls, model: core.Journal) -> Journal:
        """The GraphQL view of a journal record."""
        return cls(journal_id=model.journal_id, name=model.name,
                   description=model.description, status=Status(model.status.value),
                   code=model.code, config=JournalConfig(
                       enable_effective_balances=model.config.enable_effective_balances))


@strawberry.type(description="System configuration of a journal.")
class JournalConfig:
    """Per-journal switches."""

    enable_effective_balances: bool


@strawberry.type(description="One side of a transaction on one account.")
class Entry:
    """An entry, with its account, journal and transaction."""

    model: strawberry.Private[core.Entry]
    entry_id: UUID
    transaction_id: UUID
    account_id: UUID
    journal_id: UUID
    entry_type: EntryType
    layer: Layer
    units: Decimal
    currency: CurrencyCode
    amount: Money
    direction: DebitOrCredit
    sequence: int
    description: str | None
    metadata: JSON | None
    effective: date
    created: Timestamp
    parent_account_ids: list[UUID] = strawberry.field(description=(
        "The account sets the entry rolled up into, as membership stood when it was posted."))

    @classmethod
    def of(cls, model: core.Entry) -> Entry:
        """The GraphQL view of an entry record."""
        currency = CurrencyCode(model.currency)
        return cls(model=model, entry_id=model.entry_id, transaction_id=model.transaction_id,
                   account_id=model.account_id, journal_id=model.journal_id,
                   entry_type=EntryType(model.entry_type), layer=Layer(model.layer.value),
                   units=model.units, currency=currency,
                   amount=Money(units=model.units, currency=currency),
                   direction=DebitOrCredit(model.direction.value), sequence=model.sequence,
                   description=model.description,
                   metadata=JSON(model.metadata) if model.metadata is not None else None,
                   effective=model.effective, created=Timestamp(model.created),
                   parent_account_ids=list(model.parent_account_ids))

    @described("The account debited or credited.")
    async def account(self, info: Info) -> Account:
        """The entry's account."""
        found = await account_or_none(request(info), self.account_id)
        return _required(found, f"account {self.account_id}")

    @described("The journal of the entry.")
    async def journal(self, info: Info) -> Journal:
        """The entry's journal."""
        found = await journal_or_none(request(info), self.journal_id)
        return _required(found, f"journal {self.journal_id}")

    @described("The transaction that wrote the entry.")
    async def transaction(self, info: Info) -> Transaction:
        """The entry's transaction."""
        found = await transaction_or_none(request(info), self.transaction_id)
        return _required(found, f"transaction {self.transaction_id}")

    @described("The balance of the entry's account, in its journal and currency, as the "
               "entry left it (the version it produced).")
    async def balance(self, info: Info) -> Balance | None:
        """The balance version the entry produced."""
        model = self.model
        versions = await balance_versions(request(info), model.account_id, model.journal_id,
                                          model.currency)
        return next((Balance.of(v) for v in versions if v.entry_id == model.entry_id), None)


@strawberry.type(description="Pagination state of a connection.")
class PageInfo:
    """Where a page sits in its list."""

    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None


Node = TypeVar("Node")


@strawberry.type(description="One record of a page and its cursor.")
class Edge(Generic[Node]):
    """A node with the cursor that lists what follows it."""

    cursor: str
    node: Node


@strawberry.type(description="A page of a list: nodes, edges with cursors, and page info.")
class Connection(Generic[Node]):
    """One page."""

    nodes: list[Node]
    edges: list[Edge[Node]]
    page_info: PageInfo


def paged(records: Sequence[tuple[str, Node]], first: int, after: str | None
          ) -> Connection[Node]:
    """The page after ``after`` of a short list held in memory, in the order of the ids
    each record is given with (an account's sets, a set's members)."""
    if not 0 <= first <= PAGE_MAX:
        raise ApiError(BAD_REQUEST, f"first must be between 0 and {PAGE_MAX}, got {first}")
    ordered = sorted(records, key=itemgetter(0))
    start = 0
    if after is not None:
        try:
            _, last = decode_cursor(after)
        except CursorError as exc:
            raise ApiError(BAD_REQUEST, str(exc)) from None
        start = bisect_right(ordered, last, key=itemgetter(0))
    page = ordered[start:start + first]
    edges = [Edge(cursor=encode_cursor((record_id, record_id)), node=node)
             for record_id, node in page]
    return Connection(nodes=[edge.node for edge in edges], edges=edges, page_info=PageInfo(
        has_previous_page=start > 0, has_next_page=start + len(page) < len(ordered),
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None))


@strawberry.type(description="An entry and its cursor.")
class EntryConnectionEdge:
    """One entry of a page."""

    cursor: str
    node: Entry


@strawberry.type(description="A page of entries.")
class EntryConnection:
    """A page of entries: nodes, edges with cursors, and page info."""

    nodes: list[Entry]
    edges: list[EntryConnectionEdge]
    page_info: PageInfo


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"entry:{index}".encode()).decode()


def _position(cursor: str) -> int:
    try:
        kind, _, index = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "entry" and index.isdigit():
            return int(index)
    except ValueError:
        pass
    raise ApiError("bad_request", f"after: {cursor!r} is not a cursor this API returned")


def connection(entries: Sequence[core.Entry], first: int | None,
               after: str | None) -> EntryConnection:
    """The page of ``entries`` after the cursor ``after``, at most ``first`` long."""
    size = PAGE_MAX if first is None else first
    if not 0 <= size <= PAGE_MAX:
        raise ApiError("bad_request", f"first must be between 0 and {PAGE_MAX}, got {size}")
    start = 0 if after is None else _position(after) + 1
    page = entries[start:start + size]
    edges = [EntryConnectionEdge(cursor=_cursor(start + i), node=Entry.of(entry))
             for i, entry in enumerate(page)]
    return EntryConnection(
        nodes=[edge.node for edge in edges], edges=edges,
        page_info=PageInfo(has_previous_page=start > 0,
                           has_next_page=start + len(page) < len(entries),
                           start_cursor=edges[0].cursor if edges else None,
                           end_cursor=edges[-1].cursor if edges else None))


@strawberry.type(description="An exception recorded with a posting: a velocity control's "
                             "WARN breach.")
class TransactionException:
    """One exception: its type, message and detail."""

    type: str
    message: str
    detail: JSON

    @classmethod
    def of_warning(cls, rule: str, message: str, detail: dict[str, str] | None
                   ) -> TransactionException:
        """The exception of a WARN breach: its detail (limit, account, layer, balances)
        with the ledger's rule code."""
        return cls(type="VELOCITY_CONTROL", message=message,
                   detail=JSON({**(detail or {}), "rule": rule}))


@strawberry.type(description="A posted transaction.")
class Transaction:
    """A transaction and its entries."""

    model: strawberry.Private[core.PostedTransaction]
    transaction_id: UUID
    tran_code_id: UUID
    tran_code_version: int
    journal_id: UUID
    correlation_id: str
    external_id: str | None
    effective: date
    description: str | None
    metadata: JSON | None
    voided_by: UUID | None
    void_of: UUID | None
    created: Timestamp
    exceptions: list[TransactionException] = strawberry.field(
        default_factory=list, description="The WARN breaches of velocity controls the "
        "posting was answered with (on postTransaction's answer and its dry run).")

    @classmethod
    def of(cls, model: core.PostedTransaction,
           exceptions: list[TransactionException] | None = None) -> Transaction:
        """The GraphQL view of a posted transaction."""
        tx = model.transaction
        return cls(model=model, transaction_id=tx.transaction_id, tran_code_id=tx.tran_code_id,
                   tran_code_version=tx.tran_code_version, journal_id=tx.journal_id,
                   correlation_id=tx.correlation_id, external_id=tx.external_id,
                   effective=tx.effective, description=tx.description,
                   metadata=JSON(tx.metadata) if tx.metadata is not None else None,
                   voided_by=tx.voided_by, void_of=tx.void_of, created=Timestamp(tx.created),
                   exceptions=exceptions or [])

    @described("The entries the transaction wrote, in sequence order.")
    def entries(self, first: int, after: str | None = None) -> EntryConnection:
        """A page of the transaction's entries."""
        return connection(self.model.entries, first, after)

    @described("The tran code version the transaction was posted with.")
    async def tran_code(self, info: Info) -> TranCode:
        """The transaction's tran code, at the version it used."""
        context = request(info)
        await context.fresh([context.services.catalog_part()])
        tx = self.model.transaction
        model = context.services.read_model.tran_code(tx.tran_code, tx.tran_code_version)
        return TranCode.of(_required(model, f"tran code {tx.tran_code} v{tx.tran_code_version}"))

    @described("The journal of the transaction.")
    async def journal(self, info: Info) -> Journal:
        """The transaction's journal."""
        found = await journal_or_none(request(info), self.journal_id)
        return _required(found, f"journal {self.journal_id}")


async def transaction_or_none(context: RequestContext, transaction_id: UUID) -> Transaction | None:
    """The transaction's latest record, once the read model is fresh enough, or None."""
    dry_run = await context.reads()
    if dry_run is not None:
        posted = dry_run.posted(transaction_id)
        return None if posted is None else Transaction.of(posted)
    stored = context.services.read_model.transaction(transaction_id, await context.view())
    return None if stored is None else Transaction.of(stored.posted)


async def entry_or_none(context: RequestContext, entry_id: UUID) -> Entry | None:
    """The entry, once the read model is fresh enough (or from the dry run), or None."""
    dry_run = await context.reads()
    model = (context.services.read_model.entry(entry_id, await context.view())
             if dry_run is None else dry_run.entry(entry_id))
    return None if model is None else Entry.of(model)


@strawberry.type(description="A typed input of a tran code.")
class ParamDefinition:
    """A tran code parameter; with no default it is required."""

    name: str
    type: ParamDataType
    default: Expression | None
    description: str | None

    @classmethod
    def of(cls, model: core.ParamDefinition) -> ParamDefinition:
        """The GraphQL view of a param definition."""
        return cls(name=model.name, type=ParamDataType(model.type.value),
                   default=_cel(model.default), description=model.description)


@strawberry.type(description="CEL for the transaction a tran code writes.")
class TranCodeTransaction:
    """The transaction template."""

    effective: Expression | None
    journal_id: Expression | None
    correlation_id: Expression | None
    external_id: Expression | None
    description: Expression | None
    metadata: Expression | None


@strawberry.type(description="CEL for one entry a tran code writes.")
class TranCodeEntry:
    """An entry template."""

    entry_type: Expression | None
    account_id: Expression
    layer: Expression | None
    direction: Expression
    units: Expression
    currency: Expression
    description: Expression | None
    metadata: Expression | None
    condition: Expression | None


def _cel(source: str | None) -> Expression | None:
    return None if source is None else Expression(source)


@strawberry.type(description="A versioned transaction template.")
class TranCode:
    """A tran code version."""

    tran_code_id: UUID
    code: str
    version: int
    description: str
    params: list[ParamDefinition]
    transaction: TranCodeTransaction
    entries: list[TranCodeEntry]
    status: Status
    metadata: JSON | None
    vars: ExpressionNestedMap | None

    @classmethod
    def of(cls, model: core.TranCode) -> TranCode:
        """The GraphQL view of a tran code version."""
        tx = model.transaction
        return cls(
            tran_code_id=model.tran_code_id, code=model.code, version=model.version,
            description=model.description,
            params=[ParamDefinition.of(p) for p in model.params],
            transaction=TranCodeTransaction(
                effective=_cel(tx.effective), journal_id=_cel(tx.journal_id),
                correlation_id=_cel(tx.correlation_id), external_id=_cel(tx.external_id),
                description=_cel(tx.description), metadata=_cel(tx.metadata)),
            entries=[TranCodeEntry(
                entry_type=_cel(e.entry_type), account_id=Expression(e.account_id),
                layer=_cel(e.layer), direction=Expression(e.direction),
                units=Expression(e.units), currency=Expression(e.currency),
                description=_cel(e.description), metadata=_cel(e.metadata),
                condition=_cel(e.condition)) for e in model.entries],
            status=Status(model.status.value),
            metadata=JSON(model.metadata) if model.metadata is not None else None,
            vars=ExpressionNestedMap(dict(model.vars)) if model.vars else None)
