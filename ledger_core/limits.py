"""Velocity limits: bounds on the available balance of one account's layer.

A limit holds ``available(layer)`` of an account between ``min_available`` and
``max_available``. It stops a posting that would push the balance past a bound, or further
past it; it never stops one that moves the balance back towards its bounds. So a deposit
into an overdrawn account, or the release of a hold, is always accepted.

Checks run on balances this partition owns, so they are atomic with the posting. A REJECT
limit on an account owned elsewhere cannot be checked atomically here: a posting that moves
such an account towards its bound is refused with ``limited_account_must_be_local`` (route
the command to the limited account's partition instead). Moves away from the bound, like
crediting a customer from the house account, pass anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid5

from pydantic import model_validator

from ledger_core.account_sets import AccountSet
from ledger_core.accounts import Account
from ledger_core.balances import Balance, normal_delta
from ledger_core.base import LedgerModel
from ledger_core.bounded_fields import CelSource, Code, Description
from ledger_core.enums import LAYER_RANK, Enforcement, Layer
from ledger_core.expressions import (
    Activation,
    Expression,
    ExpressionError,
    compile_expression,
)
from ledger_core.money import MONEY_CONTEXT
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.transactions import Entry, Transaction

__all__ = ["LimitCheck", "VelocityLimit", "check_local_limits", "check_remote_limits"]

_ZERO = Decimal(0)


class VelocityLimit(LedgerModel):
    """A bound on ``available(layer)`` of one account, in one journal and currency or all."""

    limit_id: UUID
    account_id: UUID
    journal_id: UUID | None = None
    currency: Code | None = None
    layer: Layer
    min_available: Decimal | None = None
    max_available: Decimal | None = None
    enforcement: Enforcement = Enforcement.REJECT
    condition: CelSource | None = None
    description: Description = ""

    @model_validator(mode="after")
    def _bounds_are_sane(self) -> VelocityLimit:
        bounds = [b for b in (self.min_available, self.max_available) if b is not None]
        if not bounds:
            raise ValueError("a limit needs min_available, max_available or both")
        if any(not b.is_finite() for b in bounds):
            raise ValueError("limit bounds must be finite decimals")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError("min_available is above max_available")
        return self

    @classmethod
    def no_overdraft(
        cls,
        account_id: UUID,
        *,
        layer: Layer = Layer.PENDING,
        currency: str | None = None,
        journal_id: UUID | None = None,
        enforcement: Enforcement = Enforcement.REJECT,
    ) -> VelocityLimit:
        """Return the limit keeping ``available(layer)`` of ``account_id`` at or above zero."""
        return cls(
            limit_id=uuid5(account_id, f"no_overdraft/{layer}/{currency}/{journal_id}"),
            account_id=account_id,
            journal_id=journal_id,
            currency=currency,
            layer=layer,
            min_available=_ZERO,
            enforcement=enforcement,
            description=f"available({layer}) stays at or above zero",
        )

    def applies_to(self, journal_id: UUID, currency: str) -> bool:
        """True when the limit covers balances of ``journal_id`` in ``currency``."""
        return (self.journal_id is None or self.journal_id == journal_id) and (
            self.currency is None or self.currency == currency
        )

    def applies_to_text(self, journal_id: str, currency: str) -> bool:
        """``applies_to`` for ids given as text, as an audit replay holds them."""
        return (self.journal_id is None or str(self.journal_id) == journal_id) and (
            self.currency is None or self.currency == currency
        )

    def breach(self, before: Decimal, after: Decimal) -> str | None:
        """Describe how moving from ``before`` to ``after`` breaks the limit, or None."""
        low, high = self.min_available, self.max_available
        if low is not None and after < low and after < before:
            return f"below the minimum {low}"
        if high is not None and after > high and after > before:
            return f"above the maximum {high}"
        return None


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """What limit checks need to know about the posting being decided."""

    transaction: Transaction
    params: Mapping[str, object]
    override: Enforcement | None

    def enforcement(self, limit: VelocityLimit) -> Enforcement:
        """The limit's enforcement after the posting's override (WARN downgrades REJECT)."""
        if self.override is Enforcement.WARN:
            return Enforcement.WARN
        return limit.enforcement


_CONDITIONS: dict[tuple[UUID, str], Expression] = {}
_CONDITION_TAINT: Mapping[str, frozenset[str] | None] = {
    "params": None,
    "account": frozenset({"metadata"}),
    "transaction": frozenset({"metadata"}),
    "context": None,
}
# An account or a set: a limit may bound either's balance.
Owner = Account | AccountSet


def _kind(owner: Owner) -> str:
    return "account set" if isinstance(owner, AccountSet) else "account"


def _condition_holds(limit: VelocityLimit, account: Owner, check: LimitCheck) -> bool:
    """Evaluate the limit's condition; one that fails to evaluate counts as true (fail closed)."""
    if limit.condition is None:
        return True
    key = (limit.limit_id, limit.condition)
    expression = _CONDITIONS.get(key)
    if expression is None:
        if len(_CONDITIONS) > 4096:
            _CONDITIONS.clear()
        expression = compile_expression(
            limit.condition,
            roots=("params", "account", "transaction", "context"),
            decimal_fields=_CONDITION_TAINT,
        )
        _CONDITIONS[key] = expression
    transaction = check.transaction
    account_vars = {
        "accountId": str(limit.account_id),
        "code": account.code,
        "name": account.name,
        "status": account.status.value,
        "normalBalanceType": account.normal_balance_type.value,
        "metadata": account.metadata or {},
    }
    transaction_vars = {
        "transactionId": str(transaction.transaction_id),
        "tranCode": transaction.tran_code,
        "journalId": str(transaction.journal_id),
        "correlationId": transaction.correlation_id,
        "effective": transaction.effective.isoformat(),
        "metadata": transaction.metadata or {},
        "isVoid": transaction.void_of is not None,
    }
    activation = Activation(
        {
            "params": check.params,
            "account": account_vars,
            "transaction": transaction_vars,
            # Twisp's controls read the same records as context.vars.
            "context": {"vars": {"account": account_vars, "transaction": transaction_vars}},
        }
    )
    try:
        return expression.evaluate(activation) is not False
    except ExpressionError:
        return True


