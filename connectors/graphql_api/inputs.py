"""The GraphQL input types, in Twisp's shape, and the catalog command bodies they become.

A body is the Twisp-shaped document the catalog desk validates (camelCase keys, CEL
strings unchanged); fields the client left out are left out of the body, so the ledger's
own defaults apply.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from connectors.graphql_api.enums import (
    AccountIndex,
    AccountSetIndex,
    AccountSetMemberType,
    BalanceIndex,
    CurrencyDisplay,
    DebitOrCredit,
    EntryIndex,
    JournalIndex,
    MoneyRoundingMode,
    ParamDataType,
    SortOrder,
    Status,
    TranCodeIndex,
    TransactionIndex,
    VelocityEnforcementAction,
)
from connectors.graphql_api.errors import BAD_REQUEST, ApiError
from connectors.graphql_api.indexes import Condition
from connectors.graphql_api.scalars import JSON, Expression, ExpressionNestedMap

__all__ = [
    "AccountConfigInput",
    "AccountFilterInput",
    "AccountIndexInput",
    "AccountInput",
    "AccountSetFilterInput",
    "AccountSetIndexInput",
    "AccountSetInput",
    "AccountSetMemberInput",
    "AccountSetMembersFilterInput",
    "AccountSetUpdateInput",
    "AccountUpdateInput",
    "BalanceFilterInput",
    "BalanceIndexInput",
    "EntriesFilterInput",
    "EntryFilterInput",
    "EntryIndexInput",
    "FilterBetween",
    "FilterValue",
    "JournalConfigInput",
    "JournalFilterInput",
    "JournalIndexInput",
    "JournalInput",
    "MoneyFormatInput",
    "ParamDefinitionInput",
    "TranCodeEntryInput",
    "TranCodeFilterInput",
    "TranCodeIndexInput",
    "TranCodeInput",
    "TranCodeTransactionInput",
    "TransactionFilterInput",
    "TransactionIndexInput",
    "TransactionInput",
    "TransactionPropertiesInput",
    "VelocityEnforcementInput",
    "body_of",
]


def body_of(**fields: Any) -> dict[str, Any]:
    """A body of the given camelCase fields, without the ones left out (None)."""
    return {name: value for name, value in fields.items() if value is not None}


def _value(member: Any) -> Any:
    return None if member is None else member.value


@strawberry.input(description="Fields of a new journal.")
class JournalInput:
    """A new journal."""

    journal_id: UUID
    name: str
    description: str | None = None
    status: Status = Status.ACTIVE
    code: str | None = None
    config: JournalConfigInput | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_JOURNAL body."""
        return body_of(journalId=str(self.journal_id), name=self.name,
                       description=self.description, status=self.status.value, code=self.code,
                       config=None if self.config is None else body_of(
                           enableEffectiveBalances=self.config.enable_effective_balances))


@strawberry.input(description="System configuration of a new journal.")
class JournalConfigInput:
    """Per-journal switches, set when the journal is created."""

    enable_effective_balances: bool | None = None


@strawberry.input(description="System configuration of an account.")
class AccountConfigInput:
    """Per-account switches; ``upsert`` (on a create only) answers with the existing account
    when the id is taken, instead of refusing the create."""

    enable_concurrent_posting: bool | None = None
    upsert: bool | None = None

    def body(self) -> dict[str, Any]:
        """The config part of an account body."""
        return body_of(enableConcurrentPosting=self.enable_concurrent_posting)


@strawberry.input(description="Fields of a new account.")
class AccountInput:
    """A new account; credit-normal and ACTIVE unless told otherwise."""

    account_id: UUID
    code: str
    name: str
    external_id: str | None = None
    normal_balance_type: DebitOrCredit = DebitOrCredit.CREDIT
    description: str | None = None
    status: Status = Status.ACTIVE
    metadata: JSON | None = None
    config: AccountConfigInput | None = None
    account_set_ids: list[UUID] | None = strawberry.field(default=None, description=(
        "Sets the account joins once it is created."))

    def body(self) -> dict[str, Any]:
        """The CREATE_ACCOUNT body."""
        return body_of(accountId=str(self.account_id), code=self.code, name=self.name,
                     externalId=self.external_id,
                     normalBalanceType=self.normal_balance_type.value,
                     description=self.description, status=self.status.value,
                     metadata=self.metadata,
                     config=None if self.config is None else self.config.body() or None,
                     upsert=True if self.config is not None and self.config.upsert else None)


