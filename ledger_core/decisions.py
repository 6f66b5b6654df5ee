"""What ``apply`` answers: the posting with its effects, or the rejection."""

from __future__ import annotations

from uuid import UUID

from ledger_core.balances import Balance
from ledger_core.base import Record
from ledger_core.rejections import Rejection, RejectionCode
from ledger_core.transactions import Entry, Transaction

__all__ = ["Decision", "Posted", "Rejected"]


class Posted(Record, frozen=True, kw_only=True):
    """An accepted command and everything the runtime must write for it.

    ``entries`` holds every entry of the transaction in sequence order; ``remote_entries``
    the subset on accounts another partition owns (ship them to it); ``balances`` the new
    balance versions of owned accounts; ``warnings`` the WARN-enforced limit breaches; and
    for a void, ``voided`` is the original transaction now carrying ``voided_by``.
    """

    transaction: Transaction
    entries: tuple[Entry, ...]
    balances: tuple[Balance, ...]
    remote_entries: tuple[Entry, ...] = ()
    warnings: tuple[Rejection, ...] = ()
    voided: Transaction | None = None


class Rejected(Record, frozen=True, kw_only=True):
    """A refused command: the first rule it broke, in precedence order."""

    transaction_id: UUID | None
    code: RejectionCode
    message: str
    field: str | None = None
    value: str | None = None
    detail: dict[str, str] | None = None

    @classmethod
    def of(cls, transaction_id: UUID | None, rejection: Rejection) -> Rejected:
        """Build the answer for ``transaction_id`` from a broken rule."""
        return cls(
            transaction_id=transaction_id,
            code=rejection.code,
            message=rejection.message,
            field=rejection.field,
            value=rejection.value,
            detail=rejection.detail,
        )

    @property
    def rejection(self) -> Rejection:
        """The broken rule as a Rejection value."""
        return Rejection(code=self.code, message=self.message, field=self.field, value=self.value,
                         detail=self.detail)


Decision = Posted | Rejected