def check_remote_limits(
    entries: Sequence[Entry],
    accounts: Mapping[UUID, Owner],
    limits_for: Mapping[UUID, Sequence[VelocityLimit]],
    check: LimitCheck,
) -> Rejection | None:
    """Refuse a posting that moves a REJECT-limited account or set owned elsewhere towards
    its bound.

    ``entries`` are the posting's entries; ``limits_for`` holds the owners this partition
    does not own. A set moves with every entry that rolls up into it.
    """
    for account_id, limits in limits_for.items():
        account = accounts[account_id]
        legs = [e for e in entries
                if e.account_id == account_id or account_id in e.parent_account_ids]
        for limit in limits:
            if check.enforcement(limit) is not Enforcement.REJECT:
                continue
            rank = LAYER_RANK[limit.layer]
            moves: dict[tuple[UUID, str], Decimal] = {}
            for leg in legs:
                if LAYER_RANK[leg.layer] > rank or not limit.applies_to(
                    leg.journal_id, leg.currency
                ):
                    continue
                key = (leg.journal_id, leg.currency)
                delta = normal_delta(leg, account.normal_balance_type)
                moves[key] = MONEY_CONTEXT.add(moves.get(key, _ZERO), delta)
            for (_, currency), delta in moves.items():
                towards = (limit.min_available is not None and delta < 0) or (
                    limit.max_available is not None and delta > 0
                )
                if towards and _condition_holds(limit, account, check):
                    return Rejection(
                        code=RejectionCode.LIMITED_ACCOUNT_MUST_BE_LOCAL,
                        message=f"{_kind(account)} {account.code} ({account_id}) has "
                        "REJECT limit "
                        f"{limit.limit_id} on available({limit.layer}) and is owned by "
                        f"another partition; a posting moving it by {delta} {currency} "
                        "must be sent to the partition that owns it",
                        field="accountId",
                        value=str(account_id),
                    )
    return None


def check_local_limits(
    before: Mapping[tuple[UUID, UUID, str], Balance | None],
    after: Mapping[tuple[UUID, UUID, str], Balance],
    accounts: Mapping[UUID, Owner],
    limits_for: Mapping[UUID, Sequence[VelocityLimit]],
    check: LimitCheck,
) -> Rejection | tuple[Rejection, ...]:
    """Check every limit on the owned balances the posting changed.

    Returns the first REJECT breach as a Rejection, or the WARN breaches (possibly none).
    """
    warnings: list[Rejection] = []
    for key, new in after.items():
        account_id, journal_id, currency = key
        limits = limits_for.get(account_id)
        if not limits:
            continue
        old = before.get(key)
        account = accounts[account_id]
        for limit in limits:
            if not limit.applies_to(journal_id, currency):
                continue
            was = _ZERO if old is None else old.available(limit.layer).normal_balance
            now = new.available(limit.layer).normal_balance
            breach = limit.breach(was, now)
            if breach is None or not _condition_holds(limit, account, check):
                continue
            rejection = Rejection(
                code=RejectionCode.VELOCITY_LIMIT_EXCEEDED,
                message=f"{_kind(account)} {account.code} ({account_id}) "
                f"available({limit.layer}) "
                f"would move from {was} to {now} {currency}, {breach} of limit "
                f"{limit.limit_id}" + (f" ({limit.description})" if limit.description else ""),
                field=f"available({limit.layer})",
                value=str(now),
                detail={"limitId": str(limit.limit_id), "accountId": str(account_id),
                        "journalId": str(journal_id), "layer": limit.layer.value,
                        "currency": currency, "previousBalance": str(was),
                        "violatingBalance": str(now)},
            )
            if check.enforcement(limit) is Enforcement.REJECT:
                return rejection
            warnings.append(rejection)
    return tuple(warnings)
