"""Deciding a posting: expand the tran code, then judge the legs, then fold the balances.

``decide_legs`` is shared by postings and voids: it checks the journal, the accounts, the
currencies, the amounts, per-currency balance and the limits, in precedence order, and
builds the records and new balance versions. Entries are numbered 1..n in template order,
counting only the entries written (a skipped conditional entry leaves no gap), so a reader
that has sequences 1..entry_count knows it holds the whole transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.balances import Balance, fold_entry, fold_into_set
from ledger_core.commands import PostTransaction
from ledger_core.decisions import Posted, Rejected
from ledger_core.enums import Direction, Enforcement, Layer, Status
from ledger_core.expansion import bind_params, compile_tran_code, expand
from ledger_core.limits import LimitCheck, VelocityLimit, check_local_limits, check_remote_limits
from ledger_core.money import MONEY_CONTEXT, currency_exponent, to_units
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.transactions import Entry, Transaction, entry_id_for
from ledger_core.views import LedgerView

__all__ = [
    "Expansion",
    "Header",
    "Leg",
    "apply_post",
    "decide_legs",
    "duplicate_of",
    "expand_post",
    "judge_post",
]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Header:
    """The transaction fields known before the legs are judged."""

    transaction_id: UUID
    tran_code_id: UUID
    tran_code: str
    tran_code_version: int
    journal_id: UUID
    correlation_id: str
    external_id: str | None
    effective: date
    description: str | None
    metadata: dict[str, Any] | None
    void_of: UUID | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    """One entry to be judged; ``field`` names where it came from, for messages."""

    field: str
    account_id: UUID
    units: object
    currency: object
    direction: Direction
    entry_type: str
    layer: Layer
    description: str | None
    metadata: dict[str, Any] | None
    # The sets the entry rolls up into; None for the account's sets now (a void's legs
    # repeat those of the entries they reverse).
    parent_account_ids: tuple[UUID, ...] | None = None


@dataclass(frozen=True, slots=True)
class Expansion:
    """A posting's tran code evaluated: the transaction header, the legs to judge, and the
    bound params (limit conditions read them). It depends on the catalog alone."""

    header: Header
    legs: list[Leg]
    params: Mapping[str, object]


def apply_post(view: LedgerView, command: PostTransaction, now: datetime) -> Posted | Rejected:
    """Decide a PostTransaction against ``view`` at wall time ``now``."""
    duplicate = duplicate_of(view, command.transaction_id)
    if duplicate is not None:
        return duplicate
    expansion = expand_post(view, command, now)
    if isinstance(expansion, Rejected):
        return expansion
    return judge_post(view, command, expansion, now)


def duplicate_of(view: LedgerView, transaction_id: UUID) -> Rejected | None:
    """The rejection of a posting whose id was used before, or None."""
    if view.posted(transaction_id) is None:
        return None
    return _rejected(
        transaction_id,
        RejectionCode.TRANSACTION_ID_DUPLICATE,
        f"transactionId {transaction_id} was already used",
        "transactionId",
        str(transaction_id),
    )


def expand_post(view: LedgerView, command: PostTransaction,
                now: datetime) -> Expansion | Rejected:
    """Evaluate the posting's tran code (params, vars, templates), or the first rule it
    breaks on the way; reads the catalog only, so a batch can expand before it decides."""
    transaction_id = command.transaction_id
    tran_code = view.tran_code(command.tran_code, command.tran_code_version)
    if tran_code is None:
        return _tran_code_missing(view, command)
    if tran_code.status is Status.LOCKED:
        return _rejected(
            transaction_id,
            RejectionCode.TRAN_CODE_LOCKED,
            f"tranCode {tran_code.code} version {tran_code.version} is LOCKED",
            "tranCode",
            tran_code.code,
        )
    compiled = compile_tran_code(tran_code)
    params = bind_params(compiled, command.params, transaction_id)
    if isinstance(params, Rejection):
        return Rejected.of(transaction_id, params)
    expanded = expand(compiled, params, transaction_id, now.astimezone(UTC).date())
    if isinstance(expanded, Rejection):
        return Rejected.of(transaction_id, expanded)
    draft, drafts = expanded
    header = Header(
        transaction_id=transaction_id,
        tran_code_id=tran_code.tran_code_id,
        tran_code=tran_code.code,
        tran_code_version=tran_code.version,
        journal_id=draft.journal_id,
        correlation_id=draft.correlation_id,
        external_id=draft.external_id,
        effective=draft.effective,
        description=draft.description,
        metadata=draft.metadata,
    )
    legs = [
        Leg(
            field=f"entries[{d.position}]",
            account_id=d.account_id,
            units=d.units,
            currency=d.currency,
            direction=d.direction,
            entry_type=d.entry_type,
            layer=d.layer,
            description=d.description,
            metadata=d.metadata,
        )
        for d in drafts
    ]
    return Expansion(header, legs, params)


def judge_post(view: LedgerView, command: PostTransaction, expansion: Expansion,
               now: datetime) -> Posted | Rejected:
    """Judge an expanded posting's legs against the state and fold its balances."""
    return decide_legs(view, expansion.header, expansion.legs, now,
                       override=command.override_enforcement, params=expansion.params)


