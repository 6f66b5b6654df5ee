"""Voids: reverse a posted transaction by writing its entries again with negated units.

The void keeps each entry's account, direction, layer, currency and entry type and flips
the sign of its units, so debit and credit totals stay meaningful and the void restores
exactly the balances that existed before the original. The void links ``void_of`` to the
original, and the original gains ``voided_by``.

Rules, in order: a re-sent void is a duplicate (its id derives from the original's); the
target must exist; a void cannot itself be voided (post the original again instead); a
transaction is voided at most once. Voids then pass the same journal, account and limit
checks as any posting: limits only stop moves towards a bound, so releasing a hold always
passes, while reversing a deposit that was already spent is refused unless the void
carries ``override_enforcement=WARN``. The void's effective date is the day it is decided
(a void is an accounting event of its own) and it keeps the original's correlation id, so
hold, release and settlement stay one lifecycle.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec

from ledger_core.commands import VoidTransaction
from ledger_core.decisions import Posted, Rejected
from ledger_core.posting import Header, Leg, decide_legs
from ledger_core.rejections import RejectionCode
from ledger_core.views import LedgerView

__all__ = ["apply_void"]


def apply_void(view: LedgerView, command: VoidTransaction, now: datetime) -> Posted | Rejected:
    """Decide a VoidTransaction against ``view`` at wall time ``now``."""
    void_id = command.transaction_id
    original_id = command.void_of
    if view.posted(void_id) is not None:
        return _rejected(
            void_id,
            RejectionCode.TRANSACTION_ID_DUPLICATE,
            f"transaction {original_id} was already voided by this void ({void_id})",
            void_id,
        )
    original = view.posted(original_id)
    if original is None:
        return _rejected(
            void_id,
            RejectionCode.VOID_TARGET_NOT_FOUND,
            f"voidOf {original_id} is not a posted transaction",
            original_id,
        )
    target = original.transaction
    if target.void_of is not None:
        return _rejected(
            void_id,
            RejectionCode.VOID_OF_VOID,
            f"voidOf {original_id} is itself a void (of {target.void_of}); "
            "post the original again instead",
            original_id,
        )
    if target.voided_by is not None:
        return _rejected(
            void_id,
            RejectionCode.TRANSACTION_ALREADY_VOIDED,
            f"voidOf {original_id} was already voided by {target.voided_by}",
            original_id,
        )
    header = Header(
        transaction_id=void_id,
        tran_code_id=target.tran_code_id,
        tran_code=target.tran_code,
        tran_code_version=target.tran_code_version,
        journal_id=target.journal_id,
        correlation_id=target.correlation_id,
        external_id=None,
        effective=now.astimezone(UTC).date(),
        description=f"Void of {original_id}",
        metadata=target.metadata,
        void_of=original_id,
    )
    legs = [
        Leg(
            field=f"voidOf.entries[{entry.sequence - 1}]",
            account_id=entry.account_id,
            units=-entry.units,
            currency=entry.currency,
            direction=entry.direction,
            entry_type=entry.entry_type,
            layer=entry.layer,
            description=entry.description,
            metadata=entry.metadata,
            parent_account_ids=entry.parent_account_ids,
        )
        for entry in original.entries
    ]
    voided = msgspec.structs.replace(target, voided_by=void_id)
    return decide_legs(
        view, header, legs, now, override=command.override_enforcement, params={}, voided=voided
    )


def _rejected(void_id: UUID, code: RejectionCode, message: str, value: UUID) -> Rejected:
    return Rejected(
        transaction_id=void_id, code=code, message=message, field="voidOf", value=str(value)
    )