@strawberry.input(description="Fields of a new account set.")
class AccountSetInput:
    """A new account set: in the DEFAULT journal and credit-normal unless told otherwise;
    a code is generated when none is given."""

    account_set_id: UUID
    name: str
    journal_id: UUID | None = None
    code: str | None = None
    description: str | None = None
    normal_balance_type: DebitOrCredit = DebitOrCredit.CREDIT
    metadata: JSON | None = None
    config: AccountConfigInput | None = None
    account_set_ids: list[UUID] | None = strawberry.field(default=None, description=(
        "Sets this set joins once it is created (they must be in its journal)."))

    def body(self) -> dict[str, Any]:
        """The CREATE_ACCOUNT_SET body."""
        return body_of(accountSetId=str(self.account_set_id), name=self.name,
                       journalId=None if self.journal_id is None else str(self.journal_id),
                       code=self.code, description=self.description,
                       normalBalanceType=self.normal_balance_type.value,
                       metadata=self.metadata,
                       config=None if self.config is None else self.config.body())


@strawberry.input(description="Account set fields to change; the others keep their values.")
class AccountSetUpdateInput:
    """Changes to an account set."""

    name: str | None = None
    code: str | None = None
    description: str | None = None
    normal_balance_type: DebitOrCredit | None = None
    metadata: JSON | None = None
    config: AccountConfigInput | None = None

    def body(self, account_set_id: UUID) -> dict[str, Any]:
        """The UPDATE_ACCOUNT_SET body."""
        return body_of(accountSetId=str(account_set_id), name=self.name, code=self.code,
                       description=self.description,
                       normalBalanceType=_value(self.normal_balance_type),
                       metadata=self.metadata,
                       config=None if self.config is None else self.config.body())


@strawberry.input(description="An account or account set, as a member of a set.")
class AccountSetMemberInput:
    """A member to add or remove; an account unless memberType says otherwise."""

    member_id: UUID
    member_type: AccountSetMemberType | None = None

    def body(self, account_set_id: UUID) -> dict[str, Any]:
        """The ADD_TO_ACCOUNT_SET or REMOVE_FROM_ACCOUNT_SET body."""
        member_type = self.member_type or AccountSetMemberType.ACCOUNT
        return {"accountSetId": str(account_set_id), "memberId": str(self.member_id),
                "memberType": member_type.value}


@strawberry.input(description="Conditions on the entries of an account or an account set.")
class EntriesFilterInput:
    """Filters of Account.entries (journalId, currency) and AccountSet.entries (currency)."""

    journal_id: FilterValue | None = None
    currency: FilterValue | None = None


@strawberry.input(description="Conditions on the versions of a balance, as timestamps.")
class BalanceHistoryFilterInput:
    """Filters of Balance.history: modified and committed, both the instant a version's entry
    was posted (the ledger commits a posting as it decides it)."""

    modified: FilterValue | None = None
    committed: FilterValue | None = None

    def matcher(self) -> Callable[[datetime], bool]:
        """Whether a version's timestamp meets every condition given; a bound that is not
        an RFC 3339 timestamp is ``bad_request``."""
        checks = [_timestamp_check(value) for value in (self.modified, self.committed)
                  if value is not None]
        return lambda at: all(check(at) for check in checks)