def _tran_code_missing(view: LedgerView, command: PostTransaction) -> Rejected:
    if command.tran_code_version is not None and view.tran_code(command.tran_code, None):
        return _rejected(
            command.transaction_id,
            RejectionCode.TRAN_CODE_VERSION_NOT_FOUND,
            f"tranCode {command.tran_code} has no version {command.tran_code_version}",
            "tranCodeVersion",
            str(command.tran_code_version),
        )
    return _rejected(
        command.transaction_id,
        RejectionCode.TRAN_CODE_NOT_FOUND,
        f"tranCode {command.tran_code!r} does not exist",
        "tranCode",
        command.tran_code,
    )


def _rejected(
    transaction_id: UUID, code: RejectionCode, message: str, field: str, value: str
) -> Rejected:
    return Rejected(
        transaction_id=transaction_id, code=code, message=message, field=field, value=value
    )


def decide_legs(
    view: LedgerView,
    header: Header,
    legs: Sequence[Leg],
    now: datetime,
    *,
    override: Enforcement | None,
    params: Mapping[str, object],
    voided: Transaction | None = None,
) -> Posted | Rejected:
    """Judge ``legs`` in precedence order and, if they pass, build the Posted decision."""
    assert now.tzinfo is not None, "now must be timezone-aware"
    transaction_id = header.transaction_id
    problem = _judge_catalog(view, header, legs)
    if isinstance(problem, Rejection):
        return Rejected.of(transaction_id, problem)
    accounts = problem
    units = _judge_amounts(legs)
    if isinstance(units, Rejection):
        return Rejected.of(transaction_id, units)
    transaction, entries = _records(view, header, legs, units, now)
    owned: list[Entry] = []
    remote: list[Entry] = []
    for entry in entries:
        (owned if view.owns(entry.account_id) else remote).append(entry)
    # Limits bound accounts and, through the entries rolling up into them, sets.
    owners: Mapping[UUID, Account | AccountSet] = accounts
    if any(entry.parent_account_ids for entry in entries):
        owners = _with_sets(view, accounts, entries)
    limits: dict[UUID, Sequence[VelocityLimit]] = {}
    for owner_id in owners:
        attached = view.limits_for(owner_id)
        if attached:
            limits[owner_id] = attached
    check = LimitCheck(transaction=transaction, params=params, override=override)
    if limits and (remote or owners is not accounts):
        remote_limited = {a: ls for a, ls in limits.items() if not view.owns(a)}
        if remote_limited:
            refusal = check_remote_limits(entries, owners, remote_limited, check)
            if refusal is not None:
                return Rejected.of(transaction_id, refusal)
    before: dict[tuple[UUID, UUID, str], Balance | None] = {}
    after: dict[tuple[UUID, UUID, str], Balance] = {}
    for entry in owned:
        key = (entry.account_id, entry.journal_id, entry.currency)
        if key not in after:
            current = view.balance(*key)
            before[key] = current
        else:
            current = after[key]
        after[key] = fold_entry(current, entry, accounts[entry.account_id].normal_balance_type)
    for entry in entries:
        fold_owned_sets(view, entry, after)
    if len(after) > len(before):
        for key in after.keys() - before.keys():
            before[key] = view.balance(*key)  # a set's roll-up, as it stood before the posting
    warnings: tuple[Rejection, ...] = ()
    if limits:
        outcome = check_local_limits(before, after, owners, limits, check)
        if isinstance(outcome, Rejection):
            return Rejected.of(transaction_id, outcome)
        warnings = outcome
    return Posted(
        transaction=transaction,
        entries=entries,
        balances=tuple(after.values()),
        remote_entries=tuple(remote),
        warnings=warnings,
        voided=voided,
    )


def _with_sets(view: LedgerView, accounts: Mapping[UUID, Account], entries: Sequence[Entry]
               ) -> dict[UUID, Account | AccountSet]:
    """The posting's accounts and every set its entries roll up into."""
    owners: dict[UUID, Account | AccountSet] = dict(accounts)
    for entry in entries:
        for set_id in entry.parent_account_ids:
            if set_id not in owners:
                account_set = view.account_set(set_id)
                if account_set is not None:
                    owners[set_id] = account_set
    return owners


def fold_owned_sets(view: LedgerView, entry: Entry,
                    folded: dict[tuple[UUID, UUID, str], Balance]) -> None:
    """Roll ``entry`` up into the sets it names that ``view`` owns, over the balances
    ``folded`` holds already (else the view's)."""
    for set_id in entry.parent_account_ids:
        if not view.owns(set_id):
            continue
        account_set = view.account_set(set_id)
        assert account_set is not None, f"an entry names account set {set_id}, unknown here"
        key = (set_id, entry.journal_id, entry.currency)
        current = folded[key] if key in folded else view.balance(*key)
        folded[key] = fold_into_set(current, set_id, entry, account_set.normal_balance_type)