def _timestamp_check(value: FilterValue) -> Callable[[datetime], bool]:
    def at(text: str | None) -> datetime | None:
        if text is None:
            return None
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(BAD_REQUEST, f"{text!r} is not an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise ApiError(BAD_REQUEST, f"{text!r} has no time zone")
        return parsed
    if value.like is not None:
        raise ApiError(BAD_REQUEST, "like does not apply to timestamps")
    eq, lt, lte, gt, gte = (at(v) for v in (value.eq, value.lt, value.lte, value.gt,
                                              value.gte))
    begin, end = (None, None) if value.between is None else (
        at(value.between.begin), at(value.between.end))
    return lambda t: ((eq is None or t == eq) and (lt is None or t < lt)
                      and (lte is None or t <= lte) and (gt is None or t > gt)
                      and (gte is None or t >= gte) and (begin is None or t >= begin)
                      and (end is None or t <= end))


@strawberry.input(description="Conditions on balances' fields.")
class BalanceFilterInput:
    """Filters of the balances lists: accountId (Query.balances needs its eq), journalId,
    currency."""

    account_id: FilterValue | None = None
    journal_id: FilterValue | None = None
    currency: FilterValue | None = None


@strawberry.input(description="The index to list balances by.")
class BalanceIndexInput:
    """A balance index: ACCOUNT_ID, the balances of one account or set."""

    name: BalanceIndex


@strawberry.input(description="Conditions on the members of an account set.")
class AccountSetMembersFilterInput:
    """Filters of AccountSet.members."""

    account_set_id: FilterValue | None = None
    member_id: FilterValue | None = None


@strawberry.input(description="The index to list account sets by, and its order.")
class AccountSetIndexInput:
    """An account set index."""

    name: AccountSetIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on account sets' fields.")
class AccountSetFilterInput:
    """Filters of an accountSets query."""

    account_set_id: FilterValue | None = None
    name: FilterValue | None = None
    code: FilterValue | None = None


@strawberry.input(description="Account fields to change; the others keep their values.")
class AccountUpdateInput:
    """Changes to an account."""

    external_id: str | None = None
    code: str | None = None
    name: str | None = None
    normal_balance_type: DebitOrCredit | None = None
    description: str | None = None
    status: Status | None = None
    metadata: JSON | None = None
    config: AccountConfigInput | None = None

    def body(self, account_id: UUID) -> dict[str, Any]:
        """The UPDATE_ACCOUNT body."""
        return body_of(accountId=str(account_id), externalId=self.external_id, code=self.code,
                     name=self.name, normalBalanceType=_value(self.normal_balance_type),
                     description=self.description, status=_value(self.status),
                     metadata=self.metadata,
                     config=None if self.config is None else self.config.body())


@strawberry.input(description="A typed input of a tran code; with no default it is required.")
class ParamDefinitionInput:
    """A tran code parameter."""

    name: str
    type: ParamDataType = ParamDataType.STRING
    default: Expression | None = None
    description: str | None = None

    def body(self) -> dict[str, Any]:
        """The param part of a tran code body."""
        return body_of(name=self.name, type=self.type.value, default=self.default,
                     description=self.description)


@strawberry.input(description="CEL for the transaction a tran code writes.")
class TranCodeTransactionInput:
    """The transaction template; omitted fields take the ledger's defaults."""

    effective: Expression | None = None
    journal_id: Expression | None = None
    correlation_id: Expression | None = None
    external_id: Expression | None = None
    description: Expression | None = None
    metadata: Expression | None = None

    def body(self) -> dict[str, Any]:
        """The transaction part of a tran code body."""
        return body_of(effective=self.effective, journalId=self.journal_id,
                     correlationId=self.correlation_id, externalId=self.external_id,
                     description=self.description, metadata=self.metadata)


@strawberry.input(description="CEL for one entry a tran code writes.")
class TranCodeEntryInput:
    """An entry template; ``condition`` false skips the entry."""

    account_id: Expression
    units: Expression
    currency: Expression
    direction: Expression
    entry_type: Expression | None = None
    layer: Expression | None = None
    description: Expression | None = None
    metadata: Expression | None = None
    condition: Expression | None = None

    def body(self) -> dict[str, Any]:
        """The entry part of a tran code body."""
        return body_of(accountId=self.account_id, units=self.units, currency=self.currency,
                     direction=self.direction, entryType=self.entry_type, layer=self.layer,
                     description=self.description, metadata=self.metadata,
                     condition=self.condition)


@strawberry.input(description="Fields of a new tran code.")
class TranCodeInput:
    """A new tran code (its version 1)."""

    tran_code_id: UUID
    code: str
    transaction: TranCodeTransactionInput
    entries: list[TranCodeEntryInput]
    description: str | None = None
    params: list[ParamDefinitionInput] | None = None
    metadata: JSON | None = None
    vars: ExpressionNestedMap | None = None

    def body(self) -> dict[str, Any]:
        """The CREATE_TRAN_CODE body."""
        return body_of(tranCodeId=str(self.tran_code_id), code=self.code,
                     description=self.description,
                     params=None if self.params is None else [p.body() for p in self.params],
                     transaction=self.transaction.body(),
                     entries=[entry.body() for entry in self.entries],
                     metadata=self.metadata, vars=self.vars)


@strawberry.input(description="An enforcement: a velocity control's, or the one a posting "
                             "asks for instead of its limits' own.")
class VelocityEnforcementInput:
    """REJECT or WARN."""

    action: VelocityEnforcementAction


@strawberry.input(description="Properties of a posting.")
class TransactionPropertiesInput:
    """Posting options."""

    override_velocity_enforcement: VelocityEnforcementInput | None = None


@strawberry.input(description="A posting through a tran code.")
class TransactionInput:
    """``transactionId`` is the idempotency key: re-sending the same posting is safe."""

    transaction_id: UUID
    tran_code: str
    tran_code_version: int | None = None
    params: JSON | None = None
    properties: TransactionPropertiesInput | None = None


@strawberry.input(description="Both ends of a range, included.")
class FilterBetween:
    """A closed range of values."""

    begin: str
    end: str


@strawberry.input(description="A condition on one field: every operator given must hold. "
                              "`like` is SQL's: % any run of characters, _ any one.")
class FilterValue:
    """Twisp's operators on one field's text."""

    eq: str | None = None
    like: str | None = None
    lt: str | None = None
    lte: str | None = None
    gt: str | None = None
    gte: str | None = None
    between: FilterBetween | None = None

    def condition(self) -> Condition:
        """The read model's form of the condition."""
        between = None if self.between is None else (self.between.begin, self.between.end)
        return Condition(eq=self.eq, like=self.like, lt=self.lt, lte=self.lte, gt=self.gt,
                         gte=self.gte, between=between)


@strawberry.input(description="The index to list accounts by, and its order.")
class AccountIndexInput:
    """An account index."""

    name: AccountIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on accounts' fields.")
class AccountFilterInput:
    """Filters of an accounts query."""

    account_id: FilterValue | None = None
    name: FilterValue | None = None
    code: FilterValue | None = None
    status: FilterValue | None = None
    external_id: FilterValue | None = None


@strawberry.input(description="The index to list journals by, and its order.")
class JournalIndexInput:
    """A journal index."""

    name: JournalIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on journals' fields.")
class JournalFilterInput:
    """Filters of a journals query."""

    journal_id: FilterValue | None = None
    name: FilterValue | None = None
    code: FilterValue | None = None
    status: FilterValue | None = None


@strawberry.input(description="The index to list tran codes by, and its order.")
class TranCodeIndexInput:
    """A tran code index."""

    name: TranCodeIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on tran codes' fields.")
class TranCodeFilterInput:
    """Filters of a tranCodes query."""

    tran_code_id: FilterValue | None = None
    code: FilterValue | None = None
    status: FilterValue | None = None


@strawberry.input(description="The index to list transactions by, and its order.")
class TransactionIndexInput:
    """A transaction index."""

    name: TransactionIndex
    sort: SortOrder | None = None


@strawberry.input(description="Conditions on transactions' fields.")
class TransactionFilterInput:
    """Filters of a transactions query."""

    transaction_id: FilterValue | None = None
    correlation_id: FilterValue | None = None
    external_id: FilterValue | None = None


@strawberry.input(description="The index to read entries by.")
class EntryIndexInput:
    """An entry index and its order."""

    name: EntryIndex
    sort: SortOrder | None = None


@strawberry.input(description="The value the chosen index is read at.")
class EntryFilterInput:
    """Filters of an entries query."""

    entry_id: FilterValue | None = None
    transaction_id: FilterValue | None = None


@strawberry.input(description="How Money.formatted writes an amount.")
class MoneyFormatInput:
    """Twisp's format options; docs/api.md gives the defaults."""

    locale: str = "en-US"
    group_digits: bool = True
    add_plus_sign: bool = False
    rounding_mode: MoneyRoundingMode = MoneyRoundingMode.HALF_UP
    currency_display: CurrencyDisplay = CurrencyDisplay.SYMBOL
    min_digits: int | None = None
    max_digits: int = 6