def _judge_catalog(
    view: LedgerView, header: Header, legs: Sequence[Leg]
) -> dict[UUID, Account] | Rejection:
    journal = view.journal(header.journal_id)
    if journal is None:
        return Rejection(
            code=RejectionCode.JOURNAL_NOT_FOUND,
            message=f"transaction.journalId {header.journal_id} does not exist",
            field="transaction.journalId",
            value=str(header.journal_id),
        )
    if journal.status is Status.LOCKED:
        return Rejection(
            code=RejectionCode.JOURNAL_LOCKED,
            message=f"journal {journal.code or journal.name} ({journal.journal_id}) is LOCKED",
            field="transaction.journalId",
            value=str(journal.journal_id),
        )
    accounts: dict[UUID, Account] = {}
    for leg in legs:
        if leg.account_id in accounts:
            continue
        account = view.account(leg.account_id)
        if account is None:
            return Rejection(
                code=RejectionCode.ACCOUNT_NOT_FOUND,
                message=f"{leg.field}.accountId {leg.account_id} does not exist",
                field=f"{leg.field}.accountId",
                value=str(leg.account_id),
            )
        accounts[leg.account_id] = account
    for leg in legs:
        account = accounts[leg.account_id]
        if account.status is Status.LOCKED:
            return Rejection(
                code=RejectionCode.ACCOUNT_LOCKED,
                message=f"{leg.field}.accountId {account.account_id} ({account.code}) is LOCKED",
                field=f"{leg.field}.accountId",
                value=str(account.account_id),
            )
    return accounts


def _judge_amounts(legs: Sequence[Leg]) -> list[Decimal] | Rejection:
    for leg in legs:
        if currency_exponent(leg.currency) is None:
            return Rejection(
                code=RejectionCode.CURRENCY_INVALID,
                message=f"{leg.field}.currency {leg.currency!r} is not a supported ISO 4217 code",
                field=f"{leg.field}.currency",
                value=str(leg.currency),
            )
    amounts: list[Decimal] = []
    for leg in legs:
        currency = str(leg.currency)
        units = to_units(leg.units, currency)
        if isinstance(units, str):
            return Rejection(
                code=RejectionCode.AMOUNT_INVALID,
                message=f"{leg.field}.units {leg.units!r} is not a valid {currency} amount: "
                f"{units}",
                field=f"{leg.field}.units",
                value=str(leg.units),
            )
        amounts.append(units)
    if not legs:
        return Rejection(
            code=RejectionCode.ENTRIES_MUST_BALANCE,
            message="the transaction writes no entries (every entry condition was false)",
            field="entries",
        )
    debits: dict[str, Decimal] = {}
    credits: dict[str, Decimal] = {}
    for leg, units in zip(legs, amounts, strict=True):
        side = debits if leg.direction is Direction.DEBIT else credits
        currency = str(leg.currency)
        side[currency] = MONEY_CONTEXT.add(side.get(currency, _ZERO), units)
    for currency in sorted(set(debits) | set(credits)):
        dr, cr = debits.get(currency, _ZERO), credits.get(currency, _ZERO)
        if dr != cr:
            return Rejection(
                code=RejectionCode.ENTRIES_MUST_BALANCE,
                message=f"entries in {currency} do not balance: debits {dr}, credits {cr}",
                field="entries",
                value=currency,
            )
    return amounts


def _records(
    view: LedgerView, header: Header, legs: Sequence[Leg], amounts: Sequence[Decimal],
    now: datetime
) -> tuple[Transaction, tuple[Entry, ...]]:
    transaction = Transaction(
        transaction_id=header.transaction_id,
        tran_code_id=header.tran_code_id,
        tran_code=header.tran_code,
        tran_code_version=header.tran_code_version,
        journal_id=header.journal_id,
        correlation_id=header.correlation_id,
        external_id=header.external_id,
        effective=header.effective,
        created=now,
        description=header.description,
        metadata=header.metadata,
        entry_count=len(legs),
        void_of=header.void_of,
        voided_by=None,
    )
    entries = tuple(
        Entry(
            entry_id=entry_id_for(header.transaction_id, sequence),
            transaction_id=header.transaction_id,
            journal_id=header.journal_id,
            account_id=leg.account_id,
            sequence=sequence,
            units=units,
            currency=str(leg.currency),
            direction=leg.direction,
            entry_type=leg.entry_type,
            layer=leg.layer,
            description=leg.description,
            metadata=leg.metadata,
            effective=header.effective,
            created=now,
            parent_account_ids=(view.parent_sets(leg.account_id, header.journal_id)
                                if leg.parent_account_ids is None else leg.parent_account_ids),
        )
        for sequence, (leg, units) in enumerate(zip(legs, amounts, strict=True), start=1)
    )
    return transaction, entries
